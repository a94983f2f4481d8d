"""A damaged row of the feature cache (a disk error, a hand edit) is a cache miss: its file
is decoded again and the row rewritten; the scan never fails for it."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from contextlib import closing
from pathlib import Path

import pytest

import neardup
from neardup.cli import main
from neardup.records import FileRef
from neardup.store import FeatureStore, StoreError

Capture = pytest.CaptureFixture[str]
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
    computed: list[str],
) -> None:
    folder = photo_dir(PHOTOS)
    cache = tmp_path / "cache.sqlite"
    first = neardup.scan([folder], cache=cache, workers=1, methods="pdq")
    with sqlite3.connect(cache) as db:
        db.execute(f"UPDATE items SET {damage} WHERE path LIKE '%astro_copy.jpg'")
    computed.clear()  # counted from here: the rescan
    again = neardup.scan([folder], cache=cache, workers=1, methods="pdq")
    assert computed == ["astro_copy.jpg"]  # only the damaged row's file
    assert not again.skipped and len(again.pairs) == len(first.pairs) == 1
    computed.clear()
    neardup.scan([folder], cache=cache, workers=1, methods="pdq")
    assert computed == []  # the row was rewritten whole


def _overwrite_table(cache: Path, table: str) -> None:
    """Overwrite the root page of one table of the cache (a disk error past the first pages:
    the file still opens, reading that table fails with "database disk image is
    malformed")."""
    with closing(sqlite3.connect(cache)) as db:
        row = db.execute("SELECT rootpage FROM sqlite_master WHERE name=?", (table,)).fetchone()
        size = db.execute("PRAGMA page_size").fetchone()[0]
    with open(cache, "r+b") as file:
        file.seek((row[0] - 1) * size)
        file.write(b"\xff" * size)


@pytest.mark.parametrize(
    ("table", "command"),
    [("items", "query"), ("items", "build"), ("pairs", "duplicates")],
)
def test_a_damaged_cache_is_named_not_taken_for_a_damaged_index(
    table: str, command: str, photo_dir: Callable[..., Path], tmp_path: Path, capsys: Capture
) -> None:
    """A cache with a page overwritten made `index query` and `index build` say the index
    was damaged (exit 2, `index check` saying consistent), and `index duplicates` as well
    for the pairs kept in the cache's file."""
    folder = photo_dir(PHOTOS)
    cache, index = tmp_path / "cache.sqlite", tmp_path / "idx"
    common = ["--cache", str(cache), "-q", "--workers", "1"]
    assert main(["index", "build", str(folder), "--index", str(index), *common]) == 0
    assert main(["index", "duplicates", "--index", str(index), *common]) == 0
    _overwrite_table(cache, table)
    capsys.readouterr()
    target = str(index if command != "build" else tmp_path / "new")
    argv = {
        "query": ["index", "query", str(folder / "astro.png"), "--index", target, *common],
        "build": ["index", "build", str(folder), "--index", target, *common],
        "duplicates": ["index", "duplicates", "--index", target, *common],
    }[command]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"neardup: error: cannot use feature cache {cache}: "), err
    assert "--no-cache" in err and "is damaged" not in err and len(err.splitlines()) == 1
    assert main(["index", "check", "--index", str(index)]) == 0
    assert main([*argv, "--no-cache"]) == 0  # without the cache, the same command works


def test_a_damaged_cache_page_is_a_store_error_naming_the_cache(
    photo_dir: Callable[..., Path], tmp_path: Path
) -> None:
    folder = photo_dir(PHOTOS)
    cache = tmp_path / "cache.sqlite"
    neardup.scan([folder], cache=cache, workers=1, methods="pdq")
    _overwrite_table(cache, "sqlite_autoindex_items_1")  # what a lookup by path reads first
    refs = [FileRef(str(p), p.stat().st_size, p.stat().st_mtime_ns) for p in folder.iterdir()]
    with FeatureStore(cache) as store, pytest.raises(StoreError, match=str(cache)) as error:
        list(store.lookup(refs, {"pdq"}))
    assert "malformed" in str(error.value)
