"""Recurrent networks in the tests: Assignment 5's references, its named mistakes, autograd.

Assignment 5 writes a vanilla RNN by hand in NumPy (Elman, 1990, "Finding structure in
time"), with row vectors as in CS231n::

    h_t = tanh(x_t Wx + h_{t-1} Wh + b),   logits_t = h_t Wy + by,
    loss = -(1 / (N T)) sum_{n,t} log softmax(logits_{n,t})[target_{n,t}]   (nats per char)

and backpropagation through time (Werbos, 1990, "Backpropagation through time: what it
does and how to do it"): the gradient reaching h_t is the loss's own dh_t plus the one
carried back from step t + 1. Then it trains that model on Shakespeare (Karpathy, 2015),
a torch LSTM language model (teacher forcing: the inputs are the targets shifted by one),
the same LSTM on raster-scanned digits, and the norms of dh_T/dh_t (Bengio, Simard &
Frasconi, 1994; Pascanu, Mikolov & Bengio, 2013).

- ``reference_*``: the references as NumPy functions in float64, to stand in for a
  student's (``course.checks.standing_in``) and to give the hidden tests' expected values;
- ``*_mistakes``: ``{explanation: the value that mistake gives}`` for ``assert_close``'s
  ``mistakes`` (unshifted targets, BPTT without the carried gradient, gradients clipped
  before the gradient check, a softmax over the time axis, ...);
- ``torch_*``: the same quantities from torch autograd, an independent computation;
- ``check_*``: a student's result against both, naming the mistake;
- :func:`to_reference_lm`: a student's torch LSTM language model as
  :class:`course.models.CharRNN`;
- :func:`visible_cases`: the inputs, expected values and mistakes of the visible tests,
  stored by ``python -m autograder release`` in ``course/expected/05-rnn.json``.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

from course.checks.core import CheckFailure, assert_close
from course.checks.distributions import all_states
from course.models import CharRNN
from course.models.ngram import NGramModel
from course.models.rnn import hidden_jacobian_norms
from course.numeric import sigmoid, to_numpy
from course.train import recurrent_bits_per_symbol

__all__ = [
    "PARAM_NAMES",
    "STAND_INS",
    "char_rnn_exact_probs",
    "check_char_rnn_grads",
    "check_rnn_backward",
    "check_rnn_step_backward",
    "check_temporal_softmax_loss",
    "char_rnn_mistakes",
    "clip_gradients_mistakes",
    "clipped_gradient_mistakes",
    "embedding_backward_mistakes",
    "jacobian_norms_mistakes",
    "lm_logits_mistakes",
    "lm_log_prob_mistakes",
    "markov_bits_mistakes",
    "random_char_rnn_params",
    "random_rnn_inputs",
    "reference_char_rnn_bits",
    "reference_char_rnn_loss_and_grads",
    "reference_clip_gradients",
    "reference_embedding_backward",
    "reference_embedding_forward",
    "reference_jacobian_norms",
    "reference_lm_log_prob",
    "reference_lm_logits",
    "reference_markov_bits",
    "reference_rnn_backward",
    "reference_rnn_forward",
    "reference_rnn_step_backward",
    "reference_rnn_step_forward",
    "reference_temperature_softmax",
    "reference_temporal_softmax_loss",
    "rnn_backward_mistakes",
    "rnn_backward_without_carry",
    "rnn_forward_mistakes",
    "rnn_step_backward_mistakes",
    "rnn_step_forward_mistakes",
    "softmax_loss_wrong_axis",
    "stand_ins",
    "temperature_softmax_mistakes",
    "temporal_softmax_loss_mistakes",
    "to_reference_lm",
    "torch_char_rnn_loss_and_grads",
    "torch_rnn_forward_backward",
    "torch_temporal_softmax_loss",
    "visible_cases",
]

#: The parameters of the NumPy character RNN, in this order.
PARAM_NAMES = ("W_embed", "Wx", "Wh", "b", "Wy", "by")

Cache = tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]


def _f64(value: Any) -> np.ndarray:
    return np.asarray(to_numpy(value), dtype=np.float64)


# ---------------------------------------------------------------------------------------
# Seeded inputs


def random_rnn_inputs(batch: int, steps: int, input_dim: int, hidden: int, seed: int,
                      scale: float = 1.0) -> dict[str, np.ndarray]:
    """x (N, T, D), h0 (N, H), Wx (D, H), Wh (H, H), b (H,) and an upstream dh (N, T, H)."""
    rng = np.random.default_rng(seed)
    return {
        "x": rng.standard_normal((batch, steps, input_dim)),
        "h0": rng.standard_normal((batch, hidden)) * 0.5,
        "Wx": scale * rng.standard_normal((input_dim, hidden)) / math.sqrt(input_dim),
        "Wh": scale * rng.standard_normal((hidden, hidden)) / math.sqrt(hidden),
        "b": 0.3 * rng.standard_normal(hidden),
        "dh": rng.standard_normal((batch, steps, hidden)),
    }


def random_char_rnn_params(vocab_size: int, embed_dim: int, hidden: int, seed: int,
                           scale: float = 1.0, output_scale: float = 1.0
                           ) -> dict[str, np.ndarray]:
    """Random float64 parameters of the NumPy character RNN (keys :data:`PARAM_NAMES`)."""
    rng = np.random.default_rng(seed)
    return {
        "W_embed": scale * rng.standard_normal((vocab_size, embed_dim)),
        "Wx": scale * rng.standard_normal((embed_dim, hidden)) / math.sqrt(embed_dim),
        "Wh": scale * rng.standard_normal((hidden, hidden)) / math.sqrt(hidden),
        "b": 0.3 * rng.standard_normal(hidden),
        "Wy": output_scale * rng.standard_normal((hidden, vocab_size)) / math.sqrt(hidden),
        "by": 0.3 * rng.standard_normal(vocab_size),
    }


# ---------------------------------------------------------------------------------------
# References (NumPy, float64): the functions of Parts 1 and 2


def reference_rnn_step_forward(x: Any, h_prev: Any, Wx: Any, Wh: Any, b: Any
                               ) -> tuple[np.ndarray, Cache]:
    """h_next = tanh(x Wx + h_prev Wh + b) and the cache (x, h_prev, Wx, Wh, h_next)."""
    x, h_prev, Wx, Wh, b = (_f64(v) for v in (x, h_prev, Wx, Wh, b))
    h_next = np.tanh(x @ Wx + h_prev @ Wh + b)
    return h_next, (x, h_prev, Wx, Wh, h_next)


def reference_rnn_step_backward(dh_next: Any, cache: Cache
                                ) -> tuple[np.ndarray, ...]:
    """(dx, dh_prev, dWx, dWh, db) from dL/dh_next; tanh'(a) = 1 - h_next^2."""
    x, h_prev, Wx, Wh, h_next = (_f64(v) for v in cache)
    da = _f64(dh_next) * (1.0 - h_next**2)
    return da @ Wx.T, da @ Wh.T, x.T @ da, h_prev.T @ da, da.sum(axis=0)


def reference_rnn_forward(x: Any, h0: Any, Wx: Any, Wh: Any, b: Any
                          ) -> tuple[np.ndarray, list[Cache]]:
    """Hidden states h (N, T, H) for inputs x (N, T, D) from h0; the cache lists the T
    step caches."""
    x = _f64(x)
    h, caches, states = _f64(h0), [], []
    for t in range(x.shape[1]):
        h, cache = reference_rnn_step_forward(x[:, t], h, Wx, Wh, b)
        states.append(h)
        caches.append(cache)
    return np.stack(states, axis=1), caches


def _bptt(dh: np.ndarray, cache: list[Cache], carry: bool = True, local: bool = True,
          backwards: bool = True) -> tuple[np.ndarray, ...]:
    """BPTT over the step caches; the switches make the named mistakes."""
    dh = _f64(dh)
    N, T, _ = dh.shape
    x0, _, Wx, Wh, _ = cache[0]
    dx = np.zeros((N, T, Wx.shape[0]))
    dWx, dWh, db = np.zeros_like(Wx), np.zeros_like(Wh), np.zeros(Wh.shape[0])
    dh_next = np.zeros((N, Wh.shape[0]))
    for t in (reversed(range(T)) if backwards else range(T)):
        upstream = (dh[:, t] if local or t == T - 1 else 0.0) + (dh_next if carry else 0.0)
        dx[:, t], dh_prev, dWx_t, dWh_t, db_t = reference_rnn_step_backward(upstream, cache[t])
        dWx, dWh, db = dWx + dWx_t, dWh + dWh_t, db + db_t
        dh_next = dh_prev
    return dx, dh_next, dWx, dWh, db


def reference_rnn_backward(dh: Any, cache: list[Cache]) -> tuple[np.ndarray, ...]:
    """(dx, dh0, dWx, dWh, db) of BPTT from the upstream gradients dh (N, T, H): step t
    receives dh[:, t] plus the gradient carried back from step t + 1."""
    return _bptt(dh, cache)


def reference_embedding_forward(ids: Any, W: Any) -> np.ndarray:
    """Rows W[ids]: one-hot(ids) @ W without the one-hot, (N, T, D)."""
    return _f64(W)[np.asarray(ids, dtype=np.int64)]


def reference_embedding_backward(dout: Any, ids: Any, vocab_size: int) -> np.ndarray:
    """dW (V, D): dout[n, t] added to row ids[n, t], repeated ids accumulating."""
    dout = _f64(dout)
    dW = np.zeros((vocab_size, dout.shape[-1]))
    np.add.at(dW, np.asarray(ids, dtype=np.int64), dout)
    return dW


def _log_softmax(z: np.ndarray, axis: int = -1) -> np.ndarray:
    top = z.max(axis=axis, keepdims=True)
    return z - top - np.log(np.exp(z - top).sum(axis=axis, keepdims=True))


def reference_temporal_softmax_loss(logits: Any, targets: Any) -> tuple[float, np.ndarray]:
    """Mean cross-entropy in nats over all N T positions, and dL/dlogits (N, T, V)."""
    logits, targets = _f64(logits), np.asarray(targets, dtype=np.int64)
    log_p = _log_softmax(logits)
    picked = np.take_along_axis(log_p, targets[..., None], axis=-1)[..., 0]
    count = targets.size
    dlogits = np.exp(log_p)
    np.put_along_axis(dlogits, targets[..., None],
                      np.take_along_axis(dlogits, targets[..., None], axis=-1) - 1.0, axis=-1)
    return float(-picked.mean()), dlogits / count


def reference_char_rnn_loss_and_grads(params: Mapping[str, Any], inputs: Any, targets: Any,
                                      h0: Any) -> tuple[float, dict[str, np.ndarray],
                                                        np.ndarray]:
    """(mean loss in nats per character, gradients by name, last hidden state (N, H))."""
    return _char_rnn(params, inputs, targets, h0)


def _char_rnn(params: Mapping[str, Any], inputs: Any, targets: Any, h0: Any,
              backward: Any = None, loss_fn: Any = None
              ) -> tuple[float, dict[str, np.ndarray], np.ndarray]:
    """The character RNN's loss and gradients; ``backward`` and ``loss_fn`` replace BPTT
    and the softmax loss (to compute what a mistake in them gives)."""
    backward = backward or reference_rnn_backward
    loss_fn = loss_fn or reference_temporal_softmax_loss
    p = {k: _f64(params[k]) for k in PARAM_NAMES}
    inputs = np.asarray(inputs, dtype=np.int64)
    h, cache = reference_rnn_forward(reference_embedding_forward(inputs, p["W_embed"]), h0,
                                     p["Wx"], p["Wh"], p["b"])
    logits = h @ p["Wy"] + p["by"]
    loss, dlogits = loss_fn(logits, targets)
    hidden, vocab = h.shape[-1], logits.shape[-1]
    grads = {"Wy": h.reshape(-1, hidden).T @ dlogits.reshape(-1, vocab),
             "by": dlogits.sum(axis=(0, 1))}
    dx, _, grads["Wx"], grads["Wh"], grads["b"] = backward(dlogits @ p["Wy"].T, cache)
    grads["W_embed"] = reference_embedding_backward(dx, inputs, vocab)
    return loss, {k: grads[k] for k in PARAM_NAMES}, h[:, -1]


def _global_norm(grads: Mapping[str, Any]) -> float:
    return math.sqrt(sum(float((_f64(g) ** 2).sum()) for g in grads.values()))


def reference_clip_gradients(grads: Mapping[str, Any], max_norm: float
                             ) -> dict[str, np.ndarray]:
    """Every gradient times min(1, max_norm / global norm) (Pascanu et al., 2013, Alg. 1)."""
    norm = _global_norm(grads)
    factor = max_norm / norm if norm > max_norm else 1.0
    return {k: _f64(g) * factor for k, g in grads.items()}


def reference_temperature_softmax(logits: Any, temperature: float) -> np.ndarray:
    """softmax(logits / temperature) over the last axis, computed stably."""
    return np.exp(_log_softmax(_f64(logits) / temperature))


def reference_char_rnn_bits(params: Mapping[str, Any], ids: Any, **kwargs: Any) -> float:
    """Bits per character of ``ids`` under the NumPy model (state carried, the first
    symbol of each stream not scored; :func:`course.train.recurrent_bits_per_symbol`)."""
    p = {k: _f64(params[k]) for k in PARAM_NAMES}

    def run(inputs: np.ndarray, h: np.ndarray | None) -> tuple[np.ndarray, np.ndarray]:
        h = np.zeros((len(inputs), p["Wh"].shape[0])) if h is None else h
        hs, _ = reference_rnn_forward(p["W_embed"][inputs], h, p["Wx"], p["Wh"], p["b"])
        return hs @ p["Wy"] + p["by"], hs[:, -1]

    return recurrent_bits_per_symbol(run, ids, **kwargs)


def char_rnn_exact_probs(params: Mapping[str, Any], prompt: Any, length: int,
                         temperature: float = 1.0) -> np.ndarray:
    """p(continuation | prompt) of every one of the V^length continuations, in the order
    of :func:`course.checks.all_states`, at ``temperature``."""
    p = {k: _f64(params[k]) for k in PARAM_NAMES}
    vocab = p["Wy"].shape[1]
    states = all_states(length, vocab)
    prompt = np.asarray(prompt, dtype=np.int64)
    seqs = np.concatenate([np.tile(prompt, (len(states), 1)), states], axis=1)
    h0 = np.zeros((len(seqs), p["Wh"].shape[0]))
    hs, _ = reference_rnn_forward(p["W_embed"][seqs[:, :-1]], h0, p["Wx"], p["Wh"], p["b"])
    log_p = _log_softmax((hs @ p["Wy"] + p["by"]) / temperature)[:, len(prompt) - 1:]
    picked = np.take_along_axis(log_p, states[..., None], axis=-1)[..., 0]
    return np.exp(picked.sum(axis=1))


def _char_rnn_greedy(params: Mapping[str, Any], prompt: Any, length: int) -> np.ndarray:
    p = {k: _f64(params[k]) for k in PARAM_NAMES}
    seq = [int(i) for i in prompt]
    for _ in range(length):
        hs, _ = reference_rnn_forward(p["W_embed"][np.array([seq])], np.zeros((1, len(p["b"]))),
                                      p["Wx"], p["Wh"], p["b"])
        seq.append(int(np.argmax(hs[0, -1] @ p["Wy"] + p["by"])))
    return np.array(seq[len(prompt):])


def reference_markov_bits(train_ids: Any, valid_ids: Any, vocab_size: int, order: int
                          ) -> float:
    """Bits per character of valid_ids[order:] under the add-one Markov chain of ``order``
    (0: unigram, 1: bigram, ...) counted on train_ids, each symbol with its full context."""
    model = NGramModel(order + 1, vocab_size, "add-one").fit(train_ids)
    valid = np.asarray(valid_ids, dtype=np.int64)
    nats = model.log_prob(valid) - model.log_prob(valid[:order])
    return -nats / ((len(valid) - order) * math.log(2.0))


# ---------------------------------------------------------------------------------------
# Torch autograd: the same quantities, computed independently


def _t(value: Any, grad: bool = False) -> torch.Tensor:
    return torch.tensor(_f64(value), dtype=torch.float64, requires_grad=grad)


def torch_rnn_forward_backward(x: Any, h0: Any, Wx: Any, Wh: Any, b: Any, dh: Any
                               ) -> tuple[np.ndarray, tuple[np.ndarray, ...]]:
    """h (N, T, H) and (dx, dh0, dWx, dWh, db) of sum(h * dh), by torch autograd."""
    leaves = [_t(v, grad=True) for v in (x, h0, Wx, Wh, b)]
    x_t, h, Wx_t, Wh_t, b_t = leaves
    states = []
    for t in range(x_t.shape[1]):
        h = torch.tanh(x_t[:, t] @ Wx_t + h @ Wh_t + b_t)
        states.append(h)
    hs = torch.stack(states, dim=1)
    (hs * _t(dh)).sum().backward()
    return hs.detach().numpy(), tuple(leaf.grad.numpy() for leaf in leaves)


def torch_temporal_softmax_loss(logits: Any, targets: Any) -> tuple[float, np.ndarray]:
    """F.cross_entropy over all N T positions (nats) and its gradient, by autograd."""
    z = _t(logits, grad=True)
    targets = torch.as_tensor(np.asarray(targets, dtype=np.int64))
    loss = F.cross_entropy(z.reshape(-1, z.shape[-1]), targets.reshape(-1))
    loss.backward()
    return loss.item(), z.grad.numpy()


def torch_char_rnn_loss_and_grads(params: Mapping[str, Any], inputs: Any, targets: Any,
                                  h0: Any) -> tuple[float, dict[str, np.ndarray],
                                                    np.ndarray]:
    """The character RNN's mean loss, gradients and last state, by torch autograd."""
    p = {k: _t(params[k], grad=True) for k in PARAM_NAMES}
    inputs = torch.as_tensor(np.asarray(inputs, dtype=np.int64))
    x, h, states = p["W_embed"][inputs], _t(h0), []
    for t in range(x.shape[1]):
        h = torch.tanh(x[:, t] @ p["Wx"] + h @ p["Wh"] + p["b"])
        states.append(h)
    logits = torch.stack(states, dim=1) @ p["Wy"] + p["by"]
    loss = F.cross_entropy(logits.reshape(-1, logits.shape[-1]),
                           torch.as_tensor(np.asarray(targets, dtype=np.int64)).reshape(-1))
    loss.backward()
    return loss.item(), {k: p[k].grad.numpy() for k in PARAM_NAMES}, h.detach().numpy()


# ---------------------------------------------------------------------------------------
# Named mistakes


def rnn_step_forward_mistakes(x: Any, h_prev: Any, Wx: Any, Wh: Any, b: Any
                              ) -> dict[str, np.ndarray]:
    """{explanation: h_next that mistake gives}."""
    x, h_prev, Wx, Wh, b = (_f64(v) for v in (x, h_prev, Wx, Wh, b))
    a = x @ Wx + h_prev @ Wh + b
    return {
        "h_next is missing the tanh: h_next = tanh(x Wx + h_prev Wh + b).": a,
        "Wh is used transposed: with row vectors the recurrent term is h_prev @ Wh, like "
        "x @ Wx.": np.tanh(x @ Wx + h_prev @ Wh.T + b),
        "The bias b is missing: h_next = tanh(x Wx + h_prev Wh + b).":
            np.tanh(x @ Wx + h_prev @ Wh),
        "A sigmoid where the tanh belongs: h_next = tanh(x Wx + h_prev Wh + b).": sigmoid(a),
    }


def rnn_forward_mistakes(x: Any, h0: Any, Wx: Any, Wh: Any, b: Any) -> dict[str, np.ndarray]:
    """{explanation: the hidden states (N, T, H) that mistake gives}."""
    x, h0 = _f64(x), _f64(h0)
    zeros = reference_rnn_forward(x, np.zeros_like(h0), Wx, Wh, b)[0]
    restart = np.stack([reference_rnn_step_forward(x[:, t], h0, Wx, Wh, b)[0]
                        for t in range(x.shape[1])], axis=1)
    return {
        "h0 is ignored: the first step starts from h0, h[:, 0] = tanh(x[:, 0] Wx + h0 Wh + b).":
            zeros,
        "The state is not carried: every step starts from h0, but step t must start from "
        "h[:, t-1], the state the previous step returned.": restart,
    }


_TANH_MISTAKES = {
    "tanh_of_h": "tanh' is taken at h_next: tanh'(a) = 1 - tanh(a)^2 = 1 - h_next^2, where "
    "h_next = tanh(a) is already in the cache; 1 - tanh(h_next)^2 applies tanh twice.",
    "one_minus_h": "tanh'(a) is 1 - h_next^2, not 1 - h_next.",
    "no_derivative": "The tanh is not backpropagated: da = dh_next * (1 - h_next^2) before "
    "the matrix products.",
}


def rnn_step_backward_mistakes(dh_next: Any, cache: Cache) -> dict[str, dict[str, np.ndarray]]:
    """For each output of rnn_step_backward (dx, dh_prev, dWx, dWh, db): {explanation:
    the value that mistake gives}."""
    x, h_prev, Wx, Wh, h_next = (_f64(v) for v in cache)
    dh_next = _f64(dh_next)
    wrong_da = {
        "tanh_of_h": dh_next * (1.0 - np.tanh(h_next) ** 2),
        "one_minus_h": dh_next * (1.0 - h_next),
        "no_derivative": dh_next,
    }
    out: dict[str, dict[str, np.ndarray]] = {k: {} for k in ("dx", "dh_prev", "dWx", "dWh", "db")}
    for key, da in wrong_da.items():
        text = _TANH_MISTAKES[key]
        for name, value in zip(out, (da @ Wx.T, da @ Wh.T, x.T @ da, h_prev.T @ da,
                                     da.sum(axis=0)), strict=True):
            out[name][text] = value
    da = dh_next * (1.0 - h_next**2)
    out["dWh"]["dWh uses h_next where h_prev belongs: dWh = h_prev.T @ da (h_prev is what "
               "Wh multiplies)."] = h_next.T @ da
    out["dWh"]["dWh is transposed: dWh = h_prev.T @ da."] = da.T @ h_prev
    out["dh_prev"]["dh_prev uses Wh without the transpose: dh_prev = da @ Wh.T."] = da @ Wh
    out["dx"]["dx uses Wx without the transpose: dx = da @ Wx.T."] = (
        da @ Wx if Wx.shape[0] == Wx.shape[1] else None)
    return out


_NO_CARRY = (
    "BPTT drops the carried gradient: h_t also feeds step t + 1, so the gradient reaching "
    "h_t is dh[:, t] PLUS the dh_prev that step t + 1 sends back. Start with dh_next = 0 at "
    "t = T - 1 and backpropagate dh[:, t] + dh_next at every step."
)
_ONLY_CARRY = (
    "Only the carried gradient flows back: at step t backpropagate dh[:, t] + dh_next, the "
    "loss's own gradient at step t plus the one from step t + 1."
)
_FORWARD_LOOP = (
    "The BPTT loop runs forward in time: start at the last step, t = T - 1, and go back to "
    "t = 0 (reversed(range(T))), carrying dh_next from step t + 1 to step t."
)


def rnn_backward_without_carry(dh: Any, cache: list[Cache]) -> tuple[np.ndarray, ...]:
    """What BPTT gives when the gradient carried from step t + 1 is dropped."""
    return _bptt(dh, cache, carry=False)


def rnn_backward_mistakes(dh: Any, cache: list[Cache]) -> dict[str, dict[str, np.ndarray]]:
    """For each output of rnn_backward (dx, dh0, dWx, dWh, db): {explanation: value}."""
    variants = {
        _NO_CARRY: rnn_backward_without_carry(dh, cache),
        _ONLY_CARRY: _bptt(dh, cache, local=False),
        _FORWARD_LOOP: _bptt(dh, cache, backwards=False),
    }
    names = ("dx", "dh0", "dWx", "dWh", "db")
    return {name: {text: values[k] for text, values in variants.items()}
            for k, name in enumerate(names)}


def embedding_backward_mistakes(dout: Any, ids: Any, vocab_size: int) -> dict[str, np.ndarray]:
    """{explanation: dW that mistake gives}."""
    dout, ids = _f64(dout), np.asarray(ids, dtype=np.int64)
    lost = np.zeros((vocab_size, dout.shape[-1]))
    lost[ids.ravel()] += dout.reshape(-1, dout.shape[-1])  # buffered: the last write wins
    return {
        "Repeated ids lose their gradients: dW[ids] += dout writes each row once (NumPy "
        "buffers fancy-index updates). Use np.add.at(dW, ids, dout), which accumulates.": lost,
    }


def softmax_loss_wrong_axis(logits: Any, targets: Any) -> tuple[float, np.ndarray]:
    """What a softmax over the time axis (axis 1) instead of the symbols gives: the loss
    and the usual dlogits = (p - onehot) / (N T) formula with that p."""
    logits, targets = _f64(logits), np.asarray(targets, dtype=np.int64)
    log_p = _log_softmax(logits, axis=1)
    picked = np.take_along_axis(log_p, targets[..., None], axis=-1)[..., 0]
    d = np.exp(log_p)
    np.put_along_axis(d, targets[..., None],
                      np.take_along_axis(d, targets[..., None], axis=-1) - 1.0, axis=-1)
    return float(-picked.mean()), d / targets.size


def temporal_softmax_loss_mistakes(logits: Any, targets: Any
                                   ) -> dict[str, dict[str, Any]]:
    """{"loss": {explanation: value}, "dlogits": {explanation: value}}."""
    loss, dlogits = reference_temporal_softmax_loss(logits, targets)
    wrong_loss, wrong_d = softmax_loss_wrong_axis(logits, targets)
    count, steps = np.asarray(targets).size, np.asarray(targets).shape[1]
    axis = ("The softmax is taken over the wrong axis (time, axis 1): each position's "
            "distribution is over the V symbols, the LAST axis (axis=-1).")
    summed = (f"The loss is summed over the N T = {count} positions: it is the MEAN, in nats "
              "per character (and dlogits = (p - onehot) / (N T)).")
    per_sequence = (f"The loss is summed over the T = {steps} steps and averaged over the "
                    "batch only: average over all N T positions (nats per character).")
    return {
        "loss": {axis: wrong_loss, summed: loss * count, per_sequence: loss * steps,
                 "The loss is in bits: use the natural log (nats).": loss / math.log(2.0),
                 "The loss has the wrong sign: it is the NEGATIVE log-likelihood (>= 0).":
                     -loss},
        "dlogits": {axis: wrong_d, summed: dlogits * count, per_sequence: dlogits * steps,
                    "dlogits has the wrong sign: it is p - onehot(target), divided by N T.":
                        -dlogits},
    }


def clipped_gradient_mistakes(grads: Mapping[str, Any],
                              max_norms: tuple[float, ...] = (5.0, 1.0, 0.5)
                              ) -> dict[str, dict[str, np.ndarray]]:
    """For each parameter: {explanation: its gradient after clipping at max_norm}, for the
    clipping norms that change these gradients (the loss function must not clip)."""
    norm = _global_norm(grads)
    out: dict[str, dict[str, np.ndarray]] = {k: {} for k in grads}
    for max_norm in max_norms:
        if norm <= max_norm * (1 + 1e-6):
            continue
        text = (f"The gradients are clipped (global norm {max_norm:g} instead of the exact "
                f"{norm:.4g}): char_rnn_loss_and_grads must return the exact gradient, which "
                "the gradient check compares with finite differences; clip in the training "
                "loop, after the check.")
        for k, g in reference_clip_gradients(grads, max_norm).items():
            out[k][text] = g
    return out


_CHAIN_AXIS = ("In the chain of your functions, temporal_softmax_loss takes the softmax over "
               "the wrong axis (time, axis 1): the distribution of each position is over the "
               "V symbols, axis=-1. Its own test names it.")
_CHAIN_CARRY = ("In the chain of your functions, rnn_backward drops the gradient carried from "
                "step t + 1 (backpropagate dh[:, t] + dh_next). Its own test names it.")


def char_rnn_mistakes(params: Mapping[str, Any], inputs: Any, targets: Any, h0: Any
                      ) -> dict[str, Any]:
    """{"loss": {explanation: loss}, "grads": {param: {explanation: gradient}}}: a
    mistake of Part 1 seen through char_rnn_loss_and_grads, and gradients clipped inside."""
    _, grads, _ = reference_char_rnn_loss_and_grads(params, inputs, targets, h0)
    axis_loss, axis_grads, _ = _char_rnn(params, inputs, targets, h0,
                                         loss_fn=softmax_loss_wrong_axis)
    _, carry_grads, _ = _char_rnn(params, inputs, targets, h0,
                                  backward=rnn_backward_without_carry)
    out = clipped_gradient_mistakes(grads)
    for name in PARAM_NAMES:
        out[name][_CHAIN_AXIS] = axis_grads[name]
        out[name][_CHAIN_CARRY] = carry_grads[name]
    return {"loss": {_CHAIN_AXIS: axis_loss}, "grads": out}


def clip_gradients_mistakes(grads: Mapping[str, Any], max_norm: float
                            ) -> dict[str, dict[str, np.ndarray]]:
    """For each parameter: {explanation: what clip_gradients returns with that mistake}."""
    grads = {k: _f64(g) for k, g in grads.items()}
    norm = _global_norm(grads)
    per_array = {k: g * min(1.0, max_norm / max(float(np.linalg.norm(g)), 1e-300))
                 for k, g in grads.items()}
    always = {k: g * max_norm / norm if norm > 0 else None for k, g in grads.items()}
    texts = {
        "Each gradient is clipped on its own: clip by the GLOBAL norm, sqrt of the sum of "
        "the squares of ALL entries of all gradients, and scale every gradient by the same "
        "factor.": per_array,
        f"The gradients are rescaled although their norm ({norm:.4g}) is not above max_norm: "
        "multiply by max_norm / norm only when norm > max_norm.": always,
        "The entries are clipped one by one (np.clip): that changes the direction. Scale all "
        "gradients by max_norm / global norm.": {k: np.clip(g, -max_norm, max_norm)
                                                 for k, g in grads.items()},
    }
    return {k: {text: values[k] for text, values in texts.items()} for k in grads}


def temperature_softmax_mistakes(logits: Any, temperature: float) -> dict[str, np.ndarray]:
    logits = _f64(logits)
    return {
        "The logits are multiplied by the temperature: divide them, softmax(logits / T).":
            reference_temperature_softmax(logits * temperature, 1.0),
        "The temperature is ignored: softmax(logits / T).":
            reference_temperature_softmax(logits, 1.0),
        "The probabilities are divided by the temperature after the softmax: divide the "
        "logits before it, softmax(logits / T).":
            reference_temperature_softmax(logits, 1.0) / temperature,
    }


def markov_bits_mistakes(train_ids: Any, valid_ids: Any, vocab_size: int, order: int
                         ) -> dict[str, float]:
    """{explanation: the bits per character that mistake gives}."""
    bits = reference_markov_bits(train_ids, valid_ids, vocab_size, order)
    out = {"The result is in nats: divide by ln 2 for bits.": bits * math.log(2.0)}
    valid = np.asarray(valid_ids, dtype=np.int64)
    if order >= 1:
        out[f"The order is off by one: order m = {order} conditions on the {order} previous "
            f"symbol(s) (m = 0 is the unigram)."] = reference_markov_bits(
                train_ids, valid, vocab_size, order - 1)
    if len(valid) > order + 1:
        out[f"The order is off by one: order m = {order} conditions on the {order} previous "
            f"symbol(s), not {order + 1}."] = reference_markov_bits(
                train_ids, valid, vocab_size, order + 1)
    return out


def lm_logits_mistakes(model: nn.Module, x: Any) -> dict[str, np.ndarray]:
    """{explanation: the logits (B, T, V) that mistake gives} for a student's LSTM LM."""
    reference = to_reference_lm(model)
    x = torch.as_tensor(np.asarray(to_numpy(x)), dtype=torch.long)
    with torch.no_grad():
        unshifted = reference.run(x)[0]
    return {_UNSHIFTED: _categorical(unshifted, reference).numpy()}


_UNSHIFTED = (
    "The targets are not shifted: the logits at step t must come from the inputs [start, "
    "x_0, ..., x_{t-1}] (teacher forcing), but these were computed from x itself, so step t "
    "sees x_t, the symbol it predicts."
)


def lm_log_prob_mistakes(model: nn.Module, x: Any, temperature: float = 1.0
                         ) -> dict[str, np.ndarray]:
    """{explanation: log p(x) (B,) that mistake gives}."""
    x = torch.as_tensor(np.asarray(to_numpy(x)))
    good = reference_lm_log_prob(model, x, temperature)
    out = {
        "log p(x) is the MEAN over the steps: it is the SUM of the T log-conditionals.":
            good / x.shape[1],
        "log p(x) is in bits: use the natural log (nats).": good / math.log(2.0),
    }
    if temperature != 1.0:
        out["The temperature is ignored: log softmax(logits / T)."] = reference_lm_log_prob(
            model, x, 1.0)
    return out


def jacobian_norms_mistakes(cell: nn.Module, inputs: Any) -> dict[str, np.ndarray]:
    norms = reference_jacobian_norms(cell, inputs)
    return {
        "The norms are in reverse order: entry t - 1 is ||dh_T / dh_t||, so the LAST entry "
        f"is ||dh_T / dh_T|| = ||I|| = sqrt(H) = {norms[-1]:.4g}.": norms[::-1].copy(),
        "These are squared norms: take the square root of the sum of squares (Frobenius).":
            norms**2,
    }


# ---------------------------------------------------------------------------------------
# The torch LSTM language model, through the reference


def _categorical(logits: torch.Tensor, reference: CharRNN) -> torch.Tensor:
    """Reference logits as (B, T, V) with the softmax of the student's head: for V = 2 the
    binary logit z becomes (0, z), which has the same softmax."""
    if reference.num_values == 2:
        return torch.stack([torch.zeros_like(logits), logits], dim=-1)
    return logits


def to_reference_lm(model: nn.Module) -> CharRNN:
    """A student's ``LSTMLanguageModel`` (``embedding`` (V + 1, E), ``rnn`` an nn.LSTM,
    ``head`` Linear(H, V), start token V) as :class:`course.models.CharRNN` in float64.

    For V = 2 (pixels) the reference is binary: its logit is the difference of the two
    logits of the student's head, which gives the same probabilities.
    """
    state = {k: v.detach().cpu().double() for k, v in model.state_dict().items()}
    expected = {"embedding.weight", "head.weight", "head.bias"}
    if not expected <= set(state) or not any(k.startswith("rnn.") for k in state):
        raise CheckFailure(
            "The LSTM language model must have the attributes embedding (nn.Embedding(V + 1, "
            "E)), rnn (nn.LSTM(E, H, batch_first=True)) and head (nn.Linear(H, V)); its "
            f"state_dict has {sorted(state)}."
        )
    vocab, hidden = state["head.weight"].shape
    embed = state["embedding.weight"].shape[1]
    reference = CharRNN(vocab, hidden, cell="lstm", embedding_dim=embed).double()
    if vocab == 2:
        state["head.weight"] = (state["head.weight"][1] - state["head.weight"][0])[None]
        state["head.bias"] = (state["head.bias"][1] - state["head.bias"][0])[None]
    try:
        reference.load_state_dict(state)
    except RuntimeError as err:
        raise CheckFailure(f"The LSTM language model does not have the reference's layout: "
                           f"{err}") from None
    return reference.eval()


def reference_lm_logits(model: nn.Module, x: Any) -> np.ndarray:
    """Logits (B, T, V) of p(x_t | x_<t) for the student's weights (for V = 2: (0, z))."""
    reference = to_reference_lm(model)
    with torch.no_grad():
        return _categorical(reference.logits(torch.as_tensor(np.asarray(to_numpy(x)))),
                            reference).numpy()


def reference_lm_log_prob(model: nn.Module, x: Any, temperature: float = 1.0) -> np.ndarray:
    """log p(x) (B,) in nats for the student's weights, at ``temperature``."""
    reference = to_reference_lm(model)
    x = torch.as_tensor(np.asarray(to_numpy(x)), dtype=torch.float64)
    with torch.no_grad(), reference.at_temperature(temperature):
        return reference.log_prob(x).numpy()


def reference_jacobian_norms(cell: nn.Module, inputs: Any) -> np.ndarray:
    """||dh_T / dh_t||_F for t = 1..T (:func:`course.models.rnn.hidden_jacobian_norms`)."""
    return hidden_jacobian_norms(cell, torch.as_tensor(_f64(inputs)))


def _torch_lm_logits(model: nn.Module, x: Any) -> torch.Tensor:
    return torch.as_tensor(reference_lm_logits(model, x))


def _torch_lm_log_prob(model: nn.Module, x: Any, temperature: float = 1.0) -> torch.Tensor:
    return torch.as_tensor(reference_lm_log_prob(model, x, temperature))


#: The reference that stands in for each of the student's functions (by its name in the
#: notebook), so that a test grades one function on its own (``course.checks.standing_in``).
STAND_INS: dict[str, Any] = {
    "rnn_step_forward": reference_rnn_step_forward,
    "rnn_step_backward": reference_rnn_step_backward,
    "rnn_forward": reference_rnn_forward,
    "rnn_backward": reference_rnn_backward,
    "embedding_forward": reference_embedding_forward,
    "embedding_backward": reference_embedding_backward,
    "temporal_softmax_loss": reference_temporal_softmax_loss,
    "temperature_softmax": reference_temperature_softmax,
    "lm_logits": _torch_lm_logits,
    "lm_log_prob": _torch_lm_log_prob,
}


def stand_ins(*names: str) -> dict[str, Any]:
    """``{name: reference}`` for ``standing_in(globals(), **stand_ins("rnn_forward", ...))``."""
    return {name: STAND_INS[name] for name in names}


# ---------------------------------------------------------------------------------------
# Comparisons with both the NumPy reference and torch autograd


def _result_tuple(result: Any, size: int, name: str, outputs: str) -> tuple[Any, ...]:
    if not (isinstance(result, tuple | list) and len(result) == size):
        raise CheckFailure(f"{name} must return a tuple {outputs}.")
    return tuple(result)


def check_rnn_step_backward(result: Any, dh_next: Any, x: Any, h_prev: Any, Wx: Any, Wh: Any,
                            b: Any, label: str = "", rtol: float = 1e-9) -> None:
    """rnn_step_backward's (dx, dh_prev, dWx, dWh, db), given the cache of the reference's
    forward step on (x, h_prev, Wx, Wh, b), against the reference and torch autograd."""
    names = ("dx", "dh_prev", "dWx", "dWh", "db")
    got = _result_tuple(result, 5, "rnn_step_backward", "(dx, dh_prev, dWx, dWh, db)")
    _, cache = reference_rnn_step_forward(x, h_prev, Wx, Wh, b)
    _, auto = torch_rnn_forward_backward(_f64(x)[:, None], h_prev, Wx, Wh, b,
                                         _f64(dh_next)[:, None])
    expected = reference_rnn_step_backward(dh_next, cache)
    mistakes = rnn_step_backward_mistakes(dh_next, cache)
    label = f" ({label})" if label else ""
    for k, name in enumerate(names):
        want = auto[k][:, 0] if name == "dx" else auto[k]
        assert_close(expected[k], want, f"reference {name} vs autograd", rtol=1e-10,
                     atol=1e-12)
        assert_close(_f64(got[k]), want, f"{name}{label}", rtol=rtol, atol=1e-12,
                     mistakes=mistakes[name],
                     hint="da = dh_next * (1 - h_next**2); dx = da @ Wx.T, dh_prev = da @ "
                     "Wh.T, dWx = x.T @ da, dWh = h_prev.T @ da, db = da.sum(axis=0).")


def check_rnn_backward(result: Any, dh: Any, x: Any, h0: Any, Wx: Any, Wh: Any, b: Any,
                       label: str = "", rtol: float = 1e-9) -> None:
    """rnn_backward's (dx, dh0, dWx, dWh, db) against BPTT and torch autograd."""
    names = ("dx", "dh0", "dWx", "dWh", "db")
    got = _result_tuple(result, 5, "rnn_backward", "(dx, dh0, dWx, dWh, db)")
    _, cache = reference_rnn_forward(x, h0, Wx, Wh, b)
    expected = reference_rnn_backward(dh, cache)
    _, auto = torch_rnn_forward_backward(x, h0, Wx, Wh, b, dh)
    mistakes = rnn_backward_mistakes(dh, cache)
    label = f" ({label})" if label else ""
    for k, name in enumerate(names):
        assert_close(expected[k], auto[k], f"reference {name} vs autograd", rtol=1e-10,
                     atol=1e-12)
        assert_close(_f64(got[k]), auto[k], f"{name}{label}", rtol=rtol, atol=1e-12,
                     mistakes=mistakes[name],
                     hint="for t = T-1 down to 0: backpropagate dh[:, t] + dh_next through "
                     "step t; sum dWx, dWh, db over the steps; dh0 is the last dh_prev.")


def check_temporal_softmax_loss(result: Any, logits: Any, targets: Any, label: str = "",
                                rtol: float = 1e-9) -> None:
    """(loss, dlogits) against the reference and F.cross_entropy's autograd."""
    loss, dlogits = _result_tuple(result, 2, "temporal_softmax_loss", "(loss, dlogits)")
    ref_loss, ref_d = reference_temporal_softmax_loss(logits, targets)
    auto_loss, auto_d = torch_temporal_softmax_loss(logits, targets)
    assert_close(ref_loss, auto_loss, "reference loss vs F.cross_entropy", rtol=1e-12)
    assert_close(ref_d, auto_d, "reference dlogits vs autograd", rtol=1e-10, atol=1e-14)
    mistakes = temporal_softmax_loss_mistakes(logits, targets)
    label = f" ({label})" if label else ""
    assert_close(_f64(loss), auto_loss, f"loss{label}", rtol=rtol, atol=1e-12,
                 mistakes=mistakes["loss"],
                 hint="loss = -mean over all (n, t) of log softmax(logits[n, t])[target], "
                 "with a stable log-softmax (subtract the max).")
    assert_close(_f64(dlogits), auto_d, f"dlogits{label}", rtol=rtol, atol=1e-14,
                 mistakes=mistakes["dlogits"],
                 hint="dlogits = (softmax(logits) - onehot(targets)) / (N T).")


def check_char_rnn_grads(result: Any, params: Mapping[str, Any], inputs: Any, targets: Any,
                         h0: Any, label: str = "", rtol: float = 1e-7) -> None:
    """char_rnn_loss_and_grads' (loss, grads, h_last) against the reference and autograd,
    naming gradients that were clipped."""
    loss, grads, h_last = _result_tuple(result, 3, "char_rnn_loss_and_grads",
                                        "(loss, grads, h_last)")
    if not isinstance(grads, Mapping) or set(grads) != set(PARAM_NAMES):
        raise CheckFailure(f"grads must be a dict with the keys {list(PARAM_NAMES)}, got "
                           f"{sorted(grads) if isinstance(grads, Mapping) else type(grads)}.")
    ref_loss, ref_grads, ref_h = reference_char_rnn_loss_and_grads(params, inputs, targets, h0)
    auto_loss, auto_grads, auto_h = torch_char_rnn_loss_and_grads(params, inputs, targets, h0)
    label = f" ({label})" if label else ""
    assert_close(ref_loss, auto_loss, "reference loss vs autograd", rtol=1e-12)
    assert_close(_f64(loss), auto_loss, f"loss{label}", rtol=rtol, atol=1e-12)
    assert_close(_f64(h_last), auto_h, f"h_last{label}", rtol=rtol, atol=1e-12,
                 hint="h_last is the hidden state after the last step, h[:, -1].")
    mistakes = clipped_gradient_mistakes(ref_grads)
    for name in PARAM_NAMES:
        assert_close(ref_grads[name], auto_grads[name], f"reference d{name} vs autograd",
                     rtol=1e-9, atol=1e-13)
        assert_close(_f64(grads[name]), auto_grads[name], f"d{name}{label}", rtol=rtol,
                     atol=1e-12, mistakes=mistakes[name])


# ---------------------------------------------------------------------------------------
# The visible tests' cases


def _short(value: Any) -> Any:
    """Inputs of a visible case: arrays rounded to 4 decimals (short and exact in JSON)."""
    if isinstance(value, dict):
        return {k: _short(v) for k, v in value.items()}
    return np.round(np.asarray(value, dtype=np.float64), 4)


def _approximate(value: Any) -> Any:
    """A mistake's value to 9 significant digits: find_mistake compares within 1e-6."""
    if isinstance(value, dict):
        return {k: _approximate(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_approximate(v) for v in value]
    if value is None or isinstance(value, str):
        return value
    arr = np.asarray(value, dtype=np.float64)
    return np.array([float(f"{v:.9g}") for v in arr.ravel()]).reshape(arr.shape)


def _shorten_(module: nn.Module) -> nn.Module:
    with torch.no_grad():
        for param in module.parameters():
            param.copy_(torch.as_tensor(_short(param.detach().numpy())))
    return module


def _lm_case(vocab: int, hidden: int, embed: int, seed: int) -> dict[str, Any]:
    torch.manual_seed(seed)
    model = CharRNN(vocab, hidden, cell="lstm", embedding_dim=embed).double()
    with torch.no_grad():
        for p in model.parameters():
            p.mul_(2.5)  # conditionals far from uniform and far from each other
    _shorten_(model)
    state = {k: v.detach().numpy() for k, v in model.state_dict().items()}
    x = torch.randint(0, vocab, (4, 5), generator=torch.Generator().manual_seed(seed))
    states = torch.as_tensor(all_states(3, vocab))
    with torch.no_grad():
        logits = model.logits(x)
        unshifted = model.run(x)[0]
        log_prob = {}
        for temperature in (1.0, 0.5):
            with model.at_temperature(temperature):
                log_prob[str(temperature)] = model.log_prob(states.double()).numpy()
        greedy, gap = [], np.inf
        inputs, state_ = torch.full((1, 1), vocab), None
        for _ in range(3):
            out, state_ = model.run(inputs, state_)
            top = torch.sort(out[0, -1], descending=True).values
            gap = min(gap, float(top[0] - top[1]))
            inputs = out[:, -1].argmax(-1, keepdim=True)
            greedy.append(int(inputs))
        prompt = torch.tensor([[2, 0]])
        continued = torch.cat([prompt.expand(len(all_states(2, vocab)), 2),
                               torch.as_tensor(all_states(2, vocab))], dim=1)
        prompt_probs = (model.log_prob(continued.double()) - model.log_prob(
            prompt.double())).exp().numpy()
    if gap < 0.05:
        raise ValueError("the greedy path of the visible LSTM case is nearly tied")
    return {"vocab_size": vocab, "hidden_size": hidden, "embed_dim": embed,
            "state_dict": state, "x": x.numpy(), "logits": logits.numpy(),
            "forward": unshifted.numpy(),
            "mistakes": {_UNSHIFTED: unshifted.numpy()}, "log_prob": log_prob,
            "greedy": np.array(greedy), "prompt": prompt.numpy(), "prompt_probs": prompt_probs}


def _cell_case(kind: str, seed: int) -> dict[str, Any]:
    torch.manual_seed(seed)
    cell = (nn.LSTMCell(2, 3) if kind == "lstm" else nn.RNNCell(2, 3)).double()
    with torch.no_grad():
        for p in cell.parameters():
            p.mul_(3.0)
    _shorten_(cell)
    inputs = _short(np.random.default_rng(seed).standard_normal((6, 2)))
    norms = reference_jacobian_norms(cell, inputs)
    return {"state_dict": {k: v.detach().numpy() for k, v in cell.state_dict().items()},
            "inputs": inputs, "expected": norms, "mistakes": jacobian_norms_mistakes(cell, inputs)}


def visible_cases() -> dict[str, Any]:
    """The visible tests' inputs, the references' outputs and the mistakes' values."""
    cases: dict[str, Any] = {}
    # Part 1: one step
    s = _short(random_rnn_inputs(2, 1, 3, 3, seed=0))
    x, h_prev = s["x"][:, 0], s["h0"]
    h_next, cache = reference_rnn_step_forward(x, h_prev, s["Wx"], s["Wh"], s["b"])
    dh_next = s["dh"][:, 0]
    cases["rnn_step"] = {
        "x": x, "h_prev": h_prev, "Wx": s["Wx"], "Wh": s["Wh"], "b": s["b"],
        "h_next": h_next, "forward_mistakes": rnn_step_forward_mistakes(
            x, h_prev, s["Wx"], s["Wh"], s["b"]),
        "dh_next": dh_next, "grads": reference_rnn_step_backward(dh_next, cache),
        "backward_mistakes": rnn_step_backward_mistakes(dh_next, cache),
    }
    # Part 1: a sequence
    s = _short(random_rnn_inputs(2, 3, 2, 3, seed=1))
    h, caches = reference_rnn_forward(s["x"], s["h0"], s["Wx"], s["Wh"], s["b"])
    cases["rnn_sequence"] = {**s, "h": h, "grads": reference_rnn_backward(s["dh"], caches),
                             "forward_mistakes": rnn_forward_mistakes(s["x"], s["h0"], s["Wx"],
                                                                      s["Wh"], s["b"]),
                             "backward_mistakes": rnn_backward_mistakes(s["dh"], caches)}
    # Part 1: embedding, loss, count
    rng = np.random.default_rng(2)
    ids = np.array([[0, 3, 3, 1, 5], [3, 2, 0, 3, 4]])
    W, dout = _short(rng.standard_normal((6, 3))), _short(rng.standard_normal((2, 5, 3)))
    cases["embedding"] = {"ids": ids, "W": W, "out": W[ids], "dout": dout,
                          "dW": reference_embedding_backward(dout, ids, 6),
                          "mistakes": embedding_backward_mistakes(dout, ids, 6)}
    logits, targets = _short(3.0 * rng.standard_normal((2, 3, 5))), rng.integers(0, 5, (2, 3))
    loss, dlogits = reference_temporal_softmax_loss(logits, targets)
    cases["softmax_loss"] = {"logits": logits, "targets": targets, "loss": loss,
                             "dlogits": dlogits,
                             "mistakes": temporal_softmax_loss_mistakes(logits, targets)}

    def count(V: int, D: int, H: int) -> int:
        return V * D + D * H + H * H + H + H * V + V

    cases["num_parameters"] = [
        {"args": [V, D, H], "expected": count(V, D, H), "mistakes": [
            [count(V, D, H) - H - V, "the biases b (H) and by (V) are missing"],
            [count(V, D, H) - V * D, "the embedding W_embed (V x D) is missing"],
            [count(V, D, H) - H * H, "the recurrent weights Wh (H x H) are missing"]]}
        for V, D, H in [(66, 32, 128), (5, 3, 4)]]
    # Part 2: the character RNN
    params = _short(random_char_rnn_params(4, 2, 3, seed=4, scale=2.0, output_scale=4.0))
    char_rng = np.random.default_rng(4)
    inputs, targets = char_rng.integers(0, 4, (2, 3)), char_rng.integers(0, 4, (2, 3))
    h0 = _short(0.5 * char_rng.standard_normal((2, 3)))
    loss, grads, h_last = reference_char_rnn_loss_and_grads(params, inputs, targets, h0)
    if _global_norm(grads) < 2:  # clipping at 1 (the recipe's max_norm) must change them
        raise ValueError("the visible char-RNN case must have gradients that clipping changes")
    mistakes = char_rnn_mistakes(params, inputs, targets, h0)
    cases["char_rnn"] = {"params": params, "inputs": inputs, "targets": targets, "h0": h0,
                         "loss": loss, "grads": grads, "h_last": h_last,
                         "loss_mistakes": mistakes["loss"], "mistakes": mistakes["grads"]}
    big = {"Wx": np.array([[7.0, -1.0, 2.0], [0.5, -4.0, 3.0]]), "b": np.array([6.0, -3.0, 2.0])}
    small = {"Wx": _short(0.1 * rng.standard_normal((2, 3))), "b": np.array([0.2, -0.1, 0.05])}
    cases["clip"] = [{"grads": g, "max_norm": 5.0,
                      "expected": reference_clip_gradients(g, 5.0),
                      "mistakes": clip_gradients_mistakes(g, 5.0)} for g in (big, small)]
    logits = np.array([[2.0, -1.0, 0.5, 0.0], [50.0, 49.0, -30.0, 10.0]])
    cases["temperature"] = [
        {"logits": logits, "temperature": t, "expected": reference_temperature_softmax(
            logits, t), "mistakes": temperature_softmax_mistakes(logits, t)}
        for t in (1.0, 0.5, 2.0, 1e-3)]
    params = _short(random_char_rnn_params(3, 2, 4, seed=4, scale=2.0, output_scale=3.0))
    cases["sampling"] = {"params": params, "prompt": np.array([1, 2]), "length": 3,
                         "probs": {str(t): char_rnn_exact_probs(params, [1, 2], 3, t)
                                   for t in (1.0, 0.5)},
                         "greedy": _char_rnn_greedy(params, [1, 2], 3)}
    train, valid = rng.integers(0, 4, 300), rng.integers(0, 4, 60)
    train[::7] = 2  # some structure, so that the orders differ
    cases["markov"] = [{"order": m, "train": train, "valid": valid, "vocab_size": 4,
                        "expected": reference_markov_bits(train, valid, 4, m),
                        "mistakes": markov_bits_mistakes(train, valid, 4, m)}
                       for m in (0, 1, 2)]
    # Part 3 and Part 5
    cases["lm"] = _lm_case(3, 3, 2, seed=5)
    cases["jacobian_rnn"] = _cell_case("rnn", seed=6)
    cases["jacobian_lstm"] = _cell_case("lstm", seed=7)
    return _approximate_mistakes(cases)


def _approximate_mistakes(value: Any) -> Any:
    """Every value under a key that ends in "mistakes" to 9 significant digits."""
    if isinstance(value, dict):
        return {k: _approximate(v) if k.endswith("mistakes") else _approximate_mistakes(v)
                for k, v in value.items()}
    if isinstance(value, list):
        return [_approximate_mistakes(v) for v in value]
    return value
