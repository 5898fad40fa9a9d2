"""release: generate assignments/ from solutions/, deterministically; --check finds drift."""

from __future__ import annotations

import json

import pytest
from ag_fixtures import ASSIGNMENT, NOTEBOOK, tree_hash

from autograder import UsageError, nbtools, release
from autograder.__main__ import main


def test_solutions_with_outputs_are_refused(repo):
    path = repo.solutions / ASSIGNMENT / NOTEBOOK
    nb = nbtools.load(path)
    nb["cells"][1]["execution_count"] = 3
    path.write_text(json.dumps(nb))
    with pytest.raises(UsageError, match="nbconvert --clear-output --inplace"):
        release.check_clean(repo)


def test_compare_and_sync(tmp_path):
    gen, com = tmp_path / "gen", tmp_path / "com"
    for root, files in ((gen, {"a/x.ipynb": "1", "a/y.ipynb": "2", "b/z.ipynb": "3"}),
                        (com, {"a/x.ipynb": "1", "a/y.ipynb": "old", "c/w.ipynb": "4",
                               "README.md": "kept"})):
        for rel, text in files.items():
            (root / rel).parent.mkdir(parents=True, exist_ok=True)
            (root / rel).write_text(text)
    diff = release.compare(gen, com)
    assert (diff.stale, diff.missing, diff.extra) == (["a/y.ipynb"], ["b/z.ipynb"], ["c/w.ipynb"])
    release.sync(gen, com)
    assert not release.compare(gen, com)
    assert (com / "README.md").read_text() == "kept" and not (com / "c").exists()


def test_no_assignments_is_a_clear_error(tmp_path):
    (tmp_path / "solutions" / "01-empty").mkdir(parents=True)
    assert main(["--repo", str(tmp_path), "release"]) == 2


@pytest.mark.slow
def test_release_is_deterministic_and_check_finds_drift(repo, tmp_path, capsys):
    first = release.generate(repo, tmp_path / "one")
    second = release.generate(repo, tmp_path / "two")
    assert tree_hash(first) == tree_hash(second)
    released = (first / ASSIGNMENT / NOTEBOOK).read_text()
    assert released.endswith("}\n")
    assert "BEGIN SOLUTION" not in released and "HIDDEN TESTS" not in released
    assert "raise NotImplementedError()" in released

    assert main(["--repo", str(repo.root), "release"]) == 0
    assert (repo.assignments / ASSIGNMENT / NOTEBOOK).read_text() == released
    assert main(["--repo", str(repo.root), "release", "--check"]) == 0
    capsys.readouterr()

    (repo.assignments / ASSIGNMENT / NOTEBOOK).write_text(released.replace("# A tiny", "# Old"))
    (repo.assignments / "old").mkdir()
    (repo.assignments / "old" / "gone.ipynb").write_text("{}")
    (repo.solutions / "a2").mkdir()
    (repo.solutions / "a2" / "second.ipynb").write_text(
        (repo.solutions / ASSIGNMENT / NOTEBOOK).read_text())
    assert main(["--repo", str(repo.root), "release", "--check"]) == 1
    out = capsys.readouterr().out
    assert f"stale: assignments/{ASSIGNMENT}/{NOTEBOOK}" in out
    assert "missing: assignments/a2/second.ipynb" in out
    assert "extra: assignments/old/gone.ipynb" in out
    assert "python -m autograder release" in out
