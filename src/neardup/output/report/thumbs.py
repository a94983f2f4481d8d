"""Thumbnails for the report: small JPEGs made with Pillow, a batch per call so that a
`LocalEngine` (`neardup.engines.local.map_batches`) makes them on every core."""

from __future__ import annotations

import io
import warnings
from typing import Any

from PIL import Image, ImageOps

from neardup.decode import DEFAULT_MAX_PIXELS

QUALITY = 70


def _thumb(path: str, side: int) -> bytes | None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            with Image.open(path) as image:
                if image.width * image.height > DEFAULT_MAX_PIXELS:
                    return None  # a decompression bomb: no thumbnail, as scan skips it
                image.draft("RGB", (side, side))  # JPEG: decode at a reduced scale
                picture = ImageOps.exif_transpose(image)
                if picture.mode in ("RGBA", "LA", "PA") or "transparency" in picture.info:
                    rgba = picture.convert("RGBA")
                    flat = Image.new("RGB", rgba.size, (255, 255, 255))
                    flat.paste(rgba, mask=rgba.getchannel("A"))
                    picture = flat
                else:
                    picture = picture.convert("RGB")
                return _jpeg(picture, side)
        except Exception:  # a file unreadable now (gone, truncated): the page says so
            return None


def make_thumbs(items: list[tuple[str, int | None]], side: int) -> list[bytes | None]:
    """One JPEG (longer side at most `side`) per (path, frame), frame None for a still, or
    None where it cannot be read. Each video is opened once for all its frames asked."""
    frames: dict[str, set[int]] = {}
    for path, frame in items:
        if frame is not None:
            frames.setdefault(path, set()).add(frame)
    decoded = {path: _frames(path, wanted, 2 * side) for path, wanted in frames.items()}
    out: list[bytes | None] = []
    for path, frame in items:
        if frame is None:
            out.append(_thumb(path, side))
            continue
        rgb = decoded[path].get(frame)
        out.append(None if rgb is None else _jpeg(Image.fromarray(rgb), side))
    return out


def _frames(path: str, wanted: set[int], width: int) -> dict[int, Any]:
    """The wanted frames, scaled to `width` as decoded (a 4K frame would be 25 MB each)."""
    from neardup.sources.video_frames import frames_at

    try:
        return frames_at(path, wanted, width=width)
    except Exception:  # a video unreadable now: those cards say "no thumbnail"
        return {}


def _jpeg(picture: Image.Image, side: int) -> bytes:
    picture.thumbnail((side, side), Image.Resampling.LANCZOS)
    out = io.BytesIO()
    picture.save(out, "JPEG", quality=QUALITY, optimize=True)
    return out.getvalue()
