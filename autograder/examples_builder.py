"""``python -m autograder examples``: rebuild the example submissions deterministically.

Writes ``autograder/examples/<student>/<assignment>/<notebook>.ipynb`` for every
assignment in ``solutions/``, from a fresh release plus the solutions, following the
assignment's recipe ``autograder/recipes/<assignment>.toml`` (format: see
``autograder/recipes/README.md``). ``autograder/examples/expected.csv`` is written by hand
after measuring, never by this builder.

The students (the same ids for every assignment):

  correct            every solution cell filled with the solution code (the source between
                     the BEGIN/END SOLUTION markers; hidden tests are never copied)
  blank              the release as it is
  partial            correct, except the recipe's ``[partial]`` cells hold buggy code
  raising            correct, but the recipe's ``break_cell`` raises before its definitions
  endless-loop       correct, but ``break_cell`` starts with ``while True: pass``
  ignores-interrupt  correct, but ``break_cell`` starts with a loop that swallows
                     KeyboardInterrupt
  deleted-cell       correct, with one graded test cell deleted (restored: full marks)
  duplicated-cell    correct, with one graded test cell duplicated (repaired: full marks)
  invalid-json       the correct notebook's text cut in half
  wrong-layout       the correct notebook under a wrong file name, inside an unknown
                     assignment folder, and directly in the student's folder (0 points)

and, per assignment, one student ``bug-<name>`` for every ``[bugs.<name>]`` table of its
recipe: correct, except the table's cells, each holding one planted mistake that the
hidden tests must catch (its expected score says which tests it costs).
"""

from __future__ import annotations

import copy
import dataclasses
import re
import shutil
import tempfile
import tomllib
from pathlib import Path

from autograder import UsageError, nbtools
from autograder.paths import Repo
from autograder.release import generate

STUDENTS = (
    "correct", "blank", "partial", "raising", "endless-loop", "ignores-interrupt",
    "deleted-cell", "duplicated-cell", "invalid-json", "wrong-layout",
)
RAISE = 'raise RuntimeError("example submission: this cell crashes before its definitions")\n'
ENDLESS = "while True:\n    pass\n"
IGNORES_INTERRUPT = (
    "import time\n"
    "while True:  # example submission: a loop that swallows KeyboardInterrupt\n"
    "    try:\n"
    "        time.sleep(0.1)\n"
    "    except KeyboardInterrupt:\n"
    "        pass\n"
)
# (A bare `while True: pass` inside try/except KeyboardInterrupt is not enough: verified,
# ipykernel's interrupt still ends it. Sleeping in the loop keeps the kernel busy.)


BREAKING = ("raising", "endless-loop", "ignores-interrupt")
BUG_PREFIX = "bug-"


@dataclasses.dataclass(frozen=True)
class Recipe:
    """How to break one assignment; see autograder/recipes/README.md."""

    break_cell: str | None
    partial: dict[str, str]
    test_cell: str | None = None
    students: tuple[str, ...] = STUDENTS
    bugs: dict[str, dict[str, str]] = dataclasses.field(default_factory=dict)


def _recipe_error(rel: Path, problem: str) -> UsageError:
    return UsageError(
        f"{rel}: {problem}. Expected: optionally students = [...] (default: all of "
        f"{', '.join(STUDENTS)}); break_cell = \"<solution grade_id>\" when raising, "
        "endless-loop or ignores-interrupt are built; a [partial] table of <solution "
        "grade_id> = '''buggy source''' when partial is built; optionally test_cell = "
        "\"<test grade_id>\""
    )


def load_recipe(repo: Repo, assignment: str) -> Recipe:
    path = repo.recipes / f"{assignment}.toml"
    rel = path.relative_to(repo.root) if path.is_relative_to(repo.root) else path
    if not path.is_file():
        raise UsageError(
            f"no recipe for {assignment}: create {rel} (see autograder/recipes/README.md)"
        )
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as err:
        raise UsageError(f"{rel} is not valid TOML: {err}") from err
    unknown = set(data) - {"break_cell", "partial", "test_cell", "students", "bugs"}
    if unknown:
        raise _recipe_error(rel, f"unknown keys {sorted(unknown)}")
    students = data.get("students", list(STUDENTS))
    if not isinstance(students, list) or not set(students) <= set(STUDENTS) or not students:
        raise _recipe_error(rel, f"students must be a non-empty list drawn from {STUDENTS}")
    break_cell = data.get("break_cell")
    if set(students) & set(BREAKING) and not isinstance(break_cell, str):
        raise _recipe_error(rel, "break_cell is missing")
    partial = data.get("partial", {})
    if not isinstance(partial, dict) or not all(isinstance(v, str) for v in partial.values()):
        raise _recipe_error(rel, "[partial] must map grade ids to source strings")
    if "partial" in students and not partial:
        raise _recipe_error(rel, "the [partial] table is missing")
    test_cell = data.get("test_cell")
    bugs = data.get("bugs", {})
    if not isinstance(bugs, dict) or not all(
            isinstance(name, str) and re.fullmatch(r"[a-z0-9]+(-[a-z0-9]+)*", name)
            and isinstance(cells, dict) and cells
            and all(isinstance(v, str) for v in cells.values())
            for name, cells in bugs.items()):
        raise _recipe_error(rel, "[bugs.<name>] tables (name in lower-case-with-hyphens) must"
                            " each map grade ids to source strings")
    return Recipe(
        break_cell if isinstance(break_cell, str) else None,
        {k: v.strip("\n") for k, v in partial.items()},
        test_cell if isinstance(test_cell, str) else None,
        tuple(s for s in STUDENTS if s in students),
        {BUG_PREFIX + name: {k: v.strip("\n") for k, v in cells.items()}
         for name, cells in bugs.items()},
    )


@dataclasses.dataclass
class Pair:
    """A notebook's release and its solution cells' code by grade_id."""

    name: str
    release: nbtools.Notebook
    solutions: dict[str, str]

    def filled(self, overrides: dict[str, str] | None = None) -> nbtools.Notebook:
        nb = copy.deepcopy(self.release)
        code = {**self.solutions, **(overrides or {})}
        for cell in nb["cells"]:
            gid = nbtools.grade_id(cell)
            if nbtools.is_solution_cell(cell) and gid in code:
                cell["source"] = code[gid]
        return nb


def _pairs(repo: Repo, assignment: str, release: Path) -> list[Pair]:
    pairs = []
    for path in repo.source_notebooks(assignment):
        solution = nbtools.load(path)
        pairs.append(Pair(
            name=path.name,
            release=nbtools.load(release / assignment / path.name),
            solutions={
                nbtools.grade_id(c): nbtools.solution_code(c)
                for c in solution["cells"] if nbtools.is_solution_cell(c) and nbtools.grade_id(c)
            },
        ))
    return pairs


def _check(recipe: Recipe, pairs: list[Pair], assignment: str) -> tuple[str, str]:
    """Validate the recipe; return (notebook of the test cell, test cell grade_id)."""
    solution_ids = {gid for p in pairs for gid in p.solutions}
    tests = [(p.name, nbtools.grade_id(c)) for p in pairs for c in p.release["cells"]
             if nbtools.is_test_cell(c)]
    where = f"autograder/recipes/{assignment}.toml"
    planted = [gid for cells in recipe.bugs.values() for gid in cells]
    for gid in [*([recipe.break_cell] if recipe.break_cell else []), *recipe.partial,
                *planted]:
        if gid not in solution_ids:
            raise UsageError(f"{where}: '{gid}' is not a solution cell of {assignment}"
                             f" (solution cells: {', '.join(sorted(solution_ids))})")
    if not tests:
        raise UsageError(f"{assignment} has no graded test cell")
    if recipe.test_cell is None:
        return tests[0]
    for name, gid in tests:
        if gid == recipe.test_cell:
            return name, gid
    raise UsageError(f"{where}: test_cell '{recipe.test_cell}' is not a graded test cell"
                     f" (test cells: {', '.join(g for _, g in tests)})")


def _prefixed(pair: Pair, gid: str, prefix: str) -> nbtools.Notebook:
    if gid not in pair.solutions:
        return pair.filled()
    return pair.filled({gid: prefix + pair.solutions[gid]})


def _edit_test_cell(nb: nbtools.Notebook, gid: str, duplicate: bool) -> nbtools.Notebook:
    for i, cell in enumerate(nb["cells"]):
        if nbtools.is_test_cell(cell) and nbtools.grade_id(cell) == gid:
            if duplicate:
                twin = copy.deepcopy(cell)
                if "id" in twin:
                    twin["id"] = f"{twin['id']}-copy"
                nb["cells"].insert(i + 1, twin)
            else:
                del nb["cells"][i]
            return nb
    raise AssertionError(f"test cell {gid} vanished")


def assignment_files(assignment: str, recipe: Recipe, pairs: list[Pair]) -> dict[str, str]:
    """Every example file of one assignment: relative path -> text."""
    test_nb, test_id = _check(recipe, pairs, assignment)
    files: dict[str, str] = {}
    wanted = set(recipe.students)
    for pair in pairs:
        def put(student: str, nb: nbtools.Notebook, pair: Pair = pair) -> None:
            if student in wanted:
                files[f"{student}/{assignment}/{pair.name}"] = nbtools.dumps(nb)

        correct = pair.filled()
        put("correct", correct)
        put("blank", pair.release)
        put("partial", pair.filled({k: v for k, v in recipe.partial.items()
                                    if k in pair.solutions}))
        for student, cells in recipe.bugs.items():
            files[f"{student}/{assignment}/{pair.name}"] = nbtools.dumps(
                pair.filled({k: v for k, v in cells.items() if k in pair.solutions}))
        if recipe.break_cell:
            put("raising", _prefixed(pair, recipe.break_cell, RAISE))
            put("endless-loop", _prefixed(pair, recipe.break_cell, ENDLESS))
            put("ignores-interrupt", _prefixed(pair, recipe.break_cell, IGNORES_INTERRUPT))
        edit = pair.name == test_nb
        put("deleted-cell", _edit_test_cell(pair.filled(), test_id, False) if edit else correct)
        put("duplicated-cell",
            _edit_test_cell(pair.filled(), test_id, True) if edit else correct)
        text = nbtools.dumps(correct)
        if "invalid-json" in wanted:
            files[f"invalid-json/{assignment}/{pair.name}"] = text[: len(text) // 2]
        if "wrong-layout" in wanted:
            stem = pair.name.removesuffix(".ipynb")
            files[f"wrong-layout/{assignment}/{stem}_final.ipynb"] = text
            files[f"wrong-layout/{assignment}-draft/{pair.name}"] = text
            files[f"wrong-layout/{pair.name}"] = text
    return files


def build_examples(repo: Repo, out=print) -> int:
    """Regenerate autograder/examples/<student>/... for every assignment; exit status."""
    assignments = repo.assignment_ids()
    if not assignments:
        raise UsageError(f"no assignments in {repo.solutions}")
    recipes = {a: load_recipe(repo, a) for a in assignments}
    files: dict[str, str] = {}
    with tempfile.TemporaryDirectory(prefix="autograder-examples-") as tmp:
        release = generate(repo, Path(tmp) / "course")
        for assignment in assignments:
            files.update(assignment_files(assignment, recipes[assignment],
                                          _pairs(repo, assignment, release)))
    for student in STUDENTS:
        shutil.rmtree(repo.examples / student, ignore_errors=True)
    for folder in repo.examples.glob(BUG_PREFIX + "*"):
        shutil.rmtree(folder, ignore_errors=True)
    for rel, text in sorted(files.items()):
        path = repo.examples / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    out(f"wrote {len(files)} example files for {len(assignments)} assignment(s) and"
        f" {len(STUDENTS)} students in {repo.examples}")
    if not (repo.examples / "expected.csv").is_file():
        out("note: autograder/examples/expected.csv does not exist yet: grade the examples"
            " (python -m autograder demo), check each total by hand, then write it"
            " (columns student_id, assignment, expected_score)")
    return 0
