"""The feature store: one SQLite file caching every image's features and every skip.

Rows are keyed by path and checked against the file's size and mtime, so an unchanged file is
never decoded twice, and a scan that was interrupted resumes where it stopped (results are
committed batch by batch, each batch in one transaction, so a kill leaves whole batches or
nothing). The geometric check's findings and the measured differences are kept in the same
file (`neardup.pair_store`). Rows hold arrays as `neardup.feature_rows` writes them, never
pickled: opening a cache file can not run code. A row holds the features of one decode size;
the hash-only pass's rows are keyed apart from a default scan's (`side_key`), so running one
and then the other keeps both.
"""

from __future__ import annotations

import json
import os
import random
import sqlite3
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import closing
from pathlib import Path
from typing import Any, Self

from neardup.feature_rows import decode_features, encode_features, merged
from neardup.features.extract import FEATURES_VERSION
from neardup.records import Features, FileRef, Skipped
from neardup.store_keys import side_key, side_keys, with_side

SCHEMA_VERSION = 1
WAIT_SECONDS = 120.0
"""How long a process waits for others holding the store before it gives up."""
CONFIRMED = "confirmed_pixel_hash"
"""A row's meta key for a pixel hash made after its features (`keep_confirmed_pixel_hash`)."""


def default_cache_path() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "neardup" / "features.sqlite"


CacheSetting = str | Path | bool | None
"""Where a run keeps its cache: a file, True or None for the default one, False for none."""


def open_store(cache: CacheSetting) -> FeatureStore | None:
    """The feature store a run reads and writes, or None for no cache."""
    if cache is False:
        return None
    path = default_cache_path() if cache is None or cache is True else Path(cache)
    return FeatureStore(path)


class StoreError(RuntimeError):
    """The store cannot be used (wrong version, not a neardup store, unwritable, damaged)."""


def _unusable(path: object, error: sqlite3.DatabaseError) -> StoreError:
    return StoreError(
        f"cannot use feature cache {path}: {error} (it only caches: delete it, or pass another "
        "--cache or --no-cache)"
    )


def _damage(error: sqlite3.DatabaseError) -> bool:
    """Whether SQLite found the file itself bad (not a database, a page overwritten): not
    OperationalError (locked, read-only: the callers act on those) nor a misuse."""
    return not isinstance(error, sqlite3.OperationalError | sqlite3.ProgrammingError)


class _CacheCursor(sqlite3.Cursor):
    """A cursor of the store's file: a damaged file is a StoreError naming the cache, also
    where the pair and video stores read and write through `FeatureStore.db`, so that no
    caller takes it for damage of its own files (an index's)."""

    def _named(self, method: Callable[..., Any], *args: Any) -> Any:
        try:
            return method(*args)
        except sqlite3.DatabaseError as error:
            if not _damage(error):
                raise
            raise _unusable(getattr(self.connection, "path", "?"), error) from error

    def execute(self, sql: str, parameters: Any = (), /) -> Self:
        return self._named(super().execute, sql, parameters)  # type: ignore[no-any-return]

    def executemany(self, sql: str, seq_of_parameters: Any, /) -> Self:
        return self._named(super().executemany, sql, seq_of_parameters)  # type: ignore[no-any-return]

    def fetchone(self) -> Any:
        return self._named(super().fetchone)

    def fetchmany(self, size: int | None = 1) -> list[Any]:
        return self._named(super().fetchmany, size)  # type: ignore[no-any-return]

    def fetchall(self) -> list[Any]:
        return self._named(super().fetchall)  # type: ignore[no-any-return]

    def __next__(self) -> Any:
        return self._named(super().__next__)


class _CacheConnection(sqlite3.Connection):
    """The store's connection: every statement through a `_CacheCursor`."""

    path = "?"

    def cursor(self, factory: Any = _CacheCursor) -> Any:
        return super().cursor(factory)

    def execute(self, sql: str, parameters: Any = (), /) -> Any:
        return self.cursor().execute(sql, parameters)

    def executemany(self, sql: str, parameters: Any, /) -> Any:
        return self.cursor().executemany(sql, parameters)


def _read_now(reason: str) -> bool:
    """A file refused as truncated by a neardup that did not read a JPEG lacking only its end
    marker (`neardup.jpeg_end`): such refusals are worded otherwise now, so tried once again."""
    return reason.startswith("corrupt or truncated image: image file is truncated")


class FeatureStore:
    """Cached features and skips, keyed by path and validated by size and mtime."""

    def __init__(self, path: str | os.PathLike[str], *, wait: float = WAIT_SECONDS) -> None:
        self.path = Path(path)
        self.stale = False
        """Rows of another features version that could not be dropped (read-only): unused."""
        if str(path) != ":memory:":
            self.path.parent.mkdir(parents=True, exist_ok=True)
        deadline = time.monotonic() + wait
        while True:
            db: sqlite3.Connection | None = None
            try:
                db = self.db = sqlite3.connect(
                    str(path), timeout=wait, isolation_level=None, factory=_CacheConnection
                )
                db.path = str(path)
                self._init_schema()
                return
            except StoreError:
                if db is not None:
                    db.close()
                raise
            except sqlite3.OperationalError as error:
                # Another process is creating the store or switching it to WAL: SQLite
                # answers "locked" at once there, without waiting. Wait for it, bounded.
                if db is not None:
                    db.close()
                if "locked" not in str(error):
                    raise StoreError(
                        f"cannot use feature cache {path}: {error} (pass another --cache, "
                        "or --no-cache)"
                    ) from error
                if time.monotonic() > deadline:
                    raise StoreError(
                        f"cannot use feature cache {path}: {error} (other neardup processes "
                        f"held it for over {wait:.0f} s; pass another --cache)"
                    ) from error
                time.sleep(0.05 + random.random() * 0.1)
            except sqlite3.DatabaseError as error:
                if db is not None:
                    db.close()
                raise _unusable(path, error) from error

    def _init_schema(self) -> None:
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.execute("PRAGMA synchronous=NORMAL")
        # One writer at a time sets the store up; the others wait (busy timeout), then see
        # it made.
        self.db.execute("BEGIN IMMEDIATE")
        try:
            self._create_tables()
            self.db.execute("COMMIT")
        except BaseException:
            self.db.execute("ROLLBACK")
            raise

    def _create_tables(self) -> None:
        tables = {
            r[0] for r in self.db.execute("SELECT name FROM sqlite_master WHERE type='table'")
        }
        if tables and not {"meta", "items"} <= tables:
            raise StoreError(
                f"{self.path} is not a neardup feature cache (it holds other tables); "
                "pass another --cache"
            )
        self.db.execute("CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT)")
        row = self.db.execute("SELECT value FROM meta WHERE key='schema'").fetchone()
        if row is None:
            self.db.execute(
                "INSERT INTO meta VALUES ('schema', ?), ('features', ?)",
                (str(SCHEMA_VERSION), str(FEATURES_VERSION)),
            )
        elif row[0] != str(SCHEMA_VERSION):
            raise StoreError(
                f"feature cache {self.path} has schema {row[0]}, this neardup uses "
                f"{SCHEMA_VERSION}; delete it or pass another --cache"
            )
        self.db.execute(
            """CREATE TABLE IF NOT EXISTS items (
                path TEXT PRIMARY KEY, size INTEGER, mtime_ns INTEGER,
                names TEXT, meta TEXT, data BLOB, skip TEXT)"""
        )
        features = self.db.execute("SELECT value FROM meta WHERE key='features'").fetchone()
        if features is not None and features[0] != str(FEATURES_VERSION):
            # Features computed differently: drop them rather than mix old and new (a store
            # that cannot be written keeps them, and none of them is read).
            self.stale = not self.ensure("DELETE FROM items")
            self.ensure(f"UPDATE meta SET value='{FEATURES_VERSION}' WHERE key='features'")

    def ensure(self, statement: str, params: Sequence[Any] = ()) -> bool:
        """Run a statement that writes (a table made, old rows dropped); False where the
        store cannot be written, which is no error: a read-only cache is still read."""
        try:
            self.db.execute(statement, params)
        except sqlite3.OperationalError as error:
            if not read_only(error):
                raise
            return False
        return True

    def has_table(self, name: str) -> bool:
        found = "SELECT 1 FROM sqlite_master WHERE type='table' AND name=?"
        return self.db.execute(found, (name,)).fetchone() is not None

    def close(self) -> None:
        self.db.close()

    def __enter__(self) -> FeatureStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def lookup(
        self, files: Iterable[FileRef], needed: set[str]
    ) -> Iterator[tuple[FileRef, Features | Skipped | None]]:
        """Each file with its cached result, or None when it must be (re)computed."""
        with closing(self.db.cursor()) as cursor:
            for ref in files:
                row = cursor.execute(
                    "SELECT size, mtime_ns, names, meta, data, skip FROM items WHERE path=?",
                    (side_key(ref.key, needed),),  # the path, or path#frame for a frame
                ).fetchone()
                if self.stale or row is None or (row[0], row[1]) != (ref.size, ref.mtime_ns):
                    yield ref, None
                elif row[5] is not None:
                    yield ref, None if _read_now(row[5]) else Skipped(ref.path, row[5])
                else:
                    yield ref, _decode_row(ref, row[2], row[3], row[4], needed)

    def put(self, items: Iterable[tuple[FileRef, Features | Skipped]], names: set[str]) -> None:
        """Store a batch in one transaction (all of it or, after a crash, none)."""
        rows: list[tuple[str, int, int, str, str | None, bytes | None, str | None]] = []
        for ref, item in items:
            if isinstance(item, Skipped):
                if item.reason.startswith("unreadable") or "--max-pixels" in item.reason:
                    continue  # permissions and --max-pixels may change; try again next time
                rows.append(
                    (
                        side_key(ref.key, names),
                        ref.size,
                        ref.mtime_ns,
                        "[]",
                        None,
                        None,
                        item.reason,
                    )
                )
            else:
                key = side_key(ref.key, names)
                item, held = self._with_held(key, ref, item, names)
                meta, data = encode_features(item)
                rows.append(
                    (key, ref.size, ref.mtime_ns, json.dumps(sorted(held)), meta, data, None)
                )
        if rows:
            write_rows(self.db, "INSERT OR REPLACE INTO items VALUES (?,?,?,?,?,?,?)", rows)

    def _with_held(
        self, key: str, ref: FileRef, item: Features, names: set[str]
    ) -> tuple[Features, set[str]]:
        """`item` joined with what this file's row already holds of other methods (as it is
        now: same size and time), and the names of both: a command that computes fewer
        methods keeps the others' (`feature_rows.merged`)."""
        row = self.db.execute(
            "SELECT size, mtime_ns, names, meta, data FROM items WHERE path=?", (key,)
        ).fetchone()
        if row is None or (row[0], row[1]) != (ref.size, ref.mtime_ns) or row[4] is None:
            return item, names
        try:
            held = with_side(set(json.loads(row[2])))
            if held <= names:
                return item, names
            old = decode_features(ref, json.loads(row[3]), row[4])
        except UNDECODABLE:  # a damaged row: replaced by this one alone
            return item, names
        return merged(item, old), names | held

    def keep_confirmed_pixel_hash(
        self, path: str, size: int, mtime_ns: int, pixel_hash: str
    ) -> None:
        """Keep a pixel hash made after the features (`pipeline.confirm_pixels`), beside them,
        in each row of this file as it is now (size and time: a row of another decode size
        left from older content must not take it), in one statement (a row another process
        replaces meanwhile keeps its own header).

        Not as the row's `pixel_hash`: that one makes exact copies found before scoring (an
        index aliases them), and a rescan must find what the first scan found, not more.
        """
        write_rows(
            self.db,
            "UPDATE items SET meta=json_set(meta, '$." + CONFIRMED + "', ?) "
            "WHERE path IN (?, ?) AND size=? AND mtime_ns=? AND meta IS NOT NULL",
            [(pixel_hash, *side_keys(path), size, mtime_ns)],
        )

    def confirmed_pixel_hash(self, path: str, size: int, mtime_ns: int) -> str | None:
        """The pixel hash `keep_confirmed_pixel_hash` kept for this file, if it is unchanged."""
        if self.stale:  # rows of another features version are never read
            return None
        for key in side_keys(path):
            row = self.db.execute(
                "SELECT size, mtime_ns, meta FROM items WHERE path=?", (key,)
            ).fetchone()
            if row is None or (row[0], row[1]) != (size, mtime_ns) or row[2] is None:
                continue
            try:
                found = json.loads(row[2]).get(CONFIRMED)
            except UNDECODABLE:  # a damaged row: no hash kept
                continue
            if isinstance(found, str) and found:
                return found
        return None


UNDECODABLE = (ValueError, TypeError, KeyError, AttributeError, IndexError)
"""What decoding a damaged row raises (bad JSON, a header without a field, a blob of the
wrong size or NULL)."""


def _decode_row(
    ref: FileRef, names: Any, meta: Any, data: Any, needed: set[str]
) -> Features | None:
    """A cached row's features, or None (computed again, and the row rewritten) when it lacks
    some of `needed` or cannot be decoded: one damaged row (a disk error, a hand edit) costs
    its file a decode, never the scan."""
    try:
        if not needed <= with_side(set(json.loads(names))):
            return None
        return decode_features(ref, json.loads(meta), data)
    except UNDECODABLE:
        return None


def write_rows(db: sqlite3.Connection, statement: str, rows: Sequence[Sequence[Any]]) -> bool:
    """Write `rows` in one transaction (all of them or, after a crash, none). A read-only
    store (a cache on a read-only mount, shared from CI) writes nothing and says False: it is
    still read, and the run goes on without keeping what it computed."""
    try:
        db.execute("BEGIN IMMEDIATE")
        try:
            db.executemany(statement, rows)
            db.execute("COMMIT")
        except BaseException:
            if db.in_transaction:  # SQLite ends it itself on some errors (a full disk)
                db.execute("ROLLBACK")
            raise
    except sqlite3.OperationalError as error:
        if read_only(error):
            return False
        raise
    return True


def read_only(error: sqlite3.OperationalError) -> bool:
    """Whether SQLite refused a write because the store cannot be written."""
    return "readonly" in str(error) or "read-only" in str(error)
