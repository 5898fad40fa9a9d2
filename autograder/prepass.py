"""Before nbgrader sees a submission: check the folder layout and clean each notebook.

Expected layout: ``SUBMISSIONS/<student_id>/<assignment>/<notebook>.ipynb``. Files are only
read, never moved or changed; cleaned copies go to the student's private course folder.

What the notebook pre-pass fixes, and the nbgrader 0.9.6 behaviour behind each fix:

- Duplicated grade cells (same grade_id twice, e.g. a copied test cell): nbgrader's
  DeduplicateIds keeps the *last* copy and empties the others' metadata, then
  CheckCellMetadata rejects the emptied metadata as an "old schema" and aborts the whole
  autograde batch (exit 1, every student in it unscored). We keep the first copy and
  remove the nbgrader metadata from the others, which then run as ordinary cells.
- Corrupted nbgrader metadata, or a grade_id this notebook does not have (a cell pasted
  from another notebook): nbgrader would abort too; we remove that metadata.
- Deleted cells that nbgrader tracks (solution, test, locked cells): nbgrader's
  ``OverwriteCells.add_missing_cells`` puts back deleted *grade* cells, but only grade
  cells, and it looks up the position of the previous tracked cell, which fails when that
  one was deleted too. We put every missing tracked cell back from the release, in
  order; nbgrader then restores the hidden tests into test cells as for any submission.
- Outputs and execution counts are dropped (nbgrader clears them too), the kernelspec is
  set to our ``python3`` kernel, cell ids are made unique.
"""

from __future__ import annotations

import copy
import dataclasses
import difflib
import json
from pathlib import Path

import nbformat
from nbgrader.nbgraderformat import MetadataValidator

from autograder import nbtools
from autograder.catalog import Catalog, NotebookInfo
from autograder.paths import IGNORED_NAMES, is_ignored
from autograder.report import Row, Status

LAYOUT = "SUBMISSIONS/<student_id>/<assignment>/<notebook>.ipynb"


@dataclasses.dataclass
class Unit:
    """One student's folder for one known assignment: what to grade."""

    student: str
    assignment: str
    folder: Path
    files: dict[str, Path]  # notebook name (nbgrader id) -> submitted file


@dataclasses.dataclass
class Scan:
    units: list[Unit]
    rows: list[Row]  # layout problems and missing notebooks


def _layout_row(student: str, assignment: str, name: str, status: Status, reason: str
                ) -> Row:
    return Row(student, assignment, name, "", 0.0, 0.0, status, reason)


def zero_rows(student: str, info: NotebookInfo, status: Status, reason: str) -> list[Row]:
    """One row per graded cell of a notebook that could not be graded."""
    return [
        Row(student, info.assignment, info.filename, c.grade_id, 0.0, c.max_score, status, reason)
        for c in info.grade_cells
    ]


def _files_below(folder: Path) -> list[Path]:
    return sorted(
        p for p in folder.rglob("*")
        if (p.is_file() or p.is_symlink())
        and not any(is_ignored(Path(part)) for part in p.relative_to(folder).parts)
    )


def _where_it_belongs(name: str, catalog: Catalog) -> str:
    for assignment, notebooks in catalog.notebooks.items():
        for info in notebooks.values():
            if info.filename == name:
                return f" (it belongs in <student_id>/{assignment}/{name})"
    return ""


def scan(submissions: Path, catalog: Catalog, skip: frozenset[str] = frozenset()) -> Scan:
    """Walk SUBMISSIONS; return what to grade and one row per layout problem.

    ``skip``: names of files directly in SUBMISSIONS to ignore (the examples folder keeps
    its expected.csv there).
    """
    units: list[Unit] = []
    rows: list[Row] = []
    known = sorted(catalog.notebooks)
    for entry in sorted(submissions.iterdir()):
        if entry.name in IGNORED_NAMES or (entry.name in skip and entry.is_file()):
            continue
        if entry.is_symlink() and entry.is_dir():
            rows.append(_layout_row(
                entry.name, "", "", Status.WRONG_LAYOUT,
                "not graded: this student folder is a symbolic link, which the grader never"
                " follows; copy the real folder into SUBMISSIONS under this name and grade"
                " again",
            ))
            continue
        if entry.is_dir() and entry.name.startswith("."):
            rows.append(_layout_row(
                entry.name, "", "", Status.WRONG_LAYOUT,
                f"not graded: the folder name '{entry.name}' starts with '.', which hides it;"
                f" if it holds a student's work, rename it to '{entry.name.lstrip('.')}'"
                " (a name that does not start with '.') and grade again",
            ))
            continue
        if is_ignored(entry):
            continue
        if not entry.is_dir() or entry.is_symlink():
            rows.append(_layout_row(
                "", "", entry.name, Status.WRONG_LAYOUT,
                f"not graded: files must be in {LAYOUT}; this one is directly in SUBMISSIONS"
                + _where_it_belongs(entry.name, catalog),
            ))
            continue
        student = entry.name
        for sub in sorted(entry.iterdir()):
            if is_ignored(sub):
                continue
            if not sub.is_dir() or sub.is_symlink():
                rows.append(_layout_row(
                    student, "", sub.name, Status.WRONG_LAYOUT,
                    f"not graded: the file is directly in the student's folder; expected"
                    f" {LAYOUT}" + _where_it_belongs(sub.name, catalog),
                ))
            elif sub.name not in catalog.notebooks:
                rows += _unknown_assignment(student, sub, known)
            else:
                unit, unit_rows = _scan_assignment(student, sub, catalog)
                units.append(unit)
                rows += unit_rows
    return Scan(units, rows)


def _unknown_assignment(student: str, folder: Path, known: list[str]) -> list[Row]:
    close = difflib.get_close_matches(folder.name, known, n=1)
    hint = f" Did you mean {close[0]}?" if close else ""
    reason = (
        f"not graded: '{folder.name}' is not an assignment of this course (known:"
        f" {', '.join(known)}).{hint} Expected {LAYOUT}"
    )
    files = _files_below(folder)
    if not files:
        return [_layout_row(student, folder.name, "", Status.UNKNOWN_ASSIGNMENT, reason)]
    return [
        _layout_row(student, folder.name, f.relative_to(folder).as_posix(),
                    Status.UNKNOWN_ASSIGNMENT, reason)
        for f in files
    ]


def _scan_assignment(student: str, folder: Path, catalog: Catalog) -> tuple[Unit, list[Row]]:
    assignment = folder.name
    expected = catalog.notebooks[assignment]
    names = ", ".join(info.filename for info in expected.values())
    unit = Unit(student, assignment, folder, {})
    rows: list[Row] = []
    for path in _files_below(folder):
        rel = path.relative_to(folder).as_posix()
        if path.is_symlink():
            rows.append(_layout_row(student, assignment, rel, Status.UNEXPECTED_FILE,
                                    "not graded: symbolic links are not followed"))
        elif len(path.relative_to(folder).parts) > 1:
            rows.append(_layout_row(
                student, assignment, rel, Status.WRONG_LAYOUT,
                f"not graded: the file is in a subfolder; expected {LAYOUT} ({names})",
            ))
        elif path.suffix == ".ipynb" and path.stem in expected:
            unit.files[path.stem] = path
        elif path.suffix == ".ipynb":
            rows.append(_layout_row(
                student, assignment, rel, Status.UNEXPECTED_NOTEBOOK,
                f"not graded: {assignment} has no notebook '{rel}'; it expects {names}."
                " If this is the submission, rename it and grade again",
            ))
        else:
            rows.append(_layout_row(
                student, assignment, rel, Status.UNEXPECTED_FILE,
                f"not graded: only the notebooks {names} are graded",
            ))
    for name, info in expected.items():
        if name not in unit.files:
            found = sorted(p.name for p in folder.glob("*.ipynb"))
            rows += zero_rows(
                student, info, Status.MISSING_NOTEBOOK,
                f"no {info.filename} in {student}/{assignment}/"
                + (f" (found: {', '.join(found)})" if found else " (the folder has no notebook)")
                + f"; expected {LAYOUT}",
            )
    return unit, rows


@dataclasses.dataclass
class Prepared:
    """A cleaned notebook, ready for nbgrader, and what the pre-pass did to it."""

    text: str
    notes: dict[str, list[str]]  # grade_id -> notes for that cell's row
    general: list[str]  # notes for every row of the notebook that did not pass


@dataclasses.dataclass
class Rejected:
    reason: str


def _parse(raw: bytes) -> dict | Rejected:
    if not raw.strip():
        return Rejected("the file is empty; the student should re-save the notebook and resubmit")
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        return Rejected("not a notebook: the file is not UTF-8 text")
    try:
        data = json.loads(text)
    except json.JSONDecodeError as err:
        return Rejected(
            f"not valid JSON ({err.msg}: line {err.lineno}, column {err.colno}); the file is"
            " truncated or damaged; the student should re-save it from Jupyter and resubmit"
        )
    if not isinstance(data, dict) or not isinstance(data.get("nbformat"), int):
        return Rejected("valid JSON but not a Jupyter notebook (no 'nbformat' version)")
    if data["nbformat"] != 4:
        try:
            data = json.loads(json.dumps(nbformat.reads(text, as_version=4)))
        except Exception as err:  # noqa: BLE001 - any failure means "cannot read it"
            return Rejected(f"not a readable Jupyter notebook ({type(err).__name__}: {err})")
    if not isinstance(data.get("cells"), list):
        return Rejected("valid JSON but not a Jupyter notebook (no 'cells' list)")
    return data


def _metadata_ok(cell: dict) -> bool:
    try:
        MetadataValidator().validate_cell(nbformat.from_dict(copy.deepcopy(cell)))
    except Exception:  # noqa: BLE001 - ValidationError, SchemaTooOld/New, jsonschema errors
        return False
    return True


def _clean_cells(cells: list, info: NotebookInfo, prepared: Prepared) -> list[dict]:
    out = []
    seen: dict[str, int] = {}
    dropped = 0
    for cell in cells:
        if not isinstance(cell, dict) or cell.get("cell_type") not in ("code", "markdown", "raw"):
            dropped += 1
            continue
        cell = copy.deepcopy(cell)
        if not isinstance(cell.get("metadata"), dict):
            cell["metadata"] = {}
        cell["source"] = nbtools.source(cell)
        if cell["cell_type"] == "code":
            cell["outputs"], cell["execution_count"] = [], None
        if "nbgrader" in cell["metadata"]:
            gid = nbtools.grade_id(cell)
            if not _metadata_ok(cell) or (
                nbtools.is_source_cell(cell) and gid not in info.source_cell_ids
            ):
                del cell["metadata"]["nbgrader"]
                if gid in info.source_cell_ids:
                    prepared.notes.setdefault(gid, []).append(
                        "repaired: the cell's nbgrader metadata was corrupted; the released"
                        " cell was graded instead"
                    )
            elif nbtools.is_source_cell(cell):
                seen[gid] = seen.get(gid, 0) + 1
                if seen[gid] > 1:
                    del cell["metadata"]["nbgrader"]
        out.append(cell)
    for gid, count in seen.items():
        if count > 1:
            prepared.notes.setdefault(gid, []).append(
                f"repaired: {count} cells had grade_id '{gid}' (a duplicated cell); the first"
                " was graded, the copies ran as ordinary cells"
            )
    if dropped:
        prepared.general.append(f"repaired: dropped {dropped} malformed cell(s)")
    return out


def _restore_missing(cells: list[dict], info: NotebookInfo, prepared: Prepared) -> list[dict]:
    """Put back every tracked cell of the release that the submission lacks, in order."""
    release_cells = nbtools.load(info.release_path)["cells"]
    cells = list(cells)
    last = -1  # position in `cells` of the last tracked cell seen, in release order
    for rel_cell in release_cells:
        gid = nbtools.grade_id(rel_cell)
        if gid is None or not nbtools.is_source_cell(rel_cell):
            continue
        where = [i for i, c in enumerate(cells) if nbtools.is_source_cell(c)
                 and nbtools.grade_id(c) == gid]
        if where:
            last = max(last, where[0])
            continue
        cells.insert(last + 1, copy.deepcopy(rel_cell))
        last += 1
        if nbtools.is_grade_cell(rel_cell):
            prepared.notes.setdefault(gid, []).append(
                "restored: the cell was missing from the submission; the released cell was"
                " put back"
            )
        else:
            prepared.general.append(
                f"restored: cell '{gid}' was missing from the submission; the released stub"
                " was put back"
            )
    return cells


def _unique_ids(cells: list[dict]) -> None:
    seen: set[str] = set()
    for i, cell in enumerate(cells):
        cid = cell.get("id")
        if not isinstance(cid, str) or not cid or cid in seen:
            cid = f"autograder-{i}"
            while cid in seen:
                cid += "x"
            cell["id"] = cid
        seen.add(cid)


def prepare(path: Path, info: NotebookInfo) -> Prepared | Rejected:
    """Read a submitted notebook (never modified) and return a cleaned copy, or why not."""
    try:
        raw = path.read_bytes()
    except OSError as err:
        return Rejected(f"cannot read the file ({err.strerror})")
    data = _parse(raw)
    if isinstance(data, Rejected):
        return data
    prepared = Prepared("", {}, [])
    cells = _clean_cells(data["cells"], info, prepared)
    cells = _restore_missing(cells, info, prepared)
    data["cells"] = cells
    minor = data.get("nbformat_minor")
    if isinstance(minor, int) and minor >= 5:
        _unique_ids(cells)
    else:
        for cell in cells:
            cell.pop("id", None)
    metadata = data.get("metadata") if isinstance(data.get("metadata"), dict) else {}
    metadata["kernelspec"] = dict(nbtools.KERNELSPEC)
    data["metadata"] = metadata
    prepared.text = json.dumps(data, indent=1, sort_keys=True, ensure_ascii=False) + "\n"
    return prepared
