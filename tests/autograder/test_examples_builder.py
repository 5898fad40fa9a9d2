"""examples: recipes, the example students, and the demo on the fake course."""

from __future__ import annotations

import json

import pytest
from ag_fixtures import ASSIGNMENT, NOTEBOOK, SOLUTIONS, fake_release, tree_hash

from autograder import UsageError, examples_builder, nbtools
from autograder.__main__ import main
from autograder.demo import compare
from autograder.examples_builder import STUDENTS, Pair, assignment_files, load_recipe
from autograder.report import Row


@pytest.fixture
def pairs(repo, tmp_path):
    release = nbtools.load(fake_release(repo, tmp_path / "rel"))
    solution = nbtools.load(repo.solutions / ASSIGNMENT / NOTEBOOK)
    return [Pair(NOTEBOOK, release, {
        nbtools.grade_id(c): nbtools.solution_code(c)
        for c in solution["cells"] if nbtools.is_solution_cell(c)})]


def _nb(files, student):
    return json.loads(files[f"{student}/{ASSIGNMENT}/{NOTEBOOK}"])


def _code(nb, gid):
    return next(nbtools.source(c) for c in nb["cells"] if nbtools.grade_id(c) == gid)


def test_solution_code_drops_markers_and_hidden_tests():
    cell = {"source": "def f():\n    ### BEGIN SOLUTION\n    return 1\n    ### END SOLUTION\n"
                      "### BEGIN HIDDEN TESTS\nassert f() == 1\n### END HIDDEN TESTS\n"}
    assert nbtools.solution_code(cell) == "def f():\n    return 1"


def test_every_student_is_built(repo, pairs):
    files = assignment_files(ASSIGNMENT, load_recipe(repo, ASSIGNMENT), pairs)
    students = {path.split("/")[0] for path in files}
    assert students == set(STUDENTS)
    correct = _nb(files, "correct")
    assert _code(correct, "add") == "def add(a, b):\n    return a + b"
    assert "BEGIN" not in json.dumps(correct) and "HIDDEN" not in json.dumps(correct)
    assert "NotImplementedError" in _code(_nb(files, "blank"), "add")
    assert "a + b  # BUG" in _code(_nb(files, "partial"), "mul")
    assert _code(_nb(files, "partial"), "add") == _code(correct, "add")
    assert _code(_nb(files, "raising"), "add").startswith("raise RuntimeError")
    assert _code(_nb(files, "endless-loop"), "add").startswith("while True:\n    pass\n")
    assert "except KeyboardInterrupt" in _code(_nb(files, "ignores-interrupt"), "add")
    ids = [nbtools.grade_id(c) for c in _nb(files, "deleted-cell")["cells"]]
    assert "test_add" not in ids
    ids = [nbtools.grade_id(c) for c in _nb(files, "duplicated-cell")["cells"]]
    assert ids.count("test_add") == 2
    with pytest.raises(ValueError):
        json.loads(files[f"invalid-json/{ASSIGNMENT}/{NOTEBOOK}"])
    assert {p for p in files if p.startswith("wrong-layout/")} == {
        f"wrong-layout/{ASSIGNMENT}/tiny_final.ipynb",
        f"wrong-layout/{ASSIGNMENT}-draft/{NOTEBOOK}",
        f"wrong-layout/{NOTEBOOK}"}


@pytest.mark.parametrize("text, words", [
    (None, "no recipe"),
    ("break_cell = 'nope'\n[partial]\nmul = 'x'\n", "not a solution cell"),
    ("break_cell = 'add'\n", "the \\[partial\\] table is missing"),
    ("[partial]\nmul = 'x'\n", "break_cell is missing"),
    ("students = ['correct', 'nobody']\n", "students must be"),
    ("colour = 'red'\nbreak_cell = 'add'\n[partial]\nmul = 'x'\n", "unknown keys"),
    ("break_cell = 'add'\ntest_cell = 'add'\n[partial]\nmul = 'x'\n", "not a graded test cell"),
    ("break_cell = \n", "not valid TOML"),
])
def test_bad_recipes_say_what_to_fix(repo, pairs, text, words):
    path = repo.recipes / f"{ASSIGNMENT}.toml"
    if text is None:
        path.unlink()
    else:
        path.write_text(text)
    with pytest.raises(UsageError, match=words):
        assignment_files(ASSIGNMENT, load_recipe(repo, ASSIGNMENT), pairs)


def test_recipe_can_limit_the_students(repo, pairs):
    (repo.recipes / f"{ASSIGNMENT}.toml").write_text(
        "students = ['correct', 'blank', 'partial']\n[partial]\nmul = 'x'\n"
    )
    files = assignment_files(ASSIGNMENT, load_recipe(repo, ASSIGNMENT), pairs)
    assert {path.split("/")[0] for path in files} == {"correct", "blank", "partial"}


@pytest.mark.slow
def test_examples_are_deterministic_and_demo_compares(repo, capsys):
    assert examples_builder.build_examples(repo) == 0
    first = tree_hash(repo.examples)
    assert examples_builder.build_examples(repo) == 0
    assert tree_hash(repo.examples) == first
    assert not (repo.examples / "expected.csv").exists()

    expected = {"correct": 6, "blank": 0, "partial": 2, "raising": 4, "endless-loop": 4,
                "ignores-interrupt": 0, "deleted-cell": 6, "duplicated-cell": 6,
                "invalid-json": 0, "wrong-layout": 0}
    lines = ["student_id,assignment,expected_score"]
    lines += [f"{s},{ASSIGNMENT},{v}" for s, v in expected.items()]
    (repo.examples / "expected.csv").write_text("\n".join(lines) + "\n")
    capsys.readouterr()
    assert main(["--repo", str(repo.root), "demo"]) == 0
    out = capsys.readouterr().out
    assert "every total matches" in out and "DIFFERS" not in out


def test_demo_comparison_reports_every_difference():
    rows = [Row("correct", "a1", "n", "t", 6.0, 6.0, "passed"),
            Row("blank", "a1", "n", "t", 0.0, 6.0, "error"),
            Row("new", "a1", "n", "t", 1.0, 6.0, "partial"),
            Row("wrong-layout", "a1-draft", "n", "", 0.0, 0.0, "unknown_assignment")]
    expected = {("correct", "a1"): 5.0, ("blank", "a1"): 0.0, ("gone", "a1"): 3.0}
    column, problems = compare(rows, expected, {"a1"})
    assert column[("blank", "a1")] == "ok"
    assert column[("correct", "a1")].startswith("DIFFERS")
    assert column[("wrong-layout", "a1-draft")] == "(layout rows)"
    assert problems == ["correct/a1: scored 6, expected 5", "new/a1: not in expected.csv",
                        "gone/a1: in expected.csv but not graded"]


BUGS_RECIPE = """\
students = ['correct']
[bugs.plus-for-times]
mul = "def mul(a, b):\\n    return a + b"
[bugs.minus]
add = "def add(a, b):\\n    return a - b"
"""


def test_each_planted_bug_is_its_own_student(repo, pairs):
    (repo.recipes / f"{ASSIGNMENT}.toml").write_text(BUGS_RECIPE)
    files = assignment_files(ASSIGNMENT, load_recipe(repo, ASSIGNMENT), pairs)
    assert {path.split("/")[0] for path in files} == {"correct", "bug-plus-for-times",
                                                        "bug-minus"}
    planted = json.loads(files[f"bug-plus-for-times/{ASSIGNMENT}/{NOTEBOOK}"])
    sources = {nbtools.grade_id(c): nbtools.source(c) for c in planted["cells"]}
    assert sources["mul"] == "def mul(a, b):\n    return a + b"
    assert sources["add"] == SOLUTIONS["add"]  # the other cells stay correct


@pytest.mark.parametrize("text, words", [
    ("students = ['correct']\n[bugs.Bad_Name]\nmul = 'x'\n", "lower-case-with-hyphens"),
    ("students = ['correct']\n[bugs.swap]\nnope = 'x'\n", "not a solution cell"),
])
def test_bad_bug_tables_say_what_to_fix(repo, pairs, text, words):
    (repo.recipes / f"{ASSIGNMENT}.toml").write_text(text)
    with pytest.raises(UsageError, match=words):
        assignment_files(ASSIGNMENT, load_recipe(repo, ASSIGNMENT), pairs)
