"""Expected values for the visible tests, stored at release time: no reference needed.

Students receive the course without its reference implementations (the student kit,
``python -m autograder kit``), so a visible test cannot call a reference to learn the right
answer. Instead, each assignment's hidden-test module (``course.checks.<topic>``, which
only exists where grading runs) defines ``visible_cases()``: the inputs of every visible
test, the values the reference gives on them and, under ``"mistakes"``, the values that
common mistakes give (so that :func:`course.checks.assert_close` can name the mistake).
``python -m autograder release`` writes them to ``course/expected/<assignment>.json``
(the solutions notebook names its module in ``metadata.autograder.visible_cases``) and
``release --check`` fails when they are stale. A visible test reads them::

    case = load_expected("02-fvsbn")["logits"]
    z = fvsbn_logits(case["x"], case["W"], case["b"])
    assert_close(z, case["expected"], "fvsbn_logits", mistakes=case["mistakes"])

The files are JSON: readable, reviewable as diffs, exact (Python writes the shortest
decimal that reads back as the same float64). :func:`encode` turns arrays and tensors into
nested lists; :func:`decode` turns every rectangular list of numbers back into a NumPy
array (float64 when any entry is a float) and keeps dicts, strings and ragged lists.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import numpy as np

__all__ = ["EXPECTED_DIR", "ExpectedValuesMissing", "decode", "dumps", "encode",
           "load_expected", "same_values"]

EXPECTED_DIR = Path(__file__).resolve().parent


class ExpectedValuesMissing(FileNotFoundError):
    """The expected values of an assignment's visible tests are not installed."""


def encode(value: Any) -> Any:
    """``value`` as JSON-able data: arrays and tensors become nested lists of numbers."""
    if isinstance(value, dict):
        return {str(key): encode(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [encode(item) for item in value]
    if hasattr(value, "detach"):  # a torch tensor
        value = value.detach().cpu().numpy()
    if isinstance(value, np.ndarray | np.generic):
        return value.tolist()
    if value is None or isinstance(value, bool | int | float | str):
        return value
    raise TypeError(f"cannot store a {type(value).__name__} as an expected value")


def _rectangular(items: list) -> bool:
    try:
        array = np.asarray(items)
    except ValueError:
        return False
    return array.dtype != object and array.dtype.kind in "biuf"


def decode(value: Any) -> Any:
    """The inverse of :func:`encode`: rectangular lists of numbers become NumPy arrays."""
    if isinstance(value, dict):
        return {key: decode(item) for key, item in value.items()}
    if isinstance(value, list):
        if value and _rectangular(value):
            return np.asarray(value)
        return [decode(item) for item in value]
    return value


def _read(assignment: str) -> str:
    path = EXPECTED_DIR / f"{assignment}.json"
    if not path.is_file():
        known = sorted(p.stem for p in EXPECTED_DIR.glob("*.json"))
        raise ExpectedValuesMissing(
            f"no expected values for assignment {assignment!r} ({path} is missing; "
            f"installed: {', '.join(known) or 'none'}). Reinstall the course package from "
            "your kit (pip install --no-index --find-links packages course-kit), or ask "
            "your instructor for the current kit."
        )
    return path.read_text(encoding="utf-8")


def load_expected(assignment: str) -> dict[str, Any]:
    """The stored cases of an assignment's visible tests, e.g. ``load_expected("02-fvsbn")``.

    A fresh copy on every call: a test that modifies its inputs cannot change another's.
    """
    return decode(json.loads(_read(assignment)))


def same_values(a: Any, b: Any, rtol: float = 1e-10, atol: float = 1e-12) -> bool:
    """Whether two decoded (or encoded) cases agree: same keys and shapes, numbers within
    ``atol + rtol * |b|``. ``release --check`` uses it, because the last bits of a float64
    reference value may differ between CPUs (different BLAS kernels)."""
    if isinstance(a, dict) or isinstance(b, dict):
        return (isinstance(a, dict) and isinstance(b, dict) and a.keys() == b.keys()
                and all(same_values(a[k], b[k], rtol, atol) for k in a))
    if isinstance(a, list) or isinstance(b, list):
        return (isinstance(a, list) and isinstance(b, list) and len(a) == len(b)
                and all(same_values(x, y, rtol, atol) for x, y in zip(a, b, strict=True)))
    if isinstance(a, str) or isinstance(b, str) or a is None or b is None:
        return a == b
    x, y = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    return x.shape == y.shape and bool(np.allclose(x, y, rtol=rtol, atol=atol, equal_nan=True))


def dumps(cases: dict[str, Any]) -> str:
    """The JSON text of an assignment's cases, as ``release`` writes it (one key per line
    at the top, sorted; no NaN or infinity, which JSON does not have)."""
    encoded = encode(cases)
    _check_finite(encoded, "")
    lines = [f"{json.dumps(key)}: {json.dumps(encoded[key], sort_keys=True, allow_nan=False)}"
             for key in sorted(encoded)]
    return "{\n" + ",\n".join(lines) + "\n}\n"


def _check_finite(value: Any, where: str) -> None:
    if isinstance(value, dict):
        for key, item in value.items():
            _check_finite(item, f"{where}/{key}")
    elif isinstance(value, list):
        for item in value:
            _check_finite(item, where)
    elif isinstance(value, float) and not math.isfinite(value):
        raise ValueError(f"expected value {where} is {value}: store finite numbers only")


def rounded(value: Any, digits: int = 10) -> Any:
    """``value`` with every number rounded to ``digits`` significant digits (dicts, lists,
    arrays and tensors alike), for stored values that checks only match loosely: the values
    of common mistakes, which :func:`course.checks.find_mistake` recognizes within an rtol
    of at least 1e-6. Shorter files; expected values themselves are stored exactly."""
    if isinstance(value, dict):
        return {key: rounded(item, digits) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [rounded(item, digits) for item in value]
    array = np.asarray(value.detach().cpu().numpy() if hasattr(value, "detach") else value)
    if array.dtype.kind != "f":
        return value
    flat = [float(f"{v:.{digits}g}") for v in array.ravel().tolist()]
    return np.asarray(flat, dtype=np.float64).reshape(array.shape)


__all__ += ["rounded"]
