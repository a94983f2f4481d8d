"""Leakage between sets: only pairs across sets, turned so `b` is in the later set, and per
later set the images with a near-copy in an earlier one, at each preset."""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from PIL import Image, ImageOps

from neardup.cli import main
from neardup.leakage import SetPlan, split_pairs
from neardup.records import Features, FileRef, Pair

PRESETS = {"strict": 0.99, "default": 0.9, "loose": 0.4}


def _image(path: str) -> Features:
    return Features(path, 1, 0, 8, 8, "PNG", path, None)


def test_split_pairs_counts_per_preset_and_turns_pairs() -> None:
    paths = ["tr/a", "tr/b", "te/c", "te/d", "te/e", "va/f"]
    files = [FileRef(p, 1, 0, 1, n) for n, p in enumerate(paths)]
    sets = SetPlan(
        ["train", "test", "val"],
        [["tr"], ["te"], ["va"]],
        [{(1, 0), (1, 1)}, {(1, 2), (1, 3), (1, 4), (1, 1)}, {(1, 5)}],  # tr/b is also in te
    )
    pairs = [
        Pair(2, 0, 0.95, 0.95, {}, "sscd"),  # test c - train a, given the other way round
        Pair(0, 3, 0.5, 0.5, {}, "sscd"),  # test d: only at the loose cut
        Pair(0, 1, 1.0, 1.0, {}, "exact"),  # within train: not leakage
        Pair(3, 4, 1.0, 1.0, {}, "exact"),  # within test: not leakage
        Pair(5, 2, 0.995, 0.995, {}, "pdq"),  # val f - test c: test is earlier than val
    ]
    images = [_image(p) for p in paths]
    kept, leakage = split_pairs(sets, files, images, pairs, PRESETS, keep=0.9)
    assert [(images[p.a].path, images[p.b].path) for p in kept] == [
        ("tr/a", "te/c"),
        ("te/c", "va/f"),
    ]
    assert leakage.labels == [0, 0, 1, 1, 1, 2]
    train, test, val = leakage.sets
    assert (train.images, test.images, val.images) == (2, 4, 1)  # tr/b counted in test too
    assert test.same_file == 1 and test.pairs == 1
    # c at default; d only at loose; tr/b (the same file) at every preset.
    assert test.leaking == {"strict": 1, "default": 2, "loose": 3}
    assert val.leaking == {"strict": 1, "default": 1, "loose": 1}
    assert train.leaking == {}


def test_scan_against_cli(photo: Callable[..., Image.Image], tmp_path: Path) -> None:
    train, test, val = (tmp_path / n for n in ("train", "test", "val"))
    for folder in (train, test, val):
        folder.mkdir()
    coffee, astro, moon = (photo(n, 320) for n in ("coffee", "astronaut", "moon"))
    coffee.save(train / "coffee.png")
    coffee.save(train / "coffee_again.jpg", quality=95)  # a copy inside train: not reported
    astro.save(train / "astro.png")
    ImageOps.mirror(coffee).save(test / "coffee_mirror.jpg", quality=90)
    moon.save(test / "moon.png")
    astro.resize((160, 160)).save(val / "astro_small.jpg", quality=85)
    os.link(train / "astro.png", val / "astro_link.png")  # the very file, in val too
    out = tmp_path / "out.json"
    argv = ["scan", str(train), "--against", str(test), str(val), "--no-cache", "-q"]
    assert main([*argv, "--json", str(out)]) == 0
    doc = json.loads(out.read_text())
    leakage = doc["leakage"]
    assert leakage["reference"] == "train"
    by_name = {s["name"]: s for s in leakage["sets"]}
    assert by_name["train"]["images"] == 3 and "leaking" not in by_name["train"]
    assert by_name["test"]["images"] == 2 and by_name["test"]["leaking"]["default"] == 1
    assert by_name["val"]["same_file"] == 1 and by_name["val"]["leaking"]["default"] == 2
    assert doc["pairs"]
    for pair in doc["pairs"]:
        first, second = pair["sets"]
        assert first != second
        assert Path(pair["a"]).parent.name == first and Path(pair["b"]).parent.name == second
    names = {frozenset((Path(p["a"]).name, Path(p["b"]).name)) for p in doc["pairs"]}
    assert frozenset(("coffee.png", "coffee_again.jpg")) not in names  # both in train
    assert frozenset(("coffee.png", "coffee_mirror.jpg")) in names
    # act drops the leaking copies from the later splits and never touches the reference.
    before = {p: p.read_bytes() for p in train.iterdir()}
    held = tmp_path / "held"
    act = ["act", str(out), "--move", str(held), "--yes", "--journal", str(tmp_path / "j.jsonl")]
    assert main(act) == 0
    assert {p: p.read_bytes() for p in train.iterdir()} == before
    assert not (test / "coffee_mirror.jpg").exists() and (test / "moon.png").exists()
    assert not (val / "astro_small.jpg").exists()
    moved = {p.name for p in held.rglob("*") if p.is_file()}
    assert {"coffee_mirror.jpg", "astro_small.jpg"} <= moved
    assert not moved & {p.name for p in train.iterdir()} - {"astro_link.png"}
    # A mistyped split must not pass as "no leak": a usage error; a split with no image, 3.
    typo = ["scan", str(train), "--against", str(tmp_path / "tset"), "--no-cache", "-q"]
    assert main([*typo, "--fail-on-duplicates"]) == 2
    (tmp_path / "tset").mkdir()
    assert main([*typo, "--fail-on-duplicates"]) == 3


def test_the_very_same_file_in_two_sets_fails_a_leakage_check(
    photo: Callable[..., Image.Image], tmp_path: Path
) -> None:
    """A file in both sets (a link, or folders that overlap) is in no pair, but it leaks:
    the check must fail, as it does against an index."""
    train, test = tmp_path / "train", tmp_path / "test"
    train.mkdir()
    test.mkdir()
    photo("coffee", 200).save(train / "coffee.png")
    photo("moon", 200).save(test / "moon.png")
    check = ["--no-cache", "-q", "--fail-on-duplicates"]
    assert main(["scan", str(train), "--against", str(test), *check]) == 0
    os.link(train / "coffee.png", test / "coffee_link.png")
    assert main(["scan", str(train), "--against", str(test), *check]) == 1
    assert main(["scan", str(tmp_path), "--against", str(test), *check]) == 1


def test_scan_against_an_index(photo: Callable[..., Image.Image], tmp_path: Path) -> None:
    """The index is the reference: only (stored, new) pairs, an exact copy leaks too."""
    train, test = tmp_path / "train", tmp_path / "test"
    train.mkdir()
    test.mkdir()
    coffee, astro, moon = (photo(n, 320) for n in ("coffee", "astronaut", "moon"))
    coffee.save(train / "coffee.png")
    astro.save(train / "astro.png")
    ImageOps.mirror(coffee).save(test / "coffee_mirror.jpg", quality=90)
    ImageOps.mirror(coffee).save(test / "coffee_mirror_again.png")  # within test: not leakage
    (test / "astro_copy.png").write_bytes((train / "astro.png").read_bytes())
    moon.save(test / "moon.png")
    index = tmp_path / "idx"
    assert main(["index", "build", str(train), "--index", str(index), "--no-cache"]) == 0
    out = tmp_path / "out.json"
    argv = ["scan", str(test), "--against-index", str(index), "--no-cache", "-q"]
    assert main([*argv, "--json", str(out)]) == 0
    doc = json.loads(out.read_text())
    idx, later = doc["leakage"]["sets"]
    assert (idx["name"], idx["images"], later["name"], later["images"]) == ("idx", 2, "test", 4)
    assert later["leaking"]["default"] == 3  # both mirrors and the byte copy; not the moon
    names = {(Path(p["a"]).name, Path(p["b"]).name) for p in doc["pairs"]}
    assert ("astro.png", "astro_copy.png") in names
    assert ("coffee.png", "coffee_mirror.jpg") in names
    assert all(Path(p["a"]).parent.name == "train" for p in doc["pairs"])
    assert all(p["sets"] == ["idx", "test"] for p in doc["pairs"])
    copy = next(p for p in doc["pairs"] if Path(p["b"]).name == "astro_copy.png")
    assert copy["differences"]["kinds"] == ["identical file"]
    argv += ["--against", str(train)]
    assert main(argv) == 2  # one reference only
    hashes = ["scan", str(test), "--against-index", str(index), "--method", "pdq", "-q"]
    assert main(hashes) == 2  # the index's methods are used: an ignored option is refused


def test_leakage_counts_do_not_depend_on_the_preset_given(
    photo: Callable[..., Image.Image], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Each preset's count needs the geometric check wherever it could change that preset's
    verdict: the check runs at the loosest preset's cut, whichever preset the scan was given."""
    import neardup
    from neardup import pipeline
    from neardup.scoring import PRESETS

    train, test = tmp_path / "train", tmp_path / "test"
    train.mkdir()
    test.mkdir()
    coffee = photo("coffee", 200)
    coffee.save(train / "coffee.png")
    coffee.crop((0, 0, 170, 170)).save(test / "coffee_crop.jpg", quality=90)
    photo("moon", 200).save(test / "moon.png")
    cuts: list[tuple[float, ...]] = []
    real = pipeline.verify_pairs

    def spy(images: Any, scored: Any, methods: Any, at: Any, engine: Any, **kw: Any) -> None:
        cuts.append(at if isinstance(at, tuple) else (at,))
        real(images, scored, methods, at, engine, **kw)

    monkeypatch.setattr(pipeline, "verify_pairs", spy)
    counts = []
    for preset in PRESETS:
        result = neardup.scan(
            [train], against=[test], preset=preset, cache=False, workers=1, differences="none"
        )
        assert result.leakage is not None
        counts.append(result.leakage.sets[1].leaking)
    loosest = min(PRESETS.values())  # the check runs where it matters there, too
    assert len(cuts) == len(PRESETS) and all(loosest in c for c in cuts)
    assert counts[0] == counts[1] == counts[2]


def _train_and_test(photo: Callable[..., Image.Image], tmp_path: Path) -> tuple[Path, Path]:
    """train/ (four photos) and test/ (a mirrored astronaut, and a cropped, grey, turned
    coffee at JPEG quality 50: a copy only the loose preset finds)."""
    train, test = tmp_path / "train", tmp_path / "test"
    train.mkdir()
    test.mkdir()
    for name in ("coffee", "astronaut", "chelsea", "rocket"):
        photo(name, 320).save(train / f"{name}.png")
    ImageOps.mirror(photo("astronaut", 320)).save(test / "astro_mirror.jpg", quality=90)
    coffee = photo("coffee", 320)
    w, h = coffee.size
    edited = ImageOps.grayscale(coffee.crop((0, 0, int(w * 0.7), int(h * 0.75)))).rotate(6)
    edited.save(test / "coffee_edited.jpg", quality=50)
    return train, test


def test_scan_against_an_index_takes_scans_options(
    photo: Callable[..., Image.Image], tmp_path: Path
) -> None:
    """--keep-below lists pairs under the cut (not counted as pairs, never grouped),
    --max-pixels refuses bigger pictures, as in a scan of folders."""
    train, test = _train_and_test(photo, tmp_path)
    photo("camera", 600).save(test / "camera_big.png")
    index = tmp_path / "idx"
    assert main(["index", "build", str(train), "--index", str(index), "--no-cache", "-q"]) == 0
    out, default = tmp_path / "out.json", tmp_path / "default.json"
    argv = ["scan", str(test), "--against-index", str(index), "--no-cache", "-q"]
    assert main([*argv, "--json", str(out), "--keep-below", "0", "--max-pixels", "200000"]) == 0
    doc = json.loads(out.read_text())
    cut = doc["settings"]["threshold"]
    assert doc["settings"]["keep_below"] == 0 and doc["settings"]["max_pixels"] == 200_000
    listed = {Path(p["b"]).name: p["confidence"] for p in doc["pairs"]}
    assert listed["astro_mirror.jpg"] >= cut > listed["coffee_edited.jpg"]
    assert doc["stats"]["pairs"] == sum(c >= cut for c in listed.values()) == 1
    grouped = {Path(m["path"]).name for g in doc["groups"] for m in g["members"]}
    assert grouped == {"astro_mirror.jpg"}
    assert doc["leakage"]["sets"][1]["leaking"]["loose"] == 2
    [skipped] = doc["skipped"]
    assert skipped["path"].endswith("camera_big.png") and "--max-pixels" in skipped["reason"]
    assert main([*argv, "--json", str(default)]) == 0
    plain = json.loads(default.read_text())
    assert {Path(p["b"]).name for p in plain["pairs"]} == {"astro_mirror.jpg"}
    assert plain["leakage"]["sets"][1]["leaking"] == doc["leakage"]["sets"][1]["leaking"]
    assert plain["skipped"] == []


def test_keep_below_lists_pairs_but_does_not_count_them_against_folders(
    photo: Callable[..., Image.Image], tmp_path: Path
) -> None:
    """A set's `pairs` count those at the cut: with --keep-below, `--against` counted the
    pairs kept below it too (`--against-index` did not)."""
    train, test = _train_and_test(photo, tmp_path)
    argv = ["scan", str(train), "--against", str(test), "--no-cache", "-q", "--json"]
    assert main([*argv, str(tmp_path / "plain.json")]) == 0
    assert main([*argv, str(tmp_path / "low.json"), "--keep-below", "0"]) == 0
    plain, low = (json.loads((tmp_path / f"{n}.json").read_text()) for n in ("plain", "low"))
    cut = low["settings"]["threshold"]
    assert len(low["pairs"]) > sum(p["confidence"] >= cut for p in low["pairs"]) == 1
    assert low["leakage"]["sets"][1]["pairs"] == plain["leakage"]["sets"][1]["pairs"] == 1


def test_the_keeper_of_a_leaking_group_is_the_reference_s(
    photo: Callable[..., Image.Image], tmp_path: Path
) -> None:
    """A larger, lossless copy in the later set used to be the keeper, the training image a
    member: a report's suggestion would have removed the training image."""
    train, test = tmp_path / "train", tmp_path / "test"
    train.mkdir()
    test.mkdir()
    coffee = photo("coffee", 480)
    coffee.resize((240, 160)).save(train / "coffee.jpg", quality=80)
    coffee.save(test / "coffee_big.png")
    coffee.resize((360, 240)).save(test / "coffee_mid.jpg", quality=90)
    out = tmp_path / "out.json"
    argv = ["scan", str(train), "--against", str(test), "--no-cache", "-q", "--json", str(out)]
    assert main(argv) == 0
    (group,) = json.loads(out.read_text())["groups"]
    assert Path(group["keeper"]["path"]).parent == train
    assert {Path(m["path"]).name for m in group["members"]} == {"coffee_big.png", "coffee_mid.jpg"}
