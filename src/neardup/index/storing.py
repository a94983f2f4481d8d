"""Storing a batch of new images: column files first, then the rows in one transaction, each
image in its nearest cluster; the centroids trained on the first batch and retrained
(rebalanced) when the index outgrows them (`neardup.index.growth` says when)."""

from __future__ import annotations

from collections.abc import Collection
from pathlib import Path

import numpy as np
import numpy.typing as npt

from neardup.feature_rows import encode_features
from neardup.index.growth import fit_centroids, rebalance_reason
from neardup.index.handle import IndexHandle
from neardup.index.ivf import CLUSTER_SIZE
from neardup.index.lazy import StoredIdentity, hash_codes, load_codes
from neardup.index.neighbours import EXACT_BELOW, CandidateSearch, vector_index
from neardup.index.storage import (
    FORMAT,
    failpoint,
    transaction,
    write_centroids,
    write_fit_added,
    write_lock,
)
from neardup.records import Features


class StoringIndex(IndexHandle):
    """An open index that stores batches and keeps its centroids fit for them."""

    def _store(
        self,
        fresh: list[Features],
        replaced: list[int],
        copies: dict[str, tuple[str, int, int]] | None = None,
        stale: Collection[str] = (),
    ) -> None:
        """Insert a batch (deleting the rows it replaces, recording exact copies as aliases of
        their stored image) in one transaction; centroids are trained first if there are none.
        `stale`: exact-copy records of batch files that changed, dropped in that transaction
        (a file recorded as a copy that now holds other content is stored as what it is)."""
        copies = copies or {}
        if not fresh:  # copies only (of a file that changed, with its row, or not)
            promoted = self._copies_living_on(replaced, set(stale))
            with transaction(self.db):
                self._bump()
                self._drop_aliases(stale)
                gone = self._drop_rows(replaced, promoted)
                self._insert_aliases(copies, {})
            self._dropped_rows(gone, promoted)
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
        # A replaced image whose exact copies stay lives on under a copy's path: the copies
        # are not lost with the file that changed.
        # A copy in the batch that changed is not one any more: it cannot take the image on.
        promoted = self._copies_living_on(replaced, set(stale))
        with transaction(self.db):
            gone = self._drop_rows(replaced, promoted)
            self._bump()
            self._drop_aliases(stale)
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
        self._dropped_rows(gone, promoted)
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
        self.alias_files.update({path: (size, mtime) for path, _, size, mtime in rows})

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
