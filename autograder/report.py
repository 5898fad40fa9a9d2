"""Grade rows, the grades CSV and the per-student summary table.

Status values (column ``status``):

Cell outcomes (one row per graded cell):
  passed              full points; the reason is empty, or a note (a cell of the notebook
                      ran into its time limit and was interrupted before this one ran, or
                      the grading pre-pass repaired the notebook)
  partial             some points (a test cell whose result is a number: nbgrader partial credit)
  failed              an assertion failed (AssertionError), or the cell scored 0 otherwise
  error               another exception (NameError, NotImplementedError for a blank stub, ...)
  stderr              the cell wrote to stderr; nbgrader gives 0 for any stderr output
  timeout             this cell, or an earlier cell of the notebook, hit the per-cell time
                      limit (or was not run because the kernel ignored the interrupt), and
                      this cell did not pass; the reason names the cell that hung

Interruptions: a cell that runs past its time limit (``Execute.timeout``, or its budget
from ``metadata.autograder.timeout`` in solutions/) is interrupted and the notebook goes on.
Later cells then run on whatever state it left, e.g. a half-trained model. Their rows say
so: a cell that lost points has status ``timeout``; a cell that passed keeps its points
and status, with the reason "note: ran after cell 'training' was interrupted at its 30 s
limit; its results may be incomplete". Points are not taken away: the test judged what
the code produced, and zeroing it would make the grade depend on the machine's load
instead of flagging it. The summary counts the notebooks with interruptions, so an
instructor can regrade them (fewer --jobs, or a larger budget).
  needs_manual_grade  a manually graded answer; nbgrader gave no automatic score
  tampered            the grader found no evidence that this test ran to its end, or the
                      notebook changed the test machinery before it ran (input
                      transformers, trace functions, patched checks or builtins, ...);
                      the reason says what (see autograder/failclosed.py)
Notebook outcomes (one row per graded cell of that notebook, score 0):
  invalid_notebook    not valid JSON, or not a Jupyter notebook
  missing_notebook    the assignment folder lacks this notebook
  grading_failed      nbgrader failed on the notebook; the reason quotes its error
  grading_timeout     grading ran past the wall-clock limit for one notebook (--limit)
Layout problems (one row per file, grade_id empty, score 0 of 0, not graded):
  unknown_assignment  the folder is not an assignment of this course
  unexpected_notebook a notebook the assignment does not have (for example a renamed copy)
  unexpected_file     any other file in an assignment folder (symbolic links included)
  wrong_layout        a file at the wrong depth of SUBMISSIONS
"""

from __future__ import annotations

import collections
import csv
import dataclasses
import enum
from pathlib import Path

COLUMNS = [
    "student_id", "assignment", "notebook", "grade_id", "score", "max_score", "status", "reason"
]


class Status(enum.StrEnum):
    """The status of a row of grades.csv; the module docstring says what each one means."""

    # cell outcomes
    PASSED = "passed"
    PARTIAL = "partial"
    FAILED = "failed"
    ERROR = "error"
    STDERR = "stderr"
    TIMEOUT = "timeout"
    NEEDS_MANUAL_GRADE = "needs_manual_grade"
    TAMPERED = "tampered"
    # notebook outcomes
    INVALID_NOTEBOOK = "invalid_notebook"
    MISSING_NOTEBOOK = "missing_notebook"
    GRADING_FAILED = "grading_failed"
    GRADING_TIMEOUT = "grading_timeout"
    # layout problems
    UNKNOWN_ASSIGNMENT = "unknown_assignment"
    UNEXPECTED_NOTEBOOK = "unexpected_notebook"
    UNEXPECTED_FILE = "unexpected_file"
    WRONG_LAYOUT = "wrong_layout"


PASSED = Status.PASSED
LAYOUT_STATUSES = frozenset({Status.UNKNOWN_ASSIGNMENT, Status.UNEXPECTED_NOTEBOOK,
                             Status.UNEXPECTED_FILE, Status.WRONG_LAYOUT})


@dataclasses.dataclass(frozen=True)
class Row:
    student_id: str
    assignment: str
    notebook: str  # the file name inside the assignment folder, e.g. fvsbn.ipynb
    grade_id: str
    score: float
    max_score: float
    status: Status
    reason: str = ""
    # a cell of this notebook was interrupted at its time limit (not a grades.csv column)
    interrupted: bool = False

    def sort_key(self, order: int = 0) -> tuple:
        return (self.student_id, self.assignment, self.notebook, order, self.grade_id)


def fmt(number: float) -> str:
    """Scores as short, stable text: 2 not 2.0, 0.5 stays 0.5."""
    return f"{number:g}"


# A spreadsheet runs a cell that begins with one of these as a formula (CSV injection).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def spreadsheet_safe(text: str) -> str:
    """``text``, with a leading ``'`` when a spreadsheet would read it as a formula."""
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def write_csv(rows: list[Row], path: Path) -> None:
    """grades.csv: text cells that a spreadsheet would run as formulas are neutralised."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh, lineterminator="\n")
        writer.writerow(COLUMNS)
        for r in rows:
            writer.writerow([
                *map(spreadsheet_safe, (r.student_id, r.assignment, r.notebook, r.grade_id)),
                fmt(r.score), fmt(r.max_score), r.status, spreadsheet_safe(r.reason),
            ])


@dataclasses.dataclass
class Total:
    student_id: str
    assignment: str
    score: float
    max_score: float
    statuses: collections.Counter
    interrupted: set[str] = dataclasses.field(default_factory=set)  # notebook file names

    def counts(self) -> str:
        text = ", ".join(f"{n} {s}" for s, n in sorted(self.statuses.items()))
        if self.interrupted:
            n = len(self.interrupted)
            text += f"; {n} notebook{'s' if n > 1 else ''} interrupted"
        return text


def totals(rows: list[Row]) -> list[Total]:
    """One total per student and assignment, in row order."""
    out: dict[tuple[str, str], Total] = {}
    for r in rows:
        key = (r.student_id, r.assignment)
        total = out.setdefault(key, Total(*key, 0.0, 0.0, collections.Counter()))
        total.score += r.score
        total.max_score += r.max_score
        total.statuses[r.status] += 1
        if r.interrupted:
            total.interrupted.add(r.notebook)
    return list(out.values())


def interrupted_notebooks(rows: list[Row]) -> list[tuple[str, str, str]]:
    """(student, assignment, notebook) of every notebook with an interrupted cell."""
    return sorted({(r.student_id, r.assignment, r.notebook) for r in rows if r.interrupted})


def table(header: list[str], lines: list[list[str]]) -> str:
    """A plain left-aligned text table."""
    widths = [max(len(str(x)) for x in col) for col in zip(header, *lines, strict=True)]
    fmt_line = "  ".join(f"{{:<{w}}}" for w in widths)
    out = [fmt_line.format(*header), fmt_line.format(*("-" * w for w in widths))]
    out += [fmt_line.format(*line).rstrip() for line in lines]
    return "\n".join(out)


def summary(rows: list[Row], extra: dict[tuple[str, str], str] | None = None,
            extra_header: str = "") -> str:
    """The summary table: student, assignment, score / max, counts by status [, extra]."""
    header = ["student", "assignment", "score", "statuses"]
    if extra is not None:
        header.append(extra_header)
    lines = []
    for t in totals(rows):
        line = [t.student_id or "-", t.assignment or "-",
                f"{fmt(t.score)} / {fmt(t.max_score)}", t.counts()]
        if extra is not None:
            line.append(extra.get((t.student_id, t.assignment), ""))
        lines.append(line)
    return table(header, lines)
