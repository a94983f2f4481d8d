"""Exact copies in the index (aliases of a stored image) when their file changes, what
`index check` says of a record that no longer holds, and the preset `index duplicates`
records in its settings."""

from __future__ import annotations

import json
import os
import sqlite3
from pathlib import Path

import pytest

import neardup
from neardup.examples import bundled_photo
from neardup.index.catalog import ImageIndex
from neardup.output import json as json_out
from neardup.scoring import PRESETS


@pytest.fixture()
def photos(tmp_path: Path) -> tuple[Path, Path, Path]:
    """a.png and its byte copy b.png in one folder; other.png, another picture, beside it."""
    coffee, astronaut = (bundled_photo("skimage", n) for n in ("coffee.png", "astronaut.png"))
    assert coffee is not None and astronaut is not None
    (tmp_path / "img").mkdir()
    a, b, other = tmp_path / "img" / "a.png", tmp_path / "img" / "b.png", tmp_path / "other.png"
    coffee.resize((320, 213)).save(a)
    astronaut.resize((256, 256)).save(other)
    b.write_bytes(a.read_bytes())
    return a, b, other


def _build(tmp_path: Path, *paths: Path) -> None:
    index, _ = ImageIndex.build(tmp_path / "idx", map(str, paths), cache=False, workers=1)
    index.close()


def _rows(folder: Path) -> tuple[list[str], list[str]]:
    """Paths of the stored images and of the exact-copy records, as the database holds them."""
    with sqlite3.connect(folder / "index.sqlite") as db:
        images = [p for (p,) in db.execute("SELECT path FROM images ORDER BY path")]
        aliases = [p for (p,) in db.execute("SELECT path FROM aliases ORDER BY path")]
    return images, aliases


def test_a_changed_exact_copy_is_stored_as_what_it_is_now(
    tmp_path: Path, photos: tuple[Path, Path, Path]
) -> None:
    """A review found a copy edited in place and added again kept as "identical" (and stored
    twice: as an image and as the old copy), with `index check` saying consistent."""
    a, b, other = photos
    _build(tmp_path, a, b)
    assert _rows(tmp_path / "idx") == ([str(a)], [str(b)])
    b.write_bytes(other.read_bytes())
    with ImageIndex.open(tmp_path / "idx") as index:
        report = index.add([str(b)], cache=False, workers=1)
        assert [e.status for e in report.entries] == ["added"]
        assert index.aliases == {} and index.check() == []
        assert index.info()["exact_copies"] == 0 and index.info()["images"] == 2
        assert index.duplicates(workers=1, cache=False).groups == []
    assert _rows(tmp_path / "idx") == ([str(a), str(b)], [])
    # and back: the stored image b becomes a copy of a again, its own row goes
    b.write_bytes(a.read_bytes())
    with ImageIndex.open(tmp_path / "idx") as index:
        report = index.add([str(b)], cache=False, workers=1)
        assert [(e.status, e.same_as) for e in report.entries] == [("already indexed", str(a))]
        assert index.check() == [] and len(index.images) == 1
        found = index.duplicates(workers=1, cache=False)
    assert {found.path(i) for i in range(len(found.images))} == {str(a), str(b)}
    assert len(found.groups) == 1
    assert _rows(tmp_path / "idx") == ([str(a)], [str(b)])
    with ImageIndex.open(tmp_path / "idx") as index:  # added again unchanged: nothing to do
        again = index.add([str(b)], cache=False, workers=1)
        assert again.entries[0].status == "already indexed" and index.check() == []


def test_a_copy_of_an_images_old_content_added_with_that_image_changed(
    tmp_path: Path, photos: tuple[Path, Path, Path]
) -> None:
    """One `add` call: a.png now holds another picture, and c.png is a copy of what a.png
    held. c was recorded as a copy of a's path, so of a's new content (a tester's helper
    found it): it is an image of its own, or a copy of the image a's old row lives on as."""
    a, b, other = photos
    _build(tmp_path, a, other)
    old = a.read_bytes()
    c = a.parent / "c.png"
    c.write_bytes(old)
    b.unlink()
    a.write_bytes(other.read_bytes())
    with ImageIndex.open(tmp_path / "idx") as index:
        report = index.add([str(a), str(c)], cache=False, workers=1)
        by_path = {e.path: (e.status, e.same_as) for e in report.entries}
        assert by_path[str(c)][1] != str(a), by_path
        assert index.check() == []
        found = index.duplicates(workers=1, cache=False)
    paths = [{found.path(g.keeper)} | {found.path(m) for m, _ in g.members} for g in found.groups]
    assert {str(a), str(other)} in paths and not any(str(c) in g for g in paths), paths
    images, aliases = _rows(tmp_path / "idx")
    assert str(c) in images and aliases == [str(a)]  # a holds other.png's bytes
    # With an older copy of a's content recorded (b), c joins it: the row lives on as b.
    a.write_bytes(old)
    b.write_bytes(old)
    c.unlink()
    _build(tmp_path / "second", a, b, other)
    c.write_bytes(old)
    a.write_bytes(other.read_bytes())
    with ImageIndex.open(tmp_path / "second" / "idx") as index:
        index.add([str(a), str(c)], cache=False, workers=1)
        assert index.check() == []
        assert index.aliases.get(str(c)) == index.by_path.get(str(b)) is not None
        found = index.duplicates(workers=1, cache=False)
    paths = [{found.path(g.keeper)} | {found.path(m) for m, _ in g.members} for g in found.groups]
    assert {str(b), str(c)} in paths and {str(a), str(other)} in paths, paths


def test_check_flags_an_exact_copy_record_that_no_longer_holds(
    tmp_path: Path, photos: tuple[Path, Path, Path]
) -> None:
    """A copy whose file changed, or a path recorded both as an image and as a copy (what
    the defect left behind), is a problem; adding the file again clears it."""
    a, b, other = photos
    _build(tmp_path, a, b)
    b.write_bytes(other.read_bytes())
    with ImageIndex.open(tmp_path / "idx") as index:
        problems = index.check()
    assert len(problems) == 1 and "1 exact copies changed" in problems[0], problems
    with ImageIndex.open(tmp_path / "idx") as index:
        index.add([str(b)], cache=False, workers=1)
        assert index.check() == []
    with sqlite3.connect(tmp_path / "idx" / "index.sqlite") as db:  # the state it left
        stat = os.stat(b)
        db.execute("INSERT INTO aliases VALUES (?, 0, ?, ?)", (str(b), stat.st_size, 1))
    with ImageIndex.open(tmp_path / "idx") as index:
        problems = index.check()
        assert len(problems) == 1 and "stored as images too" in problems[0], problems
        assert str(b) in problems[0]
        index.add([str(b)], cache=False, workers=1)
        assert index.check() == [] and index.aliases == {}


def test_index_duplicates_records_its_preset_as_scan_does(
    tmp_path: Path, photos: tuple[Path, Path, Path]
) -> None:
    """docs/schema.md: settings name the preset the cut came from (null for a threshold)."""
    a, b, _ = photos
    _build(tmp_path, a, b)
    scanned = neardup.scan([str(a.parent)], preset="strict", cache=False, workers=1)
    with ImageIndex.open(tmp_path / "idx") as index:
        strict = index.duplicates(preset="strict", workers=1, cache=False)
        own = index.duplicates(workers=1, cache=False)
        cut = index.duplicates(threshold=0.5, workers=1, cache=False)
    settings = json.loads(json_out.dumps(strict))["settings"]
    assert settings["preset"] == scanned.settings["preset"] == "strict"
    assert settings["threshold"] == scanned.settings["threshold"] == PRESETS["strict"]
    assert settings["presets"] == scanned.settings["presets"]
    assert own.settings["preset"] == "default"  # built with the default preset's cut
    assert cut.settings["preset"] is None
