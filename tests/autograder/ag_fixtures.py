"""A tiny fake course for the autograder tests: one assignment ``a1`` with one notebook.

``tiny.ipynb`` has two solution cells (``add``, ``mul``) and three graded test cells:
``test_add`` (2 points, with a hidden test), ``test_mul`` (3 points) and ``test_warn``
(1 point; it emits a Python warning and a tqdm-like progress line on stderr, which the
IgnorePattern setting must drop so that a correct answer keeps its point).

``make_training_repo`` adds a training cell to it: a solution cell ``training`` that
trains a small torch network (about 2 s on a quiet 2-core laptop, import included) and
carries a time budget (``metadata.autograder.timeout``), and a test ``test_training``
(1 point).
"""

from __future__ import annotations

import copy
import csv
import hashlib
import json
from pathlib import Path

import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

from autograder import nbtools
from autograder.paths import Repo

ASSIGNMENT = "a1"
NOTEBOOK = "tiny.ipynb"
MAX_SCORE = 6.0
SOLUTIONS = {
    "add": "def add(a, b):\n    return a + b",
    "mul": "def mul(a, b):\n    return a * b",
}
RECIPE = """\
break_cell = "add"

[partial]
mul = '''
def mul(a, b):
    return a + b  # BUG
'''
"""


# A training-like cell: real work in torch, timed by itself. It prints its time and torch's
# thread count, which tests/autograder/test_load.py reads from the autograded notebook.
TRAINING = """\
import time
start = time.perf_counter()
import torch
torch.manual_seed(0)
x = torch.randn(128, 64)
y = (x @ torch.randn(64) > 0).float()[:, None]
model = torch.nn.Sequential(torch.nn.Linear(64, 96), torch.nn.Tanh(), torch.nn.Linear(96, 1))
opt = torch.optim.SGD(model.parameters(), lr=0.5)
for step in range(1000):
    opt.zero_grad()
    loss = torch.nn.functional.binary_cross_entropy_with_logits(model(x), y)
    loss.backward()
    opt.step()
trained_loss = loss.item()
print(f"trained in {time.perf_counter() - start:.2f} s with {torch.get_num_threads()} thread(s)")
"""
TRAINING_TEST = "assert trained_loss < 0.05, f'loss {trained_loss:.3f}: not trained to the end'"


def _solution(gid: str, body: str) -> nbformat.NotebookNode:
    head, code = body.split("\n", 1)
    cell = new_code_cell(f"{head}\n    ### BEGIN SOLUTION\n{code}\n    ### END SOLUTION")
    cell.metadata["nbgrader"] = {"solution": True, "grade": False, "locked": False,
                                 "grade_id": gid, "schema_version": 3}
    return cell


def _test(gid: str, src: str, points: int) -> nbformat.NotebookNode:
    cell = new_code_cell(src)
    cell.metadata["nbgrader"] = {"solution": False, "grade": True, "locked": True,
                                 "points": points, "grade_id": gid, "schema_version": 3}
    return cell


def source_notebook() -> nbformat.NotebookNode:
    cells = [
        new_markdown_cell("# A tiny assignment"),
        new_code_cell("import sys\nimport warnings"),
        _solution("add", SOLUTIONS["add"]),
        _test("test_add", "assert add(1, 2) == 3\n### BEGIN HIDDEN TESTS\n"
              "assert add(-2, 2) == 0\n### END HIDDEN TESTS", 2),
        _solution("mul", SOLUTIONS["mul"]),
        _test("test_mul", "assert mul(2, 3) == 6", 3),
        _test("test_warn", "warnings.warn('a harmless warning')\n"
              "print(' 50%|#####     | 5/10 [00:01<00:01, 4.20it/s]', file=sys.stderr)\n"
              "assert mul(1, 1) == 1", 1),
    ]
    for i, cell in enumerate(cells):  # fixed ids: the fixture is deterministic
        cell["id"] = f"cell-{i}"
    nb = new_notebook(cells=cells)
    nb.metadata["kernelspec"] = dict(nbtools.KERNELSPEC)
    return nb


def _locked(gid: str, src: str) -> nbformat.NotebookNode:
    cell = new_code_cell(src)
    cell.metadata["nbgrader"] = {"solution": False, "grade": False, "locked": True,
                                 "grade_id": gid, "schema_version": 3}
    return cell


def checked_notebook() -> nbformat.NotebookNode:
    """The tiny notebook with a locked setup cell that imports a course check, as the real
    assignments do, and ``test_mul`` calling it (the hostile tests rebind and patch it)."""
    nb = source_notebook()
    nb.cells[1] = _locked("setup", "import sys\nimport warnings\n\n"
                          "from course.checks import assert_close")
    mul_test = next(c for c in nb.cells if nbtools.grade_id(c) == "test_mul")
    mul_test.source = "assert_close(mul(2, 3), 6, 'mul(2, 3)')"
    for i, cell in enumerate(nb.cells):
        cell["id"] = f"cell-{i}"
    return nb


def training_notebook(budget: float) -> nbformat.NotebookNode:
    """The tiny notebook plus a training cell with a ``budget`` s time budget and its test."""
    nb = source_notebook()
    train = new_code_cell(f"### BEGIN SOLUTION\n{TRAINING}### END SOLUTION")
    train.metadata["nbgrader"] = {"solution": True, "grade": False, "locked": False,
                                  "grade_id": "training", "schema_version": 3}
    train.metadata["autograder"] = {"timeout": budget}
    nb.cells += [train, _test("test_training", TRAINING_TEST, 1)]
    for i, cell in enumerate(nb.cells):
        cell["id"] = f"cell-{i}"
    return nb


def make_training_repo(root: Path, budget: float = 60) -> Repo:
    """A fake course whose a1/tiny.ipynb has the budgeted training cell."""
    folder = root / "solutions" / ASSIGNMENT
    folder.mkdir(parents=True)
    nbformat.write(training_notebook(budget), folder / NOTEBOOK)
    return Repo(root)


def make_repo(root: Path, recipe: bool = True,
              notebook: nbformat.NotebookNode | None = None) -> Repo:
    """A fake course repository with solutions/a1/tiny.ipynb (and its recipe);
    ``notebook``: another source notebook than ``source_notebook()``."""
    folder = root / "solutions" / ASSIGNMENT
    folder.mkdir(parents=True)
    nbformat.write(notebook or source_notebook(), folder / NOTEBOOK)
    if recipe:
        (root / "autograder" / "recipes").mkdir(parents=True)
        (root / "autograder" / "recipes" / f"{ASSIGNMENT}.toml").write_text(RECIPE)
    return Repo(root)


def fake_release(repo: Repo, dest: Path) -> Path:
    """A release-like notebook made without nbgrader: solution code replaced by stubs,
    hidden tests removed. Enough for the tests that only need cell ids and order."""
    nb = nbtools.load(repo.solutions / ASSIGNMENT / NOTEBOOK)
    for cell in nb["cells"]:
        if nbtools.is_solution_cell(cell):
            head = nbtools.source(cell).split("\n", 1)[0]
            cell["source"] = f"{head}\n    # YOUR CODE HERE\n    raise NotImplementedError()"
        elif nbtools.is_test_cell(cell):
            cell["source"] = nbtools.source(cell).split("### BEGIN HIDDEN TESTS")[0].strip()
    path = dest / ASSIGNMENT / NOTEBOOK
    nbtools.write(nb, path)
    return path


def fake_catalog(repo: Repo, dest: Path):
    """A Catalog for a1 without running nbgrader (no gradebook)."""
    from autograder.catalog import Catalog, GradeCell, NotebookInfo

    path = fake_release(repo, dest)
    info = NotebookInfo(
        assignment=ASSIGNMENT, name="tiny",
        grade_cells=(GradeCell("test_add", 2.0), GradeCell("test_mul", 3.0),
                     GradeCell("test_warn", 1.0)),
        source_cell_ids=frozenset({"add", "test_add", "mul", "test_mul", "test_warn"}),
        release_path=path,
    )
    return Catalog(dest, {ASSIGNMENT: {"tiny": info}})


def filled(release: dict, overrides: dict[str, str] | None = None) -> dict:
    """The release with the solution cells filled in (``overrides`` replace solutions)."""
    nb = copy.deepcopy(release)
    code = {**SOLUTIONS, **(overrides or {})}
    for cell in nb["cells"]:
        gid = nbtools.grade_id(cell)
        if nbtools.is_solution_cell(cell) and gid in code:
            cell["source"] = code[gid]
    return nb


def index_of(nb: dict, gid: str) -> int:
    return next(i for i, c in enumerate(nb["cells"]) if nbtools.grade_id(c) == gid)


def submissions(release: dict) -> dict[str, str]:
    """Every fixture submission: relative path -> file text."""
    def text(nb: dict) -> str:
        return json.dumps(nb, indent=1)

    correct = filled(release)
    out = {
        "correct": text(correct),
        "wrong": text(filled(release, {"mul": "def mul(a, b):\n    return a + b"})),
        "blank": text(release),
        "raising": text(filled(release, {
            "add": "raise RuntimeError('crash before the definition')\n" + SOLUTIONS["add"]})),
        "endless-loop": text(filled(release, {
            "add": "while True:\n    pass\n" + SOLUTIONS["add"]})),
        "ignores-interrupt": text(filled(release, {"add": (
            "import time\nwhile True:\n    try:\n        time.sleep(0.1)\n"
            "    except KeyboardInterrupt:\n        pass\n") + SOLUTIONS["add"]})),
        "noisy": text(filled(release, {"mul": (
            "def mul(a, b):\n    print('debugging', file=sys.stderr)\n    return a * b")})),
        "kernel-dies": text(filled(release, {"add": "import os\nos._exit(1)"})),
        "invalid-json": text(correct)[:300],
    }
    dup = copy.deepcopy(correct)
    i = index_of(dup, "test_add")
    twin = copy.deepcopy(dup["cells"][i])
    twin["id"] = twin["id"] + "-copy"
    dup["cells"].insert(i + 1, twin)
    out["duplicated-cell"] = text(dup)
    deleted = copy.deepcopy(correct)
    del deleted["cells"][index_of(deleted, "test_mul")]
    out["deleted-cell"] = text(deleted)
    files = {f"{student}/{ASSIGNMENT}/{NOTEBOOK}": body for student, body in out.items()}
    files["missing/a1/notes.txt"] = "I could not finish.\n"
    files["lost/a2/tiny.ipynb"] = text(correct)
    files["renamed/a1/tiny_final.ipynb"] = text(correct)
    files["flat/tiny.ipynb"] = text(correct)
    return files


def write_files(root: Path, files: dict[str, str]) -> None:
    for rel, body in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(body, encoding="utf-8")


def tree_hash(root: Path) -> dict[str, str]:
    """sha256 of every file (and the list of folders) under root."""
    out = {}
    for path in sorted(root.rglob("*")):
        rel = path.relative_to(root).as_posix()
        out[rel] = hashlib.sha256(path.read_bytes()).hexdigest() if path.is_file() else "dir"
    return out


def read_csv(path: Path) -> list[dict[str, str]]:
    """Rows of a grades.csv as dicts."""
    with open(path, newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))
