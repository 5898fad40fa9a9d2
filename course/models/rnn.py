"""Recurrent networks as autoregressive models: a character RNN and a pixel RNN.

One set of weights is applied at every step (Elman, 1990, "Finding structure in time"),
so the number of parameters does not depend on the sequence length T::

    h_t = tanh(W_hh h_{t-1} + W_xh x_t + b),   o_t = W_hy h_t + c,
    p(x_{t+1} | x_<=t) = softmax(o_t)

with ``cell="rnn"`` (``torch.nn.RNN``); ``"lstm"`` replaces the update by the LSTM's gated
memory cell (Hochreiter & Schmidhuber, 1997, "Long short-term memory"; ``torch.nn.LSTM``
with forget gates), ``"gru"`` by the gated recurrent unit (Cho et al., 2014, "Learning
phrase representations using RNN encoder-decoder", eqs. 5-8; ``torch.nn.GRU``).

The first symbol: the input at step 1 is a *start token* (input id ``num_values``, never
an output) and h_0 = 0, so p(x_1) = softmax(o_1) is a learned initial distribution and
``log_prob`` sums log p(x_t | x_<t) over all T symbols: a normalized distribution over the
V^T sequences of every length T (there is no end token). ``logits(x)`` feeds
``[start, x_1, ..., x_{T-1}]`` in one pass; feeding x itself (targets not shifted) would
let step t see x_t, which :func:`course.checks.check_autoregressive` reports.

Inputs enter as one-hot vectors by default (x_t above; ``embedding_dim`` sets a learned
embedding instead). Sampling carries the hidden state: O(1) work per symbol through the
hooks ``init_state``/``next_logits``/``advance`` of the one ancestral sampler
(:func:`course.models.base.ancestral_sample`). ``temperature`` divides every logit (T -> 0
approaches the argmax, T = 1 is the model); ``log_prob`` and ``sample`` use the same
value, so samples at temperature T follow exp(log_prob) at T.

- :class:`CharRNN`: the character-level language model of Karpathy (2015), "The
  unreasonable effectiveness of recurrent neural networks" (char-rnn), trained by
  truncated backpropagation through time (:func:`fit_bptt`, on
  :class:`course.data.text.BPTTBatches`) and measured in bits per character
  (:func:`bits_per_char`).
- :class:`PixelRNN`: one LSTM over the raster scan of a binarized image, the sequential
  baseline of van den Oord, Kalchbrenner & Kavukcuoglu (2016), "Pixel recurrent neural
  networks" (their Row LSTM and Diagonal BiLSTM are two-dimensional refinements of it):
  binary, with the contract of FVSBN, NADE and MADE.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable, Iterable, Iterator
from typing import Any

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F
from tqdm.auto import tqdm

from course import in_autograder
from course.models.base import AutoregressiveModel, ancestral_sample, register
from course.numeric import randomize_
from course.train import recurrent_bits_per_symbol

__all__ = ["CELLS", "CharRNN", "PixelRNN", "RecurrentModel", "bits_per_char", "detach_state",
           "fit_bptt", "hidden_jacobian_norms", "open_forget_gates_"]

CELLS: dict[str, type[nn.RNNBase]] = {"rnn": nn.RNN, "gru": nn.GRU, "lstm": nn.LSTM}


def detach_state(state: Any) -> Any:
    """The hidden state without its history (truncates backprop between BPTT chunks)."""
    if state is None:
        return None
    if isinstance(state, tuple):
        return tuple(s.detach() for s in state)
    return state.detach()


class RecurrentModel(AutoregressiveModel):
    """A recurrent autoregressive model over ``n`` symbols with ``num_values`` values.

    ``num_values = 2`` is the binary contract (logits (B, n), one log-odds per step);
    more values give (B, n, num_values). ``n`` is only the default length of
    :meth:`sample`: ``logits`` and ``log_prob`` take sequences of any length.
    """

    def __init__(self, n: int, num_values: int, hidden_size: int, cell: str = "lstm",
                 num_layers: int = 1, embedding_dim: int | None = None) -> None:
        super().__init__()
        if cell not in CELLS:
            raise ValueError(f"cell={cell!r} is not supported; use one of {sorted(CELLS)}")
        if num_values < 2:
            raise ValueError(f"num_values must be at least 2, got {num_values}")
        self.n, self.num_values, self.cell = n, num_values, cell
        self.hidden_size, self.num_layers = hidden_size, num_layers
        self.start = num_values  # the start token's input id
        self.embedding = None if embedding_dim is None else nn.Embedding(num_values + 1,
                                                                          embedding_dim)
        self.rnn = CELLS[cell](embedding_dim or num_values + 1, hidden_size,
                               num_layers=num_layers, batch_first=True)
        self.head = nn.Linear(hidden_size, 1 if num_values == 2 else num_values)
        self.temperature = 1.0

    def _inputs(self, ids: torch.Tensor) -> torch.Tensor:
        """One-hot rows (or embeddings) of input ids (B, T): (B, T, E)."""
        ids = ids.long()
        if self.embedding is not None:
            return self.embedding(ids)
        return F.one_hot(ids, self.num_values + 1).to(self.head.weight.dtype)

    def _head(self, out: torch.Tensor) -> torch.Tensor:
        logits = self.head(out) / self.temperature
        return logits.squeeze(-1) if self.num_values == 2 else logits

    def run(self, inputs: torch.Tensor, state: Any = None) -> tuple[torch.Tensor, Any]:
        """Logits after every input and the final state: ``inputs`` (B, T) ids.

        ``logits[:, t]`` is the distribution of the symbol that *follows* ``inputs[:, t]``.
        ``state`` (None: h_0 = 0) is the hidden state of the previous chunk (for an LSTM the
        pair (h, c)); this is the call for truncated BPTT over
        :class:`~course.data.text.BPTTBatches`.
        """
        out, state = self.rnn(self._inputs(inputs.to(self.head.weight.device)), state)
        return self._head(out), state

    def shifted(self, x: torch.Tensor) -> torch.Tensor:
        """The inputs for predicting x: ``[start, x_1, ..., x_{T-1}]`` (B, T)."""
        x = x.long()
        start = torch.full_like(x[:, :1], self.start)
        return torch.cat([start, x[:, :-1]], dim=1)

    def logits(self, x: torch.Tensor) -> torch.Tensor:
        """Logits of p(x_t | x_<t) for every t in one pass: (B, T) or (B, T, K)."""
        return self.run(self.shifted(x))[0]

    # --- sampling hooks: the state is (output at the last input, hidden state) ---------

    def init_state(self, num_samples: int) -> Any:
        dev = self.head.weight.device
        start = torch.full((num_samples, 1), self.start, dtype=torch.long, device=dev)
        out, hidden = self.rnn(self._inputs(start))
        return out[:, -1], hidden

    def next_logits(self, x: torch.Tensor, i: int, state: Any) -> tuple[torch.Tensor, Any]:
        return self._head(state[0]), state

    def advance(self, x: torch.Tensor, i: int, state: Any) -> Any:
        out, hidden = self.rnn(self._inputs(x[:, i : i + 1]), state[1])
        return out[:, -1], hidden

    @contextlib.contextmanager
    def at_temperature(self, temperature: float) -> Iterator[RecurrentModel]:
        """Within the block, every logit is divided by ``temperature`` (> 0)."""
        if not temperature > 0:
            raise ValueError(f"temperature must be positive, got {temperature}")
        saved, self.temperature = self.temperature, float(temperature)
        try:
            yield self
        finally:
            self.temperature = saved

    @torch.no_grad()
    def sample(self, num_samples: int, generator: torch.Generator | None = None,
               condition: Any = None, *, temperature: float | None = None,
               length: int | None = None) -> torch.Tensor:
        """Ancestral samples (num_samples, length or n), by the base sampler.

        ``condition`` is the base contract's partial sequence (NaN = unknown), or a
        *prompt*: a 1-D sequence of ids shorter than the length, which fixes the first
        symbols (sampling then continues it from p(x_rest | prompt)). ``temperature``
        (default: the model's) and ``length`` (default ``n``) hold for this call only.
        """
        length = self.n if length is None else int(length)
        if condition is not None:
            condition = torch.as_tensor(condition, dtype=torch.float64).cpu()
            if condition.dim() == 1 and len(condition) < length:
                pad = torch.full((length - len(condition),), float("nan"), dtype=torch.float64)
                condition = torch.cat([condition, pad])
        saved_n, self.n = self.n, length
        try:
            with self.at_temperature(self.temperature if temperature is None else temperature):
                return ancestral_sample(self, num_samples, generator, condition)
        finally:
            self.n = saved_n

    def num_parameters(self) -> int:
        return sum(p.numel() for p in self.parameters())


class CharRNN(RecurrentModel):
    """A character-level language model (Karpathy, 2015) over ``vocab_size`` symbols.

    Args:
        vocab_size: V, the number of symbols (``len(course.data.shakespeare_vocabulary())``).
        hidden_size: units per layer; ``cell``: "rnn", "gru" or "lstm"; ``num_layers``.
        n: default sample length; ``embedding_dim``: None for one-hot inputs.
    """

    def __init__(self, vocab_size: int, hidden_size: int = 128, cell: str = "lstm",
                 num_layers: int = 1, n: int = 100, embedding_dim: int | None = None) -> None:
        super().__init__(n, vocab_size, hidden_size, cell, num_layers, embedding_dim)


class PixelRNN(RecurrentModel):
    """An LSTM over the raster scan of ``n`` binary pixels (784 for MNIST); logits (B, n).

    x_i = 1 means an inked pixel; p(x_i = 1 | x_<i) = sigmoid(o_i). Completion of a top
    half is ``sample(k, condition=half)`` with NaN for the unknown pixels.
    """

    def __init__(self, n: int = 784, hidden_size: int = 128, num_layers: int = 1,
                 cell: str = "lstm") -> None:
        super().__init__(n, 2, hidden_size, cell, num_layers, None)


def open_forget_gates_(model: RecurrentModel, bias: float = 1.0) -> RecurrentModel:
    """Set the forget gates' input bias of an LSTM model to ``bias``, in place.

    With the default initialization the forget gates start half closed, so the memory
    decays by about half per step and a pixel LSTM stalls for hundreds of steps on a
    plateau; a bias of 1 keeps the memory until the model learns to forget (Gers,
    Schmidhuber & Cummins, 2000; Jozefowicz, Zaremba & Sutskever, 2015). torch orders
    the gates (input, forget, cell, output): rows H..2H of ``bias_ih``.
    """
    if model.cell != "lstm":
        raise ValueError(f"only an LSTM has forget gates, this model's cell is {model.cell!r}")
    size = model.hidden_size
    with torch.no_grad():
        for layer in range(model.num_layers):
            getattr(model.rnn, f"bias_ih_l{layer}")[size : 2 * size].fill_(bias)
    return model


# ---------------------------------------------------------------------------------------
# Training by truncated BPTT, and bits per character


def fit_bptt(model: RecurrentModel, batches: Iterable[tuple[Any, Any]], *, epochs: int = 1,
             max_seconds: float | None = None, max_steps: int | None = None, lr: float = 2e-3,
             clip: float | None = 5.0, optimizer: torch.optim.Optimizer | None = None,
             progress: bool | None = None,
             clock: Callable[[], float] = time.perf_counter) -> list[float]:
    """Train on chunks (inputs, targets) with the hidden state carried across chunks.

    Each step: logits, state = model.run(inputs, detach_state(state)); the loss is the
    mean cross-entropy in nats per character; the gradient norm is clipped to ``clip``
    (Pascanu, Mikolov & Bengio, 2013) before Adam's step. Stops after ``epochs`` passes,
    ``max_steps`` steps or ``max_seconds`` seconds of ``clock``, whichever comes first
    (``clock=time.process_time`` makes it CPU seconds, which do not depend on the
    machine's load). Returns the loss of every step (nats per character).
    """
    dev = next(model.parameters()).device
    opt = optimizer or torch.optim.Adam(model.parameters(), lr=lr)
    show = (not in_autograder()) if progress is None else progress
    losses: list[float] = []
    start = clock()
    model.train()
    for _ in range(epochs):
        state = None
        for inputs, targets in tqdm(batches, desc="chunks", disable=not show, leave=False):
            inputs = torch.as_tensor(inputs, device=dev)
            targets = torch.as_tensor(targets, device=dev).long()
            logits, state = model.run(inputs, detach_state(state))
            loss = F.cross_entropy(logits.reshape(-1, logits.shape[-1]), targets.reshape(-1))
            opt.zero_grad(set_to_none=True)
            loss.backward()
            if clip is not None:
                nn.utils.clip_grad_norm_(model.parameters(), clip)
            opt.step()
            losses.append(loss.item())
            done = max_steps is not None and len(losses) >= max_steps
            if done or (max_seconds is not None and clock() - start > max_seconds):
                return losses
    return losses


@torch.no_grad()
def bits_per_char(model: RecurrentModel, ids: Any, num_streams: int = 50,
                  seq_len: int = 500) -> float:
    """-log2 p(ids) / len(ids): every symbol scored, the state carried along the text.

    The ids are cut into ``num_streams`` contiguous streams (the last one shorter, padded
    and masked); each stream starts from the start token, so the first symbol of a stream
    is scored by p(x_1) and every other by p(x_t | the stream so far)
    (:func:`course.train.recurrent_bits_per_symbol` with ``start=model.start``).
    """
    if model.num_values == 2:
        raise ValueError("bits_per_char is for categorical models (num_values > 2)")
    dev = next(model.parameters()).device

    def run(inputs: np.ndarray, state: Any) -> tuple[torch.Tensor, Any]:
        logits, state = model.run(torch.as_tensor(inputs, device=dev), state)
        return logits.double(), state

    was_training = model.training
    model.eval()
    try:
        return recurrent_bits_per_symbol(run, ids, num_streams=num_streams, seq_len=seq_len,
                                         start=model.start)
    finally:
        model.train(was_training)


# ---------------------------------------------------------------------------------------
# Vanishing and exploding gradients


def hidden_jacobian_norms(cell: nn.RNNCell | nn.LSTMCell, inputs: torch.Tensor) -> np.ndarray:
    """||dh_T / dh_t||_F for t = 1, ..., T (entry t - 1): how much h_T still depends on h_t.

    Bengio, Simard & Frasconi (1994), "Learning long-term dependencies with gradient descent
    is difficult"; Pascanu, Mikolov & Bengio (2013), "On the difficulty of training
    recurrent neural networks", eqs. 3-5: dh_T/dh_t is a product of T - t one-step
    Jacobians, so its norm shrinks or grows geometrically in T - t unless the steps keep it
    near 1. ``cell`` is an ``nn.RNNCell`` (tanh) or ``nn.LSTMCell``; ``inputs`` (T, D) is
    one sequence, from h_0 = 0 (and c_0 = 0). For an LSTM the derivative is partial, c_t
    held fixed: h_t reaches h_T through the gates and memory cells of the later steps.
    Computed by multiplying the (2H x 2H for an LSTM) Jacobians of single steps from T
    backwards, in the cell's dtype; the last entry is ||I||_F = sqrt(H).
    """
    lstm = isinstance(cell, nn.LSTMCell)
    size = cell.hidden_size
    inputs = inputs.to(next(cell.parameters()).dtype)
    zero = torch.zeros(size, dtype=inputs.dtype)
    state = torch.cat([zero, zero]) if lstm else zero

    def step(x: torch.Tensor, state: torch.Tensor) -> torch.Tensor:
        if lstm:
            h, c = cell(x[None], (state[None, :size], state[None, size:]))
            return torch.cat([h[0], c[0]])
        return cell(x[None], state[None])[0]

    jacobians = []
    with torch.no_grad():
        states = [state]
        for x in inputs:
            states.append(step(x, states[-1]))
    for t in range(1, len(inputs)):  # d state_{t+1} / d state_t, for t = 1 .. T-1
        jacobians.append(torch.autograd.functional.jacobian(
            lambda s, x=inputs[t]: step(x, s), states[t], vectorize=True))
    wanted = torch.eye(size, len(state), dtype=inputs.dtype)  # dh_T / d state_T
    norms = [wanted[:, :size].norm()]
    for jacobian in reversed(jacobians):
        wanted = wanted @ jacobian
        norms.append(wanted[:, :size].norm())
    return np.array([n.item() for n in reversed(norms)])


# ---------------------------------------------------------------------------------------
# Registered examples for the contract test (tiny V and n, random weights)


def _randomized(model: RecurrentModel, seed: int, scale: float, head_scale: float
                ) -> RecurrentModel:
    """N(0, scale^2) weights, the output layer's N(0, head_scale^2): the conditionals
    then depend strongly on the past without being peaked (both matter to the
    contract test's chi-square checks)."""
    randomize_(model, seed, scale=scale)
    with torch.no_grad():
        for param in model.head.parameters():
            param.mul_(head_scale / scale)
    return model


def _example(cell: str, scale: float, head_scale: float) -> Any:
    def example(n: int, seed: int) -> CharRNN:
        return _randomized(CharRNN(3, hidden_size=4, cell=cell, n=n), seed, scale, head_scale)

    return example


register("char-rnn", CharRNN, "Elman (1990); Karpathy (2015)")(_example("rnn", 1.0, 0.5))
register("char-gru", CharRNN, "Cho et al. (2014); Karpathy (2015)")(_example("gru", 2.0, 0.5))
register("char-lstm", CharRNN, "Hochreiter & Schmidhuber (1997); Karpathy (2015)")(
    _example("lstm", 2.0, 0.8))


@register("pixel-rnn", PixelRNN, "van den Oord et al. (2016)")
def _pixel_example(n: int, seed: int) -> PixelRNN:
    return _randomized(PixelRNN(n, hidden_size=8), seed, 2.0, 1.0)
