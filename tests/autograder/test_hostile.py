"""The hostile corpus (hostile.py), graded in one batch between honest students (slow).

Graded once with the sandbox on and small limits (``hostile.SANDBOX_CONFIG``), 2 jobs:
honest students come first (``aaa-``), in the middle (``mmm-``) and last (``zzz-``). It
checks what issue 7 asks of the sandbox: each attack scores what its own code earned
(0 where it answered nothing), the honest students keep full marks, no file outside the
kernels' working folders changes (the fake course, this checkout, SUBMISSIONS, and OUT
after the grader has returned), no process survives, a loopback listener sees no
connection, and the grader's environment does not reach the kernels.
"""

from __future__ import annotations

import hashlib
import os
import re
import socket
import tempfile
import time
import uuid
from pathlib import Path

import psutil
import pytest
from ag_fixtures import (
    ASSIGNMENT,
    MAX_SCORE,
    NOTEBOOK,
    SOLUTIONS,
    filled,
    make_repo,
    write_files,
)
from hostile import ATTACKS, PRELUDE, SANDBOX_CONFIG

from autograder import nbtools, release, sandbox
from autograder.grading import Options, grade

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(sandbox.find_bwrap() is None, reason="bubblewrap is not installed"),
]

PROJECT = Path(__file__).resolve().parents[2]
HONEST = ("aaa-honest", "mmm-honest", "zzz-honest")
DETACHED_WAIT_S = 6  # the detached attack writes 4 s after it started


def tree_hash(root: Path) -> dict[str, str]:
    """sha256 of every file under root, bytecode caches left out."""
    out = {}
    for path in sorted(root.rglob("*")):
        if "__pycache__" in path.parts or ".pytest_cache" in path.parts:
            continue
        rel = path.relative_to(root).as_posix()
        out[rel] = hashlib.sha256(path.read_bytes()).hexdigest() if path.is_file() else "dir"
    return out


def leftovers(marker: str) -> list[str]:
    """Processes that carry the marker, or that run as a sandbox uid."""
    settings = sandbox.load_settings(SANDBOX_CONFIG)
    uids = range(settings.uid_base, settings.uid_base + settings.uid_count)
    found = []
    for proc in psutil.process_iter(["cmdline", "uids"]):
        try:
            text = " ".join(proc.info["cmdline"] or []) + str(proc.environ())
        except psutil.Error:
            text = " ".join(proc.info.get("cmdline") or [])
        uid = proc.info["uids"].real if proc.info.get("uids") else None
        if marker in text or uid in uids:
            found.append(f"{proc.pid} uid {uid}: {text[:120]}")
    return found


def outputs_text(nb: dict) -> str:
    parts = []
    for cell in nb.get("cells", []):
        for out in cell.get("outputs", []):
            parts.append(nbtools.source({"source": out.get("text", "")}))
            parts += [str(v) for v in (out.get("data") or {}).values()]
            parts += [str(out.get("evalue", ""))]
    return "\n".join(parts)


@pytest.fixture(scope="module")
def batch(tmp_path_factory):
    root = tmp_path_factory.mktemp("hostile")
    repo = make_repo(root / "repo")
    with tempfile.TemporaryDirectory() as tmp:
        released = nbtools.load(release.generate(repo, Path(tmp)) / ASSIGNMENT / NOTEBOOK)
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(8)
    listener.setblocking(False)
    context = {
        "repo": str(repo.root), "project": str(PROJECT), "subs": str(root / "subs"),
        "out": str(root / "out"), "port": listener.getsockname()[1],
        "marker": f"hostile-{uuid.uuid4().hex}", "secret": f"token-{uuid.uuid4().hex}",
        "root": sandbox.is_root(),
    }
    files = {f"{name}/{ASSIGNMENT}/{NOTEBOOK}": nbtools.dumps(filled(released))
             for name in HONEST}
    for attack in ATTACKS:
        cells = {}
        for i, (gid, code) in enumerate(attack.cells.items()):
            cells[gid] = (PRELUDE if i == 0 else "") + code.format(**context)
        for gid in SOLUTIONS:
            cells.setdefault(gid, "pass  # not answered")
        files[f"{attack.name}/{ASSIGNMENT}/{NOTEBOOK}"] = nbtools.dumps(filled(released, cells))
    write_files(root / "subs", files)
    watched = {"repo": repo.root, "subs": root / "subs", "course": PROJECT / "course",
               "solutions": PROJECT / "solutions", "autograder": PROJECT / "autograder"}
    before = {name: tree_hash(path) for name, path in watched.items()}
    saved = {p: p.read_bytes() for p in (PROJECT / "course").rglob("*.py")}
    lines: list[str] = []
    try:
        with pytest.MonkeyPatch.context() as mp:
            mp.setenv("AUTOGRADER_TEST_SECRET", context["secret"])
            rows = grade(repo, root / "subs", root / "out",
                         Options(jobs=2, timeout=30, limit=180, sandbox_config=SANDBOX_CONFIG),
                         echo=lines.append)
        out_right_after = tree_hash(root / "out")
        time.sleep(DETACHED_WAIT_S)
        after = {name: tree_hash(path) for name, path in watched.items()}
        connections = []
        try:
            while True:
                connections.append(listener.accept())
        except BlockingIOError:
            pass
        yield {
            "rows": rows, "root": root, "context": context, "before": before, "after": after,
            "out_right_after": out_right_after, "out_later": tree_hash(root / "out"),
            "connections": connections, "leftovers": leftovers(context["marker"]),
            "lines": lines,
        }
    finally:
        listener.close()
        for path, data in saved.items():  # never leave this checkout tampered with
            if not path.exists() or path.read_bytes() != data:
                path.write_bytes(data)


def _autograded(batch, student) -> dict:
    return nbtools.load(batch["root"] / "out" / "autograded" / student / ASSIGNMENT / NOTEBOOK)


def _rows(batch, student):
    return {r.grade_id: r for r in batch["rows"] if r.student_id == student}


def test_honest_students_keep_full_marks(batch):
    for student in HONEST:
        rows = _rows(batch, student)
        assert sum(r.score for r in rows.values()) == MAX_SCORE, student
        assert all(r.status == "passed" and r.reason == "" for r in rows.values()), student


@pytest.mark.parametrize("attack", ATTACKS, ids=lambda a: a.name)
def test_attack_scores_only_what_it_answered(batch, attack):
    rows = _rows(batch, attack.name)
    assert set(rows) == {"test_add", "test_mul", "test_warn"}
    got = {gid: r.score for gid, r in rows.items()}
    assert got == {gid: attack.scores.get(gid, 0) for gid in rows}, {
        gid: r.reason for gid, r in rows.items()}
    for gid, text in attack.reasons.items():
        assert text in rows[gid].reason, rows[gid].reason


@pytest.mark.parametrize("attack", ATTACKS, ids=lambda a: a.name)
def test_attack_was_blocked(batch, attack):
    path = batch["root"] / "out" / "autograded" / attack.name / ASSIGNMENT / NOTEBOOK
    if not path.is_file():  # nbgrader keeps no notebook whose kernel died (cpu-time)
        assert not attack.evidence, "no autograded notebook to find the evidence in"
        return
    text = outputs_text(nbtools.load(path))
    for expected in attack.evidence:
        assert expected in text, f"{expected!r} not in the outputs:\n{text[:3000]}"
    for forbidden in ("SUCCEEDED", "BROKEN",
                      *(f.format(**batch["context"]) for f in attack.forbidden)):
        assert forbidden not in text, f"{forbidden!r} in the outputs:\n{text[:3000]}"


def test_no_file_outside_the_working_folders_changed(batch):
    for name, before in batch["before"].items():
        assert batch["after"][name] == before, f"{name} changed"
    assert batch["out_later"] == batch["out_right_after"], "OUT changed after grading"
    marker = batch["context"]["marker"]
    assert not (Path("/tmp") / marker).exists()
    assert not (Path.home() / marker).exists()
    grades = (batch["root"] / "out" / "grades.csv").read_text()
    assert "student,a1" not in grades


def test_no_process_survives(batch):
    assert batch["leftovers"] == []


def test_the_loopback_listener_saw_no_connection(batch):
    assert batch["connections"] == []


def test_printed_output_is_capped_with_a_note(batch):
    out = batch["root"] / "out"
    notebook = out / "autograded" / "print-100mb" / ASSIGNMENT / NOTEBOOK
    feedback = out / "feedback" / "print-100mb" / ASSIGNMENT / "tiny.html"
    assert notebook.stat().st_size < 2_000_000
    assert feedback.stat().st_size < 3_000_000
    assert "output cut by the grader" in feedback.read_text(encoding="utf-8")


def test_the_fork_bomb_stays_under_the_process_limit(batch):
    text = outputs_text(_autograded(batch, "fork-bomb"))
    tasks = int(re.search(r"TASKS (\d+)", text).group(1))
    forked = int(re.search(r"FORKED (\d+)", text).group(1))
    limit = SANDBOX_CONFIG["max_processes"]
    assert 0 < forked < limit
    assert tasks <= limit + 2  # + bubblewrap's init and the launcher, which run as root


def test_the_summary_names_the_sandbox(batch):
    assert any("each kernel in a sandbox" in line for line in batch["lines"])
    assert not any("WITHOUT" in line for line in batch["lines"])


def test_kernel_reports_are_not_kept_in_out(batch):
    found = [p for p in (batch["root"] / "out").rglob("*") if "sandbox" in p.name]
    assert found == []
    assert os.environ.get("AUTOGRADER_TEST_SECRET") is None
