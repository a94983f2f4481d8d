"""Output files: checked before any work, written with a one-line error.

A scan can take hours; an output path that cannot be written (a folder given, a parent that
is a file or not writable) must be refused before it starts, not found after it. A write that
still fails at the end (a full disk, a folder removed meanwhile) says so in one line. Both
raise ValueError, which the command line reports as bad usage (exit 2).
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

STDOUT = "-"


def check_file(path: str | None, option: str) -> None:
    """ValueError unless a file can be written at `path` (None and `-`, stdout, pass). Missing
    parent folders are allowed: they are created when the file is written."""
    if path is None or path == STDOUT:
        return
    target = Path(os.path.abspath(path))
    if target.is_dir():
        raise ValueError(f"{option} {path}: is a folder; give a file name")
    if target.exists():
        if not os.access(target, os.W_OK):
            raise ValueError(f"{option} {path}: cannot write it (permission denied)")
        return
    _check_creatable(target.parent, f"{option} {path}")


def check_folder(path: str | None, option: str) -> None:
    """ValueError unless files can be written into the folder `path` (created if missing)."""
    if path is None:
        return
    target = Path(os.path.abspath(path))
    if target.exists():
        if not target.is_dir():
            raise ValueError(f"{option} {path}: is a file, not a folder")
        if not os.access(target, os.W_OK | os.X_OK):
            raise ValueError(f"{option} {path}: cannot write into it (permission denied)")
        return
    _check_creatable(target.parent, f"{option} {path}")


def _check_creatable(folder: Path, what: str) -> None:
    """ValueError unless `folder` is, or can be made as, a writable folder: its nearest
    existing ancestor must be a folder this process may write into."""
    ancestor = folder
    while not ancestor.exists() and ancestor != ancestor.parent:
        ancestor = ancestor.parent
    if not ancestor.is_dir():
        raise ValueError(f"{what}: cannot create it, {ancestor} is not a folder")
    if not os.access(ancestor, os.W_OK | os.X_OK):
        raise ValueError(f"{what}: cannot write into {ancestor} (permission denied)")


@contextmanager
def writing(path: str | Path) -> Iterator[None]:
    """Turn an OSError raised while writing `path` into a one-line ValueError naming it."""
    try:
        yield
    except OSError as error:
        reason = error.strerror or str(error)
        raise ValueError(f"cannot write {path}: {reason}") from error


def write_text(path: str | Path, text: str) -> None:
    """Write `text` to the file `path`, creating missing parent folders; ValueError if not."""
    target = Path(path)
    with writing(path):
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text, encoding="utf-8")


def write_output(target: str, text: str) -> None:
    """Write `text` to stdout (`-`) or the file `target`; ValueError if it cannot."""
    if target == STDOUT:
        sys.stdout.write(text if text.endswith("\n") else text + "\n")
    else:
        write_text(target, text)
