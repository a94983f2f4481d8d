"""Pages kept for the comparison of words (`neardup.detail_check`), in each worker: the most
recent whole, older ones packed (the grey picture lz4-compressed, its keypoints as found), so
a page that later rounds of comparisons come back to is neither decoded nor described again.

The grey picture of a page of text at `detail_compare.FINE_SIDE` packs to 25-55 KB (its
keypoints take ~40 KB more), where it takes ~0.8 MB whole; reading the page again took 25-75
ms (decoding and reducing a large page, then ORB), unpacking it takes under a millisecond.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable
from typing import Any, Literal

import numpy as np

from neardup.detail_compare import Keypoints, Page
from neardup.item_pixels import Ref

WHOLE = 16
"""Pages kept whole (~0.8 MB each)."""
PACKED_BYTES = 48 << 20
"""Bytes of packed pages kept: 400-700 pages of text (a screenshot or photograph packs to
~400 KB)."""

Buffer = bytes | bytearray | memoryview
_Packed = tuple[tuple[int, int], Buffer, tuple[Keypoints, Keypoints | Literal[False]]]


class PageCache:
    """A worker's pages by item: `get` returns the kept page, else reads it."""

    def __init__(self, cv2: Any, whole: int = WHOLE, packed_bytes: int = PACKED_BYTES) -> None:
        import imagecodecs

        self._cv2, self._codecs = cv2, imagecodecs
        # Whole pages, each with its grey picture packed where it was unpacked (packed once).
        self._whole: OrderedDict[Ref, tuple[Page | None, Buffer | None]] = OrderedDict()
        self._packed: OrderedDict[Ref, tuple[_Packed, int]] = OrderedDict()
        self._size, self._most, self._budget = 0, whole, packed_bytes

    def get(self, ref: Ref, read: Callable[[], Any]) -> Page | None:
        """The page of `ref`: kept whole, unpacked, or made of the grey picture `read()` gives
        (None where it cannot be read: kept as such while whole, never packed)."""
        if ref not in self._whole:
            packed = self._packed.pop(ref, None)
            if packed is not None:
                self._size -= packed[1]
                (shape, data, described), _ = packed
                grey = np.empty(shape, np.uint8)
                self._codecs.lz4_decode(data, out=grey)
                self._whole[ref] = (Page(self._cv2, grey, described), data)
            else:
                grey = read()
                self._whole[ref] = (None if grey is None else Page(self._cv2, grey), None)
            if len(self._whole) > self._most:
                old, (oldest, packed_grey) = self._whole.popitem(last=False)
                if oldest is not None:
                    self._pack(old, oldest, packed_grey)
        self._whole.move_to_end(ref)
        return self._whole[ref][0]

    def _pack(self, ref: Ref, page: Page, data: Buffer | None) -> None:
        grey = page.grey
        if data is None:
            data = self._codecs.lz4_encode(np.ascontiguousarray(grey))
        described = page.described()  # the mirror's keypoints too, where made since
        size = len(data) + sum(a.nbytes for k in described if k for a in k)  # type: ignore[union-attr]
        self._packed[ref] = ((int(grey.shape[0]), int(grey.shape[1])), data, described), int(size)
        self._size += size
        while self._size > self._budget and self._packed:
            self._size -= self._packed.popitem(last=False)[1][1]
