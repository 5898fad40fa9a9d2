"""The training loop lowers the NLL, is seeded, silent under nbgrader, reports bits/dim."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from course.models import FVSBN
from course.train import bits_per_dim, evaluate_nll, fit


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
