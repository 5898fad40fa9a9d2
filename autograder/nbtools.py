"""Small helpers for notebooks as plain JSON dicts (nbgrader metadata, markers, writing)."""

from __future__ import annotations

import json
import math
import re
from pathlib import Path
from typing import Any

import nbformat

Cell = dict[str, Any]
Notebook = dict[str, Any]

# The kernelspec every notebook is graded with: the virtualenv's python3 kernel.
KERNELSPEC = {"display_name": "Python 3", "language": "python", "name": "python3"}

_SOLUTION_BLOCK = re.compile(r"^[ \t]*### (BEGIN|END) SOLUTION[ \t]*\n?", re.MULTILINE)
HIDDEN_BLOCK = re.compile(
    r"^[ \t]*### BEGIN HIDDEN TESTS.*?^[ \t]*### END HIDDEN TESTS[ \t]*\n?", re.MULTILINE | re.S
)


def source(cell: Cell) -> str:
    """A cell's source as one string (notebook files may store a list of lines)."""
    src = cell.get("source", "")
    return "".join(src) if isinstance(src, list) else str(src)


def nbgrader(cell: Cell) -> dict[str, Any]:
    """The cell's nbgrader metadata, or {} (also when it is not a dict)."""
    meta = cell.get("metadata")
    value = meta.get("nbgrader") if isinstance(meta, dict) else None
    return value if isinstance(value, dict) else {}


def grade_id(cell: Cell) -> str | None:
    value = nbgrader(cell).get("grade_id")
    return value if isinstance(value, str) and value else None


# Instructor settings for one cell, in the *source* notebook (solutions/), next to nbgrader's:
#     "metadata": {"autograder": {"timeout": 300}, "nbgrader": {"grade_id": "training", ...}}
# ``timeout``: the cell's time budget in seconds (a positive number) instead of
# Execute.timeout. It is read from solutions/ only, never from a submission (see
# autograder/nbgrader_ext.py), so a student cannot raise it.
AUTOGRADER_KEY = "autograder"
BUDGET_KEY = "timeout"


def cell_budget(cell: Cell) -> float | None:
    """The cell's ``metadata.autograder.timeout`` in seconds, or None; ValueError if invalid."""
    meta = cell.get("metadata")
    settings = meta.get(AUTOGRADER_KEY) if isinstance(meta, dict) else None
    if settings is None:
        return None
    if not isinstance(settings, dict):
        raise ValueError(f"metadata.{AUTOGRADER_KEY} must be an object like"
                         f' {{"{BUDGET_KEY}": 300}}, not {settings!r}')
    unknown = sorted(set(settings) - {BUDGET_KEY})
    if unknown:
        raise ValueError(f"metadata.{AUTOGRADER_KEY} has unknown key(s) {', '.join(unknown)};"
                         f" the only one is {BUDGET_KEY!r}")
    value = settings.get(BUDGET_KEY)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not (
            math.isfinite(value) and value > 0):
        raise ValueError(f"metadata.{AUTOGRADER_KEY}.{BUDGET_KEY} must be a positive number of"
                         f" seconds, not {value!r}")
    return float(value)


def cell_budgets(nb: Notebook) -> dict[str, float]:
    """grade_id -> time budget (seconds) of every cell that sets one; ValueError if invalid.

    A budget needs a cell that nbgrader tracks (solution, grade or locked, with a grade_id):
    that is how a submitted cell is matched with its source cell.
    """
    budgets: dict[str, float] = {}
    for index, cell in enumerate(nb.get("cells", [])):
        try:
            budget = cell_budget(cell)
        except ValueError as err:
            raise ValueError(f"cell {index + 1}: {err}") from None
        if budget is None:
            continue
        gid = grade_id(cell)
        if gid is None or not is_source_cell(cell):
            raise ValueError(f"cell {index + 1} sets metadata.{AUTOGRADER_KEY}.{BUDGET_KEY} but"
                             " is not an nbgrader solution, test or read-only cell with a"
                             " grade_id, so it could not be matched in a submission")
        budgets[gid] = budget
    return budgets


def is_source_cell(cell: Cell) -> bool:
    """A cell nbgrader tracks by grade_id (grade, solution or locked), as DeduplicateIds does."""
    meta = nbgrader(cell)
    return bool(meta.get("grade") or meta.get("solution") or meta.get("locked"))


def is_grade_cell(cell: Cell) -> bool:
    return bool(nbgrader(cell).get("grade"))


def is_solution_cell(cell: Cell) -> bool:
    return bool(nbgrader(cell).get("solution"))


def is_test_cell(cell: Cell) -> bool:
    """An autograded test: a code cell that is graded and is not a solution."""
    return cell.get("cell_type") == "code" and is_grade_cell(cell) and not is_solution_cell(cell)


def solution_code(cell: Cell) -> str:
    """A solution cell's source with the BEGIN/END SOLUTION marker lines removed."""
    text = HIDDEN_BLOCK.sub("", source(cell))
    return _SOLUTION_BLOCK.sub("", text).rstrip("\n")


def has_outputs(cell: Cell) -> bool:
    return cell.get("cell_type") == "code" and bool(
        cell.get("outputs") or cell.get("execution_count") is not None
    )


def load(path: Path) -> Notebook:
    """Read a notebook file as a plain dict (raises ValueError when it is not JSON)."""
    return json.loads(path.read_text(encoding="utf-8"))


def dumps(nb: Notebook) -> str:
    """Serialize like Jupyter does (nbformat.writes), always ending with one newline."""
    text = nbformat.writes(nbformat.from_dict(nb), version=nbformat.NO_CONVERT)
    return text if text.endswith("\n") else text + "\n"


def write(nb: Notebook, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(dumps(nb), encoding="utf-8")
