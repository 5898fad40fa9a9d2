"""The chain rule in the tests: the mistakes of counting, conditioning and sampling.

Assignment 01 counts the free parameters of factorizations (a categorical over k values
has k - 1), computes the conditionals p(x_i | x_<i) of a joint table and samples from
them. Each function here gives the values that common mistakes produce, for the checks'
``mistakes`` arguments, so that a message names the mistake:

- :func:`count_mistakes`: {wrong count: explanation} for :func:`course.checks.check_count`;
- :func:`conditionals_mistakes` and :func:`explain_conditionals`: conditionals normalized
  over the wrong axis, not divided by p(x_<i), NaN or 0 where p(x_<i) = 0;
- :func:`sample_mistakes`: the distributions a wrong ancestral sampler draws from;
- :func:`reference_conditionals` and :func:`reference_joint`: the chain rule both ways,
  the references of the hidden tests;
- :func:`visible_cases`: the visible tests' inputs, expected values and mistakes, stored
  at release time in ``course/expected/01-chain-rule.json`` (``course.expected``), since
  this module does not ship to students.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from course.checks.core import find_mistake
from course.models import counting

__all__ = [
    "conditionals_mistakes",
    "count_mistakes",
    "explain_conditionals",
    "reference_conditionals",
    "reference_joint",
    "sample_mistakes",
    "visible_cases",
]

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


def reference_conditionals(joint: Any) -> list[np.ndarray]:
    """The chain-rule conditionals of a joint of shape (k,) * n: conds[i][x_0, ..., x_i] =
    p(x_0..x_i) / p(x_<i), uniform (1 / k) where p(x_<i) = 0."""
    joint = np.asarray(joint, dtype=np.float64)
    n, k = joint.ndim, joint.shape[0]
    out = []
    for i in range(n):
        marginal = joint.sum(axis=tuple(range(i + 1, n)))  # p(x_0, ..., x_i)
        prefix = marginal.sum(axis=-1, keepdims=True)  # p(x_<i)
        out.append(np.where(prefix > 0, marginal / np.where(prefix > 0, prefix, 1.0), 1.0 / k))
    return out


def reference_joint(conds: Sequence[Any]) -> np.ndarray:
    """The chain rule: p(x) = prod_i p(x_i | x_<i) for all k**n states, shape (k,) * n."""
    joint = np.asarray(conds[0], dtype=np.float64)
    for cond in conds[1:]:
        joint = joint[..., np.newaxis] * np.asarray(cond, dtype=np.float64)
    return joint


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


def sample_mistakes(conds: Sequence[Any]) -> dict[str, np.ndarray]:
    """{explanation: probabilities of every state} that a wrong ancestral sampler draws from.

    The probabilities are in the order of :func:`course.checks.all_states`, for
    :func:`course.checks.check_samples`' ``mistakes``.
    """
    conds = [np.asarray(c, dtype=np.float64) for c in conds]
    n = len(conds)
    joint = reference_joint(conds)
    marginals = [joint.sum(axis=tuple(j for j in range(n) if j != i)) for i in range(n)]
    independent = reference_joint(marginals)
    at_zero = reference_joint([c[(0,) * i] for i, c in enumerate(conds)])
    reversed_values = reference_joint([c[..., ::-1] for c in conds])
    unused = ("The values already drawn are not used: x_i must come from conds[i] at the "
              "x_<i of the same sample, conds[i][x_0, ..., x_{i-1}]")
    return {
        "The comparison is the wrong way round: x_i takes the values in reverse order. "
        "With u uniform on [0, 1), x_i is the number of j with u >= P(x_i <= j) (binary: "
        "x_i = 1 when u < p(x_i = 1 | x_<i)).": reversed_values.ravel(),
        f"{unused} (here x_i follows its marginal p(x_i)).": independent.ravel(),
        f"{unused} (here x_i follows p(x_i | x_<i = 0)).": at_zero.ravel(),
    }


# --- the visible tests' cases ---------------------------------------------------------

# the counts the visible tests ask for: (function of course.models.counting, its arguments)
VISIBLE_COUNTS: tuple[tuple[str, tuple[Any, ...]], ...] = (
    ("count_joint_table", (3, 2)), ("count_chain_rule", (3, 2)), ("count_independent", (3, 2)),
    ("count_joint_table", (2, 3)), ("count_chain_rule", (2, 3)), ("count_independent", (2, 3)),
    ("count_markov", (3, 2, 1)), ("count_markov", (4, 2, 2)), ("count_markov", (3, 3, 1)),
    ("count_markov", (3, 2, 0)), ("count_markov", (3, 2, 5)),
    ("count_fvsbn", (3,)), ("count_fvsbn", (1,)),
    ("count_nade", (3, 2, True)), ("count_nade", (1, 5, True)),
    ("count_nade", (3, 2, False)), ("count_nade", (1, 5, False)),
    ("count_latent_variable", (3, 2, 2)), ("count_latent_variable", (2, 3, 4)),
    ("count_latent_variable", (5, 2, 1)),
)


def count_call(function: str, args: tuple[Any, ...]) -> str:
    """How a visible test writes the call, e.g. ``count_nade(3, 2, tied=True)``."""
    shown = [repr(a) for a in args]
    if function == "count_nade" and len(args) > 2:
        shown[2] = f"tied={args[2]!r}"
    return f"{function}({', '.join(shown)})"


def _random_conditionals(n: int, k: int, seed: int) -> list[np.ndarray]:
    """The notebook's random_conditionals(n, k, np.random.default_rng(seed))."""
    rng = np.random.default_rng(seed)
    return [rng.dirichlet(np.ones(k), size=(k,) * i) for i in range(n)]


def _sample_case(conds: list[np.ndarray]) -> dict[str, Any]:
    return {"conds": conds, "probs": reference_joint(conds).ravel(),
            "mistakes": sample_mistakes(conds)}


def visible_cases() -> dict[str, Any]:
    """The cases of assignment 01's visible tests (``load_expected("01-chain-rule")``).

    - ``counts``: {call: {"expected": the count, "mistakes": [[wrong count, explanation],
      ...]}} for every call of :data:`VISIBLE_COUNTS` (``dict(case["mistakes"])`` is
      :func:`course.checks.check_count`'s ``mistakes``);
    - ``conditionals``: a joint over 3 binary variables (the notebook's
      ``random_joint(3, 2, np.random.default_rng(0))``), its conditionals, and for each
      conds[i] {explanation: what a common mistake gives};
    - ``sample_binary``, ``sample_categorical``: conditionals (n = 3, k = 2 and n = 2,
      k = 3), the probabilities of every state (in the order of
      :func:`course.checks.all_states`) and {explanation: the probabilities a wrong
      ancestral sampler draws from}.
    """
    counts = {}
    for function, args in VISIBLE_COUNTS:
        mistakes = count_mistakes(function, *args)
        counts[count_call(function, args)] = {
            "expected": getattr(counting, function)(*args),
            "mistakes": [[value, why] for value, why in mistakes.items()],
        }
    joint = np.random.default_rng(0).dirichlet(np.ones(2**3)).reshape((2,) * 3)
    return {
        "counts": counts,
        "conditionals": {"joint": joint, "expected": reference_conditionals(joint),
                         "mistakes": conditionals_mistakes(joint)},
        "sample_binary": _sample_case(_random_conditionals(3, 2, seed=2)),
        "sample_categorical": _sample_case(_random_conditionals(2, 3, seed=7)),
    }
