"""The base of every check: :class:`CheckFailure` and :func:`assert_close`.

Every check raises :class:`CheckFailure`, an ``AssertionError`` (so nbgrader counts it as
a failed test), whose message names *what* is wrong, *where*, and gives a hint.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from course.numeric import to_numpy

__all__ = ["CheckFailure", "assert_close", "fmt_index"]


class CheckFailure(AssertionError):
    """A check failed; the message says what is wrong and how to look for the bug."""



def fmt_index(index: tuple[int, ...]) -> str:
    """``(3, 1)`` -> ``"[3, 1]"``."""
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
    got_arr = to_numpy(got)
    expected_arr = to_numpy(expected)
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
            f"{name} contains NaN at index {fmt_index(first)} where "
            f"{expected_f[first]:.6g} was expected ({int(nan_got.sum())} NaN entries). "
            f"Look for log(0), 0/0 or an overflowing exp.{suffix}"
        )
    ok = np.isclose(got_f, expected_f, rtol=rtol, atol=atol, equal_nan=True)
    if ok.all():
        return
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
