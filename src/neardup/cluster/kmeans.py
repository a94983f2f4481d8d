"""Seeded k-means on unit vectors, the choice of k, and the 2-D PCA basis used for plots.

Plain numpy: greedy k-means++ seeding (as scikit-learn's: each new centre the best of a few
drawn), Lloyd iterations, the best of `RESTARTS` runs by inertia. The items are put in an
order of their own values first, so the same items and seed give the same centroids in
whatever order they come. Memory is N x k distances, never N x N: `choose_k` scores each k by
the silhouette of at most `SILHOUETTE_SAMPLE` items.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

Matrix = npt.NDArray[np.float32]

RESTARTS = 20
"""Seeded runs, the lowest inertia kept. Three clips' 20 frames, k = 3, 10 input orders x 12
seeds: plain k-means++ reached the lowest-inertia split in 62 of 120 with 5 runs, 113 with 20;
greedy seeding in 95 with 5, 115 with 10, 120 with 20."""
ITERATIONS = 100
SCREEN_ITERATIONS = 10
"""Lloyd iterations of each restart before the best is chosen and run to `ITERATIONS`, so 20
starts cost about what 5 full runs did (10,000 unstructured 512-d items: k = 10 in 16 s
against 11 s, `choose_k` 140 s against 151 s, on a busy 2-core machine)."""
K_MAX = 10
"""`--k auto` tries 2..K_MAX clusters (fewer when there are few items)."""
MIN_SILHOUETTE = 0.25
"""Below this best silhouette the items hold no substantial structure (Kaufman and Rousseeuw's
reading): one cluster, not noise split in two (the frames of a static shot)."""
ONE_SCENE = 0.95
"""Cosine to the items' mean direction that every item reaches when they are one scene seen
again (a static shot's frames reach 0.99; frames of a moving clip fall to 0 and below): the
silhouette, blind to scale, would split their noise in two."""
SILHOUETTE_SAMPLE = 2000


@dataclass(frozen=True, slots=True)
class Fit:
    """Centroids (k x D), each item's cluster, and the mean squared distance to its centroid."""

    centroids: Matrix
    labels: npt.NDArray[np.int64]
    inertia: float


def squared_distances(x: Matrix, centroids: Matrix) -> npt.NDArray[np.float64]:
    """N x k squared Euclidean distances."""
    x64, c64 = x.astype(np.float64), centroids.astype(np.float64)
    d = (x64**2).sum(1)[:, None] - 2.0 * x64 @ c64.T + (c64**2).sum(1)[None, :]
    return np.maximum(d, 0.0)


def kmeans(x: Matrix, k: int, seed: int = 0) -> Fit:
    """The best of `RESTARTS` seeded k-means runs (lowest inertia), whatever the items' order."""
    if not 1 <= k <= len(x):
        raise ValueError(f"cannot make {k} clusters of {len(x)} items")
    order = canonical_order(x)
    ordered = np.ascontiguousarray(x[order])
    rng = np.random.default_rng(seed)
    best: Fit | None = None
    for _ in range(RESTARTS):  # short runs to find the best start, then that one finished
        fit = _lloyd(ordered, _plus_plus(ordered, k, rng), SCREEN_ITERATIONS)
        if best is None or fit.inertia < best.inertia - 1e-12:
            best = fit
    assert best is not None
    best = _lloyd(ordered, best.centroids.copy(), ITERATIONS)
    labels = np.empty_like(best.labels)
    labels[order] = best.labels
    return Fit(best.centroids, labels, best.inertia)


def canonical_order(x: Matrix) -> npt.NDArray[np.int64]:
    """The items sorted by their values (first column first): the seeding's random draws
    pick by position, so without it the input order would choose the clusters."""
    return np.lexsort(x.T[::-1]).astype(np.int64)


def _plus_plus(x: Matrix, k: int, rng: np.random.Generator) -> Matrix:
    """Greedy k-means++: each next centre is, of `2 + log k` items drawn in proportion to
    their squared distance from the centres so far, the one leaving the least inertia."""
    trials = 2 + int(math.log(k))
    first = int(rng.integers(len(x)))
    centres = [x[first]]
    nearest = squared_distances(x, x[first : first + 1])[:, 0]
    for _ in range(1, k):
        total = nearest.sum()
        drawn = (
            rng.choice(len(x), size=trials, p=nearest / total)
            if total > 0
            else rng.integers(len(x), size=trials)
        )
        distances = squared_distances(x, x[drawn])
        after = np.minimum(nearest[:, None], distances)
        pick = int(after.sum(0).argmin())
        centres.append(x[drawn[pick]])
        nearest = after[:, pick]
    return np.stack(centres).astype(np.float32)


def _lloyd(x: Matrix, centroids: Matrix, iterations: int) -> Fit:
    labels = np.full(len(x), -1, dtype=np.int64)
    for _ in range(iterations):
        distances = squared_distances(x, centroids)
        new = distances.argmin(1)
        if np.array_equal(new, labels):
            break
        labels = new
        for j in range(len(centroids)):
            members = x[labels == j]
            if len(members):
                centroids[j] = members.mean(0)
            else:  # an empty cluster takes the item farthest from its centroid
                far = int(distances[np.arange(len(x)), labels].argmax())
                centroids[j] = x[far]
    distances = squared_distances(x, centroids)
    labels = distances.argmin(1)
    inertia = float(distances[np.arange(len(x)), labels].mean())
    return Fit(centroids.astype(np.float32), labels, inertia)


def silhouette(x: Matrix, labels: npt.NDArray[np.int64], seed: int = 0) -> float:
    """Mean silhouette (Euclidean) of at most `SILHOUETTE_SAMPLE` items: in [-1, 1], higher
    means tighter, better separated clusters."""
    if len(x) > SILHOUETTE_SAMPLE:
        pick = np.random.default_rng(seed).choice(len(x), SILHOUETTE_SAMPLE, replace=False)
        x, labels = x[pick], labels[pick]
    if len(set(labels.tolist())) < 2:  # one cluster (identical items): nothing separated
        return -1.0
    distances = np.sqrt(squared_distances(x, x))
    scores = []
    for i in range(len(x)):
        own = labels == labels[i]
        if own.sum() <= 1:
            scores.append(0.0)
            continue
        a = distances[i, own].sum() / (own.sum() - 1)
        b = min(distances[i, labels == j].mean() for j in set(labels.tolist()) - {labels[i]})
        scores.append((b - a) / max(a, b, 1e-12))
    return float(np.mean(scores))


def choose_k(x: Matrix, seed: int = 0) -> tuple[Fit, dict[int, float]]:
    """k from 2 to `K_MAX` with the highest silhouette, its fit, and every k's silhouette;
    one cluster where every item's cosine to the items' mean direction reaches `ONE_SCENE`."""
    tried: dict[int, float] = {}
    lengths = np.linalg.norm(x, axis=1)
    mean = x.mean(0)
    norm = float(np.linalg.norm(mean))
    cosines = (x @ mean) / np.maximum(lengths * norm, 1e-12)
    if norm > 0 and float(cosines.min()) >= ONE_SCENE:
        return kmeans(x, 1, seed), tried  # the frames of one still shot: noise, not scenes
    best: Fit | None = None
    for k in range(2, min(K_MAX, len(x) - 1) + 1):
        fit = kmeans(x, k, seed)
        tried[k] = round(silhouette(x, fit.labels, seed), 4)
        if best is None or tried[k] > tried[len(best.centroids)]:
            best = fit
    if best is None or tried[len(best.centroids)] < MIN_SILHOUETTE:
        return kmeans(x, 1, seed), tried  # two or three items, or no structure: one cluster
    return best, tried


@dataclass(frozen=True, slots=True)
class Projection:
    """A 2-D PCA basis: the mean and the two leading principal directions (2 x D)."""

    mean: Matrix
    components: Matrix

    def apply(self, x: Matrix) -> Matrix:
        return ((x - self.mean) @ self.components.T).astype(np.float32)


def pca_2d(x: Matrix) -> Projection:
    """The 2-D PCA of the rows of `x`, from the D x D covariance (memory D^2, not N^2); signs
    fixed so the largest loading of each direction is positive (the same plot every run)."""
    mean = x.mean(0)
    centred = (x - mean).astype(np.float64)
    covariance = centred.T @ centred / max(1, len(x) - 1)
    values, vectors = np.linalg.eigh(covariance)
    top = vectors[:, np.argsort(values)[::-1][:2]].T
    if top.shape[0] < 2:
        top = np.vstack([top, np.zeros_like(top)])
    signs = np.sign(top[np.arange(2), np.abs(top).argmax(1)])
    top = top * np.where(signs == 0, 1.0, signs)[:, None]
    return Projection(mean.astype(np.float32), top.astype(np.float32))
