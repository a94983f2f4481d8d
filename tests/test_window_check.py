"""Two frames that match around different pictures (one image viewer's window showing another
picture) told from copies of one screenshot (`neardup.window_check`: RESULTS.md, session 68,
R-s68a)."""

from __future__ import annotations

import io

import cv2
import numpy as np
import pytest
from PIL import Image, ImageDraw, ImageFont
from skimage import data as skdata

from neardup.records import Features
from neardup.scoring import Scored
from neardup.verify import VERIFY_SIDE, Geometry
from neardup.window_check import (
    INSETS_ALIKE,
    WHOLE,
    WINDOW_CONFIDENCE,
    WINDOW_GATE,
    Window,
    window_of,
    window_of_value,
    window_rescored,
    window_value,
    window_wanted,
)

PASSING = Scored(0.9, 0.99, {"geometry": 1.0}, "geometry", 200.0)


def viewer(picture: Image.Image) -> Image.Image:
    """An image viewer's window (title bar, a file list, a status line) showing `picture`."""
    frame = Image.new("RGB", (1000, 640), (24, 24, 28))
    draw = ImageDraw.Draw(frame)
    draw.rectangle((0, 0, 1000, 34), fill=(60, 60, 66))
    draw.text((400, 8), "holiday.png - Image Viewer", fill=(230, 230, 230), font=_font(16))
    for i in range(24):
        draw.rectangle((12, 50 + 22 * i, 26, 64 + 22 * i), fill=(120, 120, 130))
        draw.text((34, 48 + 22 * i), f"photo_{i:03d}.jpg", fill=(200, 200, 200), font=_font(14))
    draw.rectangle((0, 610, 1000, 640), fill=(55, 55, 60))
    draw.text((12, 616), "14 / 68   512 x 512   86%", fill=(200, 200, 200), font=_font(13))
    frame.paste(picture.resize((520, 520)), (330, 70))
    return frame


def _font(size: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    return ImageFont.load_default(size=size)


@pytest.fixture(scope="module")
def pictures() -> dict[str, Image.Image]:
    """The viewer showing a micrograph, a JPEG copy of that screenshot, the same with a
    sticker over a part of the picture, the viewer showing a clock (JPEG); a photograph of a
    cat and a copy of it with the micrograph pasted over a part (framed in the copy only)."""
    cells = Image.fromarray(skdata.immunohistochemistry()).convert("RGB")
    cat = Image.fromarray(skdata.chelsea()).convert("RGB")
    shown = viewer(cells)
    sticker = shown.copy()
    ImageDraw.Draw(sticker).ellipse((450, 200, 650, 400), fill=(220, 40, 160))
    pasted = cat.copy()
    pasted.paste(cells.resize((150, 150)), (60, 60))
    return {
        "cells": shown,
        "copy": _jpeg(shown),
        "sticker": _jpeg(sticker),
        "clock": _jpeg(viewer(Image.fromarray(skdata.clock()).convert("RGB"))),
        "photo": cat,
        "pasted": _jpeg(pasted),
    }


def _jpeg(picture: Image.Image) -> Image.Image:
    out = io.BytesIO()
    picture.save(out, format="JPEG", quality=70)
    return Image.open(io.BytesIO(out.getvalue())).convert("RGB")


def found(pictures: dict[str, Image.Image], a: str, b: str) -> Window | None:
    """The window finding of two pictures of one size, aligned as they are (the check's
    transform for two screenshots of one window), at the check's size."""
    greys = []
    for name in (a, b):
        rgb = np.asarray(pictures[name])
        height, width = rgb.shape[:2]
        scale = VERIFY_SIDE / min(height, width)
        size = (round(width * scale), round(height * scale))
        small = cv2.resize(rgb, size, interpolation=cv2.INTER_AREA)
        greys.append(cv2.cvtColor(small, cv2.COLOR_RGB2GRAY))
    identity = np.array([[1.0, 0.0, 0.0], [0.0, 1.0, 0.0]])
    return window_of(cv2, identity, greys[0], greys[1])


def test_window_around_another_picture_lowered(pictures: dict[str, Image.Image]) -> None:
    window = found(pictures, "cells", "clock")
    assert window is not None
    least_sides, least_share, least_detail, most_correlation, most_cells = WINDOW_GATE
    assert window.sides >= least_sides and window.share >= least_share
    assert window.detail >= least_detail
    assert window.correlation < most_correlation and window.cells < most_cells
    lowered = window_rescored(PASSING, window)
    assert lowered.confidence == WINDOW_CONFIDENCE and lowered.evidence == "window"
    assert lowered.scores["window"] == round(window.correlation, 4)


def test_copy_of_the_screenshot_kept(pictures: dict[str, Image.Image]) -> None:
    window = found(pictures, "cells", "copy")
    assert window is not None
    assert window.sides >= WINDOW_GATE[0] and window.correlation > 0.9
    assert window_rescored(PASSING, window) == PASSING


def test_sticker_over_the_picture_kept(pictures: dict[str, Image.Image]) -> None:
    """A copy under a sticker keeps the rest of the framed picture: its cells agree."""
    window = found(pictures, "cells", "sticker")
    assert window is not None
    assert window.cells >= WINDOW_GATE[4]
    assert window_rescored(PASSING, window) == PASSING


def test_picture_pasted_over_a_copy_kept(pictures: dict[str, Image.Image]) -> None:
    """The pasted picture's box is framed in the copy only."""
    window = found(pictures, "photo", "pasted")
    assert window is None or window.sides < WINDOW_GATE[0]
    assert window is None or window_rescored(PASSING, window) == PASSING


def test_value_round_trip() -> None:
    window = Window(0.9, 0.3, 20.0, 0.01, 0.1)
    assert window_of_value(window_value(window)) == window
    assert window_value(None) is None and window_of_value(None) is None


def _framing(path: str, inset: list[float] | None) -> Features:
    features = Features(path, 1, 0, 1000, 640, "PNG", path, None, page=(0.1, 0.01))
    if inset is not None:
        vector = np.array(inset, dtype=np.float32)
        features.embeddings_inset["sscd_distilled"] = vector / np.linalg.norm(vector)
    return features


def test_wanted_where_both_frame_pictures_that_embed_apart() -> None:
    whole = Geometry(300, 200, 1.0, 1.0, 0.9, 0.9)
    one, other = _framing("a.png", [1.0, 0.0]), _framing("b.png", [0.0, 1.0])
    alike = _framing("c.png", [1.0, 0.05])
    assert (
        float(
            np.dot(one.embeddings_inset["sscd_distilled"], alike.embeddings_inset["sscd_distilled"])
        )
        >= INSETS_ALIKE
    )
    cuts = (0.85,)
    assert window_wanted(PASSING, whole, one, other, cuts)
    assert not window_wanted(PASSING, whole, one, alike, cuts)
    assert not window_wanted(PASSING, whole, one, _framing("d.png", None), cuts)
    part = Geometry(300, 200, WHOLE - 0.1, 1.0, 0.9, 0.9)
    assert not window_wanted(PASSING, part, one, other, cuts)
    below = Scored(0.9, 0.5, {"geometry": 1.0}, "geometry", 200.0)
    assert not window_wanted(below, whole, one, other, cuts)
    dense = Geometry(0, 0, 1.0, 1.0, 0.9, 0.9, dense=True)
    assert not window_wanted(PASSING, dense, one, other, cuts)
