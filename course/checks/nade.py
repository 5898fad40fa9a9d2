"""NADE in the tests: parameters in and out of the reference, and named mistakes.

Larochelle & Murray (2011), "The Neural Autoregressive Distribution Estimator", AISTATS,
eqs. (2)-(3): h_i = sigmoid(W[:, <i] x_<i + c) and p(x_i = 1 | x_<i) = sigmoid(b_i + V_i h_i).

- :func:`nade_from_numpy` builds :class:`course.models.NADE` holding given arrays, and
  :func:`to_reference` copies the ``W, c, V, b`` of a NADE written by a student into it, so
  that tests evaluate a student's parameters with the reference's ``log_prob``;
- :func:`random_nade_params` draws test parameters, :func:`load_params` copies them into
  a student's module;
- :func:`check_log_prob` compares log-likelihoods with the reference and names the
  classic mistakes (a mean instead of a sum, a flipped sign, bits instead of nats, an
  unstable log-sigmoid).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

from course.checks.core import CheckFailure, assert_close
from course.models import NADE
from course.numeric import to_numpy

__all__ = [
    "check_log_prob",
    "load_params",
    "nade_from_numpy",
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


def check_log_prob(
    got: Any,
    expected: Any,
    name: str,
    *,
    num_dims: int,
    rtol: float = 1e-9,
    atol: float = 1e-9,
    hint: str = "",
) -> None:
    """Compare log p(x) per example with the reference; name the classic mistakes.

    Recognized: one value per dimension instead of per example, non-finite values (an
    unstable log-sigmoid), a mean over the ``num_dims`` dimensions instead of a sum, a
    flipped sign, and bits instead of nats. Otherwise :func:`course.checks.assert_close`
    reports the first differing example with ``hint``. Raises
    :class:`course.checks.CheckFailure`.
    """
    got_arr = np.asarray(to_numpy(got), dtype=np.float64)
    expected_arr = np.asarray(to_numpy(expected), dtype=np.float64)
    if got_arr.shape != expected_arr.shape:
        why = (
            " It looks like one value per dimension: sum over the dimensions (axis 1)."
            if got_arr.shape == expected_arr.shape + (num_dims,)
            else ""
        )
        raise CheckFailure(
            f"{name} has shape {got_arr.shape}, expected {expected_arr.shape}: one "
            f"log-probability per example (row of x).{why}"
        )
    if not np.isfinite(got_arr).all():
        bad = int(np.argwhere(~np.isfinite(got_arr))[0, 0])
        raise CheckFailure(
            f"{name} is {got_arr[bad]} for example {bad}, where the reference gives "
            f"{expected_arr[bad]:.6g}. log(sigmoid(z)) underflows to log(0) = -inf for large "
            "|z|: use log p = x z - softplus(z), with softplus(z) = np.logaddexp(0, z) "
            "(torch: F.softplus or F.binary_cross_entropy_with_logits)."
        )

    def close(candidate: np.ndarray) -> bool:
        return bool(np.allclose(candidate, expected_arr, rtol=rtol, atol=atol))

    if not close(got_arr):
        mistakes = [
            (
                num_dims > 1,
                got_arr * num_dims,
                "is the MEAN over the dimensions: log p(x) is the SUM of the n log-conditionals.",
            ),
            (True, -got_arr, "has the wrong sign: a log-probability is <= 0."),
            (True, got_arr * np.log(2.0), "is in bits: use the natural log (nats)."),
        ]
        for applies, candidate, why in mistakes:
            if applies and np.abs(expected_arr).max() > 1e-6 and close(candidate):
                raise CheckFailure(f"{name} {why}")
    assert_close(got_arr, expected_arr, name, rtol=rtol, atol=atol, hint=hint)
