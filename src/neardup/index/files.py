"""Atomic file replacement: a kill at any moment leaves the old file or the new one whole."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable
from pathlib import Path


def replace_atomically(target: Path, write: Callable[[str], None]) -> None:
    """Call `write(temp path)` beside `target`, fsync it, rename it over `target`, fsync the
    folder; the temp file is removed if anything fails."""
    fd, tmp = tempfile.mkstemp(prefix=target.name + ".", suffix=".tmp", dir=target.parent)
    os.close(fd)
    try:
        write(tmp)
        with open(tmp, "rb+") as handle:
            os.fsync(handle.fileno())
        os.replace(tmp, target)
        fsync_dir(target.parent)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write_atomically(target: Path, data: bytes) -> None:
    """Replace `target` with `data` atomically."""

    def write(tmp: str) -> None:
        Path(tmp).write_bytes(data)

    replace_atomically(target, write)


def fsync_dir(folder: Path) -> None:
    """Make a rename in `folder` durable (best effort: some systems refuse directory fsync)."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)
