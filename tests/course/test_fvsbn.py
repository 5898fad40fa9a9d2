"""The torch reference FVSBN: normalized, autoregressive, correct sampler, masked grads."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from course import checks
from course.models import FVSBN


@pytest.fixture
def model() -> FVSBN:
    torch.manual_seed(0)
    fvsbn = FVSBN(4).double()
    with torch.no_grad():
        fvsbn.weight.normal_(0, 1.5)
        fvsbn.bias.normal_(0, 1.0)
    return fvsbn


def _log_prob(model: FVSBN):
    return lambda s: model.log_prob(torch.as_tensor(s, dtype=torch.float64))


def test_log_prob_is_a_normalized_distribution(model: FVSBN) -> None:
    probs = checks.check_distribution(_log_prob(model), 4, atol=1e-12)
    assert probs.min() > 0


def test_log_prob_equals_product_of_conditionals(model: FVSBN) -> None:
    x = torch.tensor([[1.0, 0.0, 1.0, 1.0]], dtype=torch.float64)
    w, b = model.masked_weight().detach(), model.bias.detach()
    expected = 0.0
    for i in range(4):
        p = torch.sigmoid(w[i, :i] @ x[0, :i] + b[i])
        expected += torch.log(p if x[0, i] == 1 else 1 - p).item()
    assert model.log_prob(x).item() == pytest.approx(expected, abs=1e-12)


def test_log_prob_is_stable_for_huge_logits() -> None:
    model = FVSBN(3).double()
    with torch.no_grad():
        model.bias.copy_(torch.tensor([800.0, -800.0, 0.0]))
    lp = model.log_prob(torch.tensor([[0.0, 1.0, 1.0]], dtype=torch.float64))
    assert torch.isfinite(lp).all() and lp.item() == pytest.approx(-1600 - np.log(2))


def test_autoregressive_and_weights_above_diagonal_ignored(model: FVSBN) -> None:
    checks.check_autoregressive(model, 4)
    x = (torch.rand(8, 4, dtype=torch.float64) < 0.5).double()
    before = model.log_prob(x)
    with torch.no_grad():
        model.weight.add_(torch.triu(torch.full((4, 4), 5.0, dtype=torch.float64)))
    torch.testing.assert_close(model.log_prob(x), before)


def test_gradient_is_zero_on_and_above_diagonal(model: FVSBN) -> None:
    x = (torch.rand(16, 4) < 0.5).double()
    (-model.log_prob(x).mean()).backward()
    assert (torch.triu(model.weight.grad) == 0).all()
    assert (torch.tril(model.weight.grad, -1) != 0).any()


def test_from_numpy_round_trip() -> None:
    rng = np.random.default_rng(0)
    w, b = rng.normal(size=(5, 5)), rng.normal(size=5)
    model = FVSBN.from_numpy(w, b)
    np.testing.assert_allclose(model.weight.detach().numpy(), w, rtol=1e-6)
    np.testing.assert_allclose(model.bias.detach().numpy(), b, rtol=1e-6)
