"""The index folder on disk: its SQLite schema and transactions, the writer lock, version
checks, and a failpoint for crash tests.

Every change to an index is one SQLite transaction (WAL journal, synchronous=FULL), so a
process killed at any moment leaves the database as it was before or after the change. Writers
also hold an advisory lock on the folder's `lock` file, so two of them are serialised.
"""

from __future__ import annotations

import errno
import fcntl
import json
import os
import shutil
import sqlite3
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt

from neardup.features.extract import FEATURES_VERSION
from neardup.index.ivf import CLUSTER_SIZE, DEFAULT_NPROBE
from neardup.sources.video import READER_VERSION
from neardup.version import __version__

if TYPE_CHECKING:
    from neardup.index.columns import Columns

FORMAT = "neardup.index/3"
"""2: row ids are slots of the column files beside the database (`neardup.index.columns`).
3: rows keep no copy of the embedding the vector column holds."""
READS = (FORMAT, "neardup.index/2")
"""Formats this version opens; writing to a format-2 index makes it format 3 (an older
neardup would find rows without their embedding)."""


@dataclass(slots=True)
class Settings:
    """How an index was built: its features, model, probing, cluster size and threshold."""

    methods: tuple[str, ...]
    model: str
    nprobe: int = DEFAULT_NPROBE
    cluster_size: int = CLUSTER_SIZE
    threshold: float = 0.8

    def to_meta(self) -> dict[str, str]:
        return {
            "methods": json.dumps(list(self.methods)),
            "model": self.model,
            "nprobe": str(self.nprobe),
            "cluster_size": str(self.cluster_size),
            "threshold": str(self.threshold),
        }

    @classmethod
    def from_meta(cls, meta: dict[str, str]) -> Settings:
        return cls(
            methods=tuple(json.loads(meta["methods"])),
            model=meta["model"],
            nprobe=int(meta["nprobe"]),
            cluster_size=int(meta["cluster_size"]),
            threshold=float(meta["threshold"]),
        )


class IndexError_(RuntimeError):
    """The index folder cannot be used as asked (missing, other version, other model, busy)."""


class IndexDamaged(IndexError_):
    """A file of the index is damaged (truncated or overwritten: a full disk, a copy cut
    short): named, so the index is restored or rebuilt rather than misread."""

    def __init__(self, file: Path, detail: str) -> None:
        self.file = file
        super().__init__(
            f"index {file.parent} is damaged: {file.name}: {detail} (restore a copy made by "
            "`neardup index save`, or build the index again)"
        )


BUILDING = "build"
"""Meta key present, valued "incomplete", from the moment `index build` creates an index until
it has stored every image: an interrupted build is told apart from a finished one (and is
resumed by building again with the same settings, not refused as an existing index)."""


def build_unfinished(meta: dict[str, str]) -> bool:
    """Whether the index's build was interrupted before it stored every image."""
    return meta.get(BUILDING) == "incomplete"


def mark_built(db: sqlite3.Connection) -> None:
    """The build stored every image: it is finished (one transaction)."""
    with transaction(db):
        db.execute("DELETE FROM meta WHERE key=?", (BUILDING,))


@contextmanager
def write_lock(folder: Path, timeout: float = 600.0) -> Iterator[None]:
    """Hold the folder's writer lock; wait for another writer up to `timeout` seconds."""
    try:
        folder.mkdir(parents=True, exist_ok=True)
        if not writable(folder):  # opened read-only: a lock file left writable must not
            # let a change grow the column files that SQLite then refuses to count
            raise PermissionError(errno.EACCES, "its folder cannot be written")
        handle = open(folder / "lock", "a+")  # noqa: SIM115 (closed below, after the lock)
    except OSError as error:
        hint = (
            "it can be read and searched; copy it to a folder you can write to, to change it"
            if (folder / "index.sqlite").is_file()
            else "choose a folder you can write to"
        )
        raise IndexError_(
            f"cannot write index {folder}: {error.strerror or error} ({hint})"
        ) from error
    with handle:
        deadline = time.monotonic() + timeout
        while True:
            try:
                fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() > deadline:
                    raise IndexError_(
                        f"index {folder} is being written by another process; try again later"
                    ) from None
                time.sleep(0.1)
        try:
            yield
        finally:
            fcntl.flock(handle.fileno(), fcntl.LOCK_UN)


def create_schema(
    db: sqlite3.Connection, settings_meta: dict[str, str], building: bool = False
) -> None:
    """The tables of a new index, and its settings, in one transaction; `building` marks it
    unfinished in that same transaction (`BUILDING`), so no moment shows it finished."""
    with transaction(db):
        db.execute("CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT)")
        db.execute("CREATE TABLE blobs (key TEXT PRIMARY KEY, value BLOB)")
        db.execute(
            """CREATE TABLE images (id INTEGER PRIMARY KEY, path TEXT UNIQUE NOT NULL,
        size INTEGER, mtime_ns INTEGER, bytes_hash TEXT,
        meta TEXT NOT NULL, data BLOB NOT NULL, pixel_hash TEXT, jpeg_hash TEXT)"""
        )
        # Exact-copy lookups are answered by these indexes: opening reads no row.
        db.execute("CREATE INDEX images_bytes ON images (bytes_hash)")
        db.execute("CREATE INDEX images_pixels ON images (pixel_hash)")
        db.execute("CREATE INDEX images_jpeg ON images (jpeg_hash)")
        # Slots (row ids) whose image was removed or replaced (neardup.index.columns).
        db.execute("CREATE TABLE removed (id INTEGER PRIMARY KEY)")
        db.execute(
            """CREATE TABLE aliases (path TEXT PRIMARY KEY, image_id INTEGER NOT NULL,
        size INTEGER, mtime_ns INTEGER)"""
        )
        rows = {
            "format": FORMAT,
            "features_version": str(FEATURES_VERSION),
            "video_reader": str(READER_VERSION),
            "neardup": __version__,
            "trained_on": "0",
            "generation": "0",
            "slots": "0",
            **settings_meta,
            **({BUILDING: "incomplete"} if building else {}),
        }
        db.executemany("INSERT INTO meta VALUES (?, ?)", rows.items())


def failpoint(name: str) -> None:
    """Tests only: with NEARDUP_FAILPOINT=name:seconds, announce on stderr and sleep here, so a
    test can kill the process at exactly this point (inside the write transaction)."""
    setting = os.environ.get("NEARDUP_FAILPOINT", "")
    if setting.startswith(name + ":"):
        print(f"failpoint {name} reached", file=sys.stderr, flush=True)
        time.sleep(float(setting.split(":", 1)[1]))


def connect(path: Path) -> sqlite3.Connection:
    db = sqlite3.connect(str(path), timeout=60.0, isolation_level=None)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("PRAGMA synchronous=FULL")
    return db


def connect_read_only(path: Path) -> sqlite3.Connection:
    """The index file in a folder this process cannot write (a read-only mount, a shared
    volume): opened immutable, since SQLite cannot make its write-ahead log's shared-memory
    file there. Refused while that log holds commits not yet in the file (they would be
    missed); a closed index has none, its last writer folded them in."""
    wal = path.with_name(path.name + "-wal")
    if wal.exists() and wal.stat().st_size > 0:
        raise IndexError_(
            f"cannot open index {path.parent}: its folder is not writable and its write-ahead "
            f"log ({wal.name}) holds changes not yet in {path.name}; open it once where it can "
            "be written, or copy the folder to one you can write to"
        )
    uri = f"{path.resolve().as_uri()}?mode=ro&immutable=1"
    return sqlite3.connect(uri, uri=True, isolation_level=None)


def writable(folder: Path) -> bool:
    """Whether this process may write in `folder` (false on a read-only mount, even for root)."""
    return os.access(folder, os.W_OK)


@contextmanager
def transaction(db: sqlite3.Connection) -> Iterator[None]:
    db.execute("BEGIN IMMEDIATE")
    try:
        yield
    except BaseException:
        db.execute("ROLLBACK")
        raise
    db.execute("COMMIT")


def read_meta(db: sqlite3.Connection) -> dict[str, str]:
    """The meta table; IndexError_ for a database without one. A damaged file's
    sqlite3.DatabaseError passes: the caller knows which file to name (`IndexDamaged`), as
    does any other OperationalError (locked, disk I/O), which is no sign of another database."""
    try:
        return dict(db.execute("SELECT key, value FROM meta").fetchall())
    except sqlite3.OperationalError as error:
        if "no such table" not in str(error):
            raise
        raise IndexError_(f"not a neardup index: {error}") from error  # some other database


def check_compatible(folder: Path, meta: dict[str, str]) -> None:
    if meta.get("format") not in READS:
        raise IndexError_(
            f"{folder} holds index format {meta.get('format')!r}; this neardup reads {FORMAT!r}"
        )
    if meta.get("features_version") != str(FEATURES_VERSION):
        raise IndexError_(
            f"{folder} was built with features version {meta.get('features_version')}; this "
            f"neardup computes version {FEATURES_VERSION}: rebuild it (neardup index build)"
        )
    reader = meta.get("video_reader")
    if reader is not None and reader != str(READER_VERSION):  # absent: built before it was kept
        raise IndexError_(
            f"{folder} holds video frames read by video reader {reader}; this neardup reads "
            f"them with version {READER_VERSION}: rebuild it (neardup index build)"
        )
    from neardup.features.embed import MODELS

    if meta.get("model") and meta.get("model") not in MODELS:
        raise IndexError_(f"{folder} uses model {meta.get('model')!r}, which is not installed")


def snapshot(db: sqlite3.Connection, columns: Columns, target: Path) -> Path:
    """A consistent copy of an index in a new folder: SQLite's online backup and the column
    files as far as the copied rows count them, in a temp folder, then one rename."""
    if target.exists() and (not target.is_dir() or any(target.iterdir())):
        raise IndexError_(f"{target} exists and is not an empty folder")
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=target.name + ".", dir=target.parent))
    try:
        copy = sqlite3.connect(str(staging / "index.sqlite"))
        try:
            db.backup(copy)
            copy.execute("PRAGMA journal_mode=WAL")
            meta = read_meta(copy)
        finally:
            copy.close()
        # Column files only grow (a rebalance's new clusters file is named by the meta that
        # was copied), so their first `slots` rows are the copied rows' columns.
        columns.copy_to(staging, int(meta["slots"]), meta.get("clusters_file"))
        if target.exists():
            target.rmdir()  # empty (checked above)
        umask = os.umask(0)
        os.umask(umask)
        staging.chmod(0o777 & ~umask)  # mkdtemp's 0700: the copy reads like any new folder
        os.replace(staging, target)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return target


def read_centroids(db: sqlite3.Connection) -> npt.NDArray[np.float32] | None:
    """The saved k-means centroids, or None before the first training."""
    row = db.execute("SELECT value FROM blobs WHERE key='centroids'").fetchone()
    if row is None:
        return None
    shape = json.loads(read_meta(db)["centroids_shape"])
    return np.frombuffer(row[0], dtype="<f4").reshape(shape).astype(np.float32)


def write_centroids(
    db: sqlite3.Connection, centroids: npt.NDArray[np.float32], trained_on: int, fit: float
) -> None:
    """Inside a transaction: the centroids, how many vectors they were trained on and the
    fit expected of new ones; the drift count starts again."""
    db.execute(
        "INSERT OR REPLACE INTO blobs VALUES ('centroids', ?)", (centroids.astype("<f4").tobytes(),)
    )
    db.executemany(
        "INSERT OR REPLACE INTO meta VALUES (?, ?)",
        [
            ("centroids_shape", json.dumps(list(centroids.shape))),
            ("trained_on", str(trained_on)),
            ("fit_expected", repr(fit)),
        ],
    )
    write_fit_added(db, 0.0, 0)


def write_fit_added(db: sqlite3.Connection, total: float, count: int) -> None:
    """Inside a transaction: the fit of the images added since training (sum, count)."""
    db.executemany(
        "INSERT OR REPLACE INTO meta VALUES (?, ?)",
        [("fit_added_sum", repr(total)), ("fit_added_n", str(count))],
    )
