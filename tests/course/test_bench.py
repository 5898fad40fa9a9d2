"""The model micro-benchmark runs and reports what it measured."""

from __future__ import annotations

import pytest
import torch

from course import bench


def test_model_benchmarks_small(capsys) -> None:
    rows = bench.model_benchmarks(n=20, d=8, batch=4, repeat=1)
    assert [job.split(" (")[0] for job, _, _ in rows] == [
        "NADE naive O(n^2 d) log p",
        "NADE tied O(nd), n steps of a_i+1 = a_i + W[:,i] x_i",
        "NADE tied O(nd), one cumsum over",
        "MADE one pass log p",
    ]
    assert all(seconds > 0 for _, seconds, _ in rows)
    assert rows[0][2].endswith("x tied") and rows[1][2].endswith("x MADE")
    assert bench.main(["-n", "10", "-d", "4", "--repeat", "1"]) == 0
    assert "MADE one pass" in capsys.readouterr().out


def test_text_benchmarks_on_a_tiny_text() -> None:
    text = "to be or not to be, that is the question\n" * 40
    rows = bench.text_benchmarks(seconds=0.2, hidden=8, num_streams=4, seq_len=10,
                                 texts=(text, text[:200]))
    names = [what for what, _, _ in rows]
    assert names[:4] == ["uniform over 16 symbols", "unigram, Witten-Bell",
                         "bigram, Witten-Bell", "trigram, Witten-Bell"]
    assert names[4].startswith("char lstm 8") and names[5].startswith("training")
    bits = [value for _, value, unit in rows if unit == "bits/char"]
    assert bits[0] > bits[1] > bits[2] > bits[3] > 0  # more context, fewer bits here
    assert bits[0] == pytest.approx(4.0)  # 15 characters and <unk>
    assert all(value > 0 for _, value, _ in rows)


def test_pixelcnn_benchmarks_small() -> None:
    threads = torch.get_num_threads()
    rows = bench.pixelcnn_benchmarks(side=6, channels=4, num_layers=2, batch=4, num_samples=2,
                                     repeat=1)
    assert [job.split(" (")[0] for job, _, _ in rows] == [
        "PixelCNN training step, batch 4", "PixelCNN sample 2, 36 passes",
        "Gated PixelCNN training step, batch 4", "Gated PixelCNN sample 2, 36 passes",
    ]
    assert all(seconds > 0 for _, seconds, _ in rows)
    assert rows[0][2].endswith("images/s") and rows[1][2].endswith("x a training step")
    assert torch.get_num_threads() == threads  # restored after the one-thread timing


def test_char_speed_benchmarks_small(capsys) -> None:
    rows = bench.char_speed_benchmarks(vocab_size=5, embed_dim=3, hidden=4, num_streams=2,
                                       seq_len=3, num_samples=2, length=3, repeat=1)
    names = [job.split(",")[0] for job, _, _ in rows]
    assert names == ["NumPy RNN by hand"] * 2 + ["torch RNN"] * 2 + ["torch LSTM"] * 2
    assert all(seconds > 0 and rate.endswith("chars/s") for _, seconds, rate in rows)
    assert bench.main(["--chars", "--repeat", "1"]) == 0
    assert "NumPy RNN by hand" in capsys.readouterr().out
