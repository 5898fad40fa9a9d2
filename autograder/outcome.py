"""Turn nbgrader's results for one notebook into rows: scores from the gradebook, reasons
from the autograded notebook's outputs.

Scores come from the student's private ``gradebook.db``; each is cross-checked with
``nbgrader.utils.determine_grade`` on the autograded notebook (the rule nbgrader scores
with: any error output or any stderr output gives 0, a numeric result gives partial
credit, anything else full points), so a gradebook that disagrees with the notebook is
reported instead of trusted.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import nbformat
from nbgrader import utils
from nbgrader.api import Gradebook, MissingEntry

from autograder import nbtools
from autograder.catalog import NotebookInfo
from autograder.failclosed import TAMPERED_ENAME
from autograder.nbgrader_ext import TIMEOUT_ENAME, UNRESPONSIVE_ENAME, cell_label, cell_limit
from autograder.report import PASSED, Row, Status
from autograder.runner import ANSI
from autograder.sandbox import Sandbox, error_limit

_ARROW = re.compile(r"^-+>\s*\d+\s+(.*)$")
_KERNEL_FILE = re.compile(r"\S*ipykernel_\d+[/\\]\d+\.py")
HUNG_ENAMES = (TIMEOUT_ENAME, UNRESPONSIVE_ENAME)
# Longest error text in a reason. A CheckFailure message ends with its hint, so a short
# limit cut exactly the part that tells the student what to fix.
REASON_LIMIT = 500
CLIP_MARKER = " [...]"


def clip_words(text: str, limit: int = REASON_LIMIT) -> str:
    """``text`` if it fits in ``limit`` characters, else cut at a word boundary + " [...]"."""
    if len(text) <= limit:
        return text
    room = limit - len(CLIP_MARKER)
    space = text.rfind(" ", 0, room + 1)
    head = text[:space] if space > room // 2 else text[:room]  # one huge word: cut inside it
    return head.rstrip(" ,;:") + CLIP_MARKER


def _clip(text: str, limit: int = REASON_LIMIT) -> str:
    """One line, no colours, no per-run kernel file names, at most ``limit`` characters."""
    text = _KERNEL_FILE.sub("<cell>", ANSI.sub("", text))
    return clip_words(" ".join(text.split()), limit)


def _failing_line(traceback: list[str]) -> str:
    """The source line the traceback's last frame points at (IPython's ``---->`` arrow)."""
    found = ""
    for chunk in traceback:
        for line in ANSI.sub("", chunk).splitlines():
            match = _ARROW.match(line.strip())
            if match:
                found = match.group(1).strip()
    return found


def _seconds(limit: float | None) -> str:
    return f"{limit:g} s " if limit else ""


def describe_error(output: dict[str, Any], timeout: float | None,
                   sandbox: Sandbox | None = None) -> str:
    """One line for an error output; ``timeout``: the time limit of the cell it is in;
    ``sandbox``: the settings of the sandbox it ran in, whose limits the reason names."""
    ename, evalue = output.get("ename", "Error"), str(output.get("evalue", "")).strip()
    if ename == TIMEOUT_ENAME:
        return (f"timed out: still running after the {_seconds(timeout)}per-cell limit"
                " (interrupted)")
    if ename == UNRESPONSIVE_ENAME:
        return evalue
    hit = error_limit(ename, evalue, sandbox) if sandbox is not None else None
    if hit:
        return _clip(f"{hit} ({ename}: {evalue})" if evalue else f"{hit} ({ename})")
    if evalue:
        return _clip(f"{ename}: {evalue}")
    if ename == "NotImplementedError":
        return "NotImplementedError (a stub was not filled in)"
    line = _failing_line(output.get("traceback", []))
    return _clip(f"{ename} at `{line}`" if line else ename)


def interrupted_text(label: str, limit: float | None) -> str:
    """How reasons name an interrupted cell: "cell 'training' was interrupted at its 30 s
    limit"."""
    return f"{label} was interrupted at its {_seconds(limit) or 'time '}limit"


def interruption_note(interruptions: list[str]) -> str:
    """The note on a graded cell that ran (and passed) after cells were interrupted."""
    if len(interruptions) == 1:
        return f"note: ran after {interruptions[0]}; its results may be incomplete"
    listed = ", ".join(interruptions[:-1]) + f" and {interruptions[-1]}"
    return f"note: ran after {listed}; their results may be incomplete"


def _stderr_text(outputs: list[dict[str, Any]]) -> str:
    text = "".join(
        nbtools.source({"source": o.get("text", "")})
        for o in outputs if o.get("output_type") == "stream" and o.get("name") == "stderr"
    )
    return text.strip()


def read_scores(gradebook: Path, info: NotebookInfo, student: str) -> dict[str, Any]:
    """grade_id -> nbgrader Grade fields we need, from the student's gradebook."""
    if not gradebook.is_file():  # opening a missing file would create a new gradebook
        return {}
    with Gradebook(f"sqlite:///{gradebook}") as gb:
        try:
            nb = gb.find_submission_notebook(info.name, info.assignment, student)
        except MissingEntry:
            return {}
        return {
            g.name: {"auto_score": g.auto_score, "needs_manual_grade": g.needs_manual_grade}
            for g in nb.grades
        }


def notebook_rows(
    student: str,
    info: NotebookInfo,
    autograded: Path,
    scores: dict[str, Any],
    timeout: float | None,
    notes: dict[str, list[str]],
    general: list[str],
    sandbox: Sandbox | None = None,
) -> list[Row]:
    """One row per graded cell, with status and reason.

    ``timeout``: Execute.timeout; cells with a budget in ``info.budgets`` had their own
    limit (``nbgrader_ext.cell_limit``). Every interruption at a time limit is recorded:
    in the row of the cell that was interrupted, and in the row of every later graded cell,
    as a reason for a cell that lost points or as a note on one that kept them. The rows
    of such a notebook carry ``interrupted=True`` for the summary. ``sandbox``: the
    settings of the sandbox the notebook ran in (reasons then name a limit it hit).
    """
    nb = nbtools.load(autograded)
    max_scores = {c.grade_id: c.max_score for c in info.grade_cells}
    cells: dict[str, tuple[dict, str, list[str], str | None]] = {}
    interruptions: list[str] = []  # "cell 'x' was interrupted at its 30 s limit", in order
    hung = False  # a cell timed out or was not run because the kernel was stuck
    earlier_error: str | None = None  # first error in an ungraded cell
    for index, cell in enumerate(nb.get("cells", [])):
        outputs = cell.get("outputs", []) if cell.get("cell_type") == "code" else []
        errors = [o for o in outputs if o.get("output_type") == "error"]
        enames = {o.get("ename") for o in errors}
        gid = nbtools.grade_id(cell)
        limit = cell_limit(info.budgets.get(gid) if gid else None, timeout)
        if nbtools.is_grade_cell(cell) and gid in max_scores and gid not in cells:
            cells[gid] = (cell, _outcome_text(errors, outputs, limit, sandbox),
                          list(interruptions), earlier_error)
        elif errors and earlier_error is None and not enames & set(HUNG_ENAMES):
            described = describe_error(errors[-1], limit, sandbox)
            earlier_error = f"{cell_label(cell, index)} raised {described}"
        if TIMEOUT_ENAME in enames:
            interruptions.append(interrupted_text(cell_label(cell, index), limit))
        hung = hung or bool(enames & set(HUNG_ENAMES))
    rows = []
    for gc in info.grade_cells:
        reason_parts = list(notes.get(gc.grade_id, []))
        if gc.grade_id not in cells or gc.grade_id not in scores:
            where = "autograded notebook" if gc.grade_id not in cells else "gradebook"
            rows.append(Row(student, info.assignment, info.filename, gc.grade_id, 0.0,
                            gc.max_score, Status.GRADING_FAILED,
                            _join([f"nbgrader recorded no result for this cell ({where})",
                                   *reason_parts]), interrupted=hung))
            continue
        cell, text, before, error_before = cells[gc.grade_id]
        recorded = scores[gc.grade_id]
        score = recorded["auto_score"]
        status, reason = _status(cell, score, gc.max_score, text,
                                 before[0] if before else None, error_before,
                                 recorded["needs_manual_grade"])
        if score is not None and not _agrees(cell, score):
            status, reason = Status.GRADING_FAILED, (
                f"the gradebook score {score:g} disagrees with the autograded notebook")
            score = 0.0
        if status != PASSED:
            reason_parts = [reason, *reason_parts, *general]
        if before and status in (PASSED, Status.NEEDS_MANUAL_GRADE):
            reason_parts.append(interruption_note(before))
        rows.append(Row(student, info.assignment, info.filename, gc.grade_id,
                        float(score or 0.0), gc.max_score, status, _join(reason_parts),
                        interrupted=hung))
    return rows


def _join(parts: list[str]) -> str:
    return "; ".join(p for p in parts if p)


def _outcome_text(errors: list, outputs: list, limit: float | None,
                  sandbox: Sandbox | None = None) -> str:
    if errors:
        hung = [o for o in errors if o.get("ename") in HUNG_ENAMES]
        return describe_error((hung or errors)[-1], limit, sandbox)
    stderr = _stderr_text(outputs)
    if stderr:
        first = stderr.splitlines()[0]
        return _clip(f"wrote to stderr (nbgrader gives 0 for any stderr output): {first}")
    return ""


def _agrees(cell: dict, score: float) -> bool:
    node = nbformat.from_dict(cell)
    expected, _ = utils.determine_grade(node)
    return expected is None or abs(float(expected) - float(score)) < 1e-9


# A test's assertion failed ("failed"), as opposed to the code under test raising
# ("error"): AssertionError and course.checks.CheckFailure, its subclass.
ASSERTION_ENAMES = frozenset({"AssertionError", "CheckFailure"})


def _status(cell, score, max_score, text, hung_before, error_before, manual):
    """(status, reason) of one graded cell.

    ``hung_before``: the first interruption before this cell ("cell 'x' was interrupted at
    its 30 s limit"), or None; ``error_before``: the first error in an ungraded cell.
    """
    if score is None or (manual and not nbtools.is_test_cell(cell)):
        return Status.NEEDS_MANUAL_GRADE, "needs manual grading (no automatic score)"
    if score >= max_score:
        return PASSED, ""
    outputs = cell.get("outputs", [])
    errors = [o for o in outputs if o.get("output_type") == "error"]
    if any(o.get("ename") == TAMPERED_ENAME for o in errors):
        return Status.TAMPERED, text  # the guard replaced the cell's outputs: only this one
    own_timeout = any(o.get("ename") in HUNG_ENAMES for o in errors)
    if own_timeout:
        return Status.TIMEOUT, text
    if hung_before:
        got = f"partial credit: {score:g} of {max_score:g}" if score > 0 else "scored 0"
        return Status.TIMEOUT, _join([text or got, f"after {hung_before}"])
    context = f"earlier, {error_before}" if error_before else ""
    if score > 0:
        return Status.PARTIAL, _join([f"partial credit: {score:g} of {max_score:g}", context])
    if errors:
        ename = errors[-1].get("ename")
        if ename in ASSERTION_ENAMES:  # the test ran and judged: its message is the reason
            return Status.FAILED, text
        return Status.ERROR, _join([text, context])  # e.g. a NameError left by an earlier crash
    if _stderr_text(outputs):
        return Status.STDERR, text
    return Status.FAILED, _join(["scored 0 (the cell's result was 0)", context])
