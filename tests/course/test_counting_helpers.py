"""course.counting helpers for notebooks: check_count and format_count."""

from __future__ import annotations

import numpy as np
import pytest

from course.checks import CheckFailure, check_count, format_count
from course.models.counting import count_joint_table


@pytest.mark.parametrize(
    "value,text",
    [
        (0, "0"),
        (307_720, "307,720"),
        (10**12 - 1, "999,999,999,999"),
        (10**12, "1.00e+12 (13 digits)"),
        (10**300 - 1, "9.99e+299 (300 digits)"),
        (2**784 - 1, "1.01e+236 (237 digits)"),
        (-(10**20), "-1.00e+20 (21 digits)"),
    ],
)
def test_format_count_is_exact_for_any_size(value: int, text: str) -> None:
    assert format_count(value) == text


def test_format_count_beyond_float_and_str_limits() -> None:
    assert format_count(16**5000).endswith("(6021 digits)")


def test_check_count_accepts_exact_python_ints() -> None:
    check_count(count_joint_table(784, 2), 2**784 - 1, "count_joint_table(784, 2)")


@pytest.mark.parametrize(
    "got,needle",
    [
        (np.int64(7), "NumPy integers have 64 bits"),
        (7.0, "floats round"),
        (np.float64(7.0), "floats round"),
        (True, "return a Python int"),
        ("7", "return a Python int"),
    ],
)
def test_check_count_rejects_non_ints_even_with_the_right_value(got: object, needle: str) -> None:
    with pytest.raises(CheckFailure, match=needle):
        check_count(got, 7, "f(3)")


def test_check_count_names_the_call_the_values_and_the_known_mistake() -> None:
    with pytest.raises(CheckFailure) as info:
        check_count(8, 7, "count_joint_table(3, 2)", hint="generic", mistakes={8: "not free"})
    message = str(info.value)
    assert message.startswith("Not free (count_joint_table(3, 2) returned 8, expected 7, off by 1)")
    with pytest.raises(CheckFailure, match="Hint: generic"):
        check_count(9, 7, "f()", hint="generic", mistakes={8: "not free"})
