"""The index's vector search cluster by cluster (an engine stage) finds the same neighbours
as one IVF search over the whole index: every probed member above the floor, for each
image's vector and its mirrored view."""

from __future__ import annotations

import numpy as np

from neardup.engines.local import LocalEngine
from neardup.index.cluster_search import cluster_tasks, engine_blocks
from neardup.index.ivf import IVFIndex
from neardup.index.neighbours import FLOOR, vector_neighbours
from neardup.records import Features

MODEL = "sscd_distilled"


def unit(x: np.ndarray) -> np.ndarray:
    return (x / np.linalg.norm(x, axis=-1, keepdims=True)).astype(np.float32)


def test_cluster_by_cluster_equals_one_ivf_search() -> None:
    rng = np.random.default_rng(7)
    dim, n = 32, 400
    centres = unit(rng.normal(size=(12, dim)))
    vectors = unit(centres[rng.integers(0, 12, n)] + 0.6 * rng.normal(size=(n, dim)))
    images = []
    for i, v in enumerate(vectors):
        f = Features(f"{i}.png", 1, 1, 8, 8, "PNG", str(i), None)
        f.embeddings[MODEL] = v
        if i % 3 == 0:  # some images also have a mirrored view
            f.embeddings_flip[MODEL] = unit(v[::-1].copy())
        images.append(f)
    ivf = IVFIndex(centres, nprobe=3)
    home = ivf.assign(vectors)[:, 0]
    ids = np.arange(n, dtype=np.int64)  # ids = positions, so both searches skip only self
    ivf.add(vectors, ids, clusters=home)

    # The truth, by brute force: each view against every member of its probed clusters.
    truth = set()
    for i, f in enumerate(images):
        for view in [f.embeddings[MODEL], *f.embeddings_flip.values()]:
            probed = ivf.assign(view[None], 3)[0]
            for j in np.flatnonzero(np.isin(home, probed)):
                if j != i and float(view @ vectors[j]) >= FLOOR:
                    truth.add((i, int(j)))
    flips = np.array([i for i, f in enumerate(images) if f.embeddings_flip], dtype=np.int64)
    mirrored = np.stack([images[i].embeddings_flip[MODEL] for i in flips]).astype(np.float32)
    tasks = cluster_tasks(ivf, vectors, home, flips, mirrored)
    blocks = engine_blocks(tasks, LocalEngine(1))
    found = {(int(x), int(y)) for a, b in blocks for x, y in zip(a, b, strict=True)}
    assert len(truth) > 1000
    assert found == truth
    # One IVF search over the whole index finds the same, except that it compares a query's
    # number in its batch with the found id to skip "self", so a mirrored view whose number
    # among the mirrored views equals a neighbour's id loses that neighbour.
    ivf_search = {(q, int(r)) for q, r in vector_neighbours(ivf, images, MODEL) if q != r}
    assert ivf_search <= truth
    assert all(flips.tolist().index(q) == r for q, r in truth - ivf_search)


def test_a_query_finds_the_stored_row_whose_id_equals_its_position() -> None:
    """A new image at batch position q must still get stored row q as a candidate (query ids
    are never confused with stored ids)."""
    from neardup.index.exact import ExactIndex
    from neardup.index.neighbours import vector_neighbours
    from neardup.records import Features

    rng = np.random.default_rng(5)
    stored = rng.standard_normal((3, 16)).astype(np.float32)
    stored /= np.linalg.norm(stored, axis=1, keepdims=True)
    index = ExactIndex(16)
    index.add(stored, np.arange(3, dtype=np.int64))
    queries = []
    for n in range(3):
        f = Features(f"new{n}.jpg", 1, 0, 8, 8, "JPEG", f"b{n}", None)
        f.embeddings["m"] = stored[n]  # a copy of stored row n, at batch position n
        queries.append(f)
    found = set(vector_neighbours(index, queries, "m"))
    assert {(n, n) for n in range(3)} <= found
