"""Loading a truth file: what is known of each image of an evaluation set (its group, edit,
source photo and split), the ground every score in `neardup.eval` is measured against.

The truth file (written by ``benchmarks/make_eval_set.py``) lists every image with its
``group`` (null for hard negatives), the ``edit`` that made it (``original``, ``crop``, ...,
or ``tile`` / ``frame`` for negatives), its ``source`` photo and its ``split`` (``calib`` or
``test``). Paths are relative to the truth file's folder; here they become absolute paths
normalised with ``os.path.realpath``, and so do the paths of the pairs evaluated.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from typing import NamedTuple

TRUTH_VERSION = 1
ORIGINAL = "original"


class TruthEntry(NamedTuple):
    """What the truth says about one image."""

    group: str | None
    edit: str
    source: str
    split: str | None


@dataclass
class Truth:
    """A loaded truth file: absolute real path -> what is true of that image."""

    images: dict[str, TruthEntry]

    def subset(self, split: str | None) -> dict[str, TruthEntry]:
        """The images of one split (all images when split is None)."""
        if split is None:
            return self.images
        return {path: entry for path, entry in self.images.items() if entry.split == split}


def load_truth(path: str) -> Truth:
    """Read a truth file; image paths become absolute real paths."""
    try:
        with open(path, encoding="utf-8") as file:
            data = json.load(file)
    except OSError as error:
        raise ValueError(f"cannot read {path}: {error.strerror or error}") from error
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise ValueError(f"{path} is not JSON: {error}") from error
    if not isinstance(data, dict) or data.get("version") != TRUTH_VERSION:
        raise ValueError(f"{path}: not a version {TRUTH_VERSION} truth file")
    folder = os.path.dirname(os.path.abspath(path))
    images: dict[str, TruthEntry] = {}
    for record in data.get("images", []):
        try:
            real = os.path.realpath(os.path.join(folder, record["path"]))
            entry = TruthEntry(
                record["group"], record["edit"], record["source"], record.get("split")
            )
        except (KeyError, TypeError) as error:
            what = f"no {error}" if isinstance(error, KeyError) else str(error)
            raise ValueError(f"{path}: bad image record {record!r} ({what})") from error
        if real in images:
            raise ValueError(f"{path}: {record['path']} is listed twice")
        images[real] = entry
    return Truth(images)
