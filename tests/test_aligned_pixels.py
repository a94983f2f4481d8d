"""The check's aligned-pixel comparison (`neardup.aligned_pixels`): a copy whose tones were
changed (brightened until the light parts clip) agrees with its original; other content does
not, however its levels are mapped."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from conftest import FileMaker, make_photo
from PIL import Image, ImageDraw, ImageEnhance

from neardup.aligned_pixels import agreeing, correlation, tone_matched
from neardup.verify import Verifier


def page(photo: str) -> Image.Image:
    """A light document page: a title bar, a side bar of names, a photograph."""
    rng = np.random.default_rng(0)
    canvas = Image.new("RGB", (640, 480), (236, 236, 240))
    draw = ImageDraw.Draw(canvas)
    draw.rectangle((0, 0, 639, 30), fill=(60, 64, 80))
    draw.rectangle((0, 30, 150, 479), fill=(200, 202, 210))
    for n in range(16):
        draw.text((10, 40 + 26 * n), "".join(rng.choice(list("abcdefghij"), 9)), fill=(30, 30, 30))
    canvas.paste(make_photo(photo, 300).resize((400, 300)), (200, 60))
    return canvas


def test_a_brightened_page_agrees_with_its_original(tmp_path: Path, make: FileMaker) -> None:
    """Brightened by 1.7, the page's light grey parts clip to white: its levels are no longer
    a linear function of the original's (measured before the tone match: aligned 0.955, agree
    0.82; mixed's brightened screenshots read as other pages of a template)."""
    make.image(tmp_path / "page.png", page("coffee"))
    make.image(tmp_path / "bright.jpg", ImageEnhance.Brightness(page("coffee")).enhance(1.7))
    found = Verifier().check(str(tmp_path / "page.png"), str(tmp_path / "bright.jpg"))
    assert found is not None and found.score >= 0.95
    assert found.aligned >= 0.99 and found.agree >= 0.95


def test_a_tone_match_makes_no_agreement_where_content_differs() -> None:
    rng = np.random.default_rng(1)
    x = rng.uniform(0, 255, 4096).astype(np.float32)
    clipped = np.minimum(x * 1.7, 255).astype(np.float32)  # one monotone map, with clipping
    assert correlation(tone_matched(x, clipped), clipped) >= 0.999
    assert agreeing(tone_matched(x, clipped), clipped) >= 0.99
    other = rng.uniform(0, 255, 4096).astype(np.float32)
    assert correlation(tone_matched(x, other), other) < 0.1
    # Chance agreement of two unrelated samples (about 0.43 for uniform levels) is all.
    assert agreeing(tone_matched(x, other), other) <= agreeing(x, other) + 0.02 < 0.5
    levels = np.repeat(np.float32([10, 200]), 2048)  # equal levels map to one value each
    assert len(np.unique(tone_matched(levels, x))) == 2
