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

__all__ = ["FVSBN", "bernoulli_log_prob", "clamp_known", "complete_conditioning", "uniform"]


def uniform(num: int, generator: torch.Generator | None, dev: torch.device) -> torch.Tensor:
    """Uniform draws from ``generator`` (on its own device), moved to ``dev``.

    A CPU generator then gives the same samples whether the model runs on CPU or GPU.
    """
    gen_device = generator.device if generator is not None else dev
    return torch.rand(num, generator=generator, device=gen_device).to(dev)


def bernoulli_log_prob(logits: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    """Sum over the last dimension of log Bernoulli(x | sigmoid(logits)), stable.

    x z - softplus(z), computed as minus the binary cross-entropy with logits
    (max(z, 0) - x z + log1p(exp(-|z|))): exact in float64 for every z. (``F.softplus``
    returns z itself above z = 20, an error of up to 2e-9 per dimension.)
    """
    return -F.binary_cross_entropy_with_logits(logits, x, reduction="none").sum(dim=-1)


def complete_conditioning(
    condition: torch.Tensor | None, num_samples: int, n: int
) -> tuple[torch.Tensor | None, torch.Tensor | None]:
    """Split a partial observation into (values, known mask) of shape (num_samples, n).

    ``condition`` has shape (n,) or (num_samples, n) with NaN marking the unknown
    entries; known entries are kept fixed during sampling.
    """
    if condition is None:
        return None, None
    condition = torch.as_tensor(condition, dtype=torch.float32).reshape(-1, n)
    if condition.shape[0] == 1:
        condition = condition.expand(num_samples, n)
    if condition.shape[0] != num_samples:
        raise ValueError(
            f"condition has {condition.shape[0]} rows, expected 1 or num_samples={num_samples}"
        )
    known = ~torch.isnan(condition)
    return torch.nan_to_num(condition, nan=0.0), known


def clamp_known(
    x_i: torch.Tensor, values: torch.Tensor | None, known: torch.Tensor | None, i: int
) -> torch.Tensor:
    """Replace the sampled x_i by the given value where variable i is known."""
    if known is None:
        return x_i
    k = known[:, i].to(x_i.device)
    return torch.where(k, values[:, i].to(x_i.device, x_i.dtype), x_i)


class FVSBN(nn.Module):
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

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.logits(x)

    def log_prob(self, x: torch.Tensor) -> torch.Tensor:
        """log p(x) in nats, shape (batch,)."""
        x = x.to(self.weight.dtype)
        return bernoulli_log_prob(self.logits(x), x)

    @torch.no_grad()
    def sample(
        self,
        num_samples: int,
        generator: torch.Generator | None = None,
        condition: torch.Tensor | None = None,
    ) -> torch.Tensor:
        """Ancestral sampling, one variable at a time in order, shape (num_samples, n).

        ``condition`` (shape (n,) or (num_samples, n), NaN = unknown) fixes the known
        entries. For a known *prefix* (the top half of an image) this samples exactly from
        p(x_rest | x_prefix). Known entries after an unknown one are only clamped: the
        earlier unknowns are then drawn without looking ahead at them, which is not the
        posterior (an autoregressive model answers prefix queries exactly, not others).
        """
        dev = self.weight.device
        values, known = complete_conditioning(condition, num_samples, self.n)
        x = torch.zeros(num_samples, self.n, device=dev, dtype=self.weight.dtype)
        w = self.masked_weight()
        for i in range(self.n):
            if known is not None and bool(known[:, i].all()):
                x[:, i] = values[:, i].to(dev)
                continue
            p = torch.sigmoid(x @ w[i] + self.bias[i])
            u = uniform(num_samples, generator, dev)
            x_i = (u < p).to(x.dtype)
            x[:, i] = clamp_known(x_i, values, known, i)
        return x
