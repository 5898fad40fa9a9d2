"""Seeded test inputs, shared by the assignments' visible and hidden tests.

Tests draw their inputs here rather than defining helpers in each notebook, so that one
definition serves every test cell and every assignment. :func:`load_parameters` puts a
test's stored parameters into a student's module.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import torch

from course.checks.core import CheckFailure
from course.numeric import randomize_, to_numpy

__all__ = ["load_parameters", "random_binary", "random_params", "randomize_parameters"]


def random_binary(batch: int, n: int, seed: int, *, torch_tensor: bool = False
                  ) -> np.ndarray | torch.Tensor:
    """A (batch, n) float64 array (or tensor) of random 0/1 values from ``seed``."""
    x = (np.random.default_rng(seed).random((batch, n)) < 0.5).astype(np.float64)
    return torch.as_tensor(x) if torch_tensor else x


def random_params(n: int, seed: int, scale: float = 1.0) -> tuple[np.ndarray, np.ndarray]:
    """Random float64 ``(W, b)`` from ``seed``: a DENSE (n, n) weight matrix of N(0, scale^2)
    entries and (n,) N(0, 1) biases, for a model whose weights a mask must restrict.

    The values are exactly representable in float32, so a model that stores float32
    parameters (the torch FVSBN of assignment 02) holds exactly the same numbers.
    """
    rng = np.random.default_rng(seed)
    W = (scale * rng.standard_normal((n, n))).astype(np.float32).astype(np.float64)
    b = rng.standard_normal(n).astype(np.float32).astype(np.float64)
    return W, b


def randomize_parameters(model: torch.nn.Module, seed: int, scale: float = 1.0
                         ) -> torch.nn.Module:
    """The model in float64 with N(0, scale^2) weights and biases drawn from ``seed``.

    Every parameter whose name ends in ``weight`` or ``bias`` is redrawn, so every
    allowed dependency shows in a perturbation test; masks (buffers) are kept.
    """
    return randomize_(model.double(), seed, scale, suffixes=("weight", "bias"))


def load_parameters(module: torch.nn.Module, values: Mapping[str, Any], *, hint: str = ""
                    ) -> torch.nn.Module:
    """Copy ``values`` {name: array} into the module's tensors of those names, in place.

    Names are attributes (``"W"``) or dotted paths as in ``state_dict`` (``"layers.0.mask"``);
    each tensor keeps its dtype and device. A missing tensor or a wrong shape raises
    :class:`CheckFailure` naming it, followed by ``hint`` (the expected layout). Returns
    the module, so that a test can load the stored parameters of a case into a student's
    model: ``load_parameters(NADE(5, 3).double(), case["params"])``.
    """
    suffix = f" {hint}" if hint else ""
    for name, value in values.items():
        target: Any = module
        for part in name.split("."):
            target = getattr(target, part, None)
        if not isinstance(target, torch.Tensor):
            raise CheckFailure(
                f"The module has no tensor attribute {name}: store it as an nn.Parameter "
                f"(or a buffer) named {name}.{suffix}"
            )
        array = np.asarray(to_numpy(value))
        if tuple(target.shape) != array.shape:
            raise CheckFailure(
                f"module.{name} has shape {tuple(target.shape)}, expected {array.shape}.{suffix}"
            )
        with torch.no_grad():
            target.copy_(torch.as_tensor(array, dtype=target.dtype))
    return module
