"""Checking a scan result or decisions file before a plan is made from it: a malformed one
(a group without `keeper`, a path that is not a string, a size that is not an integer) is
refused as a whole with a one-line error (exit 2), never half-read: a field the checks rely
on that is garbled would otherwise be skipped silently (a `bytes` of "9163" is no size check).
"""

from __future__ import annotations

from typing import Any

INTEGERS = ("bytes", "mtime_ns", "width", "height")
"""Fields that are integers (or null / absent, in older results) wherever a file is named."""


class Malformed(ValueError):
    """A result or decisions file that cannot be acted on as written."""


def _entry(entry: object, where: str) -> None:
    if not isinstance(entry, dict):
        raise Malformed(f"{where} is not an object")
    path = entry.get("path")
    if not isinstance(path, str) or not path:
        raise Malformed(f"{where} has no `path` string")
    for name in INTEGERS:
        value = entry.get(name)
        # bool is an int in Python, but `true` is no size.
        if value is not None and (isinstance(value, bool) or not isinstance(value, int)):
            raise Malformed(f"{where} ({path}): `{name}` is {value!r}, not an integer")
    digest = entry.get("blake2b")
    if digest is not None and not isinstance(digest, str):
        raise Malformed(f"{where} ({path}): `blake2b` is {digest!r}, not a string")


def _entries(group: dict[str, Any], key: str, where: str) -> None:
    values = group.get(key, [])
    if not isinstance(values, list):
        raise Malformed(f"{where}: `{key}` is not a list")
    for n, entry in enumerate(values, 1):
        _entry(entry, f"{where} {key}[{n}]")


def _groups(doc: dict[str, Any]) -> list[Any]:
    groups = doc.get("groups")
    if not isinstance(groups, list):
        raise Malformed("no `groups` list")
    for number, group in enumerate(groups, 1):
        if not isinstance(group, dict):
            raise Malformed(f"group {number} is not an object")
    return groups


def check_result(doc: dict[str, Any]) -> None:
    """Raise Malformed unless every group of a scan result names its files as act needs them
    (and a leakage result says which split each paired file is in)."""
    for number, group in enumerate(_groups(doc), 1):
        if "keeper" not in group:
            raise Malformed(f"group {number} has no `keeper`")
        _entry(group["keeper"], f"group {number} keeper")
        _entries(group, "members", f"group {number}")
    leakage = doc.get("leakage")
    if leakage is None:
        return
    sets = leakage.get("sets") if isinstance(leakage, dict) else None
    if not isinstance(sets, list) or not all(
        isinstance(s, dict) and isinstance(s.get("name"), str) for s in sets
    ):
        raise Malformed("`leakage.sets` is not a list of named splits")
    pairs = doc.get("pairs", [])
    if not isinstance(pairs, list) or not all(
        isinstance(p, dict) and isinstance(p.get("a"), str) and isinstance(p.get("b"), str)
        for p in pairs
    ):
        raise Malformed("`pairs` is not a list of pairs with paths `a` and `b`")


def check_decisions(doc: dict[str, Any]) -> None:
    """Raise Malformed unless every group of a decisions file lists its files as act needs."""
    for number, group in enumerate(_groups(doc), 1):
        label = group.get("group", number)
        if isinstance(label, bool) or not isinstance(label, int):
            raise Malformed(f"group {number}: `group` is {label!r}, not an integer")
        _entries(group, "keep", f"group {label}")
        _entries(group, "remove", f"group {label}")
