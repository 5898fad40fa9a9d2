"""Student-facing checks with messages that point at the bug.

Every assignment's visible and hidden tests call these. Each check raises
:class:`CheckFailure` (an ``AssertionError``, so nbgrader counts it as a failed test)
whose message names *what* is wrong, *where*, and gives a hint, instead of a bare
``AssertionError``.

- :func:`assert_close` compares with a reference (first differing index, expected
  and got values, how many entries differ).
- :func:`numerical_gradient` and :func:`check_gradient` implement the central
  finite-difference gradient check with relative-error thresholds, as in CS231n.
- :func:`check_distribution` enumerates all states of a tiny model and checks that the
  probabilities sum to one and match a reference; :func:`check_samples` runs a
  chi-square goodness-of-fit test of samples against an exact distribution.
- :func:`check_autoregressive` finds, by perturbing one input at a time, any output
  that depends on an input that is not earlier in the ordering (Germain et al., 2015,
  "MADE", Section 3: the autoregressive property).
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import torch
from scipy import stats

__all__ = [
    "CheckFailure",
    "all_binary_states",
    "all_states",
    "assert_close",
    "check_autoregressive",
    "check_distribution",
    "check_gradient",
    "check_samples",
    "dependency_matrix",
    "gradient_relative_error",
    "numerical_gradient",
]


class CheckFailure(AssertionError):
    """A check failed; the message says what is wrong and how to look for the bug."""


def _to_numpy(value: Any) -> np.ndarray:
    if isinstance(value, torch.Tensor):
        return value.detach().cpu().numpy()
    return np.asarray(value)


def _fmt_index(index: tuple[int, ...]) -> str:
    return "[" + ", ".join(str(i) for i in index) + "]"


def assert_close(
    got: Any,
    expected: Any,
    name: str = "value",
    *,
    rtol: float = 1e-6,
    atol: float = 1e-8,
    hint: str = "",
) -> None:
    """Assert that ``got`` equals ``expected`` within ``atol + rtol * |expected|``.

    On failure the message names the shape mismatch, or the first differing index with
    the expected and the got value, the number of differing entries and the largest
    absolute error, followed by ``hint``.
    """
    got_arr = _to_numpy(got)
    expected_arr = _to_numpy(expected)
    suffix = f"\nHint: {hint}" if hint else ""
    if got_arr.shape != expected_arr.shape:
        raise CheckFailure(
            f"{name} has shape {got_arr.shape}, expected {expected_arr.shape}.{suffix}"
        )
    if got_arr.dtype == object:
        raise CheckFailure(f"{name} is not numeric (dtype object).{suffix}")
    got_f = got_arr.astype(np.float64)
    expected_f = expected_arr.astype(np.float64)
    nan_got = np.isnan(got_f)
    if nan_got.any() and not np.isnan(expected_f)[nan_got].all():
        first = tuple(int(i) for i in np.argwhere(nan_got & ~np.isnan(expected_f))[0])
        raise CheckFailure(
            f"{name} contains NaN at index {_fmt_index(first)} where "
            f"{expected_f[first]:.6g} was expected ({int(nan_got.sum())} NaN entries). "
            f"Look for log(0), 0/0 or an overflowing exp.{suffix}"
        )
    ok = np.isclose(got_f, expected_f, rtol=rtol, atol=atol, equal_nan=True)
    if ok.all():
        return
    bad = np.argwhere(~ok)
    first = tuple(int(i) for i in bad[0])
    abs_err = np.abs(np.nan_to_num(got_f - expected_f, nan=np.inf))
    where = f" at index {_fmt_index(first)}" if got_arr.ndim else ""
    raise CheckFailure(
        f"{name} differs from the reference{where}: expected {expected_f[first]:.6g}, "
        f"got {got_f[first]:.6g}. {len(bad)} of {ok.size} entries differ "
        f"(largest absolute error {abs_err.max():.3g}; tolerance rtol={rtol:g}, "
        f"atol={atol:g}).{suffix}"
    )


# --- gradients ---------------------------------------------------------------------


def numerical_gradient(
    f: Callable[[np.ndarray], float], x: np.ndarray, eps: float = 1e-6
) -> np.ndarray:
    """Central finite differences ``(f(x + eps e_i) - f(x - eps e_i)) / (2 eps)``.

    ``x`` is perturbed in place entry by entry and restored; ``f`` must return a scalar.
    Use float64: in float32 the truncation and round-off errors swamp the check.
    """
    if x.dtype != np.float64:
        raise TypeError(
            f"numerical_gradient needs a float64 array, got {x.dtype}: the round-off of "
            "lower precision hides real bugs. Convert with x.astype(np.float64)."
        )
    grad = np.zeros_like(x)
    for index in np.ndindex(x.shape):
        original = x[index]
        x[index] = original + eps
        f_plus = float(f(x))
        x[index] = original - eps
        f_minus = float(f(x))
        x[index] = original
        grad[index] = (f_plus - f_minus) / (2 * eps)
    return grad


def gradient_relative_error(analytic: np.ndarray, numeric: np.ndarray) -> np.ndarray:
    """Entrywise ``|a - n| / max(|a| + |n|, 1e-12)``, the CS231n relative error."""
    analytic = np.asarray(analytic, dtype=np.float64)
    numeric = np.asarray(numeric, dtype=np.float64)
    return np.abs(analytic - numeric) / np.maximum(np.abs(analytic) + np.abs(numeric), 1e-12)


def check_gradient(
    f: Callable[[np.ndarray], float],
    x: np.ndarray,
    analytic: np.ndarray,
    name: str = "gradient",
    *,
    eps: float = 1e-6,
    threshold: float = 1e-6,
    abs_floor: float = 1e-9,
) -> float:
    """Compare an analytic gradient with central finite differences of ``f`` at ``x``.

    Relative error targets in float64 (stated to students): below 1e-7 is excellent,
    below 1e-6 is fine for smooth functions; 1e-4 and above almost always means a bug.
    Entries where both gradients are smaller than ``abs_floor`` are not judged (their
    relative error is dominated by round-off). Returns the largest relative error.
    """
    analytic = _to_numpy(analytic).astype(np.float64)
    x = np.array(x, dtype=np.float64, copy=True)
    if analytic.shape != x.shape:
        raise CheckFailure(
            f"{name} has shape {analytic.shape}, but the parameter has shape {x.shape}: "
            "a gradient has the shape of what it differentiates."
        )
    numeric = numerical_gradient(f, x, eps=eps)
    rel = gradient_relative_error(analytic, numeric)
    rel[(np.abs(analytic) < abs_floor) & (np.abs(numeric) < abs_floor)] = 0.0
    worst = tuple(int(i) for i in np.unravel_index(np.argmax(rel), rel.shape))
    max_rel = float(rel[worst]) if rel.size else 0.0
    if max_rel > threshold:
        ratio = analytic[worst] / numeric[worst] if numeric[worst] != 0 else np.inf
        hint = ""
        if np.isfinite(ratio) and abs(ratio) > 1e-3 and abs(ratio - round(ratio)) < 1e-3:
            hint = (
                f" The analytic value is {ratio:.0f} times the numerical one: look for a "
                "missing or extra factor (batch size, a 1/2, a sign)."
            )
        elif numeric[worst] != 0 and analytic[worst] == 0:
            hint = " The analytic gradient is zero where it should not be: a wrong mask?"
        raise CheckFailure(
            f"{name} fails the gradient check: relative error {max_rel:.2e} at index "
            f"{_fmt_index(worst)} (analytic {analytic[worst]:.6g}, numerical "
            f"{numeric[worst]:.6g}); the threshold is {threshold:.0e}.{hint}"
        )
    return max_rel


# --- distributions -----------------------------------------------------------------


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
    got = _to_numpy(log_prob(states)).astype(np.float64).reshape(-1)
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
        expected = _to_numpy(expected_log_prob(states)).astype(np.float64).reshape(-1)
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
    alpha: float = 1e-3,
    name: str = "samples",
) -> float:
    """Chi-square goodness-of-fit test of binary samples against exact probabilities.

    ``samples`` has shape (num_samples, n) with 0/1 entries; ``probs`` holds the
    probability of each of the ``2**n`` states in the order of
    :func:`all_binary_states`. States with expected count below 5 are pooled so that the
    test is valid. Fails when the p-value is below ``alpha`` (with a fixed seed, a
    correct sampler fails with probability ``alpha``; a wrong one almost surely).
    Returns the p-value.
    """
    samples = _to_numpy(samples)
    probs = _to_numpy(probs).astype(np.float64).reshape(-1)
    if samples.ndim != 2:
        raise CheckFailure(f"{name} must have shape (num_samples, n), got {samples.shape}.")
    n = samples.shape[1]
    if probs.size != 2**n:
        raise CheckFailure(f"probs has {probs.size} entries, but n={n} has {2**n} states.")
    if not np.isin(samples, (0, 1)).all():
        raise CheckFailure(f"{name} must contain only 0 and 1, found {np.unique(samples)}.")
    weights = 2 ** np.arange(n - 1, -1, -1)
    codes = samples.astype(np.int64) @ weights
    observed = np.bincount(codes, minlength=2**n).astype(np.float64)
    expected = probs / probs.sum() * len(samples)
    impossible = (expected == 0) & (observed > 0)
    if impossible.any():
        state = int(np.argwhere(impossible)[0, 0])
        bits = [int(b) for b in np.binary_repr(state, width=n)]
        raise CheckFailure(
            f"{name} contain state {bits} {int(observed[state])} times, but its probability is 0."
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
        bits = [int(b) for b in np.binary_repr(worst, width=n)]
        raise CheckFailure(
            f"{name} do not follow the model's distribution (chi-square p-value "
            f"{p_value:.2e} < {alpha:g}). State {bits} appears with frequency "
            f"{freq[worst]:.4f}, its probability is {expected[worst] / len(samples):.4f}. "
            "Sample x_i from p(x_i | x_<i) using the values already sampled, in order."
        )
    return p_value


# --- the autoregressive property -----------------------------------------------------


def _call(fn: Callable[..., Any], x: np.ndarray, torch_input: bool) -> np.ndarray:
    if torch_input:
        param = next(iter(fn.parameters()), None) if isinstance(fn, torch.nn.Module) else None
        dtype = param.dtype if param is not None else torch.get_default_dtype()
        dev = param.device if param is not None else torch.device("cpu")
        with torch.no_grad():
            out = fn(torch.as_tensor(x, dtype=dtype, device=dev))
    else:
        out = fn(x)
    return _to_numpy(out).astype(np.float64)


def dependency_matrix(
    fn: Callable[..., Any],
    n: int,
    *,
    num_bases: int = 4,
    seed: int = 0,
    atol: float = 1e-7,
    torch_input: bool | None = None,
) -> np.ndarray:
    """``D[i, j]`` is True when output ``i`` of ``fn`` changes when input ``j`` is flipped.

    ``fn`` maps a batch ``(B, n)`` of binary vectors to outputs ``(B, n)`` or
    ``(B, n, ...)`` (e.g. logits of a categorical per dimension). Each input is flipped
    (0 <-> 1) in ``num_bases`` random binary vectors; all flips are evaluated in one
    batch, so this costs ``num_bases * (n + 1)`` rows. Perturbation works for any
    function, differentiable or not, NumPy or torch. ``torch_input`` defaults to True
    for ``torch.nn.Module``.
    """
    if torch_input is None:
        torch_input = isinstance(fn, torch.nn.Module)
    rng = np.random.default_rng(seed)
    bases = (rng.random((num_bases, n)) < 0.5).astype(np.float64)
    flipped = np.repeat(bases[:, None, :], n, axis=1)  # (bases, j, n)
    idx = np.arange(n)
    flipped[:, idx, idx] = 1.0 - flipped[:, idx, idx]
    batch = np.concatenate([bases, flipped.reshape(-1, n)], axis=0)
    out = _call(fn, batch, torch_input)
    if out.shape[:2] != (len(batch), n):
        raise CheckFailure(
            f"The function returned shape {out.shape} for an input of shape {batch.shape}; "
            f"expected ({len(batch)}, {n}) or ({len(batch)}, {n}, ...): one output per "
            "input dimension."
        )
    out = out.reshape(len(batch), n, -1)
    base_out = out[:num_bases]  # (bases, n, k)
    flip_out = out[num_bases:].reshape(num_bases, n, n, -1)  # (bases, j, i, k)
    change = np.abs(flip_out - base_out[:, None, :, :]).max(axis=(0, 3))  # (j, i)
    scale = 1.0 + np.abs(base_out).max()
    return (change > atol * scale).T


def check_autoregressive(
    fn: Callable[..., Any],
    n: int,
    order: Sequence[int] | None = None,
    *,
    num_bases: int = 4,
    seed: int = 0,
    torch_input: bool | None = None,
    name: str = "output",
) -> np.ndarray:
    """Assert that output ``i`` depends only on inputs earlier than ``i`` in ``order``.

    ``order`` lists the variables in the order they are generated (``order[0]`` first);
    the default is the natural order ``0, 1, ..., n-1``. Any output that depends on
    itself or on a later input is a violation: the model would be looking at the
    answer, so its "likelihood" is not a normalized distribution. The message names
    the first violating pair. Returns the dependency matrix (see
    :func:`dependency_matrix`) for plotting.
    """
    order = list(range(n)) if order is None else [int(v) for v in order]
    if sorted(order) != list(range(n)):
        raise ValueError(f"order must be a permutation of 0..{n - 1}, got {order}")
    position = np.empty(n, dtype=np.int64)
    position[order] = np.arange(n)
    depends = dependency_matrix(fn, n, num_bases=num_bases, seed=seed, torch_input=torch_input)
    allowed = position[None, :] < position[:, None]  # allowed[i, j]: j before i
    violations = np.argwhere(depends & ~allowed)
    if len(violations):
        # report the violation whose output comes first in the ordering
        i, j = min(violations.tolist(), key=lambda ij: (position[ij[0]], position[ij[1]]))
        if i == j:
            detail = f"{name} {i} depends on input {i} itself"
            hint = (
                "A conditional p(x_i | x_<i) must not see x_i: use a strictly "
                "lower-triangular mask (k=-1), or '>' rather than '>=' in an output mask."
            )
        else:
            detail = (
                f"{name} {i} depends on input {j}, which comes later in the ordering "
                f"(position {position[j]} vs {position[i]})"
            )
            hint = "Check the mask: it must zero every weight from a later input."
        raise CheckFailure(
            f"Not autoregressive: {detail}. {len(violations)} forbidden dependencies in "
            f"all.\nHint: {hint}"
        )
    return depends
