"""`neardup.differences`: copies whose edit is known are described by that edit, measured, and a
plain re-encode is described by nothing (within the documented tolerances)."""

from __future__ import annotations

import io
import math
import shutil
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageDraw, ImageEnhance, ImageFilter, ImageOps

import neardup
from neardup.difference_measures import jpeg_quality, percentile
from neardup.difference_resample import Reductions
from neardup.differences import Differ, _worse_quality, measure_pairs
from neardup.output.differences import summary, swapped, to_dict
from neardup.records import DIFFERENCE_KINDS, Differences

Edit = Callable[[Image.Image], Image.Image]


def _save(image: Image.Image, path: Path, quality: int = 92) -> Path:
    if path.suffix == ".png":
        image.save(path, "PNG")
    else:
        image.save(path, "JPEG", quality=quality)
    return path


def _crop70(image: Image.Image) -> Image.Image:
    w, h = image.size
    return image.crop((round(w * 0.2), round(h * 0.1), round(w * 0.9), round(h * 0.8)))


def _rotate10(image: Image.Image) -> Image.Image:
    w, h = image.size
    turned = image.rotate(10, Image.Resampling.BICUBIC, expand=False)
    return turned.crop((round(w * 0.15), round(h * 0.15), round(w * 0.85), round(h * 0.85)))


def _borders(image: Image.Image) -> Image.Image:
    w, h = image.size
    pad = round(h * 0.12)
    out = Image.new("RGB", (w, h + 2 * pad), (0, 0, 0))
    out.paste(image, (0, pad))
    return out


def _bar15(image: Image.Image) -> Image.Image:
    """A black bar painted over the bottom 15 % of the same canvas: the picture under it is
    lost (cropped) and the bar is a border, not a flat background trimmed differently."""
    w, h = image.size
    out = image.copy()
    ImageDraw.Draw(out).rectangle((0, h - round(h * 0.15), w - 1, h - 1), fill=(0, 0, 0))
    return out


def _crop_padded(image: Image.Image) -> Image.Image:
    """The middle 80 % of each side, padded back to the full width with white bars."""
    w, h = image.size
    inner = image.crop((round(w * 0.1), round(h * 0.1), round(w * 0.9), round(h * 0.9)))
    out = Image.new("RGB", (w, inner.height), (255, 255, 255))
    out.paste(inner, ((w - inner.width) // 2, 0))
    return out


def _overlay15(image: Image.Image) -> Image.Image:
    w, h = image.size
    side = round(math.sqrt(0.15 * w * h))
    out = image.copy()
    ImageDraw.Draw(out).rectangle((w - side - 8, 8, w - 9, 8 + side - 1), fill=(240, 30, 40))
    return out


def _colour(image: Image.Image) -> Image.Image:
    brighter = ImageEnhance.Brightness(image).enhance(1.3)
    return ImageEnhance.Color(brighter).enhance(0.5)


EDITS: dict[str, tuple[Edit, set[str]]] = {
    "mirror": (ImageOps.mirror, {"mirrored"}),
    "rot90": (lambda im: im.transpose(Image.Transpose.ROTATE_90), {"turned"}),
    "rot180": (lambda im: im.transpose(Image.Transpose.ROTATE_180), {"turned"}),
    "rot270": (lambda im: im.transpose(Image.Transpose.ROTATE_270), {"turned"}),
    "rot10": (_rotate10, {"turned", "cropped"}),
    "crop70": (_crop70, {"cropped"}),
    "scale50": (lambda im: im.resize((im.width // 2, im.height // 2)), {"scaled"}),
    # Resized to a shape of other proportions, as for a model's fixed input.
    "wider": (lambda im: im.resize((im.width * 5 // 4, im.height)), {"scaled", "stretched"}),
    "square": (lambda im: im.resize((224, 224)), {"scaled", "stretched"}),
    "borders": (_borders, {"borders"}),
    "bar15": (_bar15, {"borders", "cropped"}),
    "croppad": (_crop_padded, {"borders", "cropped"}),
    "grey": (lambda im: im.convert("L"), {"greyscale"}),
    "colour": (_colour, {"colour"}),
    "overlay15": (_overlay15, {"overlay"}),
    "blur": (lambda im: im.filter(ImageFilter.GaussianBlur(3)), {"quality"}),
}


@pytest.fixture(scope="module")
def edited(tmp_path_factory: pytest.TempPathFactory, photo: Callable[..., Image.Image]) -> Path:
    """The coffee photo (600 px) as a JPEG original and one copy per edit, plus a heavy JPEG,
    a plain re-encode, a PNG of the decoded original and a byte copy."""
    folder = tmp_path_factory.mktemp("edits")
    original = photo("coffee", 600)
    _save(original, folder / "orig.jpg")
    for name, (edit, _) in EDITS.items():
        _save(edit(original), folder / f"{name}.jpg")
    _save(original, folder / "jpeg10.jpg", quality=10)
    _save(original, folder / "reencode.jpg", quality=80)
    _save(Image.open(folder / "orig.jpg").convert("RGB"), folder / "pixels.png")
    shutil.copy(folder / "orig.jpg", folder / "copy.jpg")
    return folder


@pytest.fixture(scope="module")
def found(edited: Path) -> dict[str, Differences]:
    differ = Differ()
    original = str(edited / "orig.jpg")
    return {p.stem: differ.measure(original, str(p)) for p in sorted(edited.iterdir())}


@pytest.mark.parametrize("name", sorted(EDITS))
def test_each_edit_is_found_and_nothing_else(found: dict[str, Differences], name: str) -> None:
    assert set(found[name].kinds) == EDITS[name][1], summary(found[name])
    assert set(found[name].kinds) <= set(DIFFERENCE_KINDS)


def test_measures_match_the_edits(found: dict[str, Differences], edited: Path) -> None:
    assert found["mirror"].mirrored and found["mirror"].turned == 0
    assert [found[n].turned for n in ("rot90", "rot180", "rot270")] == [90, 180, -90]
    assert found["rot10"].turned == pytest.approx(10, abs=0.5)
    crop = found["crop70"].common
    assert crop is not None and crop[0] == pytest.approx(0.49, abs=0.02) and crop[1] > 0.98
    assert found["scale50"].scale == pytest.approx(0.5, abs=0.01)
    assert found["scale50"].stretch == pytest.approx(1.0, abs=0.01)
    assert found["wider"].stretch == pytest.approx(1.25, abs=0.02) and found["wider"].turned == 0
    assert found["wider"].scale == pytest.approx(1.25**0.5, abs=0.02)
    w, h = Image.open(edited / "orig.jpg").size
    assert found["square"].stretch == pytest.approx(h / w, rel=0.02)
    assert found["borders"].borders == (("b", ("top", "bottom"), pytest.approx(0.19, abs=0.01)),)
    bar, pad = found["bar15"], found["croppad"]
    assert bar.borders == (("b", ("bottom",), pytest.approx(0.15, abs=0.01)),)
    assert bar.common == (pytest.approx(0.85, abs=0.01), pytest.approx(1, abs=0.01))
    assert pad.borders == (("b", ("left", "right"), pytest.approx(0.2, abs=0.01)),)
    assert pad.common == (pytest.approx(0.64, abs=0.02), pytest.approx(1, abs=0.01))
    assert found["grey"].greyscale == "b"
    assert (found["colour"].colour or 0) > 15
    # The overlay covers 15 % of the picture.
    assert found["overlay15"].overlay == pytest.approx(0.15, abs=0.03)
    assert (found["blur"].sharpness or 1) < 0.2
    assert found["jpeg10"].jpeg_quality == (92, 10) and "quality" in found["jpeg10"].kinds


def test_plain_reencode_differs_in_nothing(found: dict[str, Differences]) -> None:
    d = found["reencode"]
    assert d.kinds == () and d.aligned_by == "keypoints", summary(d)
    assert d.common is not None and min(d.common) > 0.98
    assert d.overlay is not None and d.overlay < 0.01
    assert d.colour is not None and d.colour < 2
    assert d.sharpness == pytest.approx(1, abs=0.1)
    assert summary(d) == "no difference above tolerance"


@pytest.mark.parametrize("name", ["astronaut", "chelsea", "rocket"])
def test_reencodes_within_the_documented_tolerance_differ_in_nothing(
    photo: Callable[..., Image.Image], tmp_path: Path, name: str
) -> None:
    """JPEG quality 75 and 95 of a quality-92 original, and a PNG of it: no kind reported."""
    original = _save(photo(name, 400), tmp_path / "orig.jpg")
    decoded = Image.open(original).convert("RGB")
    copies = [_save(decoded, tmp_path / f"q{q}.jpg", quality=q) for q in (75, 95)]
    copies.append(_save(decoded.rotate(0), tmp_path / "copy.png"))
    differ = Differ()
    for copy in copies:
        d = differ.measure(str(original), str(copy))
        assert d.kinds in ((), ("identical pixels",)), (copy.name, summary(d))


def test_identical_file_and_identical_pixels(
    found: dict[str, Differences], edited: Path, tmp_path: Path
) -> None:
    # A PNG of the decoded JPEG: other bytes, the same pixels.
    assert found["pixels"].kinds == ("identical pixels",)
    same = measure_pairs([(str(edited / "orig.jpg"), str(edited / "copy.jpg"))])[0]
    assert same.kinds == ("identical file",) and same.identical == "file"
    # The same pixels in another container (PNG, then the PNG with other compression).
    Image.open(edited / "pixels.png").save(tmp_path / "again.png", compress_level=1)
    pixels = measure_pairs([(str(edited / "pixels.png"), str(tmp_path / "again.png"))])[0]
    assert pixels.kinds == ("identical pixels",) and pixels.identical == "pixels"


def test_full_decodes_confirm_identical_pixels_only_where_the_working_ones_cannot(
    photo: Callable[..., Image.Image], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A JPEG decoded DCT-scaled (shorter side 800) and a PNG of its pixels are identical
    pixels, confirmed by full decodes; two pictures decoded from all their pixels whose
    working pixels differ (a re-encode at the same size) are told apart without them."""
    import neardup.difference_pictures as pictures

    big = _save(photo("coffee", 1200), tmp_path / "big.jpg")
    _save(Image.open(big).convert("RGB"), tmp_path / "big.png")
    small = _save(photo("coffee", 600), tmp_path / "small.jpg")
    _save(Image.open(small).convert("RGB"), tmp_path / "small_q90.jpg", quality=90)
    hashed: list[int] = []
    full_hash = pictures.pixel_hash_of
    monkeypatch.setattr(pictures, "pixel_hash_of", lambda data: hashed.append(1) or full_hash(data))
    pixels = measure_pairs([(str(big), str(tmp_path / "big.png"))])[0]
    assert pixels.kinds == ("identical pixels",) and len(hashed) == 2
    reencode = measure_pairs([(str(small), str(tmp_path / "small_q90.jpg"))])[0]
    assert reencode.identical is None and len(hashed) == 2


def test_bad_input_gives_a_note_not_an_error(edited: Path, tmp_path: Path) -> None:
    (tmp_path / "junk.jpg").write_text("not a picture")
    out = measure_pairs(
        [
            (str(edited / "orig.jpg"), str(tmp_path / "junk.jpg")),
            (str(edited / "orig.jpg"), str(tmp_path / "missing.jpg")),
        ]
    )
    assert [d.kinds for d in out] == [(), ()]
    assert "cannot decode" in out[0].note and "cannot read" in out[1].note
    assert summary(out[1]).startswith("not measured")


def test_flat_pictures_fall_back_to_whole_frames(tmp_path: Path) -> None:
    """A flat graphic has too few corners for keypoints: the dihedral view of the whole frame
    still finds the turn, and crop is left unmeasured rather than guessed."""
    image = Image.new("RGB", (300, 200), (30, 90, 200))
    draw = ImageDraw.Draw(image)
    draw.ellipse((20, 20, 180, 180), fill=(250, 200, 20))
    draw.ellipse((200, 40, 280, 160), fill=(200, 30, 30))
    image = image.filter(ImageFilter.GaussianBlur(12))
    a = _save(image, tmp_path / "a.png")
    b = _save(image.transpose(Image.Transpose.ROTATE_90), tmp_path / "b.png")
    d = measure_pairs([(str(a), str(b))])[0]
    assert d.aligned_by == "frame" and d.turned == 90 and d.common is None
    assert "turned" in d.kinds and "crop not measured" in d.note


@pytest.mark.parametrize("quality", [5, 10, 30, 50, 75, 95])
def test_jpeg_quality_from_the_tables(quality: int) -> None:
    buffer = io.BytesIO()
    Image.new("RGB", (64, 64), (90, 120, 30)).save(buffer, "JPEG", quality=quality)
    assert jpeg_quality(Image.open(buffer).quantization) == quality  # type: ignore[attr-defined]
    assert jpeg_quality(None) is None


def test_swapped_tells_it_the_other_way(found: dict[str, Differences]) -> None:
    d = swapped(found["scale50"])
    assert d.scale == pytest.approx(2.0, abs=0.05)
    assert swapped(found["rot90"]).turned == -90 and swapped(found["rot180"]).turned == 180
    back = swapped(found["borders"])
    assert back.borders[0][0] == "a" and swapped(found["grey"]).greyscale == "a"
    assert swapped(found["jpeg10"]).jpeg_quality == (10, 92)
    assert swapped(found["wider"]).stretch == pytest.approx(0.8, abs=0.02)
    assert "stretched ×1.25 wider" in summary(found["wider"])
    assert "stretched ×1.25 taller" in summary(swapped(found["wider"]))
    assert "borders on this copy" in summary(found["borders"], ("the other", "this copy"))


def test_quality_names_the_jpeg_gap_only_where_it_is_one(found: dict[str, Differences]) -> None:
    """A tester: a blurred copy saved at the original's quality read "blurrier, JPEG
    quality 92 vs 90", as if the JPEG were the cause; a quality-10 copy names its gap."""
    assert "JPEG quality 92 vs 10" in summary(found["jpeg10"])
    blurred = summary(found["blur"])
    assert "blurrier" in blurred and "JPEG quality" not in blurred, blurred


def test_json_shape(found: dict[str, Differences]) -> None:
    data = to_dict(found["crop70"])
    assert data["kinds"] == ["cropped"] and data["common"]["b"] > 0.98
    assert data["summary"].startswith("cropped: 49% of a")
    assert set(data) >= {"turned", "scale", "borders", "overlay", "sharpness", "jpeg_quality"}
    assert np.isfinite(data["sharpness"])


def test_scan_and_compare_report_differences(edited: Path, tmp_path: Path) -> None:
    """Through the engine, on the reported pairs only: JSON, CSV and the table carry them."""
    import csv

    import neardup
    from neardup.output import csv as csv_out
    from neardup.output import json as json_out
    from neardup.output import table

    folder = tmp_path / "scan"
    folder.mkdir()
    for name in ("orig.jpg", "mirror.jpg", "grey.jpg"):
        shutil.copy(edited / name, folder / name)
    result = neardup.scan([folder], cache=False, workers=1, floor=0.0, differences="all")
    cut = result.settings["threshold"]
    assert isinstance(cut, float) and result.pairs
    for pair in result.pairs:
        assert (pair.differences is not None) == (pair.confidence >= cut)
    # By default only the pair that puts each member in its group is measured.
    default = neardup.scan([folder], cache=False, workers=1)
    joined = {frozenset((g.via.get(m, g.keeper), m)) for g in default.groups for m, _ in g.members}
    for pair in default.pairs:
        assert (pair.differences is not None) == (frozenset((pair.a, pair.b)) in joined)
    # The hash-only fast pass finds and does not describe, unless asked to.
    fast = neardup.scan([folder], methods="pdq", cache=False, workers=1)
    assert fast.pairs and all(p.differences is None for p in fast.pairs)
    assert fast.settings["differences"] is False
    asked = neardup.scan([folder], methods="pdq", cache=False, workers=1, differences="groups")
    assert any(p.differences is not None for p in asked.pairs)
    names = {
        frozenset((Path(result.path(p.a)).stem, Path(result.path(p.b)).stem)): p
        for p in result.pairs
    }
    mirror = names[frozenset(("orig", "mirror"))].differences
    assert mirror is not None and mirror.kinds == ("mirrored",)
    data = json_out.to_dict(result)
    reported = [p for p in data["pairs"] if p["confidence"] >= cut]
    assert all("differences" in p for p in reported)
    # Group members are told relative to the image they matched (b = the member): whichever
    # way the grey copy is paired, the grey one is named.
    checked = 0
    for member in (m for g in data["groups"] for m in g["members"]):
        stems = (Path(member["path"]).stem, Path(member["matched"]).stem)
        if "grey" in stems:
            expected = "b" if stems[0] == "grey" else "a"
            assert member["differences"]["greyscale"] == expected
            checked += 1
    assert checked
    rows = list(csv.DictReader(io.StringIO(csv_out.dumps(result))))
    assert any(row["differences"] == "mirrored" for row in rows)
    assert "differs: mirrored" in table.render(result)
    compared = neardup.compare(folder / "orig.jpg", folder / "grey.jpg")
    assert compared.differences is not None and compared.differences.greyscale == "b"


def test_differences_eval_script_scores_a_tiny_set(edited: Path, tmp_path: Path) -> None:
    """benchmarks/differences_eval.py on a four-image truth: every edit named, the scores
    and the drawn-against-measured errors as worked out by hand."""
    import importlib.util
    import json

    script = Path(__file__).resolve().parents[1] / "benchmarks" / "differences_eval.py"
    spec = importlib.util.spec_from_file_location("differences_eval", script)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    (tmp_path / "images").mkdir()
    records = []
    for name, edit, params in (
        ("orig", "original", {}),
        ("mirror", "flip", {}),
        ("rot10", "rotate_small", {"angle": 10.0}),
        ("crop70", "crop", {"area": 0.49}),
        ("reencode", "resize_recompress", {"scale": 1.0}),  # not scaled: 'named' fails
    ):
        shutil.copy(edited / f"{name}.jpg", tmp_path / "images" / f"{name}.jpg")
        records.append(
            {
                "path": f"images/{name}.jpg",
                "group": "g1",
                "edit": edit,
                "source": "s",
                "split": "test",
                "params": params,
            }
        )
    (tmp_path / "truth.json").write_text(json.dumps({"version": 1, "images": records}))
    out = tmp_path / "scores.json"
    assert module.main([str(tmp_path), "--workers", "1", "--json", str(out)]) == 0
    scores = json.loads(out.read_text())[tmp_path.name]
    per_edit = scores["per_edit"]
    assert {e: c["named"] for e, c in per_edit.items()} == {
        "crop": 1,
        "flip": 1,
        "resize_recompress": 0,
        "rotate_small": 1,
    }
    assert scores["per_kind"]["scaled"] == {
        "positives": 1,
        "found": 0,
        "negatives": 2,
        "false_alarms": 0,
    }
    assert scores["measures"]["rotate_small angle (deg)"]["median"] < 0.5
    assert scores["measures"]["crop area (share)"]["median"] < 0.02


def test_percentile_is_numpys_to_the_last_bit() -> None:
    rng = np.random.default_rng(7)
    for n in (1, 2, 3, 10, 999, 5000):
        values = rng.random(n) * 255
        for q in (0, 60, 90, 100):
            assert percentile(values, q) == np.percentile(values, q)


def test_reductions_remember_a_picture_and_size_and_nothing_else() -> None:
    import cv2

    rng = np.random.default_rng(3)
    picture = rng.integers(0, 256, (120, 170, 3), np.uint8)
    reductions = Reductions(cv2)
    first = reductions(picture, (40, 28))
    assert np.array_equal(first, cv2.resize(picture, (40, 28), interpolation=cv2.INTER_AREA))
    assert reductions(picture, (40, 28)) is first
    assert reductions(picture.copy(), (40, 28)) is not first  # another array: reduced anew
    assert reductions(picture, (41, 28)).shape == (28, 41, 3)


def test_warping_at_the_compare_size_is_close_to_warping_at_the_working_size(
    photo: Callable[..., Image.Image],
) -> None:
    """`colour_fit`'s small warp against warping the working picture and reducing after: the
    same where nothing moves; on a turned and shrunk detailed photo, about 4 levels apart on
    average (interpolating at the small size), and aligned (a quarter of a small pixel off
    is 8)."""
    import cv2

    from neardup.difference_resample import area_reduce, warp_small

    rgb = np.asarray(photo("astronaut", 384).convert("RGB"))
    turn = cv2.getRotationMatrix2D((200.0, 180.0), 7.0, 0.8)
    size = (96, 96)
    full = cv2.warpAffine(rgb, turn, (384, 384), flags=cv2.INTER_LINEAR)
    cover = cv2.warpAffine(np.full(rgb.shape[:2], 255, np.uint8), turn, (384, 384))
    expected = cv2.resize(full, size, interpolation=cv2.INTER_AREA).astype(np.float64) / 255
    inside_expected = cv2.resize(cover, size, interpolation=cv2.INTER_AREA) >= 250
    small, small_cover = warp_small(cv2, turn, rgb, (384, 384), size, area_reduce(cv2))
    inside = small_cover >= 250
    assert abs(int(inside.sum()) - int(inside_expected.sum())) <= 0.05 * inside_expected.sum()
    both = inside & inside_expected
    assert np.abs(small[both] - expected[both]).mean() * 255 < 6.0
    still = np.array([[1.0, 0.0, 0.0], [0.0, 1.0, 0.0]])
    same, _ = warp_small(cv2, still, rgb, (384, 384), size, area_reduce(cv2))
    plain = cv2.resize(rgb, size, interpolation=cv2.INTER_AREA).astype(np.float64) / 255
    assert np.array_equal(same[2:-2, 2:-2], plain[2:-2, 2:-2])


def test_a_byte_copy_is_told_without_decoding_it(
    edited: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import neardup.difference_pictures as pictures

    decoded: list[str] = []
    real = pictures.decode
    monkeypatch.setattr(
        pictures,
        "decode",
        lambda data, path, *a, **k: decoded.append(path) or real(data, path, *a, **k),
    )
    shutil.copy(edited / "orig.jpg", tmp_path / "copy.jpg")
    (tmp_path / "junk.jpg").write_text("not a picture")
    original, copy, junk = (
        str(edited / "orig.jpg"),
        str(tmp_path / "copy.jpg"),
        str(tmp_path / "junk.jpg"),
    )
    same, other, bad = measure_pairs(
        [(original, copy), (original, str(edited / "blur.jpg")), (original, junk)]
    )
    assert same.kinds == ("identical file",) and same.orientation == (1, 1)
    assert other.kinds == ("quality",)
    assert "cannot decode" in bad.note
    assert copy not in decoded and decoded.count(original) == 1


def _half_turn_symmetric() -> Image.Image:
    """Lines, a disc and two boxes that a half turn leaves in place: keypoints match either
    way round."""
    image = Image.new("RGB", (400, 300), (240, 240, 240))
    draw = ImageDraw.Draw(image)
    for x in range(0, 401, 25):
        draw.line((x, 0, 400 - x, 300), fill=(30, 30, 30), width=3)
    draw.ellipse((150, 100, 250, 200), fill=(200, 40, 40))
    draw.rectangle((20, 20, 80, 60), fill=(20, 120, 200))
    draw.rectangle((320, 240, 380, 280), fill=(20, 120, 200))
    return image


@pytest.mark.parametrize("degrees", [15, -25])
def test_a_symmetric_picture_is_named_by_its_smaller_turn(tmp_path: Path, degrees: int) -> None:
    """Turned 15 degrees, a picture a half turn leaves alike was read as turned 165 degrees
    the other way: keypoints match either way round; the smaller turn is the edit."""
    image = _half_turn_symmetric()
    a = _save(image, tmp_path / "a.png")
    turned = image.rotate(degrees, Image.Resampling.BICUBIC, expand=True, fillcolor=(0, 0, 0))
    b = _save(turned, tmp_path / "b.png")
    d = measure_pairs([(str(a), str(b))])[0]
    assert d.aligned_by == "keypoints" and d.turned is not None
    assert abs(abs(d.turned) - abs(degrees)) < 2, d.turned
    half = _save(
        image.rotate(180 + degrees, Image.Resampling.BICUBIC, expand=True), tmp_path / "c.png"
    )
    assert abs(abs(measure_pairs([(str(a), str(half))])[0].turned or 0) - abs(degrees)) < 2


def test_a_smooth_picture_resized_to_a_square_is_stretched_not_shifted(tmp_path: Path) -> None:
    """Too few keypoints on a smooth gradient: the whole frames are aligned. A copy resized
    to 224 x 224 was laid on at the area ratio (and read as "colour changed"); it is now
    stretched onto the whole frame. A crop to a square keeps the area ratio."""
    h, w = 480, 640
    y, x = np.mgrid[0:h, 0:w]
    rgb = np.stack(
        [120 + 60 * np.sin(x / w * 3) + 30 * y / h, 140 + 40 * np.cos(y / h * 2), 200 - 50 * y / h],
        -1,
    )
    rgb += np.random.default_rng(0).normal(0, 2, rgb.shape)
    picture = Image.fromarray(np.clip(rgb, 0, 255).astype(np.uint8)).filter(
        ImageFilter.GaussianBlur(2)
    )
    picture.save(tmp_path / "a.jpg", quality=90)
    picture.resize((224, 224), Image.BICUBIC).save(tmp_path / "square.jpg", quality=90)
    picture.crop((0, 0, h, h)).save(tmp_path / "cropped.jpg", quality=90)
    squared, cropped = measure_pairs(
        [(str(tmp_path / "a.jpg"), str(tmp_path / n)) for n in ("square.jpg", "cropped.jpg")]
    )
    assert squared.aligned_by == cropped.aligned_by == "frame"
    assert "stretched" in squared.kinds and squared.stretch == pytest.approx(0.75, abs=0.01)
    assert "colour" not in squared.kinds, summary(squared)
    assert "stretched" not in cropped.kinds and cropped.stretch == pytest.approx(1.0)


def test_unaligned_pictures_are_not_read_as_a_plain_reencode() -> None:
    """Pictures that could not be aligned were not compared: `mirrored` is null, not false,
    and the line says nothing was measured (an empty `kinds` alone reads as a re-encode)."""
    d = Differences((), note="could not align the two pictures (too few keypoints)")
    data = to_dict(d)
    assert data["mirrored"] is None and data["aligned_by"] is None
    assert summary(d).startswith("not measured")
    assert to_dict(Differences((), aligned_by="keypoints"))["mirrored"] is False
    assert to_dict(Differences(("identical file",), "file"))["mirrored"] is False


@pytest.mark.parametrize("ratio", [1.1, 1.5, 1.65, 1.69, 1.72, 2.5, 10.0])
def test_sharpness_reads_the_same_both_ways(ratio: float) -> None:
    """A pair and the same pair told the other way round (ratio and its inverse) are both
    "quality" or neither."""
    assert _worse_quality(ratio, (None, None)) == _worse_quality(1 / ratio, (None, None))


def test_a_darkened_background_trimmed_in_one_copy_is_no_border(
    tmp_path: Path, photo: Callable[..., Image.Image]
) -> None:
    """A photo on a gentle gradient, darkened: the dark copy's background is flat enough to
    trim, the original's is not. Under that trimmed strip the original has its own flat
    background (of another colour, the darkening's): no border, nothing cropped."""
    w, h = 600, 400
    x = np.linspace(0, 1, w)[None, :, None]
    ramp = np.array([40, 60, 140]) * (1 - x) + np.array([80, 70, 190]) * x
    original = Image.fromarray((ramp * np.ones((h, 1, 1))).astype(np.uint8))
    original.paste(photo("coffee", 300).resize((300, 300)), (250, 50))
    dark = ImageEnhance.Brightness(original).enhance(0.3)
    a, b = _save(original, tmp_path / "a.png"), _save(dark, tmp_path / "b.jpg", quality=90)
    d = Differ().measure(str(a), str(b))
    assert set(d.kinds) == {"colour"}, summary(d)


@pytest.mark.parametrize("fill", [(255, 255, 255), (0, 0, 0), (128, 128, 128)])
def test_a_bar_painted_over_a_flat_sky_is_a_border(
    tmp_path: Path, photo: Callable[..., Image.Image], fill: tuple[int, int, int]
) -> None:
    """A bar over the top 12 % of a photo whose top is a smooth sky (a tester's find): the sky
    is content the bar hides (no colour change takes it to the bar's colour), so b has a
    border there and shares 88 % of a, as when those rows are cut off (it read "no
    difference above tolerance" before)."""
    original = photo("rocket", 512)
    w, h = original.size
    barred = original.copy()
    ImageDraw.Draw(barred).rectangle((0, 0, w - 1, round(0.12 * h) - 1), fill=fill)
    a, b = _save(original, tmp_path / "a.png"), _save(barred, tmp_path / "b.png")
    d = Differ().measure(str(a), str(b))
    assert "borders" in d.kinds and d.borders[0][:2] == ("b", ("top",)), summary(d)
    assert d.common is not None and d.common[0] == pytest.approx(0.88, abs=0.02)


def test_a_transparent_picture_and_its_flattening_differ_by_transparency(
    tmp_path: Path, photo: Callable[..., Image.Image]
) -> None:
    """A PNG with see-through parts and the same picture flattened on white show the same
    pixels over white: "identical pixels" alone hid the alpha (a tester). The one with it is
    named, and kept as the group's keeper (the flattened file is larger here)."""
    picture = photo("coffee", 300).convert("RGBA")
    mask = Image.new("L", picture.size, 0)
    ImageDraw.Draw(mask).ellipse((40, 20, 260, 180), fill=255)
    picture.putalpha(mask)
    picture.save(tmp_path / "cut.png", compress_level=9)
    flat = Image.new("RGB", picture.size, (255, 255, 255))
    flat.paste(picture, mask=mask)
    flat.save(tmp_path / "flat.png", compress_level=0)
    d = Differ().measure(str(tmp_path / "cut.png"), str(tmp_path / "flat.png"))
    assert d.kinds == ("identical pixels", "transparency") and d.transparent == "a", summary(d)
    assert "a has transparent parts" in summary(d)
    assert Differ().measure(str(tmp_path / "flat.png"), str(tmp_path / "flat.png")).kinds == (
        "identical file",
    )
    for cache in (tmp_path / "cache.db", tmp_path / "cache.db"):  # computed, then from the cache
        [group] = neardup.scan(tmp_path, cache=cache, workers=1).groups
        result = neardup.scan(tmp_path, cache=cache, workers=1)
        assert Path(result.images[result.groups[0].keeper].path).name == "cut.png"
        assert group.keeper == result.groups[0].keeper


def test_a_turn_under_two_degrees_is_named(
    tmp_path: Path, photo: Callable[..., Image.Image]
) -> None:
    """A page turned 1.2° (expanded onto white) read "overlay on 4 %" with no turn (a tester):
    turns were snapped to 0 within 2°. The snap is now 1°."""
    original = photo("coffee", 600)
    turned = original.rotate(1.5, Image.Resampling.BICUBIC, expand=True, fillcolor="white")
    a, b = _save(original, tmp_path / "a.png"), _save(turned, tmp_path / "b.png")
    d = Differ().measure(str(a), str(b))
    assert "turned" in d.kinds and d.turned == pytest.approx(1.5, abs=0.3), summary(d)


def test_sharpness_of_a_picture_with_no_curvature_warns_nothing() -> None:
    # A linear ramp has contrast but a zero Laplacian: its tiles' detail is 0, and the ratio
    # of b's detail to it must be dropped quietly, not printed to the user as a RuntimeWarning.
    import warnings

    import cv2

    from neardup.difference_measures import sharpness

    ramp = np.tile(np.arange(0, 256, 2, dtype=np.uint8), (128, 1))
    noisy = np.clip(ramp + np.random.default_rng(0).normal(0, 9, ramp.shape), 0, 255)
    matrix = np.array([[1.0, 0.0, 0.0], [0.0, 1.0, 0.0]])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        sharp, _ = sharpness(cv2, matrix, ramp, noisy.astype(np.uint8))
    assert sharp is None or math.isfinite(sharp)
