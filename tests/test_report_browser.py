"""The report in a real browser: Debian's chromium, driven by Playwright (never a browser
Playwright downloads). Opens a generated report, filters, marks with the keyboard and the
mouse, exports the decisions (a download), checks the file and acts on it, and checks a
screenshot's pixels (the keeper's green border, the removed copies' red ones).

`make test` installs chromium (`make chromium`). Without it the test is skipped, except under
CI=true, where it fails: CI must run it.
"""

from __future__ import annotations

import io
import json
import os
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from conftest import write_review_result
from PIL import Image

from neardup.actions import load_plan, undo
from neardup.cli import main
from neardup.output.report import build_report

CHROMIUM = os.environ.get("NEARDUP_CHROMIUM", "/usr/bin/chromium")
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
KEEP_RGB = (0x1A, 0x7F, 0x37)
REMOVE_RGB = (0xCF, 0x22, 0x2E)


def unavailable(reason: str) -> None:
    if os.environ.get("CI") == "true":
        pytest.fail(f"{reason}; under CI=true the browser test must run (make chromium)")
    pytest.skip(reason)


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        unavailable("playwright is not installed (pip install -e '.[dev]')")
    if not os.access(CHROMIUM, os.X_OK):
        unavailable(f"no chromium at {CHROMIUM} (make chromium, as root, installs it)")
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
        try:
            yield launched
        finally:
            launched.close()


def open_page(browser: Any, page_file: Path) -> tuple[Any, Any, list[str], list[str]]:
    context = browser.new_context(viewport={"width": 1280, "height": 1000}, accept_downloads=True)
    page = context.new_page()
    requests: list[str] = []
    errors: list[str] = []
    page.on("request", lambda request: requests.append(request.url))
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.goto(page_file.resolve().as_uri())
    page.wait_for_selector("body[data-ready='1']", timeout=30_000)
    return context, page, requests, errors


def near(pixel: tuple[int, ...], colour: tuple[int, int, int], tolerance: int = 40) -> bool:
    return all(abs(a - b) <= tolerance for a, b in zip(pixel[:3], colour, strict=True))


def test_review_filter_mark_export_and_act(browser: Any, tmp_path: Path) -> None:
    groups = 60
    result = write_review_result(tmp_path / "set", groups)
    scanned = ["."]  # `scan .` in the set's folder: act's default root is that folder
    doc = json.loads(result.read_text())
    result.write_text(json.dumps(doc | {"settings": doc["settings"] | {"folders": scanned}}))
    page_file = tmp_path / "report.html"
    build_report(result, page_file, thumbs="embed", thumb_side=96, workers=2)
    context, page, requests, errors = open_page(browser, page_file)
    try:
        sections = page.locator("section.group")
        assert sections.count() == 25  # one page of groups is built, not all 60
        assert f"{groups} of {groups} groups" in page.inner_text("#page-info")
        assert "with a copy in train" in page.inner_text("#leakage")
        # The filter offers the difference kinds the scan named, not its fields.
        options = page.eval_on_selector_all("#kind option", "o => o.map(e => e.value)")
        assert options == ["", "cropped", "mirrored", "scaled", "(none)"]
        assert "scaled ×0.67" in page.locator("figcaption .summary").first.inner_text()

        # Filter by difference kind, then also by score.
        page.select_option("#kind", "mirrored")
        mirrored = [n for n in range(1, groups + 1) if n % 3 == 0]
        assert sections.count() == len(mirrored)
        assert page.locator("section.group .chip[data-kind='mirrored']").count() == len(mirrored)
        page.fill("#min-conf", "0.9")
        page.locator("#min-conf").dispatch_event("change")
        data = json.loads(result.read_text())
        strong = [
            n
            for n in mirrored
            if min(m["confidence"] for m in data["groups"][n - 1]["members"]) >= 0.9
        ]
        assert 0 < len(strong) < len(mirrored)
        assert sections.count() == len(strong)
        page.fill("#min-conf", "0")
        page.locator("#min-conf").dispatch_event("change")
        page.select_option("#kind", "")
        page.select_option("#sort", "conf-asc")  # weakest groups first: groups 1, 2, 3
        page.keyboard.press("Escape")  # leave the select, so keys go to the page
        shown = [
            int(g) + 1
            for g in page.eval_on_selector_all("section.group", "s => s.map(e => e.dataset.g)")
        ][:3]
        assert shown == [1, 2, 3]

        # Keyboard: accept group 1; in group 2 keep the keeper and remove the second copy;
        # in group 3 only mark a copy remove (nothing kept: act must leave it alone).
        for key in ["a", "j", "e", "l", "l", "r", "j", "l", "r"]:
            page.keyboard.press(key)
        assert page.inner_text("#decided") == "3 groups decided: 2 keep, 4 remove"
        # The mouse: in group 2, mark the first copy remove too.
        page.locator("section.group").nth(1).locator("figure.card").nth(1).locator(
            "button[data-mark='remove']"
        ).click()
        assert page.inner_text("#decided") == "3 groups decided: 2 keep, 5 remove"
        assert page.locator(".badge.keep").count() == 2
        assert page.locator(".badge.remove").count() == 5

        with page.expect_download() as info:
            page.click("#export")
        download = info.value
        assert download.suggested_filename == "decisions.json"
        decisions = tmp_path / "decisions.json"
        download.save_as(decisions)

        # The screenshot: the page is drawn, the keeper's border green, a removed copy's red.
        page.evaluate("window.scrollTo(0, 0)")
        shot = Image.open(io.BytesIO(page.screenshot())).convert("RGB")
        colours = shot.resize((320, 250)).getcolors(maxcolors=1 << 17) or []
        assert len(colours) > 500  # photos and text, not a blank page
        first = page.locator("section.group").nth(0).locator("figure.card")
        for n, colour in ((0, KEEP_RGB), (1, REMOVE_RGB), (2, REMOVE_RGB)):
            box = first.nth(n).bounding_box()
            assert box is not None and box["y"] + box["height"] < 1000
            x, y = int(box["x"] + 2), int(box["y"] + box["height"] / 2)
            assert near(shot.getpixel((x, y)), colour), (n, shot.getpixel((x, y)))
        assert not errors
        assert all(url.split(":", 1)[0] in ("file", "data", "blob") for url in requests), requests
    finally:
        context.close()

    doc = json.loads(decisions.read_text())
    assert doc["schema"] == "neardup.decisions/1" and doc["cwd"] == str(tmp_path / "set")
    assert doc["folders"] == scanned  # act keeps to them
    by_group = {g["group"]: g for g in doc["groups"]}
    assert sorted(by_group) == [1, 2, 3]
    assert [e["path"] for e in by_group[1]["keep"]] == ["g00001/keep.png"]
    assert [e["path"] for e in by_group[1]["remove"]] == ["g00001/copy1.jpg", "g00001/copy2.jpg"]
    assert [e["path"] for e in by_group[2]["remove"]] == ["g00002/copy1.jpg", "g00002/copy2.jpg"]
    assert by_group[3]["keep"] == [] and len(by_group[3]["remove"]) == 1
    keeper = data["groups"][0]["keeper"]
    assert by_group[1]["keep"][0]["mtime_ns"] == keeper["mtime_ns"]  # 64-bit, exact
    assert by_group[1]["keep"][0]["blake2b"] == keeper["blake2b"]

    # `neardup act` takes the file: four copies trashed, group 3 left alone; undo restores.
    plan = load_plan(decisions)
    assert len(plan.items) == 4 and plan.left[0][0] == "group 3"
    folder = tmp_path / "set"
    before = {p: p.read_bytes() for p in folder.rglob("*.jpg")}
    journal = tmp_path / "journal.jsonl"
    act = ["act", str(decisions), "--trash", "--yes", "--journal", str(journal)]
    assert main(act) == 0
    assert not (folder / "g00001" / "copy1.jpg").exists()
    assert (folder / "g00003" / "copy1.jpg").exists() and (folder / "g00003" / "copy2.jpg").exists()
    assert undo(journal, yes=True, out=lambda _: None).restored == 4
    assert {p: p.read_bytes() for p in folder.rglob("*.jpg")} == before


def test_compare_view_full_pictures_flicker_and_keys(browser: Any, tmp_path: Path) -> None:
    """`c` (or a card's compare button) opens a copy and the image it matched from their
    files at full size; `f` flickers between them, `z` shows actual pixels, Esc closes."""
    result = write_review_result(tmp_path / "set", 4)
    page_file = tmp_path / "report.html"
    build_report(result, page_file, thumbs="embed", thumb_side=48, workers=1)
    context, page, requests, errors = open_page(browser, page_file)
    try:
        first = page.locator("section.group").nth(0)
        n = int(first.get_attribute("data-g") or "0") + 1
        for key in ["l", "c"]:  # the first copy of the first group shown
            page.keyboard.press(key)
        page.wait_for_function("() => document.getElementById('compare').open")
        assert page.inner_text("#cmp-title").startswith(f"Group {n}:")
        images = page.locator("#cmp-panes img")
        assert images.count() == 2
        page.wait_for_function(
            "() => [...document.querySelectorAll('#cmp-panes img')]"
            ".every(i => i.complete && i.naturalWidth > 0)"
        )
        sources = [images.nth(k).get_attribute("src") or "" for k in range(2)]
        assert all(src.startswith("file:///") for src in sources), sources
        assert sources[0].endswith(f"g{n:05d}/keep.png") and sources[1].endswith("copy1.jpg")
        widths = page.eval_on_selector_all("#cmp-panes img", "s => s.map(i => i.naturalWidth)")
        assert widths == [96, 64]  # the files, not the 48 px thumbnails
        labels = page.inner_text("#cmp-panes")
        assert "keeper: g0000" in labels and "copy: g0000" in labels

        page.keyboard.press("f")
        assert "flicker" in (page.get_attribute("#compare", "class") or "")
        showing = page.get_attribute("#cmp-panes", "data-showing")
        page.wait_for_function(
            f"() => document.getElementById('cmp-panes').dataset.showing !== '{showing}'",
            timeout=5_000,
        )
        page.keyboard.press("z")
        assert "actual" in (page.get_attribute("#compare", "class") or "")
        page.keyboard.press("Escape")
        # The dialog's close event (which stops the flicker) fires after `open` turns false.
        page.wait_for_function(
            "() => { const d = document.getElementById('compare');"
            " return !d.open && !d.classList.contains('flicker'); }",
            timeout=5_000,
        )

        # The mouse: the second copy's compare button in the second group.
        second = page.locator("section.group").nth(1)
        m = int(second.get_attribute("data-g") or "0") + 1
        second.locator("figure.card").nth(2).locator("button[data-compare]").click()
        page.wait_for_function("() => document.getElementById('compare').open")
        assert page.inner_text("#cmp-title").startswith(f"Group {m}:")
        last = page.locator("#cmp-panes img").nth(1).get_attribute("src") or ""
        assert last.endswith(f"g{m:05d}/copy2.jpg")
        page.click("#cmp-close")
        page.wait_for_function("() => !document.getElementById('compare').open")
        # Keys reach the page again: mark the focused copy.
        page.keyboard.press("r")
        assert page.inner_text("#decided") == "1 groups decided: 0 keep, 1 remove"
        assert not errors
        assert all(url.split(":", 1)[0] in ("file", "data", "blob") for url in requests), requests
    finally:
        context.close()


def test_compare_view_falls_back_to_the_thumbnail(browser: Any, tmp_path: Path) -> None:
    """A file moved away after the report was made: its pane shows the thumbnail and says so."""
    result = write_review_result(tmp_path / "set", 2)
    page_file = tmp_path / "report.html"
    build_report(result, page_file, thumbs="embed", thumb_side=48, workers=1)
    for copy in (tmp_path / "set").glob("g*/copy1.jpg"):
        copy.unlink()
    context, page, _, errors = open_page(browser, page_file)
    try:
        for key in ["l", "c"]:
            page.keyboard.press(key)
        page.wait_for_function(
            "() => document.querySelector('#cmp-panes .pane:nth-child(2) img')"
            "?.dataset.full === '0'"
        )
        copy = page.locator("#cmp-panes .pane").nth(1)
        assert "could not be read" in copy.inner_text()
        page.wait_for_function(
            "() => document.querySelector('#cmp-panes .pane:nth-child(2) img').naturalWidth > 0"
        )
        assert (copy.locator("img").get_attribute("src") or "").startswith("data:image/jpeg")
        keeper = page.locator("#cmp-panes img").nth(0)
        assert (keeper.get_attribute("src") or "").startswith("file:///")
        assert not errors
    finally:
        context.close()


def test_ten_thousand_groups_stay_quick(browser: Any, tmp_path: Path) -> None:
    result = write_review_result(tmp_path / "big", 10_000, files=False)
    page_file = tmp_path / "big.html"
    build_report(result, page_file, thumbs="none")
    started = time.monotonic()
    context, page, _, errors = open_page(browser, page_file)
    try:
        loaded = time.monotonic() - started
        assert loaded < 20, loaded
        assert page.locator("section.group").count() == 25
        assert page.locator("figure.card").count() == 75
        assert "page 1 of 400 · 10000 of 10000 groups" in page.inner_text("#page-info")
        page.select_option("#sort", "path")
        page.keyboard.press("Escape")
        page.keyboard.press("n")
        assert page.locator("section.group").first.get_attribute("id") == "g26"
        assert "page 2 of 400" in page.inner_text("#page-info")
        page.fill("#search", "g09999/")
        assert page.locator("section.group").count() == 1
        page.keyboard.press("Escape")
        page.keyboard.press("A")  # accept the page's suggestions
        assert page.inner_text("#decided") == "1 groups decided: 1 keep, 2 remove"
        assert not errors
    finally:
        context.close()


def test_a_name_with_runs_of_spaces_reads_as_it_is(browser: Any, tmp_path: Path) -> None:
    """A tester: captions collapsed "a  b.jpg" to "a b.jpg", a name no file has."""
    result = write_review_result(tmp_path / "set", 1)
    named, spaced = "g00001/copy2.jpg", "g00001/copy   of  it.jpg"
    os.rename(tmp_path / "set" / named, tmp_path / "set" / spaced)
    result.write_text(result.read_text().replace(f'"{named}"', f'"{spaced}"'))
    page_file = tmp_path / "report.html"
    build_report(result, page_file, thumbs="embed", thumb_side=48, workers=1)
    context, page, _, errors = open_page(browser, page_file)
    try:
        names = page.locator("figcaption .path").all_inner_texts()
        assert any(name.endswith("copy   of  it.jpg") for name in names), names
        assert not errors
    finally:
        context.close()


def test_the_page_lists_what_the_scan_skipped(browser: Any, tmp_path: Path) -> None:
    """A tester: the page said neither which files the scan could not read nor how many (a
    file in no group may be a duplicate nobody saw)."""
    result = write_review_result(tmp_path / "set", 1)
    doc = json.loads(result.read_text())
    doc["skipped"] = [
        {"path": "broken.jpg", "reason": "truncated JPEG: data is missing before its end"},
        {"path": "<b>odd</b>.png", "reason": "not an image: the file holds text"},
    ]
    result.write_text(json.dumps(doc))
    page_file = tmp_path / "report.html"
    build_report(result, page_file, thumbs="none")
    context, page, _, errors = open_page(browser, page_file)
    try:
        assert page.inner_text("#skipped-count") == "2 files skipped (not read)"
        assert "· 2 skipped" in page.inner_text("#summary")
        page.click("#skipped-count")
        body = page.inner_text("#skipped-body")
        assert "broken.jpg" in body and "data is missing" in body and "<b>odd</b>.png" in body
        assert not errors
    finally:
        context.close()
