"""Each image's candidates are bounded (`neardup.index.nearest`): many copies of one picture
bring pairs in proportion to the copies, not their square, and still form one group."""

from __future__ import annotations

import io
import shutil
from pathlib import Path

import numpy as np
import pytest

import neardup
from neardup.index import nearest
from neardup.index.nearest import nearest_per_query
from neardup.output.json import to_dict
from neardup.scoring import score_pair

COPIES = 40
GROUPS_AT_3 = 1
"""Groups of the 40 copies with a bound of 3: four stars, one after step 6 (measured; two
while a smaller copy could be a star's keeper: `keeper_rank.same_frame` keeps the larger)."""


def test_nearest_per_query_keeps_the_closest_of_each_query() -> None:
    queries = np.array([0, 0, 0, 1, 1, 2, 0])
    closeness = np.array([0.5, 0.9, 0.7, 0.1, 0.2, 1.0, 0.9])
    assert nearest_per_query(queries, closeness, 2).tolist() == [1, 3, 4, 5, 6]
    assert nearest_per_query(queries, closeness, 3).tolist() == [1, 2, 3, 4, 5, 6]
    assert nearest_per_query(queries, -np.array([5, 1, 3, 0, 0, 0, 2]), 1).tolist() == [1, 3, 5]


@pytest.fixture(scope="module")
def copies(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """COPIES re-encodes of one photo (other sizes and JPEG qualities: no two alike)."""
    from conftest import make_photo

    folder = tmp_path_factory.mktemp("copies")
    photo = make_photo("astronaut").convert("RGB")
    for i in range(COPIES):
        side = 160 + 2 * i
        buffer = io.BytesIO()
        photo.resize((side, side)).save(buffer, "JPEG", quality=60 + i % 35)
        (folder / f"c{i:02d}.jpg").write_bytes(buffer.getvalue())
    return folder


def _scan(folder: Path) -> neardup.ScanResult:
    return neardup.scan([folder], cache=False, workers=1)


def test_copies_of_one_picture_bring_pairs_in_proportion(
    copies: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(nearest, "MAX_NEIGHBOURS", 1000)
    every = _scan(copies)
    assert every.stats.candidates == COPIES * (COPIES - 1) // 2
    monkeypatch.setattr(nearest, "MAX_NEIGHBOURS", 3)
    bounded = _scan(copies)
    # Each image's nearest 3 by embedding and by hash (itself aside): at most 6 pairs each.
    assert bounded.stats.candidates <= COPIES * 3 * 2
    members = {i for g in bounded.groups for i in (g.keeper, *(m for m, _ in g.members))}
    assert len(members) == COPIES  # every copy is still grouped
    # Step 6 of the grouping joins the stars of one picture (four without it).
    assert len(bounded.groups) == GROUPS_AT_3
    to_dict(bounded)  # every member's pair is listed, the keeper pairs step 6 scored too
    methods = tuple(bounded.settings["methods"])
    for pair in bounded.pairs:  # positions mapped back from the scored sub-list
        again = score_pair(bounded.images[pair.a], bounded.images[pair.b], methods)
        assert again.scores["pdq"] == pytest.approx(pair.scores["pdq"], abs=1e-6)
        assert again.scores["sscd_distilled"] == pytest.approx(
            pair.scores["sscd_distilled"], abs=1e-6
        )


def test_byte_copies_bring_pairs_in_proportion(
    copies: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for i in range(COPIES):
        shutil.copy(copies / "c00.jpg", tmp_path / f"same{i:02d}.jpg")
    monkeypatch.setattr(nearest, "MAX_NEIGHBOURS", 1000)
    assert len(_scan(tmp_path).pairs) == COPIES * (COPIES - 1) // 2
    monkeypatch.setattr(nearest, "MAX_NEIGHBOURS", 3)
    bounded = _scan(tmp_path)
    assert len(bounded.pairs) <= COPIES * 3
    assert [1 + len(g.members) for g in bounded.groups] == [COPIES]


@pytest.mark.parametrize("multi", [False, True])
@pytest.mark.parametrize("queries", [2, 100])  # a few queries scan, many use the multi-index
def test_hash_search_keeps_the_nearest_of_each_query(
    multi: bool, queries: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    from neardup.index.hash_search import HashSearch

    monkeypatch.setattr(nearest, "MAX_NEIGHBOURS", 3)
    rng = np.random.default_rng(0)
    base = rng.integers(0, 256, 32, dtype=np.uint8)
    codes = np.repeat(base[None], 60, axis=0)
    codes[:, 0] ^= np.arange(60, dtype=np.uint8) % 4  # 0-2 bits from the base, 15 each
    search = HashSearch("pdq", multi=multi)
    search.add_codes(codes, np.arange(60, dtype=np.int64))
    views = np.stack([codes[:queries], codes[:queries, ::-1]], axis=1)  # two views each
    owners, found = (
        np.concatenate(x)
        for x in zip(
            *search.near_views(np.arange(queries, dtype=np.int64), views, range(60)), strict=True
        )
    )
    per_query = np.bincount(owners, minlength=queries)
    assert per_query.max() == 4  # the nearest 3 and the query itself
    distance = np.bitwise_count(codes[owners, 0] ^ codes[found, 0])
    assert distance.max() == 0  # the nearest are the 15 codes at distance 0


def test_vector_widening_stops_at_the_bound(monkeypatch: pytest.MonkeyPatch) -> None:
    from neardup.index.base import neighbour_blocks
    from neardup.index.exact import ExactIndex

    monkeypatch.setattr(nearest, "MAX_NEIGHBOURS", 5)
    vectors = np.tile(np.eye(8, dtype=np.float32)[:1], (200, 1))
    index = ExactIndex(8)
    index.add(vectors, np.arange(200, dtype=np.int64))
    owners = np.concatenate(
        [a for a, _, _ in neighbour_blocks(index, vectors[:10], k=2, min_similarity=0.3)]
    )
    # The nearest 5 + 1 searched (the query itself among them when it ties first).
    assert set(np.bincount(owners).tolist()) <= {5, 6}


@pytest.mark.parametrize("multi", [False, True])
def test_hash_search_with_nothing_near(multi: bool) -> None:
    """A batch of queries none of whose views is near a stored hash (as when `index add`
    brings only new pictures) gives no pairs, and does not fail."""
    from neardup.index.hash_search import HashSearch

    rng = np.random.default_rng(1)
    search = HashSearch("pdq", multi=multi)
    search.add_codes(rng.integers(0, 256, (5, 32), dtype=np.uint8), np.arange(5, dtype=np.int64))
    far = np.zeros((2, 2, 32), dtype=np.uint8)  # two queries, two views, all bits 0
    far[1] = 255
    found = list(search.near_views(np.arange(2, dtype=np.int64), far, range(5)))
    assert sum(len(a) for a, _ in found) == 0


def test_a_close_code_cut_from_a_crowded_word_is_still_found(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The multi-index reads a bounded number of codes per shared 32-bit word. A close code
    cut from a crowded first word is found through its second; the scan of every code (few
    queries) answers the same, each pair once."""
    from neardup.index.hash_search import BUCKET, HashSearch
    from neardup.index.subhash import SubHashIndex

    monkeypatch.setattr(nearest, "MAX_NEIGHBOURS", 2)  # 16 codes read per word
    rng = np.random.default_rng(0)
    query = rng.integers(0, 256, 32, dtype=np.uint8)
    far = rng.integers(0, 256, (40, 32), dtype=np.uint8)
    far[:, :4] = query[:4]  # 40 codes share word 0 with the query, nothing else
    close = query.copy()
    close[31] ^= 1
    codes = np.vstack([far, close[None]])
    index = SubHashIndex()
    index.add(codes)
    _, stored, _ = index.range_search_distances(query[None], 40, BUCKET * 2)
    assert 40 in stored.tolist() and len(set(stored.tolist())) == len(stored)
    scanned, hashed = HashSearch("pdq", multi=True), HashSearch("pdq", multi=True)
    for search in (scanned, hashed):
        search.add_codes(codes, np.arange(41, dtype=np.int64))
    found = [
        {(int(q), int(s)) for qs, ss, _ in hits for q, s in zip(qs, ss, strict=True)}
        for hits in (scanned._multi_scan(query[None]), hashed._multi(query[None]))
    ]
    assert found[0] == found[1] and (0, 40) in found[0]


def test_exact_and_ivf_keep_the_same_number_of_neighbours() -> None:
    """The widening (exact search) and the IVF range search both keep each query's nearest
    `MAX_NEIGHBOURS` + 1, the query itself among them when it is stored."""
    from neardup.index.exact import ExactIndex
    from neardup.index.ivf import IVFIndex, train_centroids
    from neardup.index.neighbours import _owned_neighbours

    rng = np.random.default_rng(0)
    base = rng.standard_normal(64).astype(np.float32)
    copies = base + 0.05 * rng.standard_normal((300, 64)).astype(np.float32)
    data = np.concatenate([copies, rng.standard_normal((2700, 64)).astype(np.float32)])
    data /= np.linalg.norm(data, axis=1, keepdims=True)
    ids = np.arange(3000, dtype=np.int64)
    ivf = IVFIndex(train_centroids(data, 8), nprobe=3)
    ivf.add(data, ids)
    exact = ExactIndex(64)
    exact.add(data, ids)
    for index in (exact, ivf):
        blocks = list(_owned_neighbours(index, data[:10], np.arange(10, dtype=np.int64)))
        owners = np.concatenate([a for a, _ in blocks])
        found = np.concatenate([b for _, b in blocks])
        others = owners != found
        assert np.bincount(owners[others], minlength=10).tolist() == [nearest.MAX_NEIGHBOURS] * 10


def test_byte_copies_inherit_only_their_images_strongest_matches(
    copies: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Byte copies of an image that many re-encodes match: each copy is listed with its image,
    a few other copies and its image's strongest matches, not all of them."""
    for path in copies.iterdir():
        shutil.copy(path, tmp_path / path.name)
    for i in range(20):
        shutil.copy(copies / "c20.jpg", tmp_path / f"same{i:02d}.jpg")
    monkeypatch.setattr(nearest, "MAX_NEIGHBOURS", 3)
    result = _scan(tmp_path)
    paths = [f.path for f in result.images]
    aliases = {n for n, p in enumerate(paths) if Path(p).name.startswith("same")}
    listed = [p for p in result.pairs if p.a in aliases or p.b in aliases]
    # Each copy of c20.jpg brings its image, 2 earlier copies and 3 inherited matches.
    assert len(aliases) == 20 and 20 <= len(listed) <= 20 * 6
