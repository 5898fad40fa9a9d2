"""The command line: help text and clear errors instead of tracebacks (fast)."""

from __future__ import annotations

import subprocess
import sys

import pytest

from autograder.__main__ import main


def test_help_lists_the_commands(capsys):
    with pytest.raises(SystemExit) as exc:
        main(["--help"])
    assert exc.value.code == 0
    out = capsys.readouterr().out
    for command in ("release", "grade", "demo", "examples", "bench"):
        assert command in out


def test_grade_help_explains_the_layout(capsys):
    with pytest.raises(SystemExit):
        main(["grade", "--help"])
    assert "SUBMISSIONS/<student_id>/<assignment>/<notebook>.ipynb" in capsys.readouterr().out


def test_missing_submissions_folder_is_a_clear_error(repo, tmp_path):
    result = subprocess.run(
        [sys.executable, "-m", "autograder", "--repo", str(repo.root), "grade",
         str(tmp_path / "nowhere"), "--out", str(tmp_path / "out")],
        capture_output=True, text=True, check=False,
    )
    assert result.returncode == 2
    assert "does not exist" in result.stderr and "Traceback" not in result.stderr
    assert not (tmp_path / "out").exists()


def test_out_inside_submissions_is_refused(repo, tmp_path, capsys):
    (tmp_path / "subs").mkdir()
    assert main(["--repo", str(repo.root), "grade", str(tmp_path / "subs"),
                 "--out", str(tmp_path / "subs" / "out")]) == 2
    assert "inside the submissions folder" in capsys.readouterr().err


def test_not_a_repository(tmp_path, capsys):
    assert main(["--repo", str(tmp_path), "release"]) == 2
    assert "no solutions/ folder" in capsys.readouterr().err


def test_examples_without_recipe(repo, capsys):
    (repo.recipes / "a1.toml").unlink()
    assert main(["--repo", str(repo.root), "examples"]) == 2
    assert "no recipe for a1" in capsys.readouterr().err


def test_grade_help_documents_the_thread_setting(capsys):
    with pytest.raises(SystemExit):
        main(["grade", "--help"])
    assert "--threads" in capsys.readouterr().out


def test_negative_threads_are_refused(repo, tmp_path, capsys):
    (tmp_path / "subs").mkdir()
    assert main(["--repo", str(repo.root), "grade", str(tmp_path / "subs"),
                 "--out", str(tmp_path / "out"), "--threads", "-1"]) == 2
    assert "--threads" in capsys.readouterr().err
