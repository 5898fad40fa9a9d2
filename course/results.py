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

__all__ = ["ASSIGNMENT_NLL", "DIGITS8X8_MADE_NLL", "DIGITS8X8_NLL", "MEASURED_NLL", "PAPER_NLL",
           "ClaimFailed", "MeasuredResult", "PaperResult", "RecipeResult", "claim",
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

#: Measured test NLLs (nats) on the 8 x 8 digits (``course.data.digits8x8``, 359 test
#: digits): single runs, seed 0, one CPU thread, trained by ``lectures/06-pixelcnn.ipynb``
#: (30 epochs for the dense models, 15 for the convolutional ones), whose model-table cell
#: checks that its runs still give these numbers within half a nat. Assignment 06 shows
#: them beside the student's model.
DIGITS8X8_NLL: dict[str, float] = {
    "independent pixels": 24.77,
    "FVSBN": 18.23,
    "NADE, d = 64": 17.40,
    "MADE, one hidden layer of 256": 17.64,
    "PixelCNN": 18.43,
    "Gated PixelCNN": 17.92,
}



@dataclasses.dataclass(frozen=True)
class MeasuredResult:
    nats: float
    recipe: str
    command: str


#: Test NLLs (nats) measured on the bundled split (``binarized_mnist("test")``, threshold
#: binarization, seed 0) for the baselines that an assignment prints beside a student's
#: model without training them (students' kits hold no reference models). Measured with the
#: reference :class:`course.models.FVSBN`, W = 0 and b = ``logit_of_means(x_train)`` at the
#: start, on 1 thread; ``lectures/03-nade.ipynb`` (section 6) retrains all three and claims
#: that its numbers agree with these within 0.5 nats, so they cannot go stale. (Assignment
#: 02's NumPy FVSBN with the same recipe reaches 92.9, as the README's table says.)
MEASURED_NLL: dict[str, MeasuredResult] = {
    "independent pixels": MeasuredResult(
        205.3, "FVSBN with W = 0 (b = logit of each pixel's mean), untrained",
        "evaluate_nll(FVSBN.from_numpy(np.zeros((784, 784)), logit_of_means(x_train)), x_test)"),
    "FVSBN, Assignment 2's recipe": MeasuredResult(
        92.6, "Adam 3e-2, batches of 100, 4 epochs on the fixed training digits",
        "fit(fvsbn, x_train, epochs=4, batch_size=100, lr=3e-2, seed=0)"),
    "FVSBN, NADE's tricks": MeasuredResult(
        82.3, "a fresh binarization every epoch (sharpness 1.5), Adam 3e-2 decayed linearly "
        "to 0, batches of 100, 30 epochs",
        'fit(fvsbn, dynamic_binarization("train", sharpness=1.5, seed=0), epochs=30, '
        "batch_size=100, lr=3e-2, lr_decay=True, seed=0)"),
}

#: Measured test NLLs (nats per digit) on scikit-learn's 8 x 8 digits binarized at 0.5 (359
#: test digits, :func:`course.data.digits8x8`), for assignment 07, whose students have no
#: MADE to train (a longer recipe than lecture 06's, hence 17.44 against 17.64): lecture
#: 07's ``MADE(64, [256], seed=0)``, output bias at the logits of the
#: pixel means, 60 epochs, batches of 100, lr 3e-3 decayed to 0, seed 0, on a CPU; and the
#: independent pixels it starts from. Lecture 07 retrains it and claims agreement within
#: 0.5 nats.
DIGITS8X8_MADE_NLL: dict[str, float] = {"MADE": 17.44, "independent pixels": 24.79}


@dataclasses.dataclass(frozen=True)
class RecipeResult:
    nats: float
    source: str


#: Test NLLs (nats) that the course's recipes reach on the bundled split
#: (``binarized_mnist("test")``: 1,000 real digits, threshold binarization), seed 0, each
#: measured by running the notebook named (``python -m autograder bench`` runs them all):
#: the README's model table. An assignment prints them next to the student's own model,
#: since the student kit has no reference models to train.
ASSIGNMENT_NLL: dict[str, RecipeResult] = {
    "FVSBN": RecipeResult(92.9, "assignment 02's recipe"),
    "NADE": RecipeResult(82.6, "assignment 03, d = 200"),
    "MADE": RecipeResult(94.9, "assignment 04, one hidden layer of 500"),
    "MADE ensemble": RecipeResult(89.1, "assignment 04, 8 order-agnostic masks"),
    "pixel LSTM": RecipeResult(87.7, "assignment 05, H = 64, 600 steps"),
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
