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
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from typing import Any

from neardup.features.extract import FEATURES_VERSION
from neardup.store import CacheSetting, FeatureStore, open_store

Key = tuple[str, str]
"""(content hash of a, content hash of b), in the order the pair was measured."""


class PairStore:
    """One kind of per-pair result in a feature store's file."""

    def __init__(self, store: FeatureStore, family: str, version: str) -> None:
        self._db = store.db
        # Decoding makes the pixels both results are measured on: a new features version
        # makes them stale as well.
        self.kind = f"{family}/{version}/features-{FEATURES_VERSION}"
        self._db.execute(
            "CREATE TABLE IF NOT EXISTS pairs (kind TEXT, a TEXT, b TEXT, value TEXT, "
            "PRIMARY KEY (kind, a, b)) WITHOUT ROWID"
        )
        # Rows an older version of this code made are never read again: drop them.
        self._db.execute(
            "DELETE FROM pairs WHERE kind >= ? AND kind < ? AND kind != ?",
            (f"{family}/", f"{family}0", self.kind),
        )

    def get(self, keys: Iterable[Key]) -> dict[Key, Any]:
        """The stored value (decoded JSON) of each key that has one."""
        found: dict[Key, Any] = {}
        for a, b in set(keys):
            row = self._db.execute(
                "SELECT value FROM pairs WHERE kind=? AND a=? AND b=?", (self.kind, a, b)
            ).fetchone()
            if row is not None:
                found[a, b] = json.loads(row[0])
        return found

    def put(self, items: Iterable[tuple[Key, Any]]) -> None:
        """Store a batch in one transaction (all of it or, after a crash, none)."""
        rows = [(self.kind, a, b, json.dumps(value, default=_plain)) for (a, b), value in items]
        if not rows:
            return
        self._db.execute("BEGIN IMMEDIATE")
        try:
            self._db.executemany("INSERT OR REPLACE INTO pairs VALUES (?,?,?,?)", rows)
            self._db.execute("COMMIT")
        except BaseException:
            self._db.execute("ROLLBACK")
            raise


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


def content_key(a: str | None, b: str | None) -> Key | None:
    """The key of a pair of items with these content hashes; None when one has none."""
    return (a, b) if a and b else None
