"""The scan result as JSON, schema `neardup.scan/2` (documented in docs/schema.md).

Versioned: a consumer checks `schema`; fields are only ever added within a major version.
"""

from __future__ import annotations

import json
import os
from typing import Any

from neardup.output.differences import swapped
from neardup.output.differences import to_dict as differences_dict
from neardup.records import Features, Pair, ScanResult
from neardup.version import __version__

SCHEMA = "neardup.scan/2"


def _image(f: Features) -> dict[str, Any]:
    return {
        "path": f.path,
        "frame": f.frame,
        "time": f.time,
        "width": f.width,
        "height": f.height,
        "bytes": f.size,
        "format": f.format,
        "mtime_ns": f.mtime_ns,
        "blake2b": f.bytes_hash or None,  # None: not known (an exact copy an index recorded)
    }


def _round(scores: dict[str, float]) -> dict[str, float]:
    return {k: round(v, 4) for k, v in scores.items()}


def _pair(result: ScanResult, pair: Pair) -> dict[str, Any]:
    a, b = result.images[pair.a], result.images[pair.b]
    out: dict[str, Any] = {
        "a": a.path,
        "a_frame": a.frame,
        "a_time": a.time,
        "b": b.path,
        "b_frame": b.frame,
        "b_time": b.time,
        "similarity": round(pair.similarity, 4),
        "confidence": round(pair.confidence, 4),
        "evidence": pair.evidence,
        "scores": _round(pair.scores),
    }
    if pair.own_confidence is not None:  # the confidence was read with the pair's groups
        out["own_confidence"] = round(pair.own_confidence, 4)
    if pair.differences is not None:
        out["differences"] = differences_dict(pair.differences)
    if result.leakage is not None:
        names = [s.name for s in result.leakage.sets]
        out["sets"] = [names[result.leakage.labels[pair.a]], names[result.leakage.labels[pair.b]]]
    return out


def _leakage(result: ScanResult) -> dict[str, Any] | None:
    """The per-set summary of a leakage scan (`neardup scan A --against B`), or None."""
    if result.leakage is None:
        return None
    sets = result.leakage.sets
    return {
        "reference": sets[0].name,
        "sets": [
            {"name": s.name, "paths": s.paths, "images": s.images}
            | (
                {}
                if n == 0
                else {
                    "leaking": s.leaking,
                    "share": {
                        k: round(v / s.images, 4) if s.images else 0.0 for k, v in s.leaking.items()
                    },
                    "same_file": s.same_file,
                    "pairs": s.pairs,
                    # Named here, not in pairs[]: `b` may be the reference's own file.
                    "same_files": [
                        {"a": f.reference, "b": f.path, "sets": [sets[f.earlier].name, s.name]}
                        for f in s.same_files
                    ],
                }
            )
            for n, s in enumerate(sets)
        ],
    }


def to_dict(result: ScanResult) -> dict[str, Any]:
    """Plain data, ready for json.dumps."""
    by_pair = {(min(p.a, p.b), max(p.a, p.b)): p for p in result.pairs}
    groups = []
    for group in result.groups:
        members = []
        for index, similarity in group.members:
            other = group.via.get(index, group.keeper)
            pair = by_pair[(min(other, index), max(other, index))]
            member = _image(result.images[index]) | {
                "matched": result.path(other),
                "matched_frame": result.images[other].frame,
                "matched_time": result.images[other].time,
                "similarity": round(similarity, 4),
                "confidence": round(pair.confidence, 4),
                "evidence": pair.evidence,
                "scores": _round(pair.scores),
            }
            if pair.differences is not None:  # told as: how this member differs from matched
                told = pair.differences if pair.b == index else swapped(pair.differences)
                member["differences"] = differences_dict(told)
            members.append(member)
        groups.append({"keeper": _image(result.images[group.keeper]), "members": members})
    return {
        "schema": SCHEMA,
        "neardup": __version__,
        "cwd": os.getcwd(),
        "settings": result.settings,
        "stats": {
            "files_found": result.stats.files_found,
            "images": result.stats.images,
            "skipped": result.stats.skipped,
            "ignored": result.stats.ignored,
            "from_cache": result.stats.from_cache,
            "candidates": result.stats.candidates,
            "pairs": result.stats.pairs,
            "groups": result.stats.groups,
            "seconds": result.stats.seconds,
        },
        "groups": groups,
        "pairs": [_pair(result, p) for p in result.pairs],
        "skipped": [{"path": s.path, "reason": s.reason} for s in result.skipped],
    } | ({"leakage": _leakage(result)} if result.leakage is not None else {})


def dumps(result: ScanResult) -> str:
    """The report as JSON: indented at the top, one line per group, pair and skipped file."""
    return lines(to_dict(result))


def lines(data: dict[str, Any]) -> str:
    """`data` as JSON with each item of a top-level list on its own compact line: as easy to
    read and to grep as indented JSON, and written by json's C encoder (`indent` makes it
    fall back to the Python one, a twentieth of a hash-only scan's time on 3,000 pairs)."""
    fields = []
    for key, value in data.items():
        if isinstance(value, list) and value:
            items = ",\n".join("    " + json.dumps(item) for item in value)
            fields.append(f"  {json.dumps(key)}: [\n{items}\n  ]")
        else:
            fields.append(f"  {json.dumps(key)}: {json.dumps(value)}")
    return "{\n" + ",\n".join(fields) + "\n}"
