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
methods and shipped in `group_confidence.json`; at a cut no preset has, or with other
methods (whose own confidence is another fusion's), the pairs keep their own confidence.

A pair never crosses the cut upwards (a scan keeps no pair below the cut, and its list must
be the list `neardup eval` scores), a pair that links a group member to the image it was
matched with never falls below it (the group stands on it), and an exact copy keeps 1.0. The
own confidence stays on the pair (`Pair.own_confidence`). `compare`, with no groups, reports
the own confidence.
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from dataclasses import replace
from functools import cache
from importlib import resources
from typing import Any, NamedTuple

import numpy as np

from neardup.detail_check import two_pages
from neardup.fusion import key_of
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
"""How far under the cut a pair below it by its own evidence stays at most."""

Curve = tuple[np.ndarray, np.ndarray]


class Maps(NamedTuple):
    """The fitted maps: the method set they were fitted with (`neardup.fusion.key_of`), and
    per cut (as `_cut_key`) the curve of each (family, relation): its (x, y) knots."""

    methods: str
    curves: dict[str, dict[tuple[str, str], Curve]]


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
    """`pairs` with their confidence given their groups (module docstring), those now below
    `keep` (default: the cut) left out unless they link a member; unchanged where no map was
    fitted at `cut` with `methods`."""
    fitted = maps()
    curves = fitted.curves.get(_cut_key(cut)) if fitted.methods == key_of(methods) else None
    if curves is None:
        return pairs
    group_of, links = group_index(groups), linking(groups)
    floor = cut if keep is None else min(cut, keep)
    out = []
    for pair in pairs:
        own = pair.confidence if pair.own_confidence is None else pair.own_confidence
        key = (min(pair.a, pair.b), max(pair.a, pair.b))
        if pair.evidence == "exact":
            value = own
        else:
            xs, ys = curves[family(images, pair), relation(group_of, pair.a, pair.b)]
            value = float(np.interp(own, xs, ys))
            if own < cut:
                value = min(value, cut - BELOW)
            elif key in links:
                value = max(value, cut)
        if value >= floor or key in links:
            out.append(replace(pair, confidence=value, own_confidence=own))
    return out


def _cut_key(cut: float) -> str:
    return f"{cut:.4f}"


@cache
def maps() -> Maps:
    """The shipped maps, or those of the file `NEARDUP_GROUP_CONFIDENCE` names (none where
    it is empty)."""
    own = os.environ.get(MAP_ENV)
    if own is not None and not own:
        return Maps("", {})
    if own:
        with open(own, encoding="utf-8") as handle:
            text = handle.read()
    else:
        text = resources.files("neardup").joinpath(MAP_FILE).read_text(encoding="utf-8")
    spec: dict[str, Any] = json.loads(text)
    if spec.get("version") != MAP_VERSION:
        raise RuntimeError(f"{MAP_FILE}: expected version {MAP_VERSION}")
    out: dict[str, dict[tuple[str, str], Curve]] = {}
    for cut, by_family in spec["maps"].items():
        out[_cut_key(float(cut))] = {
            (fam, rel): (np.asarray(knots[0], float), np.asarray(knots[1], float))
            for fam, by_relation in by_family.items()
            for rel, knots in by_relation.items()
        }
        missing = {(f, r) for f in FAMILIES for r in RELATIONS} - out[_cut_key(float(cut))].keys()
        if missing:
            raise RuntimeError(f"{MAP_FILE}: cut {cut} has no map for {sorted(missing)}")
    return Maps(str(spec["methods"]), out)
