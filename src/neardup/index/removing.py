"""Removing images by path (a folder removes everything under it), in one transaction; a
removed image with a surviving exact copy lives on under the copy's path."""

from __future__ import annotations

import os
import re
from collections.abc import Iterable

from neardup.index.handle import IndexHandle
from neardup.index.storage import transaction, write_lock


class RemovingIndex(IndexHandle):
    """An open index that images can be removed from."""

    def remove(self, paths: Iterable[str]) -> list[str]:
        """Remove images by path (a folder removes everything under it); returns those removed."""
        with write_lock(self.folder):
            self._reload_if_changed()
            wanted = [os.path.abspath(p) for p in paths]

            def hit(path: str) -> bool:
                full = os.path.abspath(path)
                return any(full == w or full.startswith(w + os.sep) for w in wanted)

            # Keys are paths, or path#frame for a video's frames: match on the file's path.
            doomed = [key for key in self.by_path if hit(key) or hit(_file_of(key))]
            doomed_aliases = [key for key in self.aliases if hit(key) or hit(_file_of(key))]
            if not doomed and not doomed_aliases:
                return []
            ids = [self.by_path[p] for p in doomed]
            # A removed image with a surviving exact copy lives on under the copy's path.
            promoted = self._copies_living_on(ids, set(doomed_aliases))
            with transaction(self.db):
                self._bump()
                self._drop_aliases(doomed_aliases)
                gone = self._drop_rows(ids, promoted)
            self._dropped_rows(gone, promoted)
            return doomed + doomed_aliases


FRAME_KEY = re.compile(r"#\d+$")


def _file_of(key: str) -> str:
    """The file an item key belongs to: the path, less `#frame` for a video frame's key."""
    return FRAME_KEY.sub("", key)
