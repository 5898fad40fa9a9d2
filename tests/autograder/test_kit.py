"""The student kit holds no answer, installs into a fresh environment, and its notebooks work.

The slow tests build the kit from this repository, install its wheel into a new virtual
environment (third-party packages come from the test's own environment through a ``.pth``
line, the course package only from the kit), and run every released notebook there:
blank, where every graded test cell must fail the way a blank does (never for want of a
module), and through ``nbgrader validate`` as students run it, where the solutions filled
in pass every visible test. That they pass in the kit proves that the visible tests need
no reference implementation.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import sysconfig
import zipfile
from pathlib import Path

import nbformat
import pytest

from autograder.kit import (
    STUDENT_RUNTIME,
    KitFile,
    check_kit,
    course_files,
    hidden_modules,
    runtime_files,
    solution_lines,
    write_kit,
)
from autograder.paths import Repo

REPO = Repo.at()
RUNNER = Path(__file__).with_name("kit_runner.py")
RELEASED = sorted(REPO.assignments.glob("*/*.ipynb"))
# What a blank answer raises in a test cell; anything else (an ImportError above all)
# means that the kit lacks something the notebook needs.
BLANK_ERRORS = {"NotImplementedError", "NameError", "CheckFailure", "AssertionError",
                "TypeError", "ValueError", "AttributeError"}


# -- fast: what counts as a leak ---------------------------------------------------------


def test_hidden_modules_are_everything_outside_the_runtime() -> None:
    hidden = hidden_modules(REPO)
    for module in ("course.models.fvsbn", "course.models.counting", "course.checks.fvsbn",
                   "course.checks.made", "course.viz.made"):
        assert module in hidden
    for module in ("course.checks.core", "course.train", "course.data.mnist", "course",
                   "course.checks.references", "course.expected"):
        assert module not in hidden
    every = {rel for rel in course_files(REPO) if rel.endswith(".py")}
    assert set(runtime_files(REPO)) < set(course_files(REPO))
    assert all(entry.startswith("course/") for entry in STUDENT_RUNTIME)
    assert len(every) > len(hidden)


def _solution_line() -> str:
    """The distinctive lines of the longest solution block of 02-fvsbn."""
    blocks = [lines for where, lines in solution_lines(REPO) if where.startswith("02-fvsbn")]
    return "\n".join(max(blocks, key=len))


@pytest.mark.parametrize(("kit_file", "found"), [
    (KitFile("assignments/x/x.ipynb", json.dumps({"cells": [
        {"cell_type": "code", "source": "from course.models import FVSBN\n"}]})),
     "imports course.models"),
    (KitFile("assignments/x/x.ipynb", json.dumps({"cells": [
        {"cell_type": "code", "source": "import course.checks.fvsbn as f\n"}]})),
     "imports course.checks.fvsbn"),
    (KitFile("course/train.py", "def masks_from_degrees(a, b):\n    return a\n"),
     "defines masks_from_degrees, a reference of course.models.made"),
    (KitFile("course/helpers.py", "from .models.made import MADE\n"),
     "imports course.models"),
    (KitFile("README.md", "cheat sheet\n" + _solution_line()), "holds the solution of 02-fvsbn"),
])
def test_check_kit_finds_each_kind_of_leak(kit_file: KitFile, found: str) -> None:
    problems = check_kit([kit_file], REPO)
    assert any(found in p for p in problems), problems


def test_check_kit_accepts_generic_code() -> None:
    files = [KitFile(rel, (REPO.root / rel).read_text(encoding="utf-8"))
             for rel in runtime_files(REPO) if rel.endswith(".py")]
    files.append(KitFile("assignments/x/x.ipynb", json.dumps({"cells": [
        {"cell_type": "code", "source": "from course.checks import assert_close\n"
         "from course.expected import load_expected\n%matplotlib inline\n"}]})))
    assert check_kit(files, REPO) == []


# -- slow: the kit as a student gets it ----------------------------------------------------


@pytest.fixture(scope="module")
def kit(tmp_path_factory) -> Path:
    return write_kit(REPO, tmp_path_factory.mktemp("kit") / "student-kit", log=lambda _: None)


@pytest.fixture(scope="module")
def kit_env(kit, tmp_path_factory) -> dict[str, str]:
    """A fresh virtual environment with the kit's wheel: {python, kernel, env vars}."""
    env_dir = tmp_path_factory.mktemp("env") / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(env_dir)], check=True)
    python = str(env_dir / "bin" / "python")
    site = subprocess.run([python, "-c", "import sysconfig; print(sysconfig.get_paths()"
                           "['purelib'])"], capture_output=True, text=True, check=True)
    # third-party packages from this environment; its editable `course` is not activated
    # (a .pth line adds a folder, it does not run the .pth files inside it)
    Path(site.stdout.strip(), "test_deps.pth").write_text(
        sysconfig.get_paths()["purelib"] + "\n", encoding="utf-8")
    wheel = next((kit / "packages").glob("course_kit-*.whl"))
    subprocess.run([python, "-m", "pip", "install", "--quiet", "--no-index", "--no-deps",
                    str(wheel)], check=True)
    subprocess.run([python, "-m", "ipykernel", "install", "--prefix", str(env_dir),
                    "--name", "python3"], check=True, capture_output=True)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTHON", "JUPYTER"))}
    env.update(JUPYTER_PATH=str(env_dir / "share" / "jupyter"),
               JUPYTER_DATA_DIR=str(env_dir / "share" / "jupyter"), OMP_NUM_THREADS="1",
               MKL_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1", MPLBACKEND="Agg")
    return {"python": python, "env": env, "cwd": str(tmp_path_factory.mktemp("cwd"))}


def _run(kit_env: dict, code: str) -> subprocess.CompletedProcess:
    return subprocess.run([kit_env["python"], "-c", code], capture_output=True, text=True,
                          env=kit_env["env"], cwd=kit_env["cwd"], check=False)


@pytest.mark.slow
def test_kit_layout(kit: Path) -> None:
    assert (kit / "README.md").is_file() and "nbgrader validate" in (kit / "README.md").read_text()
    requirements = (kit / "requirements.txt").read_text().splitlines()
    assert "torch==2.13.0" in requirements and not any("bubblewrap" in r for r in requirements)
    assert "c.Execute.timeout" in (kit / "nbgrader_config.py").read_text()
    released = {p.relative_to(REPO.assignments) for p in RELEASED}
    assert {p.relative_to(kit / "assignments") for p in (kit / "assignments").glob("*/*.ipynb")
            } == released
    assert not any(p.name.startswith(".") for p in kit.rglob("*"))


@pytest.mark.slow
def test_kit_wheel_holds_the_runtime_only(kit: Path) -> None:
    wheel = next((kit / "packages").glob("course_kit-*.whl"))
    with zipfile.ZipFile(wheel) as archive:
        names = {n for n in archive.namelist() if n.startswith("course/")}
        files = [KitFile(n, archive.read(n).decode()) for n in archive.namelist()
                 if n.endswith((".py", ".json"))]
    assert names == set(runtime_files(REPO))
    assert not any(n.startswith("course/models/") for n in names)
    assert any(n.startswith("course/expected/") and n.endswith(".json") for n in names)
    kit_files = files + [KitFile(str(p), p.read_text()) for p in kit.rglob("*")
                         if p.is_file() and p.suffix in (".ipynb", ".md", ".txt")]
    assert check_kit(kit_files, REPO) == []


@pytest.mark.slow
def test_kit_installs_and_imports_in_a_fresh_environment(kit_env) -> None:
    result = _run(kit_env, (
        "import importlib, pkgutil, course, sys\n"
        "assert 'site-packages' in course.__file__, course.__file__\n"
        "names = [m.name for m in pkgutil.walk_packages(course.__path__, 'course.')"
        " if not m.name.endswith('__main__')]\n"
        "[importlib.import_module(n) for n in names]\n"
        "print(len(names))\n"
        "try:\n    import course.models\nexcept ModuleNotFoundError:\n    print('no models')\n"
    ))
    assert result.returncode == 0, result.stderr
    count, verdict = result.stdout.split()[:2], result.stdout.strip().splitlines()[-1]
    assert int(count[0]) >= 15 and verdict == "no models", result.stdout


def _execute(kit_env: dict, notebook: Path) -> list[dict]:
    result = subprocess.run([kit_env["python"], str(RUNNER), str(notebook), "python3"],
                            capture_output=True, text=True, env=kit_env["env"],
                            cwd=kit_env["cwd"], check=False, timeout=1800)
    assert result.returncode == 0, result.stderr[-3000:]
    return json.loads(result.stdout.strip().splitlines()[-1])


@pytest.mark.slow
@pytest.mark.parametrize("released", RELEASED, ids=[p.parent.name for p in RELEASED])
def test_released_notebook_blank_fails_its_visible_tests(kit, kit_env, released) -> None:
    cells = _execute(kit_env, kit / "assignments" / released.parent.name / released.name)
    tests = [c for c in cells if c["test"]]
    assert tests, "no graded test cell"
    passed = [c["grade_id"] for c in tests if c["ename"] is None]
    assert not passed, f"blank answers pass the visible tests of {passed}"
    wrong = [(c["grade_id"], c["ename"], c["evalue"]) for c in cells
             if c["ename"] is not None and c["ename"] not in BLANK_ERRORS]
    assert not wrong, f"errors a blank answer does not explain (a missing module?): {wrong}"


CASES = [(a, s) for a in REPO.assignment_ids() for s in ("correct", "blank")]


@pytest.mark.slow
@pytest.mark.parametrize(("assignment", "student"), CASES, ids=[f"{a}-{s}" for a, s in CASES])
def test_validate_in_the_kit_tells_the_student_the_truth(kit, kit_env, assignment, student,
                                                          tmp_path) -> None:
    """``nbgrader validate`` as the kit's README tells students to run it, in the kit's
    environment and folder (its nbgrader_config.py): the solutions filled in pass every
    visible test, with no reference installed; a blank notebook is told it fails.

    nbgrader counts a test cell whose last expression has a value as partial credit, and
    then says "WILL NOT receive full credit": that must not happen either."""
    notebooks = sorted((REPO.examples / student / assignment).glob("*.ipynb"))
    assert notebooks, f"no {student} example for {assignment}"
    for notebook in notebooks:
        target = tmp_path / assignment / notebook.name
        target.parent.mkdir(parents=True)
        target.write_bytes(notebook.read_bytes())
        shutil.copyfile(kit / "nbgrader_config.py", tmp_path / "nbgrader_config.py")
        result = subprocess.run(
            [kit_env["python"], "-m", "nbgrader", "validate", f"{assignment}/{notebook.name}"],
            cwd=tmp_path, env=kit_env["env"], capture_output=True, text=True, timeout=1800,
            check=False)
        report = result.stdout + result.stderr
        if student == "correct":
            assert "Success! Your notebook passes all the tests." in report, report[-3000:]
            assert "WILL NOT receive full credit" not in report, report[-3000:]
        else:
            assert "VALIDATION FAILED" in report, report[-3000:]


def test_feedback_preprocessor_hides_hidden_source_and_tracebacks() -> None:
    from nbformat.v4 import new_code_cell, new_output

    from autograder.nbgrader_ext import HIDDEN_NOTE, HideHiddenTests

    cell = new_code_cell("assert f(1) == 2\n### BEGIN HIDDEN TESTS\nassert f(7) == 49, 'f(7)'\n"
                         "### END HIDDEN TESTS\nprint('done')\n")
    cell.metadata["nbgrader"] = {"grade": True, "solution": False, "grade_id": "t", "points": 1}
    trace = ["----> 3 assert f(7) == 49, 'f(7)'", "AssertionError: f(7)"]
    cell.outputs = [new_output("error", ename="AssertionError", evalue="f(7)", traceback=trace)]
    shown, _ = HideHiddenTests().preprocess_cell(nbformat.from_dict(cell), {}, 0)
    assert shown.source == "assert f(1) == 2\n" + HIDDEN_NOTE + "print('done')\n"
    assert shown.outputs[0]["traceback"] == ["AssertionError: f(7)"]
    everything, _ = HideHiddenTests(enabled=False).preprocess_cell(nbformat.from_dict(cell), {}, 0)
    assert "assert f(7) == 49" in everything.source


@pytest.mark.parametrize("released", RELEASED, ids=[p.parent.name for p in RELEASED])
def test_released_notebook_imports_no_answer(released: Path) -> None:
    kit_file = KitFile(f"assignments/{released.parent.name}/{released.name}",
                       released.read_text(encoding="utf-8"))
    assert check_kit([kit_file], REPO) == []
