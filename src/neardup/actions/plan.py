"""Which files to act on: from a scan result (`neardup.scan/*`, a keep rule choosing the copy
to keep in each group) or from a decisions file (`neardup.decisions/1`, exported by the HTML
report: the reviewer's keep / remove marks).

A plan never removes every copy: a group with nothing to keep is left alone, a file kept in
any group is never removed, and files under a `--reference` folder are never touched (and are
the copies kept when a group has one). A group that holds video frames is left alone: act
works on whole files, and a frame that matches does not make its video (or a still that
matches it) a copy of the other file. Paths are made absolute against the folder the scan
ran in (the result's `cwd`), unless `base` is given.
"""

from __future__ import annotations

import fnmatch
import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from neardup.actions.documents import absolute as _abs
from neardup.actions.documents import load_document, scanned_folders, under
from neardup.actions.scan_behind import (
    NOT_GROUPED,
    decided_folders,
    group_of,
    inside,
    scan_behind,
    scanned_groups,
)
from neardup.actions.validate import Malformed, check_decisions, check_result

KEEP_RULES = ("keeper", "largest", "oldest", "newest")
"""Named keep rules; anything else given to --keep is a PATTERN (shell glob on the path)."""

DECISIONS_SCHEMA = "neardup.decisions/1"


@dataclass(frozen=True, slots=True)
class Seen:
    """What the scan (or the report) recorded about a file, to tell whether it changed since.
    None where the result does not say (an older result without `mtime_ns` or `blake2b`)."""

    bytes: int | None = None
    mtime_ns: int | None = None
    blake2b: str | None = None

    @classmethod
    def of(cls, entry: dict[str, Any]) -> Seen:
        size = entry.get("bytes")
        mtime = entry.get("mtime_ns")
        digest = entry.get("blake2b")
        return cls(
            int(size) if isinstance(size, int) else None,
            int(mtime) if isinstance(mtime, int) else None,
            str(digest) if isinstance(digest, str) else None,
        )


@dataclass(frozen=True, slots=True)
class Item:
    """One file to act on, the copy kept for it, and what the scan saw of both."""

    path: str
    """Absolute path of the file to act on."""
    keeper: str
    """Absolute path of the copy that stays (the target of --hardlink / --symlink)."""
    group: int
    """1-based group number in the source."""
    seen: Seen
    keeper_seen: Seen


@dataclass(slots=True)
class Plan:
    source: str
    """The result or decisions file the plan came from."""
    kind: str
    """"result" or "decisions"."""
    items: list[Item] = field(default_factory=list)
    kept: list[str] = field(default_factory=list)
    """Every file that stays, absolute (keepers and reference files)."""
    left: list[tuple[str, str]] = field(default_factory=list)
    """(path or group, reason) for what the plan leaves alone, e.g. a group no file of which
    matches the keep PATTERN."""
    paths: list[str] = field(default_factory=list)
    """Every path the source names, absolute (for the default root)."""
    written: list[str] = field(default_factory=list)
    """Every path the source names, as written there (relative ones begin with the path the
    scan was given, which tells whether the files share a folder the scan was given)."""
    scanned: list[str] = field(default_factory=list)
    """The folders the scan was given, absolute, where the source records them (a leakage
    result's `leakage.sets[].paths`); empty where it does not."""
    index_keepers: bool = False
    """A leakage result against a saved index: the copies kept are the index's images, which
    lie outside the scanned folders by design."""


VIDEO_LEFT = (
    "holds video frames: act works on whole files, and a matching frame does not make a file"
    " a copy; left alone"
)


def _is_frame(entry: dict[str, Any]) -> bool:
    return entry.get("frame") is not None


def _references(folders: Iterable[str]) -> list[str]:
    """Each --reference folder as given (absolute) and with its links resolved; a folder that
    is not there is an error: a typo would leave the real reference folder unprotected."""
    out = []
    for folder in folders:
        if not os.path.exists(folder):
            raise ValueError(f"--reference {folder}: no such file or folder")
        out.append(os.path.normpath(os.path.abspath(folder)))
        out.append(os.path.realpath(folder))
    return out


def _is_reference(path: str, refs: Sequence[str]) -> bool:
    real = os.path.realpath(path)
    return any(under(path, r) or under(real, r) for r in refs)


def load_plan(
    source: str | Path,
    *,
    keep: str = "keeper",
    references: Sequence[str] = (),
    base: str | None = None,
) -> Plan:
    """The plan for a scan result or a decisions file (told apart by its `schema`); a
    malformed one is a ValueError naming what is wrong, never a half-made plan."""
    doc = load_document(source)
    schema = doc["schema"]
    base_dir = base or (doc["cwd"] if isinstance(doc.get("cwd"), str) else os.getcwd())
    refs = _references(references)
    if schema.startswith("neardup.scan/"):
        if keep != "keeper" and isinstance(doc.get("leakage"), dict):
            raise ValueError(
                "--keep does not apply to a leakage result: each group keeps the files of its "
                "earliest split; give --reference DIR to keep more"
            )
        kind = "result"
    elif schema == DECISIONS_SCHEMA:
        if keep != "keeper":
            raise ValueError("--keep applies to a scan result; a decisions file says what to keep")
        kind = "decisions file"
    else:
        raise ValueError(
            f"{source}: schema {schema!r} is neither neardup.scan/* nor {DECISIONS_SCHEMA}"
        )
    try:
        if kind == "result":
            check_result(doc)
            return _from_result(str(source), doc, keep, refs, base_dir)
        check_decisions(doc)
        # The result's folders are read against the decisions' base only where one was said
        # (--base, or their `cwd`), never against wherever act happens to run.
        said = base is not None or isinstance(doc.get("cwd"), str)
        return _from_decisions(str(source), doc, refs, base_dir, said)
    except Malformed as error:
        raise ValueError(f"{source}: malformed {kind}: {error}") from error
    except (KeyError, TypeError, AttributeError) as error:  # a shape the checks did not foresee
        raise ValueError(f"{source}: malformed {kind}: {type(error).__name__}: {error}") from error


def _mtime(entry: dict[str, Any], path: str) -> int:
    value = entry.get("mtime_ns")
    if isinstance(value, int):
        return value
    try:
        return os.stat(path).st_mtime_ns
    except OSError:
        return 0


def _choose(
    entries: list[tuple[str, dict[str, Any]]], keep: str, raw_paths: list[str]
) -> list[int] | None:
    """Indices (into entries; 0 is the scan's keeper) of the copies to keep, or None when a
    PATTERN matches none of them."""
    if keep == "keeper":
        return [0]
    if keep == "largest":
        sizes = [
            (int(e.get("width") or 0) * int(e.get("height") or 0), int(e.get("bytes") or 0), -i)
            for i, (_, e) in enumerate(entries)
        ]
        return [-max(sizes)[2]]
    if keep in ("oldest", "newest"):
        times = [(_mtime(e, p), i) for i, (p, e) in enumerate(entries)]
        chosen = min(times) if keep == "oldest" else max(times, key=lambda t: (t[0], -t[1]))
        return [chosen[1]]
    matches = [
        i
        for i, (path, _) in enumerate(entries)
        if fnmatch.fnmatch(path, keep) or fnmatch.fnmatch(raw_paths[i], keep)
    ]
    return matches or None


def _from_result(source: str, doc: dict[str, Any], keep: str, refs: list[str], base: str) -> Plan:
    plan = Plan(source, "result")
    raw_groups = doc.get("groups")
    if not isinstance(raw_groups, list):
        raise ValueError(f"{source}: no `groups` list")
    chosen: list[tuple[int, list[tuple[str, Seen]], list[tuple[str, Seen]]]] = []
    rank = _split_ranks(doc)
    plan.scanned = scanned_folders(doc, base)
    settings = doc.get("settings")
    plan.index_keepers = bool(rank) and isinstance(settings, dict) and bool(settings.get("index"))
    for number, group in enumerate(raw_groups, 1):
        raw = [group["keeper"], *group.get("members", [])]
        if any(_is_frame(e) for e in raw):
            plan.left.append((f"group {number}", VIDEO_LEFT))
            continue
        raw_paths = [str(e["path"]) for e in raw]
        entries = [(_abs(p, base), e) for p, e in zip(raw_paths, raw, strict=True)]
        plan.paths.extend(p for p, _ in entries)
        plan.written.extend(raw_paths)
        refs_here = [i for i, (p, _) in enumerate(entries) if _is_reference(p, refs)]
        if rank:
            # A leakage scan: the earliest split's files always stay (a --reference in a later
            # split must not turn the training set into the copies dropped), and reference
            # files stay too; the earliest split's file comes first, the target of any link.
            first = min(rank.get(p, 0) for p in raw_paths)
            earliest = [i for i, p in enumerate(raw_paths) if rank.get(p, 0) == first]
            keep_idx: list[int] | None = earliest + [i for i in refs_here if i not in earliest]
        elif refs_here:
            keep_idx = refs_here
        else:
            keep_idx = _choose(entries, keep, raw_paths)
        if keep_idx is None:
            plan.left.append((f"group {number}", f"no file matches --keep {keep!r}; left alone"))
            continue
        keepers = [(entries[i][0], Seen.of(entries[i][1])) for i in keep_idx]
        removes = [
            (p, Seen.of(e))
            for i, (p, e) in enumerate(entries)
            if i not in keep_idx and not _is_reference(p, refs)
        ]
        chosen.append((number, keepers, removes))
    return _assemble(plan, chosen)


def _split_ranks(doc: dict[str, Any]) -> dict[str, int]:
    """For a leakage scan (`scan TRAIN --against TEST`): each paired file's split, by order
    (0 the reference); empty for any other result."""
    leakage = doc.get("leakage")
    if not isinstance(leakage, dict):
        return {}
    order = {str(s["name"]): n for n, s in enumerate(leakage.get("sets", []))}
    rank: dict[str, int] = {}
    for pair in doc.get("pairs", []):
        sets = pair.get("sets")
        if isinstance(sets, list) and len(sets) == 2:
            rank[str(pair["a"])] = order.get(str(sets[0]), 0)
            rank[str(pair["b"])] = order.get(str(sets[1]), 0)
    return rank


def _assemble(
    plan: Plan, chosen: list[tuple[int, list[tuple[str, Seen]], list[tuple[str, Seen]]]]
) -> Plan:
    """The items to act on. A file kept in any group is told by its real path (every link
    resolved), so that named another way in another group (`p/self/a.jpg` where `self`
    links to `.`) it is still never removed."""
    kept = {p for _, keepers, _ in chosen for p, _ in keepers}
    plan.kept = sorted(kept)
    kept_real = {os.path.realpath(p) for p in kept}
    done: set[str] = set()
    for number, keepers, removes in chosen:
        keeper, keeper_seen = keepers[0]
        for path, seen in removes:
            if os.path.realpath(path) in kept_real:
                plan.left.append((path, "kept in another group"))
                continue
            if path in done:
                continue
            done.add(path)
            plan.items.append(Item(path, keeper, number, seen, keeper_seen))
    return plan


def _from_decisions(
    source: str, doc: dict[str, Any], refs: list[str], base: str, said: bool
) -> Plan:
    plan = Plan(source, "decisions")
    behind = scan_behind(doc, base, said)  # read once: a result can be large
    plan.scanned = decided_folders(doc, base, behind)
    grouped = scanned_groups(behind)
    raw_groups = doc.get("groups")
    if not isinstance(raw_groups, list):
        raise ValueError(f"{source}: no `groups` list")
    chosen: list[tuple[int, list[tuple[str, Seen]], list[tuple[str, Seen]]]] = []
    for position, group in enumerate(raw_groups, 1):
        number = int(group.get("group", position))
        if any(_is_frame(e) for e in [*group.get("keep", []), *group.get("remove", [])]):
            plan.left.append((f"group {number}", VIDEO_LEFT))
            continue
        keep = [(_abs(str(e["path"]), base), Seen.of(e)) for e in group.get("keep", [])]
        remove = [(_abs(str(e["path"]), base), Seen.of(e)) for e in group.get("remove", [])]
        plan.paths.extend(p for p, _ in keep + remove)
        plan.written.extend(
            str(e["path"]) for e in [*group.get("keep", []), *group.get("remove", [])]
        )
        reference_removes = [p for p, _ in remove if _is_reference(p, refs)]
        for path in reference_removes:
            plan.left.append((path, "under a --reference folder: never touched"))
        remove = [(p, s) for p, s in remove if p not in reference_removes]
        if grouped is not None and keep:  # edited or stale decisions: only its scan's copies go
            homes = {group_of(grouped, p) for p, _ in keep} - {None}
            # A file outside the folders scanned is refused as such, later.
            stray = {
                p
                for p, _ in remove
                if group_of(grouped, p) not in homes and inside(p, plan.scanned)
            }
            plan.left.extend((p, NOT_GROUPED) for p in sorted(stray))
            remove = [(p, s) for p, s in remove if p not in stray]
        if not keep:
            if remove:
                plan.left.append(
                    (f"group {number}", "nothing marked keep: not removing every copy; left alone")
                )
            continue
        chosen.append((number, keep, remove))
    return _assemble(plan, chosen)
