"""NADE reference: tied recurrence, normalization, sampling, untied and categorical variants."""

from __future__ import annotations

import itertools

import pytest
import torch

from course import checks
from course.models import NADE, UntiedNADE, counting


def _randomized(model: torch.nn.Module, seed: int = 0) -> torch.nn.Module:
    torch.manual_seed(seed)
    model = model.double()
    with torch.no_grad():
        for parameter in model.parameters():
            parameter.normal_(0, 1)
    return model


def _all_states(n: int, k: int) -> torch.Tensor:
    return torch.tensor(list(itertools.product(range(k), repeat=n)), dtype=torch.float64)


@pytest.mark.parametrize("num_values", [2, 3])
def test_normalized_and_recurrence_equals_vectorized(num_values: int) -> None:
    model = _randomized(NADE(4, 5, num_values))
    states = _all_states(4, num_values)
    log_p = model.log_prob(states)
    assert log_p.exp().sum().item() == pytest.approx(1.0, abs=1e-12)
    torch.testing.assert_close(model.log_prob_sequential(states), log_p, rtol=0, atol=1e-12)


def test_tied_nade_matches_naive_definition() -> None:
    """h_i = sigmoid(W[:, <i] x_<i + c), computed from scratch for every i (O(n^2 d))."""
    model = _randomized(NADE(5, 3))
    x = (torch.rand(7, 5, dtype=torch.float64) < 0.5).double()
    expected = torch.zeros(7, dtype=torch.float64)
    for i in range(5):
        h = torch.sigmoid(x[:, :i] @ model.W[:, :i].T + model.c)
        p = torch.sigmoid(h @ model.V[i] + model.b[i])
        expected += torch.where(x[:, i] == 1, p, 1 - p).log()
    torch.testing.assert_close(model.log_prob(x), expected, rtol=0, atol=1e-12)
    torch.testing.assert_close(model.log_prob_naive(x), expected, rtol=0, atol=1e-12)


@pytest.mark.parametrize("model", [NADE(4, 3), NADE(4, 3, num_values=4), UntiedNADE(4, 3)])
def test_autoregressive(model: torch.nn.Module) -> None:
    checks.check_autoregressive(_randomized(model), 4)


def test_untied_nade_normalized_samples_and_count() -> None:
    model = _randomized(UntiedNADE(4, 3), seed=4)
    probs = checks.check_distribution(lambda s: model.log_prob(torch.as_tensor(s)), 4)
    samples = model.sample(20_000, generator=torch.Generator().manual_seed(1))
    assert checks.check_samples(samples, probs) > 1e-3
    influential = int((model.A * model.mask != 0).sum()) + model.c.numel()
    influential += model.V.numel() + model.b.numel()
    assert influential == counting.count_nade(4, 3, tied=False)


def test_invalid_num_values() -> None:
    with pytest.raises(ValueError, match="num_values"):
        NADE(3, 2, num_values=1)
