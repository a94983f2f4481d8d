"""The numpy spherical k-means: unit centroids, deterministic for a seed, separated clusters
found, empty clusters refilled, and a fit about as good as faiss's on the same sample."""

from __future__ import annotations

import faiss
import numpy as np

from neardup.index.kmeans import spherical_kmeans


def unit(x: np.ndarray) -> np.ndarray:
    return (x / np.linalg.norm(x, axis=-1, keepdims=True)).astype(np.float32)


def _sample(n: int, centres: int, spread: float, seed: int = 1) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    middle = unit(rng.normal(size=(centres, 32)))
    labels = rng.integers(0, centres, n)
    return unit(middle[labels] + spread * rng.normal(size=(n, 32))), labels


def test_separated_clusters_are_found_and_centroids_are_unit() -> None:
    points, labels = _sample(2000, 8, 0.05)
    centroids = spherical_kmeans(points, 8, iterations=12, seed=3)
    assert centroids.shape == (8, 32) and centroids.dtype == np.float32
    assert np.allclose(np.linalg.norm(centroids, axis=1), 1.0, atol=1e-5)
    # Lloyd's iterations from random points may merge two clusters and split another (faiss's
    # too, about as often): of a few seeds, the best fit finds every cluster.
    best = max(
        (spherical_kmeans(points, 8, iterations=12, seed=seed) for seed in range(5)),
        key=lambda c: float((points @ c.T).max(axis=1).mean()),
    )
    owner = (points @ best.T).argmax(axis=1)
    assert all(len(np.unique(owner[labels == label])) == 1 for label in range(8))
    again = spherical_kmeans(points, 8, iterations=12, seed=3)
    assert np.array_equal(centroids, again)


def test_empty_clusters_take_half_of_a_large_one() -> None:
    points = np.repeat(unit(np.eye(4, 32, dtype=np.float32) + 0.01), 50, axis=0)
    centroids = spherical_kmeans(points, 6, iterations=5, seed=0)  # 4 distinct points, 6 asked
    assert np.isfinite(centroids).all()
    assert np.allclose(np.linalg.norm(centroids, axis=1), 1.0, atol=1e-5)


def test_fit_is_as_good_as_faiss() -> None:
    points, _ = _sample(6000, 150, 0.6)
    ours = spherical_kmeans(points, 60, iterations=12, seed=1234)
    theirs = faiss.Kmeans(32, 60, niter=12, seed=1234, spherical=True, verbose=False)
    theirs.cp.min_points_per_centroid = 1
    theirs.train(points)
    fit = float((points @ ours.T).max(axis=1).mean())
    faiss_fit = float((points @ theirs.centroids.T).max(axis=1).mean())
    assert fit >= faiss_fit - 0.01


def test_a_large_sample_is_subsampled() -> None:
    points, _ = _sample(3000, 20, 0.3)
    centroids = spherical_kmeans(points, 10, iterations=3, seed=0, max_points_per_centroid=20)
    assert centroids.shape == (10, 32)
