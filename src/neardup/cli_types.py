"""Argument types and checks the commands share: a value refused with a clear message
(exit 2) rather than one a run would misread."""

from __future__ import annotations

import argparse
import os
from collections.abc import Iterable

from neardup.sources.remote import is_url


def at_least_one(text: str) -> int:
    """A count of at least 1 (a pixel limit of 0 would refuse every picture)."""
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"{value} refuses every picture; give at least 1")
    return value


def confidence(text: str) -> float:
    """A confidence in [0, 1] (NaN is none: it would be written into the JSON as NaN)."""
    value = float(text)
    if not 0.0 <= value <= 1.0:
        raise argparse.ArgumentTypeError(f"{text} is not a confidence in [0, 1]")
    return value


def require_paths(paths: Iterable[str], option: str = "") -> None:
    """ValueError (exit 2) naming each given path that is not there, raised before any work:
    a mistyped folder must not pass a check as "nothing found" or "no leak". `-` (paths on
    stdin) is left to the scan, since a path listed there may have gone since it was
    listed; so are URLs, whose store says what is wrong with them."""
    gone = [p for p in paths if p != "-" and not is_url(p) and _absent(p)]
    if gone:
        where = f"{option}: " if option else ""
        raise ValueError(f"{where}no such file or folder: {', '.join(gone)}")


def _absent(path: str) -> bool:
    """Whether nothing is at `path` (as the file collector's "no such file or folder"; a
    broken link is there, and the scan reports it as such)."""
    try:
        os.lstat(path)
    except (FileNotFoundError, NotADirectoryError):
        return True
    except OSError:
        # Perhaps there, behind a folder it may not search: the scan says what is wrong.
        return False
    return False
