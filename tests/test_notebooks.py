"""Notebooks in git: clean, well-formed nbgrader sources, and lectures that run.

Solution notebooks are executed and graded through nbgrader by the example
submissions (``tests/autograder/test_examples.py``: the ``correct`` student gets full
marks, the ``blank`` one 0); here we check what git holds, and run every lecture.
"""

from __future__ import annotations

import ast
import os
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parents[1]
SOLUTIONS = sorted(ROOT.glob("solutions/*/*.ipynb"))
RELEASED = sorted(ROOT.glob("assignments/*/*.ipynb"))
LECTURES = sorted(ROOT.glob("lectures/*.ipynb"))


def _ids(paths: list[Path]) -> list[str]:
    return [str(p.relative_to(ROOT)) for p in paths]


def test_every_assignment_has_a_lecture_with_the_same_number() -> None:
    assert SOLUTIONS, "no solution notebooks found"
    numbers = {p.parent.name[:2] for p in SOLUTIONS}
    assert numbers <= {p.name[:2] for p in LECTURES}


@pytest.mark.parametrize(
    "path", SOLUTIONS + RELEASED + LECTURES, ids=_ids(SOLUTIONS + RELEASED + LECTURES)
)
def test_committed_without_outputs(path: Path) -> None:
    nb = nbformat.read(path, as_version=4)
    nbformat.validate(nb)
    for cell in nb.cells:
        if cell.cell_type == "code":
            assert cell.outputs == [], f"{path.name}: cell {cell.get('id')} has outputs"
            assert cell.execution_count is None, f"{path.name}: cell {cell.get('id')} was run"
    assert nb.metadata.get("kernelspec", {}).get("name") == "python3"


@pytest.mark.parametrize("path", SOLUTIONS, ids=_ids(SOLUTIONS))
def test_solution_is_a_well_formed_nbgrader_source(path: Path) -> None:
    nb = nbformat.read(path, as_version=4)
    grade_ids = []
    graded = 0
    for cell in nb.cells:
        meta = cell.metadata.get("nbgrader")
        if not meta:
            continue
        grade_ids.append(meta["grade_id"])
        if meta.get("solution"):
            assert "### BEGIN SOLUTION" in cell.source, f"{meta['grade_id']} has no solution block"
        if meta.get("grade"):
            graded += 1
            assert meta.get("points", 0) > 0, f"{meta['grade_id']} is graded but has no points"
            assert meta.get("locked"), f"test cell {meta['grade_id']} is not locked"
    assert len(grade_ids) == len(set(grade_ids)), "duplicate grade_id"
    assert graded >= 3, "split tests into several graded cells for partial credit"


@pytest.mark.slow
@pytest.mark.parametrize("path", LECTURES, ids=_ids(LECTURES))
def test_lecture_runs_top_to_bottom(path: Path, tmp_path: Path) -> None:
    from nbclient import NotebookClient

    nb = nbformat.read(path, as_version=4)
    env_backup = os.environ.pop("NBGRADER_EXECUTION", None)
    try:
        NotebookClient(
            nb, timeout=120, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}}
        ).execute()
    finally:
        if env_backup is not None:
            os.environ["NBGRADER_EXECUTION"] = env_backup
    errors = [
        output
        for cell in nb.cells
        if cell.cell_type == "code"
        for output in cell.outputs
        if output.output_type == "error"
    ]
    assert not errors


# --- test cells end in a statement ----------------------------------------------------


def _none_returning_checks() -> set[str]:
    """Names of the course's check functions annotated to return None."""
    import inspect

    import course.checks
    import course.checks.chain_rule
    import course.checks.fvsbn
    import course.checks.made
    import course.checks.nade
    import course.checks.pca

    names = set()
    modules = (course.checks, course.checks.chain_rule, course.checks.fvsbn, course.checks.made,
               course.checks.nade,
               course.checks.pca)
    for module in modules:
        for name, fn in vars(module).items():
            if inspect.isfunction(fn) and inspect.signature(fn).return_annotation in (None, "None"):
                names.add(name)
    return names


def _returns_nothing(fn: ast.FunctionDef) -> bool:
    """No ``return <value>`` in the function's own body (nested functions aside)."""
    stack = list(fn.body)
    while stack:
        node = stack.pop()
        if isinstance(node, ast.Return) and node.value is not None:
            return False
        if not isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda):
            stack.extend(ast.iter_child_nodes(node))
    return True


def _last_value_statement(source: str, silent: set[str]) -> str | None:
    """The last statement's source when it is an expression that may have a value."""
    body = ast.parse(source).body
    if not body or not isinstance(body[-1], ast.Expr):
        return None
    value = body[-1].value
    if isinstance(value, ast.Call) and isinstance(value.func, ast.Name):
        if value.func.id in silent:
            return None
    return ast.get_source_segment(source, body[-1])


@pytest.mark.parametrize("path", SOLUTIONS, ids=_ids(SOLUTIONS))
def test_no_test_cell_ends_in_an_expression_with_a_value(path: Path) -> None:
    """nbgrader scores a test cell whose last expression has a value (a p-value, an array)
    as partial credit, and `nbgrader validate` then tells a correct student they will not
    get full credit. Checked on the source and on the release (hidden tests removed)."""
    from autograder import nbtools

    nb = nbformat.read(path, as_version=4)
    code = [c.source for c in nb.cells if c.cell_type == "code"]
    defined = {
        node.name: node
        for src in code
        for node in ast.walk(ast.parse(src))
        if isinstance(node, ast.FunctionDef)
    }
    silent = _none_returning_checks() | {n for n, f in defined.items() if _returns_nothing(f)}
    problems = []
    for cell in nb.cells:
        if not nbtools.is_test_cell(cell):
            continue
        released = nbtools.HIDDEN_BLOCK.sub("", cell.source)
        for label, src in (("source", cell.source), ("release", released)):
            statement = _last_value_statement(src, silent)
            if statement:
                problems.append(f"{nbtools.grade_id(cell)} ({label}) ends with {statement!r}")
    assert not problems, "end these test cells with a statement (e.g. `_ = ...`):\n" + "\n".join(
        problems
    )
