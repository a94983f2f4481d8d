"""The scan behind a decisions file: the folders it was given, and its groups, which every
file marked remove must share with a file kept (an edited or stale decisions file would
otherwise remove another picture)."""

from __future__ import annotations

import os
from typing import Any

from neardup.actions.documents import absolute, load_document, scanned_folders, under

Scan = tuple[dict[str, Any], str]
"""A scan result, with the folder its paths are read against."""


def decided_folders(doc: dict[str, Any], base: str, scanned: Scan | None) -> list[str]:
    """The folders the scan behind a decisions file was given: its `folders` (the report
    writes them), else those of the result it names where that file is still there; empty
    where neither tells (a file written by hand: its paths are judged as written)."""
    folders = doc.get("folders")
    if isinstance(folders, list) and folders:
        return [absolute(str(path), base) for path in folders]
    return [] if scanned is None else scanned_folders(*scanned)


def scan_behind(doc: dict[str, Any], base: str, said: bool) -> Scan | None:
    """The scan result a decisions file names, with the folder its paths are read against,
    where that file is still there and tells."""
    result = doc.get("result")
    if not isinstance(result, str) or not result:
        return None
    try:
        scanned = load_document(absolute(result, base))
    except ValueError:
        return None
    if not str(scanned["schema"]).startswith("neardup.scan/"):
        return None
    cwd = scanned.get("cwd")
    if not said and not isinstance(cwd, str):
        return None
    # Against the decisions' own base (--base or their `cwd`) where said, as their paths.
    return scanned, base if said else str(cwd)


def scanned_groups(scanned: Scan | None) -> dict[str, int] | None:
    """Each file of the scan behind a decisions file (absolute path) -> its group's number;
    None where that scan cannot be read (a file written by hand is judged as written)."""
    if scanned is None or not isinstance(scanned[0].get("groups"), list):
        return None
    result, at = scanned
    found: dict[str, int] = {}
    for number, group in enumerate(result["groups"], 1):
        for entry in [group.get("keeper", {}), *group.get("members", [])]:
            if isinstance(entry, dict) and isinstance(entry.get("path"), str):
                path = absolute(entry["path"], at)
                found[path] = found[os.path.realpath(path)] = number
    return found


def inside(path: str, scanned: list[str]) -> bool:
    """Inside the folders scanned as written or once links are resolved (as the bounds check
    accepts it: a review spelled a removal through a linked folder)."""
    real = os.path.realpath(path)
    return not scanned or any(
        under(path, folder) or under(real, os.path.realpath(folder)) for folder in scanned
    )


def group_of(grouped: dict[str, int], path: str) -> int | None:
    """The scan group of `path`, as written or once links are resolved."""
    found = grouped.get(path)
    return found if found is not None else grouped.get(os.path.realpath(path))


NOT_GROUPED = (
    "not in one scan group with a file kept: left alone (the decisions do not match their scan)"
)
