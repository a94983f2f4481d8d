"""Leakage between sets: near-copies of one split's images in an earlier split.

`neardup scan TRAIN --against TEST [VAL ...]` scans every set together, labels each image
with the set it came from (the first listed that holds the file; the first set is the
reference), keeps only the pairs across two sets, turned so that `a` is in the earlier set and
`b` in the later (the copy a curator drops), and counts, for each later set and each preset,
how many of its images have a near-copy in an earlier set.

A file held by two sets (a link, overlapping folders) is read once, so it is in no pair: it
leaks at every preset and is named apart (`SetLeakage.same_files`), never as a pair whose `b`
one would drop, as that name may be the reference's own file.

Counting at every preset needs the pairs down to the loosest cut, so the scan keeps pairs
down to it; the geometric check still runs where it decides the scan's own cut, so a count at
another preset can differ slightly from a scan run at that preset.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass, field, replace

from neardup.records import Features, FileRef, Leakage, Pair, SameFile, SetLeakage
from neardup.sources import collect_sources

FileKey = tuple[int, int] | str


@dataclass(frozen=True, slots=True)
class SetPlan:
    """The sets as given: names, paths and which files (`file_key`) each holds."""

    names: list[str]
    paths: list[list[str]]
    files: list[set[FileKey]]
    named: list[dict[FileKey, str]] = field(default_factory=list)
    """Per set, the path it found each of its files under: the name a file that an earlier
    set holds too is told by (empty: the earlier set's path is used)."""

    @property
    def every_path(self) -> list[str]:
        return [p for paths in self.paths for p in paths]


def _name(paths: Sequence[str]) -> str:
    first = os.path.normpath(paths[0]) if paths else "set"
    return os.path.basename(first) or first


def set_names(groups: Sequence[Sequence[str]]) -> list[str]:
    """Each set's name: its first folder's name, made unique with its order (`name#N`) when
    an earlier set has it."""
    names: list[str] = []
    for number, group in enumerate(groups, 1):
        name = _name(group)
        names.append(name if name not in names else f"{name}#{number}")
    return names


def plan_sets(reference: Sequence[str], against: Sequence[str]) -> SetPlan:
    """The reference set (every path in `reference`) and one later set per `against` path,
    named by their folder names (made unique with their order when two share one)."""
    return _plan([list(reference), *([p] for p in against)], reference_files=True)


def plan_index_sets(index_folder: str, paths: Sequence[str]) -> SetPlan:
    """A saved index as the reference, then one later set per scanned folder, and one for
    the files given one by one (a glob, a list on stdin: one set, not a set per file), named
    as `plan_sets` names them. The index's files are not walked (its stored paths are matched
    to the scanned files one by one, `neardup.leakage_index`), so its `files` is empty."""
    groups: list[list[str]] = [[index_folder]]
    naming: list[list[str]] = [[index_folder]]
    loose: list[str] | None = None
    for path in paths:
        if _is_folder(path):
            groups.append([path])
            naming.append([path])
        elif loose is None:
            loose = [path]
            groups.append(loose)
            naming.append([os.path.dirname(os.path.normpath(path)) or "."])  # its folder's name
        else:
            loose.append(path)
    return _plan(groups, reference_files=False, naming=naming)


def _is_folder(path: str) -> bool:
    """A local folder, or a URL naming a prefix (ending in '/')."""
    return path.endswith("/") if "://" in path else os.path.isdir(path)


def _plan(
    groups: list[list[str]], *, reference_files: bool, naming: list[list[str]] | None = None
) -> SetPlan:
    files: list[set[FileKey]] = []
    named: list[dict[FileKey, str]] = []
    for number, group in enumerate(groups):
        found = collect_sources(group).files if number or reference_files else []
        paths: dict[FileKey, str] = {}
        for ref in found:
            paths.setdefault(file_key(ref), ref.path)
        files.append(set(paths))
        named.append(paths)
    return SetPlan(set_names(groups if naming is None else naming), groups, files, named)


def file_key(ref: FileRef) -> FileKey:
    """What tells one file from another: its device and inode on a local disk (a link or an
    overlapping folder is the same file), its URL elsewhere (a store has no inodes)."""
    return (ref.dev, ref.inode) if ref.dev or ref.inode else ref.path


def label_images(
    sets: SetPlan, key_of: dict[str, FileKey], images: Sequence[Features], default: int = 0
) -> list[int]:
    """Each image's set: the first that holds its file (`default` where none does)."""
    holders = _holders(sets)
    return [holders.get(key_of.get(image.path), [default])[0] for image in images]


def _holders(sets: SetPlan) -> dict[FileKey | None, list[int]]:
    """Each file's sets, in order (one pass over the sets, not one per image)."""
    out: dict[FileKey | None, list[int]] = {}
    for number, held in enumerate(sets.files):
        for key in held:
            out.setdefault(key, []).append(number)
    return out


def same_files(
    sets: SetPlan,
    key_of: dict[str, FileKey],
    images: Sequence[Features],
    labels: Sequence[int],
    references: Sequence[str] | None = None,
) -> list[list[SameFile]]:
    """Per set, its files that are the very file of an image labelled with an earlier set,
    each named by this set's path for it and by the earlier set's (`references`, one per
    image; the image's path where not given); a video once, not once per frame."""
    out: list[list[SameFile]] = [[] for _ in sets.names]
    holders = _holders(sets)
    seen: set[str] = set()
    for n, (image, label) in enumerate(zip(images, labels, strict=True)):
        key = key_of.get(image.path)
        if key is None or image.path in seen:
            continue
        seen.add(image.path)
        reference = image.path if references is None else references[n]
        for number in holders.get(key, []):
            if number > label:
                named = sets.named[number] if sets.named else {}
                out[number].append(SameFile(reference, named.get(key, image.path), label))
    return out


def across_sets(pairs: list[Pair], labels: Sequence[int]) -> list[Pair]:
    """The pairs whose images are in two sets, turned so that `a` is in the earlier one."""
    across = []
    for pair in pairs:
        if labels[pair.a] == labels[pair.b]:
            continue
        if labels[pair.a] > labels[pair.b]:
            pair = replace(pair, a=pair.b, b=pair.a)
        across.append(pair)
    return across


def summarise(
    summary: list[SetLeakage],
    across: list[Pair],
    labels: Sequence[int],
    images: Sequence[Features],
    same: list[list[SameFile]],
    presets: dict[str, float],
    count_at: float,
) -> None:
    """Fill each later set's counts in `summary` (its `images` already counting its own):
    the leaking images per preset, its pairs at or above `count_at`, and its same files,
    counted in its images and leaking at every preset."""
    for number, later in enumerate(summary[1:], 1):
        named = same[number]
        later.images += len(named)
        later.same_file = len(named)
        later.same_files = list(named)
        mine = [p for p in across if labels[p.b] == number]
        very = {s.reference for s in named}
        for preset, cut in presets.items():
            near = {images[p.b].path for p in mine if p.confidence >= cut}
            later.leaking[preset] = len(near | very)
        later.pairs = sum(1 for p in mine if p.confidence >= count_at)


def split_pairs(
    sets: SetPlan,
    files: Sequence[FileRef],
    images: Sequence[Features],
    pairs: list[Pair],
    presets: dict[str, float],
    keep: float,
    count_at: float | None = None,
) -> tuple[list[Pair], Leakage]:
    """The pairs across sets at or above `keep` (a in the earlier set), and the summary,
    whose `pairs` counts those at or above `count_at` (the scan's cut; `keep` unless given).

    `pairs` must hold every scored pair down to the loosest preset's cut."""
    key_of = {f.path: file_key(f) for f in files}
    labels = label_images(sets, key_of, images)
    across = across_sets(pairs, labels)
    summary = [
        SetLeakage(name, paths, 0) for name, paths in zip(sets.names, sets.paths, strict=True)
    ]
    for label in labels:
        summary[label].images += 1
    same = same_files(sets, key_of, images, labels)
    summarise(
        summary, across, labels, images, same, presets, keep if count_at is None else count_at
    )
    kept = [p for p in across if p.confidence >= keep]
    return kept, Leakage(summary, labels)
