"""Student-facing checks with messages that point at the bug.

Every assignment's visible and hidden tests call these. Each check raises
:class:`CheckFailure` (an ``AssertionError``, so nbgrader counts it as a failed test)
whose message names *what* is wrong, *where*, and gives a hint, instead of a bare
``AssertionError``. The generic checks, one module per kind:

- ``core``: :func:`assert_close` compares with a reference (first differing index,
  expected and got values, how many entries differ) and, given ``mistakes`` {explanation:
  the value that mistake gives}, starts its message with the mistake that the value
  matches (:func:`find_mistake`);
- ``gradients``: the central finite-difference gradient check (CS231n's thresholds);
- ``distributions``: enumerate every state of a tiny model (:func:`check_distribution`),
  test samples against the exact probabilities (:func:`check_samples`), check that the
  generator passed in decides the samples (:func:`check_uses_generator`), compare
  log-likelihoods naming the classic mistakes (:func:`check_log_prob`);
- ``autoregressive``: :func:`check_autoregressive` finds, by perturbing one input at a
  time, any output that depends on an input that is not earlier in the ordering;
- ``counts``: :func:`check_count` for exact parameter counts;
- ``inputs``: seeded test inputs, and :func:`load_parameters` (stored parameters into a
  student's module);
- ``stand_ins``: :func:`standing_in` grades one function on its own, with references
  standing in for the student's other functions.

Topic modules (``course.checks.chain_rule``, ``fvsbn``, ``nade``, ``made``) hold each topic's
mistake explainers and the helpers that put a student's parameters into a reference.
``course.checks.pixelcnn`` (topic 06) computes receptive fields and blind spots, checks
that a masked convolution is causal and names the mistakes of masks and gated stacks.
``course.checks.pca`` (topic 07) compares subspaces through principal angles and names the
mistakes of PCA, principal angles and probabilistic PCA.
"""

from course.checks.autoregressive import check_autoregressive, dependency_matrix, first_violation
from course.checks.core import CheckFailure, assert_close, find_mistake
from course.checks.counts import check_count, format_count
from course.checks.distributions import (
    all_binary_states,
    all_states,
    check_distribution,
    check_log_prob,
    check_samples,
    check_uses_generator,
)
from course.checks.gradients import check_gradient, gradient_relative_error, numerical_gradient
from course.checks.inputs import load_parameters, random_binary, randomize_parameters
from course.checks.stand_ins import standing_in

__all__ = [
    "CheckFailure",
    "all_binary_states",
    "all_states",
    "assert_close",
    "check_autoregressive",
    "check_count",
    "check_distribution",
    "check_gradient",
    "check_log_prob",
    "check_samples",
    "check_uses_generator",
    "dependency_matrix",
    "find_mistake",
    "first_violation",
    "format_count",
    "gradient_relative_error",
    "load_parameters",
    "numerical_gradient",
    "random_binary",
    "randomize_parameters",
    "standing_in",
]
