"""Masked autoencoder for distribution estimation (MADE), the torch reference.

Germain, Gregor, Murray & Larochelle (2015), "MADE: Masked Autoencoder for
Distribution Estimation", ICML, Section 4. Degrees (0-based here; the paper counts
from 1):

- input k has degree m^0(k) = its position in the ordering, 0..n-1;
- hidden unit k of layer l has degree m^l(k), drawn uniformly from
  {min_k' m^{l-1}(k'), ..., n-2} (eq. 13). A unit of degree n-1 would reach no output,
  and one below the previous layer's minimum would have no input: the range avoids both;
- hidden masks allow m^l(k) >= m^{l-1}(k') (eq. 12), the output mask allows
  m^0(i) > m^{L}(k') (eq. 15: strictly greater), so output i only sees inputs earlier
  in the ordering.

Connectivity-agnostic training (Section 4.3) cycles through ``num_masks`` seeded mask
sets, one per minibatch (:meth:`MADE.next_mask`); order-agnostic training also draws a
new random ordering with each set. At test time an ensemble averages the
*probabilities* of the mask sets: log p(x) = logsumexp_s log p_s(x) - log S
(:meth:`MADE.log_prob_ensemble`), a proper mixture; averaging logits is not.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

from course.models.fvsbn import (
    bernoulli_log_prob,
    clamp_known,
    complete_conditioning,
    uniform,
)

__all__ = ["MADE", "MaskedLinear", "hidden_degrees", "masks_from_degrees"]


def hidden_degrees(
    n: int,
    hidden_sizes: Sequence[int],
    input_degrees: np.ndarray,
    rng: np.random.Generator,
) -> list[np.ndarray]:
    """Degrees of every hidden layer, each drawn from {min of previous layer, ..., n-2}."""
    if n < 2:
        raise ValueError("MADE needs n >= 2: with one variable no hidden unit reaches an output")
    degrees = []
    previous = np.asarray(input_degrees)
    for size in hidden_sizes:
        low = int(previous.min())
        layer = rng.integers(low, n - 1, size=size)  # high is exclusive: at most n-2
        degrees.append(layer)
        previous = layer
    return degrees


def masks_from_degrees(input_degrees: np.ndarray, hidden: Sequence[np.ndarray]) -> list[np.ndarray]:
    """MADE masks, one per layer, shape (out_features, in_features), float 0/1.

    Hidden layers connect when the unit's degree is >= the input's degree; the output
    layer connects output i to unit k when degree(i) > degree(k).
    """
    masks = []
    previous = np.asarray(input_degrees)
    for layer in hidden:
        masks.append((layer[:, None] >= previous[None, :]).astype(np.float32))
        previous = layer
    masks.append((np.asarray(input_degrees)[:, None] > previous[None, :]).astype(np.float32))
    return masks


class MaskedLinear(nn.Linear):
    """A linear layer whose weight is multiplied by a 0/1 mask (a registered buffer)."""

    def __init__(self, in_features: int, out_features: int, bias: bool = True) -> None:
        super().__init__(in_features, out_features, bias)
        self.register_buffer("mask", torch.ones(out_features, in_features))

    def set_mask(self, mask: np.ndarray | torch.Tensor) -> None:
        mask = torch.as_tensor(np.asarray(mask), dtype=self.mask.dtype, device=self.mask.device)
        if mask.shape != self.mask.shape:
            raise ValueError(
                f"mask has shape {tuple(mask.shape)}, expected {tuple(self.mask.shape)}"
            )
        self.mask.copy_(mask)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.linear(x, self.weight * self.mask, self.bias)


class MADE(nn.Module):
    """Binary MADE with any list of hidden sizes (ReLU), several masks and orderings.

    Args:
        n: number of variables.
        hidden_sizes: sizes of the hidden layers, e.g. ``[500]`` or ``[256, 256]``.
        num_masks: number of connectivity patterns cycled through during training.
        ordering: ``"natural"`` (0..n-1), ``"random"`` (one seeded permutation), or
            ``"agnostic"`` (a new random ordering with every mask set).
        seed: seeds the degrees and orderings, so a model is reproducible.
    """

    def __init__(
        self,
        n: int,
        hidden_sizes: Sequence[int],
        num_masks: int = 1,
        ordering: str = "natural",
        seed: int = 0,
    ) -> None:
        super().__init__()
        if ordering not in ("natural", "random", "agnostic"):
            raise ValueError(
                f"ordering must be 'natural', 'random' or 'agnostic', got {ordering!r}"
            )
        if num_masks < 1:
            raise ValueError(f"num_masks must be at least 1, got {num_masks}")
        self.n, self.hidden_sizes = n, list(hidden_sizes)
        self.num_masks, self.ordering_mode, self.seed = num_masks, ordering, seed
        sizes = [n, *self.hidden_sizes, n]
        self.layers = nn.ModuleList(
            MaskedLinear(a, b) for a, b in zip(sizes[:-1], sizes[1:], strict=True)
        )
        self.mask_index = 0
        self.register_buffer("order", torch.arange(n))
        self.set_mask(0)

    def mask_set(self, index: int) -> tuple[np.ndarray, list[np.ndarray]]:
        """The ordering and hidden degrees of mask set ``index`` (deterministic)."""
        rng = np.random.default_rng([self.seed, index % self.num_masks])
        if self.ordering_mode == "natural":
            order = np.arange(self.n)
        elif self.ordering_mode == "random":
            order = np.random.default_rng([self.seed, 10**6]).permutation(self.n)
        else:
            order = rng.permutation(self.n)
        input_degrees = np.empty(self.n, dtype=np.int64)
        input_degrees[order] = np.arange(self.n)
        return order, [
            input_degrees,
            *hidden_degrees(self.n, self.hidden_sizes, input_degrees, rng),
        ]

    def set_mask(self, index: int) -> None:
        """Install the masks of mask set ``index`` (modulo ``num_masks``)."""
        self.mask_index = index % self.num_masks
        order, degrees = self.mask_set(self.mask_index)
        for layer, mask in zip(
            self.layers, masks_from_degrees(degrees[0], degrees[1:]), strict=True
        ):
            layer.set_mask(mask)
        self.order.copy_(torch.as_tensor(order))

    def next_mask(self, _: nn.Module | None = None) -> None:
        """Move to the next mask set (call after every minibatch; fits ``fit(on_step=)``)."""
        self.set_mask(self.mask_index + 1)

    def masks(self) -> list[torch.Tensor]:
        """The current masks, one per layer, (out_features, in_features)."""
        return [layer.mask for layer in self.layers]

    def logits(self, x: torch.Tensor) -> torch.Tensor:
        """Logits of p(x_i = 1 | x_<i) for every i in one pass, shape (B, n)."""
        h = x.to(self.layers[0].weight.dtype)
        for layer in self.layers[:-1]:
            h = F.relu(layer(h))
        return self.layers[-1](h)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.logits(x)

    def log_prob(self, x: torch.Tensor) -> torch.Tensor:
        """log p(x) in nats under the current mask set, shape (B,)."""
        x = x.to(self.layers[0].weight.dtype)
        return bernoulli_log_prob(self.logits(x), x)

    @torch.no_grad()
    def log_prob_ensemble(self, x: torch.Tensor, num_masks: int | None = None) -> torch.Tensor:
        """log of the mixture (1/S) sum_s p_s(x) over the first S mask sets, shape (B,)."""
        count = num_masks or self.num_masks
        per_mask = self.over_mask_sets(lambda: self.log_prob(x), count)
        return torch.logsumexp(torch.stack(per_mask), dim=0) - math.log(count)

    def over_mask_sets(self, fn: Callable[[], torch.Tensor], count: int) -> list[torch.Tensor]:
        """``fn()`` under each of the first ``count`` mask sets; the current set is restored."""
        current = self.mask_index
        try:
            results = []
            for index in range(count):
                self.set_mask(index)
                results.append(fn())
            return results
        finally:
            self.set_mask(current)

    @torch.no_grad()
    def sample(
        self,
        num_samples: int,
        generator: torch.Generator | None = None,
        condition: torch.Tensor | None = None,
    ) -> torch.Tensor:
        """Ancestral sampling under the current mask set: n passes, in its ordering."""
        dev = self.layers[0].weight.device
        dtype = self.layers[0].weight.dtype
        values, known = complete_conditioning(condition, num_samples, self.n)
        x = torch.zeros(num_samples, self.n, device=dev, dtype=dtype)
        for i in self.order.tolist():
            p = torch.sigmoid(self.logits(x)[:, i])
            x_i = (uniform(num_samples, generator, dev) < p).to(dtype)
            x[:, i] = clamp_known(x_i, values, known, i)
        return x
