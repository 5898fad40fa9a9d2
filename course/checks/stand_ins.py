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
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator, MutableMapping
from contextlib import contextmanager
from typing import Any

__all__ = ["standing_in"]

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
