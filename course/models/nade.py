"""Neural autoregressive distribution estimator (NADE), the torch reference.

Larochelle & Murray (2011), "The Neural Autoregressive Distribution Estimator",
AISTATS, eqs. (2)-(3) and Algorithm 1. For binary x with d hidden units::

    h_i = sigmoid(W[:, <i] x_<i + c)                  (shared W and c: weight tying)
    p(x_i = 1 | x_<i) = sigmoid(b_i + V_i . h_i)

Because W is shared, the pre-activations obey a_1 = c, a_{i+1} = a_i + W[:, i] x_i, so
log p(x) costs O(nd) instead of the O(n^2 d) of computing every h_i from scratch.
:meth:`NADE.log_prob_sequential` is that recurrence as an explicit loop;
:meth:`NADE.log_prob` runs the same recurrence as one cumulative sum over i, and sampling
carries the running pre-activation from one variable to the next.

With ``num_values = K > 2`` the model is categorical (e.g. MNIST at 2 or 4 bits per
pixel): x_i in {0, ..., K-1} enters through an embedding W[:, i, x_i] (a one-hot input),
and p(x_i | x_<i) = softmax(b_i + V_i h_i) over K values, as in the multinomial output
layers of Uria et al. (2016), "Neural Autoregressive Distribution Estimation", JMLR,
Section 5.

:class:`UntiedNADE` gives every conditional its own A_i, c_i (no sharing): the same
functional form with n(n-1)d/2 input weights, for comparing with weight tying;
:meth:`NADE.untied` builds the untied model that computes the same distribution.
"""

from __future__ import annotations

from typing import Any

import torch
from torch import nn
from torch.nn import functional as F

from course.models.base import (
    AutoregressiveModel,
    bernoulli_log_prob,
    categorical_log_prob,
    register,
)
from course.numeric import randomize_

__all__ = ["NADE", "UntiedNADE"]


class NADE(AutoregressiveModel):
    """Tied NADE over ``n`` variables with ``d`` hidden units and ``num_values`` values.

    Parameters: ``W`` (d, n) for binary or (d, n, K) for categorical inputs, ``c`` (d),
    ``V`` (n, d) or (n, K, d), ``b`` (n) or (n, K).
    """

    def __init__(self, n: int, d: int, num_values: int = 2, init_scale: float = 0.01) -> None:
        super().__init__()
        if num_values < 2:
            raise ValueError(f"num_values must be at least 2, got {num_values}")
        self.n, self.d, self.num_values = n, d, num_values
        categorical = num_values > 2
        w_shape = (d, n, num_values) if categorical else (d, n)
        v_shape = (n, num_values, d) if categorical else (n, d)
        b_shape = (n, num_values) if categorical else (n,)
        self.W = nn.Parameter(torch.randn(w_shape) * init_scale)
        self.c = nn.Parameter(torch.zeros(d))
        self.V = nn.Parameter(torch.randn(v_shape) * init_scale)
        self.b = nn.Parameter(torch.zeros(b_shape))

    @property
    def categorical(self) -> bool:
        return self.num_values > 2

    def _input_contributions(self, x: torch.Tensor) -> torch.Tensor:
        """W[:, i] x_i (binary) or W[:, i, x_i] (categorical) for every i: (B, n, d)."""
        if self.categorical:
            one_hot = F.one_hot(x.long(), self.num_values).to(self.W.dtype)  # (B, n, K)
            return torch.einsum("bik,dik->bid", one_hot, self.W)
        return x.to(self.W.dtype).unsqueeze(-1) * self.W.T  # (B, n, d)

    def _column_contribution(self, x_i: torch.Tensor, i: int) -> torch.Tensor:
        """W[:, i] x_i (binary) or W[:, i, x_i] (categorical) for one i: (B, d)."""
        if self.categorical:
            return self.W[:, i, x_i.long()].T
        return x_i.to(self.W.dtype).unsqueeze(-1) * self.W[:, i]

    def hidden(self, x: torch.Tensor) -> torch.Tensor:
        """h_i for every i, shape (B, n, d): sigmoid of c plus the inputs before i."""
        contributions = self._input_contributions(x)
        running = torch.cumsum(contributions, dim=1) - contributions  # exclusive: j < i
        return torch.sigmoid(running + self.c)

    def _output(self, h: torch.Tensor, i: int | slice = slice(None)) -> torch.Tensor:
        """Logits of p(x_i | x_<i) from h_i: (B, n) binary, (B, n, K) categorical."""
        if self.categorical:
            return torch.einsum("...d,...kd->...k", h, self.V[i]) + self.b[i]
        return (h * self.V[i]).sum(-1) + self.b[i]

    def logits(self, x: torch.Tensor) -> torch.Tensor:
        """Logits of every conditional: (B, n), or (B, n, K) when categorical.

        The recurrence as one cumulative sum, the form to train with: one autograd node
        per operation, where the loop of :meth:`log_prob_sequential` makes n small steps
        (5x slower to train the lecture's NADE on a CPU). For evaluating a large batch on
        a CPU the loop is faster: it keeps a (B, d) tensor in cache instead of writing
        B n d pre-activations to memory (``python -m course.bench``).
        """
        return self._output(self.hidden(x))

    def _log_likelihood(self, logits: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
        if self.categorical:
            return categorical_log_prob(logits, x)
        return bernoulli_log_prob(logits, x.to(logits.dtype))

    def log_prob_sequential(self, x: torch.Tensor) -> torch.Tensor:
        """log p(x) by the explicit recurrence a_{i+1} = a_i + W[:, i] x_i (Algorithm 1)."""
        a = self.c.expand(len(x), self.d)
        total = torch.zeros(len(x), dtype=self.W.dtype, device=x.device)
        for i in range(self.n):
            logits_i = self._output(torch.sigmoid(a), i)
            total = total + self._log_likelihood(logits_i.unsqueeze(1), x[:, i : i + 1])
            a = a + self._column_contribution(x[:, i], i)
        return total

    def log_prob_naive(self, x: torch.Tensor) -> torch.Tensor:
        """log p(x) computing every h_i from scratch: O(n^2 d), what tying avoids."""
        if self.categorical:
            raise NotImplementedError("log_prob_naive is the binary model's baseline")
        x = x.to(self.W.dtype)
        total = torch.zeros(len(x), dtype=self.W.dtype, device=x.device)
        for i in range(self.n):
            h = torch.sigmoid(x[:, :i] @ self.W[:, :i].T + self.c)
            total = total + bernoulli_log_prob(self._output(h, i).unsqueeze(1), x[:, i : i + 1])
        return total

    # sampling in O(nd) per sample: the running pre-activation a_i is the state

    def init_state(self, num_samples: int) -> torch.Tensor:
        return self.c.expand(num_samples, self.d)

    def next_logits(self, x: torch.Tensor, i: int, state: Any) -> tuple[torch.Tensor, Any]:
        return self._output(torch.sigmoid(state), i), state

    def advance(self, x: torch.Tensor, i: int, state: Any) -> Any:
        return state + self._column_contribution(x[:, i], i)

    def untied(self) -> UntiedNADE:
        """The :class:`UntiedNADE` with A_i = W and c_i = c for every i: the same distribution.

        Its ``log_prob`` computes every h_i from scratch (O(n^2 d)), the tied one reuses the
        running pre-activation (O(nd)); comparing their run times shows what tying buys.
        """
        if self.categorical:
            raise ValueError("untied() supports binary NADEs only (num_values = 2)")
        untied = UntiedNADE(self.n, self.d).to(self.W.dtype)
        with torch.no_grad():
            untied.A.copy_(self.W.detach().unsqueeze(0).expand(self.n, -1, -1))
            untied.c.copy_(self.c.detach().expand(self.n, -1))
            untied.V.copy_(self.V.detach())
            untied.b.copy_(self.b.detach())
        return untied.to(self.W.device)


class UntiedNADE(AutoregressiveModel):
    """Binary NADE without weight sharing: conditional i has its own A_i, c_i, V_i, b_i.

    Stored as one masked tensor ``A`` (n, d, n) whose slice ``A[i]`` may only read
    inputs j < i. Costs O(n^2 d) per example and n(n-1)d/2 + 2nd + n parameters, which
    is why it is only practical for small n (e.g. the 8x8 digits).
    """

    def __init__(self, n: int, d: int, init_scale: float = 0.01) -> None:
        super().__init__()
        self.n, self.d = n, d
        self.A = nn.Parameter(torch.randn(n, d, n) * init_scale)
        self.c = nn.Parameter(torch.zeros(n, d))
        self.V = nn.Parameter(torch.randn(n, d) * init_scale)
        self.b = nn.Parameter(torch.zeros(n))
        mask = torch.tril(torch.ones(n, n), diagonal=-1)  # mask[i, j] = 1 iff j < i
        self.register_buffer("mask", mask[:, None, :].expand(n, d, n).clone())

    def logits(self, x: torch.Tensor) -> torch.Tensor:
        """Logits of p(x_i = 1 | x_<i), shape (B, n)."""
        x = x.to(self.A.dtype)
        h = torch.sigmoid(torch.einsum("idj,bj->bid", self.A * self.mask, x) + self.c)
        return (h * self.V).sum(-1) + self.b

    def next_logits(self, x: torch.Tensor, i: int, state: None) -> tuple[torch.Tensor, None]:
        h = torch.sigmoid(x @ (self.A[i] * self.mask[i]).T + self.c[i])
        return h @ self.V[i] + self.b[i], state


@register("nade", NADE, "Larochelle & Murray (2011)")
def _binary_example(n: int, seed: int) -> NADE:
    return randomize_(NADE(n, 5), seed, scale=0.8)


@register("nade-categorical", NADE, "Uria et al. (2016), Section 5", max_n=3)
def _categorical_example(n: int, seed: int) -> NADE:
    return randomize_(NADE(n, 4, num_values=3), seed, scale=0.8)


@register("nade-untied", UntiedNADE, "Larochelle & Murray (2011)")
def _untied_example(n: int, seed: int) -> UntiedNADE:
    return randomize_(UntiedNADE(n, 4), seed)
