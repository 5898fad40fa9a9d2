"""The chain rule in the tests: the mistakes of counting, conditioning and sampling.

Assignment 01 counts the free parameters of factorizations (a categorical over k values
has k - 1), computes the conditionals p(x_i | x_<i) of a joint table and samples from
them. Each function here gives the values that common mistakes produce, for the checks'
``mistakes`` arguments, so that a message names the mistake:

- :func:`count_mistakes`: {wrong count: explanation} for :func:`course.checks.check_count`;
- :func:`conditionals_mistakes` and :func:`explain_conditionals`: conditionals normalized
  over the wrong axis, not divided by p(x_<i), NaN or 0 where p(x_<i) = 0;
- :func:`sample_mistakes`: the distributions a wrong ancestral sampler draws from.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from course.checks.core import find_mistake

__all__ = ["conditionals_mistakes", "count_mistakes", "explain_conditionals", "sample_mistakes"]

K_ENTRIES = ("k entries were counted per distribution, but they sum to 1: a categorical over "
             "k values has k - 1 free parameters.")
ONE_PER_ROW = ("one parameter was counted per distribution, as if k = 2: a categorical over k "
               "values has k - 1 free parameters.")
_LAST_FREE = "the k**n probabilities sum to 1: the last one is not free (k**n - 1)."
_EXPONENT = ("the exponent is off by one: x_i (i = 0..n-1) has a table with k**i rows, one "
             "per value of x_0..x_{i-1}; x_0's table has a single row.")
_FEWER = "x_i has only min(i, m) predecessors: x_0 has none, x_1 has one, and so on."
_WEIGHTS = "p(h) is a categorical over |h| values: |h| - 1 free parameters."


def count_mistakes(function: str, *args: Any) -> dict[int, str]:
    """{wrong count: explanation} of common mistakes for the count ``function(*args)``.

    ``function`` is the name of a function of :mod:`course.models.counting`, ``args`` its
    arguments: ``count_joint_table(n, k)``, ``count_chain_rule(n, k)``,
    ``count_independent(n, k)``, ``count_markov(n, k, m)``,
    ``count_latent_variable(n, k, num_latent_states)``, ``count_fvsbn(n)``,
    ``count_nade(n, d, tied)``, with the same defaults. A value that two mistakes give
    keeps the first one's explanation; :func:`course.checks.check_count` ignores a
    mistake whose value is the right count.
    """
    n = args[0]
    k = args[1] if len(args) > 1 else 2
    candidates: list[tuple[int, str]] = []
    if function == "count_joint_table":
        candidates = [(k**n, _LAST_FREE)]
    elif function == "count_chain_rule":
        rows = sum(k**i for i in range(n))
        candidates = [(k * rows, K_ENTRIES), (rows, ONE_PER_ROW), (k * (k**n - 1), _EXPONENT)]
    elif function == "count_independent":
        candidates = [(n * k, K_ENTRIES), (n, ONE_PER_ROW)]
    elif function == "count_markov":
        m = args[2] if len(args) > 2 else 1
        rows = sum(k ** min(i, m) for i in range(n))
        candidates = [(k * rows, K_ENTRIES), (rows, ONE_PER_ROW),
                      (n * k**m * (k - 1), _FEWER)]
    elif function == "count_latent_variable":
        h = args[2] if len(args) > 2 else 2
        candidates = [
            ((h - 1) + h * n * k, K_ENTRIES),
            (h + h * n * (k - 1), _WEIGHTS),
            (h * n * (k - 1), "p(h) is missing: its |h| - 1 free parameters count too."),
            (h + h * n * k, f"{_WEIGHTS} And {K_ENTRIES}"),
            ((h - 1) + h * n, ONE_PER_ROW),
        ]
    elif function == "count_fvsbn":
        candidates = [
            (n * (n - 1) // 2, "the biases are missing: every conditional has its own b_i."),
            (n * (n + 1) // 2 + n, "the diagonal of W was counted: x_i does not see itself."),
            (n * n + n, "all of W was counted: it is strictly lower triangular, x_i sees x_<i."),
            (n * n, "all of W was counted, and no biases: W is strictly lower triangular, and "
                    "every conditional has its own b_i."),
        ]
    elif function == "count_nade":
        d, tied = args[1], args[2] if len(args) > 2 else True
        if tied:
            candidates = [
                (2 * n * d + d + n, "all n columns of W were counted, but the last one "
                 "multiplies x_{n-1}, which is no conditional's input: W contributes d (n - 1)."),
                (2 * n * d - d + n, "c is missing: the hidden units have d biases."),
            ]
        else:
            candidates = [
                (d * n * n + 2 * d * n + n, "A_i has i columns (one per variable of x_<i), "
                 "not n."),
                (d * n * (n + 1) // 2 + 2 * d * n + n, "A_i has i columns: x_i is not an input "
                 "of its own conditional."),
                (d * n * (n - 1) // 2 + d * n + d + n, "untied means every conditional has "
                 "its own c_i too."),
            ]
    else:
        raise ValueError(f"no mistakes known for {function!r}")
    mistakes: dict[int, str] = {}
    for value, explanation in candidates:
        mistakes.setdefault(value, explanation)
    return mistakes


def conditionals_mistakes(joint: Any) -> list[dict[str, np.ndarray]]:
    """For each i, {explanation: the conds[i] that mistake gives} for a joint (k,) * n."""
    joint = np.asarray(joint, dtype=np.float64)
    n, k = joint.ndim, joint.shape[0]
    out = []
    with np.errstate(divide="ignore", invalid="ignore"):
        for i in range(n):
            marginal = joint.sum(axis=tuple(range(i + 1, n)))  # p(x_0, ..., x_i)
            prefix = marginal.sum(axis=-1, keepdims=True)  # p(x_<i)
            mistakes: dict[str, np.ndarray] = {}
            if i > 0:
                mistakes[f"conds[{i}] is normalized over the wrong axis: p(x_{i} | x_<{i}) "
                         f"sums to 1 over x_{i}, the LAST axis (axis=-1, keepdims=True)."] = (
                    marginal / marginal.sum(axis=0, keepdims=True))
                mistakes[f"conds[{i}] is the joint p(x_0, ..., x_{i}), not divided by "
                         f"p(x_<{i}): p(x_{i} | x_<{i}) = p(x_0, ..., x_{i}) / p(x_<{i})."] = (
                    marginal)
            if (prefix == 0).any():
                uniform = f"there the conditional is uniform, 1 / k = 1 / {k}."
                mistakes[f"conds[{i}] is NaN where p(x_<{i}) = 0 (0 / 0): {uniform}"] = (
                    marginal / prefix)
                mistakes[f"conds[{i}] is 0 where p(x_<{i}) = 0: {uniform}"] = np.where(
                    prefix > 0, marginal / np.where(prefix > 0, prefix, 1.0), 0.0)
            out.append(mistakes)
    return out


def explain_conditionals(got: Any, joint: Any, *, rtol: float = 1e-6, atol: float = 1e-9
                         ) -> str | None:
    """The explanation of the first common mistake that ``got`` (a list of conditionals)
    matches, or None (also when ``got`` is not a list of the right length)."""
    mistakes = conditionals_mistakes(joint)
    if not isinstance(got, list | tuple) or len(got) != len(mistakes):
        return None
    for cond, candidates in zip(got, mistakes, strict=True):
        try:
            found = find_mistake(cond, candidates, rtol=rtol, atol=atol)
        except Exception:  # noqa: BLE001 - a ragged student value: nothing to explain
            found = None
        if found is not None:
            return found
    return None


def _chain_joint(conds: Sequence[np.ndarray]) -> np.ndarray:
    joint = np.asarray(conds[0], dtype=np.float64)
    for cond in conds[1:]:
        joint = joint[..., np.newaxis] * np.asarray(cond, dtype=np.float64)
    return joint


def sample_mistakes(conds: Sequence[Any]) -> dict[str, np.ndarray]:
    """{explanation: probabilities of every state} that a wrong ancestral sampler draws from.

    The probabilities are in the order of :func:`course.checks.all_states`, for
    :func:`course.checks.check_samples`' ``mistakes``.
    """
    conds = [np.asarray(c, dtype=np.float64) for c in conds]
    n = len(conds)
    joint = _chain_joint(conds)
    marginals = [joint.sum(axis=tuple(j for j in range(n) if j != i)) for i in range(n)]
    independent = _chain_joint(marginals)
    at_zero = _chain_joint([c[(0,) * i] for i, c in enumerate(conds)])
    unused = ("The values already drawn are not used: x_i must come from conds[i] at the "
              "x_<i of the same sample, conds[i][x_0, ..., x_{i-1}]")
    return {
        "The comparison is the wrong way round: x_i takes the values in reverse order. "
        "With u uniform on [0, 1), x_i is the number of j with u >= P(x_i <= j) (binary: "
        "x_i = 1 when u < p(x_i = 1 | x_<i)).": _chain_joint([c[..., ::-1] for c in conds]
                                                             ).ravel(),
        f"{unused} (here x_i follows its marginal p(x_i)).": independent.ravel(),
        f"{unused} (here x_i follows p(x_i | x_<i = 0)).": at_zero.ravel(),
    }
