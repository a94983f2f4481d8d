"""A picture held whole inside the other with a seam around it, raised as a copy shown framed
(`neardup.framed_copy`); a detail cut out, which goes on across its sides, is not."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw
from skimage import data as skdata

from neardup.checked_scores import DENSE_CONFIDENCE
from neardup.framed_copy import framed_rescored, framed_wanted
from neardup.part_check import CROP_GATE, PART_GATE, Part, part_pairs
from neardup.records import Features
from neardup.scoring import Scored
from neardup.verify import Geometry

UNDER = Scored(0.3, 0.83, {"geometry": 0.21}, "geometry", 75.0)
"""A pair under the default cut (0.85): the model reads a small shared share as weak."""


def _parts(folder: Path) -> tuple[Part, Part]:
    """The part findings of a photograph against itself pasted in a flat window, and against
    a quarter of it."""
    source = Image.fromarray(skdata.chelsea()).convert("RGB")
    w, h = source.size
    window = Image.new("RGB", (w * 2, int(h * 1.9)), (236, 236, 236))
    ImageDraw.Draw(window).rectangle((0, 0, window.width, 40), fill=(60, 60, 70))
    window.paste(source, (w // 2, h // 2))
    made = {
        "source.png": source,
        "shot.png": window,
        "tile.jpg": source.crop((w // 2, h // 2, w, h)),
    }
    for name, picture in made.items():
        picture.save(folder / name, quality=90)
    shot, tile = part_pairs(
        [(str(folder / "source.png"), str(folder / n)) for n in ("shot.png", "tile.jpg")]
    )
    assert shot is not None and tile is not None
    return shot, tile


def test_a_picture_pasted_in_a_window_is_raised_and_a_detail_is_not(tmp_path: Path) -> None:
    shot, tile = _parts(tmp_path)
    assert shot.inside >= CROP_GATE[1] and shot.seam >= PART_GATE[2]
    raised = framed_rescored(UNDER, shot)
    assert raised.confidence == DENSE_CONFIDENCE and raised.scores == UNDER.scores
    assert tile.seam < PART_GATE[2]  # its sides cut through one picture
    assert framed_rescored(UNDER, tile) is UNDER


def test_only_a_part_wholly_inside_is_raised_and_nothing_is_lowered() -> None:
    framed = Part(cover=0.2, forced=1.0, seam=20.0, texture=0.2, inside=1.0)
    across = Part(cover=0.2, forced=1.0, seam=20.0, texture=0.2, inside=0.9)
    assert framed_rescored(UNDER, across) is UNDER  # partly outside: not a picture shown whole
    surer = Scored(0.9, 0.995, {}, "geometry", 90.0)
    assert framed_rescored(surer, framed) is surer


def test_read_under_a_cut_where_one_picture_is_held_whole_and_agrees() -> None:
    picture = Features("a.jpg", 1, 0, 640, 480, "JPEG", "a", None, page=(0.1, 0.01))
    shot = Features("b.png", 1, 0, 1280, 960, "PNG", "b", None, page=(0.1, 0.01))
    whole = Geometry(80, 75, 1.0, 0.21, 0.999, 1.0)
    assert framed_wanted(UNDER, whole, picture, shot, (0.85,))
    assert not framed_wanted(Scored(0.3, 0.9, {}, "geometry", 75.0), whole, picture, shot, (0.85,))
    assert framed_wanted(
        Scored(0.3, 0.9, {}, "geometry", 75.0), whole, picture, shot, (0.85, 0.991)
    )
    assert not framed_wanted(UNDER, Geometry(80, 75, 0.9, 0.19, 0.999, 1.0), picture, shot, (0.85,))
    assert not framed_wanted(UNDER, Geometry(80, 75, 1.0, 0.21, 0.999, 0.9), picture, shot, (0.85,))
    assert not framed_wanted(UNDER, Geometry(80, 75, 1.0, 0.7, 0.999, 1.0), picture, shot, (0.85,))
    page = Features("p.png", 1, 0, 900, 1200, "PNG", "p", None, page=(0.9, 0.02))
    assert not framed_wanted(UNDER, whole, page, page, (0.85,))
    assert np.isclose(whole.contained, 1.0)
