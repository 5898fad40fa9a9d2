"""The pre-pass: layout scanning and notebook cleaning (no nbgrader run; fast)."""

from __future__ import annotations

import copy
import json

import pytest
from ag_fixtures import ASSIGNMENT, NOTEBOOK, fake_catalog, filled, index_of, write_files

from autograder import nbtools, prepass


@pytest.fixture
def cat(repo, tmp_path):
    return fake_catalog(repo, tmp_path / "release")


@pytest.fixture
def info(cat):
    return cat.notebooks[ASSIGNMENT]["tiny"]


@pytest.fixture
def correct(info):
    return filled(nbtools.load(info.release_path))


def _prepare(tmp_path, info, nb_or_text):
    path = tmp_path / "sub.ipynb"
    path.write_text(nb_or_text if isinstance(nb_or_text, str) else json.dumps(nb_or_text))
    return prepass.prepare(path, info)


def _cells(prepared):
    return json.loads(prepared.text)["cells"]


def test_clean_notebook_passes_through_without_outputs(tmp_path, info, correct):
    correct["cells"][2]["outputs"] = [{"output_type": "stream", "name": "stdout", "text": "x"}]
    correct["cells"][2]["execution_count"] = 7
    correct["metadata"]["kernelspec"] = {"name": "conda-env-foo", "display_name": "foo"}
    result = _prepare(tmp_path, info, correct)
    assert isinstance(result, prepass.Prepared)
    nb = json.loads(result.text)
    assert nb["metadata"]["kernelspec"]["name"] == "python3"
    assert all(c.get("outputs", []) == [] for c in nb["cells"])
    assert all(c.get("execution_count") is None for c in nb["cells"] if c["cell_type"] == "code")
    assert result.notes == {} and result.general == []


@pytest.mark.parametrize("text, words", [
    ("", "empty"),
    ('{"cells": [', "not valid JSON"),
    ("[1, 2, 3]", "not a Jupyter notebook"),
    ('{"nbformat": 4, "metadata": {}}', "no 'cells' list"),
])
def test_invalid_files_are_rejected_with_a_reason(tmp_path, info, text, words):
    result = _prepare(tmp_path, info, text)
    assert isinstance(result, prepass.Rejected)
    assert words in result.reason


def test_truncated_notebook_names_the_position(tmp_path, info, correct):
    result = _prepare(tmp_path, info, json.dumps(correct)[:200])
    assert isinstance(result, prepass.Rejected)
    assert "not valid JSON" in result.reason and "line 1" in result.reason


def test_duplicated_grade_cell_keeps_the_first(tmp_path, info, correct):
    i = index_of(correct, "test_add")
    twin = copy.deepcopy(correct["cells"][i])
    twin["source"] = "assert False  # the copy"
    correct["cells"].insert(i + 1, twin)
    result = _prepare(tmp_path, info, correct)
    cells = _cells(result)
    tracked = [c for c in cells if nbtools.grade_id(c) == "test_add"]
    assert len(tracked) == 1 and "assert False" not in nbtools.source(tracked[0])
    assert "nbgrader" not in cells[i + 1]["metadata"]  # the copy runs as an ordinary cell
    assert len({c["id"] for c in cells}) == len(cells)  # ids made unique
    assert "duplicated" in result.notes["test_add"][0]


def test_deleted_cells_are_restored_in_order(tmp_path, info, correct):
    del correct["cells"][index_of(correct, "test_mul")]
    del correct["cells"][index_of(correct, "mul")]
    result = _prepare(tmp_path, info, correct)
    order = [nbtools.grade_id(c) for c in _cells(result) if nbtools.grade_id(c)]
    assert order == ["add", "test_add", "mul", "test_mul", "test_warn"]
    assert "restored" in result.notes["test_mul"][0]
    assert any("'mul'" in note for note in result.general)


def test_corrupted_and_foreign_metadata_is_removed(tmp_path, info, correct):
    correct["cells"][index_of(correct, "test_warn")]["metadata"]["nbgrader"]["points"] = "lots"
    foreign = copy.deepcopy(correct["cells"][index_of(correct, "test_add")])
    foreign["metadata"]["nbgrader"]["grade_id"] = "from_another_notebook"
    correct["cells"].append(foreign)
    result = _prepare(tmp_path, info, correct)
    ids = [nbtools.grade_id(c) for c in _cells(result)]
    assert "from_another_notebook" not in ids
    assert ids.count("test_warn") == 1  # the corrupted cell was replaced by the release's
    assert "corrupted" in result.notes["test_warn"][0]


def test_prepare_never_modifies_the_file(tmp_path, info, correct):
    correct["cells"][2]["outputs"] = [{"output_type": "stream", "name": "stdout", "text": "x"}]
    path = tmp_path / "sub.ipynb"
    path.write_text(json.dumps(correct))
    before = path.read_bytes()
    prepass.prepare(path, info)
    assert path.read_bytes() == before


def test_scan_reports_every_layout_problem(tmp_path, cat, correct):
    text = json.dumps(correct)
    write_files(tmp_path / "subs", {
        f"ok/{ASSIGNMENT}/{NOTEBOOK}": text,
        f"ok/{ASSIGNMENT}/.ipynb_checkpoints/{NOTEBOOK}": text,  # clutter: ignored
        f"renamed/{ASSIGNMENT}/tiny_final.ipynb": text,
        f"renamed/{ASSIGNMENT}/data.csv": "1,2\n",
        f"lost/a2/{NOTEBOOK}": text,
        f"flat/{NOTEBOOK}": text,
        f"deep/{ASSIGNMENT}/sub/{NOTEBOOK}": text,
        "stray.txt": "x",
    })
    (tmp_path / "subs" / "empty" / ASSIGNMENT).mkdir(parents=True)
    scanned = prepass.scan(tmp_path / "subs", cat)
    graded = {(u.student, u.assignment): sorted(u.files) for u in scanned.units}
    assert graded[("ok", ASSIGNMENT)] == ["tiny"]
    assert graded[("renamed", ASSIGNMENT)] == []
    by = {(r.student_id, r.assignment, r.notebook, r.status) for r in scanned.rows}
    assert ("renamed", ASSIGNMENT, "tiny_final.ipynb", "unexpected_notebook") in by
    assert ("renamed", ASSIGNMENT, "data.csv", "unexpected_file") in by
    assert ("renamed", ASSIGNMENT, NOTEBOOK, "missing_notebook") in by
    assert ("lost", "a2", NOTEBOOK, "unknown_assignment") in by
    assert ("flat", "", NOTEBOOK, "wrong_layout") in by
    assert ("deep", ASSIGNMENT, f"sub/{NOTEBOOK}", "wrong_layout") in by
    assert ("", "", "stray.txt", "wrong_layout") in by
    assert ("empty", ASSIGNMENT, NOTEBOOK, "missing_notebook") in by
    missing = [r for r in scanned.rows if r.student_id == "empty"]
    assert [r.grade_id for r in missing] == ["test_add", "test_mul", "test_warn"]
    assert all(r.score == 0 for r in missing) and sum(r.max_score for r in missing) == 6
    reasons = {r.status: r.reason for r in scanned.rows}
    assert "<student_id>/<assignment>/<notebook>.ipynb" in reasons["wrong_layout"]
    assert "known: a1" in reasons["unknown_assignment"]
    assert "rename" in reasons["unexpected_notebook"]
    assert not any(r.student_id == "ok" for r in scanned.rows)


def test_hidden_and_linked_student_folders_get_rows_with_their_ids(tmp_path, cat, correct):
    text = json.dumps(correct)
    write_files(tmp_path / "subs", {
        f".mallory/{ASSIGNMENT}/{NOTEBOOK}": text,
        f"bob/{ASSIGNMENT}/{NOTEBOOK}": text,
        f".ipynb_checkpoints/{ASSIGNMENT}/{NOTEBOOK}": text,  # clutter: no row
    })
    (tmp_path / "subs" / ".DS_Store").write_text("x")  # clutter: no row
    (tmp_path / "subs" / "eve").symlink_to(tmp_path / "subs" / "bob")
    scanned = prepass.scan(tmp_path / "subs", cat)
    assert [(u.student, u.assignment) for u in scanned.units] == [("bob", ASSIGNMENT)]
    rows = {r.student_id: r for r in scanned.rows}
    assert set(rows) == {".mallory", "eve"}
    hidden = rows[".mallory"]
    assert hidden.status == "wrong_layout" and "starts with '.'" in hidden.reason
    assert "rename it to 'mallory'" in rows[".mallory"].reason
    assert rows["eve"].status == "wrong_layout" and "symbolic link" in rows["eve"].reason
    assert all(r.score == 0 and r.max_score == 0 for r in scanned.rows)
