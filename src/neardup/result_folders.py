"""The folders a scan result (JSON) records that the scan was given, as it wrote them: what
`act` keeps to, and what the report passes on to the decisions it exports."""

from __future__ import annotations

from typing import Any


def recorded_folders(doc: dict[str, Any]) -> list[str]:
    """A scan's `settings.folders`, or a leakage result's splits' paths; empty where the result
    does not record them (older results, an index's duplicates)."""
    settings = doc.get("settings")
    folders = settings.get("folders") if isinstance(settings, dict) else None
    if isinstance(folders, list) and folders:
        return [str(path) for path in folders]
    leakage = doc.get("leakage")
    sets = leakage.get("sets") if isinstance(leakage, dict) else None
    if not isinstance(sets, list):
        return []
    return [
        str(path)
        for split in sets
        if isinstance(split, dict) and isinstance(split.get("paths"), list)
        for path in split["paths"]
    ]
