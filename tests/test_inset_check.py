"""A picture shown small in a screenshot, checked against the inset cut out of the frame
(`neardup.inset_check`)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageDraw
from skimage import data as skdata

from neardup import api, checking, scan
from neardup.checked_scores import DENSE_CONFIDENCE
from neardup.decode import Decoded, DecodeSpec
from neardup.engines.base import Stage
from neardup.features.inset import find_picture
from neardup.inset_check import inset_better, inset_pairs
from neardup.item_pixels import FramePictures, Ref, read_still
from neardup.verify import MIN_INLIERS, VERIFY_SIDE, Geometry, Unread, Verifier, check_pairs


def screenshot(picture: Image.Image, share: float) -> Image.Image:
    """A window of text lines with `picture` pasted at `share` of its width."""
    frame = Image.new("RGB", (1600, 1000), (236, 236, 236))
    draw = ImageDraw.Draw(frame)
    draw.rectangle((0, 0, 1600, 40), fill=(50, 60, 80))
    for y in range(80, 1000, 28):
        draw.text((40, y), f"Lorem ipsum dolor sit amet, menu item {y}", fill=(30, 30, 30))
    width = int(1600 * share)
    height = round(width * picture.height / picture.width)
    frame.paste(picture.resize((width, height), Image.Resampling.LANCZOS), (700, 120))
    return frame


@pytest.fixture
def shots(tmp_path: Path) -> Path:
    rocket = Image.fromarray(skdata.rocket()).convert("RGB")
    rocket.save(tmp_path / "rocket.png")
    screenshot(rocket, 0.25).save(tmp_path / "window.jpg", quality=90)
    astronaut = Image.fromarray(skdata.astronaut()).convert("RGB")
    screenshot(astronaut, 0.25).save(tmp_path / "other.jpg", quality=90)
    return tmp_path


def test_the_inset_finds_a_picture_the_whole_frame_is_too_coarse_for(shots: Path) -> None:
    pair = (str(shots / "rocket.png"), str(shots / "window.jpg"))
    [plain] = check_pairs([pair])
    assert plain is None or plain.score < 0.5  # the frame at 256 px: too few of its corners
    [found] = inset_pairs([pair])
    assert found is not None and found.inliers >= 50 and found.contained > 0.95
    assert found.aligned > 0.95
    # told in the frame's terms: the picture is a small part of the screenshot
    assert 0.03 < found.overlap_b < 0.15
    assert inset_better(plain, found)


def test_another_picture_in_the_frame_is_not_found(shots: Path) -> None:
    [found] = inset_pairs([(str(shots / "rocket.png"), str(shots / "other.jpg"))])
    assert not inset_better(None, found)


def test_inset_better_needs_inliers_and_more_of_the_picture() -> None:
    weak = Geometry(40, 5, 1.0, 0.1)
    strong = Geometry(60, 40, 1.0, 0.1)
    assert not inset_better(None, weak)
    assert inset_better(None, strong)
    assert inset_better(weak, strong)
    assert not inset_better(strong, Geometry(60, 40, 0.5, 0.05))


def _blind(name: str) -> Stage[tuple[Ref, Ref], Verifier, Geometry | Unread | None]:
    """A check stage that finds no shared frame for any pair (as on a frame too coarse for
    the picture's corners)."""
    return Stage(name, Verifier, lambda checker, pairs: [None for _ in pairs], chunk=32)


@pytest.fixture
def astronaut(tmp_path: Path) -> Path:
    picture = Image.fromarray(skdata.astronaut()).convert("RGB")
    picture.save(tmp_path / "astronaut.png")
    screenshot(picture, 0.21).save(tmp_path / "window.jpg", quality=90)
    return tmp_path


def test_scan_and_compare_take_the_inset_where_the_plain_check_fails(
    astronaut: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The inset view sends the pair to the check (inset 0.86); with the plain check blind,
    only the inset check can find the picture, and both front ends run it (the same stages:
    blinding the stage blinds both)."""
    monkeypatch.setattr(checking, "VERIFY", _blind(checking.VERIFY.name))
    result = scan([str(astronaut)], cache=False)
    assert [(p.evidence, p.scores["aligned"] > 0.9) for p in result.pairs] == [("geometry", True)]
    assert len(result.groups) == 1
    found = api.compare(astronaut / "astronaut.png", astronaut / "window.jpg")
    assert found.verdicts["default"] and found.evidence == "geometry"
    # without it the picture and the inset are compared as whole frames (R107, session 46)
    monkeypatch.setattr(checking, "INSET", _blind(checking.INSET.name))
    whole = scan([str(astronaut)], cache=False)
    assert [(p.own_confidence, p.scores["dense"]) for p in whole.pairs] == [(DENSE_CONFIDENCE, 1.0)]
    # without both the pair is not found
    monkeypatch.setattr(checking, "INSET_WHOLE", _blind(checking.INSET_WHOLE.name))
    assert not scan([str(astronaut)], cache=False).groups
    assert not api.compare(astronaut / "astronaut.png", astronaut / "window.jpg").verdicts[
        "default"
    ]


def test_an_inset_cut_short_is_aligned_by_the_dense_search(
    astronaut: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A stripe inside a picture bounds a smaller rectangle that `find_inset` takes for the
    inset (wood-stripe wallpapers, R108): the whole frames then disagree, the dense search
    finds the part inside the picture; another picture's part passes neither."""
    import cv2

    from neardup import inset_check
    from neardup.checked_scores import dense_passes

    def part(picture: str) -> object:
        grey = np.asarray(Image.open(picture).convert("L"))
        cut = grey[:, : grey.shape[1] * 7 // 10]  # the left 70 % of the picture
        scale = VERIFY_SIDE / min(cut.shape)
        size = (round(cut.shape[1] * scale), round(cut.shape[0] * scale))
        return cv2.resize(np.ascontiguousarray(cut), size, interpolation=cv2.INTER_AREA), 0.1

    Image.fromarray(skdata.coffee()).convert("RGB").save(astronaut / "coffee.png")
    picture = str(astronaut / "astronaut.png")
    # This route alone: the frame does show the astronaut, which the search would find.
    monkeypatch.setattr(inset_check, "located_inset", lambda *_: None)
    for source, passes in (("astronaut.png", True), ("coffee.png", False)):
        checker = inset_check.InsetWholeChecker()  # a fresh one: it keeps each frame's cut
        monkeypatch.setattr(inset_check, "cut_inset", lambda *_, s=source: part(str(astronaut / s)))
        whole = inset_check.WholeChecker().measure(
            checker._grey(picture), part(str(astronaut / source))[0]
        )
        assert whole is None or not dense_passes(whole.evidence())
        found = checker.check(picture, str(astronaut / "window.jpg"))
        assert (found is not None and dense_passes(found.evidence())) is passes


def test_the_dense_search_counts_only_a_frame_wholly_inside_the_other(
    astronaut: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A screenshot of a neighbouring tile overlaps the picture in part: its pixels there agree
    as a copy's do, so the search's finding counts only where one frame lies wholly inside the
    other (`INSIDE`, R108b)."""
    from neardup import inset_check
    from neardup.checked_scores import dense_passes

    checker = inset_check.InsetWholeChecker()
    monkeypatch.setattr(
        inset_check, "cut_inset", lambda *_: (checker._grey(str(astronaut / "astronaut.png")), 0.1)
    )
    monkeypatch.setattr(checker, "measure", lambda *_: None)  # the whole frames tell nothing
    monkeypatch.setattr(inset_check, "located_inset", lambda *_: None)  # this route alone
    agreeing = (0.99, 1.0, 0.99)  # aligned, agree, edges
    for shares, counts in (((0.88, 0.62), False), ((0.7, 0.99), True)):
        found = Geometry(0, 0, *shares, agreeing[0], agreeing[1], True, agreeing[2])
        monkeypatch.setattr(checker._searched, "measure", lambda *_, f=found: f)
        got = checker.check(str(astronaut / "astronaut.png"), str(astronaut / "window.jpg"))
        assert (got is not None and dense_passes(got.evidence())) is counts


def test_a_wrong_inset_is_passed_by_the_picture_searched_for_in_the_frame(
    astronaut: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The finder's box may not be the picture (a box between two stripes, a window's pane):
    the check searches the frame for the picture it is given, and the place found passes the
    gate; a frame showing another picture gives nothing that passes (session 64)."""
    from neardup import inset_check
    from neardup.checked_scores import dense_passes

    Image.fromarray(skdata.coffee()).convert("RGB").save(astronaut / "coffee.png")
    coffee = Image.open(astronaut / "coffee.png")
    screenshot(coffee, 0.21).save(astronaut / "coffee_window.jpg", quality=90)

    def text_lines(*_: object) -> tuple[object, float]:  # the box found: lines of the text
        grey = np.asarray(Image.open(astronaut / "window.jpg").convert("L"))[80:400, 40:600]
        return np.ascontiguousarray(grey), 0.1

    monkeypatch.setattr(inset_check, "cut_inset", text_lines)
    for picture, frame, passes in (
        ("astronaut.png", "window.jpg", True),
        ("astronaut.png", "coffee_window.jpg", False),
        ("coffee.png", "window.jpg", False),
    ):
        checker = inset_check.InsetWholeChecker()
        found = checker.check(str(astronaut / picture), str(astronaut / frame))
        assert (found is not None and dense_passes(found.evidence())) is passes
    # without the search the wrong box passes nothing
    monkeypatch.setattr(inset_check, "located_inset", lambda *_: None)
    found = inset_check.InsetWholeChecker().check(
        str(astronaut / "astronaut.png"), str(astronaut / "window.jpg")
    )
    assert found is None or not dense_passes(found.evidence())


def test_a_page_is_not_searched_for_in_the_frame(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A page of a template (an email, a dialog, a spreadsheet) correlates with every page of
    that template, and the place found is compared without its words: a picture that reads as
    a page is not searched for (session 65: three look-alikes joined so); a photograph is."""
    from neardup import inset_check
    from neardup.features.page import page_facts

    page = Image.new("RGB", (800, 600), "white")
    draw = ImageDraw.Draw(page)
    for y in range(40, 560, 30):  # lines of "words": runs of letter-wide dark strokes
        for x in range(40, 40 + (y * 37) % 500 + 200, 12):
            if (x // 12 + y) % 7:  # the gaps between words
                draw.rectangle((x, y, x + 5, y + 14), fill=(20, 20, 20))
    page.save(tmp_path / "page.png")
    Image.fromarray(skdata.astronaut()).convert("RGB").save(tmp_path / "astronaut.png")
    for name in ("page", "astronaut"):
        screenshot(Image.open(tmp_path / f"{name}.png"), 0.3).save(tmp_path / f"{name}_shot.png")
    checker = inset_check.InsetWholeChecker()

    def located(name: str) -> object:
        grey = checker._grey(str(tmp_path / f"{name}.png"))
        frame = str(tmp_path / f"{name}_shot.png")
        return inset_check.located_inset(
            checker._cv2, frame, grey, checker.inset_frames, checker.unread
        )

    assert inset_check.a_page(page_facts(checker._grey(str(tmp_path / "page.png"))))
    assert not inset_check.a_page(page_facts(checker._grey(str(tmp_path / "astronaut.png"))))
    assert located("page") is None
    found = located("astronaut")
    assert found is not None and found[1] >= inset_check.LOCATED
    # the page bound is what keeps the page from the search: without it, the page is found
    monkeypatch.setattr(inset_check, "a_page", lambda _: False)
    found = located("page")
    assert found is not None and found[1] >= inset_check.LOCATED


def test_the_inset_finding_is_kept_where_more_of_the_picture_agrees() -> None:
    """The plain check's coarse fit of a picture small in its frame may cover it all and agree
    poorly; the inset's finding, a little less of it but aligned, is the better one (session
    65: a turned crop in a slide). Where the plain fit agrees as well, it stays."""
    coarse = Geometry(90, 81, 1.0, 0.29, 0.793, 0.934, False, 0.0)
    sharp = Geometry(270, 260, 0.92, 0.26, 0.989, 0.987, False, 0.0)
    fine = Geometry(90, 81, 1.0, 0.29, 0.99, 0.99, False, 0.0)
    assert inset_better(coarse, sharp)
    assert not inset_better(fine, sharp)
    # the floors stay: too few inliers, or too little of the picture, never wins
    few = Geometry(20, MIN_INLIERS - 1, 0.92, 0.26, 0.989, 0.987, False, 0.0)
    part = Geometry(270, 260, 0.45, 0.1, 0.999, 0.999, False, 0.0)
    assert not inset_better(coarse, few)
    assert not inset_better(coarse, part)


def test_a_slide_whose_margin_the_trim_takes_is_looked_at_untrimmed(tmp_path: Path) -> None:
    """A white slide's margin under its picture holds only a page number (under 1 % of its
    rows), so the decode trims it as a border up to the picture's side, where no edge is left
    to find the inset by: the check then looks in the untrimmed frame."""
    import cv2

    from neardup import inset_check

    coffee = Image.fromarray(skdata.coffee()).convert("RGB")
    coffee.save(tmp_path / "coffee.png")
    slide = Image.new("RGB", (1024, 768), "white")
    draw = ImageDraw.Draw(slide)
    draw.text((40, 30), "Where we are", fill=(20, 20, 20), font_size=40)
    for i, line in enumerate(["Three sites surveyed", "See appendix B", "Budget on track"]):
        draw.text((40, 120 + 40 * i), f"- {line}", fill=(20, 20, 20), font_size=22)
    draw.text((990, 740), "4", fill=(20, 20, 20), font_size=14)
    slide.paste(coffee.resize((300, 200)), (600, 230))
    slide.save(tmp_path / "slide.png")
    path = str(tmp_path / "slide.png")
    trimmed = read_still(path, DecodeSpec(min_side=inset_check.INSET_SIDE))
    assert isinstance(trimmed, Decoded) and trimmed.rgb.shape[0] < 500  # the margin taken
    assert find_picture(inset_check._halved(cv2, trimmed.rgb)) is None
    frames = FramePictures(DecodeSpec(min_side=inset_check.INSET_SIDE))
    cut = inset_check.cut_inset(cv2, path, frames, set())
    assert cut is not None and 0.06 < cut[1] < 0.09  # 300 x 200 of the whole 1024 x 768
    [found] = inset_pairs([(str(tmp_path / "coffee.png"), path)])
    assert found is not None and found.contained > 0.9 and found.aligned > 0.95
