"""The real example submissions in autograder/examples/ score what expected.csv says.

Grades every example once (``--jobs 2``); runs when autograder/examples/expected.csv
exists, which the notebook authors write by hand after measuring.
"""

from __future__ import annotations

import collections

import pytest

from autograder.demo import EXAMPLES_ROOT_FILES, read_expected
from autograder.grading import Options, grade
from autograder.paths import Repo

REPO = Repo.at()
EXPECTED = REPO.examples / "expected.csv"

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not EXPECTED.is_file(),
                       reason="autograder/examples/expected.csv does not exist yet (the"
                       " example submissions have not been measured and written down)"),
]


@pytest.fixture(scope="session")
def example_rows(tmp_path_factory):
    out = tmp_path_factory.mktemp("examples-out")
    return grade(REPO, REPO.examples, out,
                 Options(jobs=2, skip_root_files=EXAMPLES_ROOT_FILES), echo=lambda *_: None)


def _by_student(rows):
    out = collections.defaultdict(list)
    for r in rows:
        out[r.student_id].append(r)
    return out


def test_every_total_matches_expected_csv(example_rows):
    expected = read_expected(EXPECTED)
    known = set(REPO.assignment_ids())
    totals = collections.Counter()
    for r in example_rows:
        if r.assignment in known:
            totals[(r.student_id, r.assignment)] += r.score
    assert set(totals) == set(expected), "students/assignments differ from expected.csv"
    for key, score in sorted(expected.items()):
        assert totals[key] == pytest.approx(score), f"{key[0]}/{key[1]}"


def test_statuses_name_the_problem(example_rows):
    rows = _by_student(example_rows)
    for student in ("correct", "deleted-cell", "duplicated-cell"):
        assert {r.status for r in rows[student]} == {"passed"}, student
    # a blank release fails every test because of its stubs, not because of the tests
    assert {r.status for r in rows["blank"]} == {"error"}
    assert all("NotImplementedError" in r.reason for r in rows["blank"])
    assert {r.status for r in rows["invalid-json"]} == {"invalid_notebook"}
    assert all("not valid JSON" in r.reason for r in rows["invalid-json"])
    assert any(r.status == "timeout" for r in rows["endless-loop"])
    assert any(r.status == "timeout" and "ignored the interrupt" in r.reason
               for r in rows["ignores-interrupt"])
    assert any("RuntimeError" in r.reason for r in rows["raising"])
    assert any(r.status in ("failed", "error") for r in rows["partial"])
    assert any("restored" in r.reason for r in rows["deleted-cell"])
    assert any("duplicated" in r.reason for r in rows["duplicated-cell"])
    layout = {r.status for r in rows["wrong-layout"]}
    assert {"unknown_assignment", "unexpected_notebook", "missing_notebook",
            "wrong_layout"} <= layout
    assert sum(r.score for r in rows["wrong-layout"]) == 0
