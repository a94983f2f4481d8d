"""Exact identity without decoding: the JPEG picture-data hash and the identity test."""

from __future__ import annotations

import io

import numpy as np
from PIL import Image

from neardup.features.exact import jpeg_hash, thumb


def _jpeg(seed: int = 0, **save: object) -> bytes:
    pixels = np.random.default_rng(seed).integers(0, 255, (48, 64, 3), dtype=np.uint8)
    out = io.BytesIO()
    Image.fromarray(pixels).save(out, "JPEG", quality=90, **save)
    return out.getvalue()


def test_metadata_segments_do_not_change_the_jpeg_hash() -> None:
    data = _jpeg()
    with_comment = data[:2] + b"\xff\xfe\x00\x06note" + data[2:]
    exif = Image.Exif()
    exif[0x010F] = "a camera maker"
    with_exif = _jpeg(exif=exif.tobytes())
    assert with_comment != data and with_exif != data
    assert jpeg_hash(data, 1) == jpeg_hash(with_comment, 1) == jpeg_hash(with_exif, 1)


def test_picture_data_and_orientation_change_the_jpeg_hash() -> None:
    data = _jpeg()
    assert jpeg_hash(data, 1) != jpeg_hash(_jpeg(seed=1), 1)
    assert jpeg_hash(data, 1) != jpeg_hash(data, 6)  # same pixels stored, shown turned


def test_non_jpeg_and_damaged_headers_have_no_jpeg_hash() -> None:
    assert jpeg_hash(b"\x89PNG\r\n\x1a\n....", 1) is None
    assert jpeg_hash(b"\xff\xd8\x00\x00garbage", 1) is None
    assert jpeg_hash(b"\xff\xd8", 1) is None


def test_thumb_is_a_4x4_rgb_average() -> None:
    rgb = np.zeros((40, 40, 3), dtype=np.uint8)
    rgb[:, 20:] = 200
    small = thumb(rgb)
    assert small.shape == (4, 4, 3)
    assert small[:, :2].max() == 0 and small[:, 2:].min() == 200
