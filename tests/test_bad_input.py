"""One folder of good photos mixed with every kind of bad file: the bad ones are skipped with a
reason a person can act on, the awkward-but-valid ones are read, and the grouping of the good
ones is exactly what it would be without the bad ones."""

from __future__ import annotations

import contextlib
import os
import struct
import zlib
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pytest
from PIL import Image

import neardup
from neardup.features.hashes import hamming

if TYPE_CHECKING:
    from conftest import FileMaker, ScanView

# name -> words its skip reason must contain (all of them, case-insensitive)
BAD = {
    "empty.jpg": ("empty", "0 bytes"),
    "truncated.jpg": ("truncated",),
    "truncated.png": ("truncated",),
    "random.jpg": ("not an image", "unrecognised"),
    "notes.png": ("not an image", "text"),
    "bomb.png": ("decompression bomb", "60000 x 60000", "--max-pixels"),
    "bomb.gif": ("decompression bomb", "60000 x 60000"),
    "broken_link.jpg": ("broken symbolic link", "gone.jpg"),
    "loop_a.jpg": ("symbolic link loop", "loop_b.jpg"),  # a tester's was "broken"
    "loop_b.jpg": ("symbolic link loop", "loop_a.jpg"),
    "unreadable.jpg": ("unreadable file", "permission denied"),
    "unreadable_blob": ("unreadable file", "permission denied"),
    "unreadable_dir": ("unreadable folder", "permission denied"),
}

# variant -> (its source, the format the scan must report for it)
VARIANTS = {
    "astro_small.jpg": ("astro.png", "JPEG"),
    "coffee_cmyk.jpg": ("coffee.png", "JPEG"),
    "chelsea_16bit.png": ("chelsea.png", "PNG"),
    "rocket_palette.png": ("rocket.png", "PNG"),
    "ihc_rgba.png": ("ihc.png", "PNG"),
    "coins_animated.gif": ("coins.png", "GIF (animated: first frame)"),
    "camera_jpeg_named.png": ("camera.png", "JPEG"),
    "cell_exif6.jpg": ("cell.png", "JPEG"),
    "hubble_exif8.jpg": ("hubble.png", "JPEG"),
}

UNRELATED = ("moon.png", "clock.png")
"""Good images with no duplicate: they must stay out of every group."""


def build_mixed(root: Path, make: FileMaker) -> Path:
    folder = root / "mixed"
    folder.mkdir()
    # The pair the bad files must not disturb: a photo and a smaller JPEG copy of it.
    make.image(folder / "astro.png", "astronaut", 320)
    make.image(folder / "astro_small.jpg", "astronaut", 200, quality=85)
    for name in UNRELATED:
        make.image(folder / name, name.removesuffix(".png"), 256)

    # Valid but awkward files, each beside its own (larger) 8-bit RGB source.
    make.image(folder / "coffee.png", "coffee", 320)
    cmyk = make.photo("coffee", 240).convert("CMYK")
    make.image(folder / "coffee_cmyk.jpg", cmyk)

    make.image(folder / "chelsea.png", "chelsea", 320)
    luminance = np.asarray(make.photo("chelsea", 240).convert("L"), dtype=np.uint16)
    Image.fromarray(luminance * 257).save(folder / "chelsea_16bit.png")  # 0-65535

    make.image(folder / "rocket.png", "rocket", 320)
    palette = make.photo("rocket", 240).quantize(256)
    palette.save(folder / "rocket_palette.png", transparency=0)

    make.image(folder / "ihc.png", "immunohistochemistry", 320)
    rgba = make.photo("immunohistochemistry", 240).convert("RGBA")
    alpha = np.full((rgba.height, rgba.width), 255, dtype=np.uint8)
    alpha[:16, :16] = 0  # a transparent corner
    rgba.putalpha(Image.fromarray(alpha))
    rgba.save(folder / "ihc_rgba.png")

    make.image(folder / "coins.png", "coins", 320)
    first = make.photo("coins", 240)
    second = make.photo("clock", 240).resize(first.size)  # clock.png is in the folder too
    first.save(folder / "coins_animated.gif", save_all=True, append_images=[second], duration=100)

    make.image(folder / "camera.png", "camera", 320)
    make.image(folder / "camera_jpeg_named.png", "camera", 240, fmt="JPEG")

    make.image(folder / "cell.png", "cell", 320)
    make.exif_rotated(folder / "cell_exif6.jpg", make.photo("cell", 300), 6)
    make.image(folder / "hubble.png", "hubble_deep_field", 320)
    make.exif_rotated(folder / "hubble_exif8.jpg", make.photo("hubble_deep_field", 300), 8)

    # Bad files.
    (folder / "empty.jpg").write_bytes(b"")
    make.truncated(folder / "truncated.jpg", "retina", "JPEG")
    make.truncated(folder / "truncated.png", "retina", "PNG")
    make.random_bytes(folder / "random.jpg")
    make.text(folder / "notes.png")
    make.bomb_png(folder / "bomb.png")
    make.bomb_gif(folder / "bomb.gif")
    (folder / "broken_link.jpg").symlink_to(folder / "gone.jpg")
    (folder / "loop_a.jpg").symlink_to(folder / "loop_b.jpg")
    (folder / "loop_b.jpg").symlink_to(folder / "loop_a.jpg")
    make.image(folder / "unreadable.jpg", "retina", 200)
    # No image extension: the content sniffing while listing is what meets the refusal.
    (folder / "unreadable_blob").write_bytes(make.encode(make.photo("retina", 200), "PNG"))
    make.image(folder / "unreadable_dir" / "inside.png", "astronaut", 320)
    return folder


@pytest.fixture(scope="module")
def mixed(
    tmp_path_factory: pytest.TempPathFactory,
    make: FileMaker,
    deny: Callable[..., contextlib.AbstractContextManager[None]],
    scan_view: Callable[..., ScanView],
) -> ScanView:
    folder = build_mixed(tmp_path_factory.mktemp("bad_input"), make)
    unreadable = [folder / "unreadable.jpg", folder / "unreadable_blob", folder / "unreadable_dir"]
    with deny(unreadable):
        return scan_view(folder)


@pytest.mark.parametrize("name", sorted(BAD))
def test_bad_file_is_skipped_with_a_clear_reason(mixed: ScanView, name: str) -> None:
    assert name not in mixed.images
    assert name in mixed.skipped, f"{name} was not reported as skipped"
    reason = mixed.skipped[name].lower()
    for word in BAD[name]:
        assert word.lower() in reason, f"{name}: {word!r} not in reason {reason!r}"


def test_exactly_the_bad_files_are_skipped(mixed: ScanView) -> None:
    assert set(mixed.skipped) == set(BAD)
    assert mixed.result.stats.skipped == len(BAD)
    expected_images = {*VARIANTS, *(src for src, _ in VARIANTS.values()), *UNRELATED}
    assert set(mixed.images) == expected_images
    assert mixed.result.stats.images == len(expected_images)


def test_good_files_beside_bad_ones_are_grouped_exactly(mixed: ScanView) -> None:
    expected = {source: {variant} for variant, (source, _) in VARIANTS.items()}
    assert mixed.groups == expected
    assert mixed.groups["astro.png"] == {"astro_small.jpg"}  # keeper: the larger original


def test_unreadable_folder_is_not_entered(mixed: ScanView) -> None:
    assert not any(name.startswith("unreadable_dir/") for name in mixed.images)


@pytest.mark.parametrize("variant", sorted(VARIANTS))
def test_awkward_valid_file_is_read_and_grouped_with_its_source(
    mixed: ScanView, variant: str
) -> None:
    source, fmt = VARIANTS[variant]
    assert variant in mixed.images, mixed.skipped.get(variant)
    assert mixed.images[variant].format == fmt
    assert mixed.group_of(variant) == (source, {source, variant})
    pair = mixed.pair(source, variant)
    assert pair is not None and pair.similarity >= 0.9


def test_the_awkward_files_are_what_they_claim(mixed: ScanView) -> None:
    """Guards the fixtures: each variant really has the property under test."""
    root = mixed.root
    with Image.open(root / "coffee_cmyk.jpg") as im:
        assert im.mode == "CMYK"
    with Image.open(root / "chelsea_16bit.png") as im:
        assert im.mode == "I;16"
        assert (np.asarray(im) > 255).mean() > 0.95  # nearly all white if clipped to 8 bits
    with Image.open(root / "rocket_palette.png") as im:
        assert im.mode == "P" and "transparency" in im.info
    with Image.open(root / "ihc_rgba.png") as im:
        assert im.mode == "RGBA"
    with Image.open(root / "coins_animated.gif") as im:
        assert im.n_frames == 2
    assert (root / "camera_jpeg_named.png").read_bytes()[:3] == b"\xff\xd8\xff"
    with Image.open(root / "cell_exif6.jpg") as im:
        assert im.getexif()[0x0112] == 6 and im.size == (300, 250)
    with Image.open(root / "hubble_exif8.jpg") as im:
        assert im.getexif()[0x0112] == 8


@pytest.mark.parametrize(
    ("rotated", "upright"), [("cell_exif6.jpg", "cell.png"), ("hubble_exif8.jpg", "hubble.png")]
)
def test_exif_rotated_jpeg_is_upright(mixed: ScanView, rotated: str, upright: str) -> None:
    original = mixed.images[upright]
    turned = mixed.images[rotated]
    with Image.open(mixed.root / rotated) as stored:
        stored_size = stored.size
    displayed = (stored_size[1], stored_size[0])
    assert (turned.width, turned.height) == displayed
    assert (turned.width / turned.height) == pytest.approx(original.width / original.height, 0.02)
    # Row 0 of the PDQ views is the image as displayed: it must match the upright original
    # directly, not only through a rotated view (which would also match a sideways image).
    assert original.pdq is not None and turned.pdq is not None
    assert int(hamming(original.pdq[0], turned.pdq[0])) <= 16
    assert int(hamming(original.pdq[0], turned.pdq[1:]).min()) > 64


def test_animated_gif_uses_its_first_frame(mixed: ScanView) -> None:
    assert mixed.group_of("coins_animated.gif") == (
        "coins.png",
        {"coins.png", "coins_animated.gif"},
    )
    assert mixed.pair("clock.png", "coins_animated.gif") is None


def test_sixteen_bit_png_is_scaled_not_clipped(mixed: ScanView) -> None:
    pair = mixed.pair("chelsea.png", "chelsea_16bit.png")
    assert pair is not None
    assert pair.scores["pdq"] >= 0.9


def test_bomb_headers_are_valid(mixed: ScanView) -> None:
    """The bomb is refused for its size, not because its header is broken."""
    body = (mixed.root / "bomb.png").read_bytes()
    assert len(body) < 200
    length = struct.unpack(">I", body[8:12])[0]
    kind, ihdr, crc = body[12:16], body[16 : 16 + length], body[16 + length : 20 + length]
    assert kind == b"IHDR" and struct.unpack(">I", crc)[0] == zlib.crc32(kind + ihdr)
    for name in ("bomb.png", "bomb.gif"):
        with Image.open(mixed.root / name) as im:
            assert im.size == (60_000, 60_000)


def test_bomb_is_read_when_the_limit_allows_it(tmp_path: Path, make: FileMaker) -> None:
    """The refusal is the max_pixels check: a small real image over a tiny limit is refused
    with the same reason, and read when the limit allows its size exactly."""
    make.image(tmp_path / "a.png", "astronaut", 100)
    refused = neardup.scan([tmp_path], cache=False, workers=1, max_pixels=100 * 100 - 1)
    assert [s.reason.split(":")[0] for s in refused.skipped] == ["decompression bomb"]
    read = neardup.scan([tmp_path], cache=False, workers=1, max_pixels=100 * 100)
    assert read.skipped == [] and len(read.images) == 1


def test_nothing_readable_gives_only_skips(tmp_path: Path, make: FileMaker) -> None:
    (tmp_path / "empty.jpg").write_bytes(b"")
    make.text(tmp_path / "notes.png")
    make.bomb_png(tmp_path / "bomb.png")
    result = neardup.scan([tmp_path], cache=False, workers=1)
    assert result.images == [] and result.pairs == [] and result.groups == []
    assert len(result.skipped) == 3
    assert os.path.basename(result.skipped[0].path) == "bomb.png"  # sorted by path


def test_names_that_are_not_utf8_are_skipped_and_the_run_goes_on(
    tmp_path: Path, make: FileMaker, capsys: pytest.CaptureFixture[str]
) -> None:
    """Linux names are bytes: a Latin-1 name (an old archive's) cannot be held by the stores
    or the UTF-8 outputs. It is skipped with its name escaped, as is a folder named so, and
    the scan, its cache and its JSON and CSV go on with the rest."""
    import csv
    import json

    from neardup.cli import main

    make.image(tmp_path / "good.png", "astronaut", 200)
    make.image(tmp_path / "copy.jpg", "astronaut", 120)
    root = os.fsencode(tmp_path)
    make.image(Path(os.fsdecode(root + b"/caf\xe9.png")), "astronaut", 150)
    (Path(os.fsdecode(root + b"/notes\xe9.txt"))).write_text("a note, not a picture")
    os.mkdir(root + b"/d\xfcr")
    make.image(Path(os.fsdecode(root + b"/d\xfcr/inner.png")), "coffee", 150)
    out, table = tmp_path / "out", tmp_path / "out.csv"
    cache = tmp_path / "cache.sqlite"
    args = [str(tmp_path), "--json", str(out), "--csv", str(table), "--cache", str(cache)]
    assert main(["scan", *args]) == 0
    doc = json.loads(out.read_text(encoding="utf-8"))
    reasons = {os.path.basename(s["path"]): s["reason"] for s in doc["skipped"]}
    assert set(reasons) == {"caf\\xe9.png", "d\\xfcr"}  # the note is ignored, as notes.txt
    assert all("not valid UTF-8" in r for r in reasons.values())
    assert [sorted(os.path.basename(p[k]) for k in "ab") for p in doc["pairs"]] == [
        ["copy.jpg", "good.png"]
    ]
    assert len(list(csv.DictReader(table.open(encoding="utf-8")))) == 1
    assert "caf\\xe9.png" in capsys.readouterr().out
    assert main(["scan", *args]) == 0  # again, from the cache


def test_pictures_one_pixel_thin_are_read_and_checked(tmp_path: Path) -> None:
    """A 1 x 1 or 5000 x 1 picture once stopped the scan inside OpenCV's ORB (its pyramid
    scales a side of one pixel to zero). Such pictures are scanned and paired by what they
    show; the check and the differences say they cannot use them."""
    from neardup import verify
    from neardup.differences import measure_pairs

    Image.new("RGB", (1, 1), "red").save(tmp_path / "dot.png")
    Image.new("RGB", (5000, 1), "red").save(tmp_path / "line.png")
    Image.new("RGB", (1, 300), "red").save(tmp_path / "column.png")
    Image.new("RGB", (300, 300), "red").save(tmp_path / "square.png")
    result = neardup.scan([tmp_path], cache=False, workers=1)
    assert result.skipped == [] and len(result.images) == 4
    assert result.pairs  # solid red everywhere: they pair up
    assert verify.Verifier().describe(np.zeros((1, 300), dtype=np.uint8)) is None
    thin = [str(tmp_path / "line.png"), str(tmp_path / "column.png")]
    assert verify.check_pairs([(thin[0], thin[1])]) == [None]
    (measured,) = measure_pairs([(thin[0], thin[1])])
    assert "could not align" in measured.note


def test_a_failing_check_leaves_its_pair_undecided(
    tmp_path: Path, make: FileMaker, monkeypatch: pytest.MonkeyPatch
) -> None:
    from neardup import verify

    def broken(self: verify.Verifier, a: object, b: object) -> None:
        raise self.cv2_error("an OpenCV assertion")

    make.image(tmp_path / "a.png", "astronaut", 256)
    make.image(tmp_path / "b.jpg", "astronaut", 200)
    monkeypatch.setattr(verify.Verifier, "check", broken)
    assert verify.check_pairs([(str(tmp_path / "a.png"), str(tmp_path / "b.jpg"))]) == [None]


def test_usage_traps_get_a_clear_answer(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """One path given as a string is that path, not its letters; an unknown `differences`,
    a `--max-pixels` that refuses everything and a missing truth file are usage errors;
    `stats.pairs` counts the pairs at the cut, not those `--keep-below` keeps too."""
    from neardup.cli import main

    for i, side in enumerate((120, 96, 64)):
        Image.new("RGB", (side, side), (40 * i, 90, 160)).save(tmp_path / f"p{i}.png")
    one = neardup.scan(str(tmp_path), cache=False, workers=1, differences="none")
    assert len(one.images) == 3 and one.skipped == []
    with pytest.raises(ValueError, match="differences"):
        neardup.scan([tmp_path], cache=False, workers=1, differences="weird")
    with pytest.raises(SystemExit):
        main(["scan", str(tmp_path), "--max-pixels", "0"])
    assert main(["eval", str(tmp_path / "missing.json")]) == 2
    assert "cannot read" in capsys.readouterr().err
    low = neardup.scan([tmp_path], cache=False, workers=1, floor=0.0, differences="none")
    at_cut = [p for p in low.pairs if p.confidence >= low.settings["threshold"]]  # type: ignore[operator]
    assert len(low.pairs) > len(at_cut) and low.stats.pairs == len(at_cut)


def test_svg_files_are_listed_as_skipped(tmp_path: Path) -> None:
    """A folder of SVGs read "0 images, 0 skipped" (a tester): they are named with a reason."""
    (tmp_path / "logo.svg").write_text('<svg xmlns="http://www.w3.org/2000/svg" width="9"/>')
    result = neardup.scan(tmp_path, cache=False, workers=1)
    assert [(Path(s.path).name, "SVG (vector)" in s.reason) for s in result.skipped] == [
        ("logo.svg", True)
    ]
