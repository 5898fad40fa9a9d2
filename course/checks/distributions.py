"""Distributions of tiny models, checked exactly: enumerate every state, test samples.

- :func:`all_states` lists the k**n states of n variables (x_0 most significant);
- :func:`check_distribution` checks that exp(log_prob) over all states sums to one (an
  autoregressive model normalizes by construction, so a sum other than one means a wrong
  conditional) and matches a reference;
- :func:`check_samples` runs a chi-square goodness-of-fit test of samples against the
  exact probabilities, pooling states with expected counts below 5.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from typing import Any

import numpy as np
from scipy import stats

from course.checks.core import CheckFailure
from course.numeric import to_numpy

__all__ = ["all_binary_states", "all_states", "check_distribution", "check_samples"]


def all_states(n: int, k: int) -> np.ndarray:
    """All ``k**n`` vectors of length ``n`` with values 0..k-1, int64, x_0 most significant."""
    if n < 1 or k < 2 or k**n > 2**20:
        raise ValueError(f"all_states enumerates k**n states; n={n}, k={k} is out of range")
    return np.array(list(itertools.product(range(k), repeat=n)), dtype=np.int64)


def all_binary_states(n: int) -> np.ndarray:
    """All ``2**n`` binary vectors of length ``n`` as a float array, in binary order.

    Row ``r`` is the binary expansion of ``r`` with ``x_0`` the most significant bit.
    """
    return all_states(n, 2).astype(np.float64)


def check_distribution(
    log_prob: Callable[[np.ndarray], Any],
    n: int,
    *,
    num_values: int = 2,
    expected_log_prob: Callable[[np.ndarray], Any] | None = None,
    name: str = "log_prob",
    atol: float = 1e-6,
) -> np.ndarray:
    """Enumerate all ``num_values**n`` states and check ``exp(log_prob)`` is a distribution.

    Binary states (the default) are passed as a float array (:func:`all_binary_states`),
    categorical ones as int64 (:func:`all_states`). Checks finiteness, that the
    probabilities sum to one (an autoregressive model normalizes by construction, so a
    sum other than one means a wrong conditional), and, when ``expected_log_prob`` is
    given, that every state's log-probability matches. Returns the probabilities.
    """
    categorical = num_values > 2
    states = all_states(n, num_values) if categorical else all_binary_states(n)
    got = to_numpy(log_prob(states)).astype(np.float64).reshape(-1)
    if got.shape != (len(states),):
        raise CheckFailure(
            f"{name} returned {got.size} values for {len(states)} states: it must return "
            "one log-probability per row of its input, summed over the n variables."
        )
    if not np.isfinite(got).all():
        bad = int(np.argwhere(~np.isfinite(got))[0, 0])
        stable = (
            "Use a stable log-softmax (torch.log_softmax), not log(softmax)."
            if categorical
            else "Compute log-probabilities with a stable log-sigmoid."
        )
        raise CheckFailure(
            f"{name} is not finite for state {states[bad].astype(int).tolist()} "
            f"(got {got[bad]}). {stable}"
        )
    probs = np.exp(got)
    total = probs.sum()
    if abs(total - 1.0) > atol:
        if categorical:
            raise CheckFailure(
                f"The probabilities of all {len(states)} states ({num_values} values, n={n}) "
                f"sum to {total:.12g}, not 1: a conditional p(x_i | x_<i) is not normalized "
                f"over the {num_values} values of x_i (softmax over the wrong axis?) or sees "
                "x_i itself."
            )
        raise CheckFailure(
            f"The probabilities of all {len(states)} states sum to {total:.12g}, not 1. "
            f"An autoregressive model is normalized by construction, so one of the "
            "conditionals p(x_i | x_<i) is wrong (or log p(x) adds something twice)."
        )
    if expected_log_prob is not None:
        expected = to_numpy(expected_log_prob(states)).astype(np.float64).reshape(-1)
        mismatch = np.abs(got - expected) > atol + 1e-6 * np.abs(expected)
        if mismatch.any():
            bad = int(np.argwhere(mismatch)[0, 0])
            raise CheckFailure(
                f"{name} of state {states[bad].astype(int).tolist()} is {got[bad]:.6f}, "
                f"the reference gives {expected[bad]:.6f} "
                f"({int(mismatch.sum())} of {len(states)} states differ)."
            )
    return probs


def check_samples(
    samples: Any,
    probs: Any,
    *,
    num_values: int = 2,
    alpha: float = 1e-3,
    name: str = "samples",
) -> float:
    """Chi-square goodness-of-fit test of samples against exact probabilities.

    ``samples`` has shape (num_samples, n) with values 0..num_values-1; ``probs`` holds
    the probability of each of the ``num_values**n`` states in the order of
    :func:`all_states` (:func:`all_binary_states` for binary ones). States with expected
    count below 5 are pooled so that the test is valid. Fails when the p-value is below
    ``alpha`` (with a fixed seed, a correct sampler fails with probability ``alpha``; a
    wrong one almost surely). Returns the p-value.
    """
    samples = to_numpy(samples)
    probs = to_numpy(probs).astype(np.float64).reshape(-1)
    k = num_values
    if samples.ndim != 2:
        raise CheckFailure(f"{name} must have shape (num_samples, n), got {samples.shape}.")
    n = samples.shape[1]
    if probs.size != k**n:
        raise CheckFailure(f"probs has {probs.size} entries, but n={n} has {k**n} states.")
    if not np.isin(samples, np.arange(k)).all():
        allowed = "0 and 1" if k == 2 else f"the values 0..{k - 1}"
        raise CheckFailure(f"{name} must contain only {allowed}, found {np.unique(samples)}.")

    def state(code: int) -> list[int]:
        return [int(v) for v in np.unravel_index(code, (k,) * n)]

    codes = samples.astype(np.int64) @ (k ** np.arange(n - 1, -1, -1))
    observed = np.bincount(codes, minlength=k**n).astype(np.float64)
    expected = probs / probs.sum() * len(samples)
    impossible = (expected == 0) & (observed > 0)
    if impossible.any():
        code = int(np.argwhere(impossible)[0, 0])
        raise CheckFailure(
            f"{name} contain state {state(code)} {int(observed[code])} times, but its "
            "probability is 0."
        )
    order = np.argsort(expected)
    obs_pooled: list[float] = []
    exp_pooled: list[float] = []
    acc_o = acc_e = 0.0
    for idx in order:
        acc_o += observed[idx]
        acc_e += expected[idx]
        if acc_e >= 5:
            obs_pooled.append(acc_o)
            exp_pooled.append(acc_e)
            acc_o = acc_e = 0.0
    if acc_e > 0 and exp_pooled:
        obs_pooled[-1] += acc_o
        exp_pooled[-1] += acc_e
    if len(exp_pooled) < 2:
        return 1.0
    p_value = float(stats.chisquare(obs_pooled, exp_pooled).pvalue)
    if p_value < alpha:
        freq = observed / len(samples)
        worst = int(np.argmax(np.abs(freq - expected / len(samples))))
        raise CheckFailure(
            f"{name} do not follow the model's distribution (chi-square p-value "
            f"{p_value:.2e} < {alpha:g}). State {state(worst)} appears with frequency "
            f"{freq[worst]:.4f}, its probability is {expected[worst] / len(samples):.4f}. "
            "Sample x_i from p(x_i | x_<i) using the values already sampled, in order."
        )
    return p_value
