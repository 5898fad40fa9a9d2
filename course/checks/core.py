"""The base of every check: :class:`CheckFailure`, :func:`assert_close` and named mistakes.

Every check raises :class:`CheckFailure`, an ``AssertionError`` (so nbgrader counts it as
a failed test), whose message names *what* is wrong, *where*, and gives a hint. When a
wrong value is one that a common mistake produces, the message starts with the name of
that mistake (the grader keeps the beginning of a long message):
:func:`assert_close` takes ``mistakes``, a dict ``{explanation: value that mistake
gives}``, and :func:`find_mistake` picks the matching explanation.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from course.numeric import to_numpy

__all__ = ["CheckFailure", "assert_close", "find_mistake", "fmt_index"]


class CheckFailure(AssertionError):
    """A check failed; the message says what is wrong and how to look for the bug."""



def fmt_index(index: tuple[int, ...]) -> str:
    """``(3, 1)`` -> ``"[3, 1]"``."""
    return "[" + ", ".join(str(i) for i in index) + "]"


def _as_float(value: Any) -> np.ndarray | None:
    """``value`` as a float64 array, or None when it is not numeric."""
    try:
        arr = np.asarray(to_numpy(value))
        return None if arr.dtype == object else arr.astype(np.float64)
    except (TypeError, ValueError):
        return None


def _close(a: np.ndarray, b: np.ndarray, rtol: float, atol: float) -> bool:
    return a.shape == b.shape and bool(np.allclose(a, b, rtol=rtol, atol=atol, equal_nan=True))


def find_mistake(
    got: Any,
    mistakes: Mapping[str, Any] | None,
    *,
    expected: Any = None,
    rtol: float = 1e-6,
    atol: float = 1e-8,
) -> str | None:
    """The explanation of the first mistake in ``mistakes`` whose value ``got`` matches.

    ``mistakes`` maps an explanation to the value that mistake produces (any shape: a
    mistake may change the shape; None: the mistake does not apply here). A value
    matches when it has ``got``'s shape and equals it within ``atol + rtol * |value|``,
    NaN matching NaN. When ``expected`` is given, mistakes whose value equals it are
    skipped (the mistake makes no difference on this input), and a ``got`` that equals
    ``expected`` matches nothing. Returns None when nothing matches.
    """
    got_f = _as_float(got)
    if got_f is None or not mistakes:
        return None
    expected_f = None if expected is None else _as_float(expected)
    if expected_f is not None and _close(got_f, expected_f, rtol, atol):
        return None
    for explanation, value in mistakes.items():
        value_f = None if value is None else _as_float(value)
        if value_f is None:
            continue
        if expected_f is not None and _close(value_f, expected_f, rtol, atol):
            continue
        if _close(got_f, value_f, rtol, atol):
            return explanation
    return None


def assert_close(
    got: Any,
    expected: Any,
    name: str = "value",
    *,
    rtol: float = 1e-6,
    atol: float = 1e-8,
    hint: str = "",
    mistakes: Mapping[str, Any] | None = None,
) -> None:
    """Assert that ``got`` equals ``expected`` within ``atol + rtol * |expected|``.

    ``mistakes`` maps the explanation of a common mistake to the value it produces: when
    ``got`` matches one (:func:`find_mistake`, the same tolerances but an rtol of at least
    1e-6), the message starts with
    that explanation, followed by where ``got`` differs. Otherwise the message names the
    shape mismatch, or the first differing index with the expected and the got value,
    the number of differing entries and the largest absolute error, followed by
    ``hint``.
    """
    got_arr = to_numpy(got)
    expected_arr = to_numpy(expected)
    suffix = f"\nHint: {hint}" if hint else ""
    if got_arr.shape == expected_arr.shape and got_arr.dtype != object:
        got_f = got_arr.astype(np.float64)
        expected_f = expected_arr.astype(np.float64)
        if _close(got_f, expected_f, rtol, atol):
            return
    # a mistake is recognized within rtol 1e-6 at least: a float32 mistake is still named
    mistake = find_mistake(got_arr, mistakes, expected=expected_arr, rtol=max(rtol, 1e-6),
                           atol=atol)
    if mistake is not None:
        raise CheckFailure(f"{mistake} ({_difference(got_arr, expected_arr, name, rtol, atol)})")
    if got_arr.shape != expected_arr.shape:
        raise CheckFailure(
            f"{name} has shape {got_arr.shape}, expected {expected_arr.shape}.{suffix}"
        )
    if got_arr.dtype == object:
        raise CheckFailure(f"{name} is not numeric (dtype object).{suffix}")
    nan_got = np.isnan(got_f)
    if nan_got.any() and not np.isnan(expected_f)[nan_got].all():
        first = tuple(int(i) for i in np.argwhere(nan_got & ~np.isnan(expected_f))[0])
        raise CheckFailure(
            f"{name} contains NaN at index {fmt_index(first)} where "
            f"{expected_f[first]:.6g} was expected ({int(nan_got.sum())} NaN entries). "
            f"Look for log(0), 0/0 or an overflowing exp.{suffix}"
        )
    ok = np.isclose(got_f, expected_f, rtol=rtol, atol=atol, equal_nan=True)
    bad = np.argwhere(~ok)
    first = tuple(int(i) for i in bad[0])
    abs_err = np.abs(np.nan_to_num(got_f - expected_f, nan=np.inf))
    where = f" at index {fmt_index(first)}" if got_arr.ndim else ""
    raise CheckFailure(
        f"{name} differs from the reference{where}: expected {expected_f[first]:.6g}, "
        f"got {got_f[first]:.6g}. {len(bad)} of {ok.size} entries differ "
        f"(largest absolute error {abs_err.max():.3g}; tolerance rtol={rtol:g}, "
        f"atol={atol:g}).{suffix}"
    )


def _difference(got: np.ndarray, expected: np.ndarray, name: str, rtol: float, atol: float
                ) -> str:
    """A short account of where ``got`` differs from ``expected``, after a named mistake."""
    if got.shape != expected.shape:
        return f"{name} has shape {got.shape}, expected {expected.shape}"
    got_f, expected_f = got.astype(np.float64), expected.astype(np.float64)
    differs = ~np.isclose(got_f, expected_f, rtol=rtol, atol=atol, equal_nan=True)
    if not differs.any():
        return name
    first = tuple(int(i) for i in np.argwhere(differs)[0])
    where = f" at {fmt_index(first)}" if got.ndim else ""
    return f"{name}{where}: expected {expected_f[first]:.6g}, got {got_f[first]:.6g}"
