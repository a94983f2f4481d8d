"""The words of two pages compared outside a box painted over one (`neardup.painted_box`): a
copy under a banner or a logo is lifted as showing the same words; a page of one template
with other values, or another page under a banner, is not."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest
from PIL import Image, ImageDraw, ImageFont
from test_detail_check import FONTS, invoice

from neardup import painted_box as painted_box_module
from neardup.detail_check import (
    LIFT_CONFIDENCE,
    WORDS_EVIDENCE,
    detail_of,
    detail_pairs,
    detail_rescored,
    detail_same,
    detail_value,
    detail_vetoes,
    painted_same,
)
from neardup.painted_box import painted_box
from neardup.scoring import Scored


def bannered(page: Image.Image, box: tuple[int, int, int, int], fill: str) -> Image.Image:
    """`page` with a solid box of `fill` painted over `box`, white words on it."""
    out = page.copy()
    draw = ImageDraw.Draw(out)
    draw.rectangle(box, fill=fill)
    draw.text((box[0] + 20, (box[1] + box[3]) // 2), "SAMPLE  DO NOT COPY", fill="white")
    return out


def below() -> Scored:
    """A pair under the cut whose check found the frame shared."""
    return Scored(0.6, 0.4, {"sscd_distilled": 0.6, "geometry": 0.95}, "geometry")


def test_a_copy_under_a_banner_or_a_logo_is_lifted(tmp_path: Path) -> None:
    original = invoice(1)
    original.save(tmp_path / "invoice.png")
    bannered(original, (0, 380, 900, 500), "steelblue").save(tmp_path / "banner.jpg", quality=85)
    bannered(original, (40, 290, 480, 560), "darkred").save(tmp_path / "logo.png")
    found = detail_pairs(
        [(str(tmp_path / "invoice.png"), str(tmp_path / n)) for n in ("banner.jpg", "logo.png")]
    )
    for name, detail in zip(("banner", "logo"), found, strict=True):
        assert detail is not None and detail.outside is not None, name
        assert not detail_vetoes(detail), (name, detail)
        # The words under the box differ: the page as a whole does not show the same words.
        assert not (detail_same(detail) and (detail.across or 0) <= 0.05), (name, detail)
        assert painted_same(detail), (name, detail)
        lifted = detail_rescored(below(), detail)
        assert lifted.confidence == LIFT_CONFIDENCE and lifted.evidence == WORDS_EVIDENCE, name
        assert detail_of(detail_value(detail)) == detail


def test_other_values_or_another_page_under_a_banner_are_not_lifted(tmp_path: Path) -> None:
    """Other amounts in a few rows move no local mean: no box is painted. Another invoice of
    the template under a banner shows other words outside it."""
    original = invoice(1)
    original.save(tmp_path / "invoice.png")
    invoice(1, frozenset({-2, 3, 4})).save(tmp_path / "refilled.png")
    bannered(invoice(2), (0, 380, 900, 500), "steelblue").save(tmp_path / "other.jpg", quality=85)
    refilled, other = detail_pairs(
        [(str(tmp_path / "invoice.png"), str(tmp_path / n)) for n in ("refilled.png", "other.jpg")]
    )
    assert refilled is not None and other is not None
    assert refilled.outside is None or not painted_same(refilled), refilled
    assert other.outside is None or not painted_same(other), other
    for detail in (refilled, other):
        assert detail_rescored(below(), detail).confidence != LIFT_CONFIDENCE, detail


def test_the_painted_box_is_where_the_banner_is() -> None:
    grey = np.asarray(invoice(1).convert("L"))
    painted = np.asarray(bannered(invoice(1), (0, 380, 900, 500), "steelblue").convert("L"))
    cover = np.full(grey.shape, 255, np.uint8)
    box = painted_box(cv2, [grey.copy(), painted.copy(), cover])
    assert box is not None
    left, top, right, bottom = box
    assert left <= 16 and right >= 884 and 360 <= top <= 400 and 480 <= bottom <= 520, box
    refilled = np.asarray(invoice(1, frozenset({-2, 3, 4})).convert("L"))
    assert painted_box(cv2, [grey.copy(), refilled.copy(), cover]) is None


def see_through(page: Image.Image, box: tuple[int, int, int, int], alpha: int) -> Image.Image:
    """`page` under a band of steel blue at `alpha`, with large white letters on it."""
    over = Image.new("RGBA", page.size, (0, 0, 0, 0))
    draw = ImageDraw.Draw(over)
    draw.rectangle(box, fill=(70, 130, 180, alpha))
    font = ImageFont.truetype(str(FONTS / "DejaVuSans-Bold.ttf"), 60)
    draw.text((box[0] + 20, box[1] + 10), "SAMPLE COPY ONLY", font=font, fill="white")
    return Image.alpha_composite(page.convert("RGBA"), over).convert("RGB")


def test_a_see_through_band_with_letters_is_one_box(monkeypatch: pytest.MonkeyPatch) -> None:
    """The letters on a see-through band break its painted places into pieces; closed
    (`PAINT_CLOSING`), they are one box again."""
    grey = np.asarray(invoice(1).convert("L"))
    band = np.asarray(see_through(invoice(1), (0, 380, 900, 470), 200).convert("L"))
    cover = np.full(grey.shape, 255, np.uint8)
    box = painted_box(cv2, [grey.copy(), band.copy(), cover])
    assert box is not None and box[0] <= 16 and box[2] >= 884 and 360 <= box[1] <= 400, box
    monkeypatch.setattr(painted_box_module, "PAINT_CLOSING", 1)
    assert painted_box(cv2, [grey.copy(), band.copy(), cover]) is None
