"""The IVF index's scale paths: precomputed cluster assignment, probes reused for all-pairs,
id-map removal, two-level k-means and 8-bit codes, each checked against the plain paths."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import numpy.typing as npt
import pytest

from neardup.index import FlatIndex, neighbour_pairs
from neardup.index.exact import ExactIndex
from neardup.index.ivf import IVFIndex, train_centroids


def _clustered(n: int, dim: int, centres: int, seed: int = 0) -> npt.NDArray[np.float32]:
    rng = np.random.default_rng(seed)
    middle = rng.standard_normal((centres, dim)).astype(np.float32)
    data = middle[rng.integers(0, centres, n)] + 0.35 * rng.standard_normal((n, dim))
    copies = data[: n // 10] + 0.05 * rng.standard_normal((n // 10, dim))  # near-duplicates
    data = np.concatenate([data, copies]).astype(np.float32)
    return data / np.linalg.norm(data, axis=1, keepdims=True)


def _pairs(triples: object) -> set[tuple[int, int]]:
    return {(min(a, b), max(a, b)) for a, b, _ in triples}  # type: ignore[attr-defined]


@pytest.mark.parametrize("codec", ["flat", "sq8"])
def test_preassigned_add_and_probes_give_the_same_answers(codec: str) -> None:
    data = _clustered(3000, 48, 30)
    centroids = train_centroids(data, 24)
    plain = IVFIndex(centroids, nprobe=3, codec=codec, sq_sample=data)
    plain.add(data)
    fast = IVFIndex(centroids, nprobe=3, codec=codec, sq_sample=data)
    probes = fast.assign(data, 3)
    fast.add(data, clusters=probes[:, 0])
    assert np.array_equal(plain.cluster_sizes(), fast.cluster_sizes())
    a_sims, a_ids = plain.search(data[:200], 5)
    b_sims, b_ids = fast.search(data[:200], 5, probes[:200])
    assert np.array_equal(a_ids, b_ids) and np.allclose(a_sims, b_sims, atol=1e-5)
    slow = _pairs(neighbour_pairs(plain, data, k=8, min_similarity=0.9))
    quick = _pairs(neighbour_pairs(fast, data, k=8, min_similarity=0.9, probes=probes, chunk=500))
    assert slow == quick and len(slow) >= 300
    with pytest.raises(ValueError):
        fast.add(data[:2], np.array([10**6, 10**6 + 1]), clusters=np.array([0, 24]))


def test_all_pairs_with_probes_matches_exact_search() -> None:
    data = _clustered(4000, 32, 40, seed=1)
    exact = FlatIndex(32)
    exact.add(data)
    truth = _pairs(neighbour_pairs(exact, data, k=8, min_similarity=0.9))
    index = IVFIndex(train_centroids(data, 32), nprobe=4)
    probes = index.assign(data, 4)
    index.add(data, clusters=probes[:, 0])
    found = _pairs(neighbour_pairs(index, data, k=8, min_similarity=0.9, probes=probes))
    assert len(truth) >= 400 and len(found & truth) >= 0.99 * len(truth) and found <= truth


def test_remove_uses_the_id_map_and_ignores_unknown_ids(tmp_path: Path) -> None:
    data = _clustered(2000, 32, 20, seed=2)
    index = IVFIndex(train_centroids(data, 16), nprobe=16)
    ids = np.arange(len(data), dtype=np.int64) * 7 + 3  # sparse ids
    index.add(data, ids)
    assert index.remove(np.array([ids[0], ids[1], 5, ids[0]])) == 2  # 5 was never added
    assert index.remove(np.array([], dtype=np.int64)) == 0 and len(index) == len(data) - 2
    index.save(tmp_path / "ivf")
    loaded = IVFIndex.load(tmp_path / "ivf")
    assert loaded.remove(ids[2:4]) == 2 and len(loaded) == len(data) - 4
    _, found = loaded.search(data[:4], 1)
    assert not np.isin(found, ids[:4]).any()


def test_two_level_kmeans_gives_unit_centroids_that_split_the_data() -> None:
    data = _clustered(30000, 16, 200, seed=3)
    centroids = train_centroids(data, 8192)
    assert centroids.shape == (8192, 16)
    assert np.allclose(np.linalg.norm(centroids, axis=1), 1.0, atol=1e-4)
    index = IVFIndex(centroids, nprobe=1)
    index.add(data)
    sizes = index.cluster_sizes()
    assert sizes.sum() == len(data) and (sizes > 0).mean() > 0.8 and sizes.max() < 60


def test_sq8_similarities_stay_close_to_exact() -> None:
    data = _clustered(3000, 64, 30, seed=4)
    index = IVFIndex(train_centroids(data, 24), nprobe=24, codec="sq8", sq_sample=data)
    index.add(data)
    sims, ids = index.search(data[:300], 5)
    exact = np.einsum("qd,qkd->qk", data[:300], data[ids])
    assert np.abs(sims - exact).max() < 0.01


@pytest.mark.parametrize("kind", ["ivf", "exact"])
def test_both_vector_indexes_keep_the_same_contract(kind: str, tmp_path: Path) -> None:
    """IVFIndex and ExactIndex: ids, search order, removal, atomic save and load."""
    data = _clustered(1500, 24, 12, seed=5)
    ids = np.arange(len(data), dtype=np.int64) + 1000
    index: IVFIndex | ExactIndex
    if kind == "ivf":
        index = IVFIndex(train_centroids(data, 12), nprobe=12)  # every cluster: exact answers
        path = tmp_path / "index.faiss"
    else:
        index = ExactIndex(24)
        path = tmp_path / "index.npz"
    index.add(data[:1000], ids[:1000], clusters=index.assign(data[:1000])[:, 0])
    index.add(data[1000:], ids[1000:])
    assert len(index) == len(data) and index.cluster_sizes().sum() == len(data)
    sims, found = index.search(data[:40], 6)
    assert (found[:, 0] == ids[:40]).all() and (np.diff(sims, axis=1) <= 1e-6).all()
    reference = FlatIndex(24)
    reference.add(data)
    ref_sims, ref_found = reference.search(data[:40], 6)
    assert np.allclose(sims, ref_sims, atol=1e-5) and np.array_equal(found, ids[ref_found])
    assert index.remove(ids[:5]) == 5 and index.remove(ids[:5]) == 0
    index.save(path)
    loaded = IVFIndex.load(path) if kind == "ivf" else ExactIndex.load(path)
    assert len(loaded) == len(data) - 5 and not list(tmp_path.glob("*.tmp"))
    assert np.array_equal(loaded.search(data[5:9], 3)[1], index.search(data[5:9], 3)[1])
    empty = ExactIndex(24) if kind == "exact" else IVFIndex(train_centroids(data, 4))
    assert (empty.search(data[:2], 3)[1] == -1).all()


@pytest.mark.parametrize("codec", ["flat", "sq8"])
def test_range_search_finds_what_widened_knn_finds(
    codec: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Many neighbours above the floor, so k-NN has to widen (k 8 -> 32 -> 128 ...), the
    # bound on each image's neighbours raised past them.
    from neardup.index import nearest

    monkeypatch.setattr(nearest, "MAX_NEIGHBOURS", 10_000)
    data = _clustered(4000, 48, 12, seed=3)
    centroids = train_centroids(data, 16)
    index = IVFIndex(centroids, nprobe=3, codec=codec, sq_sample=data)
    index.add(data)
    floor = 0.3
    ranged = list(neighbour_pairs(index, data, k=8, min_similarity=floor))
    widened = list(
        neighbour_pairs(index, data, k=8, min_similarity=floor, probes=index.assign(data, 3))
    )
    if codec == "flat":
        assert sorted(ranged) == sorted(widened)
    else:  # 8-bit residual codes: the preassigned path adds <query, centroid> itself
        near = {(a, b) for a, b, s in widened if s > floor + 1e-4}
        assert near <= {(a, b) for a, b, _ in ranged}
    assert len(ranged) > 40 * len(data)  # far past k: the widening was exercised
