"""The columnar all-pairs path of `duplicates` gives the answers of the object path it
replaced: stacks read straight from the rows equal those made from decoded images, the
sorted-array multi-index hash answers as faiss's, centroid assignment as faiss's flat search,
exact copies pair as the identity lookups did, and the cluster-by-cluster search finds every
probed neighbour."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import faiss
import numpy as np
import pytest

from neardup.engines.local import LocalEngine
from neardup.features.thumbnail import _ORBITS, OrbitThumbs
from neardup.index.catalog import ImageIndex
from neardup.index.cluster_search import cluster_blocks
from neardup.index.exact import ExactIndex
from neardup.index.ivf import IVFIndex, nearest_centroids
from neardup.index.lazy import Followed
from neardup.index.neighbours import identity_pairs
from neardup.index.storage import Settings
from neardup.index.stored_search import stored_stacks
from neardup.index.subhash import SubHashIndex
from neardup.method_scores import prepare_stacks
from neardup.records import Features

MODEL = "sscd_distilled"
METHODS = ("exact", "pdq", "phash", MODEL)


def unit(x: np.ndarray) -> np.ndarray:
    return (x / np.linalg.norm(x, axis=-1, keepdims=True)).astype(np.float32)


def _images(n: int, seed: int = 3) -> list[Features]:
    """Synthetic images with every kind of feature, some missing, some shared hashes."""
    rng = np.random.default_rng(seed)
    out = []
    for i in range(n):
        f = Features(
            path=f"/x/{i}.jpg",
            size=1000 + i,
            mtime_ns=i,
            width=int(rng.integers(50, 900)),
            height=int(rng.integers(50, 900)),
            format="JPEG",
            bytes_hash=f"b{i // 3 if i % 7 == 0 else i}",  # some byte-identical files
            pixel_hash=None if i % 2 else f"p{i % 5}",
            jpeg_hash=f"j{i}",
            trimmed=(1, 2, 3, 4) if i % 4 == 0 else None,
            thumb=rng.integers(0, 256, (4, 4, 3), dtype=np.uint8),
            small=None if i % 9 == 0 else rng.integers(0, 256, (32, 32), dtype=np.uint8),
            pdq=None if i % 11 == 0 else rng.integers(0, 256, (8, 32), dtype=np.uint8),
            pdq_quality=int(rng.integers(0, 101)),
        )
        if i % 5:
            f.hashes["phash"] = rng.integers(0, 256, 8, dtype=np.uint8)
        f.embeddings[MODEL] = unit(rng.normal(size=16))
        if i % 3 == 0:
            f.embeddings_flip[MODEL] = unit(rng.normal(size=16))
        out.append(f)
    return out


def test_stacks_read_from_rows_equal_those_of_decoded_images(tmp_path: Path) -> None:
    images = _images(60)
    settings = Settings(methods=METHODS, model=MODEL)
    index = ImageIndex.create(tmp_path / "idx", settings)
    index.take(images[:35], store=True, engine=LocalEngine(1), match_batch=False)
    index.take(images[35:], store=True, engine=LocalEngine(1), match_batch=False)
    index.remove(["/x/7.jpg", "/x/40.jpg"])
    index.close()
    index = ImageIndex.open(tmp_path / "idx")
    from_rows = stored_stacks(index)
    decoded = list(index.images)
    assert index.images.decoded == len(decoded)  # the rows were decoded here only
    vectors = from_rows[MODEL]
    from_objects = prepare_stacks(decoded, METHODS, {MODEL: vectors})
    assert set(from_rows) == set(from_objects)
    for key, (values, present) in from_objects.items():
        got, got_present = from_rows[key]
        assert np.array_equal(got_present, present), key
        assert got.dtype == values.dtype, key
        if key.startswith("id:"):  # numbered in the same order: the same numbers
            assert np.array_equal(got, values), key
        else:
            assert np.array_equal(got[present], values[present]), key


def test_stacks_of_an_index_without_rows_are_empty(tmp_path: Path) -> None:
    index = ImageIndex.create(tmp_path / "idx", Settings(methods=METHODS, model=MODEL))
    stacks = stored_stacks(index)
    assert len(stacks["pdq"][0]) == 0 and len(stacks["facts"][0]) == 0


def test_identity_pairs_join_each_image_to_the_first_with_its_hash() -> None:
    images = _images(40)
    stacks = prepare_stacks(images, METHODS)
    found = {(int(a), int(b)) for x, y in identity_pairs(stacks) for a, b in zip(x, y, strict=True)}
    truth = set()
    for key in ("bytes_hash", "pixel_hash", "jpeg_hash"):
        first: dict[str, int] = {}
        for n, f in enumerate(images):
            value = getattr(f, key)
            if value is not None:
                truth.add((n, first.setdefault(value, n)))
    assert found == truth


def test_sorted_multi_hash_answers_as_faiss() -> None:
    rng = np.random.default_rng(3)
    codes = rng.integers(0, 256, (3000, 32), dtype=np.uint8)
    codes[100:150] = codes[:50]  # identical codes
    for i in range(150, 600):  # near copies, 1..60 bits flipped
        bits = rng.choice(256, int(rng.integers(1, 60)), replace=False)
        codes[i] = codes[i - 150] ^ np.packbits(np.isin(np.arange(256), bits).astype(np.uint8))
    queries = codes[rng.permutation(len(codes))[:800]].copy()
    queries[:300] ^= rng.integers(0, 2, (300, 32), dtype=np.uint8)
    faiss_index = faiss.IndexBinaryMultiHash(256, 8, 32)
    faiss_index.add(codes)
    lims, _, found = faiss_index.range_search(queries, 40)
    owners = np.repeat(np.arange(len(queries)), np.diff(lims).astype(np.int64))
    truth = set(zip(owners.tolist(), found.tolist(), strict=True))
    index = SubHashIndex()
    index.add(codes[:1000])
    index.add(codes[1000:])
    q, s = index.range_search(queries, 40)
    assert len(truth) > 500
    assert len(q) == len(truth)  # each pair once
    assert set(zip(q.tolist(), s.tolist(), strict=True)) == truth
    assert len(index) == len(codes)
    empty = SubHashIndex()
    assert [len(x) for x in empty.range_search(queries, 40)] == [0, 0]


def test_nearest_centroids_are_faiss_flat_search_answers() -> None:
    rng = np.random.default_rng(5)
    centroids = unit(rng.normal(size=(50, 24)))
    vectors = unit(rng.normal(size=(700, 24)))
    flat = faiss.IndexFlatIP(24)
    flat.add(centroids)
    for k in (1, 4, 12):
        _, truth = flat.search(vectors, k)
        assert np.array_equal(nearest_centroids(centroids, vectors, k), truth)
    ivf = IVFIndex(centroids, nprobe=3)
    assert np.array_equal(ivf.assign(vectors, 3), flat.search(vectors, 3)[1])


def test_orbit_layout_sums_equal_float_sums() -> None:
    rng = np.random.default_rng(2)
    thumbs = rng.integers(0, 256, (9, 32, 32), dtype=np.uint8)
    thumbs[0], thumbs[1] = 255, 0
    laid = OrbitThumbs.of(thumbs)
    flat = thumbs.reshape(len(thumbs), -1)
    centre = np.round(flat.mean(axis=1))
    shifted = flat - centre[:, None]
    assert np.array_equal(laid.orbits, flat[:, _ORBITS]) and laid.orbits.flags.c_contiguous
    assert np.array_equal(laid.centre, centre.astype(np.float32))
    assert np.array_equal(laid.total, shifted.sum(axis=1))
    assert np.array_equal(laid.square, (shifted * shifted).sum(axis=1))


def test_cluster_blocks_find_every_probed_neighbour(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every probed member above the floor (the bound on each image's neighbours raised past
    them), or each image's nearest `MAX_NEIGHBOURS` of them in each cluster."""
    from neardup.index import nearest

    monkeypatch.setattr(nearest, "MAX_NEIGHBOURS", 10_000)
    rng = np.random.default_rng(7)
    centres = unit(rng.normal(size=(10, 16)))
    vectors = unit(centres[rng.integers(0, 10, 300)] + 0.5 * rng.normal(size=(300, 16)))
    flips = np.arange(0, 300, 4, dtype=np.int64)
    mirrored = unit(vectors[flips][:, ::-1].copy())
    coarse = IVFIndex(centres, nprobe=3)
    home = coarse.assign(vectors)[:, 0]
    truth = set()
    views = [(i, vectors[i]) for i in range(300)] + list(zip(flips.tolist(), mirrored, strict=True))
    for i, view in views:
        probed = coarse.assign(view[None], 3)[0]
        for j in np.flatnonzero(np.isin(home, probed)):
            if j != i and float(view @ vectors[j]) >= 0.3:
                truth.add((i, int(j)))
    found = {
        (int(a), int(b))
        for x, y in cluster_blocks(coarse, vectors, home, flips, mirrored)
        for a, b in zip(x, y, strict=True)
    }
    assert len(truth) > 1000
    assert found == truth
    monkeypatch.setattr(nearest, "MAX_NEIGHBOURS", 3)
    bounded = [
        (int(a), int(b), int(home[b]))
        for x, y in cluster_blocks(coarse, vectors, home, flips, mirrored)
        for a, b in zip(x, y, strict=True)
    ]
    per_cluster = np.unique([(a, c) for a, _, c in bounded], axis=0, return_counts=True)[1]
    assert per_cluster.max() == 3 and {(a, b) for a, b, _ in bounded} <= truth


def test_followed_reads_the_head_then_the_tail() -> None:
    images = _images(4)
    extra = [dataclasses.replace(images[0], path="/copy.jpg")]
    both = Followed(images, extra)
    assert len(both) == 5
    assert both[4].path == "/copy.jpg" and both[-1].path == "/copy.jpg"
    assert [f.path for f in both[1:3]] == ["/x/1.jpg", "/x/2.jpg"]
    assert [f.path for f in both][:2] == ["/x/0.jpg", "/x/1.jpg"]


def test_an_inset_view_keeps_its_own_nearest(monkeypatch: pytest.MonkeyPatch) -> None:
    """A screenshot's whole picture is near its many re-encodes; its inset is near the
    picture it shows. Counted with the whole picture's (as a mirrored view's are), the
    inset's match fell out of the image's nearest `MAX_NEIGHBOURS` (a reviewer's 40 copies
    of a phone screenshot: the photograph in no group); counted apart, it stays."""
    from neardup.index import nearest

    monkeypatch.setattr(nearest, "MAX_NEIGHBOURS", 3)
    rng = np.random.default_rng(5)
    picture = unit(rng.normal(size=(1, 16)))[0]
    frame = unit(rng.normal(size=(1, 16)))[0]
    shots = unit(frame + 0.05 * rng.normal(size=(6, 16)))  # 6 copies of one screenshot
    vectors = np.vstack([picture[None], shots]).astype(np.float32)
    insets = np.arange(1, 7, dtype=np.int64)
    inset_vectors = unit(picture + 0.1 * rng.normal(size=(6, 16))).astype(np.float32)
    coarse = ExactIndex(16)
    home = np.zeros(len(vectors), dtype=np.int64)
    apart = insets + len(vectors)
    found = {
        (int(a), int(b))
        for x, y in cluster_blocks(coarse, vectors, home, insets, inset_vectors, apart)
        for a, b in zip(x, y, strict=True)
    }
    assert {(i, 0) for i in range(1, 7)} <= found
    pooled = {
        (int(a), int(b))
        for x, y in cluster_blocks(coarse, vectors, home, insets, inset_vectors)
        for a, b in zip(x, y, strict=True)
    }
    assert not {(i, 0) for i in range(1, 7)} & pooled  # what happened before
