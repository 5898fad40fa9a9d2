"""Distributions of tiny models, checked exactly: enumerate every state, test samples.

- :func:`all_states` lists the k**n states of n variables (x_0 most significant);
- :func:`check_distribution` checks that exp(log_prob) over all states sums to one (an
  autoregressive model normalizes by construction, so a sum other than one means a wrong
  conditional) and matches a reference;
- :func:`check_samples` runs a chi-square goodness-of-fit test of samples against the
  exact probabilities, pooling states with expected counts below 5, and names the
  mistake whose distribution the samples follow instead;
- :func:`check_uses_generator`: the random generator passed in decides the samples;
- :func:`check_log_prob` compares log-likelihoods with a reference and names the classic
  mistakes (a mean instead of a sum, a flipped sign, bits, an unstable log-sigmoid).
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Mapping
from typing import Any

import numpy as np
from scipy import stats

from course.checks.core import CheckFailure, assert_close
from course.numeric import to_numpy

__all__ = [
    "all_binary_states",
    "all_states",
    "check_distribution",
    "check_log_prob",
    "check_samples",
    "check_uses_generator",
]


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


def _chi_square(observed: np.ndarray, probs: np.ndarray) -> tuple[float, int | None]:
    """(p-value, None), or (0.0, code of a sampled state whose probability is 0).

    States with expected count below 5 are pooled, so that the test is valid.
    """
    expected = probs / probs.sum() * observed.sum()
    impossible = (expected == 0) & (observed > 0)
    if impossible.any():
        return 0.0, int(np.argwhere(impossible)[0, 0])
    obs_pooled: list[float] = []
    exp_pooled: list[float] = []
    acc_o = acc_e = 0.0
    for idx in np.argsort(expected):
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
        return 1.0, None
    return float(stats.chisquare(obs_pooled, exp_pooled).pvalue), None


def check_samples(
    samples: Any,
    probs: Any,
    *,
    num_values: int = 2,
    alpha: float = 1e-3,
    name: str = "samples",
    mistakes: Mapping[str, Any] | None = None,
) -> float:
    """Chi-square goodness-of-fit test of samples against exact probabilities.

    ``samples`` has shape (num_samples, n) with values 0..num_values-1; ``probs`` holds
    the probability of each of the ``num_values**n`` states in the order of
    :func:`all_states` (:func:`all_binary_states` for binary ones). States with expected
    count below 5 are pooled so that the test is valid. Fails when the p-value is below
    ``alpha`` (with a fixed seed, a correct sampler fails with probability ``alpha``; a
    wrong one almost surely). ``mistakes`` maps the explanation of a common mistake to
    the probabilities of the states that a sampler making it draws from: when failing
    samples pass the test against one of them, the message starts with its explanation.
    Returns the p-value.
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
    p_value, impossible = _chi_square(observed, probs)
    if impossible is None and p_value >= alpha:
        return p_value
    for explanation, mistaken in (mistakes or {}).items():
        mistaken = to_numpy(mistaken).astype(np.float64).reshape(-1)
        if mistaken.shape != probs.shape or np.allclose(mistaken, probs / probs.sum()):
            continue
        p_mistake, off = _chi_square(observed, mistaken)
        if off is None and p_mistake >= alpha:
            raise CheckFailure(
                f"{explanation} ({name} follow the distribution that mistake gives, chi-square "
                f"p-value {p_mistake:.2g}, not the model's, p-value {p_value:.1e}.)"
            )
    if observed.max() == len(samples) > 1 and probs.max() / probs.sum() < 0.99:
        raise CheckFailure(
            f"Every sample is the same state, {state(int(np.argmax(observed)))}: one random "
            f"number was drawn for all {len(samples)} samples (rng.random() without a size?). "
            "Draw one per sample, e.g. rng.random(num_samples)."
        )
    if impossible is not None:
        raise CheckFailure(
            f"{name} contain state {state(impossible)} {int(observed[impossible])} times, "
            "but its probability is 0."
        )
    expected = probs / probs.sum() * len(samples)
    freq = observed / len(samples)
    worst = int(np.argmax(np.abs(freq - expected / len(samples))))
    raise CheckFailure(
        f"{name} do not follow the model's distribution (chi-square p-value "
        f"{p_value:.2e} < {alpha:g}). State {state(worst)} appears with frequency "
        f"{freq[worst]:.4f}, its probability is {expected[worst] / len(samples):.4f}. "
        "Sample x_i from p(x_i | x_<i) using the values already sampled, in order."
    )


def check_uses_generator(
    draw: Callable[[Any], Any],
    generator: Callable[[int], Any],
    name: str = "the sampler",
    *,
    seeds: tuple[int, int] = (0, 1),
) -> None:
    """Assert that the random generator passed in, and only it, decides the samples.

    ``draw(gen)`` returns samples drawn with the generator ``gen``; ``generator(seed)``
    makes a fresh one (``np.random.default_rng``, or ``lambda s:
    torch.Generator().manual_seed(s)``). Two generators in the same state must give the
    same samples (a sampler that draws from NumPy's or torch's global state does not),
    and generators in different states different ones (a sampler that seeds or creates
    its own does not). Raises :class:`CheckFailure`.
    """
    first = to_numpy(draw(generator(seeds[0])))
    again = to_numpy(draw(generator(seeds[0])))
    if not np.array_equal(first, again):
        raise CheckFailure(
            f"{name} ignores the random generator it is given: two generators in the same "
            "state gave different samples. Draw every random number from that generator "
            "(rng.random(...); torch.rand(..., generator=generator)), not from np.random "
            "or torch's global state."
        )
    other = to_numpy(draw(generator(seeds[1])))
    if np.array_equal(first, other):
        raise CheckFailure(
            f"{name} does not depend on the random generator it is given: generators in "
            "different states gave the same samples. Draw from the generator you are "
            "given; do not seed or create one inside."
        )


def check_log_prob(
    got: Any,
    expected: Any,
    name: str,
    *,
    num_dims: int,
    rtol: float = 1e-9,
    atol: float = 1e-9,
    hint: str = "",
    mistakes: Mapping[str, Any] | None = None,
) -> None:
    """Compare log p(x) per example with the reference; name the classic mistakes.

    Recognized: one value per dimension instead of per example, non-finite values (an
    unstable log-sigmoid), a mean over the ``num_dims`` dimensions instead of a sum, a
    flipped sign, bits instead of nats, and any of ``mistakes`` ({explanation: the
    log-probabilities that mistake gives}, checked first). Otherwise
    :func:`course.checks.assert_close` reports the first differing example with
    ``hint``. Raises :class:`course.checks.CheckFailure`.
    """
    got_arr = np.asarray(to_numpy(got), dtype=np.float64)
    expected_arr = np.asarray(to_numpy(expected), dtype=np.float64)
    if got_arr.shape != expected_arr.shape:
        why = (
            " It looks like one value per dimension: sum over the dimensions (axis 1)."
            if got_arr.shape == expected_arr.shape + (num_dims,)
            else ""
        )
        raise CheckFailure(
            f"{name} has shape {got_arr.shape}, expected {expected_arr.shape}: one "
            f"log-probability per example (row of x).{why}"
        )
    if not np.isfinite(got_arr).all():
        bad = int(np.argwhere(~np.isfinite(got_arr))[0, 0])
        raise CheckFailure(
            f"log(sigmoid(z)) underflows: {name} is {got_arr[bad]} for example {bad}, where "
            f"the reference gives {expected_arr[bad]:.6g}. log(sigmoid(z)) is log(0) = -inf "
            "for large |z|: use log p = x z - softplus(z), with softplus(z) = "
            "np.logaddexp(0, z) (torch: F.softplus or F.binary_cross_entropy_with_logits)."
        )
    named = dict(mistakes or {})
    if num_dims > 1:
        named.setdefault(
            "log p(x) is the MEAN over the dimensions, not the sum: log p(x) is the SUM of "
            "the n log-conditionals.", expected_arr / num_dims)
    named.setdefault("log p(x) has the wrong sign: a log-probability is <= 0.", -expected_arr)
    named.setdefault("log p(x) is in bits: use the natural log (nats).",
                     expected_arr / np.log(2.0))
    assert_close(got_arr, expected_arr, name, rtol=rtol, atol=atol, hint=hint, mistakes=named)
