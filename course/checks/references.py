"""While grading: a student's code that calls a reference implementation loses that cell.

The grading kernel holds the whole course package, reference implementations included
(the hidden tests compare with them); a student's kit does not. A submission that
answers a part by calling the reference (``from course.models.counting import
count_fvsbn``) would pass the hidden tests. The grader therefore calls :func:`install`
in every grading kernel before any cell runs (``autograder.nbgrader_ext.GuardedExecute``,
``reference_watch``): every function, every constructor (``__init__``) and every class or
static method defined in a module that students do not receive (``hidden_modules``:
``course.models.*``, ``course.checks.<topic>``, ...) is replaced by a wrapper that raises
:class:`ReferenceCallError`, "calls the course's reference implementation of ...", when
its direct caller is the student's code: a frame whose code was compiled from a notebook
cell that is not one of the instructor's (``instructor_sources``: the setup, locked and
test cells as the gradebook holds them).

Only the direct caller counts, and instance methods are not watched: a hidden test may hand
a reference model to the student's function (``log_prob_n_passes(reference, x)``), whose
calls of that model's methods, and the reference's own calls of other references, are
honest. A reference that stands in for a student's function is called through
:func:`course.checks.standing_in`'s own frame, so it is not the student's call either.

This is a check for honest mistakes and shortcuts, not containment: code that hides its
origin (``exec`` with a made-up file name) is not seen. The sandbox and the fail-closed
tests are what contain hostile code.
"""

from __future__ import annotations

import functools
import importlib
import inspect
import linecache
import sys
from collections.abc import Callable, Iterable
from typing import Any

__all__ = ["ReferenceCallError", "install"]

SEAL_PREFIX = "'autograder seal "  # the line the grader appends to a test cell


class ReferenceCallError(AssertionError):
    """A student's code called one of the course's reference implementations."""


def _normalized(lines: Iterable[str]) -> str:
    lines = [line.rstrip() for line in lines]
    while lines and not lines[-1]:
        lines.pop()
    if lines and lines[-1].startswith(SEAL_PREFIX):
        lines.pop()
    return "\n".join(lines).strip()


class _Watch:
    def __init__(self, shell: Any, instructor_sources: Iterable[str]) -> None:
        self.shell = shell
        self.instructor = {_normalized(shell.transform_cell(source).splitlines())
                           for source in instructor_sources}
        self.verdicts: dict[str, bool] = {}

    def is_student(self, filename: str) -> bool:
        """Whether code from ``filename`` was compiled from a student's notebook cell."""
        verdict = self.verdicts.get(filename)
        if verdict is None:
            cells = getattr(getattr(self.shell, "compile", None), "_filename_map", {})
            entry = linecache.cache.get(filename)
            if filename not in cells or entry is None:
                verdict = False  # a module, or code that is not a notebook cell
            else:
                verdict = _normalized(entry[2]) not in self.instructor
            self.verdicts[filename] = verdict
        return verdict

    def student_caller(self) -> bool:
        """Whether the code that called the wrapper (two frames up) is the student's."""
        return self.is_student(sys._getframe(2).f_code.co_filename)


def _watched(function: Callable[..., Any], label: str, watch: _Watch) -> Callable[..., Any]:
    @functools.wraps(function)
    def reference(*args: Any, **kwargs: Any) -> Any:
        if watch.student_caller():
            raise ReferenceCallError(
                f"calls the course's reference implementation of {label}: this part must be"
                " answered by your own code (the student kit does not have the reference)."
            )
        return function(*args, **kwargs)

    reference.__wrapped_reference__ = function
    return reference


def _wrap_class(cls: type, label: str, watch: _Watch) -> None:
    for name, member in list(vars(cls).items()):
        if isinstance(member, staticmethod | classmethod):
            kind = type(member)
            setattr(cls, name, kind(_watched(member.__func__, f"{label}.{name}", watch)))
        elif name == "__init__" and inspect.isfunction(member):
            setattr(cls, name, _watched(member, label, watch))


def install(hidden_modules: Iterable[str], instructor_sources: Iterable[str],
            shell: Any = None) -> int:
    """Watch every function and class of ``hidden_modules``; returns how many were wrapped.

    Names bound to the same objects in other loaded ``course`` modules (re-exports such
    as ``course.models.FVSBN``) are rebound to the wrappers too.
    """
    if shell is None:
        from IPython import get_ipython

        shell = get_ipython()
    watch = _Watch(shell, instructor_sources)
    replaced: dict[int, Callable[..., Any]] = {}
    for module_name in hidden_modules:
        module = importlib.import_module(module_name)
        for name, value in list(vars(module).items()):
            if getattr(value, "__module__", None) != module_name:
                continue
            label = f"{module_name}.{getattr(value, '__qualname__', name)}"
            if inspect.isclass(value):
                _wrap_class(value, label, watch)
            elif inspect.isfunction(value):
                replaced[id(value)] = _watched(value, label, watch)
                setattr(module, name, replaced[id(value)])
    for module_name, module in list(sys.modules.items()):
        if module_name.split(".")[0] != "course" or module is None:
            continue
        for name, value in list(vars(module).items()):
            if id(value) in replaced and replaced[id(value)] is not value:
                setattr(module, name, replaced[id(value)])
    return len(replaced)
