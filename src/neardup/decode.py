"""Safe decoding: from file bytes to one small, upright, 8-bit RGB picture the features share.

Each file is decoded once, to the size the features need (JPEG DCT scaling through Pillow's
draft mode, so a 24 MP photo is decoded at 1/8 scale), then:
- refused if it claims more pixels than `max_pixels` (decompression bombs) or is truncated
  (Pillow raises instead of padding grey; a JPEG that lacks only its end marker is read,
  `neardup.jpeg_end`);
- turned upright by its EXIF orientation;
- brought to 8-bit RGB whatever it was (CMYK, 16-bit, palette, alpha over white or the
  spec's background, first frame of an animation);
- stripped of uniform borders of any colour (letterbox, padding, frames; under 128 px only
  matching opposite ones), so a bordered copy matches its source;
- for the features only, turned back where it was turned by a small angle on a flat canvas
  (`neardup.straighten`), so a rotate-and-fill copy matches its source too.
Bad input never raises: `decode` returns a `Skipped` with a reason a person can act on.
"""

from __future__ import annotations

import io
import warnings
import zlib
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import xxhash
from PIL import Image, ImageFile, UnidentifiedImageError

from neardup.borders import SideColours, find_borders, side_colours, symmetric_only
from neardup.jpeg_end import cut_short, refusal, with_end
from neardup.pixel_decoders import fast_pixels
from neardup.pixel_modes import TRANSPOSE, WHITE, Colour, exif_orientation, flatten
from neardup.records import Skipped
from neardup.straighten import EDGE, straighten

RGBArray = npt.NDArray[np.uint8]

DEFAULT_MAX_PIXELS = 150_000_000
"""About 12,000 x 12,000: larger images are refused as likely decompression bombs."""

ImageFile.LOAD_TRUNCATED_IMAGES = False  # never pad a truncated file silently
try:  # HEIC / HEIF photos; AVIF Pillow reads itself (>= 11.3)
    from pillow_heif import register_heif_opener

    register_heif_opener()
except ImportError:  # not installed: such files are skipped as an unsupported format
    pass
Image.MAX_IMAGE_PIXELS = None  # we check the size ourselves, with a clear reason


@dataclass(frozen=True, slots=True)
class DecodeSpec:
    """How much of an image the features need."""

    min_side: int = 256
    """Decode (and reduce) so the shorter side is at least this many pixels."""
    max_pixels: int = DEFAULT_MAX_PIXELS
    trim: bool = True
    full_pixels: bool = False
    """Decode at full resolution (no DCT scaling) so the pixel hash is always computed."""
    straighten: bool = False
    """Turn back a picture turned by a small angle on a flat canvas (`neardup.straighten`):
    for the features; the check and the differences measure the turn instead."""
    background: Colour = WHITE
    """What see-through pixels are shown over (white, as a browser shows them; another colour
    where a pair's copy was flattened onto it, `neardup.see_through`)."""


@dataclass(slots=True)
class Decoded:
    """One decoded image: the working picture and the facts about the original."""

    rgb: RGBArray
    """H x W x 3 uint8, upright, reduced, borders trimmed."""
    width: int
    height: int
    """Size of the original as displayed (after EXIF orientation)."""
    format: str
    pixel_hash: str | None
    trimmed: tuple[int, int, int, int] | None
    orientation: int = 1
    picture: Image.Image | None = None
    """`rgb` as a Pillow image (the features that resize it are spared converting it back)."""
    full: bool = True
    """Decoded from every full-resolution pixel (not DCT-scaled): `rgb` is then a function of
    the upright RGB pixels alone, so two pictures with different `rgb` have different pixels."""
    unturned: RGBArray | None = None
    """For a picture turned back: the canvas as it is, at the working size (what `similarity`
    is measured against, `Features.turned_back`)."""
    border_colours: SideColours | None = None
    """The trimmed borders' colours by side (`neardup.borders.side_colours`), None if none."""
    transparent: bool = False
    """Some pixels were see-through (shown over the spec's background: white, but for a pair
    whose copy was flattened onto a colour, `neardup.see_through`)."""


def decode(
    data: bytes, path: str, spec: DecodeSpec = DecodeSpec(), *, hash_pixels: bool = True
) -> Decoded | Skipped:
    """Decode `data` (the bytes of the file at `path`) or say why it cannot be used.

    `hash_pixels=False` leaves `pixel_hash` None: a caller that only looks at the picture (the
    geometric check) is spared hashing every full-resolution pixel."""
    if not data:
        return Skipped(path, "empty file (0 bytes)")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            try:
                return _decode(data, path, spec, hash_pixels)
            except OSError as error:
                if "truncated" not in str(error) or not data.startswith(b"\xff\xd8"):
                    raise
                ended = with_end(data)
                if ended is None:
                    ends = data.endswith(b"\xff\xd9")
                    raise _Refused(cut_short(error if ends else None)) from None
                refused = refusal(ended, spec.max_pixels)
                if refused is not None:
                    raise _Refused(refused) from None
                return _decode(ended, path, spec, hash_pixels)
    except _Refused as refused:
        return Skipped(path, str(refused))
    except UnidentifiedImageError:
        return Skipped(path, _unrecognised(data))
    except Image.DecompressionBombError as error:
        return Skipped(path, f"decompression bomb: {error}")
    except (OSError, SyntaxError, ValueError, EOFError, IndexError, KeyError) as error:
        message = _message(error)
        if message.startswith("image file is truncated"):  # worded apart from older runs'
            message = f"its data ends early ({message})"  # cached skips (`neardup.store`)
        return Skipped(path, f"corrupt or truncated image: {message}")
    except MemoryError:
        return Skipped(path, "out of memory while decoding")
    except Exception as error:  # a decoder bug must not stop the scan
        return Skipped(path, f"cannot decode ({type(error).__name__}: {_message(error)})")


class _Refused(Exception):
    """A file we decline to decode, with the reason as its message."""


def too_many_pixels(w: int, h: int, most: int) -> str:
    """Why a picture claiming `w` x `h` is refused (a decompression bomb)."""
    claim = f"claims {w} x {h} = {w * h:,} pixels, over the limit of {most:,}"
    return f"decompression bomb: {claim} (raise it with --max-pixels)"


def _decode(data: bytes, path: str, spec: DecodeSpec, hash_pixels: bool) -> Decoded:
    image: Image.Image = Image.open(io.BytesIO(data))
    fmt = image.format or "unknown"
    width, height = image.size
    if width <= 0 or height <= 0:
        raise _Refused(f"image has no pixels ({width} x {height})")
    if width * height > spec.max_pixels:
        raise _Refused(too_many_pixels(width, height, spec.max_pixels))
    if getattr(image, "n_frames", 1) > 1:
        fmt += " (multi-page: first page)" if fmt == "TIFF" else " (animated: first frame)"
        image.seek(0)
    full = True
    if fmt == "JPEG" and not spec.full_pixels:
        draft_mode = image.mode if image.mode in ("RGB", "L") else None
        image.draft(draft_mode, (spec.min_side, spec.min_side))
        full = image.size == (width, height)
    pixels = fast_pixels(image, data) if full else None
    if pixels is None:
        try:
            image.load()
        except OSError as error:
            if full or "truncated" in str(error):  # a cut file fails whole too, slower
                raise
            image, full = Image.open(io.BytesIO(data)), True  # lossless JPEG: no DCT scaling
            image.load()
        orientation = exif_orientation(image)
    else:  # a PNG it decodes has no EXIF (see `fast_pixels`); a WebP's is read at open
        orientation = exif_orientation(image) if fmt == "WEBP" else 1
        image = Image.fromarray(pixels)
    turn = TRANSPOSE.get(orientation)
    if turn is not None:
        image = image.transpose(turn)
    if orientation in (5, 6, 7, 8):
        width, height = height, width
    flat = flatten(image, spec.background)
    rgb_image = flat.image
    pixel_hash = None
    if full and hash_pixels:  # the decoder's own array when it holds these very pixels
        upright_rgb = pixels is not None and turn is None and image.mode == "RGB"
        pixel_hash = _pixel_hash(rgb_image, pixels if upright_rgb else None)
    upright = rgb_image
    rgb_image = _reduce(rgb_image, spec.min_side)
    rgb = np.asarray(rgb_image, dtype=np.uint8)
    box = None
    turned = _turned_back(upright, rgb, spec, width, height) if spec.straighten else None
    picture, colours, unturned = rgb_image, None, None
    if turned is not None:
        unturned = rgb
        rgb, picture, box = turned
    elif spec.trim:
        box = _borders(rgb, width, height)
        if box is not None:
            left, top, right, bottom = box
            colours = side_colours(rgb, box)
            rgb = rgb[top : rgb.shape[0] - bottom, left : rgb.shape[1] - right]
            w, h = rgb_image.size
            picture = rgb_image.crop((left, top, w - right, h - bottom))
            box = _scale_box(box, rgb_image.size, (width, height))
    return Decoded(
        np.ascontiguousarray(rgb) if turned is None else rgb,
        width,
        height,
        fmt,
        pixel_hash,
        box,
        orientation,
        picture,
        full,
        unturned,
        colours,
        flat.transparent,
    )


def _turned_back(
    upright: Image.Image, rgb: RGBArray, spec: DecodeSpec, width: int, height: int
) -> tuple[RGBArray, Image.Image, tuple[int, int, int, int] | None] | None:
    """(pixels, picture, box) of a picture found turned on a flat canvas (`rgb`, reduced from
    `upright`), turned back and then trimmed of its own borders; None if it is not one.

    The box is the picture's place on the canvas, in the file's pixels: its size is
    what groups (`content_pixels`) and the aspect fact read; the turn itself is not a border,
    and the differences measure it themselves. Cut out of a canvas reduced to `min_side`, the
    picture is smaller than that; the canvas is then reduced less and turned back again."""
    turn = straighten(rgb)
    if turn is None:
        return None
    short = min(turn.picture.size)
    if turn.expanded and short < spec.min_side and min(upright.size) > min(rgb.shape[:2]):
        # The cut-out loses `EDGE` pixels a side at any scale.
        side = -(-(spec.min_side + 2 * EDGE) * min(rgb.shape[:2]) // (short + 2 * EDGE))
        larger = np.asarray(_reduce(upright, side))
        again = straighten(larger)
        if again is not None and again.expanded:
            turn, rgb = again, larger
    picture = turn.picture
    scale_w, scale_h = width / rgb.shape[1], height / rgb.shape[0]
    outer = (0, 0, 0, 0)
    if turn.expanded:
        inner_w = min(width, round(picture.width * scale_w))
        inner_h = min(height, round(picture.height * scale_h))
        # Centred, unless margins of fill were added around the turned picture.
        dx = round((turn.centre[0] - rgb.shape[1] / 2) * scale_w)
        dy = round((turn.centre[1] - rgb.shape[0] / 2) * scale_h)
        left = min(max(0, (width - inner_w) // 2 + dx), width - inner_w)
        top = min(max(0, (height - inner_h) // 2 + dy), height - inner_h)
        outer = (left, top, width - inner_w - left, height - inner_h - top)
    pixels = np.asarray(picture, dtype=np.uint8)
    inside = _borders(pixels, *_full_size(picture.size, scale_w, scale_h)) if spec.trim else None
    if inside is not None:  # the picture's own borders, trimmed as its source's are
        left, top, right, bottom = inside
        pixels = pixels[top : pixels.shape[0] - bottom, left : pixels.shape[1] - right]
        picture = picture.crop((left, top, picture.width - right, picture.height - bottom))
        outer = (
            outer[0] + round(left * scale_w),
            outer[1] + round(top * scale_h),
            outer[2] + round(right * scale_w),
            outer[3] + round(bottom * scale_h),
        )
    box = outer if any(outer) else None
    return np.ascontiguousarray(pixels), picture, box


def _full_size(size: tuple[int, int], scale_w: float, scale_h: float) -> tuple[int, int]:
    """A working size in the file's pixels."""
    return round(size[0] * scale_w), round(size[1] * scale_h)


def decode_array(rgb: RGBArray, fmt: str, spec: DecodeSpec = DecodeSpec()) -> Decoded:
    """The working picture of an already decoded H x W x 3 uint8 frame (a video frame), made
    as `decode` makes it for a file: pixel hash at full size, reduced, borders trimmed."""
    image = Image.fromarray(np.ascontiguousarray(rgb), "RGB")
    width, height = image.size
    pixel_hash = _pixel_hash(image)
    small = _reduce(image, spec.min_side)
    work = np.asarray(small, dtype=np.uint8)
    box = _borders(work, width, height) if spec.trim else None
    colours = None
    if box is not None:
        left, top, right, bottom = box
        colours = side_colours(work, box)
        work = work[top : work.shape[0] - bottom, left : work.shape[1] - right]
        box = _scale_box(box, small.size, (width, height))
    out = np.ascontiguousarray(work)
    return Decoded(out, width, height, fmt, pixel_hash, box, border_colours=colours)


def _pixel_hash(image: Image.Image, pixels: RGBArray | None = None) -> str:
    """XXH3-128 of the size and the RGB pixels: hashing every full-resolution pixel with
    BLAKE2b cost as much as decoding a PNG; XXH3 reads them about 20x faster. Its 128 bits make
    an accidental collision as unlikely; it is not meant to resist a forger (who could only make
    two of their own pictures look identical)."""
    digest = xxhash.xxh3_128(f"{image.size[0]}x{image.size[1]}:".encode())
    if pixels is None:
        pixels = np.asarray(image, dtype=np.uint8)
    digest.update(np.ascontiguousarray(pixels))
    return digest.hexdigest()


def pixel_hash_of(data: bytes) -> str | None:
    """Hash of the full-resolution upright RGB pixels (None if undecodable)."""
    result = decode(data, "", DecodeSpec(full_pixels=True, trim=False, min_side=1 << 30))
    return result.pixel_hash if isinstance(result, Decoded) else None


def _reduce(image: Image.Image, min_side: int) -> Image.Image:
    """Shrink so the shorter side is `min_side` (never enlarge)."""
    w, h = image.size
    short = min(w, h)
    if short <= min_side:
        return image
    scale = min_side / short
    size = (max(1, round(w * scale)), max(1, round(h * scale)))
    return image.resize(size, Image.Resampling.BILINEAR, reducing_gap=2.0)


MIN_TRIM_SIDE = 128
"""On originals with a shorter side only matching opposite borders are trimmed: JPEG softens
an edge over up to 16 px, on an icon enough that its copy would be trimmed otherwise."""


def _borders(rgb: RGBArray, width: int, height: int) -> tuple[int, int, int, int] | None:
    box = find_borders(rgb)
    return box if min(width, height) >= MIN_TRIM_SIDE else symmetric_only(box)


def _scale_box(
    box: tuple[int, int, int, int], work: tuple[int, int], full: tuple[int, int]
) -> tuple[int, int, int, int]:
    sx, sy = full[0] / work[0], full[1] / work[1]
    left, top, right, bottom = box
    return round(left * sx), round(top * sy), round(right * sx), round(bottom * sy)


def _unrecognised(data: bytes) -> str:
    head = data[:512]
    if _svg(data):
        return "an SVG (vector) image: not supported; convert it to PNG to compare it"
    printable = sum(32 <= b < 127 or b in (9, 10, 13) for b in head)
    if printable >= 0.95 * len(head):
        return "not an image: the file holds text"
    from neardup.sources.files import looks_like_image

    if looks_like_image(data[:32]):
        return "unsupported image format or corrupt header"
    from neardup.sources.video import looks_like_video

    if looks_like_video(data[:32]):
        return "a video file with an image's name: rename it (.mp4, .mkv, ...) to read its frames"
    return "not an image: unrecognised content (the name does not decide the format)"


def _svg(data: bytes) -> bool:
    """An SVG document (or gzipped, .svgz): it begins as XML or an <svg> and holds <svg> (an
    HTML page with an inline icon is not one)."""
    if data.startswith(b"\x1f\x8b"):
        try:
            data = zlib.decompressobj(16 + zlib.MAX_WBITS).decompress(data[:65536], 4096)
        except zlib.error:
            return False
    text = data[:4096].lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    return text.startswith((b"<?xml", b"<svg", b"<!--", b"<!doctype svg")) and b"<svg" in text


def _message(error: BaseException) -> str:
    text = str(error).strip() or type(error).__name__
    return text if len(text) <= 200 else text[:197] + "..."
