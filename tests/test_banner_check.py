"""A copy under a caption band told by where the pictures disagree: in the rows (or columns)
next to one edge, and nowhere else (`neardup.banner_check`: RESULTS.md, session 42, R81)."""

from __future__ import annotations

import cv2
import numpy as np
import pytest
from PIL import Image, ImageDraw, ImageFont
from skimage import data as skdata

from neardup import banner_check
from neardup.api import compare, scan
from neardup.banner_check import (
    ACROSS_GATE,
    BANNER,
    BANNER_GATE,
    Banner,
    banner_of,
    banner_of_value,
    banner_pairs,
    banner_rescored,
    banner_value,
    banner_wanted,
)
from neardup.checked_scores import SPOT_CONFIDENCE
from neardup.records import Features
from neardup.scoring import Scored
from neardup.verify import Geometry

BELOW = Scored(0.8, 0.6, {"geometry": 1.0}, "geometry", 40.0)


def with_band(
    picture: Image.Image, share: float, side: str, colour: tuple[int, int, int]
) -> Image.Image:
    """`picture` with a caption band painted over `share` of it along one side."""
    out = picture.copy()
    w, h = out.size
    box = {
        "bottom": (0, h - int(h * share), w, h),
        "top": (0, 0, w, int(h * share)),
        "left": (0, 0, int(w * share), h),
        "middle": (0, int(h * 0.4), w, int(h * 0.4) + int(h * share)),
        "thin": (0, h // 2, w, h // 2 + 2),
    }[side]
    draw = ImageDraw.Draw(out)
    draw.rectangle(box, fill=colour)
    size = int(min(box[2] - box[0], box[3] - box[1]) * 0.4)
    if size < 4:
        return out  # a line: no room for words
    draw.text(
        (box[0] + 10, box[1] + 10),
        "Caption",
        fill=(0, 0, 0),
        font=ImageFont.load_default(size=size),
    )
    return out


@pytest.fixture(scope="module")
def pictures(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """A photograph, its copy under a dark band over the bottom 28 %, a micrograph and its copy
    under such a band over a quarter of it down the left side, the photograph with a logo of
    about the band's area in the middle, under a caption band across its middle (15 % from 40
    % down) and under a line two pixels thick across it."""
    folder = tmp_path_factory.mktemp("banners")
    coffee = Image.fromarray(skdata.coffee()).convert("RGB")
    cells = Image.fromarray(skdata.immunohistochemistry()).convert("RGB")
    w, h = coffee.size
    logo = coffee.copy()
    ImageDraw.Draw(logo).ellipse((w // 4, h // 4, 3 * w // 4, 3 * h // 4), fill=(20, 30, 120))
    made = {
        "coffee.png": coffee,
        "bottom.jpg": with_band(coffee, 0.28, "bottom", DARK),
        "cells.png": cells,
        "left.jpg": with_band(cells, 0.25, "left", DARK),
        "logo.jpg": logo,
        "middle.jpg": with_band(coffee, 0.15, "middle", DARK),
        "thin.jpg": with_band(coffee, 0.0, "thin", DARK),
    }
    for name, picture in made.items():
        picture.save(folder / name, quality=88)
    return {name.split(".")[0]: str(folder / name) for name in made}


DARK = (20, 30, 120)


def found(pictures: dict[str, str], source: str, other: str) -> Banner:
    banner = banner_pairs([(pictures[source], pictures[other])])[0]
    assert banner is not None
    return banner


def test_a_caption_band_is_raised(pictures: dict[str, str]) -> None:
    banner = found(pictures, "coffee", "bottom")
    assert banner.thickness == pytest.approx(0.28, abs=0.015)
    assert banner.band >= BANNER_GATE[2] and banner.rest >= BANNER_GATE[3]
    raised = banner_rescored(BELOW, banner)
    assert raised.confidence == SPOT_CONFIDENCE
    assert raised.scores["banner"] == round(banner.thickness, 4)


def test_a_band_down_one_side_reads_as_one_too(pictures: dict[str, str]) -> None:
    """A turned copy's banner runs down a side."""
    banner = found(pictures, "cells", "left")
    assert banner.thickness == pytest.approx(0.25, abs=0.02) and banner.rest >= BANNER_GATE[3]
    assert banner_rescored(BELOW, banner).confidence == SPOT_CONFIDENCE


def test_a_caption_across_the_middle_is_raised(pictures: dict[str, str]) -> None:
    """A caption painted across the picture, away from its edges (session 67): read over the
    rows where its colour differs from the picture under it (most of them)."""
    banner = found(pictures, "coffee", "middle")
    thickness, band, rest = banner.across
    assert 0.09 <= thickness <= 0.16 and band >= ACROSS_GATE[1]
    assert rest >= BANNER_GATE[3]
    assert banner_rescored(BELOW, banner).scores["banner"] == round(thickness, 4)
    assert banner_of_value(banner_value(banner)) == banner


def test_a_line_across_the_middle_is_no_caption(pictures: dict[str, str]) -> None:
    """A row or two disagreeing across a picture (a moving subject's strip in a burst, a
    template's field) is not a caption: it covers under `ACROSS_GATE`'s thickness."""
    banner = found(pictures, "coffee", "thin")
    assert banner.across[0] < ACROSS_GATE[0]
    assert banner_rescored(BELOW, banner) is BELOW


def test_a_logo_in_the_middle_is_no_banner(pictures: dict[str, str]) -> None:
    banner = found(pictures, "coffee", "logo")
    assert banner.rest < BANNER_GATE[3] or banner.band < BANNER_GATE[2]
    assert banner_rescored(BELOW, banner) is BELOW


def test_a_band_where_the_rest_differs_is_not_raised() -> None:
    """Other content beside the band (pictures of one template): the rest disagrees."""
    rng = np.random.default_rng(0)
    a = cv2.resize(rng.integers(0, 255, (32, 32), dtype=np.uint8), (256, 256))
    b = cv2.resize(rng.integers(0, 255, (32, 32), dtype=np.uint8), (256, 256))
    b[-48:] = 30
    banner = banner_of(cv2, np.eye(2, 3), a, b)
    assert banner is not None and banner.rest < BANNER_GATE[3]
    assert banner_rescored(BELOW, banner) is BELOW


def test_pictures_that_agree_everywhere_read_no_band() -> None:
    grey = np.tile(np.arange(128, dtype=np.uint8), (128, 1))
    banner = banner_of(cv2, np.eye(2, 3), grey, grey)
    assert banner is not None and banner.band == 0.0 and banner.rest == 1.0
    assert banner_rescored(BELOW, banner) is BELOW


def test_the_store_gives_back_what_was_measured() -> None:
    banner = Banner(0.2, 0.8, 0.97)
    assert banner_of_value(banner_value(banner)) == banner
    assert banner_value(None) is None and banner_of_value(None) is None


def test_compare_and_scan_raise_the_banner_copy_and_not_without_the_stage(
    pictures: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Under the cut on its own (the band 28 % of the picture), grouped once read."""
    pair = [pictures["coffee"], pictures["bottom"]]
    raised = compare(*pair)
    assert raised.verdicts["default"] and "banner" in raised.scores
    assert len(scan(pair, cache=False, differences=False).groups) == 1
    monkeypatch.setattr(banner_check, "BANNER_GATE", (*BANNER_GATE[:3], 1.1))  # the stage off
    assert not compare(*pair).verdicts["default"]
    assert not scan(pair, cache=False, differences=False).groups


def test_a_pair_is_read_only_where_a_raise_changes_a_verdict() -> None:
    """From the floor to the highest cut a raise to the spot's confidence crosses: a pair
    already passing keeps its verdict at every preset (strict's cut is above the raise)."""
    photo = Features("p.jpg", 1, 0, 640, 480, "JPEG", "h", None, page=(0.1, 0.01))
    whole = Geometry(200, 120, 1.0, 1.0)
    assert banner_wanted(BELOW, whole, photo, photo, (0.85,))
    assert banner_wanted(BELOW, whole, photo, photo, (0.5, 0.85, 0.991))
    assert not banner_wanted(BELOW, whole, photo, photo, (0.5,))  # 0.6 passes there already
    passing = Scored(0.8, 0.9, {"geometry": 1.0}, "geometry", 40.0)
    assert not banner_wanted(passing, whole, photo, photo, (0.5, 0.85, 0.991))
    low = Scored(0.3, 0.05, {"geometry": 1.0}, "geometry", 40.0)
    assert not banner_wanted(low, whole, photo, photo, (0.85,))  # under the floor
    assert not banner_wanted(BELOW, Geometry(200, 120, 1.0, 0.8), photo, photo, (0.85,))
    page = Features("d.png", 1, 0, 900, 1200, "PNG", "d", None, page=(0.9, 0.02))
    assert banner_wanted(BELOW, whole, page, page, (0.85,))  # since session 49 (R116b)


def test_two_pages_need_a_band_that_disagrees_more() -> None:
    """A form's field along one edge whose words differ reads as a band too, but a faint one
    (half its pixels apart); two pages pass only from `PAGES_BAND` (R116b), pictures from the
    gate's 0.3."""
    faint = Banner(0.07, 0.49, 0.968)  # the mixed calibration half's two forms of one template
    assert banner_rescored(BELOW, faint).confidence == SPOT_CONFIDENCE
    assert banner_rescored(BELOW, faint, pages=True) is BELOW
    caption = Banner(0.06, 0.998, 0.975)
    assert banner_rescored(BELOW, caption, pages=True).confidence == SPOT_CONFIDENCE


def test_the_scan_reads_two_pages_band_at_the_pages_bound() -> None:
    """The stage's rescoring in the scan's table (`framed_stages`) tells two pages from two
    pictures by their features: the same faint band raises the pictures, not the pages."""
    from neardup.framed_stages import FRAMED_STAGES

    rescore = next(r for stage, _, r in FRAMED_STAGES if stage.name == BANNER.name)
    photo = Features("p.jpg", 1, 0, 640, 480, "JPEG", "h", None, page=(0.1, 0.01))
    page = Features("d.png", 1, 0, 900, 1200, "PNG", "d", None, page=(0.9, 0.02))
    faint = Banner(0.07, 0.49, 0.968)
    assert rescore(BELOW, faint, photo, photo).confidence == SPOT_CONFIDENCE
    assert rescore(BELOW, faint, page, page) is BELOW
    assert rescore(BELOW, Banner(0.06, 0.998, 0.975), page, page).confidence == SPOT_CONFIDENCE
