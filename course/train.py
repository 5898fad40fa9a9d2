"""One small training loop for every reference model, and NLL reporting.

Negative log-likelihood is reported in nats per example and in bits per dimension,
``bits/dim = NLL_nats / (D * ln 2)`` (Theis, van den Oord & Bethge, 2016, Section 3.1),
so one table compares all models of the course; :func:`recurrent_bits_per_symbol` scores a
text under any recurrent model (NumPy or torch) in bits per symbol. The loop shows a
``tqdm`` progress bar, silent while nbgrader executes a notebook (``NBGRADER_EXECUTION``
is set), because any stderr output zeroes an nbgrader test cell.

Autoencoders (topic 07) define no likelihood, so :func:`fit` (which minimizes
``-log_prob``) cannot train them: :func:`fit_reconstruction` minimizes the mean squared
reconstruction error instead, with the same seeded minibatches, and
:func:`evaluate_mse` reports it per pixel.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch
from tqdm.auto import tqdm

from course import in_autograder
from course.numeric import logit, to_numpy, to_tensor

__all__ = [
    "History",
    "ReconstructionHistory",
    "bits_per_dim",
    "evaluate_mse",
    "evaluate_nll",
    "fit",
    "fit_reconstruction",
    "logit_of_means",
    "recurrent_bits_per_symbol",
]


def logit_of_means(x: Any, eps: float = 1e-3) -> np.ndarray:
    """The output-bias initialisation: log(p / (1 - p)) of every column's mean p, shape (n,).

    p is clipped to [eps, 1 - eps]. With zero weights this bias makes a model start as
    independent Bernoulli pixels that match the data's marginals (about 206 nats on
    MNIST instead of 543 for a coin flip per pixel); the clipping keeps never-inked
    border pixels finite.
    """
    return logit(np.asarray(to_numpy(x), dtype=np.float64).mean(axis=0), eps)


def bits_per_dim(nll_nats: float, num_dims: int) -> float:
    """Convert an NLL in nats per example to bits per dimension."""
    return nll_nats / (num_dims * math.log(2.0))


@torch.no_grad()
def evaluate_nll(model: torch.nn.Module, data: Any, batch_size: int = 1000) -> float:
    """Mean negative log-likelihood of ``data`` under ``model`` in nats per example."""
    dev = next(model.parameters()).device
    x = to_tensor(data, dev)
    was_training = model.training
    model.eval()
    total = 0.0
    for start in range(0, len(x), batch_size):
        total += -model.log_prob(x[start : start + batch_size]).sum().item()
    model.train(was_training)
    return total / len(x)


@dataclass
class History:
    """Per-epoch training record: NLL in nats, bits/dim, wall-clock seconds."""

    num_dims: int
    train_nll: list[float] = field(default_factory=list)
    test_nll: list[float] = field(default_factory=list)
    seconds: list[float] = field(default_factory=list)

    @property
    def train_bpd(self) -> list[float]:
        return [bits_per_dim(v, self.num_dims) for v in self.train_nll]

    @property
    def test_bpd(self) -> list[float]:
        return [bits_per_dim(v, self.num_dims) for v in self.test_nll]

    def summary(self) -> str:
        """One line: final train/test NLL in nats and bits/dim."""
        parts = [f"train {self.train_nll[-1]:.2f} nats ({self.train_bpd[-1]:.4f} bits/dim)"]
        if self.test_nll:
            parts.append(f"test {self.test_nll[-1]:.2f} nats ({self.test_bpd[-1]:.4f} bits/dim)")
        return ", ".join(parts)


def fit(
    model: torch.nn.Module,
    train_data: Any,
    test_data: Any | None = None,
    *,
    epochs: int = 10,
    batch_size: int = 100,
    lr: float = 1e-3,
    seed: int = 0,
    optimizer: torch.optim.Optimizer | None = None,
    lr_decay: bool = False,
    on_step: Callable[[torch.nn.Module], None] | None = None,
    progress: bool | None = None,
    clip: float | None = None,
) -> History:
    """Train ``model`` by minimizing the mean NLL ``-model.log_prob(x).mean()`` with Adam.

    ``train_data`` is an array, or a function ``epoch -> array`` called at the start of
    every epoch (:func:`course.data.dynamic_binarization` draws a fresh binarization of
    the grey-level digits each time, against overfitting). ``lr_decay`` lowers the
    learning rate linearly from ``lr`` to 0 over all the steps. ``on_step`` is called
    after every optimizer step (MADE uses it to resample its masks). The minibatch order
    is seeded, so the same seed gives the same model. The progress bar is off during
    autograding unless ``progress`` says otherwise. ``clip`` rescales the gradients to that
    global norm when they exceed it (Pascanu, Mikolov & Bengio, 2013; recurrent models).
    ``History.train_nll`` is the mean loss over each epoch's batches.
    """
    dev = next(model.parameters()).device
    data_for = train_data if callable(train_data) else (lambda epoch: train_data)
    x_train = to_tensor(data_for(0), dev)
    num_dims = int(np.prod(x_train.shape[1:]))
    history = History(num_dims=num_dims)
    opt = optimizer or torch.optim.Adam(model.parameters(), lr=lr)
    total_steps = epochs * -(-len(x_train) // batch_size)
    schedule = None
    if lr_decay:
        schedule = torch.optim.lr_scheduler.LambdaLR(
            opt, lambda step: max(0.0, 1.0 - step / total_steps))
    generator = torch.Generator().manual_seed(seed)
    show = (not in_autograder()) if progress is None else progress
    bar = tqdm(range(epochs), desc="epochs", disable=not show, leave=False)
    start = time.perf_counter()
    for epoch in bar:
        if epoch > 0 and callable(train_data):
            x_train = to_tensor(data_for(epoch), dev)
        model.train()
        perm = torch.randperm(len(x_train), generator=generator).to(dev)
        running = 0.0
        for begin in range(0, len(x_train), batch_size):
            batch = x_train[perm[begin : begin + batch_size]]
            loss = -model.log_prob(batch).mean()
            opt.zero_grad(set_to_none=True)
            loss.backward()
            if clip is not None:
                torch.nn.utils.clip_grad_norm_(model.parameters(), clip)
            opt.step()
            if schedule is not None:
                schedule.step()
            if on_step is not None:
                on_step(model)
            running += loss.item() * len(batch)
        history.train_nll.append(running / len(x_train))
        if test_data is not None:
            history.test_nll.append(evaluate_nll(model, test_data))
        history.seconds.append(time.perf_counter() - start)
        postfix = {"train": f"{history.train_nll[-1]:.1f}"}
        if history.test_nll:
            postfix["test"] = f"{history.test_nll[-1]:.1f}"
        bar.set_postfix(postfix)
    bar.close()
    return history


@torch.no_grad()
def evaluate_mse(model: torch.nn.Module, data: Any, batch_size: int = 1000) -> float:
    """Mean over examples and dimensions of (model(x) - x)^2: the reconstruction error."""
    dev = next(model.parameters()).device
    x = to_tensor(data, dev)
    was_training = model.training
    model.eval()
    total = 0.0
    for start in range(0, len(x), batch_size):
        batch = x[start : start + batch_size]
        total += ((model(batch) - batch) ** 2).sum().item()
    model.train(was_training)
    return total / x.numel()


@dataclass
class ReconstructionHistory:
    """Per-epoch record of :func:`fit_reconstruction`: MSE per dimension, seconds."""

    train_mse: list[float] = field(default_factory=list)
    test_mse: list[float] = field(default_factory=list)
    seconds: list[float] = field(default_factory=list)

    def summary(self) -> str:
        """One line: final train/test MSE per dimension."""
        parts = [f"train MSE {self.train_mse[-1]:.4f}"]
        if self.test_mse:
            parts.append(f"test MSE {self.test_mse[-1]:.4f}")
        return ", ".join(parts)


def fit_reconstruction(
    model: torch.nn.Module,
    train_data: Any,
    test_data: Any | None = None,
    *,
    epochs: int = 100,
    batch_size: int = 100,
    lr: float = 1e-3,
    seed: int = 0,
    lr_decay: bool = False,
    progress: bool | None = None,
) -> ReconstructionHistory:
    """Train an autoencoder ``model`` (``model(x)`` reconstructs ``x``) by minimizing the
    mean squared error per dimension with Adam.

    Seeded minibatch order, optional linear learning-rate decay to 0 and the progress
    bar as in :func:`fit`. ``train_mse`` is the mean loss over each epoch's batches
    (measured while training), ``test_mse`` is :func:`evaluate_mse` after each epoch.
    """
    dev = next(model.parameters()).device
    x_train = to_tensor(train_data, dev)
    history = ReconstructionHistory()
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    total_steps = epochs * -(-len(x_train) // batch_size)
    schedule = None
    if lr_decay:
        schedule = torch.optim.lr_scheduler.LambdaLR(
            opt, lambda step: max(0.0, 1.0 - step / total_steps))
    generator = torch.Generator().manual_seed(seed)
    show = (not in_autograder()) if progress is None else progress
    bar = tqdm(range(epochs), desc="epochs", disable=not show, leave=False)
    start = time.perf_counter()
    for _ in bar:
        model.train()
        perm = torch.randperm(len(x_train), generator=generator).to(dev)
        running = 0.0
        for begin in range(0, len(x_train), batch_size):
            batch = x_train[perm[begin : begin + batch_size]]
            loss = ((model(batch) - batch) ** 2).mean()
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            if schedule is not None:
                schedule.step()
            running += loss.item() * len(batch)
        history.train_mse.append(running / len(x_train))
        if test_data is not None:
            history.test_mse.append(evaluate_mse(model, test_data))
        history.seconds.append(time.perf_counter() - start)
        bar.set_postfix({"train": f"{history.train_mse[-1]:.4f}"})
    bar.close()
    return history


def recurrent_bits_per_symbol(run: Callable[[np.ndarray, Any], tuple[Any, Any]], ids: Any, *,
                              num_streams: int = 50, seq_len: int = 500,
                              start: int | None = None) -> float:
    """-log2 p / symbol of a text under a recurrent model, its state carried along the text.

    ``run(inputs, state) -> (logits, state)`` is one call of the model (NumPy or torch) on
    a chunk of input ids, an int64 array (num_streams, t), from ``state`` (None at the
    start of the text); ``logits[:, k]`` (array or tensor, (num_streams, t, V)) is the
    distribution of the symbol that follows ``inputs[:, k]``. The ids are cut into
    ``num_streams`` contiguous streams of ``ceil(len(ids) / num_streams)`` symbols (the
    last one shorter, padded and masked) and fed ``seq_len`` at a time. With ``start``
    (the id of a start token) stream b's inputs are ``[start, s_0, ..., s_{L-2}]`` and
    every symbol is scored; without, the inputs are ``s_0, ..., s_{L-2}`` and the first
    symbol of each stream, which such a model cannot predict, is not scored. Returns the
    nats summed in float64 over the scored symbols, divided by their number and ln 2
    (Graves, 2013, "Generating sequences with recurrent neural networks", Sec. 3.1).
    """
    ids = np.asarray(to_numpy(ids), dtype=np.int64).ravel()
    length = math.ceil(len(ids) / num_streams)
    padded = np.zeros(num_streams * length, dtype=np.int64)
    padded[: len(ids)] = ids
    scored = np.zeros(num_streams * length, dtype=bool)
    scored[: len(ids)] = True
    targets, scored = padded.reshape(num_streams, length), scored.reshape(num_streams, length)
    if start is None:
        inputs, targets, scored = targets[:, :-1], targets[:, 1:], scored[:, 1:]
    else:
        inputs = np.concatenate([np.full((num_streams, 1), start), targets[:, :-1]], axis=1)
    total, count, state = 0.0, int(scored.sum()), None
    for begin in range(0, inputs.shape[1], seq_len):
        chunk = slice(begin, begin + seq_len)
        logits, state = run(inputs[:, chunk], state)
        logits = np.asarray(to_numpy(logits), dtype=np.float64)
        top = logits.max(axis=-1, keepdims=True)
        log_z = np.log(np.exp(logits - top).sum(axis=-1)) + top[..., 0]
        picked = np.take_along_axis(logits, targets[:, chunk, None], axis=-1)[..., 0]
        total -= (picked - log_z)[scored[:, chunk]].sum()
    return total / (max(count, 1) * math.log(2.0))
