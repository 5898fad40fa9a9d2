"""Each check must pass correct input and fail a typical bug with a message naming it."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from course import checks
from course.checks import CheckFailure


def test_assert_close_passes_equal_and_names_first_differing_index() -> None:
    expected = np.arange(12.0).reshape(3, 4)
    checks.assert_close(expected + 1e-12, expected, "logits")
    got = expected.copy()
    got[1, 2] = 99.0
    got[2, 3] = -1.0
    with pytest.raises(CheckFailure) as info:
        checks.assert_close(got, expected, "logits", hint="check the mask")
    message = str(info.value)
    assert "logits differs" in message and "[1, 2]" in message
    assert "expected 6" in message and "got 99" in message
    assert "2 of 12 entries differ" in message
    assert "Hint: check the mask" in message


def test_assert_close_reports_shape_and_nan() -> None:
    with pytest.raises(CheckFailure, match=r"shape \(3,\), expected \(4,\)"):
        checks.assert_close(np.zeros(3), np.zeros(4), "b")
    with pytest.raises(CheckFailure, match="NaN at index"):
        checks.assert_close(np.array([0.0, np.nan]), np.zeros(2), "log_prob")


def test_assert_close_accepts_torch_tensors() -> None:
    checks.assert_close(torch.ones(3), np.ones(3))


def test_numerical_gradient_matches_analytic_gradient() -> None:
    rng = np.random.default_rng(0)
    a = rng.normal(size=(3, 4))
    x = rng.normal(size=(3, 4))
    grad = checks.numerical_gradient(lambda v: float((a * v**2).sum()), x.copy())
    np.testing.assert_allclose(grad, 2 * a * x, rtol=1e-6, atol=1e-8)


def test_numerical_gradient_refuses_float32() -> None:
    with pytest.raises(TypeError, match="float64"):
        checks.numerical_gradient(lambda v: float(v.sum()), np.zeros(3, dtype=np.float32))


def test_check_gradient_passes_correct_and_flags_factor_and_mask_bugs() -> None:
    rng = np.random.default_rng(1)
    x = rng.normal(size=5)

    def f(v: np.ndarray) -> float:
        return float(np.sum(np.sin(v)))

    assert checks.check_gradient(f, x, np.cos(x)) < 1e-8
    with pytest.raises(CheckFailure, match="^dx is 2 times the numerical"):
        checks.check_gradient(f, x, 2 * np.cos(x), "dx")
    masked = np.cos(x)
    masked[3] = 0.0
    with pytest.raises(CheckFailure, match=r"^dx is zero .*wrong mask.*index \[3\]"):
        checks.check_gradient(f, x, masked, "dx")
    with pytest.raises(CheckFailure, match="shape"):
        checks.check_gradient(f, x, np.cos(x)[:4], "dx")


def _chain(probs_first: float, p_given: dict[int, float]):
    """log p of a 2-variable chain: p(x0) * p(x1 | x0)."""

    def log_prob(states: np.ndarray) -> np.ndarray:
        x0, x1 = states[:, 0], states[:, 1]
        p0 = np.where(x0 == 1, probs_first, 1 - probs_first)
        q = np.where(x0 == 1, p_given[1], p_given[0])
        p1 = np.where(x1 == 1, q, 1 - q)
        return np.log(p0 * p1)

    return log_prob


def test_all_binary_states_order() -> None:
    states = checks.all_binary_states(3)
    assert states.shape == (8, 3)
    assert states[5].tolist() == [1.0, 0.0, 1.0]


def test_check_distribution_detects_unnormalized_and_mismatch() -> None:
    good = _chain(0.3, {0: 0.2, 1: 0.9})
    probs = checks.check_distribution(good, 2)
    np.testing.assert_allclose(probs, [0.7 * 0.8, 0.7 * 0.2, 0.3 * 0.1, 0.3 * 0.9])
    with pytest.raises(CheckFailure, match="sum to"):
        checks.check_distribution(lambda s: good(s) + 0.1, 2)
    other = _chain(0.3, {0: 0.25, 1: 0.9})
    with pytest.raises(CheckFailure, match=r"state \[0, 0\]"):
        checks.check_distribution(good, 2, expected_log_prob=other)
    with pytest.raises(CheckFailure, match="not finite"):
        checks.check_distribution(lambda s: np.full(len(s), -np.inf), 2)


def test_check_samples_accepts_exact_sampler_and_rejects_marginal_sampler() -> None:
    rng = np.random.default_rng(0)
    probs = checks.check_distribution(_chain(0.3, {0: 0.1, 1: 0.9}), 2)
    codes = rng.choice(4, size=20_000, p=probs)
    samples = checks.all_binary_states(2)[codes]
    assert checks.check_samples(samples, probs) > 1e-3
    # the classic bug: each variable from its marginal, ignoring the sampled prefix
    marginal_x1 = probs[1] + probs[3]
    wrong = np.stack([rng.random(20_000) < 0.3, rng.random(20_000) < marginal_x1], axis=1)
    with pytest.raises(CheckFailure, match="do not follow"):
        checks.check_samples(wrong.astype(float), probs)


def test_check_samples_rejects_impossible_state_and_non_binary() -> None:
    probs = np.array([0.5, 0.5, 0.0, 0.0])
    with pytest.raises(CheckFailure, match="probability is 0"):
        checks.check_samples(np.array([[1.0, 0.0]] + [[0.0, 1.0]] * 50), probs)
    with pytest.raises(CheckFailure, match="only 0 and 1"):
        checks.check_samples(np.array([[2.0, 0.0]]), probs)


def _masked_linear(mask: np.ndarray):
    weight = np.random.default_rng(0).normal(size=mask.shape) * mask
    return lambda x: x @ weight.T


def test_check_autoregressive_passes_strictly_lower_triangular() -> None:
    n = 6
    depends = checks.check_autoregressive(_masked_linear(np.tril(np.ones((n, n)), -1)), n)
    assert depends.shape == (n, n)
    assert depends[5, 0] and not depends[0, 5]


def test_check_autoregressive_names_self_dependency() -> None:
    n = 5
    with pytest.raises(CheckFailure, match="output 0 depends on input 0 itself"):
        checks.check_autoregressive(_masked_linear(np.tril(np.ones((n, n)))), n)


def test_check_autoregressive_names_later_input() -> None:
    n = 5
    mask = np.tril(np.ones((n, n)), -1)
    mask[2, 4] = 1.0
    with pytest.raises(CheckFailure, match="output 2 depends on input 4, which comes later"):
        checks.check_autoregressive(_masked_linear(mask), n)


def test_check_autoregressive_respects_custom_order() -> None:
    n = 4
    order = [2, 0, 3, 1]
    position = np.argsort(order)
    mask = (position[None, :] < position[:, None]).astype(float)
    checks.check_autoregressive(_masked_linear(mask), n, order=order)
    with pytest.raises(CheckFailure, match="later in the ordering"):
        checks.check_autoregressive(_masked_linear(mask), n)
    with pytest.raises(ValueError, match="permutation"):
        checks.check_autoregressive(_masked_linear(mask), n, order=[0, 0, 1, 2])


def test_check_autoregressive_on_torch_module_and_categorical_outputs() -> None:
    n, k = 4, 3
    linear = torch.nn.Linear(n, n * k)
    with torch.no_grad():
        mask = torch.tril(torch.ones(n, n), -1).repeat_interleave(k, dim=0)
        linear.weight.mul_(mask)

    class Categorical(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.linear = linear

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return self.linear(x).reshape(len(x), n, k)

    checks.check_autoregressive(Categorical(), n)
    with torch.no_grad():
        linear.weight[k * 1, 3] = 1.0  # output 1 now reads input 3
    with pytest.raises(CheckFailure, match="output 1 depends on input 3"):
        checks.check_autoregressive(Categorical(), n)


def test_check_autoregressive_rejects_wrong_output_shape() -> None:
    with pytest.raises(CheckFailure, match="one output per"):
        checks.check_autoregressive(lambda x: x.sum(axis=1), 3)


def test_check_distribution_enumerates_categorical_states() -> None:
    k = 3
    marginal = np.log(np.array([0.2, 0.5, 0.3]))

    def independent(states: np.ndarray) -> np.ndarray:
        assert states.dtype == np.int64 and states.shape == (k**2, 2)
        return marginal[states].sum(axis=1)

    probs = checks.check_distribution(independent, 2, num_values=k)
    np.testing.assert_allclose(probs[:3], [0.04, 0.1, 0.06])
    with pytest.raises(CheckFailure, match="normalized over the 3 values"):
        checks.check_distribution(lambda s: independent(s) - 0.1, 2, num_values=k)
    with pytest.raises(CheckFailure, match="log-softmax"):
        checks.check_distribution(lambda s: np.full(len(s), np.nan), 2, num_values=k)
    assert checks.all_states(2, 3)[:4].tolist() == [[0, 0], [0, 1], [0, 2], [1, 0]]
