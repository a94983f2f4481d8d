"""Pages kept packed give the same comparisons as pages read again, and are not read again
while their budget holds them."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
from PIL import Image, ImageFilter
from test_detail_check import invoice

from neardup.decode import DecodeSpec
from neardup.detail_check import DetailChecker
from neardup.detail_compare import FINE_SIDE, compare
from neardup.detail_pages import PageCache
from neardup.item_pixels import FramePictures
from neardup.verify import read_grey


def _files(tmp_path: Path) -> list[str]:
    original = invoice(1)
    names = []
    for name, picture in (
        ("invoice.png", original),
        ("blurred.png", original.filter(ImageFilter.GaussianBlur(1.5))),
        ("mirrored.png", original.transpose(Image.Transpose.FLIP_LEFT_RIGHT)),
        ("other.png", invoice(2)),
    ):
        picture.save(tmp_path / name)
        names.append(str(tmp_path / name))
    return names


def test_a_page_packed_and_unpacked_compares_as_one_read_again(tmp_path: Path) -> None:
    files = _files(tmp_path)
    frames = FramePictures(DecodeSpec(min_side=FINE_SIDE))
    reads: list[str] = []

    def reader(ref: str):  # type: ignore[no-untyped-def]
        def read():  # type: ignore[no-untyped-def]
            reads.append(ref)
            return read_grey(cv2, ref, frames, set(), FINE_SIDE)

        return read

    cache = PageCache(cv2, whole=1)  # every other page packed
    fresh = {ref: DetailChecker()._page(ref) for ref in files}
    for a in files:
        for b in files:
            if a == b:
                continue
            kept_a = cache.get(a, reader(a))
            kept_b = cache.get(b, reader(b))
            assert kept_a is not None and kept_b is not None
            page_a, page_b = fresh[a], fresh[b]
            assert page_a is not None and page_b is not None
            assert np.array_equal(kept_a.grey, page_a.grey)
            assert compare(cv2, kept_a, kept_b) == compare(cv2, page_a, page_b)
    assert sorted(reads) == sorted(files)  # each read once, then unpacked
    # the mirrored picture's keypoints, made while whole, were packed with it
    mirrored = cache.get(files[2], reader(files[2]))
    assert mirrored is not None and mirrored.described()[1] is not False


def test_pages_past_the_budget_are_read_again(tmp_path: Path) -> None:
    files = _files(tmp_path)
    frames = FramePictures(DecodeSpec(min_side=FINE_SIDE))
    reads: list[str] = []

    def get(cache: PageCache, ref: str) -> None:
        def read():  # type: ignore[no-untyped-def]
            reads.append(ref)
            return read_grey(cv2, ref, frames, set(), FINE_SIDE)

        assert cache.get(ref, read) is not None

    tight = PageCache(cv2, whole=1, packed_bytes=1)
    for ref in files + files:
        get(tight, ref)
    assert reads == files + files  # nothing fits the budget: each read every time
    reads.clear()
    roomy = PageCache(cv2, whole=1)
    for ref in files + files:
        get(roomy, ref)
    assert reads == files


def test_an_unreadable_page_is_none_and_not_packed(tmp_path: Path) -> None:
    cache = PageCache(cv2, whole=1)
    assert cache.get("missing", lambda: None) is None
    files = _files(tmp_path)
    frames = FramePictures(DecodeSpec(min_side=FINE_SIDE))
    page = cache.get(files[0], lambda: read_grey(cv2, files[0], frames, set(), FINE_SIDE))
    assert page is not None
    calls: list[int] = []
    assert cache.get("missing", lambda: calls.append(1)) is None  # type: ignore[func-returns-value]
    assert calls == [1]  # asked again: an unreadable page is not kept packed
