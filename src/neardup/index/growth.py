"""When an index should retrain its centroids: it grew, a cluster swelled, or the data drifted.

Centroids trained on yesterday's collection keep working while new images look like the old
ones. Three signs say they no longer do:
- growth: the index holds more than GROWTH times the vectors the centroids were trained on
  (clusters are then GROWTH times their target size and every query scans that much more);
- imbalance: the largest cluster holds more than IMBALANCE times the mean (queries that land
  there scan most of the index);
- drift: the images added since training sit farther from their nearest centroid than images
  of the training collection did. "Fit" is the mean cosine similarity of a vector to its
  nearest centroid; the expected fit is measured at training time on held-out vectors (a
  vector's own pull on its centroid would flatter it), and drift is declared once at least
  DRIFT_MIN_SHARE of the trained size (and DRIFT_MIN_IMAGES) has been added with a mean fit
  more than DRIFT_MARGIN below it. Held-out vectors with a near-duplicate among the training
  vectors are left out of that measure: in a collection full of copies they would fit as well
  as their copies, and every genuinely new picture would look like drift.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from neardup.index.ivf import ASSIGN_FLOATS, clusters_for, train_centroids

GROWTH = 4.0
IMBALANCE = 8.0
IMBALANCE_MIN_SIZE = 64
"""A cluster this small is never called swollen, whatever the mean."""
DRIFT_MARGIN = 0.1
DRIFT_MIN_SHARE = 0.1
DRIFT_MIN_IMAGES = 32
TRAIN_SAMPLE = 256 * 1024
"""At most this many vectors train the k-means (which subsamples further: 256 per centroid)."""
HOLD_OUT = 0.1
"""Share of the vectors kept out of k-means training to measure the expected fit."""
HOLD_OUT_MIN = 100
"""Below this many vectors nothing is held out (the fit is then measured in-sample)."""
HOLD_OUT_MAX = 2000
"""At most this many held-out vectors are measured (each is compared with every training one)."""
NOVEL_BELOW = 0.5
"""A held-out vector counts as new content when no training vector is this similar to it."""


def nearest_similarity(
    vectors: npt.NDArray[np.float32], centroids: npt.NDArray[np.float32]
) -> npt.NDArray[np.float32]:
    """Each vector's cosine similarity to its nearest centroid (unit vectors assumed)."""
    out = np.zeros(len(vectors), dtype=np.float32)
    if not len(vectors) or not len(centroids):
        return out
    vectors = np.ascontiguousarray(vectors, dtype=np.float32)
    centroids = np.ascontiguousarray(centroids, dtype=np.float32)
    # One BLAS product per block of vectors (faiss's flat search ran at a third of the speed).
    block = max(1, ASSIGN_FLOATS // len(centroids))
    for start in range(0, len(vectors), block):
        out[start : start + block] = (vectors[start : start + block] @ centroids.T).max(axis=1)
    return out


def expected_fit(
    train: npt.NDArray[np.float32],
    held: npt.NDArray[np.float32],
    centroids: npt.NDArray[np.float32],
) -> float:
    """Mean fit of the held-out vectors that are new content (no near-duplicate among `train`);
    all held-out ones if none is; the training vectors themselves if nothing was held out."""
    if not len(held):
        return float(nearest_similarity(train, centroids).mean())
    held = held[:HOLD_OUT_MAX]
    novel = nearest_similarity(held, train) < NOVEL_BELOW
    return float(nearest_similarity(held[novel] if novel.any() else held, centroids).mean())


def split_for_training(
    n: int, seed: int = 0
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64]]:
    """(rows to train on, rows held out to measure the fit), each sorted."""
    order = np.random.default_rng(seed).permutation(n)
    held = int(n * HOLD_OUT) if n >= HOLD_OUT_MIN else 0
    return np.sort(order[held:]), np.sort(order[:held])


def rebalance_reason(
    *,
    images: int,
    trained_on: int,
    sizes: npt.NDArray[np.int64],
    fit_expected: float | None,
    fit_added_sum: float,
    fit_added_n: int,
) -> str | None:
    """Why the centroids should be retrained now ("growth", "imbalance", "drift"), or None."""
    if images < 2 or not len(sizes):
        return None
    if images > GROWTH * max(trained_on, 1):
        return "growth"
    if sizes.max() > IMBALANCE * max(float(sizes.mean()), 1.0) and sizes.max() > IMBALANCE_MIN_SIZE:
        return "imbalance"
    enough = fit_added_n >= max(DRIFT_MIN_IMAGES, DRIFT_MIN_SHARE * trained_on)
    if fit_expected is None or not enough:
        return None
    return "drift" if fit_added_sum / fit_added_n < fit_expected - DRIFT_MARGIN else None


def fit_centroids(
    vectors: npt.NDArray[np.float32], cluster_size: int
) -> tuple[npt.NDArray[np.float32], float]:
    """k-means centroids for `vectors` (trained on at most TRAIN_SAMPLE of them, a share held
    out), and the fit expected of new content (`expected_fit`)."""
    nlist = clusters_for(len(vectors), cluster_size)
    train, held = split_for_training(len(vectors))
    if len(train) > TRAIN_SAMPLE:
        rng = np.random.default_rng(0)
        train = np.sort(rng.choice(train, TRAIN_SAMPLE, replace=False))
    centroids = train_centroids(vectors[train], nlist)
    return centroids, expected_fit(vectors[train], vectors[held], centroids)
