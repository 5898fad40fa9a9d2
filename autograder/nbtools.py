"""Small helpers for notebooks as plain JSON dicts (nbgrader metadata, markers, writing)."""

from __future__ import annotations

import json
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
