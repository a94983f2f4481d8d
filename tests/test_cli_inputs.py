"""What the commands do with inputs they cannot use: a video rate no video has, --fps beside
--scenes, a given path that is not there, a truth file that requires no pair, a result with
no pair to plot. Each is refused or said plainly, before any work where it is a usage error
(exit 2), rather than turned into skips, an exit 3 or a silent column of '-'."""

from __future__ import annotations

import io
import json
import sys
from pathlib import Path
from typing import Any

import pytest
from conftest import make_photo
from media import scene_pictures, write_video

import neardup.cli
from neardup.cli import main
from neardup.eval import evaluate, load_truth
from neardup.output import plots

Capture = pytest.CaptureFixture[str]


@pytest.fixture(scope="module")
def clip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A two-second, two-scene video (10 frames a second)."""
    folder = tmp_path_factory.mktemp("clip")
    return write_video(folder / "clip.mp4", scene_pictures(["astronaut", "coffee"]), 10)


@pytest.fixture
def splits(tmp_path: Path) -> Path:
    """train/ (two photos), test/ (a resized copy of one, and another photo), empty/."""
    for split in ("train", "test", "empty"):
        (tmp_path / split).mkdir()
    make_photo("astronaut").save(tmp_path / "train" / "astro.png")
    make_photo("coffee").save(tmp_path / "train" / "coffee.png")
    make_photo("astronaut", 200).save(tmp_path / "test" / "astro_small.jpg")
    make_photo("moon").save(tmp_path / "test" / "moon.png")
    return tmp_path


def _no_scan(monkeypatch: pytest.MonkeyPatch) -> list[object]:
    """Make `neardup scan` record its calls instead of scanning: a usage error must stop
    the command before any work."""
    calls: list[object] = []
    monkeypatch.setattr(neardup.cli, "scan", lambda *a, **k: calls.append(a))
    return calls


@pytest.mark.parametrize("rate", ["inf", "-inf", "1e308", "nan", "0", "-1"])
def test_an_fps_no_video_can_be_sampled_at_is_a_usage_error(
    clip: Path, rate: str, monkeypatch: pytest.MonkeyPatch, capsys: Capture
) -> None:
    """inf (and a rate so high a frame's interval overflows) used to pass and skip every
    video as "corrupt or truncated" with exit 3."""
    calls = _no_scan(monkeypatch)
    assert main(["scan", str(clip), "--no-cache", "-q", f"--fps={rate}"]) == 2
    assert "--fps must be a rate above 0" in capsys.readouterr().err
    assert calls == []
    assert main(["compare", str(clip), str(clip), f"--fps={rate}"]) == 2
    assert main(["cluster", str(clip), "--no-cache", "--k", "2", f"--fps={rate}"]) == 2


def test_a_high_but_finite_fps_keeps_every_frame(clip: Path, capsys: Capture) -> None:
    """The bound is far above any video's rate: 1000 a second keeps each of the 20 frames."""
    assert main(["scan", str(clip), "--no-cache", "--fps", "1000", "--json", "-"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["stats"]["images"] == 20 and doc["skipped"] == []


def test_fps_beside_scenes_is_refused_not_ignored(
    clip: Path, monkeypatch: pytest.MonkeyPatch, capsys: Capture
) -> None:
    calls = _no_scan(monkeypatch)
    assert main(["scan", str(clip), "--no-cache", "--scenes", "--fps", "5"]) == 2
    assert "--scenes keeps a frame at each cut" in capsys.readouterr().err
    assert main(["scan", str(clip), "--no-cache", "--scenes", "--fps", "1"]) == 2
    assert calls == []
    monkeypatch.undo()
    assert main(["scan", str(clip), "--no-cache", "--scenes", "--json", "-"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["settings"]["video"] == {"fps": 1.0, "scenes": True}


@pytest.mark.parametrize(
    ("args", "named"),
    [
        (["nope"], "nope"),
        (["train/nope.jpg"], "train/nope.jpg"),
        (["nope", "train"], "nope"),
        (["train", "--against", "test", "typo", "--fail-on-duplicates"], "typo"),
    ],
)
def test_a_given_path_that_is_not_there_exits_two_before_any_work(
    splits: Path,
    args: list[str],
    named: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: Capture,
) -> None:
    """docs/schema.md: exit 2 for "a path given as an argument that is not there", said
    even with --quiet; a lone missing path used to exit 3, and a missing --against set
    exit 3 after the leakage table."""
    monkeypatch.chdir(splits)
    calls = _no_scan(monkeypatch)
    for quiet in ([], ["-q"]):
        assert main(["scan", *args, "--no-cache", *quiet]) == 2
        captured = capsys.readouterr()
        assert "no such file or folder" in captured.err and named in captured.err
        assert captured.out == ""  # no table, no leakage lines: nothing was done
    assert calls == []


def test_missing_paths_elsewhere_keep_their_meaning(
    splits: Path, monkeypatch: pytest.MonkeyPatch, capsys: Capture
) -> None:
    """compare refuses a missing image too; an --against set that is there but holds no
    image is still exit 3 (no image could be read); a path listed on stdin may have gone
    since it was listed, so it stays a skip."""
    monkeypatch.chdir(splits)
    assert main(["compare", "train/astro.png", "nope.png"]) == 2
    assert "no such file or folder: nope.png" in capsys.readouterr().err
    empty = ["scan", "train", "--against", "test", "empty", "--no-cache", "-q"]
    assert main([*empty, "--fail-on-duplicates"]) == 3
    assert "no images in empty" in capsys.readouterr().err
    monkeypatch.setattr(sys, "stdin", io.StringIO("gone.png\n"))
    assert main(["scan", "-", "--no-cache", "-q"]) == 3


def test_index_commands_refuse_a_missing_path_before_any_work(
    splits: Path, monkeypatch: pytest.MonkeyPatch, capsys: Capture
) -> None:
    """`index build` of a mistyped folder made an empty index; add and query read nothing;
    `cluster` of a good folder and a mistyped one clustered the good one. Each now exits 2
    first (no index folder is made)."""
    monkeypatch.chdir(splits)
    assert main(["index", "build", "--index", "idx", "nope", "--no-cache", "-q"]) == 2
    assert "no such file or folder: nope" in capsys.readouterr().err
    assert not (splits / "idx").exists()
    assert main(["index", "build", "--index", "idx", "train", "--no-cache", "-q"]) == 0
    for command in ("add", "query"):
        assert main(["index", command, "--index", "idx", "train/gone.png", "--no-cache"]) == 2
        assert "no such file or folder: train/gone.png" in capsys.readouterr().err
    assert main(["cluster", "train", "nope", "--k", "2", "--no-cache", "-q"]) == 2
    assert "no such file or folder: nope" in capsys.readouterr().err


def _truth(folder: Path, edits: dict[str, tuple[str | None, str]]) -> Path:
    """A truth file (split test) over photos written as folder/images/NAME.png."""
    (folder / "images").mkdir()
    records = []
    for name, (group, edit) in edits.items():
        photo = "astronaut" if group == "a" else "moon"
        make_photo(photo, 200 if edit != "original" else 256).save(folder / "images" / name)
        records.append(
            {"path": f"images/{name}", "group": group, "edit": edit, "source": photo}
            | {"split": "test"}
        )
    path = folder / "truth.json"
    path.write_text(json.dumps({"version": 1, "images": records}))
    return path


def test_eval_warns_when_no_group_holds_an_original(tmp_path: Path, capsys: Capture) -> None:
    """Recall counts only (original, edited copy) pairs: groups of copies alone require
    nothing, which a column of '-' and exit 0 used to leave unsaid."""
    truth = _truth(
        tmp_path, {"a1.png": ("a", "crop"), "a2.png": ("a", "resize"), "m.png": (None, "tile")}
    )
    argv = ["eval", str(truth), "--method", "pdq", "--no-cache", "--split", "test"]
    assert main(argv) == 0
    captured = capsys.readouterr()
    assert "warning: no group in split test has an image with edit 'original'" in captured.err
    assert "note: no group in split test" in captured.out
    notes = evaluate(load_truth(str(truth)), []).notes
    assert any("recall counts only (original, edited copy) pairs" in n for n in notes)


def test_eval_with_an_original_gives_no_warning(tmp_path: Path, capsys: Capture) -> None:
    truth = _truth(tmp_path, {"a1.png": ("a", "original"), "a2.png": ("a", "resize")})
    assert main(["eval", str(truth), "--method", "pdq", "--no-cache"]) == 0
    captured = capsys.readouterr()
    assert "warning" not in captured.err and "note:" not in captured.out


def test_eval_takes_no_cache_as_scan_does(tmp_path: Path, capsys: Capture) -> None:
    truth = _truth(tmp_path, {"a1.png": ("a", "original"), "a2.png": ("a", "resize")})
    cache = tmp_path / "features.db"
    assert main(["eval", str(truth), "--method", "pdq", "--cache", str(cache), "--no-cache"]) == 0
    assert not cache.exists()
    assert main(["eval", str(truth), "--method", "pdq", "--cache", str(cache)]) == 0
    assert cache.exists()  # the same command without --no-cache does write it
    capsys.readouterr()


def test_a_plot_of_no_pairs_counts_from_zero(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: Capture
) -> None:
    """An empty histogram's y axis used to be centred on 0, drawing negative pair counts."""
    settings = {"threshold": 0.95, "presets": {"default": 0.95}}
    result = tmp_path / "single.json"
    result.write_text(json.dumps({"schema": "neardup.scan/2", "settings": settings, "pairs": []}))
    limits: list[tuple[float, float]] = []
    save = plots._save

    def spy(figure: Any, path: str | Path) -> Path:
        limits.extend(axis.get_ylim() for axis in figure.axes)
        return save(figure, path)

    monkeypatch.setattr(plots, "_save", spy)
    assert main(["plot", str(result), "--scores", str(tmp_path / "hist.png")]) == 0
    assert len(limits) == 2 and all(low == 0 < high for low, high in limits), limits
    capsys.readouterr()


def test_eval_names_a_truth_path_that_is_not_there_and_an_image_it_skipped(
    tmp_path: Path, capsys: Capture
) -> None:
    """A truth file naming a file that is not there was evaluated (exit 0, "1 skipped", its
    copy counted as missed): a typo passed as a measured miss (a tester). It is now an error
    naming the path; an image that is there but cannot be read is named with its reason."""
    truth = _truth(tmp_path, {"a1.png": ("a", "original"), "a2.png": ("a", "resize")})
    doc = json.loads(truth.read_text())
    ghost = {"path": "images/ghost.png", "group": "a", "edit": "crop", "source": "a"}
    ghost["split"] = "test"
    truth.write_text(json.dumps(doc | {"images": [*doc["images"], ghost]}))
    assert main(["eval", str(truth), "--method", "pdq", "--no-cache"]) == 2
    ghost_path = tmp_path / "images" / "ghost.png"
    assert f"1 image not there: {ghost_path}" in capsys.readouterr().err
    ghost_path.write_bytes(b"\x89PNG\r\n\x1a\n broken")
    assert main(["eval", str(truth), "--method", "pdq", "--no-cache"]) == 0
    assert f"skipped {ghost_path}: " in capsys.readouterr().out
