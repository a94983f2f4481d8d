"""Shared fixtures: small real photographs (bundled with scikit-image) written as the files a
scan meets, good and bad, and a readable view of a scan's result.

Everything is generated under pytest's tmp_path; nothing is downloaded and no test touches the
user's cache (scans use cache=False or a cache file under tmp_path).
"""

from __future__ import annotations

import builtins
import contextlib
import errno
import functools
import hashlib
import io
import json
import os
import shutil
import struct
import tempfile
import zlib
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from PIL import Image
from skimage import data as skdata

import neardup
import neardup.pipeline
from neardup.output.differences import to_dict as differences_dict
from neardup.records import Differences, Features, FileRef, ScanResult


@functools.cache
def chmod_protects() -> bool:
    """Whether chmod 000 stops this process reading a file (not so for root, which has
    CAP_DAC_OVERRIDE; so the tests check rather than assume from os.geteuid())."""
    with tempfile.TemporaryDirectory() as folder:
        probe = Path(folder) / "probe"
        probe.write_bytes(b"x")
        probe.chmod(0)
        try:
            with builtins.open(probe, "rb"):
                return False
        except PermissionError:
            return True
        finally:
            probe.chmod(0o600)


@functools.cache
def _pixels(name: str) -> np.ndarray:
    array = np.asarray(getattr(skdata, name)())
    if array.dtype == bool:
        array = array.astype(np.uint8) * 255
    array.setflags(write=False)
    return array


def make_photo(name: str, side: int = 256) -> Image.Image:
    """The photo `name` as 8-bit RGB, shrunk so its longer side is `side` pixels."""
    image = Image.fromarray(_pixels(name)).convert("RGB")
    image.thumbnail((side, side), Image.Resampling.LANCZOS)
    return image


def near(
    found: tuple[int, int, int, int] | None, box: tuple[float, ...], least: float = 0.9
) -> bool:
    """`found` covers `box` (intersection over union at least `least`): a box a finder found
    against where the picture was placed."""
    if found is None:
        return False
    width = min(found[2], box[2]) - max(found[0], box[0])
    height = min(found[3], box[3]) - max(found[1], box[1])
    common = max(0.0, width) * max(0.0, height)
    areas = [(b[2] - b[0]) * (b[3] - b[1]) for b in (found, box)]
    return common / (sum(areas) - common) >= least


def encode(image: Image.Image, fmt: str, **params: Any) -> bytes:
    """The bytes of `image` saved as `fmt` (JPEG quality 90 unless given)."""
    if fmt.upper() in ("JPEG", "JPG"):
        params.setdefault("quality", 90)
        fmt = "JPEG"
    buffer = io.BytesIO()
    image.save(buffer, fmt, **params)
    return buffer.getvalue()


_FORMATS = {".jpg": "JPEG", ".jpeg": "JPEG", ".png": "PNG", ".gif": "GIF", ".bmp": "BMP"}
_FORMATS |= {".tif": "TIFF", ".tiff": "TIFF", ".webp": "WEBP"}


class FileMaker:
    """Writes the files the tests scan: photos in any format, and every kind of bad file."""

    photo = staticmethod(make_photo)
    encode = staticmethod(encode)

    @staticmethod
    def image(
        path: Path,
        content: str | Image.Image,
        side: int = 256,
        fmt: str | None = None,
        **params: Any,
    ) -> Path:
        """Write a photo (by name) or an image to `path`; the format follows the extension."""
        image = make_photo(content, side) if isinstance(content, str) else content
        fmt = fmt or _FORMATS[path.suffix.lower()]
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(encode(image, fmt, **params))
        return path

    @staticmethod
    def png_chunk(kind: bytes, body: bytes) -> bytes:
        crc = zlib.crc32(kind + body) & 0xFFFFFFFF
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", crc)

    @classmethod
    def bomb_png(cls, path: Path, width: int = 60_000, height: int = 60_000) -> Path:
        """A ~100-byte PNG whose (valid, CRC-checked) header claims width x height RGB pixels."""
        ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
        body = (
            b"\x89PNG\r\n\x1a\n"
            + cls.png_chunk(b"IHDR", ihdr)
            + cls.png_chunk(b"IDAT", zlib.compress(b"\x00" * 64))
            + cls.png_chunk(b"IEND", b"")
        )
        path.write_bytes(body)
        return path

    @staticmethod
    def bomb_gif(path: Path, width: int = 60_000, height: int = 60_000) -> Path:
        """A ~30-byte GIF whose screen and frame descriptors claim width x height pixels."""
        size = struct.pack("<HH", width, height)
        body = (
            b"GIF89a"
            + size
            + b"\x00\x00\x00"  # no global colour table
            + b"\x2c"
            + struct.pack("<HH", 0, 0)
            + size
            + b"\x00"  # image descriptor, no local table
            + b"\x02\x02\x44\x01\x00"  # a tiny LZW stream
            + b"\x3b"
        )
        path.write_bytes(body)
        return path

    @staticmethod
    def truncated(path: Path, name: str, fmt: str, keep: float = 0.5, side: int = 240) -> Path:
        """The first `keep` of a real photo's file bytes."""
        whole = encode(make_photo(name, side), fmt)
        path.write_bytes(whole[: int(len(whole) * keep)])
        return path

    @staticmethod
    def random_bytes(path: Path, size: int = 4096, seed: int = 0) -> Path:
        noise = np.random.default_rng(seed).integers(0, 256, size, dtype=np.uint8).tobytes()
        # Make sure no image signature can appear by chance at the start.
        path.write_bytes(b"\x00\x13" + noise)
        return path

    @staticmethod
    def text(path: Path, lines: int = 20) -> Path:
        path.write_text("These are notes, not a picture.\n" * lines, encoding="utf-8")
        return path

    @staticmethod
    def exif_rotated(path: Path, upright: Image.Image, orientation: int) -> Path:
        """A JPEG stored turned so that applying EXIF `orientation` (3, 6 or 8) shows `upright`."""
        stored_as = {
            3: Image.Transpose.ROTATE_180,
            6: Image.Transpose.ROTATE_90,  # displayed by turning 90 degrees clockwise
            8: Image.Transpose.ROTATE_270,  # displayed by turning 90 degrees anticlockwise
        }[orientation]
        exif = Image.Exif()
        exif[0x0112] = orientation
        path.write_bytes(encode(upright.transpose(stored_as), "JPEG", quality=92, exif=exif))
        return path


@pytest.fixture(autouse=True, scope="session")
def own_cache_home(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """Commands run without --cache write the default cache: under the tests' own folder,
    never the user's ~/.cache (subprocesses inherit it)."""
    before = os.environ.get("XDG_CACHE_HOME")
    os.environ["XDG_CACHE_HOME"] = str(tmp_path_factory.mktemp("cache-home"))
    yield
    if before is None:
        del os.environ["XDG_CACHE_HOME"]
    else:
        os.environ["XDG_CACHE_HOME"] = before


@pytest.fixture(scope="session")
def make() -> FileMaker:
    """Writers for good and bad image files."""
    return FileMaker()


@pytest.fixture(scope="session")
def photo() -> Callable[..., Image.Image]:
    """photo(name, side=256): a scikit-image photo as an RGB PIL image."""
    return make_photo


PhotoSpec = str | tuple[str, int] | tuple[str, int, dict[str, Any]]


@pytest.fixture
def photo_dir(tmp_path: Path) -> Callable[..., Path]:
    """photo_dir({"a.png": "astronaut", "b.jpg": ("astronaut", 160)}, name="photos") -> folder.

    Each value is a photo name, (name, longer side) or (name, side, save params); the file
    format follows the extension.
    """

    def build(files: dict[str, PhotoSpec], name: str = "photos") -> Path:
        folder = tmp_path / name
        folder.mkdir(parents=True, exist_ok=True)
        for filename, spec in files.items():
            if isinstance(spec, str):
                spec = (spec, 256)
            content, side = spec[0], spec[1]
            params = spec[2] if len(spec) > 2 else {}  # type: ignore[misc]
            FileMaker.image(folder / filename, content, side, **params)
        return folder

    return build


class ScanView:
    """A scan result keyed by paths relative to `root`, for exact assertions."""

    def __init__(self, result: ScanResult, root: Path) -> None:
        self.result = result
        self.root = root

    def name(self, path: str) -> str:
        return Path(os.path.relpath(path, self.root)).as_posix()

    @property
    def images(self) -> dict[str, Features]:
        return {self.name(f.path): f for f in self.result.images}

    @property
    def skipped(self) -> dict[str, str]:
        return {self.name(s.path): s.reason for s in self.result.skipped}

    @property
    def groups(self) -> dict[str, set[str]]:
        """keeper -> members."""
        images = self.result.images
        return {
            self.name(images[g.keeper].path): {self.name(images[i].path) for i, _ in g.members}
            for g in self.result.groups
        }

    def group_of(self, name: str) -> tuple[str, set[str]] | None:
        """(keeper, all names in the group, keeper included) of the group holding `name`."""
        for keeper, members in self.groups.items():
            if name == keeper or name in members:
                return keeper, {keeper, *members}
        return None

    @property
    def pairs(self) -> dict[frozenset[str], neardup.Pair]:
        images = self.result.images
        return {
            frozenset((self.name(images[p.a].path), self.name(images[p.b].path))): p
            for p in self.result.pairs
        }

    def pair(self, a: str, b: str) -> neardup.Pair | None:
        return self.pairs.get(frozenset((a, b)))


@pytest.fixture(scope="session")
def scan_view() -> Callable[..., ScanView]:
    """scan_view(paths, root=None, **scan_args): neardup.scan (no cache, one worker) as a view."""

    def run(
        paths: Path | Iterable[Path | str], root: Path | None = None, **kwargs: Any
    ) -> ScanView:
        if isinstance(paths, Path):
            root = root or paths
            paths = [paths]
        paths = list(paths)
        kwargs.setdefault("cache", False)
        kwargs.setdefault("workers", 1)
        result = neardup.scan(paths, **kwargs)
        return ScanView(result, root or Path(os.path.commonpath([str(p) for p in paths])))

    return run


@contextlib.contextmanager
def denied(paths: Iterable[Path]) -> Iterator[None]:
    """Make files and folders unreadable: chmod 000, and, where that cannot work because the
    tests run as root (os.geteuid() == 0, which may read anything), refuse `open` and
    `os.scandir` on exactly those paths instead, with the PermissionError the kernel gives,
    so the code path is still exercised."""
    targets = [Path(p) for p in paths]
    modes = {p: p.stat().st_mode for p in targets}
    blocked = {os.path.abspath(p) for p in targets}

    def refuse(path: object) -> None:
        if isinstance(path, (str, bytes, os.PathLike)):
            text = os.fsdecode(os.fspath(path))
            if os.path.abspath(text) in blocked:
                raise PermissionError(errno.EACCES, os.strerror(errno.EACCES), text)

    real_open, real_scandir = builtins.open, os.scandir

    def fake_open(file: Any, *args: Any, **kwargs: Any) -> Any:
        refuse(file)
        return real_open(file, *args, **kwargs)

    def fake_scandir(path: Any = ".") -> Any:
        refuse(path)
        return real_scandir(path)

    for p in targets:
        p.chmod(0)
    try:
        with pytest.MonkeyPatch.context() as mp:
            if not chmod_protects():
                mp.setattr(builtins, "open", fake_open)
                mp.setattr(os, "scandir", fake_scandir)
            yield
    finally:
        for p, mode in modes.items():
            p.chmod(mode)


@pytest.fixture(scope="session")
def deny() -> Callable[[Iterable[Path]], contextlib.AbstractContextManager[None]]:
    """with deny([path, folder]): ... -- those paths cannot be read (see `denied`)."""
    return denied


def write_review_result(folder: Path, groups: int, *, files: bool = True) -> Path:
    """A scan result (schema neardup.scan/2) for `groups` groups of three images under
    `folder`: a keeper PNG and two JPEG copies per group, with known scores, `differences`
    as scan writes them (every copy `scaled`; in group n the first copy also `mirrored` when
    n % 3 == 0, the second `cropped` to 0.8 when n % 5 == 0) and a `leakage` block.
    With `files`, the images are written (distinct colour patterns) and their sizes, mtimes
    and hashes recorded; without, only the JSON (for size tests). Returns result.json."""
    rng = np.random.default_rng(7)
    out_groups: list[dict[str, Any]] = []
    pairs: list[dict[str, Any]] = []

    def entry(rel: str, image: Image.Image | None, fmt: str) -> dict[str, Any]:
        path = folder / rel
        if image is None:
            return {"path": rel, "width": 96, "height": 96, "bytes": 1000, "format": fmt}
        path.parent.mkdir(parents=True, exist_ok=True)
        data = encode(image, fmt)
        path.write_bytes(data)
        st = path.stat()
        return {
            "path": rel,
            "width": image.width,
            "height": image.height,
            "bytes": st.st_size,
            "format": fmt,
            "mtime_ns": st.st_mtime_ns,
            "blake2b": hashlib.blake2b(data, digest_size=16).hexdigest(),
        }

    for n in range(1, groups + 1):
        image = None
        if files:
            cells = rng.integers(0, 256, (4, 4, 3), dtype=np.uint8)
            image = Image.fromarray(cells).resize((96, 96), Image.Resampling.NEAREST)
        keeper = entry(f"g{n:05d}/keep.png", image, "PNG")
        members = []
        for k in (1, 2):
            copy = image.resize((64, 64)) if image is not None else None
            member = entry(f"g{n:05d}/copy{k}.jpg", copy, "JPEG")
            kinds = ["scaled"]
            mirrored = k == 1 and n % 3 == 0
            cropped = k == 2 and n % 5 == 0
            kinds = (["mirrored"] if mirrored else []) + (["cropped"] if cropped else []) + kinds
            differences = differences_dict(
                Differences(
                    tuple(kinds),
                    aligned_by="keypoints",
                    mirrored=mirrored,
                    turned=0.0,
                    common=(0.8, 1.0) if cropped else (1.0, 1.0),
                    scale=0.67,
                )
            )
            confidence = round(0.5 + n / (2 * groups) - k / 1000, 4)
            similarity = round(0.6 + 0.3 * n / groups, 4)
            member |= {
                "matched": keeper["path"],
                "similarity": similarity,
                "confidence": confidence,
                "evidence": "pdq",
                "scores": {"pdq": similarity},
            }
            members.append(member)
            pairs.append(
                {
                    "a": keeper["path"],
                    "b": member["path"],
                    "similarity": similarity,
                    "confidence": confidence,
                    "evidence": "pdq",
                    "scores": {"pdq": similarity},
                    "differences": differences,
                }
            )
        out_groups.append({"keeper": keeper, "members": members})
    doc = {
        "schema": "neardup.scan/2",
        "neardup": neardup.__version__,
        "cwd": str(folder),
        "settings": {"methods": ["exact", "pdq"], "threshold": 0.5, "preset": None},
        "stats": {"images": 3 * groups, "pairs": len(pairs), "groups": groups},
        "groups": out_groups,
        "pairs": pairs,
        "skipped": [],
        "leakage": {
            "test": {"images": 40, "with a copy in train": 7, "share": 0.175},
            "val": {"images": 20, "with a copy in train": 1, "share": 0.05},
        },
    }
    result = folder / "result.json"
    folder.mkdir(parents=True, exist_ok=True)
    result.write_text(json.dumps(doc), encoding="utf-8")
    return result


def byte_copies(folder: Path, *names: str) -> list[Path]:
    """The same photo (byte copies) at each of `names` under `folder`."""
    first = FileMaker.image(folder / names[0], "coffee", 120)
    for name in names[1:]:
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(first, folder / name)
    return [folder / name for name in names]


def hand_result(cwd: Path, groups: list[list[str]], **extra: Any) -> Path:
    """A scan result naming `groups` (the first path of each is the keeper), relative to
    `cwd`, with each file's size as the scan saw it."""

    def entry(path: str) -> dict[str, Any]:
        return {"path": path, "bytes": (cwd / path).stat().st_size}

    doc = {
        "schema": "neardup.scan/2",
        "cwd": str(cwd),
        "groups": [{"keeper": entry(g[0]), "members": [entry(p) for p in g[1:]]} for g in groups],
    } | extra
    path = cwd / "result.json"
    path.write_text(json.dumps(doc))
    return path


@pytest.fixture
def computed(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The names of the files whose features are computed (not taken from the cache)."""
    names: list[str] = []
    real = neardup.pipeline.extract_batch

    def counting(files: list[FileRef], config: Any) -> Any:
        names.extend(Path(ref.path).name for ref in files)
        return real(files, config)

    monkeypatch.setattr(neardup.pipeline, "extract_batch", counting)
    return names
