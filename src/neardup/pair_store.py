"""Per-pair results kept between runs: the geometric check and the measured differences.

Once features come from the store, these two are most of a rescan's time (milliseconds a
pair: both decode the pictures again and match keypoints). Both depend only on the two
pictures' content and on the code that measured them, so they are kept in the feature
cache's file, keyed by the two items' content hashes (`Features.bytes_hash`: a file's bytes, a
video frame's pixels) in the order measured (the check is not symmetric), under a kind that
names the version of the code that made them. A rescan of an unchanged folder, or a scan
resumed after an interrupt (rows are committed chunk by chunk, as features are), reads them
instead of measuring again. Values are JSON, never pickles.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from neardup.features.extract import FEATURES_VERSION
from neardup.records import Features
from neardup.sources.files import unchanged
from neardup.sources.remote import is_url
from neardup.store import CacheSetting, FeatureStore, open_store, write_rows

Key = tuple[str, str]
"""(content hash of a, content hash of b), in the order the pair was measured."""
GET_BATCH = 400
"""Keys looked up per query (SQLite allows 32,766 parameters a statement)."""


class PairStore:
    """One kind of per-pair result in a feature store's file."""

    def __init__(self, store: FeatureStore, family: str, version: str) -> None:
        self._db = store.db
        # Decoding makes the pixels both results are measured on: a new features version
        # makes them stale as well.
        self.kind = f"{family}/{version}/features-{FEATURES_VERSION}"
        made = store.ensure(
            "CREATE TABLE IF NOT EXISTS pairs (kind TEXT, a TEXT, b TEXT, value TEXT, "
            "PRIMARY KEY (kind, a, b)) WITHOUT ROWID"
        )
        # Rows an older version of this code made are never read again: drop them. A store
        # that cannot be written (a read-only cache) is read, as the features are.
        self.writable = made and store.ensure(
            "DELETE FROM pairs WHERE kind >= ? AND kind < ? AND kind != ?",
            (f"{family}/", f"{family}0", self.kind),
        )
        self._readable = store.has_table("pairs")

    def get(self, keys: Iterable[Key]) -> dict[Key, Any]:
        """The stored value (decoded JSON) of each key that has one."""
        found: dict[Key, Any] = {}
        wanted = sorted(set(keys)) if self._readable else []
        for start in range(0, len(wanted), GET_BATCH):  # one query a batch, not one a key
            batch = wanted[start : start + GET_BATCH]
            rows = self._db.execute(
                "SELECT a, b, value FROM pairs WHERE kind=? AND (a, b) IN (VALUES "
                + ",".join(["(?,?)"] * len(batch))
                + ")",
                [self.kind, *(h for key in batch for h in key)],
            )
            found.update(((a, b), json.loads(value)) for a, b, value in rows)
        return found

    def put(self, items: Iterable[tuple[Key, Any]]) -> None:
        """Store a batch in one transaction (all of it or, after a crash, none)."""
        rows = [(self.kind, a, b, json.dumps(value, default=_plain)) for (a, b), value in items]
        if rows and self.writable:
            self.writable = write_rows(
                self._db, "INSERT OR REPLACE INTO pairs VALUES (?,?,?,?)", rows
            )


def _plain(value: Any) -> Any:
    """A numpy scalar among the values as the Python number it holds."""
    if hasattr(value, "item"):
        return value.item()
    raise TypeError(f"cannot store {type(value).__name__} in the pair cache")


@contextmanager
def pair_store(
    cache: CacheSetting, family: str, version: Callable[[], str]
) -> Iterator[PairStore | None]:
    """The run's store of `family` results (None without a cache), closed on leaving.
    `version` is asked only when there is a cache (it may import what it names)."""
    store = open_store(cache)
    try:
        yield None if store is None else PairStore(store, family, version())
    finally:
        if store is not None:
            store.close()


class PairKeys:
    """Keys of pairs of positions in `items`, each item's hash looked at once (`item_hash`)."""

    def __init__(self, items: Sequence[Features]) -> None:
        self._items = items
        self._hashes: dict[int, str | None] = {}

    def __call__(self, a: int, b: int) -> Key | None:
        for i in (a, b):
            if i not in self._hashes:
                self._hashes[i] = item_hash(self._items[i])
        ha, hb = self._hashes[a], self._hashes[b]
        return (ha, hb) if ha and hb else None

    def still(self, a: int, b: int, key: Key) -> bool:
        """Whether both files are still what `key` names, looked at again after measuring:
        a file changed while the run measured it is not kept under its old hash."""
        return content_key(self._items[a], self._items[b]) == key


def content_key(a: Features, b: Features) -> Key | None:
    """The key of a pair of items, or None when one's content hash cannot be trusted to
    name what a measure would read now (`item_hash`)."""
    ha, hb = item_hash(a), item_hash(b)
    return (ha, hb) if ha and hb else None


def item_hash(item: Features) -> str | None:
    """The item's content hash, where it names what a measure reads now: a local file (or
    video) still of the size and modification time its features were made from. A file
    changed since, a URL (no cheap way to tell) or an item without a hash of its own (an
    index's exact copy, `neardup.index.duplicates.with_aliases`) gives None: its pairs are
    measured, never read from or written to the store."""
    if not item.bytes_hash or is_url(item.path):
        return None
    return item.bytes_hash if unchanged(item.path, item.size, item.mtime_ns) else None
