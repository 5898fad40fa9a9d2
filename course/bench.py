"""Micro-benchmarks of the reference models: what weight tying and masking buy.

``python -m course.bench`` prints, with medians over repeats:

- NADE log-likelihood, naive O(n^2 d) (every h_i from scratch) versus tied O(nd)
  (running pre-activation), at n = 784, d = 500 (Larochelle & Murray, 2011, Sec. 3);
  and the tied recurrence written as one cumulative sum, which is memory-bound on a CPU
  (it writes all B n d pre-activations) but is one kernel on a GPU;
- MADE's one-pass log-likelihood versus NADE's n sequential steps
  (Germain et al., 2015, Sec. 4: one forward pass of a masked autoencoder).

``make bench`` runs it after the notebook and grading benchmarks.
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence

import torch

from course import device
from course.models import MADE, NADE
from course.timing import median_time

__all__ = ["format_table", "model_benchmarks"]


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
    args = parser.parse_args(argv)
    print(format_table(model_benchmarks(args.n, args.d, repeat=args.repeat)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
