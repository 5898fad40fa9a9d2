"""The first program inside a grading sandbox: prepare, limit, drop privileges, run the kernel.

    python -I -S sandbox_launch.py SPEC_JSON KERNEL_ARGV...

bubblewrap starts this file (bound read-only at ``/run/autograder/launch.py``) with the
virtual environment's interpreter, before any student code runs. Standard library only:
it runs with ``-I -S`` (no site-packages, no environment-driven imports) and must not
import the grader. What it does, in order (``SPEC_JSON`` is built by
``autograder.sandbox.launcher_spec``):

1. Fills the private, empty ``/tmp`` (a size-limited tmpfs): the kernel's home (seeded
   with a prebuilt matplotlib font cache, so that no kernel rebuilds it and warns on
   stderr) and the working folder at the path the notebook runs in, seeded with the
   assignment's data files from a read-only copy (regular files only; never a notebook:
   the grader's copy of the notebook being graded holds the hidden tests). When the
   grader is root, both are handed to the kernel's unprivileged uid.
2. Forks. The child resets the signals this process ignores (SIGINT: the grader's
   interrupt reaches the whole process group; SIGPIPE, SIGXFSZ), sets the resource
   limits (address space and data size, processes, CPU seconds, file size), drops to the
   unit's uid and gid when it was started as root (so that the process limit counts only
   this unit's processes: Linux does not enforce RLIMIT_NPROC for root), and execs the
   kernel.
3. The parent stays behind as the kernel's parent and waits for it; then it writes a
   report (how the kernel ended, its peak RSS and CPU seconds) for the grader into a
   folder that only root can write (the kernel's uid cannot forge it when the grader is
   root). The report is how a kernel killed at its CPU limit gets a reason that names
   the limit.
"""

import json
import os
import resource
import shutil
import signal
import sys

LIMITS = {
    "address_space": resource.RLIMIT_AS,
    "data": resource.RLIMIT_DATA,
    "processes": resource.RLIMIT_NPROC,
    "cpu_seconds": resource.RLIMIT_CPU,
    "file_size": resource.RLIMIT_FSIZE,
}
# SIGXCPU at the soft CPU limit, SIGKILL this many seconds later (the hard limit), for a
# kernel that catches SIGXCPU.
CPU_GRACE_S = 5


def copy_regular_files(src, dest, skip_suffix=".ipynb"):
    """Copy the regular files and folders under ``src`` into ``dest``; never a link."""
    for root, dirs, files in os.walk(src, followlinks=False):
        rel = os.path.relpath(root, src)
        target = os.path.normpath(os.path.join(dest, rel))
        os.makedirs(target, exist_ok=True)
        dirs[:] = [d for d in dirs if not os.path.islink(os.path.join(root, d))]
        for name in files:
            path = os.path.join(root, name)
            if name.endswith(skip_suffix) or os.path.islink(path) or not os.path.isfile(path):
                continue
            shutil.copyfile(path, os.path.join(target, name))


def chown_tree(path, uid, gid):
    for root, dirs, files in os.walk(path):
        os.chown(root, uid, gid)
        for name in dirs + files:
            os.chown(os.path.join(root, name), uid, gid, follow_symlinks=False)


def prepare(spec):
    uid, gid = spec.get("uid"), spec.get("gid")
    for folder, seed, skip in ((spec["home"], spec.get("home_seed"), "\0"),
                               (spec["workdir"], spec.get("workdir_seed"), ".ipynb")):
        os.makedirs(folder, exist_ok=True)
        if seed and os.path.isdir(seed):
            copy_regular_files(seed, folder, skip)
        if uid is not None:
            chown_tree(folder, uid, gid)
            parent = os.path.dirname(folder)
            if parent != "/tmp":  # /tmp/work, created here
                os.chown(parent, uid, gid)


def run_kernel(spec, argv):
    """In the forked child: limits, credentials, exec. Never returns."""
    try:
        for sig in (signal.SIGINT, signal.SIGPIPE, signal.SIGXFSZ):
            signal.signal(sig, signal.SIG_DFL)
        os.chdir(spec["workdir"])
        for name, value in spec.get("limits", {}).items():
            if value is None:
                continue
            hard = value + CPU_GRACE_S if name == "cpu_seconds" else value
            resource.setrlimit(LIMITS[name], (value, hard))
        if spec.get("uid") is not None:
            os.setgroups([])
            os.setgid(spec["gid"])
            os.setuid(spec["uid"])
        os.execv(argv[0], argv)
    except BaseException as err:  # noqa: BLE001 - report and exit, whatever it was
        os.write(2, f"sandbox launcher: cannot start the kernel: {err!r}\n".encode())
    os._exit(127)


def write_report(path, status, usage):
    report = {
        "exit_code": os.waitstatus_to_exitcode(status),
        "signal": os.WTERMSIG(status) if os.WIFSIGNALED(status) else None,
        "max_rss_bytes": usage.ru_maxrss * 1024,
        "cpu_seconds": round(usage.ru_utime + usage.ru_stime, 3),
    }
    tmp = path + ".tmp"
    with open(tmp, "w", encoding="utf-8") as fh:
        json.dump(report, fh)
    os.replace(tmp, path)


def main(argv):
    spec = json.loads(argv[0])
    kernel = argv[1:]
    # the grader started this process with SIGINT ignored: its interrupts are for the kernel
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    prepare(spec)
    pid = os.fork()
    if pid == 0:
        run_kernel(spec, kernel)
    while True:
        try:
            _, status = os.waitpid(pid, 0)
            break
        except InterruptedError:
            continue
    if spec.get("report"):
        try:
            write_report(spec["report"], status, resource.getrusage(resource.RUSAGE_CHILDREN))
        except OSError as err:
            os.write(2, f"sandbox launcher: no report: {err!r}\n".encode())
    return os.waitstatus_to_exitcode(status) % 256


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
