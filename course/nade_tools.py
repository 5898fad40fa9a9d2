"""NADE made visible and testable: parameters in and out of the reference, weight sharing.

Larochelle & Murray (2011), "The Neural Autoregressive Distribution Estimator", AISTATS,
eqs. (2)-(3): h_i = sigmoid(W[:, <i] x_<i + c) and p(x_i = 1 | x_<i) = sigmoid(b_i + V_i h_i).
Every conditional reads a *slice* of the same W (weight tying); an untied model gives
conditional i its own matrix A_i instead.

- :func:`nade_from_numpy` builds :class:`course.models.NADE` holding given arrays, and
  :func:`to_reference` copies the ``W, c, V, b`` of a NADE written by a student into it, so
  that tests evaluate a student's parameters with the reference's ``log_prob``;
- :func:`random_nade_params` draws test parameters, :func:`load_params` copies them into
  a student's module, and :func:`check_log_prob` compares log-likelihoods with the
  reference and names the classic mistakes (a mean instead of a sum, a flipped sign, bits
  instead of nats, an unstable log-sigmoid);
- :func:`untie` turns a tied NADE into the :class:`course.models.UntiedNADE` that computes
  the same distribution with every A_i = W (the O(n^2 d) "from scratch" computation);
- :func:`logit_of_means` gives the bias that makes a model start as independent pixels;
- :func:`all_states` and :func:`check_categorical_distribution` enumerate the K^n states
  of a tiny categorical model (``course.checks.check_distribution`` covers K = 2);
- :func:`plot_weight_sharing` draws the untied A_i next to the tied slices W[:, <i],
  coloured so that one colour is one number.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import matplotlib.pyplot as plt
import numpy as np
import torch
from matplotlib.colors import hsv_to_rgb
from matplotlib.figure import Figure

from course.checks import CheckFailure, all_states, assert_close, check_distribution
from course.models import NADE, UntiedNADE

__all__ = [
    "all_states",
    "check_categorical_distribution",
    "check_log_prob",
    "load_params",
    "logit_of_means",
    "nade_from_numpy",
    "plot_weight_sharing",
    "random_nade_params",
    "to_reference",
    "untie",
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
        value = np.asarray(_numpy(value))
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
    got_arr = np.asarray(_numpy(got), dtype=np.float64)
    expected_arr = np.asarray(_numpy(expected), dtype=np.float64)
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


def untie(model: NADE) -> UntiedNADE:
    """The :class:`UntiedNADE` with A_i = W and c_i = c for every i: the same distribution.

    Its ``log_prob`` computes every h_i from scratch (O(n^2 d)), the tied one reuses the
    running pre-activation (O(nd)); comparing their run times shows what tying buys.
    """
    if model.categorical:
        raise ValueError("untie supports binary NADEs only (num_values = 2)")
    untied = UntiedNADE(model.n, model.d).to(model.W.dtype)
    with torch.no_grad():
        untied.A.copy_(model.W.detach().unsqueeze(0).expand(model.n, -1, -1))
        untied.c.copy_(model.c.detach().expand(model.n, -1))
        untied.V.copy_(model.V.detach())
        untied.b.copy_(model.b.detach())
    return untied.to(model.W.device)


def logit_of_means(x: Any, eps: float = 1e-3) -> np.ndarray:
    """log(p / (1 - p)) of every column's mean p, clipped to [eps, 1 - eps]: shape (n,).

    With zero weights this bias makes a model start as independent Bernoulli pixels that
    match the data's marginals; the clipping keeps never-inked border pixels finite.
    """
    p = np.clip(np.asarray(x, dtype=np.float64).mean(axis=0), eps, 1 - eps)
    return np.log(p) - np.log1p(-p)


def check_categorical_distribution(
    log_prob: Callable[[np.ndarray], Any],
    n: int,
    k: int,
    *,
    expected_log_prob: Callable[[np.ndarray], Any] | None = None,
    name: str = "log_prob",
    atol: float = 1e-6,
) -> np.ndarray:
    """:func:`course.checks.check_distribution` over all ``k**n`` states (int64 input).

    Kept under this name for the assignment's tests; returns the probabilities in the
    order of :func:`course.checks.all_states`.
    """
    return check_distribution(
        log_prob, n, num_values=k, expected_log_prob=expected_log_prob, name=name, atol=atol
    )


def _numpy(value: Any) -> np.ndarray:
    if isinstance(value, torch.Tensor):
        return value.detach().cpu().numpy()
    return np.asarray(value)


def _colours(count: int, rng: np.random.Generator) -> np.ndarray:
    """``count`` random, clearly saturated RGB colours."""
    hsv = np.stack(
        [rng.random(count), 0.45 + 0.5 * rng.random(count), 0.6 + 0.4 * rng.random(count)], 1
    )
    return hsv_to_rgb(hsv)


def plot_weight_sharing(n: int = 5, d: int = 3, seed: int = 0) -> Figure:
    """Which input weights the n conditionals use, untied (left) and tied (middle, right).

    Row block i is the d x n matrix that computes h_i from x (light grey: inputs j >= i,
    which h_i may not read). One colour is one number: untied, every block holds its own
    numbers (n(n-1)d/2 of them); tied, block i is the slice W[:, <i] of one d x n matrix,
    so every colour repeats down the blocks, and W's last column is never read.
    """
    rng = np.random.default_rng(seed)
    untied_colours = _colours(n * d * n, rng).reshape(n, d, n, 3)
    tied_colours = _colours(d * n, rng).reshape(d, n, 3)
    height = n * d + (n - 1)  # one blank row between blocks
    untied = np.ones((height, n, 3))
    tied = np.ones((height, n, 3))
    for i in range(n):
        top = i * (d + 1)
        untied[top : top + d] = tied[top : top + d] = 0.93  # light grey: may not be read
        untied[top : top + d, :i] = untied_colours[i, :, :i]
        tied[top : top + d, :i] = tied_colours[:, :i]
    fig, axes = plt.subplots(
        1, 3, figsize=(9, 0.35 * height + 1.2), gridspec_kw={"width_ratios": [1, 1, 1]}
    )
    untied_count = n * (n - 1) * d // 2
    panels = [
        (axes[0], untied, f"untied: $A_i$ per conditional\n{untied_count} input weights"),
        (axes[1], tied, f"tied: $W[:, {{<}}i]$ slices\n{d * (n - 1)} input weights"),
    ]
    for ax, image, title in panels:
        ax.imshow(image, interpolation="nearest", aspect="equal")
        ax.set_title(title, fontsize=10)
        ax.set_xticks(range(n))
        ax.set_xticklabels([f"$x_{j}$" for j in range(n)])
        ax.set_yticks([i * (d + 1) + (d - 1) / 2 for i in range(n)])
        ax.set_yticklabels([f"$h_{i}$" for i in range(n)])
        ax.tick_params(length=0)
        for spine in ax.spines.values():
            spine.set_visible(False)
    shared = np.ones((d, n, 3))
    shared[:, : n - 1] = tied_colours[:, : n - 1]
    shared[:, n - 1] = 0.85  # grey: x_{n-1} is nobody's input
    axes[2].imshow(shared, interpolation="nearest", aspect="equal")
    axes[2].set_title(f"the stored W (d={d}, n={n})\nlast column never read", fontsize=10)
    axes[2].set_xticks(range(n))
    axes[2].set_xticklabels([f"$x_{j}$" for j in range(n)])
    axes[2].set_yticks(range(d))
    axes[2].set_yticklabels([f"unit {k}" for k in range(d)])
    axes[2].tick_params(length=0)
    fig.tight_layout()
    return fig
