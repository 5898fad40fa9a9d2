"""The training loop lowers the NLL, is seeded, silent under nbgrader, reports bits/dim."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from course.models import FVSBN
from course.train import bits_per_dim, evaluate_nll, fit, recurrent_bits_per_symbol


def _toy_data(seed: int = 0) -> np.ndarray:
    """Binary vectors where x_1 copies x_0 and x_2 is mostly on: learnable structure."""
    rng = np.random.default_rng(seed)
    x0 = rng.random(400) < 0.5
    x2 = rng.random(400) < 0.9
    return np.stack([x0, x0, x2], axis=1).astype(np.float32)


def test_bits_per_dim() -> None:
    assert bits_per_dim(784 * math.log(2.0), 784) == pytest.approx(1.0)


def test_fit_lowers_nll_towards_the_entropy() -> None:
    torch.manual_seed(0)
    model = FVSBN(3)
    data = _toy_data()
    start = evaluate_nll(model, data)
    history = fit(model, data, data, epochs=30, batch_size=50, lr=0.1, progress=False)
    # entropy: H(x0) + H(x2) = ln 2 + H(0.9); x1 is determined by x0
    entropy = math.log(2) - 0.9 * math.log(0.9) - 0.1 * math.log(0.1)
    assert history.test_nll[-1] < start - 0.5
    assert history.test_nll[-1] == pytest.approx(entropy, abs=0.15)
    assert len(history.train_nll) == len(history.seconds) == 30
    assert history.test_bpd[-1] == pytest.approx(history.test_nll[-1] / (3 * math.log(2)))
    assert "nats" in history.summary() and "bits/dim" in history.summary()


def test_fit_is_deterministic_for_a_seed() -> None:
    results = []
    for _ in range(2):
        torch.manual_seed(1)
        model = FVSBN(3)
        fit(model, _toy_data(), epochs=3, lr=0.05, seed=7, progress=False)
        results.append(model.weight.detach().clone())
    torch.testing.assert_close(results[0], results[1], rtol=0, atol=0)


def test_fit_calls_on_step_after_every_update() -> None:
    calls: list[int] = []
    fit(
        FVSBN(3),
        _toy_data(),
        epochs=2,
        batch_size=100,
        progress=False,
        on_step=lambda m: calls.append(1),
    )
    assert len(calls) == 2 * 4


def test_progress_bar_is_silent_under_nbgrader(monkeypatch, capsys) -> None:
    monkeypatch.setenv("NBGRADER_EXECUTION", "autograde")
    fit(FVSBN(3), _toy_data(), epochs=2)
    captured = capsys.readouterr()
    assert captured.err == "" and captured.out == ""


def test_fit_reads_a_fresh_data_set_every_epoch_and_decays_the_rate() -> None:
    seen = []
    base = (np.random.default_rng(0).random((40, 6)) < 0.5).astype(np.float32)

    def data(epoch: int) -> np.ndarray:
        seen.append(epoch)
        return np.roll(base, epoch, axis=0)

    model = FVSBN(6)
    opt = torch.optim.Adam(model.parameters(), lr=0.1)
    history = fit(model, data, epochs=3, batch_size=20, optimizer=opt, lr_decay=True)
    assert seen == [0, 1, 2], "one call per epoch, in order"
    assert len(history.train_nll) == 3
    assert opt.param_groups[0]["lr"] == pytest.approx(0.0, abs=1e-12), "decayed to 0"


def test_dynamic_binarization_is_seeded_fresh_and_keeps_the_background() -> None:
    from course.data import dynamic_binarization, mnist_digits

    draw = dynamic_binarization("test", sharpness=2.0, seed=3)
    first, again, second = draw(0), draw(0), draw(1)
    assert first.shape == (1000, 784) and set(np.unique(first)) <= {0.0, 1.0}
    assert np.array_equal(first, again) and not np.array_equal(first, second)
    grey = mnist_digits("test")[0].reshape(1000, -1) / 255.0
    assert (first[grey <= 0.25] == 0).all() and (first[grey >= 0.75] == 1).all()
    edges = (grey > 0.3) & (grey < 0.7)
    assert 0.2 < first[edges].mean() < 0.8, "the edges are dithered"
    with pytest.raises(ValueError, match="sharpness"):
        dynamic_binarization(sharpness=0)


def test_recurrent_bits_per_symbol_scores_what_it_says() -> None:
    ids = np.random.default_rng(6).integers(0, 3, 101)
    logits = np.log(np.array([0.5, 0.3, 0.2]))  # a model that ignores its inputs

    def run(inputs: np.ndarray, state: None) -> tuple[np.ndarray, None]:
        return np.broadcast_to(logits, (*inputs.shape, 3)), None

    bits = -np.log2(np.array([0.5, 0.3, 0.2])[ids])
    assert recurrent_bits_per_symbol(run, ids, num_streams=1, seq_len=7) == pytest.approx(
        bits[1:].mean())
    assert recurrent_bits_per_symbol(run, ids, num_streams=1, seq_len=7, start=3) == \
        pytest.approx(bits.mean())
    # 4 streams of 26 (the last one 23, padded): the first symbol of each is not scored
    firsts = [0, 26, 52, 78]
    assert recurrent_bits_per_symbol(run, ids, num_streams=4, seq_len=5) == pytest.approx(
        np.delete(bits, firsts).mean())


def test_fit_clips_the_gradient_norm_when_asked(monkeypatch) -> None:
    norms = []
    original = torch.nn.utils.clip_grad_norm_

    def recording(parameters, max_norm):
        norms.append(max_norm)
        return original(parameters, max_norm)

    monkeypatch.setattr(torch.nn.utils, "clip_grad_norm_", recording)
    model = FVSBN(6)
    x = (np.random.default_rng(0).random((20, 6)) < 0.5).astype(np.float32)
    fit(model, x, epochs=1, batch_size=10, progress=False)
    assert norms == []
    fit(model, x, epochs=1, batch_size=10, clip=0.5, progress=False)
    assert norms == [0.5, 0.5]
