"""Cell time budgets and kernel threads: where they come from, what the executor does with
them (no nbgrader run; fast). End to end under load: test_load.py."""

from __future__ import annotations

import dataclasses
import json
import math

import pytest
from ag_fixtures import ASSIGNMENT, NOTEBOOK, fake_catalog, training_notebook
from nbformat.v4 import new_code_cell

from autograder import UsageError, catalog, grading, nbtools, release, runner
from autograder.nbgrader_ext import GuardedExecute, cell_limit


def _cell(meta: dict | None, gid: str | None = "training", solution: bool = True) -> dict:
    cell = new_code_cell("x = 1")
    if gid is not None:
        cell.metadata["nbgrader"] = {"solution": solution, "grade": False, "locked": False,
                                     "grade_id": gid, "schema_version": 3}
    if meta is not None:
        cell.metadata["autograder"] = meta
    return cell


def test_a_budget_is_read_from_cell_metadata():
    assert nbtools.cell_budget(_cell(None)) is None
    assert nbtools.cell_budget(_cell({})) is None
    assert nbtools.cell_budget(_cell({"timeout": 300})) == 300.0
    assert nbtools.cell_budget(_cell({"timeout": 1.5})) == 1.5
    nb = training_notebook(budget=60)
    assert nbtools.cell_budgets(nb) == {"training": 60.0}


@pytest.mark.parametrize("meta, message", [
    ({"timeout": 0}, "positive number"),
    ({"timeout": -5}, "positive number"),
    ({"timeout": "300"}, "positive number"),
    ({"timeout": True}, "positive number"),
    ({"timeout": math.inf}, "positive number"),
    ({"timeout": math.nan}, "positive number"),
    ({"timout": 300}, "unknown key"),
    (300, "must be an object"),
])
def test_a_malformed_budget_is_refused(meta, message):
    with pytest.raises(ValueError, match=message):
        nbtools.cell_budget(_cell(meta))


def test_a_budget_needs_a_tracked_cell_with_a_grade_id():
    nb = {"cells": [_cell({"timeout": 60}, gid=None)]}
    with pytest.raises(ValueError, match="cell 1 .* grade_id"):
        nbtools.cell_budgets(nb)
    nb = {"cells": [_cell(None, "a"), _cell({"timeout": 60}, "b", solution=False)]}
    with pytest.raises(ValueError, match="cell 2 "):
        nbtools.cell_budgets(nb)


def test_malformed_budgets_in_solutions_stop_the_release(repo):
    path = repo.solutions / ASSIGNMENT / NOTEBOOK
    nb = nbtools.load(path)
    nb["cells"][2]["metadata"]["autograder"] = {"timeout": "long"}
    path.write_text(json.dumps(nb))
    with pytest.raises(UsageError, match=r"a1/tiny\.ipynb: cell 3: .*positive number"):
        release.check_budgets(repo)
    with pytest.raises(UsageError, match="tiny.ipynb: cell 3"):
        catalog.read_budgets(path)


def test_the_catalog_reads_budgets_from_the_source_not_the_release(tmp_path):
    source = tmp_path / "source.ipynb"
    nbtools.write(training_notebook(budget=45), source)
    assert catalog.read_budgets(source) == {"training": 45.0}


def _executor(budgets: dict, timeout: int | None = 30) -> GuardedExecute:
    ex = GuardedExecute(cell_budgets=budgets, timeout=timeout)
    ex._budgets = ex.budgets_for({"nbgrader": {"notebook": "tiny"}})  # as preprocess() does
    return ex


def test_the_executor_gives_budgeted_cells_their_own_limit():
    ex = _executor({"tiny": {"training": 90.0, "quick": 10.0}, "other": {"add": 500.0}})
    assert ex._get_timeout(_cell(None, "training")) == 90.0
    assert ex._get_timeout(_cell(None, "quick")) == 30  # a budget never lowers the limit
    assert ex._get_timeout(_cell(None, "add")) == 30  # another notebook's budget
    assert ex._get_timeout(_cell(None, gid=None)) == 30
    assert ex._get_timeout(None) == 30
    assert _executor({"tiny": {"training": 90.0}}, timeout=None)._get_timeout(
        _cell(None, "training")) is None  # no limit stays no limit


def test_a_budget_in_the_submitted_notebook_is_ignored():
    ex = _executor({})
    assert ex._get_timeout(_cell({"timeout": 10_000}, "training")) == 30
    ex = _executor({"tiny": {"training": 90.0}})
    assert ex._get_timeout(_cell({"timeout": 10_000}, "training")) == 90.0


def test_budgets_reach_the_executor_through_nbgrader_s_command_line():
    """grade_unit passes --GuardedExecute.cell_budgets=<json>; traitlets parses it."""
    from traitlets.config import Application

    app = Application()
    budgets = {"tiny": {"training": 90.0}, "a b": {"it's": 2.5}}
    app.parse_command_line([f"--GuardedExecute.cell_budgets={json.dumps(budgets)}"])
    assert GuardedExecute(config=app.config).cell_budgets == budgets


def test_the_executor_reads_the_budgets_of_the_notebook_it_grades():
    ex = GuardedExecute(cell_budgets={"tiny": {"training": 90.0}})
    assert ex.budgets_for({"nbgrader": {"notebook": "tiny"}}) == {"training": 90.0}
    assert ex.budgets_for({"nbgrader": {"notebook": "other"}}) == {}
    assert ex.budgets_for(None) == {}


def test_cell_limit():
    assert cell_limit(None, 30) == 30
    assert cell_limit(120, 30) == 120
    assert cell_limit(5, 30) == 30
    assert cell_limit(120, None) is None and cell_limit(120, 0) == 0


def test_budgets_longer_than_the_wall_clock_limit_are_reported(repo, tmp_path):
    cat = fake_catalog(repo, tmp_path / "cat")
    info = cat.notebooks[ASSIGNMENT]["tiny"]
    assert grading.budget_warnings(cat, 600) == []
    cat.notebooks[ASSIGNMENT]["tiny"] = dataclasses.replace(info, budgets={"t": 400.0,
                                                                           "u": 300.0})
    (warning,) = grading.budget_warnings(cat, 600)
    assert "a1" in warning and "700 s" in warning and "600 s --limit" in warning


def test_kernels_run_one_thread_whatever_the_environment_says(tmp_path, monkeypatch):
    monkeypatch.setenv("OMP_NUM_THREADS", "16")
    monkeypatch.delenv("MKL_NUM_THREADS", raising=False)
    assert grading.Options().threads == 1
    env = runner.nbgrader_env(tmp_path, "marker", grading.Options().threads)
    assert {var: env[var] for var in runner.THREAD_VARS} == dict.fromkeys(
        ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS", "NUMEXPR_NUM_THREADS",
         "VECLIB_MAXIMUM_THREADS"), "1")
    env = runner.nbgrader_env(tmp_path, "marker", None)  # --threads 0: left alone
    assert env["OMP_NUM_THREADS"] == "16" and "MKL_NUM_THREADS" not in env


@pytest.mark.slow
def test_torch_in_a_grading_kernel_runs_one_thread(tmp_path):
    """A real kernel started with the grading environment (as nbgrader starts it)."""
    from jupyter_client.manager import start_new_kernel

    course = runner.make_course_dir(tmp_path / "course")
    env = runner.nbgrader_env(course, "marker", grading.Options().threads)
    km, kc = start_new_kernel(kernel_name="python3", env=env, cwd=str(course))
    try:
        out: list[str] = []
        reply = kc.execute_interactive(
            "import numpy, torch, threadpoolctl\n"
            "blas = [i['num_threads'] for i in threadpoolctl.threadpool_info()"
            " if i['user_api'] == 'blas']\n"
            "print(torch.get_num_threads(), max(blas))",
            timeout=120, output_hook=lambda msg: out.append(msg["content"].get("text", "")))
        assert reply["content"]["status"] == "ok"
        assert "".join(out).split() == ["1", "1"]
    finally:
        kc.stop_channels()
        km.shutdown_kernel(now=True)
