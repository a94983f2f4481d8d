"""Reading the files act is given, and the paths in them: a result or decisions file, a path
against its base, whether a path lies in a folder."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from neardup.result_folders import recorded_folders


def absolute(path: str, base: str) -> str:
    return os.path.normpath(os.path.join(base, os.path.expanduser(path)))


def under(path: str, folder: str) -> bool:
    """Whether `path` is `folder` or inside it (both absolute and normalised)."""
    return path == folder or path.startswith(folder.rstrip(os.sep) + os.sep)


def load_document(source: str | Path) -> dict[str, Any]:
    try:
        doc = json.loads(Path(source).read_text(encoding="utf-8"))
    except OSError as error:
        raise ValueError(f"cannot read {source}: {error.strerror or error}") from error
    except json.JSONDecodeError as error:
        raise ValueError(f"{source} is not JSON: {error}") from error
    if not isinstance(doc, dict) or not isinstance(doc.get("schema"), str):
        raise ValueError(f"{source} has no `schema`: not a neardup result or decisions file")
    return doc


def scanned_folders(doc: dict[str, Any], base: str) -> list[str]:
    """The folders the scan was given, absolute, where the result records them."""
    return [absolute(path, base) for path in recorded_folders(doc)]
