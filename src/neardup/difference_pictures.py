"""The pictures `neardup.differences` compares: each file decoded once at the working size, with
what the measures need of it, in a worker's small cache; and the identical-pixels check."""

from __future__ import annotations

import io
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt
from PIL import Image

from neardup.borders import SideColours
from neardup.decode import Decoded, DecodeSpec, decode, pixel_hash_of
from neardup.difference_measures import colour_spread, jpeg_quality
from neardup.features.exact import bytes_hash
from neardup.item_pixels import FramePictures, Ref, ShownOver
from neardup.sources.remote import read_bytes

WORK_SIDE = 384
"""Decode side for measuring: enough keypoints and detail for blur, a few ms a picture."""


@dataclass(slots=True)
class Picture:
    """One decoded picture and what the measures need of it (kept in the worker's cache)."""

    path: str
    digest: str
    width: int
    height: int
    trimmed: tuple[int, int, int, int]
    orientation: int
    quality: int | None
    rgb: npt.NDArray[np.uint8]
    grey: npt.NDArray[np.uint8]
    spread: float
    """Mean spread between its channels: 0 for grey."""
    full: bool = True
    """Decoded from all its full-resolution pixels (`neardup.decode.Decoded.full`)."""
    pixel_hash: str | None = None
    """Hash of the full-resolution pixels, made when a pair first needs it (then kept); a
    video frame's is made with its working picture."""
    frame: int | None = None
    """The frame's index when the picture is a video frame (`path` is then the video's)."""
    border_colours: SideColours | None = None
    """The colours of the borders decoding trimmed, by side (None: none trimmed)."""
    transparent: bool = False
    """Some pixels were see-through (`neardup.decode.Decoded.transparent`)."""
    keypoints: dict[bool, tuple[Any, Any] | None] = field(default_factory=dict)
    """ORB points and descriptors of the grey picture, by mirrored, found when an alignment
    first needs them (then kept; None: too few)."""

    @property
    def content(self) -> tuple[int, int]:
        """Full-resolution size of the picture inside its borders."""
        left, top, right, bottom = self.trimmed
        return max(1, self.width - left - right), max(1, self.height - top - bottom)

    @property
    def per_work_pixel(self) -> float:
        """Full-resolution pixels per working pixel."""
        return float(self.content[0] / self.rgb.shape[1])


class PictureCache:
    """The pictures a worker read last, by path (a picture in many pairs is decoded once); a
    file that cannot be read or decoded is kept as the note that says so."""

    def __init__(self, cv2: Any, size: int = 128) -> None:
        self._cv2 = cv2
        self._cache: OrderedDict[Ref, Picture | str] = OrderedDict()
        self._size = size
        self.frames = FramePictures(DecodeSpec(min_side=WORK_SIDE))
        self._read: tuple[str, bytes, str] | None = None
        """(path, bytes, digest) of the file `copy_of` read last, for `load` to decode."""

    def copy_of(self, path: Ref, picture: Picture) -> bool:
        """Whether the file at `path` holds `picture`'s very bytes, told without decoding it
        (a byte copy needs no decode: it would decode to `picture`). Its bytes are kept for
        `load`; a file that cannot be read is not a copy (`load` says why). A video frame is
        never a byte copy (other frames share its file's bytes)."""
        if not isinstance(path, str) or picture.frame is not None:
            return False
        cached = self._cache.get(path)
        if cached is not None:
            return isinstance(cached, Picture) and cached.digest == picture.digest
        try:
            data = read_bytes(path)
        except OSError:
            return False
        self._read = (path, data, bytes_hash(data))
        return self._read[2] == picture.digest

    def load(self, path: Ref) -> Picture | str:
        if isinstance(path, ShownOver):  # not given one (differences read `ref_of`): as shown
            return self.load(path.path)
        if path in self._cache:
            self._cache.move_to_end(path)
            return self._cache[path]
        if not isinstance(path, str):
            frame = self.frames.get(path)
            found_frame: Picture | str = (
                f"cannot decode frame {path[1]} of {path[0]}"
                if not isinstance(frame, Decoded)
                else self._picture(path[0], "", "", frame, path[1])
            )
            return self._keep(path, found_frame)
        read, self._read = self._read, None
        try:
            data, digest = (read[1], read[2]) if read and read[0] == path else _read(path)
        except OSError as error:
            found: Picture | str = f"cannot read {path}: {error.strerror or error}"
        else:
            # No pixel hash here: `same_pixels` makes it for the few pairs that need it.
            decoded = decode(data, path, DecodeSpec(min_side=WORK_SIDE), hash_pixels=False)
            if isinstance(decoded, Decoded):
                found = self._picture(path, data, digest, decoded)
            else:
                found = f"cannot decode {path}: {decoded.reason}"
        return self._keep(path, found)

    def _keep(self, ref: Ref, found: Picture | str) -> Picture | str:
        self._cache[ref] = found
        if len(self._cache) > self._size:
            self._cache.popitem(last=False)
        return found

    def _picture(
        self,
        path: str,
        data: bytes | str,
        digest: str,
        decoded: Decoded,
        frame: int | None = None,
    ) -> Picture:
        quality = None
        if decoded.format == "JPEG" and isinstance(data, bytes):
            with Image.open(io.BytesIO(data)) as image:
                quality = jpeg_quality(getattr(image, "quantization", None))
        grey = np.asarray(self._cv2.cvtColor(decoded.rgb, self._cv2.COLOR_RGB2GRAY), np.uint8)
        return Picture(
            path,
            digest if frame is None else f"{path}#{frame}",
            decoded.width,
            decoded.height,
            decoded.trimmed or (0, 0, 0, 0),
            decoded.orientation,
            quality,
            decoded.rgb,
            grey,
            colour_spread(decoded.rgb),
            decoded.full,
            decoded.pixel_hash if frame is not None else None,
            frame,
            decoded.border_colours,
            transparent=decoded.transparent,
        )


def _read(path: str) -> tuple[bytes, str]:
    data = read_bytes(path)  # a file, or a URL through fsspec, as the features read it
    return data, bytes_hash(data)


def same_pixels(a: Picture, b: Picture) -> bool:
    """Identical displayed pixels: same size, near-equal working pixels, then confirmed
    by full decodes (rare: only candidates pay for them)."""
    if (a.width, a.height) != (b.width, b.height) or a.rgb.shape != b.rgb.shape:
        return False
    import cv2

    # Mean absolute difference: OpenCV's exact integer sum, without numpy's int16 copies.
    gap = cv2.norm(a.rgb, b.rgb, cv2.NORM_L1) / a.rgb.size
    if gap > 2.0:
        return False
    if a.full and b.full and gap > 0:
        # Both made from all their pixels the same way: different working pixels can only
        # come from different pixels, and the full decodes would say no (a re-encode).
        return False
    for picture in (a, b):
        if picture.pixel_hash is None:
            try:
                found = pixel_hash_of(read_bytes(picture.path))
            except OSError:
                found = None
            picture.pixel_hash = found or ""  # "" : tried, cannot tell
    return bool(a.pixel_hash) and a.pixel_hash == b.pixel_hash
