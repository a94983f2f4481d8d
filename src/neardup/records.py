"""The records that flow between stages: files found, features, pairs, groups, skips.

Plain dataclasses, so every stage is a batch function over them and any engine (local pool,
Ray) can ship them between processes.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

Vector = npt.NDArray[np.float32]
VIEWS = ("flip", "inset", "dark")
"""An image's other embedding views (`Features.embeddings_flip`, `.embeddings_inset`,
`.embeddings_dark`), stacked as `<view>:<model>`: more queries for the candidate search, owned
by their image."""


@dataclass(frozen=True, slots=True)
class FileRef:
    """One file to read: its path as given and what identifies its content on disk."""

    path: str
    size: int
    mtime_ns: int
    dev: int = 0
    inode: int = 0
    video: bool = False
    """A video file: `neardup.sources.video` turns it into one item per sampled frame."""
    frame: int | None = None
    """For a frame of a video: its index in decoding order (None for a still image)."""
    time: float | None = None
    """For a frame of a video: its presentation time in seconds."""

    @property
    def key(self) -> str:
        """What identifies the item: the path, or `path#frame` for a video frame."""
        return item_key(self.path, self.frame)


def item_key(path: str, frame: int | None) -> str:
    """The stable key of an item (cache rows, lookups): `path`, or `path#frame` for a frame."""
    return path if frame is None else f"{path}#{frame}"


@dataclass(frozen=True, slots=True)
class Skipped:
    """A path that could not be used, and why. Skips are results, not errors."""

    path: str
    reason: str


@dataclass(slots=True)
class Features:
    """Everything the similarity methods need about one image, computed from one decode."""

    path: str
    size: int
    mtime_ns: int
    width: int
    height: int
    format: str
    bytes_hash: str
    """BLAKE2b of the file's bytes: equal means the same file content."""
    pixel_hash: str | None
    """XXH3-128 of the full-resolution oriented pixels, or None when decoding used JPEG
    DCT scaling (then computed on demand for the few pairs that need it)."""
    trimmed: tuple[int, int, int, int] | None = None
    jpeg_hash: str | None = None
    """For JPEGs: XXH3-128 of the compressed picture (tables, frame, scan data; no metadata
    segments) and the orientation: equal means identical displayed pixels, without decoding."""
    thumb: npt.NDArray[np.uint8] | None = None
    """4 x 4 RGB average of the working picture: pixel-identical images have (almost) equal
    thumbs, so only those are decoded in full to confirm an exact match."""
    """Uniform borders removed before features, as (left, top, right, bottom) pixels."""
    small: npt.NDArray[np.uint8] | None = None
    """32 x 32 grey thumbnail of the trimmed picture, for the `thumb` score
    (`neardup.features.thumbnail`)."""
    pdq: npt.NDArray[np.uint8] | None = None
    """8 x 32 bytes: the PDQ hash of the image and of its 7 other dihedral views
    (rotations by 90 degrees and flips); row 0 is the image as displayed."""
    pdq_quality: int = 0
    turned_back: float = 1.0
    """For a picture found turned on a flat canvas and turned back (`neardup.straighten`): how
    alike the picture as it is and turned back are (the similarity model's cosine, or PDQ's
    agreement without one); 1.0 otherwise. A pair's `similarity` is scaled by it, so it says
    how alike the files are, and falls as a turn grows."""
    page: tuple[float, float] | None = None
    """(paper, strokes) of the working picture (`neardup.features.page`): whether it reads as
    a page of text, whose words the fine comparison (`neardup.detail_check`) compares."""
    transparent: bool = False
    """Some pixels are see-through (the picture is compared as shown over white, or over the
    colour a copy of it was flattened onto, `neardup.see_through`): kept over its flattened
    copy (`neardup.groups`)."""
    hashes: dict[str, npt.NDArray[np.uint8]] = field(default_factory=dict)
    """Optional imagehash-family hashes (phash, dhash, ahash, whash), 8 bytes each."""
    embeddings: dict[str, Vector] = field(default_factory=dict)
    """Unit-length copy-detection embeddings keyed by model name (sscd, sscd_distilled)."""
    embeddings_flip: dict[str, Vector] = field(default_factory=dict)
    """Embeddings of the horizontally flipped view, where the method asks for them."""
    embeddings_inset: dict[str, Vector] = field(default_factory=dict)
    """Embeddings of the picture inside a frame (`neardup.features.inset`), where one is."""
    embeddings_dark: dict[str, Vector] = field(default_factory=dict)
    """For a picture with see-through parts: embeddings of it shown over black, so that a copy
    flattened onto black or a dark colour is a candidate (shown over white, it embeds at
    0.0-0.2 against such a copy; `neardup.see_through` then compares the pair over the copy's
    own colour)."""
    frame: int | None = None
    """For a frame of a video: its index in decoding order; None for a still image."""
    time: float | None = None
    """For a frame of a video: its presentation time in seconds; None for a still image."""

    @property
    def key(self) -> str:
        """What identifies the item: the path, or `path#frame` for a video frame."""
        return item_key(self.path, self.frame)

    @property
    def label(self) -> str:
        """The item as a person reads it: the path, with the frame and time for a frame."""
        if self.frame is None:
            return self.path
        return f"{self.path} [frame {self.frame}, {self.time or 0.0:.2f} s]"

    @property
    def pixels(self) -> int:
        return self.width * self.height

    @property
    def content_pixels(self) -> int:
        """Pixels inside any trimmed border: the resolution of the picture itself."""
        if self.trimmed is None:
            return self.pixels
        left, top, right, bottom = self.trimmed
        return max(0, self.width - left - right) * max(0, self.height - top - bottom)


@dataclass(frozen=True, slots=True)
class Pair:
    """Two images and how similar they are: one score in [0, 1] per method, and the fusion."""

    a: int
    b: int
    similarity: float
    """How alike, in [0, 1]: 1 only for identical pixels; see `neardup.scoring`."""
    confidence: float
    """Calibrated probability that the pair is a copy: the fusion's, read with the pair's groups
    where a scan made them (`own_confidence` then keeps the fusion's, which thresholds and
    presets make the groups from; the pairs listed are those whose `confidence` reaches the
    cut)."""
    scores: dict[str, float]
    """Per-method similarity in [0, 1] for every method computed on both images."""
    evidence: str
    """The method whose score decided `similarity` (e.g. "exact_bytes", "pdq", "sscd")."""
    differences: Differences | None = None
    """How the two pictures differ, measured (`neardup.differences`); None where not measured
    (pairs below the cut, or a scan run without it)."""
    own_confidence: float | None = None
    """The fusion's confidence from this pair's own evidence, where `confidence` was then
    read with the pair's groups (`neardup.group_confidence`); None where it was not."""


@dataclass(slots=True)
class Group:
    """Images that are duplicates of one another, the keeper being the copy to keep."""

    keeper: int
    members: list[tuple[int, float]]
    """(image index, similarity to the keeper), best first; the keeper not included. For a
    member in `via`, the similarity is to that image instead."""
    via: dict[int, int] = field(default_factory=dict)
    """Member -> the image in the group it matched, for members whose pair with the keeper
    was not found (see `neardup.groups` for the rule)."""


@dataclass(slots=True)
class Stats:
    files_found: int = 0
    images: int = 0
    skipped: int = 0
    ignored: int = 0
    """Files that are not images and were not named as images (no image extension)."""
    from_cache: int = 0
    candidates: int = 0
    pairs: int = 0
    groups: int = 0
    seconds: dict[str, float] = field(default_factory=dict)


@dataclass(slots=True)
class ScanResult:
    """What `neardup.scan` returns; `neardup.output` writes it as JSON, CSV or a table."""

    images: Sequence[Features]
    """Every image (an index's stored ones are decoded where read)."""
    pairs: list[Pair]
    groups: list[Group]
    skipped: list[Skipped]
    stats: Stats
    settings: dict[str, object]
    leakage: Leakage | None = None
    """With `scan(..., against=...)`: which set each image came from and how much leaks."""
    apart: list[tuple[int, int]] = field(default_factory=list)
    """Pairs (positions) the words comparison showed to be two documents: a regrouping keeps
    them apart as the scan's grouping did (`neardup.groups`). Not written out."""

    def path(self, index: int) -> str:
        return self.images[index].path


@dataclass(frozen=True, slots=True)
class Differences:
    """How picture `b` of a pair differs from picture `a`, measured (`neardup.differences`).

    Every field is a measurement or None where it could not be measured; `kinds` lists the
    differences that pass their documented tolerance, in a fixed vocabulary (`DIFFERENCE_KINDS`).
    """

    kinds: tuple[str, ...]
    identical: str | None = None
    """"file" (same bytes) or "pixels" (same decoded pixels, as displayed), else None."""
    aligned_by: str | None = None
    """"keypoints" (a fitted transform), "canvas" (one picture is the other turned on a flat
    canvas, `neardup.straighten`: the turn it was made with), "frame" (whole frames, dihedral
    turns only: crop and small turns not measured), or None when the pictures could not be
    aligned."""
    mirrored: bool = False
    turned: float | None = None
    """Degrees b is turned from a, anticlockwise positive, in (-180, 180]."""
    common: tuple[float, float] | None = None
    """Share of a's and of b's picture (inside borders) that the two have in common."""
    scale: float | None = None
    """b's picture size over a's, linear (0.5: half the width and height; for a stretched
    picture the mean of its two axes, the square root of the area ratio)."""
    stretch: float | None = None
    """b's width-to-height proportion over a's under the fitted transform (1.25: b was
    stretched a quarter wider, or squeezed in height; a copy resized to a fixed shape)."""
    borders: tuple[tuple[str, tuple[str, ...], float], ...] = ()
    """(image "a" or "b", sides, share of that image's canvas) for borders one has in excess."""
    greyscale: str | None = None
    """"a" or "b": the one that is grey while the other has colour."""
    colour: float | None = None
    """How far (0-255 levels, 90th percentile of the pixels) the colour map fitted between
    the aligned pictures moves the colours."""
    overlay: float | None = None
    """Share of the common area whose pixels disagree once aligned and colour-matched."""
    sharpness: float | None = None
    """b's Laplacian variance over a's on the common area at one scale (< 1: b blurrier)."""
    grain: float | None = None
    """How much more b's grey levels spread than a's where a is flat (0-255): added noise."""
    jpeg_quality: tuple[int | None, int | None] = (None, None)
    """IJG quality estimated from each JPEG's quantisation tables (None: not a JPEG)."""
    orientation: tuple[int, int] = (1, 1)
    """EXIF orientation tags (1: stored upright)."""
    note: str = ""
    """Why something could not be measured (an unreadable file, too few keypoints)."""
    transparent: str | None = None
    """"a" or "b": the one with see-through pixels while the other has none (both are
    compared as shown over white)."""


DIFFERENCE_KINDS = (
    "identical file",
    "identical pixels",
    "mirrored",
    "turned",
    "cropped",
    "scaled",
    "stretched",
    "borders",
    "greyscale",
    "transparency",
    "colour",
    "overlay",
    "quality",
    "orientation tag",
)
"""Every value `Differences.kinds` may hold, in the order they are listed."""


@dataclass(slots=True)
class SetLeakage:
    """One set of a leakage scan (`neardup.leakage`); the first is the reference."""

    name: str
    paths: list[str]
    images: int
    leaking: dict[str, int] = field(default_factory=dict)
    """Preset -> how many of this set's images have a near-copy in an earlier set at that
    preset's cut (the same file on disk counts at every preset); empty for the reference."""
    same_file: int = 0
    """Images of this set that are the very file (a link) of an image in an earlier set."""
    pairs: int = 0
    """Reported pairs (at the scan's cut) between this set and an earlier one."""
    same_files: list[SameFile] = field(default_factory=list)
    """Each of the `same_file` images, named: they are in no pair (a file is one image), so
    without this list a leak counted here could not be found."""


@dataclass(frozen=True, slots=True)
class SameFile:
    """A file of a later set that is the very file (a link, overlapping folders, the indexed
    file itself) of an image of an earlier set: it leaks at every preset.

    Not a pair to drop `b` from: `path` may name the reference's own file (the same path
    through overlapping folders, or spelt another way), so it is listed apart from pairs."""

    reference: str
    """The earlier set's path for the file (the image scanned, or the index's stored path)."""
    path: str
    """This set's path for the file."""
    earlier: int
    """The set `reference` is in (index into `Leakage.sets`)."""


@dataclass(slots=True)
class Leakage:
    """The sets of a leakage scan and the set of each image (index into `sets`)."""

    sets: list[SetLeakage]
    labels: list[int]
