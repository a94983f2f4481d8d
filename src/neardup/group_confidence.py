"""A pair's confidence once its group is known: the grouping read as evidence.

    pairs (own confidence) --build_groups--> groups --grouped_confidence--> pairs (confidence)

The fusion scores each pair on its own evidence. The grouping then weighs the pairs against
one another (`neardup.groups`: a copy joins the image it matches best; the words keep two
documents of one template apart), and what it decides says more than either pair alone. On
the calibration halves of the evaluation sets, of the pairs of two pages at or above the cut
that the grouping keeps in different groups about one in ten is a duplicate, and of the
pictures' pairs below the cut whose two images share a group, 85-96 % are
(benchmarks/RESULTS.md, session 36). So the confidence reported is the share of duplicates
among pairs alike in three things: their own confidence, their relation to the groups
(`RELATIONS`), and whether both images are pages (`neardup.detail_check.two_pages`). The
maps are isotonic in the own confidence, one per preset cut (the groups depend on it),
fitted on the calibration halves by `benchmarks/fit_group_confidence.py` with the default
methods and shipped in `group_confidence.json` with a fingerprint of the fusion they read; at
a cut no preset has, with other methods or another fusion (whose own confidence is another
model's), the pairs keep their own confidence.

A pair below the cut on its own evidence crosses it only where its two images share a group
and its own confidence is at least `HOLD` (a scan keeps its scored pairs from there until the
groups are made, so its list stays the list `neardup eval` scores); every other pair below the
cut stays under it. A pair that links a group member to the image it was matched with never
falls below the cut (the group stands on it), and an exact copy keeps 1.0. The own confidence
stays on the pair (`Pair.own_confidence`). `compare` and the index's matches of
new images (`add`, `query`), which make no groups, report the own confidence.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Sequence
from dataclasses import replace
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np

from neardup.detail_check import two_pages
from neardup.fusion import MODEL_ENV, MODEL_FILE, key_of
from neardup.records import Features, Group, Pair

MAP_FILE = "group_confidence.json"
MAP_ENV = "NEARDUP_GROUP_CONFIDENCE"
"""A map file of your own (`benchmarks/fit_group_confidence.py --out`), as the fusion's
`NEARDUP_FUSION_MODEL`; an empty path turns the maps off."""
MAP_VERSION = 1
RELATIONS = ("same", "apart", "one", "none")
"""Both images in one group; in two groups; one of them in a group; neither grouped."""
FAMILIES = ("pages", "pictures")
BELOW = 1e-4
"""A pair below the cut on its own evidence is read at most this far under the cut: it stays
under it (but for a pair the grouping joins from `HOLD` up)."""
HOLD = 0.02
"""The own confidence from which a pair below the cut whose two images share a group reports
its grouped confidence (85-96 % of such pictures' pairs are copies, RESULTS.md, session 36),
not one capped under the cut, which left them far below their share of copies (session 37).
Where the maps are in use (not in a leakage scan), a scan holds its scored pairs from here
(or from its `--keep-below` floor, if lower) until its groups are made: it holds them anyway
while the geometric check runs (from the check's band, 0.0217 at the default cut), and a
kept pair shares its scores with them. Below it, the maps of sessions 49 and 50 read such
pairs over the default cut too (pictures 0.92 from 0.0056, pages 0.95 from 0.005; on 18
calibration halves 309 of 332 were copies), and they are held just under it: letting them
cross from 0.005 made each pair list as imprecise as its groups (R119, refused; RESULTS.md,
session 50)."""

Curve = tuple[np.ndarray, np.ndarray]


class Maps(NamedTuple):
    """The fitted maps: the method set (`neardup.fusion.key_of`) and the fusion (`fusion_id`)
    whose own confidence they were fitted on, and per cut the curve of each (family,
    relation): its (x, y) knots."""

    methods: str
    fusion: str
    curves: dict[float, dict[tuple[str, str], Curve]]


def relation(group_of: dict[int, int], a: int, b: int) -> str:
    """How the grouping placed a pair's two images (`RELATIONS`)."""
    ga, gb = group_of.get(a), group_of.get(b)
    if ga is not None and gb is not None:
        return "same" if ga == gb else "apart"
    return "none" if ga is None and gb is None else "one"


def family(images: Sequence[Features], pair: Pair) -> str:
    """Pages (both read as pages of text, their words compared) or pictures."""
    return "pages" if two_pages(images[pair.a], images[pair.b]) else "pictures"


def group_index(groups: Sequence[Group]) -> dict[int, int]:
    """Image -> the position of its group."""
    out: dict[int, int] = {}
    for n, group in enumerate(groups):
        out[group.keeper] = n
        out.update((member, n) for member, _ in group.members)
    return out


def linking(groups: Sequence[Group]) -> set[tuple[int, int]]:
    """The pairs each member was matched through (its keeper, or `Group.via`)."""
    out: set[tuple[int, int]] = set()
    for group in groups:
        for member, _ in group.members:
            other = group.via.get(member, group.keeper)
            out.add((min(member, other), max(member, other)))
    return out


def grouped_confidence(
    images: Sequence[Features],
    pairs: list[Pair],
    groups: Sequence[Group],
    cut: float,
    methods: Sequence[str],
    keep: float | None = None,
) -> list[Pair]:
    """`pairs` with their confidence given their groups (module docstring); unchanged where no
    map was fitted at `cut` with `methods` and the fusion in use. Without `keep` (the floor a
    scan kept pairs below the cut from, by their own confidence) the pairs now below the cut
    leave the list; with it every pair from that floor stays, as it was kept (pairs held
    below it only for the grouping, from `HOLD`, stay where they reach the cut)."""
    curves = maps_for(cut, methods)
    if curves is None:
        return pairs
    group_of, links = group_index(groups), linking(groups)
    out = []
    for pair in pairs:
        own = pair.confidence if pair.own_confidence is None else pair.own_confidence
        key = (min(pair.a, pair.b), max(pair.a, pair.b))
        if pair.evidence == "exact":
            value = own
        else:
            placed = relation(group_of, pair.a, pair.b)
            xs, ys = curves[family(images, pair), placed]
            joined = placed == "same" and own >= HOLD
            value = float(np.interp(own, xs, ys))
            if own < cut and not joined:
                value = min(value, cut - BELOW)
            elif key in links:
                value = max(value, cut)
        if (keep is not None and own >= min(keep, cut)) or value >= cut or key in links:
            out.append(replace(pair, confidence=value, own_confidence=own))
    return out


def maps_for(cut: float, methods: Sequence[str]) -> dict[tuple[str, str], Curve] | None:
    """The curves fitted at exactly `cut` with `methods` and the fusion in use, or None."""
    fitted = maps()
    if fitted.methods != key_of(methods) or fitted.fusion != fusion_id():
        return None
    return fitted.curves.get(float(cut))


@cache
def fusion_id() -> str:
    """A fingerprint of the fusion in use (its model file's bytes): the maps read its own
    confidence, and another fusion's (refitted, or your own) keeps the own confidence."""
    own = os.environ.get(MODEL_ENV)
    if own:
        data = Path(own).read_bytes()
    else:
        data = resources.files("neardup").joinpath(MODEL_FILE).read_bytes()
    return hashlib.sha256(data).hexdigest()[:16]


@cache
def maps() -> Maps:
    """The shipped maps, or those of the file `NEARDUP_GROUP_CONFIDENCE` names (none where
    it is empty)."""
    own = os.environ.get(MAP_ENV)
    if own is not None and not own:
        return Maps("", "", {})
    source = own or MAP_FILE
    try:
        if own:
            text = Path(own).read_text(encoding="utf-8")
        else:
            text = resources.files("neardup").joinpath(MAP_FILE).read_text(encoding="utf-8")
        spec: dict[str, Any] = json.loads(text)
    except (OSError, ValueError) as error:
        raise RuntimeError(f"{source}: cannot read the grouped confidence maps: {error}") from error
    if not isinstance(spec, dict) or spec.get("version") != MAP_VERSION:
        raise RuntimeError(f"{source}: expected grouped confidence maps, version {MAP_VERSION}")
    out: dict[float, dict[tuple[str, str], Curve]] = {}
    for cut, by_family in spec["maps"].items():
        curves = {
            (fam, rel): (np.asarray(knots[0], float), np.asarray(knots[1], float))
            for fam, by_relation in by_family.items()
            for rel, knots in by_relation.items()
        }
        missing = {(f, r) for f in FAMILIES for r in RELATIONS} - curves.keys()
        if missing:
            raise RuntimeError(f"{source}: cut {cut} has no map for {sorted(missing)}")
        out[float(cut)] = curves
    return Maps(str(spec["methods"]), str(spec["fusion"]), out)
