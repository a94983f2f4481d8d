"""Output paths: every command that writes a file refuses one it cannot write (a folder, a
parent that is a file or not writable) before any work, with one line and exit 2; a write
that still fails at the end is one line and exit 2 too, never a traceback."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from conftest import chmod_protects, make_photo

import neardup.cli
import neardup.cli_cluster
import neardup.cli_index
import neardup.eval
from neardup.cli import main
from neardup.cluster.kmeans import Projection
from neardup.cluster.saved import ItemRef, SceneModel, save
from neardup.output.targets import check_file, check_folder, write_text

Capture = pytest.CaptureFixture[str]


def _forbid_work(monkeypatch: pytest.MonkeyPatch) -> None:
    """Make every command's work fail the test: a refused output must stop it before."""

    def work(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("the work ran before the output path was checked")

    monkeypatch.setattr(neardup.cli, "scan", work)
    monkeypatch.setattr(neardup.cli_cluster, "cluster", work)
    monkeypatch.setattr(neardup.cli_index.ImageIndex, "build", work)
    monkeypatch.setattr(neardup.cli_index.ImageIndex, "open", work)
    monkeypatch.setattr(neardup.eval, "run_eval", work)


def _commands(photo: Path, out: str) -> list[list[str]]:
    """Every command line that writes a file, writing it to `out`."""
    index = ["--index", str(photo.parent / "idx")]
    return [
        ["scan", str(photo), "--json", out],
        ["scan", str(photo), "--csv", out, "--fail-on-duplicates"],
        ["index", "build", str(photo), *index, "--json", out],
        ["index", "add", str(photo), *index, "--json", out],
        ["index", "query", str(photo), *index, "--json", out],
        ["index", "duplicates", *index, "--json", out],
        ["index", "duplicates", *index, "--csv", out],
        ["cluster", str(photo), "--save", out],
        ["cluster", str(photo), "--json", out],
        ["cluster", str(photo), "--plot", out],
        ["eval", str(photo), "--json", out],
        ["plot", str(photo), "--scores", out],
    ]


@pytest.fixture
def photo(tmp_path: Path) -> Path:
    path = tmp_path / "in" / "astro.png"
    path.parent.mkdir()
    make_photo("astronaut", 64).save(path)
    return path


def test_a_folder_given_as_an_output_file_is_refused_before_any_work(
    photo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: Capture
) -> None:
    """It used to run the whole scan, then die with an IsADirectoryError traceback, exit 1."""
    _forbid_work(monkeypatch)
    folder = tmp_path / "outdir"
    folder.mkdir()
    for argv in _commands(photo, str(folder)):
        assert main(argv) == 2, argv
        err = capsys.readouterr().err
        assert f"{folder}: is a folder; give a file name" in err and len(err.splitlines()) == 1


def test_a_parent_that_is_a_file_is_refused_before_any_work(
    photo: Path, monkeypatch: pytest.MonkeyPatch, capsys: Capture
) -> None:
    _forbid_work(monkeypatch)
    for argv in _commands(photo, str(photo / "sub" / "out.json")):
        assert main(argv) == 2, argv
        assert f"{photo} is not a folder" in capsys.readouterr().err
    assert main(["eval", str(photo), "--plot", str(photo)]) == 2  # --plot names a folder
    assert "is a file, not a folder" in capsys.readouterr().err
    assert main(["index", "save", "--index", str(photo.parent), str(photo / "copy")]) == 2
    assert f"{photo} is not a folder" in capsys.readouterr().err


@pytest.mark.skipif(not chmod_protects(), reason="permissions do not bind this user (root)")
def test_an_unwritable_file_or_folder_is_refused(photo: Path, tmp_path: Path) -> None:
    locked = tmp_path / "locked"
    locked.mkdir()
    (locked / "old.json").write_text("{}")
    (locked / "old.json").chmod(0o444)
    locked.chmod(0o555)
    try:
        with pytest.raises(ValueError, match="permission denied"):
            check_file(str(locked / "old.json"), "--json")
        with pytest.raises(ValueError, match=f"cannot write into {locked}"):
            check_file(str(locked / "new" / "out.json"), "--json")
        with pytest.raises(ValueError, match="permission denied"):
            check_folder(str(locked), "--plot")
    finally:
        locked.chmod(0o755)


def test_missing_parents_pass_the_check_and_are_created(tmp_path: Path) -> None:
    target = tmp_path / "a" / "b" / "out.json"
    check_file(str(target), "--json")
    check_folder(str(tmp_path / "plots" / "new"), "--plot")
    check_file("-", "--json")  # stdout
    assert not (tmp_path / "a").exists()  # checked, not made, until something is written
    write_text(target, "{}")
    assert target.read_text() == "{}"


@pytest.mark.skipif(not os.path.exists("/dev/full"), reason="needs /dev/full")
def test_a_write_that_fails_at_the_end_is_one_line_and_exit_two(
    photo: Path, capsys: Capture
) -> None:
    """/dev/full passes the check (it is writable) and fails the write: a full disk."""
    argv = ["scan", str(photo), "--no-cache", "-q", "--method", "pdq", "--workers", "1"]
    assert main([*argv, "--json", "/dev/full"]) == 2
    err = capsys.readouterr().err
    assert err == "neardup: error: cannot write /dev/full: No space left on device\n"


def test_a_failed_centroids_save_leaves_no_temporary_file(tmp_path: Path) -> None:
    """`cluster --save` onto a folder left `FOLDER.tmp` behind."""
    vectors = np.eye(2, 4, dtype=np.float32)
    model = SceneModel(
        model="sscd_distilled",
        centroids=vectors,
        projection=Projection(np.zeros(4, np.float32), np.eye(2, 4, dtype=np.float32)),
        items=[ItemRef("a.png"), ItemRef("b.png")],
        labels=[0, 1],
        vectors=vectors,
    )
    target = tmp_path / "taken"
    target.mkdir()
    (target / "keep").write_text("x")  # a folder in the way: the rename fails
    with pytest.raises(ValueError, match=f"cannot write {target}"):
        save(model, target)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["taken"]
