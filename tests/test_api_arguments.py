"""Bad or odd arguments to the API and the CLI are refused clearly, never read as something
else (a black-box tester's findings)."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

import neardup
from neardup.cli import main
from neardup.output import json as json_out
from neardup.sources import one_or_many


def test_one_path_is_one_path_not_its_letters() -> None:
    assert one_or_many("photos/") == ["photos/"] and one_or_many(Path("a")) == ["a"]
    assert one_or_many(["a", Path("b")]) == ["a", "b"]
    for bad in (b"photos", [b"photos"], [3]):
        with pytest.raises(TypeError):
            one_or_many(bad)  # type: ignore[arg-type]


def test_index_add_and_query_take_one_folder_given_as_a_string(
    tmp_path: Path, photo: Callable[..., Image.Image]
) -> None:
    """`index.add("st")` read the folders "s" and "t"; `add("d/")` walked "/"."""
    for folder, name in (("base", "coffee"), ("st", "moon"), ("s", "astronaut")):
        (tmp_path / folder).mkdir()
        photo(name, 160).save(tmp_path / folder / f"{name}.png")
    index, _ = neardup.ImageIndex.build(tmp_path / "idx", str(tmp_path / "base"))
    try:
        added = index.add(str(tmp_path / "st") + "/")
        assert [Path(e.path).name for e in added.entries] == ["moon.png"]
        assert [Path(e.path).name for e in index.query(str(tmp_path / "st")).entries] == [
            "moon.png"
        ]
    finally:
        index.close()


def test_scan_refuses_arguments_it_would_misread(tmp_path: Path) -> None:
    with pytest.raises(TypeError):
        neardup.scan(b"photos")  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="threshold must be a number"):
        neardup.scan(tmp_path, threshold="0.9")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="workers"):
        neardup.scan(tmp_path, workers=-1)
    with pytest.raises(ValueError, match="nprobe"):
        neardup.ImageIndex.build(tmp_path / "idx", str(tmp_path), nprobe=0)
    for pixels in (0, -1):  # a tester: every file was then skipped as "over the limit of -1"
        with pytest.raises(ValueError, match="max_pixels must be a positive"):
            neardup.scan(tmp_path, max_pixels=pixels)
        with pytest.raises(ValueError, match="max_pixels must be a positive"):
            neardup.compare(tmp_path / "a.png", tmp_path / "b.png", max_pixels=pixels)


def test_keep_below_must_be_a_confidence(tmp_path: Path) -> None:
    """NaN was accepted and written into the JSON as NaN, which no JSON reader takes."""
    for bad in ("nan", "2", "-1"):
        with pytest.raises(SystemExit) as stop:
            main(["scan", str(tmp_path), "--keep-below", bad])
        assert stop.value.code == 2


def test_eval_with_nothing_to_evaluate_fails(tmp_path: Path) -> None:
    truth = tmp_path / "truth.json"
    record = {"path": "nope.jpg", "group": "a", "edit": "original", "source": "a"}
    truth.write_text(json.dumps({"version": 1, "images": [{**record, "split": "test"}]}))
    assert main(["eval", str(truth)]) == 2  # no image could be read
    assert main(["eval", str(truth), "--split", "calib"]) == 2  # a split that holds nothing


def test_the_api_refuses_what_the_cli_refuses(tmp_path: Path) -> None:
    """A tester: floor=2.0 was recorded as `keep_below`, methods=[] ran exact copies alone and
    preset="" ran the default preset under the name ""."""
    for floor in (2.0, -1.0, float("nan")):
        with pytest.raises(ValueError, match="floor must be a confidence"):
            neardup.scan(tmp_path, floor=floor)
    found = neardup.scan(tmp_path, floor=np.float32(0.5))  # a numpy number is a number
    assert json.loads(json_out.dumps(found))["settings"]["keep_below"] == 0.5
    with pytest.raises(ValueError, match="floor must be a confidence"):
        neardup.scan(tmp_path, floor=True)
    with pytest.raises(ValueError, match="no method given"):
        neardup.scan(tmp_path, methods=[])
    with pytest.raises(ValueError, match="unknown preset ''"):
        neardup.scan(tmp_path, preset="")
