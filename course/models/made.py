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
from typing import Any

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

from course.models.base import AutoregressiveModel, register
from course.numeric import randomize_, to_numpy

__all__ = [
    "COMPARISONS",
    "MADE",
    "ORDERINGS",
    "MaskedLinear",
    "connectivity",
    "hidden_degrees",
    "made_degrees",
    "masks_from_degrees",
    "path_edges",
]

ORDERINGS = ("natural", "random", "agnostic")


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


COMPARISONS: dict[str, Callable[[np.ndarray, np.ndarray], np.ndarray]] = {
    ">=": np.greater_equal,
    ">": np.greater,
    "<=": np.less_equal,
    "<": np.less,
}


def masks_from_degrees(
    input_degrees: np.ndarray,
    hidden: Sequence[np.ndarray],
    *,
    hidden_cmp: str = ">=",
    output_cmp: str = ">",
) -> list[np.ndarray]:
    """MADE masks, one per layer, shape (out_features, in_features), float 0/1.

    Hidden layers connect when the unit's degree is >= the input's degree (eq. 12); the
    output layer connects output i to unit k when degree(i) > degree(k) (eq. 15). Other
    comparisons build the classic mistakes, for figures and for naming a student's bug:
    ``output_cmp=">="`` lets output i see input i through the hidden units;
    ``hidden_cmp=">"`` drops connections.
    """
    for cmp in (hidden_cmp, output_cmp):
        if cmp not in COMPARISONS:
            raise ValueError(f"comparison must be one of {list(COMPARISONS)}, got {cmp!r}")
    masks = []
    previous = np.asarray(input_degrees)
    for layer in hidden:
        layer = np.asarray(layer)
        masks.append(COMPARISONS[hidden_cmp](layer[:, None], previous[None, :]))
        previous = layer
    masks.append(COMPARISONS[output_cmp](np.asarray(input_degrees)[:, None], previous[None, :]))
    return [mask.astype(np.float32) for mask in masks]


def made_degrees(
    n: int,
    hidden_sizes: Sequence[int],
    ordering: str = "natural",
    seed: int = 0,
    index: int = 0,
    num_masks: int = 1,
) -> tuple[np.ndarray, np.ndarray, list[np.ndarray]]:
    """The ordering and degrees of mask set ``index``: ``(order, input_degrees, hidden)``.

    ``order`` lists the variables in generation order (``order[0]`` first). ``ordering``:
    ``"natural"`` (0..n-1), ``"random"`` (one permutation drawn from ``seed``, the same for
    every mask set) or ``"agnostic"`` (a new permutation for every mask set). Mask set
    ``index`` (modulo ``num_masks``) draws from ``np.random.default_rng([seed, index])``:
    this is the one seeding of the course, used by :class:`MADE` and its figures.
    """
    if ordering not in ORDERINGS:
        raise ValueError(f"ordering must be one of {', '.join(map(repr, ORDERINGS))}, "
                         f"got {ordering!r}")
    rng = np.random.default_rng([seed, index % num_masks])
    if ordering == "natural":
        order = np.arange(n)
    elif ordering == "random":
        order = np.random.default_rng([seed, 10**6]).permutation(n)
    else:
        order = rng.permutation(n)
    in_degrees = np.empty(n, dtype=np.int64)
    in_degrees[order] = np.arange(n)
    return order, in_degrees, hidden_degrees(n, hidden_sizes, in_degrees, rng)


def connectivity(masks: Sequence[Any]) -> np.ndarray:
    """Number of paths from input j to output i, ``masks[-1] @ ... @ masks[0]``, (n_out, n_in).

    With generic weights output i depends on input j exactly when this is nonzero.
    """
    arrays = [to_numpy(m) != 0 for m in masks]
    paths = arrays[0].astype(np.int64)
    for mask in arrays[1:]:
        paths = mask.astype(np.int64) @ paths
    return paths


def path_edges(masks: Sequence[Any], source: int, target: int) -> list[np.ndarray]:
    """Edges lying on some path from input ``source`` to output ``target``.

    Returns one boolean array per mask, shaped like it: entry [b, a] of layer k is True
    when the edge from unit a of layer k to unit b of layer k + 1 is on such a path.
    All are False when no path exists (``connectivity(masks)[target, source] == 0``).
    """
    arrays = [to_numpy(m) != 0 for m in masks]
    forward = [np.zeros(arrays[0].shape[1], dtype=bool)]
    forward[0][source] = True
    for mask in arrays:
        forward.append((mask & forward[-1][None, :]).any(axis=1))
    backward = [np.zeros(arrays[-1].shape[0], dtype=bool)]
    backward[0][target] = True
    for mask in reversed(arrays):
        backward.insert(0, (mask & backward[0][:, None]).any(axis=0))
    return [mask & backward[k + 1][:, None] & forward[k][None, :] for k, mask in enumerate(arrays)]


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


class MADE(AutoregressiveModel):
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
        if ordering not in ORDERINGS:
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
        """The ordering and degrees (input, then hidden) of mask set ``index``."""
        order, input_degrees, hidden = made_degrees(
            self.n, self.hidden_sizes, self.ordering_mode, self.seed, index, self.num_masks
        )
        return order, [input_degrees, *hidden]

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

    def ordering(self) -> list[int]:
        """The generation order of the current mask set."""
        return self.order.tolist()

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


@register("made", MADE, "Germain et al. (2015)")
def _example(n: int, seed: int) -> MADE:
    return randomize_(MADE(n, [12, 12], seed=seed), seed, scale=0.4)


@register("made-random-order", MADE, "Germain et al. (2015), Section 4.2")
def _random_order_example(n: int, seed: int) -> MADE:
    return randomize_(MADE(n, [12], num_masks=3, ordering="agnostic", seed=seed), seed,
                      scale=0.6)
