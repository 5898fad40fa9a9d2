"""Seeded test inputs, shared by the assignments' visible and hidden tests.

Tests draw their inputs here rather than defining helpers in each notebook, so that one
definition serves every test cell and every assignment.
"""

from __future__ import annotations

import numpy as np
import torch

from course.numeric import randomize_

__all__ = ["random_binary", "random_params", "randomize_parameters"]


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
