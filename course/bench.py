"""Micro-benchmarks of the reference models: what weight tying and masking buy.

``python -m course.bench`` prints, with medians over repeats:

- NADE log-likelihood, naive O(n^2 d) (every h_i from scratch) versus tied O(nd)
  (running pre-activation), at n = 784, d = 500 (Larochelle & Murray, 2011, Sec. 3);
  and the tied recurrence written as one cumulative sum, which is memory-bound on a CPU
  (it writes all B n d pre-activations) but is one kernel on a GPU;
- MADE's one-pass log-likelihood versus NADE's n sequential steps
  (Germain et al., 2015, Sec. 4: one forward pass of a masked autoencoder).

``python -m course.bench --pixelcnn`` times PixelCNN and Gated PixelCNN on 28 x 28 images
(van den Oord et al., 2016): training images per second (one pass gives all n
conditionals) and the seconds to sample 16 digits (n passes), on one thread on a CPU
(:func:`pixelcnn_benchmarks`).

``python -m course.bench --text`` instead trains a character LSTM on the Shakespeare
split for a budget of CPU seconds (one thread) and prints its validation bits per
character next to the uniform, unigram, bigram and trigram baselines on the same split,
with the characters per second of training and sampling (:func:`text_benchmarks`).

``python -m course.bench --chars`` times one training chunk and sampling of the character
models at Assignment 5's sizes: the NumPy RNN written by hand (the references of
:mod:`course.checks.rnn`) and torch's RNN and LSTM (:func:`char_speed_benchmarks`).

``make bench`` runs the model and character benchmarks after the notebook and grading ones.
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence

import torch

from course import device
from course.models import MADE, NADE
from course.timing import median_time

__all__ = ["char_speed_benchmarks", "format_table", "model_benchmarks", "pixelcnn_benchmarks",
           "text_benchmarks"]


@torch.no_grad()
def model_benchmarks(
    n: int = 784, d: int = 500, batch: int = 100, repeat: int = 3
) -> list[tuple[str, float, str]]:
    """Rows (job, median seconds, ratio) for the NADE and MADE comparisons."""
    dev = device()
    torch.manual_seed(0)
    x = (torch.rand(batch, n, device=dev) < 0.5).float()
    nade = NADE(n, d).to(dev)
    made = MADE(n, [d]).to(dev)
    naive = median_time(lambda: nade.log_prob_naive(x), repeat)
    tied = median_time(lambda: nade.log_prob_sequential(x), repeat)
    cumsum = median_time(lambda: nade.log_prob(x), repeat)
    one_pass = median_time(lambda: made.log_prob(x), repeat)
    where = f"n={n}, d={d}, batch={batch}, {dev.type}"
    return [
        (f"NADE naive O(n^2 d) log p ({where})", naive, f"{naive / tied:.1f}x tied"),
        (
            f"NADE tied O(nd), n steps of a_i+1 = a_i + W[:,i] x_i ({where})",
            tied,
            f"1x; {tied / one_pass:.0f}x MADE",
        ),
        (
            f"NADE tied O(nd), one cumsum over (B, n, d) ({where})",
            cumsum,
            f"{cumsum / tied:.1f}x tied",
        ),
        (f"MADE one pass log p ({where})", one_pass, "1x"),
    ]


def pixelcnn_benchmarks(side: int = 28, channels: int = 32, num_layers: int = 5,
                        batch: int = 50, num_samples: int = 16, repeat: int = 3
                        ) -> list[tuple[str, float, str]]:
    """Rows (job, seconds, ratio): a training step and sampling, PixelCNN and Gated.

    ``PixelCNN(side, channels, num_layers, first_kernel_size=7)`` and
    ``GatedPixelCNN(side, channels, num_layers)`` on random binary images: the median of
    ``repeat`` Adam steps on ``batch`` images (the ratio column: images per second), and
    one draw of ``num_samples`` samples (n = side^2 passes; the ratio: how many training
    steps it costs). On a CPU with one thread (small convolutions gain little from more,
    and lose much when the cores are shared).
    """
    from course.models import GatedPixelCNN, PixelCNN

    dev = device()
    threads = torch.get_num_threads()
    if dev.type == "cpu":
        torch.set_num_threads(1)
    try:
        torch.manual_seed(0)
        x = (torch.rand(batch, side * side, device=dev) < 0.2).float()
        where = f"{side}x{side}, {channels} channels, {num_layers} layers, {dev.type}" + (
            ", 1 thread" if dev.type == "cpu" else "")
        rows = []
        for name, model in [
            ("PixelCNN", PixelCNN(side, channels, num_layers, first_kernel_size=7)),
            ("Gated PixelCNN", GatedPixelCNN(side, channels, num_layers)),
        ]:
            model = model.to(dev)
            opt = torch.optim.Adam(model.parameters(), lr=1e-3)

            def step(model: torch.nn.Module = model, opt: torch.optim.Optimizer = opt) -> None:
                loss = -model.log_prob(x).mean()
                opt.zero_grad(set_to_none=True)
                loss.backward()
                opt.step()

            train = median_time(step, repeat)
            gen = torch.Generator().manual_seed(0)
            sample = median_time(lambda model=model, gen=gen: model.sample(num_samples, gen),
                                 1, warmup=0)
            rows.append((f"{name} training step, batch {batch} ({where})", train,
                         f"{batch / train:.0f} images/s"))
            rows.append((f"{name} sample {num_samples}, {side * side} passes ({where})", sample,
                         f"{sample / train:.0f}x a training step"))
        return rows
    finally:
        torch.set_num_threads(threads)


def text_benchmarks(seconds: float = 45.0, hidden: int = 128, cell: str = "lstm",
                    num_streams: int = 32, seq_len: int = 50, lr: float = 1e-2, seed: int = 0,
                    texts: tuple[str, str] | None = None) -> list[tuple[str, float, str]]:
    """Rows (what, value, unit): bits per character on the validation split and speeds.

    Trains ``CharRNN(V, hidden, cell)`` by truncated BPTT (``num_streams`` streams,
    chunks of ``seq_len``, Adam at ``lr``, clipping at 5) for ``seconds`` of CPU time on
    one thread, on the CPU; n-gram baselines use Witten-Bell smoothing. ``texts`` =
    (train, validation) replaces the Shakespeare split (for tests).
    """
    import math
    import time

    from course.data.text import BPTTBatches, CharVocabulary, shakespeare_text
    from course.models.ngram import NGramModel
    from course.models.rnn import CharRNN, bits_per_char, fit_bptt

    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        train_text, valid_text = texts or (shakespeare_text("train"),
                                           shakespeare_text("validation"))
        vocab = CharVocabulary.from_text(train_text, 1 if texts else 200)
        train, valid = vocab.encode(train_text), vocab.encode(valid_text)
        V = len(vocab)
        rows = [(f"uniform over {V} symbols", math.log2(V), "bits/char")]
        for order, name in [(1, "unigram"), (2, "bigram"), (3, "trigram")]:
            bits = NGramModel(order, V, "witten-bell").fit(train).bits_per_symbol(valid)
            rows.append((f"{name}, Witten-Bell", bits, "bits/char"))
        torch.manual_seed(seed)
        model = CharRNN(V, hidden, cell=cell)
        start = time.process_time()
        losses = fit_bptt(model, BPTTBatches(train, num_streams, seq_len), epochs=100,
                          max_seconds=seconds, lr=lr, progress=False, clock=time.process_time)
        train_cps = len(losses) * num_streams * seq_len / (time.process_time() - start)
        where = f"{cell} {hidden}, {time.process_time() - start:.0f} CPU-s, 1 thread"
        rows.append((f"char {where}", bits_per_char(model, valid), "bits/char"))
        rows.append((f"training ({num_streams} x {seq_len} chunks)", train_cps, "chars/CPU-s"))
        for batch, length in [(1, 500), (100, 100)]:
            start = time.process_time()
            model.sample(batch, torch.Generator().manual_seed(seed), length=length)
            rows.append((f"sampling, {batch} at a time", batch * length /
                         (time.process_time() - start), "chars/CPU-s"))
        return rows
    finally:
        torch.set_num_threads(threads)


def char_speed_benchmarks(vocab_size: int = 66, embed_dim: int = 32, hidden: int = 128,
                          num_streams: int = 32, seq_len: int = 50, num_samples: int = 100,
                          length: int = 100, repeat: int = 3) -> list[tuple[str, float, str]]:
    """Rows (job, median seconds, characters per second), one thread, on the CPU.

    A training step is the loss and gradients of one chunk (``num_streams`` x ``seq_len``
    random ids) and an Adam step (torch) or the gradients alone (NumPy, by hand); sampling
    draws ``num_samples`` sequences of ``length`` characters at once, carrying the state.
    """
    import numpy as np
    from torch.nn import functional as F

    from course.checks.rnn import (
        random_char_rnn_params,
        reference_char_rnn_loss_and_grads,
        reference_rnn_step_forward,
        reference_temperature_softmax,
    )
    from course.models.rnn import CharRNN

    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        rng = np.random.default_rng(0)
        ids = rng.integers(0, vocab_size, (num_streams, seq_len + 1))
        params = random_char_rnn_params(vocab_size, embed_dim, hidden, seed=0)
        h0 = np.zeros((num_streams, hidden))
        chars = num_streams * seq_len

        def numpy_sample() -> None:
            h, current = np.zeros((num_samples, hidden)), np.zeros(num_samples, dtype=np.int64)
            for _ in range(length):
                h, _ = reference_rnn_step_forward(params["W_embed"][current], h, params["Wx"],
                                                  params["Wh"], params["b"])
                cdf = np.cumsum(reference_temperature_softmax(h @ params["Wy"] + params["by"],
                                                              1.0), axis=1)
                current = np.minimum((rng.random(num_samples)[:, None] > cdf).sum(1),
                                     vocab_size - 1)

        jobs = {"NumPy RNN by hand": (
            lambda: reference_char_rnn_loss_and_grads(params, ids[:, :-1], ids[:, 1:], h0),
            numpy_sample)}
        inputs, targets = torch.as_tensor(ids[:, :-1]), torch.as_tensor(ids[:, 1:])
        for cell in ("rnn", "lstm"):
            torch.manual_seed(0)
            model = CharRNN(vocab_size, hidden, cell=cell, embedding_dim=embed_dim)
            opt = torch.optim.Adam(model.parameters(), lr=1e-3)

            def step(model: CharRNN = model, opt: torch.optim.Optimizer = opt) -> None:
                logits, _ = model.run(inputs)
                loss = F.cross_entropy(logits.reshape(-1, vocab_size), targets.reshape(-1))
                opt.zero_grad()
                loss.backward()
                opt.step()

            jobs[f"torch {cell.upper()}"] = (
                step, lambda model=model: model.sample(num_samples, length=length))
        rows = []
        where = f"V={vocab_size}, D={embed_dim}, H={hidden}"
        for name, (train, sample) in jobs.items():
            seconds = median_time(train, repeat)
            rows.append((f"{name}, a training chunk {num_streams} x {seq_len} ({where})",
                         seconds, f"{chars / seconds:,.0f} chars/s"))
            seconds = median_time(sample, repeat)
            rows.append((f"{name}, {num_samples} samples of {length} characters", seconds,
                         f"{num_samples * length / seconds:,.0f} chars/s"))
        return rows
    finally:
        torch.set_num_threads(threads)


def format_table(rows: Sequence[tuple[str, float, str]]) -> str:
    """A plain-text table: job, median seconds, ratio."""
    width = max(len(r[0]) for r in rows)
    lines = [f"{'job':<{width}}  {'seconds':>9}  ratio", "-" * (width + 20)]
    lines += [f"{job:<{width}}  {sec:>9.4f}  {ratio}" for job, sec, ratio in rows]
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("-n", type=int, default=784)
    parser.add_argument("-d", type=int, default=500)
    parser.add_argument("--text", action="store_true",
                        help="train a character LSTM and compare it with n-gram baselines")
    parser.add_argument("--seconds", type=float, default=45.0, help="CPU seconds of --text")
    parser.add_argument("--pixelcnn", action="store_true",
                        help="time PixelCNN and Gated PixelCNN: training and sampling")
    parser.add_argument("--chars", action="store_true",
                        help="characters per second of the NumPy and torch character models")
    args = parser.parse_args(argv)
    if args.pixelcnn:
        print(format_table(pixelcnn_benchmarks(repeat=args.repeat)))
    if args.chars:
        print(format_table(char_speed_benchmarks(repeat=args.repeat)))
        return 0
    if args.text:
        rows = text_benchmarks(args.seconds)
        width = max(len(r[0]) for r in rows)
        print("\n".join(f"{what:<{width}}  {value:>10.3f}  {unit}" for what, value, unit in rows))
        return 0
    print(format_table(model_benchmarks(args.n, args.d, repeat=args.repeat)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
