"""Saved centroids used from another folder, and the checks on a saved file and on --similar.

A tester saved centroids with relative paths and assigned new items from another folder: the
similar items named files that could not be opened there, and the contact sheet drew them as
empty frames without a word. Saved files now record `cwd` (as a scan's JSON does) and their
relative paths are read against it; a picture that still cannot be read is crossed out in the
sheet and named on stderr.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import pytest
from conftest import make_photo
from media import scene_pictures, write_video
from PIL import Image, ImageEnhance

from neardup.cli import main
from neardup.cluster.saved import load, save

SCENES = ("astronaut", "coffee")


@pytest.fixture(scope="module")
def saved(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """`work/`: two scenes as stills and a short clip of both, clustered at k = 2 from inside
    `work/` with relative paths and saved to `work/cl/s.json`; `work/new/`: other views."""
    work = tmp_path_factory.mktemp("work")
    (work / "pics").mkdir()
    (work / "new").mkdir()
    for name in SCENES:
        photo = make_photo(name, 192)
        for n, factor in enumerate((0.8, 1.2)):
            ImageEnhance.Brightness(photo).enhance(factor).save(work / "pics" / f"{name}_{n}.png")
        w, h = photo.size
        photo.crop((w // 10, h // 10, w, h)).save(work / "new" / f"{name}.jpg")
    write_video(work / "pics" / "clip.mp4", scene_pictures(SCENES), frames_per_scene=10)
    here = os.getcwd()
    os.chdir(work)
    try:
        args = ["cluster", "pics", "--k", "2", "--fps", "2", "--save", "cl/s.json"]
        assert main([*args, "--no-cache", "--workers", "1", "--quiet"]) == 0
    finally:
        os.chdir(here)
    return work / "cl" / "s.json"


def _assign(saved: Path, out: Path, *extra: str, new: Path | None = None) -> dict[str, object]:
    """Assign `work/new/` (beside `new`, default `saved`) to `saved`; the JSON written."""
    args = ["cluster", str((new or saved).parent.parent / "new"), "--centroids", str(saved)]
    assert main([*args, "--json", str(out), "--no-cache", "--workers", "1", *extra]) == 0
    doc: dict[str, object] = json.loads(out.read_text())
    return doc


def test_saved_relative_paths_resolve_from_another_folder(
    saved: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    doc = json.loads(saved.read_text())
    assert doc["cwd"] == str(saved.parent.parent)
    assert all(not os.path.isabs(i["path"]) for i in doc["items"])  # stored as given
    monkeypatch.chdir(tmp_path)  # elsewhere: the relative paths mean nothing here
    model = load(saved)
    assert all(Path(i.path).is_file() for i in model.items)
    assigned = _assign(saved, tmp_path / "assigned.json", "--similar", "3")
    similar = [s for i in assigned["items"] for s in i["similar"]]  # type: ignore[attr-defined]
    assert similar and all(Path(s["path"]).is_file() for s in similar)
    assert any(s["frame"] is not None for s in similar)  # clip frames too

    monkeypatch.chdir(saved.parent.parent)  # in the saving folder: as given, as before
    assert [i.path for i in load(saved).items] == [i["path"] for i in doc["items"]]
    # A URL is a URL from any folder (a review: it was joined to the saving folder).
    doc["items"][0]["path"] = "https://example.com/x.jpg"
    moved = tmp_path / "url.json"
    moved.write_text(json.dumps(doc))
    monkeypatch.chdir(tmp_path)
    assert load(moved).items[0].path == "https://example.com/x.jpg"


def test_a_file_without_cwd_reads_paths_from_the_current_folder(
    saved: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    doc = json.loads(saved.read_text())
    del doc["cwd"]  # as files saved before it was recorded
    older = tmp_path / "older.json"
    older.write_text(json.dumps(doc))
    monkeypatch.chdir(tmp_path)
    model = load(older)
    assert [i.path for i in model.items] == [i["path"] for i in doc["items"]]
    assert model.cwd is None
    save(model, tmp_path / "again.json")  # re-saved here: relative to this folder
    assert json.loads((tmp_path / "again.json").read_text())["cwd"] == str(tmp_path)


def test_a_saved_item_that_cannot_be_read_is_crossed_out_and_named(
    saved: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    pytest.importorskip("matplotlib")
    doc = json.loads(saved.read_text())
    doc["cwd"] = str(tmp_path / "gone")  # the saved items' folder, since moved away
    moved = tmp_path / "moved.json"
    moved.write_text(json.dumps(doc))
    plot = tmp_path / "p.png"
    capsys.readouterr()
    _assign(moved, tmp_path / "a.json", "--plot", str(plot), "--quiet", new=saved)
    err = capsys.readouterr().err
    assert "could not be read for the contact sheets" in err and "clip.mp4 [frame" in err
    with Image.open(tmp_path / "p-similar.png") as sheet:
        pixels = np.asarray(sheet.convert("RGB")).reshape(-1, 3).astype(int)
    red = (pixels[:, 0] > 150) & (pixels[:, 1] < 60) & (pixels[:, 2] < 60)
    assert red.sum() > 100  # the crosses and notes over the unreadable cells


def test_nan_centroids_are_refused(
    saved: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    model = load(saved)
    model.centroids[0, 0] = np.nan
    broken = tmp_path / "nan.json"
    save(model, broken)
    with pytest.raises(ValueError, match="centroids hold NaN or infinity"):
        load(broken)
    capsys.readouterr()
    args = ["cluster", str(saved.parent.parent / "new"), "--centroids", str(broken)]
    assert main([*args, "--no-cache", "--workers", "1"]) == 2
    assert "NaN" in capsys.readouterr().err


@pytest.mark.parametrize("edit", ["k", "cluster"])
def test_a_centroids_file_that_contradicts_itself_is_refused(
    saved: Path, tmp_path: Path, edit: str
) -> None:
    """A tester's file said k 7 beside 4 centroids, or put an item in cluster 9 of 4: both
    were taken (the item then dropped out of every similar list)."""
    doc = json.loads(saved.read_text())
    if edit == "k":
        doc["k"] += 5
    else:
        doc["items"][0]["cluster"] = 9
    broken = tmp_path / "broken.json"
    broken.write_text(json.dumps(doc))
    with pytest.raises(ValueError, match="k or a cluster does not match"):
        load(broken)


def test_negative_similar_is_refused(
    saved: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    args = ["cluster", str(saved.parent.parent / "new"), "--centroids", str(saved)]
    assert main([*args, "--similar", "-1", "--no-cache", "--workers", "1"]) == 2
    assert "--similar must be 0 or more, got -1" in capsys.readouterr().err


def test_an_item_of_the_saved_fit_is_not_its_own_most_similar_however_it_is_named(
    saved: Path, tmp_path: Path
) -> None:
    """A tester assigned a clip that the saved fit held, from another folder with `../`: its
    frames listed themselves first (similarity 1.0); given as the fit named them, or by an
    absolute path, they did not."""
    elsewhere = saved.parent.parent / "new"
    here = os.getcwd()
    os.chdir(elsewhere)
    try:
        out = tmp_path / "a.json"
        args = ["cluster", "../pics/clip.mp4", "--centroids", str(saved), "--fps", "2"]
        assert main([*args, "--json", str(out), "--no-cache", "--workers", "1", "-q"]) == 0
    finally:
        os.chdir(here)
    doc = json.loads(out.read_text())
    for item in doc["items"]:
        own = (os.path.realpath(elsewhere / item["path"]), item["frame"])
        near = [(os.path.realpath(elsewhere / s["path"]), s["frame"]) for s in item["similar"]]
        assert own not in near and near, item
