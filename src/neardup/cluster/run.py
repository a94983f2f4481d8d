"""`neardup cluster`, the idea's notebook as one call: embed every item (still images and
sampled video frames), cluster with k-means, keep the centroids and a 2-D PCA basis; or assign
new items to saved centroids and, for each, find its most similar items of the same cluster.

Items come from the same sources and feature store as `scan` (SSCD embeddings, cached), so a
folder scanned once clusters without decoding again.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np
import numpy.typing as npt

from neardup.cluster.kmeans import Matrix, choose_k, kmeans, pca_2d, squared_distances
from neardup.cluster.saved import ItemRef, SceneModel, load
from neardup.cluster.scene import DEFAULT_SCENE_MODEL, scene_matrix
from neardup.pipeline import Progress, compute_features, feature_config, local_engine
from neardup.records import Features, Skipped
from neardup.sources import collect
from neardup.sources.remote import is_url
from neardup.sources.video import DEFAULT_SAMPLING, Sampling
from neardup.store import CacheSetting

DEFAULT_SIMILAR = 5


@dataclass(frozen=True, slots=True)
class Similar:
    """An item of the same cluster and the cosine similarity of the two scene vectors."""

    item: ItemRef
    similarity: float


@dataclass(slots=True)
class Clustered:
    """One item, its cluster, and its most similar items of that cluster (best first)."""

    item: ItemRef
    cluster: int
    similar: list[Similar] = field(default_factory=list)


@dataclass(slots=True)
class ClusterResult:
    """What `neardup.cluster` returns: every item with its cluster, cluster sizes, skips, the
    model (fitted now, or loaded with `--centroids`) and each item's scene vector."""

    items: list[Clustered]
    sizes: list[int]
    """Items of this run per cluster id."""
    skipped: list[Skipped]
    model: SceneModel
    assigned: bool
    """True when items were assigned to saved centroids, False when the centroids were fitted."""
    vectors: Matrix
    features: list[Features]
    k_scores: dict[int, float] = field(default_factory=dict)
    """With `k="auto"`: the silhouette of each k tried."""

    def projection_of_items(self) -> Matrix:
        """This run's items in the saved model's 2-D PCA plane."""
        return self.model.projection.apply(self.vectors)


class NothingRead(ValueError):
    """No item could be read: the caller lists every reason (exit 3, as `scan`)."""

    def __init__(self, skipped: list[Skipped]) -> None:
        super().__init__(f"no item could be read ({len(skipped)} skipped)")
        self.skipped = skipped


def cluster(
    paths: Iterable[str | Path],
    *,
    k: int | str = "auto",
    centroids: str | Path | None = None,
    video: Sampling = DEFAULT_SAMPLING,
    model: str = DEFAULT_SCENE_MODEL,
    similar: int = DEFAULT_SIMILAR,
    cache: CacheSetting = None,
    workers: int | None = None,
    seed: int = 0,
    progress: Progress | None = None,
) -> ClusterResult:
    """Cluster the items under `paths` into `k` scenes (an int, or "auto": the k from 2 to 10
    with the best silhouette), or, with `centroids` (a file saved from an earlier result),
    assign them to those scenes. Items that cannot be read are listed in `skipped`;
    `progress` is told of the items read, as in `scan`."""
    if similar < 0:
        raise ValueError(f"similar must be 0 or more, got {similar}")
    saved = load(centroids) if centroids is not None else None
    if saved is not None:
        model = saved.model
    found = collect([str(p) for p in paths])
    config = replace(feature_config(("exact", "sscd_distilled")), video=video)
    engine = local_engine(None, workers)
    images, skipped, _ = compute_features(found.files, config, cache, engine, progress)
    skipped = sorted(found.skipped + skipped, key=lambda s: s.path)
    vectors = scene_matrix(images, model)
    refs = [ItemRef(f.path, f.frame, f.time) for f in images]
    k_scores: dict[int, float] = {}
    if saved is None:
        if not images and skipped:
            raise NothingRead(skipped)
        if k == "auto":
            if len(images) < 2:
                raise ValueError(f"--k auto needs at least 2 readable items, found {len(images)}")
            fit, k_scores = choose_k(vectors, seed)
            criterion = "silhouette"
        else:
            count = int(k)
            if not 1 <= count <= len(images):
                raise ValueError(
                    f"--k {count} needs at least {count} readable items, found {len(images)}"
                )
            fit = kmeans(vectors, count, seed)
            criterion = "given"
        labels = fit.labels
        saved = SceneModel(
            model,
            fit.centroids,
            pca_2d(vectors),
            refs,
            labels.tolist(),
            vectors,
            criterion,
            cwd=os.getcwd(),  # the folder `refs` are relative to, for a later load elsewhere
        )
        reference, reference_labels, reference_refs = vectors, labels, refs
    else:
        labels = (
            squared_distances(vectors, saved.centroids).argmin(1)
            if len(vectors)
            else np.zeros(0, np.int64)
        )
        reference = saved.vectors
        reference_labels = np.asarray(saved.labels, dtype=np.int64)
        reference_refs = saved.items
    out = [Clustered(ref, int(label)) for ref, label in zip(refs, labels, strict=True)]
    _add_similar(out, vectors, reference, reference_labels, reference_refs, similar)
    sizes = np.bincount(labels.astype(np.int64), minlength=len(saved.centroids)).tolist()
    return ClusterResult(
        out, sizes, skipped, saved, centroids is not None, vectors, images, k_scores
    )


def _add_similar(
    out: list[Clustered],
    vectors: Matrix,
    reference: Matrix,
    reference_labels: npt.NDArray[np.int64],
    reference_refs: list[ItemRef],
    count: int,
) -> None:
    """Each item's `count` most similar reference items of its own cluster, by exhaustive
    search within the cluster (faiss, memory items x count), the item itself left out."""
    if count <= 0 or not out:
        return
    import faiss

    labels = np.array([c.cluster for c in out], dtype=np.int64)
    for cluster_id in np.unique(labels).tolist():
        members = np.flatnonzero(reference_labels == cluster_id)
        if members.size == 0:
            continue
        index = faiss.IndexFlatIP(reference.shape[1])
        index.add(np.ascontiguousarray(reference[members], dtype=np.float32))
        queries = np.flatnonzero(labels == cluster_id)
        wanted = min(count + 1, members.size)
        scores, found = index.search(
            np.ascontiguousarray(vectors[queries], dtype=np.float32), wanted
        )
        for row, query in enumerate(queries.tolist()):
            item = out[query]
            for score, position in zip(scores[row].tolist(), found[row].tolist(), strict=True):
                if position < 0:
                    continue
                other = reference_refs[int(members[position])]
                if _same_item(other, item.item) or len(item.similar) >= count:
                    continue
                item.similar.append(Similar(other, round(float(score), 4)))


def _same_item(a: ItemRef, b: ItemRef) -> bool:
    """One file's same frame, however its path was spelled (a saved item is stored as the
    fit run named it: `../clips/a.mp4` given from another folder is the same file)."""
    if a.frame != b.frame:
        return False
    if a.path == b.path:
        return True
    local = not is_url(a.path) and not is_url(b.path)
    return local and os.path.realpath(a.path) == os.path.realpath(b.path)
