"""Leakage between sets: near-copies of one split's images in an earlier split.

`neardup scan TRAIN --against TEST [VAL ...]` scans every set together, labels each image
with the set it came from (the first listed that holds the file; the first set is the
reference), keeps only the pairs across two sets, turned so that `a` is in the earlier set and
`b` in the later (the copy a curator drops), and counts, for each later set and each preset,
how many of its images have a near-copy in an earlier set.

Counting at every preset needs the pairs down to the loosest cut, so the scan keeps pairs
down to it; the geometric check still runs where it decides the scan's own cut, so a count at
another preset can differ slightly from a scan run at that preset.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass, replace

from neardup.records import Features, FileRef, Leakage, Pair, SetLeakage
from neardup.sources import collect_sources


@dataclass(frozen=True, slots=True)
class SetPlan:
    """The sets as given: names, paths and which files (`file_key`) each holds."""

    names: list[str]
    paths: list[list[str]]
    files: list[set[tuple[int, int] | str]]

    @property
    def every_path(self) -> list[str]:
        return [p for paths in self.paths for p in paths]


def _name(paths: Sequence[str]) -> str:
    first = os.path.normpath(paths[0]) if paths else "set"
    return os.path.basename(first) or first


def plan_sets(reference: Sequence[str], against: Sequence[str]) -> SetPlan:
    """The reference set (every path in `reference`) and one later set per `against` path,
    named by their folder names (made unique with their order when two share one)."""
    paths = [list(reference), *([p] for p in against)]
    names: list[str] = []
    for number, group in enumerate(paths, 1):
        name = _name(group)
        names.append(name if name not in names else f"{name}#{number}")
    files = [{file_key(f) for f in collect_sources(group).files} for group in paths]
    return SetPlan(names, paths, files)


def file_key(ref: FileRef) -> tuple[int, int] | str:
    """What tells one file from another: its device and inode on a local disk (a link or an
    overlapping folder is the same file), its URL elsewhere (a store has no inodes)."""
    return (ref.dev, ref.inode) if ref.dev or ref.inode else ref.path


def split_pairs(
    sets: SetPlan,
    files: Sequence[FileRef],
    images: Sequence[Features],
    pairs: list[Pair],
    presets: dict[str, float],
    keep: float,
) -> tuple[list[Pair], Leakage]:
    """The pairs across sets at or above `keep` (a in the earlier set), and the summary.

    `pairs` must hold every scored pair down to the loosest preset's cut."""
    key_of = {f.path: file_key(f) for f in files}
    labels = []
    for image in images:
        key = key_of.get(image.path)
        owners = [n for n, held in enumerate(sets.files) if key in held]
        labels.append(owners[0] if owners else 0)
    across = []
    for pair in pairs:
        if labels[pair.a] == labels[pair.b]:
            continue
        if labels[pair.a] > labels[pair.b]:
            pair = replace(pair, a=pair.b, b=pair.a)
        across.append(pair)
    summary = [
        SetLeakage(name, paths, 0) for name, paths in zip(sets.names, sets.paths, strict=True)
    ]
    for label in labels:
        summary[label].images += 1
    for number, later in enumerate(summary[1:], 1):
        # Its files that are the very file of an image of an earlier set (a link, or
        # overlapping folders): labelled with that set, they leak at every preset.
        same = {
            image.path
            for image, label in zip(images, labels, strict=True)
            if label < number and key_of.get(image.path) in sets.files[number]
        }
        later.images += len(same)
        later.same_file = len(same)
        mine = [p for p in across if labels[p.b] == number]
        for preset, cut in presets.items():
            later.leaking[preset] = len(
                {images[p.b].path for p in mine if p.confidence >= cut} | same
            )
        later.pairs = sum(1 for p in mine if p.confidence >= keep)
    kept = [p for p in across if p.confidence >= keep]
    return kept, Leakage(summary, labels)
