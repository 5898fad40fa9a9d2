"""Every topic is complete: what the README's "Adding a topic" checklist asks for exists.

For every assignment ``solutions/NN-topic/``: a lecture ``lectures/NN-*.ipynb``, an example
recipe ``autograder/recipes/NN-topic.toml``, expected scores in
``autograder/examples/expected.csv`` for every example student the recipe builds, a row of
the README's course map, its released notebooks in ``assignments/``, and the visible
tests' expected values in ``course/expected/``.
"""

from __future__ import annotations

import csv
import re
import tomllib
from pathlib import Path

import pytest

from autograder.examples_builder import STUDENTS

ROOT = Path(__file__).resolve().parents[1]
ASSIGNMENTS = sorted(p.name for p in (ROOT / "solutions").iterdir() if p.is_dir())
NAME = re.compile(r"^\d\d-[a-z0-9]+(-[a-z0-9]+)*$")


def test_assignment_names_follow_the_convention() -> None:
    assert ASSIGNMENTS, "no assignments in solutions/"
    for name in ASSIGNMENTS:
        assert NAME.match(name), f"solutions/{name}: name it NN-topic (lower case, hyphens)"
    numbers = [name[:2] for name in ASSIGNMENTS]
    assert len(set(numbers)) == len(numbers), "two assignments share a number"


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_topic_has_lecture_recipe_expected_scores_readme_row_and_release(assignment) -> None:
    number = assignment[:2]
    lectures = sorted((ROOT / "lectures").glob(f"{number}-*.ipynb"))
    assert len(lectures) == 1, f"expected one lecture lectures/{number}-*.ipynb, got {lectures}"

    recipe_path = ROOT / "autograder" / "recipes" / f"{assignment}.toml"
    assert recipe_path.is_file(), f"missing {recipe_path.relative_to(ROOT)}"
    recipe = tomllib.loads(recipe_path.read_text(encoding="utf-8"))
    students = recipe.get("students", list(STUDENTS))
    students += [f"bug-{name}" for name in recipe.get("bugs", {})]

    with open(ROOT / "autograder" / "examples" / "expected.csv", encoding="utf-8") as fh:
        expected = {row["student_id"] for row in csv.DictReader(fh)
                    if row["assignment"] == assignment}
    assert set(students) <= expected, (
        f"expected.csv lacks {sorted(set(students) - expected)} for {assignment}")

    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    row = re.search(rf"^\| {number} \| `lectures/{re.escape(lectures[0].name)}` \| "
                    rf"`{re.escape(assignment)}` \|", readme, re.M)
    assert row, f"README.md: the course map has no row for {assignment}"

    sources = sorted(p.name for p in (ROOT / "solutions" / assignment).glob("*.ipynb"))
    released = sorted(p.name for p in (ROOT / "assignments" / assignment).glob("*.ipynb"))
    assert sources and released == sources, f"assignments/{assignment} is not released"

    # the visible tests' expected values: named in the notebook's metadata, stored, and the
    # module that computes them stays out of the student kit
    from autograder.kit import hidden_modules
    from autograder.paths import Repo
    from autograder.release import visible_cases_modules

    module = visible_cases_modules(Repo.at(ROOT)).get(assignment)
    assert module, (f"solutions/{assignment}: set metadata.autograder.visible_cases to the "
                    "module whose visible_cases() gives the visible tests' expected values")
    assert module in hidden_modules(Repo.at(ROOT)), f"{module} would ship in the student kit"
    assert (ROOT / "course" / "expected" / f"{assignment}.json").is_file(), (
        f"course/expected/{assignment}.json is missing: run `make release`")
