"""Per-pair results kept between runs: a rescan reads the geometric check's findings and the
measured differences from the cache, gives the same result, measures again only what changed,
and a run interrupted during the check resumes where it stopped."""

from __future__ import annotations

import sqlite3
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from conftest import make_photo
from PIL import Image, ImageOps

import neardup
import neardup.checking
import neardup.item_pixels
from neardup.differences import differences_of, differences_value
from neardup.engines.base import Stage
from neardup.engines.local import LocalEngine
from neardup.features.exact import bytes_hash
from neardup.records import Differences, ScanResult
from neardup.verify import geometry_of, geometry_value

CHECK, MEASURE = "verify", "differences"


class Counting:
    """A local engine (one worker) that counts the items each stage is given, and can stop
    after a number of chunks of one stage as an interrupt would."""

    def __init__(self, stop_stage: str | None = None, stop_after: int = 0) -> None:
        self._inner = LocalEngine(1)
        self.items: Counter[str] = Counter()
        self._stop = (stop_stage, stop_after)

    @property
    def workers(self) -> int:
        return 1

    def map[T, S, R](
        self, stage: Stage[T, S, R], items: Sequence[T]
    ) -> Iterator[tuple[list[T], list[R]]]:
        self.items[stage.name] += len(items)
        for n, done in enumerate(self._inner.map(stage, items)):
            if stage.name == self._stop[0] and n == self._stop[1]:
                raise KeyboardInterrupt
            yield done

    def release(self, stage: Stage[Any, Any, Any]) -> None:
        self._inner.release(stage)

    def close(self) -> None:
        self._inner.close()


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    """Copies that need the check (crops, a turn) beside re-encodes and other photos."""
    root = tmp_path / "photos"
    root.mkdir()
    for name in ("astronaut", "coffee", "chelsea", "rocket"):
        photo = make_photo(name, 320)
        w, h = photo.size
        photo.save(root / f"{name}.png")
        photo.crop((0, 0, int(w * 0.72), int(h * 0.8))).save(root / f"{name}_crop.jpg", quality=90)
        photo.crop((w // 5, h // 6, w, h)).save(root / f"{name}_crop2.jpg", quality=85)
        turned = photo.rotate(9, resample=Image.Resampling.BICUBIC, expand=False)
        turned.save(root / f"{name}_turn.jpg", quality=88)
        photo.resize((w // 2, h // 2)).save(root / f"{name}_small.jpg", quality=70)
    return root


def outcome(result: ScanResult) -> tuple[Any, ...]:
    pairs = [
        (result.path(p.a), result.path(p.b), p.similarity, p.confidence, p.scores, p.differences)
        for p in result.pairs
    ]
    groups = [
        (result.path(g.keeper), [(result.path(m), s) for m, s in g.members]) for g in result.groups
    ]
    return pairs, groups


def scan(folder: Path, cache: Path | bool, engine: Counting) -> ScanResult:
    try:
        return neardup.scan(folder, cache=cache, engine=engine)
    finally:
        engine.close()


def test_a_rescan_reads_every_check_and_measure_from_the_cache(
    folder: Path, tmp_path: Path
) -> None:
    cache = tmp_path / "cache.sqlite"
    first, second, uncached = Counting(), Counting(), Counting()
    before = scan(folder, cache, first)
    assert first.items[CHECK] > 0 and first.items[MEASURE] > 0  # the set exercises both
    again = scan(folder, cache, second)
    assert second.items[CHECK] == 0 and second.items[MEASURE] == 0
    assert outcome(again) == outcome(before)
    assert outcome(scan(folder, False, uncached)) == outcome(before)  # as if measured now
    assert (uncached.items[CHECK], uncached.items[MEASURE]) == (
        first.items[CHECK],
        first.items[MEASURE],
    )


def test_a_changed_file_is_checked_and_measured_again(folder: Path, tmp_path: Path) -> None:
    cache = tmp_path / "cache.sqlite"
    first = Counting()
    scan(folder, cache, first)
    photo = make_photo("coffee", 320)
    w, h = photo.size
    photo.crop((0, 0, int(w * 0.7), int(h * 0.8))).save(folder / "coffee_crop.jpg", quality=60)
    second = Counting()
    result = scan(folder, cache, second)
    assert 0 < second.items[CHECK] < first.items[CHECK]
    assert 0 < second.items[MEASURE] < first.items[MEASURE]
    redone = Counting()
    assert outcome(scan(folder, False, redone)) == outcome(result)


def test_a_scan_interrupted_during_the_check_resumes_there(
    folder: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    chunk = 8
    monkeypatch.setattr(neardup.checking, "VERIFY", replace(neardup.verify.VERIFY, chunk=chunk))
    cache = tmp_path / "cache.sqlite"
    whole = Counting()
    expected = scan(folder, False, whole)
    assert whole.items[CHECK] > 2 * chunk  # more than two chunks to check
    with pytest.raises(KeyboardInterrupt):
        scan(folder, cache, Counting(stop_stage=CHECK, stop_after=2))
    resumed = Counting()
    assert outcome(scan(folder, cache, resumed)) == outcome(expected)
    assert resumed.items[CHECK] == whole.items[CHECK] - 2 * chunk  # two chunks were kept


def test_findings_of_another_version_are_not_read(
    folder: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cache = tmp_path / "cache.sqlite"
    first = Counting()
    scan(folder, cache, first)
    monkeypatch.setattr(neardup.verify, "CHECK_VERSION", neardup.verify.CHECK_VERSION + 1)
    second = Counting()
    scan(folder, cache, second)
    assert second.items[CHECK] == first.items[CHECK] and second.items[MEASURE] == 0
    with sqlite3.connect(cache) as db:  # the old version's rows are gone, not kept beside
        kinds = {row[0] for row in db.execute("SELECT kind FROM pairs")}
    check = f"check/{neardup.verify.check_version()}/"
    families = {k.split("/")[0] for k in kinds}  # one version of each: the old one's are gone
    assert (
        {"check", "differences"}
        <= families
        <= {"check", "differences", "detail", "banner", "painted", "part"}
    )
    assert len(kinds) == len(families)
    assert any(k.startswith(check) for k in kinds)


def test_a_measure_that_failed_is_not_kept(
    folder: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cache = tmp_path / "cache.sqlite"

    def failing(self: Any, a: Any, b: Any) -> Differences:
        raise RuntimeError("a measuring bug")

    monkeypatch.setattr(neardup.differences.Differ, "_compare", failing)
    first = Counting()
    result = scan(folder, cache, first)
    notes = [p.differences.note for p in result.pairs if p.differences is not None]
    assert any(n.startswith("not measured") for n in notes)
    monkeypatch.undo()
    second = Counting()
    scan(folder, cache, second)
    assert second.items[MEASURE] == sum(n.startswith("not measured") for n in notes)


def test_stored_values_give_back_what_was_measured(folder: Path, tmp_path: Path) -> None:
    result = neardup.scan(folder, cache=False, differences="all")
    measured = [p.differences for p in result.pairs if p.differences is not None]
    assert any(d.borders or d.common for d in measured)
    for found in measured:
        assert differences_of(differences_value(found)) == found
    found_geometry = neardup.verify.check_pairs(
        [(str(folder / "astronaut.png"), str(folder / "astronaut_crop.jpg"))]
    )[0]
    assert found_geometry is not None and found_geometry.inliers > 0
    assert geometry_of(geometry_value(found_geometry)) == found_geometry
    assert geometry_of(geometry_value(None)) is None


def test_a_pair_the_check_could_not_read_is_checked_next_time(
    folder: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A file unreadable for a moment (a share offline) leaves its pairs undecided in that run,
    and the next run checks them rather than reading "cannot tell" from the store."""
    cache = tmp_path / "cache.sqlite"
    real = neardup.item_pixels.read_bytes
    gone = str(folder / "astronaut_crop.jpg")

    def flaky(path: str) -> bytes:
        if path == gone:
            raise OSError(5, "Input/output error")
        return real(path)

    monkeypatch.setattr(neardup.item_pixels, "read_bytes", flaky)
    scan(folder, cache, Counting())
    monkeypatch.undo()
    again = Counting()
    result = scan(folder, cache, again)
    assert again.items[CHECK] > 0
    assert outcome(result) == outcome(scan(folder, False, Counting()))


def test_an_index_out_of_date_or_its_copies_never_reach_the_store(tmp_path: Path) -> None:
    """Files edited since the index read them, and an index's copies that hold only the same
    pixels (no hash of their own), are measured each time: their stored hashes would name other
    contents. The results equal those measured without a cache."""
    from neardup.index.catalog import ImageIndex

    root = tmp_path / "p"
    root.mkdir()
    photo = make_photo("astronaut", 320)
    exif = Image.Exif()
    exif[0x0112] = 6  # stored sideways, the tag turns it upright
    exif[0x0132] = "2020:01:01 10:00:00"
    photo.transpose(Image.Transpose.ROTATE_90).save(root / "a.jpg", quality=92, exif=exif)
    (root / "d_bytecopy.jpg").write_bytes((root / "a.jpg").read_bytes())
    upright = ImageOps.exif_transpose(Image.open(root / "a.jpg")).convert("RGB")
    upright.save(root / "b_upright.png")  # the same pixels displayed, other bytes and tag
    w, h = photo.size
    photo.crop((0, 0, int(w * 0.8), int(h * 0.85))).save(root / "c_crop.jpg", quality=90)
    dated = (root / "a.jpg").read_bytes()
    assert dated.count(b"2020:01:01 10:00:00") == 1
    # Another date of the same length: other bytes, the same size and picture data.
    (root / "e_same_size.jpg").write_bytes(dated.replace(b"2020:01:01", b"2021:02:03"))
    built, _ = ImageIndex.build(tmp_path / "idx", sorted(map(str, root.iterdir())), cache=False)
    built.close()
    cache = tmp_path / "cache.sqlite"

    def duplicates(cached: Path | bool) -> dict[tuple[str, str], Any]:
        index, engine = ImageIndex.open(tmp_path / "idx"), LocalEngine(1)
        try:
            found = index.duplicates(engine=engine, cache=cached, differences="all")
        finally:
            engine.close()
            index.close()
        return {(found.path(p.a), found.path(p.b)): p.differences for p in found.pairs}

    copies = ImageIndex.open(tmp_path / "idx")
    assert len(copies.aliases) == 3  # the byte copy, the upright one, the other metadata
    copies.close()
    index, engine = ImageIndex.open(tmp_path / "idx"), LocalEngine(1)
    try:
        images = index.duplicates(engine=engine, cache=False).images
    finally:
        engine.close()
        index.close()
    for item in images:  # a hash given is the file's own, or none is claimed
        assert item.bytes_hash in ("", bytes_hash(Path(item.path).read_bytes()))
    assert duplicates(cache) == duplicates(cache) == duplicates(False)
    kept = (root / "c_crop.jpg").read_bytes()
    turned = Image.open(root / "c_crop.jpg").transpose(Image.Transpose.FLIP_LEFT_RIGHT)
    turned.convert("L").save(root / "c_crop.jpg", quality=90)  # edited, index not told
    assert duplicates(cache) == duplicates(False)
    (root / "c_crop.jpg").write_bytes(kept)  # its indexed content back, a new time
    assert duplicates(cache) == duplicates(False)
