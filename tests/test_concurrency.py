"""Several scans and index writers started at once on one new feature store all finish with
the same, correct answers: readers and writers wait for one another (bounded), never fail."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from neardup.examples import EDITS, bundled_photo

SRC = str(Path(__file__).resolve().parents[1] / "src")
PHOTOS = ("astronaut.png", "chelsea.png", "coffee.png", "rocket.jpg")


@pytest.fixture(scope="module")
def halves(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    root = tmp_path_factory.mktemp("shared")
    first, second = root / "first", root / "second"
    first.mkdir()
    second.mkdir()
    for n, name in enumerate(PHOTOS):
        image = bundled_photo("skimage", name)
        assert image is not None
        image.thumbnail((256, 256))
        stem = Path(name).stem
        image.save(first / f"{stem}.jpg", quality=92)
        for kind in ("small", "crop", "grey"):
            folder = second if n % 2 else first
            EDITS[kind](image).save(folder / f"{stem}_{kind}.jpg", quality=85)
    return first, second


def _neardup(*argv: str) -> subprocess.Popen[bytes]:
    env = {**os.environ, "PYTHONPATH": SRC}
    return subprocess.Popen(
        [sys.executable, "-m", "neardup", *argv],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )


def _groups(result_file: Path) -> set[frozenset[str]]:
    result = json.loads(result_file.read_text())
    return {
        frozenset([g["keeper"]["path"], *(m["path"] for m in g["members"])])
        for g in result["groups"]
    }


def test_scans_and_index_writers_at_once_on_a_new_store(
    tmp_path: Path, halves: tuple[Path, Path]
) -> None:
    first, second = halves
    index = tmp_path / "idx"
    seed = _neardup(
        "index",
        "build",
        str(first / "astronaut.jpg"),
        "--index",
        str(index),
        "--no-cache",
        "--workers",
        "1",
    )
    assert seed.wait(timeout=300) == 0, seed.communicate()[1].decode()
    cache = str(tmp_path / "new" / "features.sqlite")  # nobody has made it yet
    common = ("--cache", cache, "--workers", "1")
    runs = [
        _neardup(
            "scan",
            str(first),
            str(second),
            "-q",
            "--json",
            str(tmp_path / f"scan{n}.json"),
            *common,
        )
        for n in range(3)
    ]
    runs += [
        _neardup("index", "add", str(folder), "--index", str(index), *common)
        for folder in (first, second)
    ]
    for run in runs:
        _, err = run.communicate(timeout=600)
        assert run.returncode in (0, 1), err.decode()
        assert b"locked" not in err, err.decode()
    groups = [_groups(tmp_path / f"scan{n}.json") for n in range(3)]
    assert groups[0] == groups[1] == groups[2]
    assert len(groups[0]) == len(PHOTOS)
    listed = _neardup(
        "index",
        "duplicates",
        "--index",
        str(index),
        "--json",
        str(tmp_path / "index.json"),
        "--workers",
        "1",
    )
    assert listed.wait(timeout=300) in (0, 1), listed.communicate()[1].decode()
    assert _groups(tmp_path / "index.json") == groups[0]
