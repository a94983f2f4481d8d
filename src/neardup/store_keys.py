"""The feature store's row keys: one row per file (or video frame) and decode size, a local
path made absolute so every command, from any folder, shares a file's rows."""

from __future__ import annotations

import os

from neardup.features.embed import EMBED_SIDE
from neardup.features.hashes import HASH_MIN_SIDE
from neardup.sources.remote import is_url


def with_side(names: set[str]) -> set[str]:
    """A row's feature names, with the decode side a row stored before sides were named
    was made at: the embeddings' where it holds one, the hash-only pass's otherwise."""
    if not any(name.startswith("side:") for name in names):
        legacy = EMBED_SIDE if any(name.startswith("emb:") for name in names) else HASH_MIN_SIDE
        names.add(f"side:{legacy}")
    return names


def side_key(key: str, names: set[str]) -> str:
    """A row's key: `row_key`, led by the decode size where that is not the embeddings' (the
    hash-only pass decodes smaller: its rows sit beside a default scan's, not in their place,
    so running one and then the other keeps both)."""
    side = next((n for n in names if n.startswith("side:")), None)
    if side is None or side == f"side:{EMBED_SIDE}":
        return row_key(key)
    return f"@{side.removeprefix('side:')}|{row_key(key)}"


def side_keys(path: str) -> tuple[str, str]:
    """The keys a file's rows may have: the embeddings' decode size and the hash-only pass's."""
    return row_key(path), side_key(path, {f"side:{HASH_MIN_SIDE}"})


def row_key(key: str) -> str:
    """A cache row's key: a local path made absolute (one file, whichever folder a command
    runs in: `scan photos/` and `index build /home/me/photos` share rows), a URL as given."""
    return key if is_url(key) else os.path.abspath(key)
