"""Grade one function on its own: references stand in for the student's other functions.

A student's functions call each other through the notebook's globals (``fvsbn_log_prob``
calls ``fvsbn_logits``), so a bug in one would also fail the tests of every function that
calls it. Inside ``with standing_in(globals(), fvsbn_logits=reference_logits):`` the name
``fvsbn_logits`` refers to the reference; on leaving the block (also when a test fails)
the student's function is put back, or the name removed if it did not exist. One mistake
then costs the points of its own test only.

A function that stands in is called through a small wrapper defined here, so that while
grading, the student's code calling it is not taken for a call of the reference
(:mod:`course.checks.references` looks at the direct caller).

Visible tests cannot do this: the references do not ship to students. A visible test of a
function that calls another one first asks :func:`passes_its_test` whether the student's
other function gives the stored values on the test's input; when it does not, the visible
checks are skipped with a message that says which function to fix first, and only the
hidden checks (with the reference standing in) grade the cell.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator, MutableMapping
from contextlib import contextmanager
from typing import Any

import numpy as np

from course.numeric import to_numpy

__all__ = ["passes_its_test", "standing_in"]

_MISSING = object()


def _through_here(value: Any) -> Any:
    """A plain function that calls ``value`` (classes and other objects stay as they are)."""
    if isinstance(value, type) or not callable(value):
        return value

    @functools.wraps(value)
    def stand_in(*args: Any, **kwargs: Any) -> Any:
        return value(*args, **kwargs)

    return stand_in


@contextmanager
def standing_in(namespace: MutableMapping[str, Any], **stand_ins: Callable[..., Any]
                ) -> Iterator[None]:
    """Within the block, ``namespace[name]`` is ``stand_ins[name]`` for every name given.

    ``namespace`` is the notebook's ``globals()``. Everything is restored on exit.
    """
    saved = {name: namespace.get(name, _MISSING) for name in stand_ins}
    namespace.update({name: _through_here(value) for name, value in stand_ins.items()})
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is _MISSING:
                namespace.pop(name, None)
            else:
                namespace[name] = value


def passes_its_test(name: str, got: Any, expected: Any, *, rtol: float = 1e-9,
                    atol: float = 1e-9) -> bool:
    """Whether ``got``, what the student's function ``name`` returned on this test's input,
    equals the stored ``expected`` (same shape, within ``atol + rtol * |expected|``).

    When it does not, prints that the test is skipped until ``name`` passes its own test
    and returns False: the caller then skips its visible checks, so that a mistake in
    ``name`` fails ``name``'s test and not every test of a function that calls it.
    """
    try:
        got_arr = np.asarray(to_numpy(got), dtype=np.float64)
    except (TypeError, ValueError):
        got_arr = None
    expected_arr = np.asarray(to_numpy(expected), dtype=np.float64)
    if (got_arr is not None and got_arr.shape == expected_arr.shape
            and np.allclose(got_arr, expected_arr, rtol=rtol, atol=atol)):
        return True
    print(f"Skipped: this test calls your {name}, which does not give the right values yet "
          f"(see the test of {name}). Fix {name} first, then run this test again. When the "
          f"assignment is graded, this test uses the course's own {name} in place of yours.")
    return False
