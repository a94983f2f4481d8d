"""A file that two sets hold (a link, a hard link, overlapping folders, the indexed file itself)
leaks, so it is named, apart from the pairs (`leakage.sets[].same_files`), and `act` never
removes the reference's file through it; `--against-index` reads such files as `--against`
does and makes each scanned path a set of its own."""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from PIL import Image, ImageOps

from neardup.cli import main

Photo = Callable[..., Image.Image]
QUIET = ["--no-cache", "-q"]


def _scan(argv: list[str], out: Path) -> dict[str, Any]:
    main([*argv, *QUIET, "--json", str(out)])
    doc: dict[str, Any] = json.loads(out.read_text())
    return doc


def _sets(doc: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {s["name"]: s for s in doc["leakage"]["sets"]}


def _named(split: dict[str, Any]) -> set[tuple[str, str]]:
    return {(Path(f["a"]).name, Path(f["b"]).name) for f in split["same_files"]}


def _listed_leaks(doc: dict[str, Any], name: str) -> set[str]:
    """The files of set `name` that the result names as leaking: `b` of its pairs at the
    cut, and of its same files."""
    cut = doc["settings"]["threshold"]
    pairs = {p["b"] for p in doc["pairs"] if p["sets"][1] == name and p["confidence"] >= cut}
    return pairs | {f["b"] for f in _sets(doc)[name]["same_files"]}


@pytest.fixture
def splits(photo: Photo, tmp_path: Path) -> tuple[Path, Path, Path]:
    """train (coffee, moon, chelsea, astronaut), val (a mirrored coffee, a symbolic link to
    train's moon, a hard link to train's chelsea, a rocket), test (a mirrored astronaut)."""
    train, val, test = (tmp_path / "L" / n for n in ("train", "val", "test"))
    for folder in (train, val, test):
        folder.mkdir(parents=True)
    for name in ("coffee", "moon", "chelsea", "astronaut"):
        photo(name, 200).save(train / f"{name}.png")
    ImageOps.mirror(photo("coffee", 200)).save(val / "coffee_mirror.jpg", quality=90)
    os.symlink(os.path.join("..", "train", "moon.png"), val / "moon_link.png")
    os.link(train / "chelsea.png", val / "chelsea_hard.png")
    photo("rocket", 200).save(val / "rocket.png")
    ImageOps.mirror(photo("astronaut", 200)).save(test / "astro_mirror.jpg", quality=90)
    return train, val, test


def test_against_names_every_leaking_file(
    splits: tuple[Path, Path, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The link and the hard link were counted (leaking 3, same_file 2) but named nowhere:
    not in pairs[], groups[] or the table. Now each is named, and the counts are what is
    listed."""
    train, val, _ = splits
    doc = _scan(["scan", str(train), "--against", str(val)], tmp_path / "leak.json")
    split = _sets(doc)["val"]
    assert split["same_file"] == len(split["same_files"]) == 2
    assert _named(split) == {("moon.png", "moon_link.png"), ("chelsea.png", "chelsea_hard.png")}
    assert all(f["sets"] == ["train", "val"] for f in split["same_files"])
    assert split["leaking"][doc["settings"]["preset"]] == len(_listed_leaks(doc, "val")) == 3
    assert split["pairs"] == 1  # the mirror; a same file is in no pair
    # In no pair and no group: a pair's `b` is the copy to drop, which a same file may not be.
    named = {p["b"] for p in doc["pairs"]} | {
        m["path"] for g in doc["groups"] for m in g["members"]
    }
    assert not any(Path(p).name in ("moon_link.png", "chelsea_hard.png") for p in named)
    capsys.readouterr()
    argv = ["scan", str(train), "--against", str(val), "--no-cache", "--fail-on-duplicates"]
    assert main(argv) == 1
    table = capsys.readouterr().out
    assert f"{val / 'moon_link.png'}: the very file of train's {train / 'moon.png'}" in table
    assert str(val / "chelsea_hard.png") in table


def test_overlapping_folders_name_the_same_path_and_act_keeps_it(
    splits: tuple[Path, Path, Path], tmp_path: Path
) -> None:
    """`scan L --against L/val`: val's files are the reference's too, under the very same
    path. They are named (a == b), and act, which works on groups, leaves every one alone:
    dropping `b` would remove the reference's file."""
    train, val, _ = splits
    root = train.parent
    doc = _scan(["scan", str(root), "--against", str(val)], tmp_path / "leak.json")
    split = _sets(doc)["val"]
    assert split["same_file"] == len(split["same_files"]) == split["images"] == 4
    same_path = {Path(f["b"]).name for f in split["same_files"] if f["a"] == f["b"]}
    assert same_path == {"coffee_mirror.jpg", "rocket.png"}
    before = {p: p.read_bytes() for p in root.rglob("*") if p.is_file()}
    journal = tmp_path / "j.jsonl"
    act = ["act", str(tmp_path / "leak.json"), "--move", str(tmp_path / "held"), "--yes"]
    assert main([*act, "--journal", str(journal)]) == 0
    assert {p: p.read_bytes() for p in root.rglob("*") if p.is_file()} == before
    assert (val / "moon_link.png").is_symlink()


def test_against_index_reads_the_indexed_file_as_the_same_file(
    splits: tuple[Path, Path, Path], tmp_path: Path
) -> None:
    """Scanning the indexed folder listed each file as a pair with itself (a = the stored
    absolute path, b = the path as given, same_file 0), and a link in val as an ordinary
    pair: "drop b" would drop the indexed file. Now they are same files, as with
    --against, in no pair and no group; act leaves the indexed files alone."""
    train, val, _ = splits
    index = tmp_path / "idx"
    assert main(["index", "build", str(train), "--index", str(index), *QUIET]) == 0
    doc = _scan(["scan", str(train), "--against-index", str(index)], tmp_path / "self.json")
    split = _sets(doc)["train"]
    assert doc["pairs"] == [] and doc["groups"] == []
    assert split["same_file"] == len(split["same_files"]) == split["images"] == 4
    assert all(Path(f["a"]).resolve() == Path(f["b"]).resolve() for f in split["same_files"])
    assert set(split["leaking"].values()) == {4}
    out = tmp_path / "val.json"
    doc = _scan(["scan", str(val), "--against-index", str(index)], out)
    split = _sets(doc)["val"]
    assert _named(split) == {("moon.png", "moon_link.png"), ("chelsea.png", "chelsea_hard.png")}
    assert {Path(p["b"]).name for p in doc["pairs"]} == {"coffee_mirror.jpg"}
    assert split["leaking"][doc["settings"]["preset"]] == len(_listed_leaks(doc, "val")) == 3
    assert split["images"] == 4 and split["pairs"] == 1
    fail = ["scan", str(train), "--against-index", str(index), *QUIET, "--fail-on-duplicates"]
    assert main(fail) == 1  # no pair, yet every file leaks
    before = {p: p.read_bytes() for p in train.iterdir()}
    act = ["act", str(out), "--move", str(tmp_path / "held"), "--root", str(val), "--yes"]
    assert main([*act, "--journal", str(tmp_path / "j.jsonl")]) == 0
    assert {p: p.read_bytes() for p in train.iterdir()} == before
    assert not (val / "coffee_mirror.jpg").exists()
    assert (val / "moon_link.png").is_symlink() and (val / "chelsea_hard.png").exists()


def test_against_index_makes_each_path_a_set(
    splits: tuple[Path, Path, Path], photo: Photo, tmp_path: Path
) -> None:
    """`scan TEST VAL --against-index IDX` made one set named `test` of both folders, so
    val's leaks were told as test's. Each path is now a set, named as --against names them,
    and a later set's copy of an earlier scanned set's image leaks too."""
    train, val, test = splits
    photo("camera", 200).save(test / "camera.png")
    ImageOps.mirror(photo("camera", 200)).save(val / "camera_mirror.jpg", quality=90)
    index = tmp_path / "idx"
    assert main(["index", "build", str(train), "--index", str(index), *QUIET]) == 0
    argv = ["scan", str(test), str(val), "--against-index", str(index)]
    doc = _scan(argv, tmp_path / "two.json")
    assert [s["name"] for s in doc["leakage"]["sets"]] == ["idx", "test", "val"]
    sets = _sets(doc)
    assert (sets["test"]["images"], sets["val"]["images"]) == (2, 5)
    assert sets["test"]["paths"] == [str(test)] and sets["val"]["paths"] == [str(val)]
    found = {(Path(p["a"]).name, Path(p["b"]).name, tuple(p["sets"])) for p in doc["pairs"]}
    assert found == {
        ("astronaut.png", "astro_mirror.jpg", ("idx", "test")),
        ("coffee.png", "coffee_mirror.jpg", ("idx", "val")),
        ("camera.png", "camera_mirror.jpg", ("test", "val")),
    }
    preset = doc["settings"]["preset"]
    assert sets["test"]["leaking"][preset] == len(_listed_leaks(doc, "test")) == 1
    assert sets["val"]["leaking"][preset] == len(_listed_leaks(doc, "val")) == 4
    # Two folders of one name are two sets, as with --against.
    again = tmp_path / "again" / "test"
    again.mkdir(parents=True)
    ImageOps.mirror(photo("moon", 200)).save(again / "moon_mirror.jpg", quality=90)
    doc = _scan(["scan", str(test), str(again), "--against-index", str(index)], tmp_path / "x.json")
    assert [s["name"] for s in doc["leakage"]["sets"]] == ["idx", "test", "test#3"]


def test_against_index_takes_files_given_one_by_one_as_one_set(
    splits: tuple[Path, Path, Path], photo: Photo, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A review: files listed on stdin (or a glob) became a set each, so a copy within the
    scanned files counted as a leak between "sets" and --fail-on-duplicates failed. Files
    given one by one are one set; each folder is still its own."""
    import io
    import sys

    train, _, test = splits
    photo("rocket", 300).save(test / "rocket.png")
    photo("rocket", 200).save(test / "rocket_small.jpg", quality=90)
    index = tmp_path / "idx"
    assert main(["index", "build", str(train), "--index", str(index), *QUIET]) == 0
    files = sorted(str(p) for p in test.iterdir())
    monkeypatch.setattr(sys, "stdin", io.StringIO("\n".join(files) + "\n"))
    doc = _scan(["scan", "-", "--against-index", str(index)], tmp_path / "stdin.json")
    assert [s["name"] for s in doc["leakage"]["sets"]] == ["idx", "test"]
    assert {Path(p["b"]).name for p in doc["pairs"]} == {"astro_mirror.jpg"}
    check = ["--against-index", str(index), "--fail-on-duplicates", *QUIET]
    assert main(["scan", *files, *check]) == 1  # the one real leak
    rockets = [f for f in files if "rocket" in f]
    assert main(["scan", *rockets, *check]) == 0  # a copy within the set is no leak


def test_against_index_records_the_scanned_folders(
    splits: tuple[Path, Path, Path], tmp_path: Path
) -> None:
    """settings.folders was null for an index scan: act then guessed its root from the
    splits' paths, the index's folder among them. It is the scanned folders, as given."""
    train, val, test = splits
    index = tmp_path / "idx"
    assert main(["index", "build", str(train), "--index", str(index), *QUIET]) == 0
    given = [str(test), str(val / "rocket.png")]
    doc = _scan(["scan", *given, "--against-index", str(index)], tmp_path / "f.json")
    assert doc["settings"]["folders"] == [str(test), str(val)]
