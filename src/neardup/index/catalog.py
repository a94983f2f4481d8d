"""A persistent, growing image index: saved k-means centroids; new images compared only with
the members of their nearest clusters.

    index = ImageIndex.build("idx", ["photos/"])      # features, k-means, every image assigned
    report = index.add(["new/"])                       # each new image's duplicates, then stored
    report = index.query(["one.jpg"])                  # the same report, nothing stored
    result = index.duplicates()                        # every group, in scan's JSON schema

Storage, one folder:
- `index.sqlite`: settings, the centroids, and one row per image (path, size, mtime, bytes
  hash, cluster, every feature). Every change is one SQLite transaction, so a `kill -9` at
  any moment leaves the index as it was before the batch or after it, never between.
- column files (`neardup.index.columns`): each image's vector, hashes and cluster, appended
  and fsynced before the transaction that commits their count.
- `lock`: an advisory file lock held by whoever writes (build, add, remove, rebalance), so two
  writers are serialised (the second waits, then sees the first one's images).
Opening reads no image row (`neardup.index.lazy`): a few query images are searched in the
memory-mapped vectors of their nearest clusters, and stored images are decoded only where
they are candidates. The in-memory vector index (`neardup.index.ivf`, or `ExactIndex` while
there is one cluster) is built from the column files when many images are searched.
Candidates come from `neardup.index.neighbours`; reports are `neardup.index.report` records.
An index written by another format or feature version, or with another model, is refused
with a message, never misread.

Growth: when the index has grown to more than 4 times the size it was trained at, its
largest cluster exceeds 8 times the mean, or the images added since training fit the
centroids clearly worse than held-out images did (`neardup.index.growth`), `add` retrains
the centroids on all vectors and reassigns every image in one transaction (`rebalance`, also
callable by hand). No image is lost: rows are only relabelled.
"""

from __future__ import annotations

import os
import re
import sqlite3
import time
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from neardup.decode import DEFAULT_MAX_PIXELS
from neardup.engines.base import Engine
from neardup.index.base import ClusteredIndex, Searchable
from neardup.index.columns import Columns, removed_slots
from neardup.index.growth import fit_centroids, rebalance_reason
from neardup.index.ivf import CLUSTER_SIZE, DEFAULT_NPROBE
from neardup.index.lazy import (
    Positions,
    ProbedVectors,
    StoredIdentity,
    StoredImages,
    StoredPaths,
    fill,
    hash_codes,
    load_codes,
)
from neardup.index.matching import classify, match
from neardup.index.neighbours import (
    EXACT_BELOW,
    FEW_QUERIES,
    CandidateSearch,
    Identity,
    embedding_matrix,
    vector_index,
)
from neardup.index.report import IndexReport
from neardup.index.storage import (
    FORMAT,
    IndexError_,
    Settings,
    check_compatible,
    connect,
    create_schema,
    failpoint,
    read_centroids,
    read_meta,
    snapshot,
    transaction,
    write_centroids,
    write_fit_added,
    write_lock,
)
from neardup.pipeline import compute_features, feature_config, local_engine, parse_methods
from neardup.records import Features, ScanResult
from neardup.sources import collect_sources
from neardup.store import encode_features

I64 = npt.NDArray[np.int64]


class ImageIndex:
    """An on-disk image index with an in-memory IVF over its embeddings."""

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
    def open(cls, folder: str | os.PathLike[str]) -> ImageIndex:
        """Open an existing index, check its format and model, load it into memory."""
        path = Path(folder)
        db_path = path / "index.sqlite"
        if not db_path.is_file():
            raise IndexError_(f"no neardup index at {path} (build one with: neardup index build)")
        db = connect(db_path)
        meta = read_meta(db)
        check_compatible(path, meta)
        settings = Settings.from_meta(meta)
        index = cls(path, db, settings, Columns.open(path, meta, settings.methods))
        index._read_state(meta)
        index._load()
        return index

    @classmethod
    def create(cls, folder: str | os.PathLike[str], settings: Settings) -> ImageIndex:
        """An empty index with these settings (fails if one exists)."""
        path = Path(folder)
        path.mkdir(parents=True, exist_ok=True)
        if (path / "index.sqlite").exists():
            raise IndexError_(f"an index already exists at {path}")
        db = connect(path / "index.sqlite")
        create_schema(db, settings.to_meta())
        return cls(path, db, settings, Columns(path, settings.methods))

    @classmethod
    def in_memory(cls, settings: Settings) -> ImageIndex:
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

    def __enter__(self) -> ImageIndex:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _load(self) -> None:
        """Read the counts, centroids and hashes; no image row is decoded."""
        self.columns = Columns.open(self.folder, read_meta(self.db), self.settings.methods)
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

    def hash_neighbours(self, images: Sequence[Features]) -> Iterator[tuple[I64, I64]]:
        """Candidates but for the vector index, as arrays (positions in `images`, row ids):
        exact copies and hashes (an engine that runs the vector search cluster by cluster
        asks for these alone)."""
        yield from self.search.near_blocks(images, self.positions, None, "")

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

    # ---- building and growing ---------------------------------------------------------------

    @classmethod
    def build(
        cls,
        folder: str | os.PathLike[str],
        paths: Iterable[str],
        *,
        methods: str | Sequence[str] | None = None,
        nprobe: int = DEFAULT_NPROBE,
        cluster_size: int = CLUSTER_SIZE,
        threshold: float | None = None,
        preset: str | None = None,
        cache: Any = None,
        workers: int | None = None,
        progress: Any = None,
        engine: Engine | None = None,
        report: bool = True,
        max_pixels: int = DEFAULT_MAX_PIXELS,
    ) -> tuple[ImageIndex, IndexReport]:
        """Create an index from `paths`: features, k-means on a sample, every image stored.
        `report=False` skips matching the images against one another (the report then lists
        no duplicates: `duplicates()` finds them all, as `scan` does)."""
        from neardup.features.embed import MODELS
        from neardup.scoring import threshold_for

        method_names = parse_methods(methods)
        models = [m for m in method_names if m in MODELS]
        settings = Settings(
            methods=method_names,
            model=models[0] if models else "",
            nprobe=nprobe,
            cluster_size=cluster_size,
            threshold=threshold_for(preset, threshold),
        )
        with write_lock(Path(folder)):
            index = cls.create(folder, settings)
            found = index._add(
                paths,
                store=True,
                cache=cache,
                workers=workers,
                progress=progress,
                engine=engine,
                match_batch=report,
                max_pixels=max_pixels,
            )
        return index, found

    def add(self, paths: Iterable[str], **options: Any) -> IndexReport:
        """Report each new image's duplicates in the index, then store the new images."""
        with write_lock(self.folder):
            self._reload_if_changed()
            return self._add(paths, store=True, **options)

    def query(self, paths: Iterable[str], **options: Any) -> IndexReport:
        """Each image's duplicates in the index; nothing is stored."""
        return self._add(paths, store=False, **options)

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

    def _add(
        self,
        paths: Iterable[str],
        *,
        store: bool,
        cache: Any = None,
        workers: int | None = None,
        progress: Any = None,
        verify: bool = True,
        engine: Engine | None = None,
        match_batch: bool = True,
        max_pixels: int = DEFAULT_MAX_PIXELS,
    ) -> IndexReport:
        start = time.perf_counter()
        found = collect_sources([str(p) for p in paths])
        config = feature_config(self.settings.methods, max_pixels)
        run_on = local_engine(engine, workers)
        new, skipped, _ = compute_features(found.files, config, cache, run_on, progress)
        report = self.take(new, store=store, engine=run_on, verify=verify, match_batch=match_batch)
        report.skipped = found.skipped + skipped
        report.seconds = time.perf_counter() - start
        return report

    def take(
        self,
        new: list[Features],
        *,
        store: bool,
        engine: Engine,
        verify: bool = True,
        match_batch: bool = True,
    ) -> IndexReport:
        """Classify images whose features are made (already indexed or new), match the new
        ones against the index (and one another, with `match_batch`), store them if asked.
        The caller holds the write lock when storing."""
        lacking = [
            f for f in new if self.settings.model and self.settings.model not in f.embeddings
        ]
        if lacking:
            raise IndexError_(f"features of {lacking[0].path} lack {self.settings.model}")
        entries, fresh, replaced = classify(self, new)
        matches = match(self, fresh, engine=engine, verify=verify) if match_batch else {}
        for entry, features in zip(entries, new, strict=True):
            if entry.status != "already indexed":
                entry.duplicates = matches.get(features.key, [])
                entry.status = "added" if store else "new"
        reason = None
        copies = {
            f.key: e.same_as
            for e, f in zip(entries, new, strict=True)
            if e.same_as is not None and e.same_as != f.key and f.key not in self.aliases
        }
        sizes = {f.key: (f.size, f.mtime_ns) for f in new}
        if store:
            self.copies.update((f.key, f) for f in new if f.key in copies)
        if store and (fresh or copies):
            self._store(fresh, replaced, {p: (same, *sizes[p]) for p, same in copies.items()})
            reason = self._maybe_rebalance()
        return IndexReport(entries, [], 0.0, reason is not None, reason)

    def _store(
        self,
        fresh: list[Features],
        replaced: list[int],
        copies: dict[str, tuple[str, int, int]] | None = None,
    ) -> None:
        """Insert a batch (deleting the rows it replaces, recording exact copies as aliases of
        their stored image) in one transaction; centroids are trained first if there are none."""
        copies = copies or {}
        if not fresh:
            with transaction(self.db):
                self._bump()
                self._insert_aliases(copies, {})
            return
        vectors = self._vectors(fresh) if self.settings.model else None
        clusters = np.zeros(len(fresh), dtype=np.int64)
        fit_sum, fit_n = self.fit_added
        if vectors is not None:  # a hash-only index keeps no vectors and no clusters
            trained_now = self.centroids is None
            if trained_now:
                stored = self.columns.gather(self.ids)
                self._train(np.concatenate([stored, vectors]) if len(stored) else vectors)
            assert self.centroids is not None
            clusters = self.coarse().assign(vectors)[:, 0]
            if not trained_now:  # images the centroids were not trained on: watch their fit
                fit = np.einsum("nd,nd->n", vectors, self.centroids[clusters])
                fit_sum, fit_n = fit_sum + float(fit.sum()), fit_n + len(fit)
        # Slots past the committed ones: the column files first (durable, not yet counted),
        # then the rows and the new count in one transaction.
        ids = list(range(self.columns.count, self.columns.count + len(fresh)))
        self.columns.append(vectors, hash_codes(fresh, self.settings.methods), clusters)
        rows = []
        # The vector column holds the embedding: the row keeps no second copy (format 3).
        leave_out = self.settings.model if vectors is not None else None
        for row_id, f in zip(ids, fresh, strict=True):
            meta, data = encode_features(f, leave_out=leave_out)
            identity = (f.bytes_hash, f.pixel_hash, f.jpeg_hash)
            rows.append((row_id, f.key, f.size, f.mtime_ns, meta, data, *identity))
        with transaction(self.db):
            self.db.executemany("DELETE FROM images WHERE id=?", [(i,) for i in replaced])
            self.db.executemany("INSERT INTO removed VALUES (?)", [(i,) for i in replaced])
            self.db.executemany("DELETE FROM aliases WHERE image_id=?", [(i,) for i in replaced])
            self._bump()
            self.db.execute("UPDATE meta SET value=? WHERE key='format'", (FORMAT,))
            self.db.executemany(
                "INSERT INTO images (id, path, size, mtime_ns, meta, data, bytes_hash, "
                "pixel_hash, jpeg_hash) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                rows,
            )
            self._insert_aliases(copies, {f.key: i for f, i in zip(fresh, ids, strict=True)})
            write_fit_added(self.db, fit_sum, fit_n)
            self.columns.record(self.db)
            failpoint("index-write")
        self.columns.committed()
        self.fit_added = (fit_sum, fit_n)
        if replaced:
            self.aliases = {p: i for p, i in self.aliases.items() if i not in set(replaced)}
            self._forget(replaced)
        self._set_ids(np.concatenate([self.ids, np.array(ids, dtype=np.int64)]))
        if self.folder == Path(":memory:"):  # nowhere to decode them from more cheaply
            self.images.keep(dict(zip(ids, fresh, strict=True)))
        if not self.search.large and len(self.ids) >= EXACT_BELOW:
            # Past the crossover: the hashes move to the multi-index hash (rebuilt once).
            self.search = CandidateSearch(
                self.settings.methods, large=True, identity=StoredIdentity(self.db)
            )
            load_codes(self.search, self.columns, self.ids)
        else:  # the identity is the rows just committed: only the hashes are new
            self.search.add_hashes(fresh, ids)
        if self._ivf is not None and vectors is not None:
            self._ivf.add(vectors, np.array(ids, dtype=np.int64), clusters=clusters)

    def _insert_aliases(
        self, copies: dict[str, tuple[str, int, int]], new_ids: dict[str, int]
    ) -> None:
        """Inside the batch's transaction: each copy becomes an alias of its stored image."""
        rows = []
        for path, (same_as, size, mtime) in copies.items():
            row_id = new_ids.get(same_as, self.by_path.get(same_as, self.aliases.get(same_as)))
            if row_id is not None:
                rows.append((path, row_id, size, mtime))
        self.db.executemany("INSERT OR REPLACE INTO aliases VALUES (?, ?, ?, ?)", rows)
        self.aliases.update({path: row_id for path, row_id, _, _ in rows})

    def _train(self, vectors: npt.NDArray[np.float32]) -> None:
        """Train centroids on `vectors` and save them."""
        centroids, fit = fit_centroids(vectors, self._cluster_size(len(vectors)))
        with transaction(self.db):
            write_centroids(self.db, centroids, len(vectors), fit)
        self._trained(centroids, len(vectors), fit)

    def _cluster_size(self, n: int) -> int:
        """Members per cluster to train for: all of them (one cluster, exact search) below
        the crossover where IVF starts to pay, unless the index was built with its own size."""
        if n < EXACT_BELOW and self.settings.cluster_size == CLUSTER_SIZE:
            return max(1, n)
        return self.settings.cluster_size

    def _trained(self, centroids: npt.NDArray[np.float32], trained_on: int, fit: float) -> None:
        """After the commit: the in-memory copy of what write_centroids stored."""
        self.centroids, self.trained_on, self.fit_expected = centroids, trained_on, fit
        self.fit_added = (0.0, 0)
        self._ivf, self._coarse = None, None  # built again from the columns when needed

    def _maybe_rebalance(self) -> str | None:
        """Retrain if the index grew, a cluster swelled or the data drifted; says which."""
        if self.centroids is None:
            return None
        reason = rebalance_reason(
            images=len(self.images),
            trained_on=self.trained_on,
            sizes=self.cluster_sizes(),
            fit_expected=self.fit_expected,
            fit_added_sum=self.fit_added[0],
            fit_added_n=self.fit_added[1],
        )
        if reason is not None:
            self._rebalance()
        return reason

    def rebalance(self) -> None:
        """Retrain the centroids on every vector and reassign every image, in one transaction."""
        with write_lock(self.folder):
            self._reload_if_changed()
            self._rebalance()

    def _rebalance(self) -> None:
        if not len(self.ids) or not self.settings.model:
            return
        vectors = self.columns.gather(self.ids)
        centroids, fit = fit_centroids(vectors, self._cluster_size(len(vectors)))
        assigned = vector_index(centroids, self.settings.nprobe).assign(vectors)[:, 0]
        del vectors
        every = np.zeros(self.columns.count, dtype=np.int64)  # removed slots: cluster 0
        every[self.ids] = assigned
        name = self.columns.rewrite_clusters(every)
        with transaction(self.db):
            self._bump()  # the rows stay as they are: clusters live in the column file
            write_centroids(self.db, centroids, len(self.ids), fit)
            self.columns.record(self.db, name)
        self.columns.committed(name)
        self._trained(centroids, len(self.ids), fit)

    # ---- removing ---------------------------------------------------------------------------

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
            promoted: dict[int, str] = {}
            for path, row_id in self.aliases.items():
                if row_id in ids and path not in doomed_aliases and row_id not in promoted:
                    promoted[row_id] = path
            with transaction(self.db):
                self._bump()
                self.db.executemany(
                    "DELETE FROM aliases WHERE path=?", [(p,) for p in doomed_aliases]
                )
                for row_id, path in promoted.items():
                    self.db.execute("UPDATE images SET path=? WHERE id=?", (path, row_id))
                    self.db.execute("DELETE FROM aliases WHERE path=?", (path,))
                gone = [i for i in ids if i not in promoted]
                self.db.executemany("DELETE FROM images WHERE id=?", [(i,) for i in gone])
                self.db.executemany("INSERT INTO removed VALUES (?)", [(i,) for i in gone])
                self.db.executemany("DELETE FROM aliases WHERE image_id=?", [(i,) for i in gone])
            for path in doomed_aliases:
                self.aliases.pop(path, None)
            for path in promoted.values():
                self.aliases.pop(path, None)
            self.images.forget(list(promoted))  # decoded again under the surviving path
            self.aliases = {p: i for p, i in self.aliases.items() if i not in gone}
            self._forget(gone)
            return doomed + doomed_aliases

    def _forget(self, ids: list[int]) -> None:
        if not ids:
            return
        gone = np.array(ids, dtype=np.int64)
        if self._ivf is not None:
            self._ivf.remove(gone)
        self.images.forget(ids)
        self._set_ids(self.ids[~np.isin(self.ids, gone)])
        self.search.identity = StoredIdentity(self.db)

    # ---- reading ------------------------------------------------------------------------------

    def duplicates(
        self,
        *,
        threshold: float | None = None,
        preset: str | None = None,
        workers: int | None = None,
        verify: bool = True,
        engine: Engine | None = None,
        floor: float | None = None,
        cache: Any = False,
    ) -> ScanResult:
        """Every duplicate group in the index, found cluster by cluster, in scan's schema."""
        from neardup.index.duplicates import all_duplicates

        result = all_duplicates(
            self,
            local_engine(engine, workers),
            threshold=threshold,
            preset=preset,
            verify=verify,
            floor=floor,
            cache=cache,
        )
        result.settings["index"] = str(self.folder)
        return result

    def info(self) -> dict[str, Any]:
        """Counts, cluster sizes and their spread, and the settings the index was built with."""
        from neardup.index.health import info

        return info(self)

    def check(self) -> list[str]:
        """Problems found by a full consistency check (an empty list means consistent)."""
        from neardup.index.health import check

        return check(self)


FRAME_KEY = re.compile(r"#\d+$")


def _file_of(key: str) -> str:
    """The file an item key belongs to: the path, less `#frame` for a video frame's key."""
    return FRAME_KEY.sub("", key)
