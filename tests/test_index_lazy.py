"""Opening an index reads no image row: the lazy paths (mapped vectors of a few clusters, a
hash scan instead of the multi-index, rows decoded where they are candidates) give exactly
the answers of a fully loaded index, and a write killed between the column files and the
commit leaves the index as it was."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest
from PIL import Image

from neardup.examples import EDITS, bundled_photo
from neardup.index import handle, hash_search, storing
from neardup.index.catalog import ImageIndex
from neardup.index.hash_search import PDQ_MULTI_RADIUS, HashSearch
from neardup.index.ivf import CLUSTER_SIZE, DEFAULT_NPROBE, IVFIndex, train_centroids
from neardup.index.lazy import ProbedVectors, hash_codes
from neardup.index.neighbours import pairs_of
from neardup.index.report import IndexReport

PHOTOS = ["astronaut.png", "chelsea.png", "coffee.png", "rocket.jpg", "camera.png", "coins.png"]
KINDS = ["small", "crop", "mirror", "grey", "warm"]


@pytest.fixture(scope="module")
def photos(tmp_path_factory: pytest.TempPathFactory) -> tuple[list[str], list[str]]:
    """Originals and 4 edits of 6 photos to index; the fifth edit of each to query with."""
    folder = tmp_path_factory.mktemp("photos")
    stored: list[str] = []
    asked: list[str] = []
    for name in PHOTOS:
        image = bundled_photo("skimage", name)
        assert image is not None
        image.thumbnail((256, 256))
        stem = Path(name).stem
        image.save(folder / f"{stem}.jpg", quality=92)
        stored.append(str(folder / f"{stem}.jpg"))
        for kind in KINDS:
            path = folder / f"{stem}_{kind}.jpg"
            EDITS[kind](image).save(path, quality=85)
            (asked if kind == "warm" else stored).append(str(path))
    return stored, asked


def _answers(report: IndexReport) -> dict[str, list[tuple[str, float]]]:
    return {
        e.path: sorted((m.path, round(m.confidence, 6)) for m in e.duplicates)
        for e in report.entries
    }


def _pairs(index: ImageIndex) -> set[tuple[str, str, float]]:
    result = index.duplicates(workers=1)
    return {(result.path(p.a), result.path(p.b), round(p.confidence, 6)) for p in result.pairs}


@pytest.mark.parametrize("large", [False, True], ids=["exact-search", "ivf-and-multi-hash"])
def test_lazy_open_answers_as_a_fully_loaded_index(
    tmp_path: Path,
    photos: tuple[list[str], list[str]],
    monkeypatch: pytest.MonkeyPatch,
    large: bool,
) -> None:
    stored, asked = photos
    if large:  # past the crossover: IVF clusters, PDQ in the multi-index hash
        for module in (handle, storing):  # opening picks the hash search, storing the clusters
            monkeypatch.setattr(module, "EXACT_BELOW", 8)
    size, nprobe = (4, 2) if large else (CLUSTER_SIZE, DEFAULT_NPROBE)
    built, _ = ImageIndex.build(
        tmp_path / "idx", stored, cache=False, workers=1, cluster_size=size, nprobe=nprobe
    )
    built.close()

    lazy = ImageIndex.open(tmp_path / "idx")
    assert lazy.images.decoded == 0 and lazy._ivf is None  # nothing read up front
    assert lazy.search.large is large
    one = _answers(lazy.query(asked[:1], cache=False, workers=1))
    assert 0 < lazy.images.decoded < len(stored)  # only its candidates were read
    lazy_query = _answers(lazy.query(asked, cache=False, workers=1))
    assert lazy._ivf is None  # six queries: searched in the mapped clusters

    # The same index loaded whole, as before: every row decoded, the vector index and the
    # multi-index hash built, the loaded paths taken for any number of queries.
    monkeypatch.setattr(handle, "FEW_QUERIES", 0)
    monkeypatch.setattr(hash_search, "FEW_QUERIES", 0)
    loaded = ImageIndex.open(tmp_path / "idx")
    assert len(list(loaded.images)) == len(stored) and loaded.ivf is not None
    assert loaded.ivf.nlist > 1 if large else loaded.ivf.nlist == 1
    assert _answers(loaded.query(asked[:1], cache=False, workers=1)) == one
    assert _answers(loaded.query(asked, cache=False, workers=1)) == lazy_query
    assert sum(len(found) for found in lazy_query.values()) >= len(asked)
    assert _pairs(lazy) == _pairs(loaded)
    lazy.close()
    loaded.close()


def test_mapped_vector_search_is_the_ivf_search() -> None:
    rng = np.random.default_rng(3)
    vectors = rng.standard_normal((2000, 32)).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    centroids = train_centroids(vectors, 20)
    ivf = IVFIndex(centroids, nprobe=3)
    clusters = ivf.assign(vectors)[:, 0]
    alive = rng.random(2000) > 0.1  # some removed
    ids = np.flatnonzero(alive)
    ivf.add(vectors[ids], ids, clusters=clusters[ids])
    probed = ProbedVectors(centroids, 3, vectors, clusters.astype(np.int32), alive)
    queries = vectors[:50] + 0.1 * rng.standard_normal((50, 32)).astype(np.float32)
    want_sims, want_ids = ivf.search(queries, 10)
    sims, found = probed.search(queries, 10)
    assert len(probed) == len(ivf) == alive.sum()
    np.testing.assert_array_equal(found, want_ids)
    np.testing.assert_allclose(sims, want_sims, rtol=1e-5, atol=1e-5)


def test_hash_scan_finds_what_the_multi_index_finds() -> None:
    rng = np.random.default_rng(4)
    codes = rng.integers(0, 256, (5000, 32), dtype=np.uint8)
    near = codes[:40].copy()
    for row, bits in zip(near, rng.integers(1, PDQ_MULTI_RADIUS + 10, 40), strict=True):
        flips = rng.choice(256, int(bits), replace=False)
        row ^= np.packbits(np.isin(np.arange(256), flips).astype(np.uint8))
    scanned, hashed = HashSearch("pdq", multi=True), HashSearch("pdq", multi=True)
    for search in (scanned, hashed):
        search.add_codes(codes[:2500], np.arange(2500))
        search.add_codes(codes[2500:], np.arange(2500, 5000))
    hits_scan = set(pairs_of((q, s) for q, s, _ in scanned._multi_scan(near)))
    hits_hash = set(pairs_of((q, s) for q, s, _ in hashed._multi(near)))
    assert hits_scan == hits_hash and len(hits_scan) >= 20


def test_a_write_killed_before_its_commit_leaves_the_index_as_it_was(
    tmp_path: Path, photos: tuple[list[str], list[str]]
) -> None:
    stored, asked = photos
    folder = tmp_path / "idx"
    index, _ = ImageIndex.build(folder, stored[:18], cache=False, workers=1)
    count = index.columns.count
    # What a writer killed after the column files and before the SQLite commit leaves:
    # durable rows past the committed count (here: garbage, so a reader using them fails).
    rows = list(index.images)[:5]
    garbage = np.ones((5, index.columns.dim), dtype=np.float32)
    index.columns.append(garbage, hash_codes(rows, index.settings.methods), np.zeros(5, np.int64))
    index.close()
    assert (folder / "vectors.f32").stat().st_size == (count + 5) * 4 * 512
    with ImageIndex.open(folder) as reopened:
        assert reopened.check() == [] and len(reopened.images) == count == len(stored[:18])
        # The next write cuts the tail off and puts its own rows there.
        report = reopened.add(stored[18:] + asked, cache=False, workers=1)
        assert {e.status for e in report.entries} == {"added"}
        assert reopened.check() == []
    with ImageIndex.open(folder) as again:
        assert len(again.images) == len(stored) + len(asked) == again.columns.count
        vectors = again.columns.vectors()
        assert not np.any(np.all(vectors == 1.0, axis=1))  # no garbage row survived
        # The rows written after the tail was cut are searched by their own vectors.
        warm = next(p for p in asked if p.endswith("astronaut_warm.jpg"))
        original = next(p for p in stored if p.endswith("astronaut.jpg"))
        assert any({a, b} == {warm, original} for a, b, _ in _pairs(again))


def test_a_reader_open_before_rebalances_elsewhere_keeps_answering(
    tmp_path: Path, photos: tuple[list[str], list[str]]
) -> None:
    stored, asked = photos
    folder = tmp_path / "idx"
    writer, _ = ImageIndex.build(folder, stored, cluster_size=4, nprobe=2, cache=False, workers=1)
    reader = ImageIndex.open(folder)
    before = _answers(reader.query(asked, cache=False, workers=1))
    for _ in range(3):  # each writes a new clusters file; the one replaced stays a generation
        writer.rebalance()
    assert sorted(p.name for p in folder.glob("clusters.*")) == ["clusters.2.i32", "clusters.3.i32"]
    assert _answers(reader.query(asked, cache=False, workers=1)) == before
    assert writer.check() == [] and ImageIndex.open(folder).check() == []
    reader.close()
    writer.close()


def test_rows_keep_no_second_copy_of_the_embedding_and_format_2_still_opens(
    tmp_path: Path, photos: tuple[list[str], list[str]]
) -> None:
    import json
    import sqlite3

    from neardup.feature_rows import encode_features
    from neardup.index.storage import FORMAT

    stored, asked = photos
    folder = tmp_path / "idx"
    index, _ = ImageIndex.build(folder, stored[:12], cache=False, workers=1)
    model = index.settings.model
    metas = [json.loads(m) for (m,) in index.db.execute("SELECT meta FROM images")]
    assert metas and all(f"emb:{model}" not in [a[0] for a in m["arrays"]] for m in metas)
    vectors = index.columns.vectors()
    for row_id, image in zip(index.ids.tolist(), index.images, strict=True):
        assert np.array_equal(image.embeddings[model], vectors[row_id])
    assert index.check() == []
    before = _pairs(index)
    index.close()
    # An index written by the previous format: every row holds its embedding too.
    db = sqlite3.connect(folder / "index.sqlite")
    reopened = ImageIndex.open(folder)
    rows = [
        (encode_features(f)[0], encode_features(f)[1], i)
        for f, i in zip(reopened.images, reopened.ids.tolist(), strict=True)
    ]
    reopened.close()
    db.executemany("UPDATE images SET meta=?, data=? WHERE id=?", rows)
    db.execute("UPDATE meta SET value='neardup.index/2' WHERE key='format'")
    db.commit()
    db.close()
    old = ImageIndex.open(folder)
    assert _pairs(old) == before and old.check() == []
    old.close()
    with ImageIndex.open(folder) as grown:
        grown.add(asked[:2], cache=False, workers=1)
    db = sqlite3.connect(folder / "index.sqlite")
    assert db.execute("SELECT value FROM meta WHERE key='format'").fetchone()[0] == FORMAT
    db.close()


def test_scoring_reads_no_stored_row_it_does_not_keep(tmp_path: Path) -> None:
    """`index duplicates` scores from the stacked arrays: no stored row is decoded before a
    pair is kept (a per-image veto once read every row; a reviewer caught it)."""
    import neardup.pipeline as pipeline

    rng = np.random.default_rng(0)
    paths = []
    for n in range(60):  # unrelated noise: no pair is kept
        path = tmp_path / f"{n:03d}.png"
        Image.fromarray(rng.integers(0, 256, (40, 40, 3), dtype=np.uint8)).save(path)
        paths.append(str(path))
    built, _ = ImageIndex.build(tmp_path / "idx", paths, cache=False, workers=1)
    built.close()
    lazy = ImageIndex.open(tmp_path / "idx")
    seen: list[tuple[int, int]] = []
    score_blocks = pipeline._score_blocks

    def counting(keep: Any, band: Any, state: Any, blocks: Any) -> Any:
        before = state[0].decoded
        out = score_blocks(keep, band, state, blocks)
        seen.append((before, state[0].decoded))
        return out

    turned_stacks = pipeline.turned_stacks

    def counting_turned(images: Any, *args: Any, **kwargs: Any) -> Any:
        before = images.decoded  # the turned views read shapes from the stacks, not rows
        out = turned_stacks(images, *args, **kwargs)
        seen.append((before, images.decoded))
        return out

    pipeline._score_blocks = counting  # type: ignore[assignment]
    pipeline.turned_stacks = counting_turned  # type: ignore[assignment]
    try:
        lazy.duplicates(workers=1)
    finally:
        pipeline._score_blocks = score_blocks  # type: ignore[assignment]
        pipeline.turned_stacks = turned_stacks  # type: ignore[assignment]
    assert seen and all(after == before for before, after in seen)


def test_a_query_asked_again_checks_nothing(
    tmp_path: Path, photos: tuple[list[str], list[str]], monkeypatch: pytest.MonkeyPatch
) -> None:
    """An index query reads the check's findings from the pair store and keeps them there, as
    a scan does (one pipeline): asked again with the same cache it checks no pair, with the
    same answers; without a store it checks them all again."""
    from neardup import verify

    stored, _ = photos
    crops = [p for p in stored if p.endswith("_crop.jpg")]
    index, _ = ImageIndex.build(
        tmp_path / "idx", [p for p in stored if p not in crops], cache=False, workers=1
    )
    checks: list[Any] = []
    original = verify.Verifier.check

    def counted(self: verify.Verifier, a: Any, b: Any) -> Any:
        checks.append((a, b))
        return original(self, a, b)

    monkeypatch.setattr(verify.Verifier, "check", counted)
    cache = tmp_path / "cache.db"
    first = _answers(index.query(crops, cache=cache, workers=1))
    assert checks and any(first.values())  # the crops sit in the check's band
    made = len(checks)
    assert _answers(index.query(crops, cache=cache, workers=1)) == first
    assert len(checks) == made  # every finding read from the store
    _answers(index.query(crops, cache=False, workers=1))
    assert len(checks) == 2 * made
    index.close()
