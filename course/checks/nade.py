"""NADE in the tests: parameters in and out of the reference, and named mistakes.

Larochelle & Murray (2011), "The Neural Autoregressive Distribution Estimator", AISTATS,
eqs. (2)-(3): h_i = sigmoid(W[:, <i] x_<i + c) and p(x_i = 1 | x_<i) = sigmoid(b_i + V_i h_i).

- :func:`nade_from_numpy` builds :class:`course.models.NADE` holding given arrays, and
  :func:`to_reference` copies the ``W, c, V, b`` of a NADE written by a student into it, so
  that tests evaluate a student's parameters with the reference's ``log_prob``;
- :func:`random_nade_params` draws test parameters, :func:`load_params` copies them into
  a student's module;
- :func:`check_log_prob` (from :mod:`course.checks.distributions`) compares
  log-likelihoods with the reference and names the classic mistakes (a mean instead of a
  sum, a flipped sign, bits instead of nats, an unstable log-sigmoid);
- :func:`nade_mistakes` gives what NADE's common mistakes compute (h_i that sees x_i, a
  missing c, ...), for the checks' ``mistakes``.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

from course.checks.core import CheckFailure
from course.checks.distributions import check_log_prob
from course.models import NADE
from course.models.base import bernoulli_log_prob
from course.numeric import to_numpy

__all__ = [
    "SEES_X_I",
    "check_log_prob",
    "load_params",
    "nade_from_numpy",
    "nade_mistakes",
    "random_nade_params",
    "to_reference",
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
    :class:`course.checks.CheckFailure` naming it and the expected shape.
    """
    for name, value in zip("WcVb", (W, c, V, b), strict=True):
        target = getattr(module, name, None)
        value = np.asarray(to_numpy(value))
        if not isinstance(target, torch.Tensor):
            raise CheckFailure(
                f"The module has no tensor attribute {name}: store the parameters as "
                "nn.Parameter attributes self.W, self.c, self.V and self.b."
            )
        if tuple(target.shape) != value.shape:
            raise CheckFailure(
                f"module.{name} has shape {tuple(target.shape)}, expected {value.shape} "
                "(W is (d, n), c (d,), V (n, d), b (n,))."
            )
        with torch.no_grad():
            target.copy_(torch.as_tensor(value, dtype=target.dtype))
    return module


SEES_X_I = (
    "h_i sees x_i: a_i may add W[:, j] x_j for j < i only. Compute z_i from a_i BEFORE "
    "adding W[:, i] x_i (naive form: x[:, :i], not :i+1; cumsum: drop term i)."
)


def nade_mistakes(x: Any, W: Any, c: Any, V: Any, b: Any, *, output: str = "logits"
                  ) -> dict[str, np.ndarray]:
    """{explanation: what that mistake gives} for a binary NADE and a batch ``x`` (B, n).

    ``output`` is "logits" (B, n), "probs" (B, n) or "log_prob" (B,). Recognized: h_i
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
