"""The fine comparison of words (`neardup.detail_check`): two invoices of one template with other
names and amounts are told apart, their copies (resized, recompressed, blurred, mirrored) are
not; only pages of text are compared, only passing pairs, and a vetoed pair keeps its
similarity."""

from __future__ import annotations

import dataclasses
import random
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import matplotlib
import numpy as np
import pytest
from PIL import Image, ImageDraw, ImageFilter, ImageFont

from neardup.detail_check import (
    ACROSS_VETO,
    DETAIL_CONFIDENCE,
    OVERLAID,
    SCATTERED,
    SHARE_INLIERS,
    VETO_INLIERS,
    VETO_SHARE,
    DetailChecker,
    detail_of,
    detail_pairs,
    detail_rescored,
    detail_same,
    detail_score,
    detail_value,
    detail_vetoes,
    detail_wanted,
    two_pages,
)
from neardup.detail_compare import (
    VERTICAL_FROM,
    Detail,
    Page,
    Vertical,
    compare,
)
from neardup.detail_maps import Scatter, unruled
from neardup.features.page import page_facts
from neardup.groups import build_groups as group_pairs
from neardup.records import Features
from neardup.scoring import Scored

FONTS = Path(matplotlib.get_data_path()) / "fonts" / "ttf"
WORDS = [
    "valve",
    "licence",
    "adapter",
    "bolt",
    "charger",
    "pump",
    "subscription",
    "service",
    "kit",
    "unit",
    "cedar",
    "maple",
    "harbor",
    "summit",
    "vector",
    "falcon",
    "willow",
    "orbit",
    "copper",
    "marble",
    "river",
    "delta",
    "sierra",
    "quartz",
]


def invoice(seed: int, other_values: frozenset[int] = frozenset()) -> Image.Image:
    """A page of one invoice template (header, addresses, a table of items, totals), its
    words and numbers drawn from `seed`; the rows in `other_values` with other quantities
    and amounts, -1 there for other address numbers, -2 for another total (the same invoice
    filled in otherwise)."""
    rng, others = random.Random(seed), random.Random(seed + 1000)
    page = Image.new("RGB", (900, 1200), "white")
    draw = ImageDraw.Draw(page)
    bold = ImageFont.truetype(str(FONTS / "DejaVuSerif-Bold.ttf"), 30)
    text = ImageFont.truetype(str(FONTS / "DejaVuSans.ttf"), 15)
    draw.rectangle((0, 0, 900, 90), fill=(20, 60, 90))
    draw.text((40, 25), "Harbor Pixel Ltd.", font=bold, fill="white")
    draw.text((680, 30), "INVOICE", font=bold, fill=(240, 200, 60))
    for line in range(4):
        words = " ".join(rng.choice(WORDS).title() for _ in range(2))
        number = rng.randint(10, 999) if -1 not in other_values else others.randint(1000, 9999)
        draw.text((40, 130 + 22 * line), f"{words} {number}", font=text, fill="black")
    draw.rectangle((40, 250, 860, 280), fill=(210, 225, 230))
    for x, head in ((50, "Item"), (520, "Qty"), (620, "Price"), (750, "Amount")):
        draw.text((x, 256), head, font=text, fill="black")
    for row in range(14):
        y = 295 + 30 * row
        item = f"{rng.choice(WORDS)} {rng.choice(WORDS)} {rng.randint(1, 99)}"
        qty, price = rng.randint(1, 40), rng.uniform(5, 400)
        if row in other_values:
            qty, price = others.randint(41, 99), others.uniform(400, 999)
        draw.text((50, y), item, font=text, fill="black")
        draw.text((525, y), str(qty), font=text, fill="black")
        draw.text((620, y), f"{price:8.2f}", font=text, fill="black")
        draw.text((750, y), f"{qty * price:9.2f}", font=text, fill="black")
        draw.line((40, y + 24, 860, y + 24), fill=(200, 200, 200))
    total = rng.uniform(1000, 9000) if -2 not in other_values else others.uniform(10000, 90000)
    draw.text((620, 740), f"Total {total:10.2f}", font=bold, fill="black")
    return page


@pytest.fixture
def pages(tmp_path: Path) -> Path:
    original = invoice(1)
    original.save(tmp_path / "invoice.png")
    original.resize((630, 840), Image.Resampling.LANCZOS).save(tmp_path / "resized.jpg", quality=80)
    original.filter(ImageFilter.GaussianBlur(1.5)).save(tmp_path / "blurred.jpg", quality=90)
    original.transpose(Image.Transpose.FLIP_LEFT_RIGHT).save(tmp_path / "mirrored.png")
    invoice(2).save(tmp_path / "other.png")
    invoice(3).save(tmp_path / "third.jpg", quality=85)
    return tmp_path


def test_copies_agree_in_their_words_and_other_invoices_do_not(pages: Path) -> None:
    original = str(pages / "invoice.png")
    copies = ["resized.jpg", "blurred.jpg", "mirrored.png"]
    others = ["other.png", "third.jpg"]
    found = detail_pairs([(original, str(pages / name)) for name in copies + others])
    for name, detail in zip(copies + others, found, strict=True):
        assert detail is not None, name
        assert detail.inliers >= 30, name  # one template: the alignment holds for both kinds
        assert detail_vetoes(detail) == (name in others), (name, detail)
    assert all(detail_score(d) > 0.9 for d in found[:3] if d is not None)  # type: ignore[operator]


def test_a_form_filled_in_otherwise_is_vetoed_and_a_bannered_copy_is_not(tmp_path: Path) -> None:
    """The same invoice with other amounts in a few rows disagrees in several places while its
    template agrees closely (`Scatter`); a copy under one banner disagrees in one place."""
    original = invoice(1)
    original.save(tmp_path / "invoice.png")
    invoice(1, frozenset({-1, -2, 0, 1, 6, 7, 12, 13})).save(tmp_path / "refilled.png")
    bannered = original.copy()
    ImageDraw.Draw(bannered).rectangle((0, 500, 900, 640), fill=(200, 30, 30))
    bannered.save(tmp_path / "bannered.jpg", quality=90)
    refilled, banner = detail_pairs(
        [
            (str(tmp_path / "invoice.png"), str(tmp_path / name))
            for name in ("refilled.png", "bannered.jpg")
        ]
    )
    assert refilled is not None and banner is not None
    assert refilled.scatter is not None and refilled.scatter.apart >= 0.2
    assert detail_vetoes(refilled), refilled
    # Not by the share at every scale: the amounts are grey blobs at a quarter scale.
    assert not detail_vetoes(dataclasses.replace(refilled, scatter=None)), refilled
    assert not detail_vetoes(banner), banner
    assert detail_of(detail_value(refilled)) == refilled


def test_a_page_turned_a_quarter_is_compared_in_the_other_frame_too(tmp_path: Path) -> None:
    """The refilled invoice turned a quarter: compared in its frame, the words' stems run
    along the strokes the comparison reads least, and the pages "show the same words" (the
    words' first round would merge the two documents' sets); compared in the frame turned
    back (`QUARTER`), they are vetoed. A turned copy is not, and shows the same words."""
    original = invoice(1)
    original.save(tmp_path / "invoice.png")
    refilled = invoice(1, frozenset({-1, -2, 0, 1, 6, 7, 12, 13}))
    refilled.transpose(Image.Transpose.ROTATE_90).save(tmp_path / "refilled.png")
    original.transpose(Image.Transpose.ROTATE_270).save(tmp_path / "turned.jpg", quality=85)
    refilled_found, copy = detail_pairs(
        [(str(tmp_path / "invoice.png"), str(tmp_path / n)) for n in ("refilled.png", "turned.jpg")]
    )
    assert refilled_found is not None and detail_vetoes(refilled_found), refilled_found
    assert copy is not None and not detail_vetoes(copy) and detail_same(copy), copy
    cv2 = pytest.importorskip("cv2")
    grey = [
        np.asarray(Image.open(tmp_path / n).convert("L")) for n in ("invoice.png", "refilled.png")
    ]
    plain = compare(cv2, Page(cv2, grey[0]), Page(cv2, grey[1]))  # no second frame asked for
    assert plain is not None and not detail_vetoes(plain), plain


def sheet(seed: int, filled: int = 24) -> Image.Image:
    """A spreadsheet of one template (title, column heads, row labels, grid) with a number in
    each cell of its seven columns in the first `filled` of its 24 rows, the numbers drawn
    from `seed`."""
    rng = random.Random(seed)
    page = Image.new("RGB", (1100, 800), "white")
    draw = ImageDraw.Draw(page)
    text = ImageFont.truetype(str(FONTS / "DejaVuSans.ttf"), 15)
    bold = ImageFont.truetype(str(FONTS / "DejaVuSans-Bold.ttf"), 22)
    draw.text((30, 20), "Quarterly figures, harbor depot", font=bold, fill="black")
    for col in range(1, 8):
        draw.text((40 + 130 * col, 70), WORDS[col].title(), font=text, fill=(20, 60, 90))
    for row in range(24):
        y = 100 + 28 * row
        draw.line((30, y, 1070, y), fill=(170, 170, 170))
        label = f"{WORDS[row].title()} {WORDS[-1 - row]}"
        draw.text((40, y + 6), label, font=text, fill=(20, 60, 90))
        for col in range(1, 8):
            number = f"{rng.uniform(0, 9999):,.2f}"
            if row < filled:
                draw.text((40 + 130 * col, y + 6), number, font=text, fill=0)
    for col in range(9):
        draw.line((30 + 130 * col, 100, 30 + 130 * col, 772), fill=(170, 170, 170))
    return page


def test_a_sheet_with_other_numbers_is_vetoed_and_its_copies_are_not(tmp_path: Path) -> None:
    """Two sheets of one template whose numbers differ in every cell disagree in one patch over
    the page while the grid and heads agree closely (`OTHER_NUMBERS`); a recompressed and a
    slightly blurred copy of one are not vetoed."""
    sheet(1).save(tmp_path / "sheet.png")
    sheet(2).save(tmp_path / "other.png")
    sheet(1).save(tmp_path / "copy.jpg", quality=60)
    sheet(1).filter(ImageFilter.GaussianBlur(0.6)).save(tmp_path / "soft.png")
    found = detail_pairs(
        [
            (str(tmp_path / "sheet.png"), str(tmp_path / n))
            for n in ("other.png", "copy.jpg", "soft.png")
        ]
    )
    other, copy, soft = found
    assert other is not None and other.scatter is not None, other
    assert detail_vetoes(other), other
    finest, half, close, apart = SCATTERED  # vetoed by the table's rule, not the fields'
    where = other.scatter
    assert not (
        where.finest >= finest
        and where.half >= half
        and where.close >= close
        and where.apart >= apart
    )
    assert copy is not None and not detail_vetoes(copy), copy
    assert soft is not None and not detail_vetoes(soft), soft


def test_where_sheets_differ_is_mapped_without_their_grid(tmp_path: Path) -> None:
    """Two sheets of the documents set's generator (`benchmarks/make_set_docs.py`), one
    template with other numbers: compared with their grid, its lines made most tiles agree and
    the pair passed; mapped without it (`unruled`, `Scatter`), vetoed. Their JPEG copies agree
    as before."""
    import importlib.util

    script = Path(__file__).resolve().parents[1] / "benchmarks" / "make_set_docs.py"
    spec = importlib.util.spec_from_file_location("make_set_docs", script)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    pairs = []
    for template in ("t0", "t3"):
        one, other = (
            module.fam_sheet(random.Random(template), random.Random(template + doc))
            for doc in ("a", "b")
        )
        one.save(tmp_path / f"{template}.png")
        other.save(tmp_path / f"{template}-other.png")
        one.save(tmp_path / f"{template}.jpg", quality=50)
        pairs += [
            (str(tmp_path / f"{template}.png"), str(tmp_path / f"{template}{n}"))
            for n in ("-other.png", ".jpg")
        ]
    found = detail_pairs(pairs)
    for other, copy in zip(found[::2], found[1::2], strict=True):
        assert other is not None and detail_vetoes(other), other
        assert copy is not None and detail_score(copy) == 1.0, copy
    grey = np.full((200, 300), 255, np.uint8)
    grey[20:180, 100] = 0  # a rule down
    grey[150, 10:290] = 0  # a rule across
    grey[40:52, 30:33] = 0  # a letter's stem
    cv2 = pytest.importorskip("cv2")
    plain = unruled(cv2, grey)
    assert plain[100, 100] == 255 and plain[150, 200] == 255 and plain[45, 31] == 0


def test_a_sheet_filled_further_is_vetoed_by_its_vertical_strokes(tmp_path: Path) -> None:
    """The same sheet with half its rows left empty: where both have strokes the numbers
    agree, but the empty rows' grid lines disagree with the filled rows in vertical strokes
    over much of the page (`ACROSS_VETO`); its JPEG and blurred copies are not vetoed."""
    sheet(1).save(tmp_path / "sheet.png")
    sheet(1, filled=12).save(tmp_path / "half.png")
    sheet(1).save(tmp_path / "copy.jpg", quality=40)
    sheet(1).filter(ImageFilter.GaussianBlur(1.2)).save(tmp_path / "soft.png")
    half, copy, soft = detail_pairs(
        [
            (str(tmp_path / "sheet.png"), str(tmp_path / n))
            for n in ("half.png", "copy.jpg", "soft.png")
        ]
    )
    assert half is not None and half.across is not None and half.vertical is not None, half
    assert half.disagree[0] < VETO_SHARE  # the rows both fill agree
    assert detail_vetoes(half) and not detail_vetoes(dataclasses.replace(half, vertical=None))
    assert detail_of(detail_value(half)) == half
    assert copy is not None and not detail_vetoes(copy), copy
    assert soft is not None and not detail_vetoes(soft), soft


def test_the_vertical_veto_spares_a_blurred_copy_and_a_banner() -> None:
    """Vertical strokes that disagree are not a veto where a blur explains them (they agree at
    half the scale: nearly, where one picture is fainter) or where they cover a small part of
    the page (a banner on a copy)."""
    agree = Detail(200, (128, 0, 0), (0.05, 0.0, 0.0), None, 0.3)

    def vetoed(half: float, sharpness: float, area: float, across: float = 0.3) -> bool:
        found = dataclasses.replace(agree, across=across, vertical=Vertical(half, sharpness, area))
        return detail_vetoes(found)

    assert vetoed(0.2, 0.9, 0.15)  # sharp, disagreeing at half the scale, over much of it
    assert vetoed(0.2, 0.4, 0.15)  # disagreeing at half the scale, whatever the sharpness
    assert vetoed(0.07, 0.9, 0.15)  # sharp, and disagreeing a little at half the scale
    assert not vetoed(0.07, 0.4, 0.15)  # a blurred copy
    assert not vetoed(0.02, 0.9, 0.15)  # a blurred copy whose strokes measure as sharp
    assert not vetoed(0.2, 0.9, 0.03)  # a banner
    assert not vetoed(0.2, 0.9, 0.15, across=0.1)  # the vertical strokes mostly agree
    assert not detail_vetoes(agree)  # not read: nothing to veto on
    few = dataclasses.replace(agree, tiles=(20, 0, 0), vertical=Vertical(0.2, 0.9, 0.15))
    assert not detail_vetoes(few)  # too few letters to tell
    assert ACROSS_VETO[0] >= VERTICAL_FROM  # else `across` would not be read where it vetoes
    assert not detail_vetoes(
        dataclasses.replace(agree, inliers=20, vertical=Vertical(0.2, 0.9, 0.15))
    )


def test_only_pairs_of_two_pages_are_compared(pages: Path) -> None:
    page = page_facts(invoice(1))
    assert page[0] > 0.6 and page[1] >= 0.005  # mostly paper, and letters
    y, x = np.mgrid[0:400, 0:600]
    photo = ((x * 0.3 + y * 0.2 + np.random.default_rng(0).normal(0, 20, (400, 600))) % 256).astype(
        np.uint8
    )
    assert page_facts(Image.fromarray(photo).convert("RGB"))[0] < 0.3

    def item(facts: tuple[float, float] | None) -> Features:
        return Features("x", 1, 0, 900, 1200, "PNG", "h", None, page=facts)

    def scored(confidence: float, evidence: str = "sscd_distilled") -> Scored:
        return Scored(0.95, confidence, {"pdq": 0.9, "sscd_distilled": 0.95}, evidence)

    two = (item(page), item(page))
    assert detail_wanted(*two, scored(0.99), (0.952,))
    # Below the cut from WORDS_FLOOR: a veto there keeps the two apart in the grouping.
    assert detail_wanted(*two, scored(0.3), (0.952,))
    assert not detail_wanted(*two, scored(0.1), (0.952,))
    assert detail_wanted(*two, scored(0.1), (0.05,))  # a lower cut asked for: from there
    assert detail_wanted(*two, scored(0.96), (0.991, 0.952))
    assert not detail_wanted(*two, scored(1.0, "exact"), (0.952,))
    hashes_only = Scored(0.95, 0.99, {"pdq": 0.95}, "pdq")  # the fast pass runs no check
    assert not detail_wanted(*two, hashes_only, (0.952,))
    assert not detail_wanted(item(page), item((0.1, 0.02)), scored(0.99), (0.952,))  # a photo
    assert not detail_wanted(item(page), item(None), scored(0.99), (0.952,))  # facts unknown
    small_print = (0.85, 0.003)  # a plain page of small print shows few strokes at 224 px
    assert detail_wanted(item(small_print), item(small_print), scored(0.99), (0.952,))


def test_a_vetoed_pair_is_lowered_and_keeps_its_similarity() -> None:
    scored = Scored(0.97, 0.999, {"sscd_distilled": 0.97}, "sscd_distilled")
    differ = Detail(200, (128, 128, 60), (0.45, 0.4, 0.3))
    assert detail_of(detail_value(differ)) == differ
    lowered = detail_rescored(scored, differ)
    assert lowered.confidence == DETAIL_CONFIDENCE and lowered.evidence == "detail"
    assert lowered.similarity == scored.similarity and lowered.scores["detail"] == 0.7
    agree = Detail(200, (128, 0, 0), (0.02, 0.0, 0.0))  # agreed at the finest scale
    kept = detail_rescored(scored, agree)
    assert kept.confidence == scored.confidence and kept.scores["detail"] == 0.98
    weak = Detail(12, (128, 128, 60), (0.45, 0.4, 0.3))  # an alignment not to be trusted
    assert not detail_vetoes(weak)
    coarse = Detail(200, (128, 20, 6), (0.45, 0.4, 0.0))  # one scale with many tiles only
    assert not detail_vetoes(coarse)
    assert detail_of(detail_value(differ)) == differ and detail_of(None) is None


def test_a_vetoed_pair_shows_the_agreement_its_veto_read() -> None:
    """A pair whose coarse scale agreed but whose finest tiles (or vertical strokes) told the
    pages apart is shown with that agreement, not `detail 1.0` beside the veto."""
    scored = Scored(0.97, 0.999, {"sscd_distilled": 0.97}, "sscd_distilled")
    other_values = Scatter(tiles=120, finest=0.3, half=0.2, close=0.5, apart=0.6)
    scattered = Detail(200, (128, 60, 0), (0.3, 0.0, 0.0), scatter=other_values)
    assert detail_vetoes(scattered)
    lowered = detail_rescored(scored, scattered)
    assert lowered.confidence == DETAIL_CONFIDENCE and lowered.scores["detail"] == 0.7
    vertical = Vertical(half=0.3, sharpness=0.9, area=0.5)
    across = Detail(200, (128, 0, 0), (0.02, 0.0, 0.0), across=0.4, vertical=vertical)
    assert detail_vetoes(across)
    assert detail_rescored(scored, across).scores["detail"] == 0.6
    same = Detail(200, (128, 0, 0), (0.02, 0.0, 0.0), across=0.01)  # not vetoed: as measured
    assert detail_rescored(scored, same).scores["detail"] == 0.98


def test_the_share_at_every_scale_vetoes_from_fewer_inliers_than_the_maps() -> None:
    """Words disagreeing at every scale veto on an alignment of `SHARE_INLIERS` inliers (a
    template's other page: 407 look-alikes and 4 copies so aligned on the calibration halves),
    one fewer does not; the maps of where they differ (`Scatter`, `Vertical`) still need
    `VETO_INLIERS`, as a weaker alignment smears where the words fall."""
    differ = Detail(SHARE_INLIERS, (128, 128, 60), (0.45, 0.4, 0.3))
    assert SHARE_INLIERS < VETO_INLIERS
    assert detail_vetoes(differ)
    assert not detail_vetoes(dataclasses.replace(differ, inliers=SHARE_INLIERS - 1))
    fields = Scatter(tiles=300, finest=0.18, half=0.15, close=0.5, apart=0.5)
    mapped = Detail(VETO_INLIERS - 1, (300, 80, 0), (0.18, 0.12, 0.0), fields)
    assert not detail_vetoes(mapped) and detail_vetoes(
        dataclasses.replace(mapped, inliers=VETO_INLIERS)
    )


def test_the_scattered_veto_needs_every_sign_of_other_fields() -> None:
    """Words differing in separate places at two scales while the template agrees closely
    veto; a small single patch (a banner), no close agreement (a blurred copy), agreement at
    half scale (noise), too few tiles or a weak alignment do not. One patch over a fifth of
    the page or more (a table of other numbers) vetoes with the same close agreement."""
    fields = Scatter(tiles=300, finest=0.18, half=0.15, close=0.5, apart=0.5)
    agreed = (300, 80, 0), (0.18, 0.12, 0.0)  # the share veto alone does not fire

    def vetoed(scatter: Scatter, inliers: int = 200) -> bool:
        return detail_vetoes(Detail(inliers, *agreed, scatter))

    assert vetoed(fields) and not vetoed(dataclasses.replace(fields, apart=0.0))
    assert not vetoed(dataclasses.replace(fields, close=0.02))
    assert not vetoed(dataclasses.replace(fields, half=0.03))
    assert not vetoed(dataclasses.replace(fields, finest=0.12))
    assert not vetoed(dataclasses.replace(fields, tiles=20))
    assert not vetoed(fields, inliers=20)
    assert not vetoed(dataclasses.replace(fields, close=OVERLAID))  # stickers on a copy
    table = Scatter(tiles=300, finest=0.3, half=0.08, close=0.4, apart=0.0)
    assert vetoed(table)
    assert vetoed(dataclasses.replace(table, close=0.12))  # a heavily compressed sheet
    assert not vetoed(dataclasses.replace(table, close=0.05))  # blurred: little agrees closely
    assert not vetoed(dataclasses.replace(table, half=0.03))  # noise, smoothed away at half
    assert not vetoed(dataclasses.replace(table, finest=0.18))  # a banner's patch
    assert not detail_vetoes(Detail(200, *agreed))  # no map read: the shares decide
    found = Detail(200, *agreed, fields)
    assert detail_of(detail_value(found)) == found


def test_a_scan_keeps_two_invoices_of_one_template_apart(
    pages: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """End to end: the copies are grouped with the invoice; the other invoices, which their
    scores alone pass, are not, and say why; the grouping is told which pairs were vetoed."""
    from neardup import scan
    from neardup.index import duplicates

    grouped: list[set[tuple[int, int]]] = []

    def build_groups(*args: Any, apart: Iterable[tuple[int, int]] = (), **kwargs: Any) -> Any:
        grouped.append(set(apart))
        return group_pairs(*args, apart=apart, **kwargs)

    monkeypatch.setattr(duplicates, "build_groups", build_groups)
    told: list[str] = []
    result = scan([str(pages)], cache=False, progress=lambda d, t, stage: told.append(stage))
    names = [Path(image.path).name for image in result.images]
    [apart] = grouped
    assert {frozenset(("invoice.png", "other.png")), frozenset(("invoice.png", "third.jpg"))} <= {
        frozenset((names[a], names[b])) for a, b in apart
    }
    groups = [{names[g.keeper]} | {names[m] for m, _ in g.members} for g in result.groups]
    group = next(g for g in groups if "invoice.png" in g)
    assert {"resized.jpg", "blurred.jpg", "mirrored.png"} <= group
    assert not group & {"other.png", "third.jpg"}
    assert "detail" in told
    compared = [p for p in result.pairs if "detail" in p.scores]
    assert compared and all(p.confidence >= DETAIL_CONFIDENCE for p in compared)


def test_a_leakage_scan_regroups_with_the_vetoes(
    pages: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`scan --against` regroups the pairs across sets with the words' vetoes, as a scan
    groups them: the same pipeline, the same rule."""
    from neardup import api

    train, test = pages / "train", pages / "test"
    train.mkdir(), test.mkdir()
    for name in ("invoice.png", "other.png"):
        (pages / name).rename(train / name)
    for name in ("resized.jpg", "third.jpg"):
        (pages / name).rename(test / name)
    grouped: list[set[tuple[int, int]]] = []

    def build_groups(*args: Any, apart: Iterable[tuple[int, int]] = (), **kwargs: Any) -> Any:
        grouped.append(set(apart))
        return group_pairs(*args, apart=apart, **kwargs)

    monkeypatch.setattr(api, "build_groups", build_groups)
    result = api.scan([str(train)], against=[str(test)], cache=False, differences="none")
    names = [Path(image.path).name for image in result.images]
    [apart] = grouped
    assert frozenset(("invoice.png", "other.png")) in {
        frozenset((names[a], names[b])) for a, b in apart
    }
    leaked = [{names[g.keeper]} | {names[m] for m, _ in g.members} for g in result.groups]
    assert {"invoice.png", "resized.jpg"} in leaked


def test_compare_says_why_two_invoices_are_no_copies(
    pages: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from neardup import compare
    from neardup.cli import main
    from neardup.output.differences import WORDS_DIFFER

    other = compare(pages / "invoice.png", pages / "other.png")
    assert other.evidence == "detail" and not any(other.verdicts.values())
    assert other.scores["detail"] < 0.8 and other.similarity is not None
    copy = compare(pages / "invoice.png", pages / "resized.jpg")
    assert copy.verdicts["default"] and copy.scores.get("detail", 1.0) > 0.9
    # The command line says the words differ, where the pixels at the working size do not.
    assert main(["compare", str(pages / "invoice.png"), str(pages / "other.png")]) == 0
    said = capsys.readouterr().out
    assert f"what differs (b against a): {WORDS_DIFFER}" in said
    assert main(["compare", str(pages / "invoice.png"), str(pages / "resized.jpg")]) == 0
    assert WORDS_DIFFER not in capsys.readouterr().out


def _run_rounds(pairs: list[tuple[int, int]], words: Any) -> tuple[Any, int]:
    from neardup.detail_rounds import WordRounds

    rounds = WordRounds(pairs)
    compared = 0
    while batch := rounds.next_round():
        compared += len(batch)
        for a, b in batch:
            rounds.record((a, b), words(a, b))
    return rounds, compared


_SAME = Detail(300, (128, 0, 0), (0.01, 0.0, 0.0))
_COARSE = Detail(300, (128, 90, 30), (0.4, 0.3, 0.05))  # agrees at 1/4 only
_DIFFER = Detail(300, (128, 90, 30), (0.5, 0.4, 0.3))


def test_rounds_compare_a_forest_and_the_rest_inherit() -> None:
    """Five copies of one page and two other pages, every pair passing: the sharp copies' pairs
    are settled by a spanning forest (3 of their 6 compared); the pairs between the sharp
    copies and each other page inherit the veto of two comparisons; a copy that agrees only
    at a coarse scale (blurred) merges nothing, and each of its pairs is compared."""
    from itertools import combinations

    copies, blurred = {0, 1, 2, 3, 4}, 4  # 5 and 6: the other pages
    sharp = copies - {blurred}

    def words(a: int, b: int) -> Detail:
        if {a, b} <= copies:
            return _COARSE if blurred in (a, b) else _SAME
        return _DIFFER

    pairs = list(combinations(range(7), 2))
    rounds, compared = _run_rounds(pairs, words)
    # The forest links 0 to each; 3 pairs agree inside the sharp set; of each other page's 3
    # pairs with the sharp set left, 2 are compared (vetoed) and 1 inherits.
    assert len(rounds.inherited) == 2 and compared == len(pairs) - 3 - 2
    assert sum(pair in rounds.found for pair in combinations(range(4), 2)) == 3
    assert {p for p in rounds.inherited} <= {(a, b) for a in sharp for b in (5, 6)}
    for pair in pairs:
        outcome = rounds.found.get(pair)  # not compared: agreeing, or inheriting a veto
        assert outcome is not None or set(pair) <= sharp or pair in rounds.inherited, pair
        vetoed = pair in rounds.inherited or (outcome is not None and detail_vetoes(outcome))
        assert vetoed == (not set(pair) <= copies), (pair, outcome)
    assert all(rounds.found.get((a, blurred)) == _COARSE for a in range(blurred))  # each compared


def test_rounds_inherit_no_veto_that_a_comparison_disputes() -> None:
    """Two sets of four copies each, told apart: where one of the two probes between them
    agrees instead, or the first round's pair between them does, or a third picture's
    agreements join the two sets, nothing is inherited and every pair between them is
    compared."""
    from itertools import combinations

    first, second = {0, 1, 2, 3}, {4, 5, 6, 7}
    within = [p for p in combinations(range(8), 2) if set(p) <= first or set(p) <= second]
    pairs = within + [p for p in combinations(range(8), 2) if p not in within]  # copies first

    def told_apart(a: int, b: int) -> Detail:
        return _SAME if {a, b} <= first or {a, b} <= second else _DIFFER

    rounds, compared = _run_rounds(pairs, told_apart)  # the forest links the two sets once
    assert len(rounds.inherited) == 16 - 1 - 2 and compared == 3 + 3 + 1 + 2

    across: list[tuple[int, int]] = []

    def one_probe_agrees(a: int, b: int) -> Detail:
        if {a, b} <= first or {a, b} <= second:
            return _SAME
        across.append((a, b))
        return _COARSE if len(across) == 2 else _DIFFER  # the first probe is not vetoed

    rounds, compared = _run_rounds(pairs, one_probe_agrees)
    assert not rounds.inherited and compared == 3 + 3 + 16

    def first_link_agrees(a: int, b: int) -> Detail:  # the first round's link between them
        if {a, b} <= first or {a, b} <= second:
            return _SAME
        return _COARSE if (a, b) == (0, 4) else _DIFFER

    rounds, compared = _run_rounds(pairs, first_link_agrees)
    assert not rounds.inherited and compared == 3 + 3 + 16

    def joined(a: int, b: int) -> Detail:  # 8 shows the words of both sets
        if (a, b) == (0, 8):
            return _COARSE  # so the first round merges 8 into neither
        return _SAME if 8 in (a, b) or {a, b} <= first or {a, b} <= second else _DIFFER

    rounds, compared = _run_rounds(pairs + [(a, 8) for a in range(8)], joined)
    assert not rounds.inherited and compared == 3 + 3 + 16 + 8


def test_pairs_below_the_cut_are_compared_only_where_passing_pairs_link_them() -> None:
    """A veto changes a group only where passing pairs link its two pictures (groups form
    along passing pairs): 0-1-2 and 3-4 are linked parts, so (0, 2) and (3, 4) are kept and
    (2, 3), across the parts, is not."""
    from neardup.detail_rounds import linked

    passing = [(0, 1), (1, 2), (3, 4)]
    assert linked([(0, 2), (2, 3), (3, 4), (0, 1)], passing) == [(0, 2), (3, 4), (0, 1)]
    assert linked([(5, 6)], passing) == []  # pictures with no passing pair: no group to change


def _words_stubbed(monkeypatch: pytest.MonkeyPatch, words: Any) -> list[tuple[int, int]]:
    """`neardup.checking` with the pair stages stubbed: the check finds nothing, and the words
    of pages pN and pM are `words(N, M)`; returns the list the pairs sent to the words fill."""
    import neardup.checking as checking

    sent: list[tuple[int, int]] = []

    def stubbed(engine: Any, stage: Any, stored: Any, todo: Any, cache: Any, progress: Any) -> Any:
        if stage.name != "detail":
            yield from ((paths, None) for paths in todo) if stage.name == "verify" else ()
            return
        for paths in todo:
            a, b = (int(str(ref)[1:].split(".")[0]) for ref in paths)
            sent.append((a, b))
            yield paths, words(a, b)

    monkeypatch.setattr(checking, "_findings", stubbed)
    return sent


def test_the_scan_inherits_vetoes_and_skips_pages_no_passing_pair_links(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """`verify_pairs` with the words stage stubbed: two sets of four copies, every pair
    passing, the sets' words different: the pairs between them not compared are vetoed
    (0.005, evidence `detail`, no `detail` score of their own); two pages below the cut that
    no passing pair links are never sent to the stage, and a pair below the cut between the
    two sets is vetoed too."""
    import neardup.checking as checking
    from neardup.engines.local import LocalEngine

    page = page_facts(invoice(1))
    images = [
        Features(f"p{n}.png", 1, 0, 900, 1200, "PNG", f"h{n}", None, page=page) for n in range(10)
    ]
    first, second = {0, 1, 2, 3}, {4, 5, 6, 7}
    scores = {"pdq": 0.9, "sscd_distilled": 0.95}
    scored = {
        (a, b): Scored(0.95, 0.999, dict(scores), "sscd_distilled")
        for a in range(8)
        for b in range(a + 1, 8)
    }
    scored[0, 5] = Scored(0.9, 0.5, dict(scores), "sscd_distilled")  # below the cut, linked
    scored[8, 9] = Scored(0.9, 0.5, dict(scores), "sscd_distilled")  # below the cut, alone

    def words(a: int, b: int) -> Detail:
        return _SAME if {a, b} <= first or {a, b} <= second else _DIFFER

    sent = _words_stubbed(monkeypatch, words)
    checking.verify_pairs(images, scored, ("pdq", "sscd_distilled"), 0.952, LocalEngine(1))
    assert (8, 9) not in sent and len(sent) < len(scored) - 1
    across = [(a, b) for a in first for b in second]
    assert all(scored[p].confidence == DETAIL_CONFIDENCE for p in across)
    assert all(scored[p].evidence == "detail" for p in across)
    inherited = [p for p in across if p not in sent]
    assert inherited and all("detail" not in scored[p].scores for p in inherited)
    assert all("detail" in scored[p].scores for p in across if p in sent)
    assert all(scored[a, b].confidence == 0.999 for a in first for b in first if a < b)
    assert scored[8, 9].confidence == 0.5 and "detail" not in scored[8, 9].scores


def test_pages_no_passing_pair_links_are_compared_where_a_lift_could_pass_them(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """`verify_pairs` with the words stubbed: of two pairs of pages below the cut that no
    passing pair links, the one on a frame the check found shared is compared (and lifted,
    its words the same both ways), the other, with no such frame, is not sent."""
    import neardup.checking as checking
    from neardup.detail_check import LIFT_CONFIDENCE, WORDS_EVIDENCE
    from neardup.engines.local import LocalEngine

    page = page_facts(invoice(1))
    images = [
        Features(f"p{n}.png", 1, 0, 900, 1200, "PNG", f"h{n}", None, page=page) for n in range(4)
    ]
    scores = {"pdq": 0.9, "sscd_distilled": 0.7}
    scored = {
        (0, 1): Scored(0.7, 0.5, scores | {"geometry": 0.9}, "geometry"),
        (2, 3): Scored(0.7, 0.5, dict(scores), "sscd_distilled"),
    }
    sent = _words_stubbed(monkeypatch, lambda a, b: dataclasses.replace(_SAME, across=0.0))
    checking.verify_pairs(images, scored, ("pdq", "sscd_distilled"), 0.952, LocalEngine(1))
    assert sent == [(0, 1)]
    assert scored[0, 1].confidence == LIFT_CONFIDENCE and scored[0, 1].evidence == WORDS_EVIDENCE
    assert scored[2, 3].confidence == 0.5 and "detail" not in scored[2, 3].scores


def test_a_lift_between_two_groups_has_the_pairs_it_links_compared(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Two groups of two pages each (passing pairs), and below the cut a pair between them on
    a shared frame, whose words agree: it is lifted, and the other pair between the groups
    it now links, with no frame found, is compared too (and vetoed, its words other), so no
    look-alike joins the group uncompared."""
    import neardup.checking as checking
    from neardup.detail_check import LIFT_CONFIDENCE
    from neardup.engines.local import LocalEngine

    page = page_facts(invoice(1))
    images = [
        Features(f"p{n}.png", 1, 0, 900, 1200, "PNG", f"h{n}", None, page=page) for n in range(4)
    ]
    scores = {"pdq": 0.9, "sscd_distilled": 0.7}
    scored = {
        (0, 1): Scored(0.95, 0.999, dict(scores), "sscd_distilled"),
        (2, 3): Scored(0.95, 0.999, dict(scores), "sscd_distilled"),
        (1, 2): Scored(0.7, 0.5, scores | {"geometry": 0.9}, "geometry"),
        (0, 3): Scored(0.7, 0.5, dict(scores), "sscd_distilled"),
    }

    def words(a: int, b: int) -> Detail:
        return _DIFFER if (a, b) == (0, 3) else dataclasses.replace(_SAME, across=0.0)

    sent = _words_stubbed(monkeypatch, words)
    checking.verify_pairs(images, scored, ("pdq", "sscd_distilled"), 0.952, LocalEngine(1))
    assert scored[1, 2].confidence == LIFT_CONFIDENCE
    assert (0, 3) in sent and scored[0, 3].confidence == DETAIL_CONFIDENCE


def test_the_words_lift_a_copy_below_the_cut_only_the_same_both_ways(pages: Path) -> None:
    """A copy compared directly whose words agree along and across the rows, over a frame
    the check found shared, is lifted to `LIFT_CONFIDENCE`; not where the vertical strokes
    differ (two signs of one shape), nor over a small shared part (neighbouring tiles), nor a
    pair already surer; another invoice is vetoed, never lifted."""
    from neardup.detail_check import LIFT_CONFIDENCE, LIFT_FRAME, WORDS_EVIDENCE

    copy, other = detail_pairs(
        [(str(pages / "invoice.png"), str(pages / n)) for n in ("resized.jpg", "other.png")]
    )
    assert copy is not None and copy.across is not None and copy.across <= 0.05, copy
    assert other is not None and other.across is None  # the finest scale disagreed
    assert detail_of(detail_value(copy)) == copy

    def below(geometry: float, confidence: float = 0.6) -> Scored:
        scores = {"sscd_distilled": 0.7, "geometry": geometry}
        return Scored(0.7, confidence, scores, "geometry")

    lifted = detail_rescored(below(0.9), copy)
    assert lifted.confidence == LIFT_CONFIDENCE and lifted.evidence == WORDS_EVIDENCE
    assert lifted.similarity == 0.7  # how alike the pictures are stays
    assert detail_rescored(below(LIFT_FRAME - 0.05), copy).confidence == 0.6
    signs = dataclasses.replace(copy, across=0.065)
    assert detail_rescored(below(0.9), signs).confidence == 0.6
    assert detail_rescored(below(0.9, 0.999), copy).confidence == 0.999
    assert detail_rescored(below(0.9), other).confidence == DETAIL_CONFIDENCE


def sparse_form(seed: int) -> Image.Image:
    """A form of one template filled in from `seed`: mostly white, its print thin beside the
    page, so few strokes at the working size that it did not read as a page (a fresh
    documents set's forms, RESULTS.md session 39)."""
    rng = random.Random(seed)
    page = Image.new("RGB", (1200, 1600), "white")
    draw = ImageDraw.Draw(page)
    label = ImageFont.truetype(str(FONTS / "DejaVuSerif.ttf"), 15)
    value = ImageFont.truetype(str(FONTS / "DejaVuSans.ttf"), 16)
    title = ImageFont.truetype(str(FONTS / "DejaVuSerif-Bold.ttf"), 28)
    draw.rectangle((80, 50, 1120, 110), fill=(40, 130, 80))
    draw.text((100, 64), "Application Form", font=title, fill="white")
    labels = random.Random(0)  # the template's labels, the same in every instance
    for row in range(6):
        y = 150 + 84 * row
        draw.text((80, y), labels.choice(WORDS).title(), font=label, fill=(60, 60, 60))
        draw.rectangle((80, y + 22, 1120, y + 60), outline=(140, 190, 160))
        filled = f"{rng.choice(WORDS).title()} {rng.randint(100, 99999)}"
        draw.text((92, y + 29), filled, font=value, fill=(30, 30, 120))
    return page


def test_a_sparse_form_reads_as_a_page_and_its_filled_instances_stay_apart(
    tmp_path: Path,
) -> None:
    """A form of thin print on white reads as a page at the working size, so two filled
    instances of its template are told apart by their words and its resized copy is not."""
    from neardup import scan
    from neardup.decode import Decoded, DecodeSpec, decode
    from neardup.features.embed import EMBED_SIDE

    form = sparse_form(1)
    form.save(tmp_path / "form.png")
    decoded = decode((tmp_path / "form.png").read_bytes(), "form.png", DecodeSpec(EMBED_SIDE))
    assert isinstance(decoded, Decoded)
    paper, strokes = page_facts(decoded.rgb)  # at the working size, as the scan reads it
    assert paper >= 0.8 and 0.001 <= strokes < 0.002  # under the (0.7, 0.002) row
    facts = Features("x", 1, 0, 900, 1200, "PNG", "h", None, page=(paper, strokes))
    assert two_pages(facts, facts)
    form.resize((840, 1120), Image.Resampling.LANCZOS).save(tmp_path / "resized.jpg", quality=85)
    sparse_form(2).save(tmp_path / "other.png")
    sparse_form(3).save(tmp_path / "third.png")
    result = scan([str(tmp_path)], cache=False)
    names = [Path(image.path).name for image in result.images]
    groups = [{names[g.keeper]} | {names[m] for m, _ in g.members} for g in result.groups]
    assert {"form.png", "resized.jpg"} in groups
    assert not any({"other.png", "third.png"} & g and "form.png" in g for g in groups)


def keystoned(page: Image.Image, inset: float) -> Image.Image:
    """The page seen in perspective: its top edge narrowed by `inset` of the width on each
    side (a copy photographed at an angle, or keystoned by an editor)."""
    import cv2

    width, height = page.size
    corners = np.float32([[0, 0], [width, 0], [width, height], [0, height]])
    seen = np.float32([[inset * width, 0], [(1 - inset) * width, 0], [width, height], [0, height]])
    warp = cv2.getPerspectiveTransform(corners, seen)
    pixels = cv2.warpPerspective(
        np.asarray(page.convert("RGB")), warp, (width, height), borderValue=(255, 255, 255)
    )
    return Image.fromarray(pixels)


def test_a_copy_seen_in_perspective_keeps_its_words(tmp_path: Path) -> None:
    """An affine transform cannot line up a keystoned copy, whose letters then disagree at
    every scale away from the middle; under the homography fitted to the same matches they
    agree. Another invoice of the template, keystoned alike, still disagrees."""
    invoice(1).save(tmp_path / "invoice.png")
    keystoned(invoice(1), 0.06).save(tmp_path / "seen.png")
    keystoned(invoice(2), 0.06).save(tmp_path / "other.png")
    copy, other = detail_pairs(
        [(str(tmp_path / "invoice.png"), str(tmp_path / n)) for n in ("seen.png", "other.png")]
    )
    assert copy is not None and not detail_vetoes(copy), copy
    assert copy.disagree[0] < 0.1, copy
    assert other is not None and detail_vetoes(other), other
    # A look-alike that the homography lines up better, yet not to the same words, keeps the
    # affine comparison's veto (`KEYSTONE_SAME`).
    keystoned(invoice(1, frozenset({-2, 5, 11})), 0.03).save(tmp_path / "near.png")
    near = detail_pairs([(str(tmp_path / "invoice.png"), str(tmp_path / "near.png"))])[0]
    assert near is not None and detail_vetoes(near), near


def test_the_maps_are_read_for_the_alignment_kept(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Where the homography's comparison of a keystoned copy is kept, the affine comparison it
    replaces has its shares measured but its map (`Scatter`) is not read; with no homography
    found, the affine comparison reads it (its finest share is over `SCATTER_FROM`)."""
    import neardup.detail_compare as detail_compare

    invoice(1).save(tmp_path / "invoice.png")
    keystoned(invoice(1), 0.06).save(tmp_path / "seen.png")
    calls: list[int] = []
    read = detail_compare.scatter_map

    def counted(*args: Any) -> Scatter:
        calls.append(1)
        return read(*args)

    monkeypatch.setattr(detail_compare, "scatter_map", counted)
    checker = DetailChecker()
    pages = [checker._page(str(tmp_path / name)) for name in ("invoice.png", "seen.png")]
    assert pages[0] is not None and pages[1] is not None
    kept = detail_compare.compare(checker._cv2, pages[0], pages[1], lambda _: True)
    assert kept is not None and kept.disagree[0] <= detail_compare.KEYSTONE_SAME, kept
    assert kept.scatter is None and calls == []
    monkeypatch.setattr(detail_compare, "gaining", lambda *args: None)
    affine = detail_compare.compare(checker._cv2, pages[0], pages[1], lambda _: True)
    assert affine is not None and affine.disagree[0] >= detail_compare.SCATTER_FROM, affine
    assert affine.scatter is not None and calls == [1]
