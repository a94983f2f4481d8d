"""Any Pillow picture to the 8-bit RGB a viewer shows: 16-bit and float scaled (not clipped),
palettes expanded, alpha composited over white (or another background: a copy flattened onto
a colour is compared with its original shown over that colour, `neardup.see_through`), and the
EXIF orientation read.

Whether anything was see-through is kept (`Flat.transparent`): a transparent picture and its
flattening show the same pixels on white, and `neardup.differences` says which one has it.
"""

from __future__ import annotations

import numbers
from dataclasses import dataclass

import numpy as np
from PIL import Image

TRANSPOSE = {
    2: Image.Transpose.FLIP_LEFT_RIGHT,
    3: Image.Transpose.ROTATE_180,
    4: Image.Transpose.FLIP_TOP_BOTTOM,
    5: Image.Transpose.TRANSPOSE,
    6: Image.Transpose.ROTATE_270,
    7: Image.Transpose.TRANSVERSE,
    8: Image.Transpose.ROTATE_90,
}
"""How each EXIF orientation is turned upright (as `PIL.ImageOps.exif_transpose` does)."""

_ALPHA_MODES = ("RGBA", "LA", "PA", "RGBa", "La")
WHITE = (255, 255, 255)
BLACK = (0, 0, 0)
Colour = tuple[int, int, int]


@dataclass(frozen=True, slots=True)
class Flat:
    """A picture as shown over its background (white unless asked otherwise), and whether any
    of its pixels were see-through."""

    image: Image.Image
    transparent: bool = False


def flatten(image: Image.Image, background: Colour = WHITE) -> Flat:
    """8-bit RGB from any mode (`to_rgb`), see-through pixels shown over `background`,
    telling whether a pixel was less than opaque."""
    mode = image.mode
    if mode == "P":
        image = image.convert("RGBA" if "transparency" in image.info else "RGB")
        mode = image.mode
    if mode in _ALPHA_MODES or (mode == "RGB" and "transparency" in image.info):
        rgba = image.convert("RGBA")
        transparent = int(np.asarray(rgba.getchannel("A")).min()) < 255
        under = Image.new("RGBA", rgba.size, (*background, 255))
        return Flat(Image.alpha_composite(under, rgba).convert("RGB"), transparent)
    return Flat(to_rgb(image))


def to_rgb(image: Image.Image) -> Image.Image:
    """8-bit RGB from any mode: 16-bit scaled (not clipped), alpha composited over white."""
    mode = image.mode
    if mode in ("I;16", "I;16L", "I;16B", "I;16N", "I", "F"):
        values = np.asarray(image, dtype=np.float64)
        top = 65535.0 if mode.startswith("I;16") or values.max(initial=0) > 255 else 255.0
        if mode == "F" and values.max(initial=0) <= 1.0:
            top = 1.0
        grey = np.clip(values * (255.0 / top), 0, 255).astype(np.uint8)
        return Image.fromarray(grey, "L").convert("RGB")
    if mode == "P" or mode in _ALPHA_MODES or (mode == "RGB" and "transparency" in image.info):
        return flatten(image).image
    if mode == "RGB":
        return image
    return image.convert("RGB")


def exif_orientation(image: Image.Image) -> int:
    """The EXIF orientation (1-8; 1 where absent or unreadable), also when stored as a
    rational or a float (6/1 is 6, as `PIL.ImageOps.exif_transpose` reads it)."""
    try:
        value = image.getexif().get(0x0112, 1)
    except Exception:
        return 1
    if not isinstance(value, numbers.Real):  # text ("6") never matched exif_transpose either
        return 1
    number = float(value)
    return int(number) if number.is_integer() and 1 <= number <= 8 else 1
