"""Small numerical helpers shared by the whole course: arrays in and out of torch.

- :func:`to_numpy` turns a tensor (any device, with or without grad) or an array-like into
  a NumPy array; :func:`to_tensor` turns an array or a tensor into a float32 tensor on
  :func:`course.device`. Every module converts through these two.
- :func:`sigmoid` and :func:`logit`, written so that they never overflow;
- :func:`randomize_`, the one way the course draws random parameters.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

from course import device as _default_device

__all__ = ["logit", "randomize_", "sigmoid", "to_numpy", "to_tensor"]


def to_numpy(value: Any) -> np.ndarray:
    """A NumPy array holding ``value``: a tensor is detached and moved to the CPU."""
    if isinstance(value, torch.Tensor):
        return value.detach().cpu().numpy()
    return np.asarray(value)


def to_tensor(
    array: np.ndarray | torch.Tensor, device: torch.device | str | None = None
) -> torch.Tensor:
    """A float32 torch tensor (a copy) on ``device``, default :func:`course.device`."""
    target = device if device is not None else _default_device()
    if isinstance(array, torch.Tensor):
        return array.detach().to(device=target, dtype=torch.float32, copy=True)
    return torch.tensor(np.asarray(array), dtype=torch.float32, device=target)


def sigmoid(z: Any) -> np.ndarray:
    """The logistic function 1 / (1 + exp(-z)) as 0.5 (1 + tanh(z / 2)): never overflows."""
    return 0.5 * (1.0 + np.tanh(0.5 * np.asarray(z, dtype=np.float64)))


def logit(p: Any, eps: float = 0.0) -> np.ndarray:
    """log(p / (1 - p)), with ``p`` clipped to [eps, 1 - eps] first (eps = 0: no clipping)."""
    p = np.asarray(p, dtype=np.float64)
    if eps:
        p = np.clip(p, eps, 1.0 - eps)
    return np.log(p) - np.log1p(-p)


def randomize_(model: torch.nn.Module, seed: int, scale: float = 1.5,
               suffixes: tuple[str, ...] | None = None) -> torch.nn.Module:
    """Overwrite parameters with N(0, scale^2) draws from ``seed``, in place.

    Every parameter, or only those whose name ends in one of ``suffixes``; each is drawn
    in its own dtype, in the order of ``named_parameters``. The one randomizer of the
    course: the registry's examples and the tests' :func:`course.checks.randomize_parameters`.
    """
    generator = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, param in model.named_parameters():
            if suffixes is None or name.endswith(suffixes):
                param.copy_(scale * torch.randn(param.shape, generator=generator,
                                                dtype=param.dtype))
    return model
