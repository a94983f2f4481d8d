"""A detail cut out of a picture (a tile) told from a copy of it: where the part's sides lie
inside the other picture, a screenshot has a frame around it and a detail has not
(`neardup.part_check`: RESULTS.md, session 41, R77)."""

from __future__ import annotations

import math
from pathlib import Path

import cv2
import numpy as np
import pytest
from PIL import Image, ImageDraw
from skimage import data as skdata

from neardup import part_check
from neardup.api import compare, scan
from neardup.part_check import (
    CROP_GATE,
    PART_CONFIDENCE,
    PART_GATE,
    Part,
    part_of,
    part_of_value,
    part_pairs,
    part_rescored,
    part_value,
)
from neardup.records import Group
from neardup.scoring import Scored

PASSING = Scored(0.8, 0.95, {"geometry": 0.25}, "geometry", 40.0)


@pytest.fixture(scope="module")
def pictures(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """A photograph, a quarter of it, a crop keeping 64 % of it, the photograph turned 15
    degrees and cut to its largest upright rectangle, and the photograph pasted into a flat
    window (a screenshot)."""
    folder = tmp_path_factory.mktemp("parts")
    source = Image.fromarray(skdata.chelsea()).convert("RGB")
    w, h = source.size
    made = {
        "source.png": source,
        "tile.jpg": source.crop((w // 2, h // 2, w, h)),
        "crop.jpg": source.crop((w - int(w * 0.8), 0, w, int(h * 0.8))),
        "turned.jpg": turned_cropped(source, 15.0),
        "shot.png": screenshot(source),
    }
    for name, picture in made.items():
        picture.save(folder / name, quality=90)
    return {name.split(".")[0]: str(folder / name) for name in made}


def turned_cropped(picture: Image.Image, degrees: float) -> Image.Image:
    """Turned, and cut to the largest upright rectangle of its aspect inside."""
    w, h = picture.size
    t = math.radians(degrees)
    scale = 1.0 / (math.cos(t) + max(w, h) / min(w, h) * math.sin(t))
    turned = picture.rotate(degrees, resample=Image.Resampling.BICUBIC)
    cw, ch = int(w * scale), int(h * scale)
    return turned.crop(((w - cw) // 2, (h - ch) // 2, (w + cw) // 2, (h + ch) // 2))


def screenshot(picture: Image.Image) -> Image.Image:
    """The picture in a flat window with a title bar."""
    w, h = picture.size
    canvas = Image.new("RGB", (w * 2, int(h * 1.9)), (236, 236, 236))
    ImageDraw.Draw(canvas).rectangle((0, 0, canvas.width, 40), fill=(60, 60, 70))
    canvas.paste(picture, (w // 2, h // 2))
    return canvas


def saved_parts(
    folder: Path, made: dict[str, Image.Image], pairs: list[tuple[str, str]]
) -> list[Part]:
    """`made` saved in `folder` (JPEG quality 90) and the part finding of each named pair."""
    for name, picture in made.items():
        picture.save(folder / name, quality=90)
    found = part_pairs([(str(folder / a), str(folder / b)) for a, b in pairs])
    assert all(part is not None for part in found)
    return [part for part in found if part is not None]


def found(pictures: dict[str, str], other: str) -> Part:
    part = part_pairs([(pictures["source"], pictures[other])])[0]
    assert part is not None
    return part


def test_a_quarter_of_a_photograph_is_lowered(pictures: dict[str, str]) -> None:
    part = found(pictures, "tile")
    assert 0.2 < part.cover < 0.3 and part.forced > 0.95  # upright
    assert part.inside > CROP_GATE[1] and part.cover < CROP_GATE[0]  # wholly inside, small
    assert part.seam < PART_GATE[2]  # its sides cut through one picture
    lowered = part_rescored(PASSING, part)
    assert lowered.confidence == PART_CONFIDENCE and lowered.evidence == "part"
    assert lowered.scores["part"] == round(part.cover, 4)


def test_a_picture_in_a_screenshot_is_not_lowered(pictures: dict[str, str]) -> None:
    part = found(pictures, "shot")
    assert part.cover < PART_GATE[0]  # as small a share as a tile's
    assert part.seam > 3.0 and part.texture < PART_GATE[3][0]  # but framed, flat around
    assert part_rescored(PASSING, part) is PASSING


def test_copies_keeping_most_of_the_picture_are_not_lowered(pictures: dict[str, str]) -> None:
    crop = found(pictures, "crop")
    assert crop.cover > PART_GATE[0]
    turned = found(pictures, "turned")
    # A turn's largest upright rectangle keeps little of the picture, but all a turn leaves.
    assert turned.forced < 0.8 and turned.cover > PART_GATE[0] * turned.forced
    for part in (crop, turned):
        assert part_rescored(PASSING, part) is PASSING


def test_a_ramp_going_on_reads_no_seam_and_a_frame_does() -> None:
    """The steps across and beside a side are read the same distance apart, so a picture going
    on reads at most about 1 however fast its levels change (a step read farther apart across
    than beside read a ramp as a seam); a flat frame around it reads far more."""
    for size, offset in ((256, 64), (64, 16)):  # a ramp of 1 and of 4 grey levels a pixel
        ramp = np.tile(np.linspace(0, 255, size, dtype=np.float32), (size, 1)).astype(np.uint8)
        quarter = np.ascontiguousarray(ramp[offset:-offset, offset:-offset])
        to_holder = np.array([[1.0, 0.0, offset], [0.0, 1.0, offset]])
        going_on = part_of(cv2, to_holder, quarter, ramp)
        assert going_on is not None and going_on.cover == pytest.approx(0.25, abs=0.01)
        assert 0.5 < going_on.seam <= 1.0
        framed = np.full_like(ramp, 40)
        framed[offset:-offset, offset:-offset] = quarter
        around = part_of(cv2, to_holder, quarter, framed)
        assert around is not None and around.seam > 10.0 and around.texture < 0.1


def test_no_side_inside_or_a_degenerate_transform_finds_nothing() -> None:
    grey = np.tile(np.arange(128, dtype=np.uint8), (128, 1))
    assert part_of(cv2, np.eye(2, 3), grey, grey) is None  # the same frame: no side inside
    assert part_of(cv2, np.zeros((2, 3)), grey, grey) is None


def test_the_store_gives_back_what_was_measured() -> None:
    part = Part(0.25, 0.99, 1.1, 0.9, 1.0)
    assert part_of_value(part_value(part)) == part
    assert part_value(None) is None and part_of_value(None) is None


def test_scan_and_compare_keep_a_quarter_apart(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A quarter of a retina photograph passes as a copy of a resized copy of it (its shared
    frame a quarter, every pixel agreeing); read as a detail, it joins no group, while the copy
    keeps its, and `compare` reads it so too."""
    source = Image.fromarray(skdata.retina()).convert("RGB")
    w, h = source.size
    source.save(tmp_path / "retina.png")
    source.crop((0, 0, w // 2, h // 2)).save(tmp_path / "tile.jpg", quality=90)
    source.resize((w * 3 // 4, h * 3 // 4)).save(tmp_path / "copy.jpg", quality=85)
    paths = [str(tmp_path / name) for name in ("retina.png", "tile.jpg", "copy.jpg")]

    def grouped() -> set[str]:
        result = scan(paths, cache=False, differences=False)
        return {Path(result.path(i)).name for g in result.groups for i in groups_items(g)}

    assert grouped() == {"retina.png", "copy.jpg"}
    monkeypatch.setattr(part_check, "PART_GATE", (0.0, *PART_GATE[1:]))  # the stage off
    assert grouped() == {"retina.png", "copy.jpg", "tile.jpg"}
    monkeypatch.undo()
    tile_and_copy = compare(paths[2], paths[1])
    assert tile_and_copy.evidence == "part" and not tile_and_copy.verdicts["loose"]
    assert tile_and_copy.scores["part"] < PART_GATE[0]  # shown with every method's score


def groups_items(group: Group) -> list[int]:
    return [group.keeper, *(member for member, _ in group.members)]


def test_a_crop_wholly_inside_from_the_crop_gate_is_a_copy_and_a_cut_tile_is_not(
    tmp_path: Path,
) -> None:
    """A crop keeping 40 % of the photograph lies wholly inside it: a copy (R109); a region as
    large that a crop of the photograph cuts (a tile partly outside the copy holding it) is
    still read as a detail."""
    source = Image.fromarray(skdata.chelsea()).convert("RGB")
    w, h = source.size
    made = {
        "source.png": source,
        "crop.jpg": source.crop((int(w * 0.2), int(h * 0.2), int(w * 0.83), int(h * 0.83))),
        "left.jpg": source.crop((0, 0, int(w * 0.8), h)),  # a copy cut on the right
        "tile.jpg": source.crop((int(w * 0.4), int(h * 0.05), int(w * 0.9), int(h * 0.75))),
    }
    crop, tile = saved_parts(tmp_path, made, [("source.png", "crop.jpg"), ("left.jpg", "tile.jpg")])
    assert crop.inside > CROP_GATE[1] and CROP_GATE[0] < crop.cover < PART_GATE[0]
    assert part_rescored(PASSING, crop) is PASSING
    assert tile.inside < 0.9 and CROP_GATE[0] < tile.cover < PART_GATE[0]
    assert part_rescored(PASSING, tile).confidence == PART_CONFIDENCE


def test_a_quarter_overlapping_a_turned_copy_is_lowered_and_two_cut_copies_are_not(
    tmp_path: Path,
) -> None:
    """A corner of a photograph (57 % of each side) against a copy turned 10 degrees and cut to
    its largest upright rectangle: the corner lies partly outside the copy and covers about half
    of what the turn leaves, as the original set's tiles do (0.46-0.53; R121, session 51), so it
    is read as a detail. Two copies cut on other sides overlap in far more (0.62 and up on the
    calibration halves) and stay copies."""
    source = Image.fromarray(skdata.chelsea()).convert("RGB")
    w, h = source.size
    made = {
        "turned.jpg": turned_cropped(source, 10.0),
        "quarter.jpg": source.crop((0, int(h * 0.43), int(w * 0.57), h)),
        "left.jpg": source.crop((0, 0, int(w * 0.8), h)),
        "bottom.jpg": source.crop((int(w * 0.1), int(h * 0.25), w, h)),
    }
    pairs = [("turned.jpg", "quarter.jpg"), ("left.jpg", "bottom.jpg")]
    quarter, cut = saved_parts(tmp_path, made, pairs)
    assert quarter.inside < CROP_GATE[1] and quarter.forced < 0.8
    assert 0.45 * quarter.forced < quarter.cover < PART_GATE[0] * quarter.forced
    assert part_rescored(PASSING, quarter).confidence == PART_CONFIDENCE
    assert cut.inside < CROP_GATE[1] and cut.cover > PART_GATE[0]
    assert part_rescored(PASSING, cut) is PASSING


def test_where_a_picture_holds_a_framed_picture_only_a_part_partly_outside_is_read() -> None:
    """A picture shown whole in a screenshot lies wholly inside it, and the screenshot's inset
    view marks it framed: kept, however small and seamless. A part partly outside its holder
    cannot be a picture shown whole, so it is read as elsewhere even where a picture holds an
    inset view (a photograph where the inset finder saw a frame in the texture: R122, session
    51)."""
    shown = Part(cover=0.12, forced=0.99, seam=0.8, texture=1.0, inside=1.0)
    assert part_rescored(PASSING, shown).confidence == PART_CONFIDENCE  # unframed: a detail
    assert part_rescored(PASSING, shown, holds_frame=True) is PASSING
    tile = Part(cover=0.28, forced=0.99, seam=0.9, texture=0.9, inside=0.8)
    assert part_rescored(PASSING, tile, holds_frame=True).confidence == PART_CONFIDENCE
    copy = Part(cover=0.7, forced=0.99, seam=0.9, texture=0.9, inside=0.8)
    assert part_rescored(PASSING, copy, holds_frame=True) is PASSING


def test_a_pair_holding_an_inset_view_is_read_and_marked_so() -> None:
    """`part_wanted` reads a pair of pictures whatever their insets, and two pages unless one
    holds an inset; `holds_inset` says whether either holds one."""
    import numpy as np

    from neardup.part_check import holds_inset, part_wanted
    from neardup.records import Features
    from neardup.verify import Geometry

    plain = Features("a.jpg", 1, 0, 640, 480, "JPEG", "a", None, page=(0.1, 0.01))
    shot = Features("b.png", 1, 0, 1280, 960, "PNG", "b", None, page=(0.1, 0.01))
    shot.embeddings_inset["sscd_distilled"] = np.ones(4, np.float32)
    found = Geometry(60, 40, 0.3, 1.0, 0.99, 1.0)
    assert part_wanted(PASSING, found, plain, shot, 0.85)
    assert holds_inset(plain, shot) and holds_inset(shot, plain)
    assert not holds_inset(plain, plain)
    # Two pages are read too (a tile of a photograph with a large flat sky reads as a page),
    # unless one holds a framed picture (a page shown in a screenshot's window: R123).
    page = Features("p.png", 1, 0, 900, 1200, "PNG", "p", None, page=(0.9, 0.02))
    framed_page = Features("q.png", 1, 0, 1800, 1200, "PNG", "q", None, page=(0.9, 0.02))
    framed_page.embeddings_inset["sscd_distilled"] = np.ones(4, np.float32)
    assert part_wanted(PASSING, found, page, page, 0.85)
    assert not part_wanted(PASSING, found, page, framed_page, 0.85)
