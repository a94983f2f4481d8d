"""A picture with see-through parts against a copy flattened onto a colour: both compared with
the picture shown over that colour.

A see-through picture is shown, embedded and checked over white, as a browser shows it. A copy
flattened onto black, grey or a page's colour then differs in every see-through pixel: SSCD
reads such copies at 0.0-0.9 against the picture over white, and the check's pixels disagree
wherever it was clear. Over the copy's own colour they embed at 0.8-1.0 (median 0.99;
benchmarks/RESULTS.md, session 54). That colour is read without aligning anything: where the
picture is clear on its outer ring, a copy flattened in the same frame shows its colour there,
one colour (`flatten_colour`).

    candidate pairs --one picture see-through (it has a view over black,
                      `Features.embeddings_dark`), the other not, the same frame shape-->
    both read small --flatten_colour--> a colour, or none (not clear on its ring, the other
    not one colour there, or white) --the see-through picture decoded over it, embedded-->
    `shown_stacks`: the pair's cosine (`method_scores.raw_scores` takes the larger), and
    `ShownOver` refs for the check (`neardup.checking`), which then reads that picture over
    the colour too.

Colours and cosines are kept in the pair store, so a rescan reads nothing again.
"""

from __future__ import annotations

import io
from collections import OrderedDict
from collections.abc import Sequence
from functools import partial
from typing import Any, cast

import numpy as np
import numpy.typing as npt
from PIL import Image

from neardup.decode import DEFAULT_MAX_PIXELS, Decoded, DecodeSpec, decode
from neardup.engines.base import Engine, Stage
from neardup.features.embed import EMBED_SIDE, embed
from neardup.index.neighbours import FLOOR
from neardup.item_pixels import Ref, Shown, ShownOver, read_still
from neardup.method_scores import EMBEDDING_METHODS, Pairs, Stacks, ends, stack_feature
from neardup.pair_order import by_image
from neardup.pair_store import PairKeys, pair_store
from neardup.pixel_modes import TRANSPOSE, Colour, exif_orientation
from neardup.records import Features
from neardup.shown_scores import SHOWN, SHOWN_PAIRS
from neardup.sources.remote import read_bytes
from neardup.store import CacheSetting

VERSION = "1"
"""Bumped whenever a colour or a cosine would be found differently (kept ones are then found
again)."""
SPEC = DecodeSpec(min_side=EMBED_SIDE, straighten=True)
"""The decode the features' embeddings were made from (`neardup.pipeline.feature_config`)."""
SIDE = 256
"""The longer side both pictures are read at for the colour."""
RING = 2
"""Pixels of the outer ring (at `SIDE`) the colour is read on."""
CLEAR_SHARE = 0.5
"""The share of the ring that must be fully clear in the see-through picture: less, and the
other picture's ring shows mostly the picture itself."""
SPREAD = 16
"""Levels (the largest channel's) within which 90 % of the other picture's clear-ring pixels
lie around their median: one colour, as a flattened copy shows (JPEG's noise on a flat colour
is a few levels)."""
NEAR_WHITE = 6
"""Levels from white within which a colour is white: the picture is already shown over it."""
SAME_SHAPE = 0.02
"""|log| of the ratio of the two files' width / height beyond which their frames differ (the
ring is read in the other picture resized to the see-through one's frame)."""


def to_show(images: Sequence[Features], pairs: Pairs, stacks: Stacks, model: str) -> list[int]:
    """Rows of `pairs` of one see-through picture (one with a view over black in `stacks`) and
    one opaque still of the same frame shape, whose embedding over white or over black reaches
    the candidate search's floor against the other (below it, a pair is not worth reading)."""
    key = "dark:" + model
    if key not in stacks:
        stacks[key] = stack_feature(
            [f.embeddings_dark.get(model) for f in images], None, np.float32
        )
    darks, dark = stacks[key]
    vectors = _vectors(images, stacks, model)
    a, b = ends(pairs)
    rows = np.flatnonzero(dark[a] != dark[b])
    clear = np.where(dark[a[rows]], a[rows], b[rows])
    other = np.where(dark[a[rows]], b[rows], a[rows])
    near = np.maximum(
        np.einsum("ij,ij->i", vectors[clear], vectors[other]),
        np.einsum("ij,ij->i", darks[clear], vectors[other]),
    )
    rows = rows[near >= FLOOR]
    out = []
    for row in rows.tolist():
        first, second = images[int(a[row])], images[int(b[row])]
        if first.frame is not None or second.frame is not None:
            continue
        shapes = (first.width * second.height) / max(1, first.height * second.width)
        if abs(np.log(max(shapes, 1e-9))) <= SAME_SHAPE:
            out.append(row)
    return out


def shown_stacks(
    images: Sequence[Features],
    pairs: Pairs,
    methods: Sequence[str],
    engine: Engine,
    cache: CacheSetting = False,
    stacks: Stacks | None = None,
) -> tuple[Stacks, Shown]:
    """`method_scores`' stacks of the pairs shown over a colour (`SHOWN_PAIRS`: their codes,
    a * n + b, sorted; `SHOWN` + model: each one's cosine over the colour), and the pairs with
    the see-through picture and the colour, for the check."""
    models = [m for m in methods if m in EMBEDDING_METHODS]
    given = {} if stacks is None else stacks
    a, b = ends(pairs)
    out: Stacks = {}
    shown: Shown = {}
    if not models or not len(a):
        return out, shown
    rows = to_show(images, pairs, given, models[0])
    if not rows:
        return out, shown
    chosen = sorted((min(int(a[r]), int(b[r])), max(int(a[r]), int(b[r]))) for r in rows)
    found = {
        model: _found(images, chosen, model, _vectors(images, given, model), engine, cache)
        for model in models
    }
    n = len(images)
    kept = [pair for pair in chosen if all(pair in found[m] for m in models)]
    codes = np.array([x * n + y for x, y in kept], dtype=np.int64)
    out[SHOWN_PAIRS] = (codes, np.ones(len(codes), dtype=bool))
    for model in models:
        cos = np.array([found[model][pair][2] for pair in kept], dtype=np.float64)
        out[SHOWN + model] = (cos, np.ones(len(cos), dtype=bool))
    for pair in kept:
        clear, colour, _ = found[models[0]][pair]
        shown[pair] = (clear, colour)
    return out, shown


Found = tuple[int, Colour, float]
"""The see-through picture of a pair, the colour, and the cosine over it."""
UNREAD = "unread"
"""A pair one of whose files could not be read (changed or gone since its features): found
again next time, never kept."""
Result = tuple[Colour, Any] | str | None
"""What is found for a pair: the colour and the picture's embedding over it, `UNREAD`, or None
(no colour)."""


def _vectors(images: Sequence[Features], stacks: Stacks, model: str) -> npt.NDArray[Any]:
    """The images' `model` embeddings, stacked (an index hands over its vector column: its
    rows' features do not hold them)."""
    if model not in stacks:
        stacks[model] = stack_feature([f.embeddings.get(model) for f in images], None, np.float32)
    return stacks[model][0]


def _found(
    images: Sequence[Features],
    chosen: list[tuple[int, int]],
    model: str,
    vectors: npt.NDArray[Any],
    engine: Engine,
    cache: CacheSetting,
) -> dict[tuple[int, int], Found]:
    """Each chosen pair's colour and cosine, where it has a colour: from the store where kept,
    found otherwise (a pair with none is kept as such too: a rescan reads nothing again)."""
    out: dict[tuple[int, int], Found] = {}
    keys = PairKeys(images)
    with pair_store(cache, f"shown-{model}", lambda: VERSION) as store:
        wanted = {pair: k for pair in chosen if (k := keys(*pair)) is not None}
        kept = store.get(wanted.values()) if store is not None else {}
        todo: list[tuple[str, str]] = []
        at: dict[tuple[str, str], tuple[int, int]] = {}
        for pair in chosen:
            x, y = pair
            clear = x if images[x].transparent else y
            value = kept.get(wanted[pair]) if pair in wanted else None
            if value is None:
                paths = (images[clear].path, images[y if clear == x else x].path)
                at[paths] = pair
                todo.append(paths)
            elif value:
                out[pair] = (clear, (value[0], value[1], value[2]), float(value[3]))
        stage: Stage[tuple[str, str], _Reader, Result] = Stage(
            "shown", _Reader, partial(_colours_and_views, model), chunk=32
        )
        # Chunks hold whole groups of pairs that share pictures: each is read about once.
        jobs = cast(list[tuple[str, str]], by_image(cast(list[tuple[Ref, Ref]], todo), 32))
        for chunk, results in engine.map(stage, jobs):
            made = []
            for paths, result in zip(chunk, results, strict=True):
                if result is UNREAD:  # read again next time, not kept as "no colour"
                    continue
                pair = at[paths]
                clear = pair[0] if images[pair[0]].transparent else pair[1]
                other = pair[1] if clear == pair[0] else pair[0]
                stored: list[float] = []
                if isinstance(result, tuple):
                    colour, vector = result
                    cos = float(np.dot(vector, vectors[other]))
                    out[pair] = (clear, colour, cos)
                    stored = [*colour, cos]
                if pair in wanted and keys.still(*pair, wanted[pair]):  # not changed meanwhile
                    made.append((wanted[pair], stored))
            if store is not None:
                store.put(made)
    return out


class _Reader:
    """Small pictures read for the colour, the last few kept (a chunk shares its pictures)."""

    def __init__(self) -> None:
        self._kept: OrderedDict[str, Any] = OrderedDict()

    def alpha(self, path: str) -> npt.NDArray[np.uint8] | None:
        """The see-through picture's alpha at `SIDE`, upright; None where unreadable."""
        found: npt.NDArray[np.uint8] | None = self._keep(("alpha", path), lambda: _alpha(path))
        return found

    def rgb(self, path: str, size: tuple[int, int]) -> npt.NDArray[np.uint8] | None:
        """The other picture's RGB (as shown, no border trimmed) at `size`; None where
        unreadable."""
        found: npt.NDArray[np.uint8] | None = self._keep(
            ("rgb", path, size), lambda: _rgb(path, size)
        )
        return found

    def _keep(self, key: Any, read: Any) -> Any:
        if key not in self._kept:
            self._kept[key] = read()
            while len(self._kept) > 64:
                self._kept.popitem(last=False)
        return self._kept[key]


def _colours_and_views(model: str, reader: _Reader, pairs: list[tuple[str, str]]) -> list[Result]:
    """For each (see-through path, other path): the colour the other was flattened onto and
    the see-through picture's embedding over it, None (no such colour), or `UNREAD`."""
    colours: list[Colour | None] = []
    unread: set[int] = set()
    for n, (clear, other) in enumerate(pairs):
        alpha = reader.alpha(clear)
        rgb = None if alpha is None else reader.rgb(other, (alpha.shape[1], alpha.shape[0]))
        if alpha is None or rgb is None:
            unread.add(n)
        colours.append(None if alpha is None or rgb is None else flatten_colour(alpha, rgb))
    pictures: dict[tuple[str, Colour], npt.NDArray[np.uint8] | None] = {}
    for (clear, _), colour in zip(pairs, colours, strict=True):
        if colour is not None and (clear, colour) not in pictures:
            try:
                found = read_still(ShownOver(clear, colour), SPEC)
            except OSError:
                found = None
            pictures[clear, colour] = found.rgb if isinstance(found, Decoded) else None
    readable = [key for key, picture in pictures.items() if picture is not None]
    vectors = embed(model, [pictures[key] for key in readable])  # type: ignore[misc]
    by_key = dict(zip(readable, vectors, strict=True))
    out: list[Result] = []
    for n, ((clear, _), colour) in enumerate(zip(pairs, colours, strict=True)):
        if n in unread or (colour is not None and (clear, colour) not in by_key):
            out.append(UNREAD)  # a file that could not be read (again)
        else:
            out.append(None if colour is None else (colour, by_key[clear, colour]))
    return out


def flatten_colour(alpha: npt.NDArray[np.uint8], rgb: npt.NDArray[np.uint8]) -> Colour | None:
    """The colour `rgb` shows where `alpha` (the same frame) is clear on its outer ring, if
    the ring is mostly clear, `rgb` one colour there and that colour not white."""
    ring = np.zeros(alpha.shape, dtype=bool)
    ring[:RING], ring[-RING:], ring[:, :RING], ring[:, -RING:] = True, True, True, True
    clear = ring & (alpha == 0)
    if clear.sum() < CLEAR_SHARE * ring.sum():
        return None
    seen = rgb[clear].astype(np.int16)
    colour = np.median(seen, axis=0).round().astype(np.int16)
    if np.quantile(np.abs(seen - colour).max(axis=1), 0.9) > SPREAD:
        return None
    if int(np.abs(colour - 255).max()) <= NEAR_WHITE:
        return None
    r, g, b = (int(v) for v in colour)
    return r, g, b


def _alpha(path: str) -> npt.NDArray[np.uint8] | None:
    try:
        with Image.open(io.BytesIO(read_bytes(path))) as image:
            if image.width * image.height > DEFAULT_MAX_PIXELS:
                return None
            if getattr(image, "n_frames", 1) > 1:
                image.seek(0)
            turn = TRANSPOSE.get(exif_orientation(image))
            rgba = image.convert("RGBA")
    except Exception:  # changed or unreadable since its features: no colour for its pairs
        return None
    if turn is not None:
        rgba = rgba.transpose(turn)
    rgba.thumbnail((SIDE, SIDE), Image.Resampling.BOX)
    return np.asarray(rgba.getchannel("A"), dtype=np.uint8)


def _rgb(path: str, size: tuple[int, int]) -> npt.NDArray[np.uint8] | None:
    try:
        found = decode(
            read_bytes(path), path, DecodeSpec(min_side=SIDE, trim=False), hash_pixels=False
        )
    except OSError:
        return None
    if not isinstance(found, Decoded):
        return None
    picture = Image.fromarray(found.rgb).resize(size, Image.Resampling.BOX)
    return np.asarray(picture, dtype=np.uint8)
