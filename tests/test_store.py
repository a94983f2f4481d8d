"""The feature cache: unchanged files are never decoded twice, changed ones always are, and a
file that is not a usable cache gives a clear error."""

from __future__ import annotations

import json
import os
import sqlite3
import types
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pytest

import neardup
import neardup.api
from neardup.cli import main
from neardup.feature_rows import decode_features, encode_features
from neardup.records import FileRef, ScanResult, Skipped
from neardup.store import FeatureStore, StoreError

if TYPE_CHECKING:
    from conftest import FileMaker

PHOTOS = {
    "astro.png": ("astronaut", 300),
    "astro_copy.jpg": ("astronaut", 200),
    "coffee.png": ("coffee", 300),
    "coffee_copy.jpg": ("coffee", 180),
    "moon.png": ("moon", 200),
}


@pytest.fixture
def folder(photo_dir: Callable[..., Path]) -> Path:
    return photo_dir(PHOTOS)


def summary(result: ScanResult) -> list[tuple[str, str, float, dict[str, float], str]]:
    return [
        (result.path(p.a), result.path(p.b), p.similarity, p.scores, p.evidence)
        for p in result.pairs
    ]


def run(folder: Path, cache: Path, **kwargs: Any) -> ScanResult:
    return neardup.scan([folder], cache=cache, workers=1, **kwargs)


def test_second_scan_comes_from_the_cache(
    folder: Path, tmp_path: Path, computed: list[str]
) -> None:
    cache = tmp_path / "cache.sqlite"
    first = run(folder, cache)
    assert sorted(computed) == sorted(PHOTOS)
    assert first.stats.from_cache == 0
    computed.clear()
    second = run(folder, cache)
    assert computed == []
    assert second.stats.from_cache == second.stats.images == len(PHOTOS)
    assert summary(second) == summary(first)
    assert len(second.pairs) == 2
    assert [(g.keeper, g.members) for g in second.groups] == [
        (g.keeper, g.members) for g in first.groups
    ]
    for a, b in zip(first.images, second.images, strict=True):
        assert (a.path, a.width, a.height, a.format, a.bytes_hash) == (
            b.path,
            b.width,
            b.height,
            b.format,
            b.bytes_hash,
        )
        assert (a.pixel_hash, a.trimmed, a.pdq_quality) == (b.pixel_hash, b.trimmed, b.pdq_quality)
        assert a.pdq is not None and b.pdq is not None and np.array_equal(a.pdq, b.pdq)
        assert a.pdq.dtype == b.pdq.dtype == np.uint8
        assert a.embeddings.keys() == b.embeddings.keys() == {"sscd_distilled"}
        for key in a.embeddings:
            assert np.array_equal(a.embeddings[key], b.embeddings[key])


def test_a_touched_file_alone_is_recomputed(
    folder: Path, tmp_path: Path, computed: list[str]
) -> None:
    cache = tmp_path / "cache.sqlite"
    first = run(folder, cache)
    touched = folder / "coffee_copy.jpg"
    stat = touched.stat()
    os.utime(touched, ns=(stat.st_atime_ns, stat.st_mtime_ns + 5_000_000_000))
    computed.clear()
    second = run(folder, cache)
    assert computed == ["coffee_copy.jpg"]
    assert second.stats.from_cache == len(PHOTOS) - 1
    assert summary(second) == summary(first)
    computed.clear()
    assert run(folder, cache).stats.from_cache == len(PHOTOS)
    assert computed == []


def test_a_changed_file_is_recomputed(
    folder: Path, tmp_path: Path, computed: list[str], make: FileMaker
) -> None:
    cache = tmp_path / "cache.sqlite"
    run(folder, cache)
    make.image(folder / "moon.png", "rocket", 256)  # new content, new size
    computed.clear()
    second = run(folder, cache)
    assert computed == ["moon.png"]
    assert [g for g in second.groups if second.path(g.keeper).endswith("moon.png")] == []
    moon = next(f for f in second.images if f.path.endswith("moon.png"))
    assert moon.width == 256


def test_more_methods_recompute_fewer_reuse(
    folder: Path, tmp_path: Path, computed: list[str]
) -> None:
    cache = tmp_path / "cache.sqlite"
    run(folder, cache, methods="pdq")
    computed.clear()
    both = run(folder, cache, methods="pdq,sscd_distilled,phash")
    assert both.stats.from_cache == 0 and len(computed) == len(PHOTOS)
    computed.clear()
    fewer = run(folder, cache, methods="pdq,sscd_distilled")  # decoded at the same size
    assert fewer.stats.from_cache == len(PHOTOS) and computed == []
    assert all(set(p.scores) <= {"exact", "pdq", "thumb", "sscd_distilled"} for p in fewer.pairs)


def test_a_run_of_other_methods_keeps_the_methods_it_did_not_compute(
    folder: Path, tmp_path: Path, computed: list[str]
) -> None:
    """A tester ran `scan`, then `cluster` (no PDQ), then `scan` again: the second scan
    decoded every file anew, the cluster run's rows having replaced the scan's. A row now
    keeps what the file's earlier row held, so each command reads what the other made."""
    cache = tmp_path / "cache.sqlite"
    first = run(folder, cache)
    run(folder, cache, methods="exact,sscd_distilled,phash")  # what cluster computes, and more
    computed.clear()
    again = run(folder, cache)
    assert again.stats.from_cache == len(PHOTOS) and computed == []
    assert summary(again) == summary(first)
    both = run(folder, cache, methods="pdq,sscd_distilled,phash")
    assert both.stats.from_cache == len(PHOTOS) and computed == []


def test_features_made_at_another_decode_size_are_made_again(
    folder: Path, tmp_path: Path, computed: list[str]
) -> None:
    """The hash-only pass decodes smaller than a default scan: its PDQ hashes differ, so a
    default scan's cached features are not taken for it, and it gives what it would with no
    cache (a black-box review found 411 of 506 pairs scored otherwise); its rows are kept
    beside the default scan's."""
    cache = tmp_path / "cache.sqlite"
    run(folder, cache)
    computed.clear()
    hashes = run(folder, cache, methods="pdq")
    assert hashes.stats.from_cache == 0 and len(computed) == len(PHOTOS)
    assert summary(hashes) == summary(run(folder, tmp_path / "new.sqlite", methods="pdq"))
    computed.clear()
    # And back: each size keeps its own rows (the pdq pass's rows replaced the default
    # scan's, so a fast pass then a full one, as the README suggests, decoded everything
    # twice each time).
    assert run(folder, cache).stats.from_cache == len(PHOTOS) and not computed
    assert run(folder, cache, methods="pdq").stats.from_cache == len(PHOTOS) and not computed


def test_a_read_only_cache_is_read_and_the_scan_goes_on(
    folder: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A cache that cannot be written (a read-only mount, one shared from CI) is read; what is
    new is computed and not kept, and nothing fails."""
    cache = tmp_path / "cache.sqlite"
    run(folder, cache)
    (folder / "extra.png").write_bytes((folder / "moon.png").read_bytes())  # new: computed
    _open_read_only(monkeypatch)
    again = run(folder, cache)
    assert again.stats.from_cache == len(PHOTOS) and again.stats.images == len(PHOTOS) + 1
    assert run(folder, cache).stats.from_cache == len(PHOTOS)  # the new file was not kept
    monkeypatch.undo()
    assert summary(again) == summary(run(folder, tmp_path / "new.sqlite"))


def test_skips_are_cached_but_unreadable_files_are_retried(
    folder: Path,
    tmp_path: Path,
    computed: list[str],
    make: FileMaker,
    deny: Callable[..., Any],
) -> None:
    cache = tmp_path / "cache.sqlite"
    make.text(folder / "notes.png")
    make.image(folder / "locked.png", "chelsea", 200)
    with deny([folder / "locked.png"]):
        first = run(folder, cache)
    reasons = {Path(s.path).name: s.reason for s in first.skipped}
    assert reasons["notes.png"] == "not an image: the file holds text"
    assert reasons["locked.png"].startswith("unreadable file")
    computed.clear()
    second = run(folder, cache)
    assert computed == ["locked.png"]  # the text file's skip came from the cache
    assert [(Path(s.path).name, s.reason) for s in second.skipped] == [
        ("notes.png", "not an image: the file holds text")
    ]
    assert any(f.path.endswith("locked.png") for f in second.images)


def test_progress_counts_cached_and_computed_files(folder: Path, tmp_path: Path) -> None:
    cache = tmp_path / "cache.sqlite"
    calls: list[tuple[int, int]] = []
    run(folder, cache, progress=lambda done, total: calls.append((done, total)))
    assert calls[0] == (0, len(PHOTOS)) and calls[-1] == (len(PHOTOS), len(PHOTOS))
    assert [done for done, _ in calls] == sorted(done for done, _ in calls)
    calls.clear()
    run(folder, cache, progress=lambda done, total: calls.append((done, total)))
    assert calls == [(len(PHOTOS), len(PHOTOS))]


def test_garbage_cache_file_is_a_clear_error(folder: Path, tmp_path: Path) -> None:
    cache = tmp_path / "cache.sqlite"
    cache.write_bytes(b"this is not a database, just some bytes \x00\x01\x02" * 100)
    with pytest.raises(StoreError, match="cannot use feature cache"):
        run(folder, cache)


def test_garbage_cache_file_via_cli(
    folder: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    cache = tmp_path / "cache.sqlite"
    cache.write_bytes(os.urandom(4096))
    code = main(["scan", str(folder), "--cache", str(cache), "--workers", "1", "-q"])
    assert code == 2
    assert "cannot use feature cache" in capsys.readouterr().err


def _open_read_only(monkeypatch: pytest.MonkeyPatch) -> None:
    """The store's connections open read-only (a read-only mount); other SQLite use, such as
    an index held in memory, is untouched."""
    real = sqlite3.connect

    def read_only(path: str, **kwargs: Any) -> sqlite3.Connection:
        return real(f"file:{path}?mode=ro", uri=True, **kwargs)

    opened = types.SimpleNamespace(**vars(sqlite3) | {"connect": read_only})
    monkeypatch.setattr(neardup.store, "sqlite3", opened)


def test_a_read_only_cache_takes_a_new_video_and_an_older_version(
    folder: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, computed: list[str]
) -> None:
    """A video where the cache never held one, and a cache of an older features version,
    on a read-only store: read what can be, compute the rest, fail nothing."""
    from media import scene_pictures, write_video

    cache = tmp_path / "cache.sqlite"
    expected = run(folder, cache)
    write_video(folder / "clip.mp4", scene_pictures(["coffee", "astronaut"]), frames_per_scene=5)
    with_video = run(folder, tmp_path / "new.sqlite")
    with monkeypatch.context() as patched:
        _open_read_only(patched)
        assert summary(run(folder, cache)) == summary(with_video)
    (folder / "clip.mp4").unlink()
    with sqlite3.connect(cache) as db:
        db.execute("UPDATE meta SET value='1' WHERE key='features'")
    computed.clear()
    _open_read_only(monkeypatch)
    older = run(folder, cache)
    assert older.stats.from_cache == 0 and sorted(computed) == sorted(PHOTOS)
    assert summary(older) == summary(expected)


def test_rows_stored_before_decode_sizes_were_named_are_still_read(
    folder: Path, tmp_path: Path, computed: list[str]
) -> None:
    """An older row lists no decode size; the one it was made at follows from what it holds
    (embeddings: the default size; hashes alone: the hash pass's), so it is not recomputed."""
    for methods in ("default", "pdq"):
        cache = tmp_path / f"{methods}.sqlite"
        expected = run(folder, cache, methods=methods)
        with sqlite3.connect(cache) as db:
            rows = db.execute("SELECT path, names FROM items").fetchall()
            db.executemany(
                "UPDATE items SET names=? WHERE path=?",
                [(json.dumps([n for n in json.loads(names) if not n.startswith("side:")]), path)
                 for path, names in rows],
            )  # fmt: skip
        computed.clear()
        again = run(folder, cache, methods=methods)
        assert computed == [] and summary(again) == summary(expected)
    computed.clear()
    run(folder, tmp_path / "pdq.sqlite")  # an old hash-pass row is not taken for a default scan
    assert sorted(computed) == sorted(PHOTOS)


def test_cache_path_that_is_a_folder_is_a_clear_error(folder: Path, tmp_path: Path) -> None:
    with pytest.raises(StoreError, match="pass another --cache, or --no-cache") as raised:
        run(folder, tmp_path)
    assert "held it" not in str(raised.value)  # no other process is to blame


def test_cache_of_another_schema_is_refused(folder: Path, tmp_path: Path) -> None:
    cache = tmp_path / "cache.sqlite"
    run(folder, cache)
    with sqlite3.connect(cache) as db:
        db.execute("UPDATE meta SET value='999' WHERE key='schema'")
    with pytest.raises(StoreError, match="schema 999"):
        run(folder, cache)


def test_features_of_another_version_are_dropped(
    folder: Path, tmp_path: Path, computed: list[str]
) -> None:
    cache = tmp_path / "cache.sqlite"
    first = run(folder, cache)
    with sqlite3.connect(cache) as db:
        db.execute("UPDATE meta SET value='0' WHERE key='features'")
    computed.clear()
    second = run(folder, cache)
    assert second.stats.from_cache == 0 and len(computed) == len(PHOTOS)
    assert summary(second) == summary(first)


def test_another_programs_database_is_refused_untouched(folder: Path, tmp_path: Path) -> None:
    cache = tmp_path / "other.sqlite"
    with sqlite3.connect(cache) as db:
        db.execute("CREATE TABLE items (id INTEGER PRIMARY KEY, title TEXT)")
        db.execute("INSERT INTO items (title) VALUES ('not yours')")
    db.close()
    try:
        with pytest.raises(StoreError):
            run(folder, cache)
    finally:
        with sqlite3.connect(cache) as db:
            tables = {row[0] for row in db.execute("SELECT name FROM sqlite_master")}
        db.close()
    assert "meta" not in tables


def test_raising_max_pixels_rereads_a_refused_image(folder: Path, tmp_path: Path) -> None:
    cache = tmp_path / "cache.sqlite"
    refused = run(folder, cache, max_pixels=200 * 200)
    assert {Path(s.path).name for s in refused.skipped} == {"astro.png", "coffee.png"}
    allowed = run(folder, cache)
    assert allowed.skipped == []
    assert len(allowed.images) == len(PHOTOS)
    # And lowering it refuses cached images as a decode would: the guard holds on a rescan.
    again = run(folder, cache, max_pixels=200 * 200)
    assert again.stats.from_cache == len(PHOTOS)
    assert {Path(s.path).name for s in again.skipped} == {"astro.png", "coffee.png"}
    assert all("decompression bomb" in s.reason for s in again.skipped)


def test_jpeg_differing_only_in_metadata_is_exact_without_a_full_decode(
    tmp_path: Path, make: FileMaker
) -> None:
    """Two large JPEGs whose bytes differ only in a comment segment: the JPEG picture-data
    hash proves them identical, so DCT-scaled decoding never needs the full pixels."""
    folder = tmp_path / "jpegs"
    folder.mkdir()
    data = make.encode(make.photo("astronaut", 512), "JPEG")
    (folder / "a.jpg").write_bytes(data)
    comment = b"\xff\xfe\x00\x07hello"  # a COM segment: new bytes, same pixels
    (folder / "b.jpg").write_bytes(data[:2] + comment + data[2:])
    result = run(folder, tmp_path / "cache.sqlite")
    [pair] = result.pairs
    assert pair.scores["exact"] == 1.0 and pair.evidence == "exact"
    assert all(f.pixel_hash is None for f in result.images)  # no full decode happened
    assert result.images[0].jpeg_hash == result.images[1].jpeg_hash


def test_pixel_hash_found_later_is_stored(tmp_path: Path, make: FileMaker) -> None:
    """A large JPEG and a PNG of its decoded pixels: DCT-scaled decoding skips the JPEG's
    pixel hash, the scan computes it for the pair, and the cache keeps it."""
    from PIL import Image

    folder = tmp_path / "mixed"
    folder.mkdir()
    data = make.encode(make.photo("astronaut", 512), "JPEG")
    (folder / "a.jpg").write_bytes(data)
    with Image.open(folder / "a.jpg") as image:
        image.convert("RGB").save(folder / "b.png")
    cache = tmp_path / "cache.sqlite"
    for attempt in range(2):
        result = run(folder, cache)
        assert result.stats.from_cache == 2 * attempt
        [pair] = result.pairs
        assert pair.scores["exact"] == 1.0 and pair.evidence == "exact"
        assert all(f.pixel_hash is not None for f in result.images)
        assert result.images[0].pixel_hash == result.images[1].pixel_hash


def test_rescan_finds_what_the_first_scan_found_where_a_png_holds_a_jpegs_pixels(
    tmp_path: Path, make: FileMaker, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A large JPEG, a PNG of its pixels, a byte copy of each and an unrelated picture. The
    JPEG's pixel hash is made during the first scan; kept as its own pixel hash it made the
    rescan alias the PNG to the JPEG and report other pairs (a tester: 117 pairs cold, 118
    warm). The rescan reads it back for the same step instead, and decodes nothing again."""
    from PIL import Image

    import neardup.pipeline

    folder = tmp_path / "mixed"
    folder.mkdir()
    data = make.encode(make.photo("astronaut", 512), "JPEG")
    for name in ("a.jpg", "c.jpg"):
        (folder / name).write_bytes(data)
    with Image.open(folder / "a.jpg") as image:
        image.convert("RGB").save(folder / "b.png")
    (folder / "d.png").write_bytes((folder / "b.png").read_bytes())
    make.image(folder / "e.png", "coffee", 300)
    cache = tmp_path / "cache.sqlite"
    first = run(folder, cache, methods="pdq")
    hashed: list[int] = []
    full_hash = neardup.pipeline.pixel_hash_of
    monkeypatch.setattr(
        neardup.pipeline, "pixel_hash_of", lambda data: hashed.append(1) or full_hash(data)
    )
    again = run(folder, cache, methods="pdq")
    assert again.stats.from_cache == 5 and not hashed
    assert summary(again) == summary(first)
    assert [len(g.members) for g in again.groups] == [len(g.members) for g in first.groups] == [3]


def test_encode_decode_round_trip(tmp_path: Path, make: FileMaker) -> None:
    make.image(tmp_path / "a.png", "rocket", 200)
    result = neardup.scan(
        [tmp_path], cache=False, workers=1, methods="pdq,phash,whash,sscd_distilled"
    )
    [features] = result.images
    features.trimmed = (1, 2, 3, 4)
    ref = FileRef(features.path, features.size, features.mtime_ns)
    meta, blob = encode_features(features)
    back = decode_features(ref, json.loads(meta), blob)
    assert back.trimmed == (1, 2, 3, 4)
    assert back.hashes.keys() == {"phash", "whash"}
    for key, value in features.hashes.items():
        assert np.array_equal(back.hashes[key], value)
    assert back.pdq is not None and np.array_equal(back.pdq, features.pdq)  # type: ignore[arg-type]
    assert np.array_equal(back.embeddings["sscd_distilled"], features.embeddings["sscd_distilled"])


def test_in_memory_store(tmp_path: Path) -> None:
    ref = FileRef(str(tmp_path / "x.png"), 10, 1)
    with FeatureStore(":memory:") as store:
        store.put([(ref, Skipped(ref.path, "corrupt or truncated image: x"))], {"exact"})
        [(_, cached)] = list(store.lookup([ref], {"exact"}))
        assert cached == Skipped(ref.path, "corrupt or truncated image: x")
        moved = FileRef(ref.path, 10, 2)  # new mtime
        assert list(store.lookup([moved], {"exact"})) == [(moved, None)]


def test_a_kept_pixel_hash_is_never_given_to_other_content(tmp_path: Path, make: FileMaker) -> None:
    """A review: the pixel hash made for a file's new content was written into its row of
    the other decode size too, which still described the old content; with the old content
    put back under its old time (cp -p, rsync -a), the file read as pixel-identical to a
    PNG of the new content. The hash goes only to rows of the file as it is now."""
    import io as bytes_io

    from PIL import Image

    folder = tmp_path / "f"
    folder.mkdir()
    x, y = folder / "x.jpg", folder / "y.png"
    picture = make.photo("astronaut", 512).resize((1200, 1200))
    old = make.encode(picture, "JPEG")
    changed = np.asarray(picture).copy()
    changed[100:110, 100:110] = 0
    new = make.encode(Image.fromarray(changed), "JPEG")
    when = (1_600_000_000_000_000_000,) * 2
    x.write_bytes(old)
    os.utime(x, ns=when)
    cache = tmp_path / "cache.sqlite"
    neardup.scan([x], cache=cache, workers=1, methods="pdq")  # the old content's pdq row
    x.write_bytes(new)
    Image.open(bytes_io.BytesIO(new)).save(y)
    [pair] = neardup.scan([folder], cache=cache, workers=1).pairs
    assert pair.evidence == "exact"  # the PNG holds the new content's pixels
    x.write_bytes(old)
    os.utime(x, ns=when)
    for methods in ("pdq", None):
        for found in neardup.scan([folder], cache=cache, workers=1, methods=methods).pairs:
            assert found.evidence != "exact" and found.scores.get("exact", 0.0) < 1.0
