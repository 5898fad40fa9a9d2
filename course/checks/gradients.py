"""The gradient check: central finite differences against an analytic gradient.

CS231n's recipe, with its relative-error targets stated to students: in float64 below
1e-7 is excellent, below 1e-6 fine for smooth functions, 1e-4 and above almost always a
bug. The message names the worst entry and, when the two gradients differ by a whole
factor, says so (a batch size, a 1/2, a sign).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from course.checks.core import CheckFailure, fmt_index
from course.numeric import to_numpy

__all__ = ["check_gradient", "gradient_relative_error", "numerical_gradient"]


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
    analytic = to_numpy(analytic).astype(np.float64)
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
        # a recognized pattern comes first: long messages get cut at the end
        prefix = ""
        if np.isfinite(ratio) and abs(ratio) > 1e-3 and abs(ratio - round(ratio)) < 1e-3:
            prefix = (
                f"{name} is {ratio:.0f} times the numerical gradient: look for a missing or "
                "extra factor (batch size, a 1/2, a sign). "
            )
        elif numeric[worst] != 0 and analytic[worst] == 0:
            prefix = (
                f"{name} is zero where the numerical gradient is not: a wrong mask, or a "
                "transposed gradient? "
            )
        raise CheckFailure(
            f"{prefix}{name} fails the gradient check: relative error {max_rel:.2e} at index "
            f"{fmt_index(worst)} (analytic {analytic[worst]:.6g}, numerical "
            f"{numeric[worst]:.6g}); the threshold is {threshold:.0e}."
        )
    return max_rel
