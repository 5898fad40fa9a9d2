"""``python -m autograder demo``: release, grade the examples, compare with expected.csv."""

from __future__ import annotations

import csv
import shutil
import tempfile
from pathlib import Path

from autograder import UsageError, catalog
from autograder.grading import Options, grade
from autograder.paths import Repo
from autograder.release import publish
from autograder.report import Row, fmt, summary, totals

EXAMPLES_ROOT_FILES = frozenset({"expected.csv", "README.md"})


def read_expected(path: Path) -> dict[tuple[str, str], float]:
    """expected.csv: student_id, assignment, expected_score."""
    with open(path, newline="", encoding="utf-8") as fh:
        reader = csv.DictReader(fh)
        need = {"student_id", "assignment", "expected_score"}
        if not need <= set(reader.fieldnames or []):
            raise UsageError(f"{path} needs the columns {', '.join(sorted(need))}")
        expected = {}
        for line in reader:
            try:
                score = float(line["expected_score"])
            except ValueError as err:
                raise UsageError(f"{path}: bad expected_score {line['expected_score']!r}") from err
            expected[(line["student_id"], line["assignment"])] = score
    return expected


def compare(rows: list[Row], expected: dict[tuple[str, str], float],
            known: set[str]) -> tuple[dict[tuple[str, str], str], list[str]]:
    """The demo column per (student, assignment), and the list of differences."""
    column: dict[tuple[str, str], str] = {}
    problems = []
    graded = set()
    for t in totals(rows):
        key = (t.student_id, t.assignment)
        if t.assignment not in known:
            column[key] = "(layout rows)"
            continue
        graded.add(key)
        if key not in expected:
            column[key] = "no expected score"
            problems.append(f"{t.student_id}/{t.assignment}: not in expected.csv")
        elif abs(expected[key] - t.score) > 1e-9:
            column[key] = f"DIFFERS: expected {fmt(expected[key])}"
            problems.append(f"{t.student_id}/{t.assignment}: scored {fmt(t.score)},"
                            f" expected {fmt(expected[key])}")
        else:
            column[key] = "ok"
    for key in sorted(set(expected) - graded):
        problems.append(f"{key[0]}/{key[1]}: in expected.csv but not graded")
    return column, problems


def fresh_out(out: Path) -> None:
    if out.exists():
        if (out / "grades.csv").exists() or not any(out.iterdir()):
            shutil.rmtree(out)
        else:
            raise UsageError(f"{out} exists and is not a previous demo output; choose --out")


def demo(repo: Repo, out: Path, jobs: int = 2, echo=print) -> int:
    examples = repo.examples
    if not examples.is_dir() or not any(p.is_dir() for p in examples.iterdir()):
        raise UsageError(f"no example submissions in {examples}; run: python -m autograder"
                         " examples")
    with tempfile.TemporaryDirectory(prefix="autograder-demo-") as tmp:
        # one nbgrader generate_assignment: its release is published to assignments/,
        # its gradebook grades the examples
        echo("generating the release and the gradebook from solutions/ ...")
        cat = catalog.build(repo, Path(tmp) / "template")
        publish(cat.course / "release", repo, out=echo)
        fresh_out(out)
        rows = grade(repo, examples, out,
                     Options(jobs=jobs, skip_root_files=EXAMPLES_ROOT_FILES), echo=echo,
                     show_summary=False, cat=cat)
    expected_csv = examples / "expected.csv"
    if not expected_csv.is_file():
        echo(summary(rows))
        echo(f"\n{expected_csv} does not exist: check the totals above by hand and write it"
             " (student_id,assignment,expected_score); see autograder/recipes/README.md")
        return 1
    column, problems = compare(rows, read_expected(expected_csv), set(repo.assignment_ids()))
    echo("")
    echo(summary(rows, column, "vs expected.csv"))
    if problems:
        echo("\nDIFFERENCES:\n  " + "\n  ".join(problems))
        return 1
    echo("\nevery total matches autograder/examples/expected.csv")
    return 0
