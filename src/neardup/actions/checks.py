"""The checks made on every file just before it is touched: still a regular file (not a
symlink), inside ROOT and the scanned folders once every link is resolved, unchanged since the
scan (size, mtime and, where the result has it, the BLAKE2b of its bytes), and its kept copy
still there, unchanged, and inside the folders acted in. A failed check is `Refused`: said,
and the file left alone.
"""

from __future__ import annotations

import os
import stat
import time
from pathlib import Path

import neardup.actions.journal as jr
from neardup.actions.fileops import Refused
from neardup.actions.plan import Item, Seen
from neardup.actions.roots import Bounds
from neardup.sources.files import TRASH_FOLDER


def _when(ns: int) -> str:
    return time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(ns / 1e9))


class Checker:
    """The checks made on every file before it is touched."""

    def __init__(self, bounds: Bounds, action: str) -> None:
        self.root = bounds.root
        self.bounds = bounds
        self.action = action
        self._keepers: dict[str, tuple[os.stat_result, str | None]] = {}

    def changed(self, path: str, st: os.stat_result, seen: Seen, blake: str | None) -> str | None:
        if seen.bytes is not None and st.st_size != seen.bytes:
            return f"changed since the scan: {st.st_size} bytes, the scan saw {seen.bytes}"
        if seen.mtime_ns is not None and st.st_mtime_ns != seen.mtime_ns:
            return (
                f"changed since the scan: modified {_when(st.st_mtime_ns)}, "
                f"the scan saw {_when(seen.mtime_ns)}"
            )
        if seen.blake2b is not None and blake is not None and blake != seen.blake2b:
            return "changed since the scan: its content differs (same size and time)"
        return None

    def keeper(self, item: Item) -> tuple[os.stat_result, str]:
        if item.keeper not in self._keepers:
            outside = self.bounds.keeper_outside(item.keeper)
            if outside is not None:
                raise Refused(f"the copy kept for it, {item.keeper}, {outside}")
            try:
                st = os.stat(item.keeper)
            except OSError as error:
                raise Refused(f"the copy kept for it, {item.keeper}, is not there") from error
            sha = None
            reason = self.changed(item.keeper, st, item.keeper_seen, None)
            if reason is None:
                try:
                    sha, blake, _ = jr.digests(os.path.realpath(item.keeper))
                except OSError as error:
                    raise Refused(f"the copy kept for it, {item.keeper}, cannot be read") from error
                reason = self.changed(item.keeper, st, item.keeper_seen, blake)
            if reason is not None:
                raise Refused(f"the copy kept for it, {item.keeper}, {reason}")
            self._keepers[item.keeper] = (st, sha)
        st, sha = self._keepers[item.keeper]
        assert sha is not None
        return st, sha

    def file(self, item: Item) -> tuple[str, os.stat_result, str]:
        """(real path, its stat, sha256) of a file that may be touched, or Refused."""
        try:
            st = os.lstat(item.path)
        except FileNotFoundError as error:
            raise Refused("not there any more") from error
        if stat.S_ISLNK(st.st_mode):
            raise Refused("is a symbolic link: not touched")
        if not stat.S_ISREG(st.st_mode):
            raise Refused("not a regular file")
        real = os.path.realpath(item.path)
        outside = self.bounds.file_outside(real)
        if outside is not None:
            raise Refused(outside)
        if TRASH_FOLDER in Path(real).relative_to(self.root).parts:
            raise Refused(f"inside a {TRASH_FOLDER} folder: not touched")
        reason = self.changed(real, st, item.seen, None)
        if reason is not None:
            raise Refused(reason)
        try:
            sha, blake, _ = jr.digests(real)
        except OSError as error:
            raise Refused(f"cannot be read: {error.strerror or error}") from error
        reason = self.changed(real, st, item.seen, blake)
        if reason is not None:
            raise Refused(reason)
        keeper_st, _ = self.keeper(item)
        if (keeper_st.st_dev, keeper_st.st_ino) == (st.st_dev, st.st_ino):
            raise Refused(f"is the same file as its keeper {item.keeper} (a hard link)")
        if self.action == "hardlink" and keeper_st.st_dev != st.st_dev:
            raise Refused(f"on another file system than its keeper {item.keeper}: no hard link")
        return real, st, sha
