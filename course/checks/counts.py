"""Checking a parameter count: an exact Python int, with named mistakes.

:func:`check_count` is the assignments' test for a student's count (exact value *and*
Python int: a NumPy integer wraps around past 2**63, a float rounds); :func:`format_count`
prints a count, however large, as a short readable string.
"""

from __future__ import annotations

import math
from collections.abc import Mapping

from course.checks.core import CheckFailure

__all__ = ["check_count", "format_count"]


def format_count(count: int) -> str:
    """A count as a short string: ``1,234,567``, or ``1.01e+236 (237 digits)`` when huge.

    Exact for ints of any size: the mantissa is truncated, never rounded through a float
    (floats overflow past 1.8e308).
    """
    count = int(count)
    if abs(count) < 10**12:
        return f"{count:,}"
    size = abs(count)
    exponent = math.floor(math.log10(size))  # log10 accepts ints of any size
    if 10**exponent > size:  # log10 rounded up just below a power of ten
        exponent -= 1
    elif 10 ** (exponent + 1) <= size:
        exponent += 1
    mantissa = str(size // 10 ** (exponent - 2))
    sign = "-" if count < 0 else ""
    return f"{sign}{mantissa[0]}.{mantissa[1:]}e+{exponent} ({exponent + 1} digits)"


def _describe(value: object) -> str:
    if isinstance(value, int) and not isinstance(value, bool):
        return format_count(value)
    return repr(value)


def check_count(
    got: object,
    expected: int,
    call: str,
    *,
    hint: str = "",
    mistakes: Mapping[int, str] | None = None,
) -> None:
    """Assert that the count ``got``, returned by ``call``, is exactly ``expected``.

    A count must be a Python ``int``: a NumPy integer silently wraps around past 2**63
    and a float rounds (and overflows to inf past 1.8e308), so both fail with a message
    that says so, even when the value happens to be right. ``mistakes`` maps the wrong
    value a known mistake produces to an explanation of that mistake, which then starts
    the message; ``hint`` is shown for any other wrong value. Raises :class:`CheckFailure`.
    """
    if isinstance(got, bool) or not isinstance(got, int):
        module = type(got).__module__
        kind = type(got).__name__ if module == "builtins" else f"{module}.{type(got).__name__}"
        if module == "numpy" and "int" in type(got).__name__:
            why = (
                "NumPy integers have 64 bits and silently wrap around: 2**784 does not fit. "
                "Use Python ints (int ** int, sum() and math.prod() are exact)."
            )
        elif isinstance(got, float) or "float" in type(got).__name__:
            why = (
                "floats round large counts and overflow to inf past 1.8e308. Use integer "
                "arithmetic: // instead of /, and ** on ints."
            )
        else:
            why = "return a Python int."
        raise CheckFailure(f"{call} returned {_describe(got)} of type {kind}, not an int: {why}")
    if got == expected:
        return
    returned = f"{call} returned {_describe(got)}, expected {_describe(expected)}"
    off_by = format_count(got - expected)
    mistake = (mistakes or {}).get(got)
    if mistake:  # the name of the mistake first: long messages get cut at the end
        raise CheckFailure(f"{mistake[0].upper()}{mistake[1:]} ({returned}, off by {off_by}).")
    suffix = f"\nHint: {hint}" if hint else ""
    raise CheckFailure(f"{returned} (off by {off_by}).{suffix}")
