"""One open index's in-memory state: how an index is opened, created or copied, what is read
at open (counts, centroids, hashes; no image row), reloaded when another writer commits, and
searched for candidates. The layers that store, add and remove images build on it."""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Collection, Container, Iterable, Iterator, Sequence
from pathlib import Path
from typing import Self

import numpy as np
import numpy.typing as npt

from neardup.index.base import ClusteredIndex, Searchable
from neardup.index.columns import Columns, removed_slots
from neardup.index.hash_search import FEW_QUERIES
from neardup.index.lazy import (
    Positions,
    ProbedVectors,
    StoredIdentity,
    StoredImages,
    StoredPaths,
    fill,
    load_codes,
)
from neardup.index.neighbours import (
    EXACT_BELOW,
    CandidateSearch,
    Identity,
    embedding_matrix,
    vector_index,
)
from neardup.index.storage import (
    IndexDamaged,
    IndexError_,
    Settings,
    check_compatible,
    connect,
    connect_read_only,
    create_schema,
    read_centroids,
    read_meta,
    snapshot,
    writable,
)
from neardup.records import Features

I64 = npt.NDArray[np.int64]


class IndexHandle:
    """An open on-disk (or in-memory) index: its state, loaded lazily, and its candidates."""

    def __init__(
        self, folder: Path, db: sqlite3.Connection, settings: Settings, columns: Columns
    ) -> None:
        self.folder = folder
        self.db = db
        self.settings = settings
        self.columns = columns
        self.ids = np.zeros(0, dtype=np.int64)
        """Row ids (slots) of the stored images, ascending; `ids[i]` is that of `images[i]`."""
        self.images = StoredImages(db, self.ids, columns.vectors, settings.model)
        """Every stored image's features, decoded where read."""
        self.positions = Positions(self.ids)
        """Row id -> position in `images`."""
        self.by_path = StoredPaths(db)
        """Path -> row id."""
        self._ivf: ClusteredIndex | None = None
        self._coarse: ClusteredIndex | None = None
        """The centroids alone, to assign new vectors to clusters."""
        self.trained_on = 0
        self.generation = 0
        self.centroids: npt.NDArray[np.float32] | None = None
        self.fit_expected: float | None = None
        """Mean similarity of held-out vectors to their nearest centroid, at training time."""
        self.fit_added = (0.0, 0)
        """(sum, count) of that similarity for the images added since training (drift)."""
        self.search = CandidateSearch(settings.methods, identity=StoredIdentity(db))
        """Exact-copy and hash candidates (the vector index is `ivf`)."""
        self.alias_files: dict[str, tuple[int, int]] = {}
        """Exact copies' own (size, mtime_ns), read at open."""
        self.copies: dict[str, Features] = {}
        """Features of the exact copies this handle added (their own size, format, file)."""
        self.aliases: dict[str, int] = {}
        """Exact copies (same bytes or pixels) of a stored image: path -> its row id. Stored
        once, reported in every duplicate group their image is in."""

    @property
    def identity(self) -> Identity:
        """(identity feature, value) -> row id: bytes, pixel and JPEG-data hashes (exact copies)."""
        return self.search.identity

    # ---- opening and creating ---------------------------------------------------------------

    @classmethod
    def open(cls, folder: str | os.PathLike[str]) -> Self:
        """Open an existing index, check its format and model, load it into memory."""
        path = Path(folder)
        db_path = path / "index.sqlite"
        if not db_path.is_file():
            raise IndexError_(f"no neardup index at {path} (build one with: neardup index build)")
        db: sqlite3.Connection | None = None
        try:
            db = connect(db_path) if writable(path) else connect_read_only(db_path)
            meta = read_meta(db)
        except sqlite3.DatabaseError as error:
            if db is not None:
                db.close()
            if isinstance(error, sqlite3.OperationalError):  # unwritable, locked, I/O: not damage
                raise IndexError_(f"cannot open index {path}: {error}") from error
            raise IndexDamaged(db_path, str(error)) from error  # not a database, or cut short
        check_compatible(path, meta)
        settings = Settings.from_meta(meta)
        index = cls(path, db, settings, Columns.open(path, meta, settings.methods))
        index._read_state(meta)
        index._load()
        return index

    @classmethod
    def create(
        cls, folder: str | os.PathLike[str], settings: Settings, building: bool = False
    ) -> Self:
        """An empty index with these settings (fails if one exists); `building`: marked
        unfinished until `mark_built` (an interrupted build is then resumed, not refused)."""
        path = Path(folder)
        path.mkdir(parents=True, exist_ok=True)
        if (path / "index.sqlite").exists():
            raise IndexError_(f"an index already exists at {path}")
        db = connect(path / "index.sqlite")
        create_schema(db, settings.to_meta(), building)
        return cls(path, db, settings, Columns(path, settings.methods))

    @classmethod
    def in_memory(cls, settings: Settings) -> Self:
        """An index that lives in memory only: what `scan` puts the scanned images in."""
        db = sqlite3.connect(":memory:", isolation_level=None)
        create_schema(db, settings.to_meta())
        return cls(Path(":memory:"), db, settings, Columns(None, settings.methods))

    load = open

    def save(self, folder: str | os.PathLike[str]) -> Path:
        """Write a consistent copy of this index to a new folder (a snapshot before a risky
        step, or to move it): SQLite's online backup into a temp folder, then one rename.
        The index itself needs no saving: every change is committed as it is made."""
        return snapshot(self.db, self.columns, Path(folder))

    def close(self) -> None:
        self.db.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ---- loading and reloading --------------------------------------------------------------

    def _load(self) -> None:
        """Read the counts, centroids and hashes; no image row is decoded."""
        self.columns = Columns.open(self.folder, read_meta(self.db), self.settings.methods)
        for name, detail in self.columns.damaged()[:1]:  # cut short: refused, never misread
            raise IndexDamaged(self.folder / name, detail)
        self.columns.clusters()  # read now: a rebalance elsewhere replaces the file
        self.centroids = self.saved_centroids()
        self._ivf = self._coarse = None
        ids = np.flatnonzero(removed_slots(self.db, self.columns.count)).astype(np.int64)
        self._set_ids(ids)
        self.search = CandidateSearch(
            self.settings.methods, large=len(ids) >= EXACT_BELOW, identity=StoredIdentity(self.db)
        )
        load_codes(self.search, self.columns, ids)
        self.aliases, self.alias_files = {}, {}
        for path, row_id, size, mtime in self.db.execute(
            "SELECT path, image_id, size, mtime_ns FROM aliases"
        ):
            self.aliases[path] = row_id
            self.alias_files[path] = (size, mtime)  # the copy's own file: it picks the keeper

    def _set_ids(self, ids: npt.NDArray[np.int64]) -> None:
        """The stored images are now these rows (decoded ones stay decoded)."""
        decoded = self.images
        self.ids = ids
        self.images = StoredImages(self.db, ids, self.columns.vectors, self.settings.model)
        self.images.keep(decoded)
        self.positions = Positions(ids)

    def _reload_if_changed(self) -> None:
        """Another writer committed since we loaded (its generation is newer): load again."""
        meta = read_meta(self.db)
        if int(meta.get("generation", "0")) == self.generation:
            return
        # Rows may have changed: decode anew.
        self.images = StoredImages(self.db, self.ids, self.columns.vectors, self.settings.model)
        self._read_state(meta)
        self._load()

    def _read_state(self, meta: dict[str, str]) -> None:
        """Training size, generation and fit figures from the meta table."""
        self.trained_on = int(meta.get("trained_on", "0"))
        self.generation = int(meta.get("generation", "0"))
        expected = meta.get("fit_expected", "")
        self.fit_expected = float(expected) if expected else None
        self.fit_added = (float(meta.get("fit_added_sum", "0")), int(meta.get("fit_added_n", "0")))

    def _bump(self) -> None:
        """Inside a write transaction: mark the index changed for other open handles."""
        self.generation += 1
        self.db.execute(
            "INSERT OR REPLACE INTO meta VALUES ('generation', ?)", (str(self.generation),)
        )

    def _copies_living_on(self, ids: Iterable[int], leaving: Container[str] = ()) -> dict[int, str]:
        """For each of these images with an exact copy that stays (its path not in `leaving`):
        that copy's path. The image lives on under it when its own file goes or changes, so
        its copies stay in the index."""
        wanted, found = set(ids), {}
        for path, row_id in sorted(self.aliases.items()):
            if row_id in wanted and path not in leaving and row_id not in found:
                found[row_id] = path
        return found

    def _live_on(self, promoted: dict[int, str]) -> None:
        """Inside a write transaction: each image takes its copy's path, size and time (the
        copy is no longer an alias). The copy may hold only the same pixels, not the same
        bytes: its bytes hash is not claimed (the pixel and picture-data hashes hold)."""
        for row_id, path in promoted.items():
            size, mtime = self.alias_files.get(path, (None, None))
            self.db.execute(
                "UPDATE images SET path=?, size=coalesce(?, size), mtime_ns=coalesce(?, mtime_ns),"
                " bytes_hash=NULL, meta=json_set(meta, '$.bytes_hash', '') WHERE id=?",
                (path, size, mtime, row_id),
            )
            self.db.execute("DELETE FROM aliases WHERE path=?", (path,))

    def _drop_aliases(self, paths: Collection[str]) -> None:
        """Inside a write transaction: these exact-copy records go, from the database and
        from memory (the copy was removed, or its file changed and is stored as what it is
        now). Memory is changed before the commit so that aliases recorded later in the same
        transaction stay; if it rolls back, `_bump` left the generations apart and the next
        write loads the index again."""
        self.db.executemany("DELETE FROM aliases WHERE path=?", [(p,) for p in paths])
        for path in paths:
            self.aliases.pop(path, None)
            self.alias_files.pop(path, None)
            self.copies.pop(path, None)

    def _drop_rows(self, ids: Iterable[int], promoted: dict[int, str]) -> list[int]:
        """Inside a write transaction: these images go (removed, or their file changed), with
        their exact-copy records, except those in `promoted`, which live on under a copy's
        path (`_live_on`). Returns the rows that went."""
        self._live_on(promoted)
        gone = [i for i in ids if i not in promoted]
        self.db.executemany("DELETE FROM images WHERE id=?", [(i,) for i in gone])
        self.db.executemany("INSERT INTO removed VALUES (?)", [(i,) for i in gone])
        self.db.executemany("DELETE FROM aliases WHERE image_id=?", [(i,) for i in gone])
        return gone

    def _dropped_rows(self, gone: list[int], promoted: dict[int, str]) -> None:
        """After `_drop_rows` committed: the same change in memory."""
        self._lived_on(promoted)
        if not gone:
            return
        dropped = set(gone)
        self.aliases = {p: i for p, i in self.aliases.items() if i not in dropped}
        self.alias_files = {p: f for p, f in self.alias_files.items() if p in self.aliases}
        self._forget(gone)

    def _lived_on(self, promoted: dict[int, str]) -> None:
        """After `_live_on` committed: the copies are images now, decoded under their path."""
        for path in promoted.values():
            self.aliases.pop(path, None)
            self.alias_files.pop(path, None)
        self.images.forget(list(promoted))

    def _forget(self, ids: list[int]) -> None:
        if not ids:
            return
        gone = np.array(ids, dtype=np.int64)
        if self._ivf is not None:
            self._ivf.remove(gone)
        self.images.forget(ids)
        self._set_ids(self.ids[~np.isin(self.ids, gone)])
        self.search.identity = StoredIdentity(self.db)

    # ---- searching --------------------------------------------------------------------------

    @property
    def ivf(self) -> ClusteredIndex | None:
        """The vector index over every stored image, built from the column files on first
        use: each image in its stored cluster (no coarse search)."""
        if self._ivf is None and self.centroids is not None:
            self._ivf = vector_index(self.centroids, self.settings.nprobe)
            fill(self._ivf, self.columns, self.ids)
        return self._ivf

    def coarse(self) -> ClusteredIndex:
        """The centroids' cluster assignment (no stored vectors needed)."""
        assert self.centroids is not None
        if self._coarse is None:
            self._coarse = vector_index(self.centroids, self.settings.nprobe)
        return self._coarse

    def cluster_sizes(self) -> npt.NDArray[np.int64]:
        """Stored images per cluster (none without centroids)."""
        if self.centroids is None:
            return np.zeros(0, dtype=np.int64)
        clusters = self.columns.clusters()[self.ids]
        return np.bincount(clusters, minlength=len(self.centroids)).astype(np.int64)

    def saved_centroids(self) -> npt.NDArray[np.float32] | None:
        return read_centroids(self.db)

    def home_clusters(self) -> npt.NDArray[np.int64]:
        """Each stored image's cluster, in `ids` order."""
        return np.asarray(self.columns.clusters()[self.ids], dtype=np.int64)

    def indexed_neighbours(self, images: Sequence[Features]) -> Iterator[tuple[I64, I64]]:
        """Arrays (positions in `images`, indexed row ids) of every candidate the index
        proposes, a block at a time. A few images are searched in the mapped vectors of their
        clusters, without the IVF."""
        vectors: Searchable | None = self._ivf
        if vectors is None and self.centroids is not None and len(images) <= FEW_QUERIES:
            vectors = ProbedVectors.of(self.centroids, self.settings.nprobe, self.columns, self.ids)
        elif vectors is None:
            vectors = self.ivf
        yield from self.search.near_blocks(images, self.positions, vectors, self.settings.model)

    def _vectors(self, images: Sequence[Features]) -> npt.NDArray[np.float32]:
        return embedding_matrix(images, self.settings.model)
