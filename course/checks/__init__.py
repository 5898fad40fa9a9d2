"""Student-facing checks with messages that point at the bug.

Every assignment's visible and hidden tests call these. Each check raises
:class:`CheckFailure` (an ``AssertionError``, so nbgrader counts it as a failed test)
whose message names *what* is wrong, *where*, and gives a hint, instead of a bare
``AssertionError``. The generic checks, one module per kind:

- ``core``: :func:`assert_close` compares with a reference (first differing index,
  expected and got values, how many entries differ);
- ``gradients``: the central finite-difference gradient check (CS231n's thresholds);
- ``distributions``: enumerate every state of a tiny model (:func:`check_distribution`)
  and test samples against the exact probabilities (:func:`check_samples`);
- ``autoregressive``: :func:`check_autoregressive` finds, by perturbing one input at a
  time, any output that depends on an input that is not earlier in the ordering;
- ``counts``: :func:`check_count` for exact parameter counts;
- ``inputs``: seeded test inputs.

Topic modules (``course.checks.nade``, ``course.checks.made``, ...) hold each topic's
mistake explainers and the helpers that put a student's parameters into a reference.
"""

from course.checks.autoregressive import check_autoregressive, dependency_matrix, first_violation
from course.checks.core import CheckFailure, assert_close
from course.checks.counts import check_count, format_count
from course.checks.distributions import (
    all_binary_states,
    all_states,
    check_distribution,
    check_samples,
)
from course.checks.gradients import check_gradient, gradient_relative_error, numerical_gradient
from course.checks.inputs import random_binary, randomize_parameters

__all__ = [
    "CheckFailure",
    "all_binary_states",
    "all_states",
    "assert_close",
    "check_autoregressive",
    "check_count",
    "check_distribution",
    "check_gradient",
    "check_samples",
    "dependency_matrix",
    "first_violation",
    "format_count",
    "gradient_relative_error",
    "numerical_gradient",
    "random_binary",
    "randomize_parameters",
]
