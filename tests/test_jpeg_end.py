"""A JPEG that lacks only its end marker is read as the complete file it is; one whose data is
cut short is still skipped as truncated (`neardup.jpeg_end`)."""

from __future__ import annotations

import io
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from neardup.api import scan
from neardup.decode import Decoded, DecodeSpec, decode
from neardup.records import Skipped


def _jpeg(image: Image.Image, **options: object) -> bytes:
    out = io.BytesIO()
    image.save(out, "JPEG", **options)
    return out.getvalue()


@pytest.fixture(scope="module")
def coffee(photo: Callable[..., Image.Image]) -> Image.Image:
    return photo("coffee", 517).convert("RGB")  # sides that are no multiple of a block


@pytest.mark.parametrize("subsampling", [0, 2])
@pytest.mark.parametrize("spec", [DecodeSpec(), DecodeSpec(full_pixels=True)])
def test_without_only_its_end_marker_a_jpeg_reads_as_the_whole_file(
    coffee: Image.Image, subsampling: int, spec: DecodeSpec
) -> None:
    data = _jpeg(coffee, quality=90, subsampling=subsampling)
    whole = decode(data, "whole.jpg", spec)
    ended = decode(data[:-2], "no-end.jpg", spec)
    assert isinstance(whole, Decoded) and isinstance(ended, Decoded), ended
    assert np.array_equal(whole.rgb, ended.rgb) and whole.pixel_hash == ended.pixel_hash


@pytest.mark.parametrize("subsampling", [0, 2])
@pytest.mark.parametrize("missing", [200, 1_000, 10_000])
@pytest.mark.parametrize("spec", [DecodeSpec(), DecodeSpec(full_pixels=True)])
def test_a_jpeg_cut_short_is_still_skipped_as_truncated(
    coffee: Image.Image, subsampling: int, missing: int, spec: DecodeSpec
) -> None:
    """With its end marker appended, such a file decodes without a word, the missing blocks
    a flat grey (129 levels off measured); the grey in its last block refuses it."""
    data = _jpeg(coffee, quality=90, subsampling=subsampling)
    found = decode(data[: -missing - 2], "cut.jpg", spec)
    assert isinstance(found, Skipped) and "truncated" in found.reason, found


def test_a_progressive_jpeg_without_its_end_marker_stays_skipped(coffee: Image.Image) -> None:
    """Its last scans may be what is missing, which only blurs it: nothing tells, so it is
    refused as before."""
    data = _jpeg(coffee, quality=90, progressive=True)
    found = decode(data[:-2], "progressive.jpg")
    assert isinstance(found, Skipped) and "truncated" in found.reason


def test_a_scan_finds_the_unended_copy_of_a_picture(tmp_path: Path, coffee: Image.Image) -> None:
    data = _jpeg(coffee, quality=90)
    (tmp_path / "whole.jpg").write_bytes(data)
    (tmp_path / "no-end.jpg").write_bytes(data[:-2])
    (tmp_path / "cut.jpg").write_bytes(data[:-5_000])
    result = scan([tmp_path], cache=False)
    assert [Path(s.path).name for s in result.skipped] == ["cut.jpg"]
    assert len(result.groups) == 1
    group = result.groups[0]
    members = [group.keeper, *(index for index, _ in group.members)]
    assert {Path(result.images[i].path).name for i in members} == {"whole.jpg", "no-end.jpg"}


def test_an_unended_or_trailed_copy_is_an_exact_copy(
    tmp_path: Path, photo: Callable[..., Image.Image]
) -> None:
    """A tester: a large JPEG without its end marker, or with bytes after it, scored exact 0
    against the same picture (similarity 0.999): their picture data hashed differently, and
    DCT-scaled decodes carry no pixel hash to tell them alike."""
    data = _jpeg(photo("astronaut", 512).convert("RGB"), quality=90)
    (tmp_path / "whole.jpg").write_bytes(data)
    (tmp_path / "no-end.jpg").write_bytes(data[:-2])
    (tmp_path / "trailed.jpg").write_bytes(data + bytes(100))
    result = scan([tmp_path], cache=False)
    assert len(result.pairs) == 3 and not result.skipped
    assert all(p.scores["exact"] == 1.0 and p.similarity == 1.0 for p in result.pairs)


def test_the_report_shows_an_unended_jpeg(coffee: Image.Image, tmp_path: Path) -> None:
    from neardup.output.report.thumbs import make_thumbs

    data = _jpeg(coffee, quality=90)
    (tmp_path / "no-end.jpg").write_bytes(data[:-2])
    (tmp_path / "cut.jpg").write_bytes(data[:-5_000])
    thumbs = make_thumbs(
        [(str(tmp_path / "no-end.jpg"), None), (str(tmp_path / "cut.jpg"), None)], 96
    )
    assert thumbs[0] is not None and Image.open(io.BytesIO(thumbs[0])).size == (96, 64)
    assert thumbs[1] is None  # the page says "no thumbnail" for a file scan skips


def test_a_skip_cached_before_is_tried_again(tmp_path: Path, coffee: Image.Image) -> None:
    """A tester: a cache filled before this change kept skipping the files now read (skips
    are cached by path, size and time, and the features version did not change)."""
    import sqlite3

    folder = tmp_path / "photos"
    folder.mkdir()
    data = _jpeg(coffee, quality=90)
    (folder / "whole.jpg").write_bytes(data)
    (folder / "no-end.jpg").write_bytes(data[:-2])
    cache = tmp_path / "cache.sqlite"
    assert not scan([folder], cache=cache).skipped
    old = "corrupt or truncated image: image file is truncated (11 bytes not processed)"
    with sqlite3.connect(cache) as db:  # as an older neardup stored it
        changed = db.execute(
            "UPDATE items SET skip=?, data=NULL WHERE path LIKE ?", (old, "%no-end.jpg%")
        ).rowcount
    assert changed
    again = scan([folder], cache=cache)
    assert not again.skipped and len(again.groups) == 1


def test_a_picture_hash_kept_by_an_older_neardup_still_finds_the_exact_copy(
    tmp_path: Path, photo: Callable[..., Image.Image]
) -> None:
    """A reviewer: a cache filled before the picture data was hashed to its end marker kept
    the old hash for a file with bytes after it; the new hash of its whole copy differs, and
    "two JPEGs of different picture data" skipped the pixel check: exact 0, similarity 0.999.
    Hashes of two makes no longer rule a pair out."""
    import sqlite3

    folder = tmp_path / "photos"
    folder.mkdir()
    data = _jpeg(photo("astronaut", 512).convert("RGB"), quality=90)
    (folder / "whole.jpg").write_bytes(data)
    (folder / "trailed.jpg").write_bytes(data + bytes(64))
    cache = tmp_path / "cache.sqlite"
    scan([folder], cache=cache)
    with sqlite3.connect(cache) as db:  # the hash as an older neardup made it (no tag)
        db.execute(
            "UPDATE items SET meta=json_set(meta, '$.jpeg_hash', 'c0ffee') WHERE path LIKE ?",
            ("%trailed.jpg",),
        )
    result = scan([folder], cache=cache)
    assert [(p.scores["exact"], p.similarity) for p in result.pairs] == [(1.0, 1.0)]


def test_a_corner_of_mid_grey_luma_and_another_colour_is_no_fill(coffee: Image.Image) -> None:
    """A reviewer: a complete file without its end marker whose last block was green
    (80, 160, 80), as light as mid-grey, was refused as cut short: only the luma was read."""
    picture = coffee.copy()
    picture.paste((80, 160, 80), (picture.width - 24, picture.height - 24, *picture.size))
    data = _jpeg(picture, quality=90)
    found = decode(data[:-2], "green-corner.jpg", DecodeSpec(full_pixels=True))
    whole = decode(data, "whole.jpg", DecodeSpec(full_pixels=True))
    assert isinstance(found, Decoded) and isinstance(whole, Decoded)
    assert found.pixel_hash is not None and found.pixel_hash == whole.pixel_hash


def test_a_truncated_file_is_not_tried_again_on_every_scan(
    tmp_path: Path, coffee: Image.Image
) -> None:
    """A reviewer: a truncated PNG named .jpg kept the wording older skips had, so each
    scan decoded it again."""
    folder = tmp_path / "photos"
    folder.mkdir()
    png = io.BytesIO()
    coffee.save(png, "PNG")
    (folder / "cut.jpg").write_bytes(png.getvalue()[:5_000])
    (folder / "fine.jpg").write_bytes(_jpeg(coffee, quality=90))
    cache = tmp_path / "cache.sqlite"
    first = scan([folder], cache=cache)
    assert [Path(s.path).name for s in first.skipped] == ["cut.jpg"]
    assert scan([folder], cache=cache).stats.from_cache == 2
