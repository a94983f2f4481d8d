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

The class is built in layers, one module each, every one importing only those below it:
`neardup.index.handle` (open, create, load, reload, search for candidates) <-
`neardup.index.storing` (store a batch, train and rebalance the centroids) <-
`neardup.index.adding` (build, add, query); `neardup.index.removing` (remove) beside them;
this module joins them and adds the read-only views (every duplicate group, info, check).
"""

from __future__ import annotations

from typing import Any

from neardup.engines.base import Engine
from neardup.index.adding import AddingIndex
from neardup.index.removing import RemovingIndex
from neardup.pipeline import local_engine, stage_progress
from neardup.records import ScanResult


class ImageIndex(AddingIndex, RemovingIndex):
    """An on-disk image index with an in-memory IVF over its embeddings."""

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
        differences: str | bool = False,
        check_at: float | None = None,
        progress: Any = None,
    ) -> ScanResult:
        """Every duplicate group in the index, found cluster by cluster, in scan's schema.
        `differences`: "groups" measures what differs on the pair that puts each member in its
        group, "all" on every reported pair, as `scan` does (`neardup.differences`)."""
        from neardup.differences import measure_differences
        from neardup.index.duplicates import all_duplicates

        run_on = local_engine(engine, workers)
        result = all_duplicates(
            self,
            run_on,
            threshold=threshold,
            preset=preset,
            verify=verify,
            floor=floor,
            cache=cache,
            check_at=check_at,
            progress=progress,
        )
        result.settings["index"] = str(self.folder)
        if differences:
            cut = float(str(result.settings["threshold"]))
            tell = stage_progress(progress, "differences")
            result.pairs = measure_differences(
                result, cut, run_on, every=differences == "all", progress=tell, cache=cache
            )
        result.settings["differences"] = differences
        return result

    def info(self) -> dict[str, Any]:
        """Counts, cluster sizes and their spread, and the settings the index was built with."""
        from neardup.index.health import info

        return info(self)

    def check(self) -> list[str]:
        """Problems found by a full consistency check (an empty list means consistent)."""
        from neardup.index.health import check

        return check(self)
