"""The contract every reference model keeps, its one ancestral sampler, and a registry.

An autoregressive model factorizes p(x) = prod_i p(x_{o_i} | x_{o_<i}) over an ordering o
of its n variables (the chain rule; Larochelle & Murray, 2011, eq. 1). Every reference
model of the course is an :class:`AutoregressiveModel`:

- ``log_prob(x) -> Tensor[batch]``: log p(x) in nats;
- ``logits(x)``: the logits of every conditional, (B, n) for binary variables or
  (B, n, K) for K values, computed from x in one call (the autoregressive check perturbs
  it);
- ``ordering()``: the generation order (natural by default);
- ``sample(num_samples, generator=None, condition=None)``: ancestral sampling by
  :func:`ancestral_sample`, where ``condition`` (NaN = unknown) asks for completion.

A model that can compute one conditional faster than a full ``logits`` pass (NADE's running
pre-activation, an RNN's hidden state) overrides the two sampling hooks
:meth:`~AutoregressiveModel.next_logits` and :meth:`~AutoregressiveModel.advance`; the
sampling loop itself exists once, here.

:data:`REGISTRY` maps a family name to a :class:`Family`: its class and a factory of a
small example with random, non-trivial weights. The contract test
(``tests/course/test_model_contract.py``) runs over every registered family, so a new family
is tested by registering it with :func:`register`.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any

import torch
from torch import nn
from torch.nn import functional as F

__all__ = [
    "REGISTRY",
    "AutoregressiveModel",
    "Family",
    "ancestral_sample",
    "bernoulli_log_prob",
    "categorical_log_prob",
    "complete_conditioning",
    "register",
]


def bernoulli_log_prob(logits: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    """Sum over the last dimension of log Bernoulli(x | sigmoid(logits)), stable.

    x z - softplus(z), computed as minus the binary cross-entropy with logits
    (max(z, 0) - x z + log1p(exp(-|z|))): exact in float64 for every z. (``F.softplus``
    returns z itself above z = 20, an error of up to 2e-9 per dimension.)
    """
    return -F.binary_cross_entropy_with_logits(logits, x, reduction="none").sum(dim=-1)


def categorical_log_prob(logits: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    """sum_i log softmax(logits[..., i, :])[x_i]: logits (B, n, K), x (B, n) -> (B,)."""
    log_p = F.log_softmax(logits, dim=-1)
    return log_p.gather(-1, x.long().unsqueeze(-1)).squeeze(-1).sum(-1)


def complete_conditioning(
    condition: Any, num_samples: int, n: int
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


def _uniform(shape: tuple[int, ...], generator: torch.Generator | None,
             dev: torch.device) -> torch.Tensor:
    """Uniform draws from ``generator`` (on its own device), moved to ``dev``.

    A CPU generator then gives the same samples whether the model runs on CPU or GPU.
    """
    gen_device = generator.device if generator is not None else dev
    return torch.rand(shape, generator=generator, device=gen_device).to(dev)


def _draw(logits: torch.Tensor, num_values: int, generator: torch.Generator | None
          ) -> torch.Tensor:
    """One value per row from the conditional given by ``logits``: (B,) or (B, K)."""
    if num_values == 2:
        u = _uniform((logits.shape[0],), generator, logits.device)
        return (u < torch.sigmoid(logits)).to(logits.dtype)
    u = _uniform((logits.shape[0], 1), generator, logits.device)
    cdf = torch.cumsum(torch.softmax(logits, dim=-1), dim=-1)
    return (u > cdf[:, :-1]).sum(-1).to(logits.dtype)  # inverse CDF


@torch.no_grad()
def ancestral_sample(
    model: AutoregressiveModel,
    num_samples: int,
    generator: torch.Generator | None = None,
    condition: Any = None,
) -> torch.Tensor:
    """Ancestral sampling: each variable in ``model.ordering()`` from its conditional.

    Returns (num_samples, n) floats with values 0..K-1. ``condition`` (shape (n,) or
    (num_samples, n), NaN = unknown) fixes the known entries. For known variables that
    come *first* in the ordering (the top half of an image in raster order) this samples
    exactly from p(x_rest | x_known). Known entries after an unknown one are only clamped:
    the earlier unknowns are then drawn without looking ahead at them, which is not the
    posterior (an autoregressive model answers prefix queries exactly, not others).
    All randomness comes from ``generator``: one uniform number per sample and variable.
    """
    dev, dtype = model.sampling_device_dtype()
    values, known = complete_conditioning(condition, num_samples, model.n)
    if values is not None:
        values, known = values.to(dev, dtype), known.to(dev)
    x = torch.zeros(num_samples, model.n, device=dev, dtype=dtype)
    state = model.init_state(num_samples)
    for i in model.ordering():
        if known is not None and bool(known[:, i].all()):
            x[:, i] = values[:, i]
        else:
            logits, state = model.next_logits(x, i, state)
            x_i = _draw(logits, model.num_values, generator)
            if known is not None:
                x_i = torch.where(known[:, i], values[:, i], x_i)
            x[:, i] = x_i
        state = model.advance(x, i, state)
    return x


class AutoregressiveModel(nn.Module):
    """Base class of the reference models: the course's one model contract.

    Subclasses set ``self.n`` (number of variables) and ``self.num_values`` (2 for
    binary variables, K for categorical ones) and implement :meth:`logits` and
    :meth:`log_prob`. They may override :meth:`ordering` and the sampling hooks.
    """

    n: int
    num_values: int = 2

    def logits(self, x: torch.Tensor) -> torch.Tensor:
        """Logits of every conditional: (B, n) binary, (B, n, K) categorical."""
        raise NotImplementedError

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.logits(x)

    def log_prob(self, x: torch.Tensor) -> torch.Tensor:
        """log p(x) in nats, shape (B,), from :meth:`logits`."""
        logits = self.logits(x)
        if self.num_values == 2:
            return bernoulli_log_prob(logits, x.to(logits.dtype))
        return categorical_log_prob(logits, x)

    def ordering(self) -> list[int]:
        """The variables in generation order (``ordering()[0]`` first)."""
        return list(range(self.n))

    def sampling_device_dtype(self) -> tuple[torch.device, torch.dtype]:
        """Device and dtype of the samples: those of the first parameter."""
        param = next(self.parameters())
        return param.device, param.dtype

    # --- sampling hooks: the default recomputes every conditional from x -------------

    def init_state(self, num_samples: int) -> Any:
        """What the sampler carries from one variable to the next (None by default)."""
        return None

    def next_logits(self, x: torch.Tensor, i: int, state: Any) -> tuple[torch.Tensor, Any]:
        """Logits of p(x_i | the variables before i in the ordering), (B,) or (B, K).

        ``x`` holds the values sampled so far (zeros elsewhere). The default runs
        :meth:`logits` on the whole of ``x`` (one full pass per variable).
        """
        return self.logits(x)[:, i], state

    def advance(self, x: torch.Tensor, i: int, state: Any) -> Any:
        """Update ``state`` once ``x[:, i]`` is known (sampled or given)."""
        return state

    @torch.no_grad()
    def sample(
        self,
        num_samples: int,
        generator: torch.Generator | None = None,
        condition: Any = None,
    ) -> torch.Tensor:
        """``num_samples`` ancestral samples, shape (num_samples, n); see
        :func:`ancestral_sample` for ``generator`` and ``condition``."""
        return ancestral_sample(self, num_samples, generator, condition)


@dataclasses.dataclass(frozen=True)
class Family:
    """A registered model family: its class and a small example for the contract test.

    ``example(n, seed)`` builds a model over ``n`` variables with random weights large
    enough that its conditionals are far from uniform (so that a broken sampler fails a
    chi-square test); ``max_n`` bounds the n for which that is cheap.
    """

    name: str
    cls: type[AutoregressiveModel]
    example: Callable[[int, int], AutoregressiveModel]
    paper: str
    max_n: int = 6


REGISTRY: dict[str, Family] = {}


def register(name: str, cls: type[AutoregressiveModel], paper: str, max_n: int = 6
             ) -> Callable[[Callable[[int, int], AutoregressiveModel]],
                           Callable[[int, int], AutoregressiveModel]]:
    """Decorator: register ``example(n, seed)`` as family ``name``'s small example."""

    def decorate(example: Callable[[int, int], AutoregressiveModel]
                 ) -> Callable[[int, int], AutoregressiveModel]:
        if name in REGISTRY:
            raise ValueError(f"model family {name!r} is registered twice")
        REGISTRY[name] = Family(name, cls, example, paper, max_n)
        return example

    return decorate
