"""A damaged row of the feature cache (a disk error, a hand edit) is a cache miss: its file
is decoded again and the row rewritten; the scan never fails for it."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

import neardup
from neardup.records import FileRef

PHOTOS = {"astro.png": ("astronaut", 200), "astro_copy.jpg": ("astronaut", 160)}


@pytest.mark.parametrize(
    "damage",
    [
        "data=randomblob(100)",  # "buffer is smaller than requested size", exit 2
        "data=NULL",  # TypeError traceback
        "meta='{}'",  # KeyError traceback
        "meta='not json'",
        "meta='[]'",
        "names=NULL",
        "names='{'",
    ],
)
def test_a_damaged_cache_row_is_computed_again_and_rewritten(
    damage: str,
    photo_dir: Callable[..., Path],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    folder = photo_dir(PHOTOS)
    cache = tmp_path / "cache.sqlite"
    first = neardup.scan([folder], cache=cache, workers=1, methods="pdq")
    with sqlite3.connect(cache) as db:
        db.execute(f"UPDATE items SET {damage} WHERE path LIKE '%astro_copy.jpg'")
    computed: list[str] = []
    real = neardup.pipeline.extract_batch

    def counting(files: list[FileRef], config: Any) -> Any:
        computed.extend(Path(ref.path).name for ref in files)
        return real(files, config)

    monkeypatch.setattr(neardup.pipeline, "extract_batch", counting)
    again = neardup.scan([folder], cache=cache, workers=1, methods="pdq")
    assert computed == ["astro_copy.jpg"]  # only the damaged row's file
    assert not again.skipped and len(again.pairs) == len(first.pairs) == 1
    computed.clear()
    neardup.scan([folder], cache=cache, workers=1, methods="pdq")
    assert computed == []  # the row was rewritten whole
