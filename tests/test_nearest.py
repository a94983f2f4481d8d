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

COPIES = 40


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
    members = {m for g in bounded.groups for m in (g.keeper, *g.members)}
    assert len(members) == COPIES  # every copy is still grouped


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
