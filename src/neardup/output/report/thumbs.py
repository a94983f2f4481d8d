"""Thumbnails for the report: small JPEGs made with Pillow, a batch per call so that a
`LocalEngine` (`neardup.engines.local.map_batches`) makes them on every core."""

from __future__ import annotations

import io
import warnings

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
                picture.thumbnail((side, side), Image.Resampling.LANCZOS)
                out = io.BytesIO()
                picture.save(out, "JPEG", quality=QUALITY, optimize=True)
                return out.getvalue()
        except Exception:  # a file unreadable now (gone, truncated): the page says so
            return None


def make_thumbs(paths: list[str], side: int) -> list[bytes | None]:
    """One JPEG (longer side at most `side`) per path, or None where it cannot be read."""
    return [_thumb(path, side) for path in paths]
