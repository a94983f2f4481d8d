"""Each method's score of many pairs at once, from the images' features stacked into arrays.

What each per-method score means:
- `exact`: 1 when the files are byte-identical or decode to identical pixels, else 0.
- `pdq`: 1 - 2d/256, d the smallest Hamming distance between one image's PDQ hash and any of
  the other's 8 dihedral views (rotations, flips); unrelated images score about 0.
- `phash`, `dhash`, `ahash`, `whash`: 1 - 2d/64 on the 64-bit imagehash hashes.
- `sscd`, `sscd_distilled`: cosine similarity of SSCD copy-detection embeddings (floored at
  0), the larger of the image-to-image and mirrored-image-to-image cosines where mirrored
  views were embedded, and of a see-through picture's cosine shown over the colour its copy
  was flattened onto, where that was read (`neardup.see_through`).
- `inset`: where either picture holds a picture inside a frame (`neardup.features.inset`),
  the larger cosine of that inset's embedding with the other whole picture's (NaN where
  neither has one): high for a screenshot of the other. Not fused: it sends the pair to the
  geometric check, which decides.
- `thumb`: for every pair, the correlation of the two 32 x 32 grey thumbnails in the best of
  the 8 dihedral views (`neardup.features.thumbnail`): high for a recoloured, blurred or
  re-encoded copy, low for a look-alike (two pages of one template, two frames of a scene).
- `geometry`: for pairs where it can change the verdict, the fraction of the smaller shared
  frame under a RANSAC-fitted similarity transform of matched ORB keypoints (0 when no
  consistent geometry); absent when the check could not decide (too few keypoints).
- `aligned`, `agree`: with `geometry`, the correlation of the two pictures' grey levels over
  that shared frame once aligned, and the share of its pixels that agree (`neardup.verify`):
  copies agree, look-alikes do not; an overlay lowers the first more than the second.
- `turned`: 1 where the pair was read upright, one picture turned a quarter
  (`neardup.turned_views`): its embedding score is the turned picture's cosine, its aspect
  fact compares the shapes turned; absent otherwise.


Stacks are made once per set of images (`prepare_stacks`) and shared by every block of
pairs scored on them, in this process or in an engine's workers.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from functools import partial
from typing import Any

import numpy as np
import numpy.typing as npt

from neardup import methods
from neardup.features.exact import IDENTITY_KEYS
from neardup.features.hashes import hamming, hash_similarity
from neardup.features.thumbnail import ORBIT_SHAPE, OrbitThumbs
from neardup.fusion import PairFacts
from neardup.pair_shapes import aspect_ratio, swapped
from neardup.records import VIEWS, Features, Vector
from neardup.shown_scores import SHOWN, SHOWN_PAIRS, shown_cosines

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]
Pairs = Sequence[tuple[int, int]] | IntArray
"""Pairs of positions: tuples, or an array with one row (a, b) per pair."""
Stacks = dict[str, tuple[npt.NDArray[Any], npt.NDArray[np.bool_]]]
"""Per-image features stacked into arrays (with a presence mask), by name: made once per set
of images and kept between scoring calls on them."""

EMBEDDING_METHODS = methods.EMBEDDINGS
INSET = "inset"
"""The score of the picture inside a frame against the other whole picture (the first
embedding method's); it sends a pair to the geometric check, the fusion does not read it."""
HASH_METHODS = methods.IMAGEHASHES
TURN = "turn:"
"""Stack name prefix (+ method) of the pictures embedded turned a quarter each way
(`neardup.turned_views`): views (images with them x 2 x dim), and which images have them."""
TURNED = "turned"
"""The score (1) of a pair read upright: its embedding score and aspect fact are those of one
picture turned a quarter (`neardup.turned_views`); absent otherwise."""


def prepare_stacks(
    images: Sequence[Features], methods: tuple[str, ...], given: Stacks | None = None
) -> Stacks:
    """Every stacked feature that scoring pairs of `images` by `methods` reads (`given` ones
    taken as they are: an index hands over its mapped vector column instead of a copy)."""
    stacks: Stacks = dict(given or {})
    none = np.zeros((0, 2), dtype=np.int64)
    raw_scores(images, none, methods, stacks)
    facts(images, none, stacks=stacks)
    return stacks


def raw_scores(
    images: Sequence[Features],
    pairs: Pairs,
    methods: tuple[str, ...],
    stacks: Stacks | None = None,
) -> dict[str, FloatArray]:
    """Each method's similarity for every pair, as arrays (NaN where an image lacks it).

    Vectorised: scoring thousands of candidate pairs is a few array operations per method.
    """
    a, b = ends(pairs)
    out: dict[str, FloatArray] = {}
    cache = {} if stacks is None else stacks

    def _stack(
        key: str, values: Callable[[], list[npt.NDArray[Any] | None]], shape: Any, dtype: type
    ) -> tuple[npt.NDArray[Any], npt.NDArray[np.bool_]]:
        if key not in cache:
            cache[key] = stack_feature(values(), shape, dtype)
        return cache[key]

    thumbs = _orbit_thumbs(images, cache)
    has_thumb = cache["thumb:orbits"][1]
    rows = np.flatnonzero(has_thumb[a] & has_thumb[b])
    thumb = np.full(len(pairs), np.nan)
    thumb[rows] = thumbs.similarity(a[rows], b[rows])
    out["thumb"] = thumb
    for method in methods:
        if method == "exact":
            out["exact"] = _exact(images, a, b, cache)
        elif method == "pdq":
            codes, present = _stack("pdq", lambda: [f.pdq for f in images], (8, 32), np.uint8)
            rows = np.flatnonzero(present[a] & present[b])
            d = np.minimum(
                hamming(codes[a[rows]], codes[b[rows], :1]).min(axis=1),
                hamming(codes[b[rows]], codes[a[rows], :1]).min(axis=1),
            )
            out["pdq"] = _fill(len(pairs), rows, hash_similarity(d, 256))
        elif method in HASH_METHODS:
            codes, present = _stack(
                method,
                lambda: [f.hashes.get(method) for f in images],  # noqa: B023 (called at once)
                (8,),
                np.uint8,
            )
            rows = np.flatnonzero(present[a] & present[b])
            d = hamming(codes[a[rows]], codes[b[rows]])
            out[method] = _fill(len(pairs), rows, hash_similarity(d, 64))
        elif method in EMBEDDING_METHODS:
            vectors, present = _stack(
                method,
                lambda: [f.embeddings.get(method) for f in images],  # noqa: B023
                None,
                np.float32,
            )
            rows = np.flatnonzero(present[a] & present[b])
            va, vb = vectors[a[rows]], vectors[b[rows]]
            cos = np.einsum("ij,ij->i", va, vb)
            shape = vectors.shape[1:]  # views: queries of the candidate search, a mirror scored
            views = {
                k: _stack(f"{k}:{method}", partial(_views, images, k, method), shape, np.float32)
                for k in VIEWS
            }
            flips, has_flip = views["flip"]
            for one, other in ((a[rows], vb), (b[rows], va)) if has_flip.any() else ():
                found = np.einsum("ij,ij->i", flips[one], other)
                cos = np.maximum(cos, np.where(has_flip[one], found, -1))
            if TURN + method in cache:
                cos, upright = _turned(
                    images, a[rows], b[rows], cos, va, vb, cache[TURN + method], cache
                )
                flag = _fill(len(pairs), rows, np.where(upright, 1.0, np.nan))
                out[TURNED] = np.fmax(out[TURNED], flag) if TURNED in out else flag
            if SHOWN + method in cache:
                shown = cache[SHOWN_PAIRS][0], cache[SHOWN + method][0]
                cos = np.maximum(cos, shown_cosines(a[rows], b[rows], len(images), *shown))
            out[method] = _fill(len(pairs), rows, np.clip(cos, 0.0, 1.0))
            if INSET not in out:
                out[INSET] = _inset(a[rows], b[rows], vectors, views["inset"], len(pairs), rows)
    return out


def _views(images: Sequence[Features], kind: str, method: str) -> list[Vector | None]:
    """Each image's `kind` view (`records.VIEWS`) of `method`'s embedding, where it has one."""
    return [getattr(f, f"embeddings_{kind}").get(method) for f in images]


def _turned(
    images: Sequence[Features],
    a: IntArray,
    b: IntArray,
    cos: FloatArray,
    va: npt.NDArray[np.float32],
    vb: npt.NDArray[np.float32],
    turns: tuple[npt.NDArray[Any], BoolArray],
    cache: Stacks,
) -> tuple[FloatArray, BoolArray]:
    """The cosines of pairs (a, b) with either picture's turned views where their shapes are
    swapped and those views were made, and which pairs a turned view matched better."""
    views, has = turns
    rank = np.cumsum(has) - 1
    logs = log_aspects(images, cache)
    turned = np.full(len(a), -1.0)
    apart = swapped(logs[a], logs[b])
    for one, other in ((a, vb), (b, va)):
        at = np.flatnonzero(has[one] & apart)
        if len(at):
            found = np.einsum("ikj,ij->ik", views[rank[one[at]]], other[at]).max(axis=1)
            turned[at] = np.maximum(turned[at], found)
    upright = turned > cos
    return np.where(upright, turned, cos), upright


def log_aspects(images: Sequence[Features], stacks: Stacks) -> FloatArray:
    """log(width / height) of each picture inside its borders, from the stacked facts (an
    index's stored rows are not decoded for them)."""
    if "facts" not in stacks:
        facts(images, np.zeros((0, 2), dtype=np.int64), stacks=stacks)
    return np.log(stacks["facts"][0][:, 1])


def _inset(
    a: IntArray,
    b: IntArray,
    vectors: npt.NDArray[np.float32],
    insets: tuple[npt.NDArray[Any], BoolArray],
    n: int,
    rows: IntArray,
) -> FloatArray:
    """The `inset` score of pairs (a, b) at `rows` of `n`: the larger cosine of either
    picture's inset with the other whole picture; NaN where neither has an inset."""
    views, has = insets
    cos = np.full(len(a), np.nan)
    for one, other in ((a, b), (b, a)):
        at = np.flatnonzero(has[one])
        if len(at):
            found = np.einsum("ij,ij->i", views[one[at]], vectors[other[at]])
            cos[at] = np.fmax(cos[at], np.clip(found, 0.0, 1.0))
    return _fill(n, rows, cos)


def _orbit_thumbs(images: Sequence[Features], cache: Stacks) -> OrbitThumbs:
    """Every image's thumbnail laid out for the 8-view correlation (`OrbitThumbs`), made once
    per set of images, a block of images at a time (kept: 1.1 KB an image)."""
    if "thumb:orbits" not in cache:
        cache.update(empty_thumb_stacks(len(images)))
        for start in range(0, len(images), THUMB_BLOCK):
            part = [f.small for f in images[start : start + THUMB_BLOCK]]
            stacked = np.zeros((len(part), 32, 32), dtype=np.uint8)
            for n, small in enumerate(part):
                if small is not None:
                    stacked[n] = small
            present = np.array([small is not None for small in part], dtype=bool)
            fill_thumb_stacks(cache, start, stacked, present)
    orbits = cache["thumb:orbits"][0]
    sums = cache["thumb:sums"][0]
    return OrbitThumbs(orbits, sums[:, 0].astype(np.float32), sums[:, 1], sums[:, 2])


THUMB_BLOCK = 65_536
"""Thumbnails laid out at a time (their float work arrays stay small)."""


def empty_thumb_stacks(n: int) -> Stacks:
    """The `thumb:orbits` and `thumb:sums` stacks of n images, none present yet (filled
    block by block with `fill_thumb_stacks`, from Features or straight from stored rows)."""
    present = np.zeros(n, dtype=bool)
    return {
        "thumb:orbits": (np.zeros((n, *ORBIT_SHAPE), dtype=np.uint8), present),
        "thumb:sums": (np.zeros((n, 3), dtype=np.float64), present),
    }


def fill_thumb_stacks(
    stacks: Stacks, start: int, small: npt.NDArray[np.uint8], present: npt.NDArray[np.bool_]
) -> None:
    """Lay out the 32 x 32 thumbnails of images start.. (zeros where absent, `present` says
    which) into the thumb stacks."""
    laid = OrbitThumbs.of(small)
    stop = start + len(small)
    stacks["thumb:orbits"][0][start:stop] = laid.orbits
    stacks["thumb:sums"][0][start:stop] = np.stack([laid.centre, laid.total, laid.square], 1)
    stacks["thumb:orbits"][1][start:stop] = present


def ends(pairs: Pairs) -> tuple[IntArray, IntArray]:
    """The two positions of each pair, as arrays (from tuples or an array of two columns)."""
    if isinstance(pairs, np.ndarray):
        return pairs[:, 0].astype(np.int64), pairs[:, 1].astype(np.int64)
    a = np.fromiter((p[0] for p in pairs), dtype=np.int64, count=len(pairs))
    b = np.fromiter((p[1] for p in pairs), dtype=np.int64, count=len(pairs))
    return a, b


def _exact(
    images: Sequence[Features],
    a: IntArray,
    b: IntArray,
    cache: Stacks,
) -> FloatArray:
    """1 where `identical` holds (a shared bytes, pixel or JPEG-data hash), else 0: each hash
    numbered once per image set, then compared as integers."""
    same = np.zeros(len(a), dtype=bool)
    for key in IDENTITY_KEYS:
        if "id:" + key not in cache:
            values = [getattr(f, key) for f in images]
            numbers: dict[str, int] = {}
            codes = np.array(
                [-1 if v is None else numbers.setdefault(v, len(numbers)) for v in values],
                dtype=np.int64,
            )
            cache["id:" + key] = (codes, codes >= 0)
        codes = cache["id:" + key][0]
        same |= (codes[a] >= 0) & (codes[a] == codes[b])
    return same.astype(np.float64)


def stack_feature(
    values: list[npt.NDArray[Any] | None],
    shape: tuple[int, ...] | None,
    dtype: type,
) -> tuple[npt.NDArray[Any], npt.NDArray[np.bool_]]:
    """One array of a feature for all images (zeros where missing) and the presence mask."""
    present = np.array([v is not None for v in values], dtype=bool)
    if shape is None:
        shape = next((v.shape for v in values if v is not None), (0,))
    stacked: npt.NDArray[Any] = np.zeros((len(values), *shape), dtype=dtype)
    for i, v in enumerate(values):
        if v is not None:
            stacked[i] = v
    return stacked, present


def _fill(n: int, rows: IntArray, values: npt.NDArray[Any]) -> FloatArray:
    out = np.full(n, np.nan)
    out[rows] = values
    return out


def facts(
    images: Sequence[Features],
    pairs: Pairs,
    inliers: FloatArray | None = None,
    stacks: Stacks | None = None,
    turned: FloatArray | None = None,
) -> PairFacts:
    """The image facts the fusion uses, for each pair (per-image values kept in `stacks`);
    the pairs whose `turned` score is 1 compare their shapes turned a quarter."""
    cache = {} if stacks is None else stacks
    if "facts" not in cache:
        per_image = np.array(
            [(f.pdq_quality, aspect_ratio(f), f.turned_back) for f in images], dtype=np.float64
        ).reshape(-1, 3)
        cache["facts"] = (per_image, np.ones(len(images), dtype=bool))
    per_image = cache["facts"][0]
    a, b = ends(pairs)
    quality = np.minimum(per_image[a, 0], per_image[b, 0])
    aspect = np.abs(np.log(per_image[a, 1] / per_image[b, 1]))
    if turned is not None:
        aspect = np.where(turned == 1.0, np.abs(np.log(per_image[a, 1] * per_image[b, 1])), aspect)
    kept = per_image[a, 2] * per_image[b, 2]
    if inliers is None:
        inliers = np.full(len(pairs), np.nan)
    return PairFacts(quality, aspect, inliers, kept)


FLAT_SPAN = 2
"""Grey levels a flat picture's 32 x 32 thumbnail spans at most (one colour, as JPEG keeps it)."""
FLAT_THUMB_SPAN = 3
"""Levels per channel its 4 x 4 colour thumbnail spans at most."""
SAME_FLAT = 12
"""Levels by which two flat pictures' colours may differ in every channel and still be one."""
FAR_SHAPES = 0.5
"""|log| of the ratio of two pictures' shapes beyond which a pair of flat pictures is vetoed."""


def flat_apart(images: Sequence[Features], pairs: Pairs, aspect: FloatArray) -> BoolArray:
    """Pairs of two flat-looking pictures of different colours and very different shapes
    (`aspect`, the fusion's fact, beyond `FAR_SHAPES`): a spacer strip against a page. The
    trees read "other shape, high SSCD" as a crop, and SSCD scores any two flat pictures
    alike: a 1 x 50 green strip scored 1.0 against a red page. Of one shape the trees already
    tell such pictures apart (red against yellow: 0.05), and a fine texture, which the
    thumbnails also see as one colour, keeps its copies. Only those pairs' images are read
    (an index's stored rows stay unread)."""
    apart = np.zeros(len(aspect), dtype=bool)
    far = np.flatnonzero(np.nan_to_num(aspect, nan=0.0) > FAR_SHAPES)
    if far.size == 0:
        return apart
    a, b = ends(pairs)
    looks: dict[int, tuple[float, float, float] | None] = {}
    for row in far.tolist():
        ends_ = [int(a[row]), int(b[row])]
        for n in ends_:
            if n not in looks:
                looks[n] = _flat_colour(images[n])
        ca, cb = looks[ends_[0]], looks[ends_[1]]
        if ca is not None and cb is not None:
            apart[row] = max(abs(x - y) for x, y in zip(ca, cb, strict=True)) > SAME_FLAT
    return apart


def _flat_colour(image: Features) -> tuple[float, float, float] | None:
    """The picture's one colour if its thumbnails show one (`FLAT_SPAN`, `FLAT_THUMB_SPAN`)."""
    if image.small is None or image.thumb is None:
        return None
    thumb = image.thumb.reshape(-1, 3).astype(np.int16)
    if int(image.small.max()) - int(image.small.min()) > FLAT_SPAN:
        return None
    if int(np.ptp(thumb, axis=0).max()) > FLAT_THUMB_SPAN:
        return None
    r, g, b = (float(v) for v in thumb.mean(axis=0))
    return r, g, b
