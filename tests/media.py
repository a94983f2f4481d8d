"""Small media files the tests write themselves: videos (PyAV), HEIF and AVIF stills."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
from conftest import make_photo
from PIL import Image


def scene_pictures(names: Sequence[str], size: tuple[int, int] = (128, 96)) -> list[np.ndarray]:
    """One RGB picture per scikit-image photo name, at `size` (width, height)."""
    return [np.asarray(make_photo(n).convert("RGB").resize(size)) for n in names]


def write_video(
    path: Path,
    scenes: Sequence[np.ndarray],
    frames_per_scene: int = 20,
    rate: int = 10,
    container: str = "mp4",
    seed: int = 0,
    keyint: int | None = None,
    x264: str | None = None,
) -> Path:
    """A video showing each scene for `frames_per_scene` frames (each frame with a little
    noise, as a camera gives), H.264 at `rate` frames per second, a keyframe at least every
    `keyint` frames (None: x264's default, 250); `x264`: more x264 parameters."""
    import av

    rng = np.random.default_rng(seed)
    height, width = scenes[0].shape[:2]
    with av.open(str(path), "w", format=container) as out:
        stream = out.add_stream("libx264", rate=rate)
        stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
        stream.options = {"crf": "20"} | ({"x264-params": x264} if x264 else {})
        if keyint is not None:
            stream.gop_size = keyint
        for scene in scenes:
            for _ in range(frames_per_scene):
                noisy = scene.astype(np.int16) + rng.integers(-3, 4, scene.shape)
                frame = av.VideoFrame.from_ndarray(
                    np.clip(noisy, 0, 255).astype(np.uint8), format="rgb24"
                )
                for packet in stream.encode(frame):
                    out.mux(packet)
        for packet in stream.encode():
            out.mux(packet)
    return path


def truncate(path: Path, target: Path, keep: float) -> Path:
    """The first `keep` share of the file's bytes, as a broken download leaves it."""
    data = path.read_bytes()
    target.write_bytes(data[: int(len(data) * keep)])
    return target


def write_heif(image: Image.Image, path: Path) -> Path:
    """`image` as HEIC (pillow-heif's encoder)."""
    import pillow_heif

    pillow_heif.from_pillow(image.convert("RGB")).save(str(path), quality=90)
    return path


def write_avif(image: Image.Image, path: Path) -> Path:
    """`image` as AVIF (Pillow's own encoder)."""
    image.convert("RGB").save(path, format="AVIF", quality=85)
    return path
