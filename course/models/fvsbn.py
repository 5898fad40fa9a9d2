"""Fully visible sigmoid belief network (FVSBN), the torch reference.

Frey, Hinton & Dayan (1996); Gan et al. (2015), "Learning deep sigmoid belief
networks with data augmentation", eq. (1)::

    p(x) = prod_i p(x_i | x_<i),   p(x_i = 1 | x_<i) = sigmoid(b_i + sum_{j<i} W_ij x_j)

The weight matrix is used through a strictly lower-triangular mask (a registered
buffer), so W_ij with j >= i never influences the output and receives zero gradient.
With n = 784 this is n(n + 1)/2 = 307,720 effective parameters.
"""

from __future__ import annotations

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

from course.models.base import AutoregressiveModel, register
from course.numeric import randomize_

__all__ = ["FVSBN"]


class FVSBN(AutoregressiveModel):
    """FVSBN over ``n`` binary variables in the natural order.

    Args:
        n: number of variables (784 for 28 x 28 MNIST).
        init_scale: standard deviation of the initial weights (biases start at 0).
    """

    def __init__(self, n: int, init_scale: float = 0.01) -> None:
        super().__init__()
        self.n = n
        self.weight = nn.Parameter(torch.randn(n, n) * init_scale)
        self.bias = nn.Parameter(torch.zeros(n))
        self.register_buffer("mask", torch.tril(torch.ones(n, n), diagonal=-1))

    @classmethod
    def from_numpy(cls, weight: np.ndarray, bias: np.ndarray) -> FVSBN:
        """Build a model holding the given parameters (e.g. a student's NumPy ones)."""
        n = int(np.asarray(bias).shape[0])
        model = cls(n)
        with torch.no_grad():
            model.weight.copy_(torch.as_tensor(np.asarray(weight, dtype=np.float32)))
            model.bias.copy_(torch.as_tensor(np.asarray(bias, dtype=np.float32)))
        return model

    def masked_weight(self) -> torch.Tensor:
        """W with every entry on or above the diagonal zeroed."""
        return self.weight * self.mask

    def logits(self, x: torch.Tensor) -> torch.Tensor:
        """Logits of p(x_i = 1 | x_<i) for every i, shape (batch, n)."""
        x = x.to(self.weight.dtype)
        return F.linear(x, self.masked_weight(), self.bias)

    def next_logits(self, x: torch.Tensor, i: int, state: None) -> tuple[torch.Tensor, None]:
        """One row of the masked weights: O(n) per sample instead of a full pass."""
        return x @ (self.weight[i] * self.mask[i]) + self.bias[i], state


@register("fvsbn", FVSBN, "Frey, Hinton & Dayan (1996)")
def _example(n: int, seed: int) -> FVSBN:
    return randomize_(FVSBN(n), seed)
