"""NADE in the tests: parameters in and out of the reference, and named mistakes.

Larochelle & Murray (2011), "The Neural Autoregressive Distribution Estimator", AISTATS,
eqs. (2)-(3): h_i = sigmoid(W[:, <i] x_<i + c) and p(x_i = 1 | x_<i) = sigmoid(b_i + V_i h_i).

- :func:`nade_from_numpy` builds :class:`course.models.NADE` holding given arrays, and
  :func:`to_reference` copies the ``W, c, V, b`` of a NADE written by a student into it, so
  that tests evaluate a student's parameters with the reference's ``log_prob``;
- :func:`random_nade_params` draws test parameters, :func:`load_params` copies them into
  a student's module;
- :func:`nade_mistakes` gives what NADE's common mistakes compute (h_i that sees x_i, a
  missing c, ...), for the checks' ``mistakes``; :func:`count_mistakes` the wrong
  parameter counts;
- :func:`reference_log_prob`, :func:`reference_logits` and :func:`reference_probs` are
  the reference's answers for NumPy arrays (the hidden tests' stand-ins);
- :func:`visible_cases` stores, at release time, the inputs and expected values of the
  visible tests of assignment 03 (``course/expected/03-nade.json``): the students' kit
  has no reference.

This module exists only where grading runs; the released notebook imports none of it.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

from course.checks import chain_rule
from course.checks.autoregressive import naming_batch
from course.checks.core import CheckFailure
from course.checks.distributions import all_binary_states, all_states
from course.checks.inputs import load_parameters, random_binary
from course.expected import rounded
from course.models import NADE, counting
from course.models.base import bernoulli_log_prob
from course.numeric import to_numpy

__all__ = [
    "SEES_X_I",
    "count_mistakes",
    "load_params",
    "nade_from_numpy",
    "nade_mistakes",
    "random_nade_params",
    "reference_log_prob",
    "reference_logits",
    "reference_probs",
    "to_reference",
    "visible_cases",
]


def _as_tensor(value: Any, dtype: torch.dtype) -> torch.Tensor:
    if isinstance(value, torch.Tensor):
        return value.detach().to("cpu", dtype)
    return torch.as_tensor(np.asarray(value), dtype=dtype)


def nade_from_numpy(W: Any, c: Any, V: Any, b: Any, *, dtype: torch.dtype = torch.float64) -> NADE:
    """A reference :class:`NADE` holding ``W, c, V, b`` (arrays or tensors), in ``dtype``.

    Binary: ``W`` (d, n), ``c`` (d,), ``V`` (n, d), ``b`` (n,). Categorical with K values:
    ``W`` (d, n, K), ``c`` (d,), ``V`` (n, K, d), ``b`` (n, K). Shapes are checked, and a
    mismatch raises :class:`course.checks.CheckFailure` naming the parameter.
    """
    tensors = {name: _as_tensor(v, dtype) for name, v in zip("WcVb", (W, c, V, b), strict=True)}
    w = tensors["W"]
    if w.ndim not in (2, 3):
        raise CheckFailure(f"W must have shape (d, n) or (d, n, K), got {tuple(w.shape)}.")
    d, n = w.shape[:2]
    num_values = w.shape[2] if w.ndim == 3 else 2
    model = NADE(n, d, num_values=num_values).to(dtype)
    for name, tensor in tensors.items():
        target = getattr(model, name)
        if tuple(tensor.shape) != tuple(target.shape):
            raise CheckFailure(
                f"{name} has shape {tuple(tensor.shape)}, but a NADE with n={n}, d={d}"
                f"{f', K={num_values}' if num_values > 2 else ''} needs "
                f"{tuple(target.shape)} (W is (d, n), c (d,), V (n, d), b (n,))."
            )
        with torch.no_grad():
            target.copy_(tensor)
    return model


def to_reference(module: torch.nn.Module, *, dtype: torch.dtype = torch.float64) -> NADE:
    """Copy the parameters ``W, c, V, b`` of any NADE-like module into the reference.

    Tests evaluate a student's trained parameters with the reference ``log_prob``, so that
    a wrong ``log_prob`` cannot report a good likelihood. Missing attributes or wrong
    shapes raise :class:`course.checks.CheckFailure`.
    """
    missing = [name for name in "WcVb" if not isinstance(getattr(module, name, None), torch.Tensor)]
    if missing:
        raise CheckFailure(
            f"The module has no tensor attribute(s) {', '.join(missing)}: store the parameters "
            "as self.W (d, n), self.c (d,), self.V (n, d) and self.b (n,) (nn.Parameter)."
        )
    return nade_from_numpy(*(getattr(module, name) for name in "WcVb"), dtype=dtype)


def random_nade_params(
    n: int, d: int, *, seed: int, scale: float = 1.0, num_values: int = 2
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Random float64 ``(W, c, V, b)`` of a NADE, N(0, scale^2) entries.

    Binary: W (d, n), c (d,), V (n, d), b (n,); with ``num_values = K > 2``: W (d, n, K),
    c (d,), V (n, K, d), b (n, K). The values are rounded to float32, so that a float32
    module holds exactly the same numbers as a float64 one.
    """
    rng = np.random.default_rng(seed)
    if num_values > 2:
        k = num_values
        shapes: list[tuple[int, ...]] = [(d, n, k), (d,), (n, k, d), (n, k)]
    else:
        shapes = [(d, n), (d,), (n, d), (n,)]
    W, c, V, b = (
        (scale * rng.standard_normal(shape)).astype(np.float32).astype(np.float64)
        for shape in shapes
    )
    return W, c, V, b


def load_params(module: torch.nn.Module, W: Any, c: Any, V: Any, b: Any) -> torch.nn.Module:
    """Copy ``W, c, V, b`` into ``module.W`` ... ``module.b`` in place (keeping its dtype).

    Returns the module. A missing attribute or a wrong shape raises
    :class:`course.checks.CheckFailure` naming it and the expected shape
    (:func:`course.checks.load_parameters`).
    """
    return load_parameters(module, dict(zip("WcVb", (W, c, V, b), strict=True)),
                           hint=PARAMETER_SHAPES)


PARAMETER_SHAPES = "(NADE's parameters: W is (d, n), c (d,), V (n, d), b (n,).)"


def reference_log_prob(x: Any, W: Any, c: Any, V: Any, b: Any) -> np.ndarray:
    """log p(x) under the reference NADE holding (W, c, V, b), float64, as NumPy."""
    with torch.no_grad():
        return nade_from_numpy(W, c, V, b).log_prob(torch.as_tensor(np.asarray(x))).numpy()


def reference_logits(x: Any, W: Any, c: Any, V: Any, b: Any) -> np.ndarray:
    """Logits of p(x_i = 1 | x_<i) under the reference NADE, (B, n), as NumPy."""
    with torch.no_grad():
        return nade_from_numpy(W, c, V, b).logits(torch.as_tensor(np.asarray(x))).numpy()


def reference_probs(x: Any, W: Any, c: Any, V: Any, b: Any) -> np.ndarray:
    """p(x_i = 1 | x_<i) under the reference NADE, (B, n), as NumPy."""
    return torch.sigmoid(torch.as_tensor(reference_logits(x, W, c, V, b))).numpy()


def count_mistakes(n: int, d: int) -> dict[int, str]:
    """{wrong count: explanation} for the tied and the untied NADE with these n and d.

    The counting mistakes of :func:`course.checks.chain_rule.count_mistakes`, and a missing
    output bias b.
    """
    mistakes = {2 * n * d: "the n output biases b are missing: every conditional has its "
                "own b_i."}
    for tied in (True, False):
        mistakes.update(chain_rule.count_mistakes("count_nade", n, d, tied))
    return mistakes


SEES_X_I = (
    "h_i sees x_i: a_i may add W[:, j] x_j for j < i only. Compute z_i from a_i BEFORE "
    "adding W[:, i] x_i (naive form: x[:, :i], not :i+1; cumsum: drop term i)."
)


def nade_mistakes(x: Any, W: Any, c: Any, V: Any, b: Any, *, output: str = "logits"
                  ) -> dict[str, np.ndarray]:
    """{explanation: what that mistake gives} for a NADE and a batch ``x`` (B, n).

    ``output`` is "logits" (B, n), "probs" (B, n) or "log_prob" (B,); a categorical NADE
    (``W`` of shape (d, n, K)) has "logits" (B, n, K) only. Recognized: h_i
    that sees x_i (the update of a before z_i, an inclusive slice or cumsum), h_i that
    misses x_{i-1}, a missing c, a missing sigmoid on h, a missing b; for "probs" also
    logits returned instead of probabilities. Computed with the reference in float64.
    """
    model = nade_from_numpy(W, c, V, b)
    x_t = torch.as_tensor(np.asarray(to_numpy(x)), dtype=torch.float64)
    with torch.no_grad():
        terms = model._input_contributions(x_t)  # (B, n, d): W[:, j] x_j
        inclusive = torch.cumsum(terms, dim=1)
        exclusive = inclusive - terms
        previous = torch.cat([torch.zeros_like(terms[:, :1]), terms[:, :-1]], dim=1)
        logits = {
            SEES_X_I: model._output(torch.sigmoid(inclusive + model.c)),
            "h_i misses x_{i-1}: a_i adds W[:, j] x_j for ALL j < i, j = i - 1 included.":
                model._output(torch.sigmoid(exclusive - previous + model.c)),
            "c is missing: h_i = sigmoid(c + sum_{j<i} W[:, j] x_j), so h_0 = sigmoid(c).":
                model._output(torch.sigmoid(exclusive)),
            "h_i has no sigmoid: h_i = sigmoid(a_i), not a_i.": model._output(exclusive + model.c),
            "b is missing: z_i = b_i + V[i] . h_i.": model.logits(x_t) - model.b,
        }
        if output == "logits":
            return {text: z.numpy() for text, z in logits.items()}
        if output == "probs":
            probs = {text: torch.sigmoid(z).numpy() for text, z in logits.items()}
            probs["These are logits, not probabilities: apply sigmoid."] = model.logits(x_t).numpy()
            return probs
        if output == "log_prob":
            return {text: bernoulli_log_prob(z, x_t).numpy() for text, z in logits.items()}
    raise ValueError(f"output must be 'logits', 'probs' or 'log_prob', got {output!r}")


def _sees_x_i(x: np.ndarray, params: list[np.ndarray], output: str) -> dict[str, np.ndarray]:
    """The one mistake that breaks the autoregressive property: h_i that sees x_i."""
    return rounded({SEES_X_I: nade_mistakes(x, *params, output=output)[SEES_X_I]})


def _params(n: int, d: int, seed: int, scale: float = 1.0, num_values: int = 2
            ) -> list[np.ndarray]:
    """Test parameters with two decimals: short to store, exact in the stored file."""
    return [np.round(p, 2) for p in random_nade_params(n, d, seed=seed, scale=scale,
                                                       num_values=num_values)]


def _log_prob_case(n: int, d: int, seed: int, x: np.ndarray, *, scale: float = 1.0,
                   logits: bool = False, mistakes: bool = False) -> dict[str, Any]:
    params = _params(n, d, seed, scale)
    case = {"x": x, "params": params, "expected": reference_log_prob(x, *params)}
    if logits:
        case["logits"] = rounded(reference_logits(x, *params))  # only gates a test
    if mistakes:
        case["mistakes"] = rounded(nade_mistakes(x, *params, output="log_prob"))
    return case


def _categorical_cases() -> dict[str, Any]:
    gen = torch.Generator().manual_seed(40)
    logits = torch.randn(5, 3, 4, generator=gen, dtype=torch.float64)
    x = torch.randint(0, 4, (5, 3), generator=gen)
    logits = torch.round(logits, decimals=2)
    log_p = torch.log_softmax(logits, dim=-1).gather(-1, x.unsqueeze(-1)).squeeze(-1)
    over_pixels = torch.log_softmax(logits, dim=1).gather(-1, x.unsqueeze(-1)).squeeze(-1)
    params = _params(4, 3, 41, num_values=3)
    x_nade = np.array([[0, 2, 1, 1], [2, 0, 0, 1]])
    params2 = _params(2, 2, 42, num_values=3)
    states = all_states(2, 3)
    return {
        "categorical_log_prob": {"logits": logits, "x": x, "expected": log_p.sum(-1),
                                 "mistakes": rounded({
            "The softmax is taken over the pixels (dim=1): normalize over the K values of each "
            "pixel, the LAST axis (dim=-1).": over_pixels.sum(-1),
            "log p(x) is the MEAN over the pixels, not the sum: log p(x) is the SUM of the n "
            "log-conditionals.": log_p.mean(-1),
            "These are probabilities, not log-probabilities: take log_softmax, not softmax.":
                log_p.exp().sum(-1),
        })},
        "categorical_nade": {"x": x_nade, "params": params,
                             "expected": reference_logits(x_nade, *params),
                             "mistakes": rounded(nade_mistakes(x_nade, *params))},
        "categorical_states": {"x": states, "params": params2,
                               "expected": reference_logits(states, *params2)},
    }


def visible_cases() -> dict[str, Any]:
    """Inputs and expected values of the visible tests of assignment 03 (NADE).

    Each case holds its inputs (``x``, ``params`` = [W, c, V, b]), the reference's output
    (``expected``, and ``logits`` where a test needs them) and under ``mistakes``
    {explanation: what that mistake gives}. A check by
    :func:`course.checks.check_autoregressive` names mistakes on its own batch, stored as
    ``mistakes_x``.
    """
    cases: dict[str, Any] = {
        "naive_n1": _log_prob_case(1, 3, 0, np.array([[0.0], [1.0]]), mistakes=True),
        "naive": _log_prob_case(6, 4, 1, random_binary(5, 6, seed=2), mistakes=True),
        "naive_states": _log_prob_case(3, 4, 3, all_binary_states(3)),
        "tied_log_prob": _log_prob_case(10, 4, 6, random_binary(8, 10, seed=7), logits=True),
        "tied_log_prob_states": _log_prob_case(3, 4, 8, all_binary_states(3), logits=True),
        "tied_log_prob_large": _log_prob_case(8, 3, 9, random_binary(6, 8, seed=10),
                                              scale=30.0, logits=True),
        "module_states": _log_prob_case(3, 4, 22, all_binary_states(3)),
    }
    params, batch = _params(6, 4, 2), naming_batch(6)
    cases["tied_autoregressive"] = {
        "x": random_binary(3, 6, seed=3), "params": params, "mistakes_x": batch,
        "mistakes": _sees_x_i(batch, params, "probs")}
    params, x = _params(5, 3, 4), random_binary(4, 5, seed=5)
    cases["tied_conditionals"] = {
        "x": x, "params": params, "expected": reference_probs(x, *params),
        "mistakes": rounded(nade_mistakes(x, *params, output="probs"))}
    mistakes = count_mistakes(784, 500)
    cases["num_params"] = [
        {"n": 784, "d": 500, "tied": tied, "expected": counting.count_nade(784, 500, tied),
         "mistakes": {text: value for value, text in mistakes.items()}}
        for tied in (True, False)
    ]
    params, x, batch = _params(5, 3, 20), random_binary(4, 5, seed=21), naming_batch(5)
    cases["module_log_prob"] = {
        "x": x, "params": params, "logits": reference_logits(x, *params),
        "expected": reference_log_prob(x, *params),
        "mistakes": rounded(nade_mistakes(x, *params)), "mistakes_x": batch,
        "autoregressive_mistakes": _sees_x_i(batch, params, "logits")}
    params = _params(3, 4, 30, scale=2.0)
    cases["module_sample"] = {"params": params,
                              "probs": np.exp(reference_log_prob(all_binary_states(3), *params))}
    cases.update(_categorical_cases())
    return cases
