"""One table for every model, with the papers' values beside it, and claims that are checked.

Lectures and the README compare models on the same split in nats and in bits per
dimension (:func:`course.train.bits_per_dim`). :data:`PAPER_NLL` holds the published test
NLLs on binarized MNIST (the full 60,000 / 10,000 split), so that a table always shows
how far the bundled 4,000-digit runs are from the papers', and which way they agree.

:func:`claim` states a relation a lecture draws from its own numbers ("NADE is below
FVSBN"), prints it with the numbers, and raises :class:`ClaimFailed` when the numbers
say otherwise: the words of a lecture cannot drift from what it prints, and the lecture
test (which runs every lecture) fails when they would.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping

__all__ = ["MEASURED_NLL", "PAPER_NLL", "ClaimFailed", "MeasuredResult", "PaperResult", "claim",
           "model_table"]


@dataclasses.dataclass(frozen=True)
class PaperResult:
    nats: float
    source: str


#: Published test NLLs (nats) on binarized MNIST, 28 x 28. The first four as listed in
#: Germain et al. (2015), "MADE", Table 6 (MADE with one hidden layer, as in the course).
PAPER_NLL: dict[str, PaperResult] = {
    "FVSBN": PaperResult(97.45, "Germain et al. (2015), Table 6"),
    "NADE": PaperResult(88.33, "Germain et al. (2015), Table 6"),
    "MADE": PaperResult(88.40, "Germain et al. (2015), Table 6: 1 hidden layer, 1 mask"),
    "MADE ensemble": PaperResult(88.04, "Germain et al. (2015), Table 6: 1 hidden layer, "
                                 "32 masks"),
    "PixelCNN": PaperResult(81.30, "van den Oord et al. (2016), Table 4"),
    "Row LSTM": PaperResult(80.54, "van den Oord et al. (2016), Table 4"),
    "Diagonal BiLSTM": PaperResult(79.20, "van den Oord et al. (2016), Table 4"),
}


@dataclasses.dataclass(frozen=True)
class MeasuredResult:
    nats: float
    source: str


#: Test NLLs (nats) that the course's recipes reach on the bundled split
#: (``binarized_mnist("test")``: 1,000 real digits, threshold binarization), seed 0, each
#: measured by running the notebook named (``python -m autograder bench`` runs them all):
#: the README's model table. An assignment prints them next to the student's own model,
#: since the student kit has no reference models to train.
MEASURED_NLL: dict[str, MeasuredResult] = {
    "FVSBN": MeasuredResult(92.9, "assignment 02's recipe"),
    "NADE": MeasuredResult(82.6, "assignment 03, d = 200"),
    "MADE": MeasuredResult(94.9, "assignment 04, one hidden layer of 500"),
    "MADE ensemble": MeasuredResult(89.1, "assignment 04, 8 order-agnostic masks"),
    "pixel LSTM": MeasuredResult(87.7, "assignment 05, H = 64, 600 steps"),
}


class ClaimFailed(AssertionError):
    """A lecture's claim about its own numbers does not hold."""


def claim(statement: str, holds: bool) -> None:
    """Print ``statement`` when ``holds``; raise :class:`ClaimFailed` naming it otherwise."""
    if not holds:
        raise ClaimFailed(f"The numbers above do not support the claim: {statement}")
    print(f"claim holds: {statement}")


def model_table(test_nll: Mapping[str, float], num_dims: int = 784,
                paper_names: Mapping[str, str] | None = None) -> str:
    """A plain-text table: model, test NLL in nats and bits/dim, and the paper's value.

    ``test_nll`` maps a row label to its measured test NLL in nats per example;
    ``paper_names`` maps a row label to its key in :data:`PAPER_NLL` (by default the label
    itself, when it is a key).
    """
    paper_names = dict(paper_names or {})
    rows = []
    for label, nats in test_nll.items():
        paper = PAPER_NLL.get(paper_names.get(label, label))
        rows.append((label, f"{nats:.1f}", f"{nats / (num_dims * math.log(2)):.4f}",
                     f"{paper.nats:.2f}" if paper else "-"))
    header = ("model", "test NLL (nats)", "bits/dim", "paper, full MNIST (nats)")
    widths = [max(len(r[k]) for r in [header, *rows]) for k in range(4)]
    lines = ["  ".join(h.ljust(w) for h, w in zip(header, widths, strict=True)),
             "  ".join("-" * w for w in widths)]
    lines += ["  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip()
              for r in rows]
    return "\n".join(lines)
