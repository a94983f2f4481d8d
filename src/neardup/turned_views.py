"""Pictures turned a quarter and embedded again, so that a quarter-turned copy is read upright.

The copy-detection embedding is not turn-invariant: a copy turned a quarter scores 0.5-0.6
against its original, as a look-alike does, while PDQ, the thumbnails and the geometric check
read every quarter turn. The fitted trees learned such copies from their other shape (the
aspect fact), so the turned copy of a film frame and another frame of the clip read as a copy
where the upright pair did not (0.943 against 0.755 on photos' test half). Here, for the
candidate pairs whose shapes are swapped (one portrait, one landscape: `pair_shapes.
swapped`), the pictures of the rarer orientation among those pairs are decoded again and
embedded turned a quarter each way (`turned_stacks`, a stage on the engine, its vectors kept
in the store). `method_scores.raw_scores` then takes a pair's embedding score as the larger
of its plain and turned cosines and, where a turned one is larger, reads the pair upright:
its aspect fact compares the two shapes turned, and its scores hold `turned` (1).
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import partial

import numpy as np
import numpy.typing as npt

from neardup.decode import Decoded, DecodeSpec
from neardup.engines.base import Engine, Stage
from neardup.features.embed import EMBED_SIDE, embed
from neardup.item_pixels import FramePictures, Ref, read_still, ref_of
from neardup.method_scores import EMBEDDING_METHODS, TURN, Pairs, Stacks, log_aspects
from neardup.pair_shapes import swapped
from neardup.pair_store import item_hash, pair_store
from neardup.records import Features
from neardup.scoring import score_kept
from neardup.store import CacheSetting

VERSION = "1"
"""Bumped whenever the turned views would be made differently (kept vectors are then made
again)."""
SPEC = DecodeSpec(min_side=EMBED_SIDE, straighten=True)
"""The decode the features' embeddings were made from (`neardup.pipeline.feature_config`)."""

Views = npt.NDArray[np.float32]
"""One picture's embeddings turned a quarter clockwise and counter-clockwise (2 x dim)."""


TURN_FLOOR = 0.02
"""The confidence (as the pair reads unturned) from which a pair with swapped shapes is read
turned too. On 15 calibration halves (RESULTS.md, session 48) no pair below 0.05 rose to the
default cut read upright and none below 0.02 rose to 0.5; 0.02 leaves out 41 % of the pairs
read upright, and the pictures they alone would have embedded again."""


def to_turn(
    images: Sequence[Features], pairs: Pairs, methods: Sequence[str], stacks: Stacks
) -> list[int]:
    """The images to embed turned: of the candidate pairs whose shapes are swapped and whose
    confidence reaches `TURN_FLOOR`, every image of the rarer orientation (each such pair has
    one portrait and one landscape picture, so turning one side covers them all, at the
    smaller cost). `stacks`: the images' stacked features (`prepare_stacks`)."""
    rows = np.asarray(pairs, dtype=np.int64).reshape(-1, 2)
    if not len(rows):
        return []
    logs = log_aspects(images, stacks)
    rows = rows[swapped(logs[rows[:, 0]], logs[rows[:, 1]])]
    kept = score_kept(images, rows, tuple(methods), keep=TURN_FLOOR, stacks=stacks)
    return rarer_side(logs, rows[[n for n, _ in kept]].reshape(-1, 2))


def rarer_side(logs: npt.NDArray[np.float64], rows: npt.NDArray[np.int64]) -> list[int]:
    """The images of pairs `rows` (one portrait, one landscape each) of the orientation fewer
    of them have (`logs`: each image's log aspect)."""
    sides = np.unique(rows)
    portrait = sides[logs[sides] < 0]
    landscape = sides[logs[sides] > 0]
    rarer = portrait if len(portrait) <= len(landscape) else landscape
    return [int(i) for i in rarer]


def turned_stacks(
    images: Sequence[Features],
    pairs: Pairs,
    methods: Sequence[str],
    engine: Engine,
    cache: CacheSetting = False,
    stacks: Stacks | None = None,
    deciding: Sequence[str] | None = None,
) -> Stacks:
    """`method_scores`' turned-view stacks (`TURN` + method: the views of the images to turn,
    in position order, and which positions have them) for each embedding method. `stacks`:
    the images' stacked features, where already made; `deciding`: the methods whose fused
    confidence is held to `TURN_FLOOR` (default `methods`: `compare` scores every method but
    fuses a scan's)."""
    models = [m for m in methods if m in EMBEDDING_METHODS]
    given = {} if stacks is None else stacks
    chosen = to_turn(images, pairs, deciding or methods, given) if models else []
    out: Stacks = {}
    for model in models if chosen else []:
        views = _views(images, chosen, model, engine, cache)
        kept = [i for i in chosen if i in views]
        if not kept:  # none could be read again: every pair is read as it is
            continue
        present = np.zeros(len(images), dtype=bool)
        present[kept] = True
        out[TURN + model] = (np.stack([views[i] for i in kept]).astype(np.float32), present)
    return out


def _views(
    images: Sequence[Features],
    chosen: list[int],
    model: str,
    engine: Engine,
    cache: CacheSetting,
) -> dict[int, Views]:
    """Turned views of the `chosen` positions: from the store where kept, made otherwise;
    a picture that cannot be read again has none."""
    out: dict[int, Views] = {}
    with pair_store(cache, f"turned-{model}", lambda: VERSION) as store:
        keys = {i: k for i in chosen if (k := item_hash(images[i]))}
        kept = store.get((k, model) for k in keys.values()) if store is not None else {}
        todo = []
        for i in chosen:
            value = kept.get((keys[i], model)) if i in keys else None
            if value is None:
                todo.append(i)
            else:
                out[i] = np.asarray(value, dtype=np.float32)
        refs = [ref_of(images[i].path, images[i].frame) for i in todo]
        stage: Stage[Ref, FramePictures, Views | None] = Stage(
            "turned", partial(FramePictures, SPEC), partial(_embed_turned, model), chunk=16
        )
        at = dict(zip(refs, todo, strict=True))
        for chunk, found in engine.map(stage, refs):
            made = []
            for ref, views in zip(chunk, found, strict=True):
                if views is None:
                    continue
                i = at[ref]
                out[i] = views
                if i in keys and item_hash(images[i]) == keys[i]:  # not changed meanwhile
                    made.append(((keys[i], model), views.tolist()))
            if store is not None:
                store.put(made)
    return out


def _embed_turned(model: str, frames: FramePictures, refs: list[Ref]) -> list[Views | None]:
    """Each item's picture, as the features decoded it, embedded turned a quarter each way
    (None where it cannot be read again)."""
    frames.fetch(refs)  # each video's frames in one pass
    pictures: list[npt.NDArray[np.uint8] | None] = []
    for ref in refs:
        found: Decoded | object
        if isinstance(ref, tuple):  # a video frame
            found = frames.get(ref)
        else:
            try:
                found = read_still(ref, SPEC)
            except OSError:
                found = None
        pictures.append(found.rgb if isinstance(found, Decoded) else None)
    readable = [p for p in pictures if p is not None]
    turns = [np.rot90(p, k) for p in readable for k in (1, 3)]
    vectors = embed(model, [np.ascontiguousarray(t) for t in turns])
    out: list[Views | None] = []
    n = 0
    for picture in pictures:
        if picture is None:
            out.append(None)
        else:
            out.append(vectors[2 * n : 2 * n + 2])
            n += 1
    return out
