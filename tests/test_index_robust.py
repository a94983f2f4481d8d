"""The index command when things go wrong: an interrupted build is marked unfinished and
resumed by building again; a damaged file is named (exit 1 from `check`, 2 elsewhere, never a
traceback); files none of which could be read exit 3, as `scan` does."""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
from pathlib import Path

import pytest
from conftest import make_photo

import neardup.index.adding
import neardup.index.handle
import neardup.index.storage
from neardup.cli import main
from neardup.index.catalog import ImageIndex
from neardup.index.storage import IndexError_, read_meta

Capture = pytest.CaptureFixture[str]
PHOTOS = {"astro.jpg": "astronaut", "coffee.jpg": "coffee", "moon.jpg": "moon"}


@pytest.fixture
def photos(tmp_path: Path) -> Path:
    folder = tmp_path / "photos"
    folder.mkdir()
    for name, source in PHOTOS.items():
        make_photo(source, 160).save(folder / name, quality=90)
    return folder


def _interrupt(*args: object, **kwargs: object) -> None:
    raise KeyboardInterrupt


def _info(folder: Path, capsys: Capture) -> dict[str, object]:
    assert main(["index", "info", "--index", str(folder)]) == 0
    info: dict[str, object] = json.loads(capsys.readouterr().out)
    return info


def test_an_interrupted_build_says_how_to_resume_and_building_again_resumes_it(
    photos: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: Capture
) -> None:
    """The rerun the message advised used to fail with "an index already exists", while
    `info` showed 0 images and `check` said consistent."""
    folder = tmp_path / "idx"
    argv = ["index", "build", str(photos), "--index", str(folder), "--no-cache", "-q"]
    with monkeypatch.context() as patch:
        patch.setattr(neardup.index.adding, "compute_features", _interrupt)
        assert main(argv) == 130
    err = capsys.readouterr().err
    assert f"the index at {folder} is unfinished" in err
    assert f"run `neardup {' '.join(argv)}` to resume it" in err
    assert _info(folder, capsys)["build"] == "incomplete"
    assert main(["index", "check", "--index", str(folder)]) == 1
    assert "the build did not finish (interrupted)" in capsys.readouterr().out
    assert main(["index", "query", str(photos / "astro.jpg"), "--index", str(folder)]) == 0
    assert "the build did not finish" in capsys.readouterr().err  # a warning, on the side
    assert main(argv) == 0  # resumed
    info = _info(folder, capsys)
    assert info["build"] == "complete" and info["images"] == 3
    assert main(["index", "check", "--index", str(folder)]) == 0
    assert main(argv) == 2  # a finished index is still refused
    assert "an index already exists" in capsys.readouterr().err


def test_a_resumed_build_adds_only_what_is_missing_and_keeps_its_settings(
    photos: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = tmp_path / "idx"
    first = [str(photos / "astro.jpg"), str(photos / "coffee.jpg")]
    with monkeypatch.context() as patch:  # stored, then stopped before it was marked done
        patch.setattr(neardup.index.adding, "mark_built", _interrupt)
        with pytest.raises(KeyboardInterrupt):
            ImageIndex.build(folder, first, cache=False, workers=1)
    with pytest.raises(IndexError_, match=r"other settings \(nprobe 4\)"):
        ImageIndex.build(folder, [str(photos)], cache=False, workers=1, nprobe=2)
    index, report = ImageIndex.build(folder, [str(photos)], cache=False, workers=1)
    with index:
        status = {Path(e.path).name: e.status for e in report.entries}
        assert status == {"astro.jpg": "already indexed", "coffee.jpg": "already indexed"} | {
            "moon.jpg": "added"
        }
        assert index.info()["build"] == "complete" and index.info()["images"] == 3
        assert index.check() == []


def test_scan_against_an_unfinished_index_warns_as_the_index_commands_do(
    photos: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: Capture
) -> None:
    """`scan --against-index` used an unfinished reference index without a word."""
    folder = tmp_path / "idx"
    with monkeypatch.context() as patch:  # an image stored, then stopped
        patch.setattr(neardup.index.adding, "mark_built", _interrupt)
        with pytest.raises(KeyboardInterrupt):
            ImageIndex.build(folder, [str(photos / "astro.jpg")], cache=False, workers=1)
    warning = f"neardup: warning: {folder}: the build did not finish (interrupted)"
    for quiet in ([], ["-q"]):  # as the index commands: said with -q too
        argv = ["scan", str(photos), "--against-index", str(folder), "--no-cache", *quiet]
        assert main([*argv, "--json", os.devnull]) == 0
        assert warning in capsys.readouterr().err
        assert main(["index", "query", str(photos), "--index", str(folder), *quiet]) == 0
        assert warning in capsys.readouterr().err


@pytest.mark.parametrize("where", ["connect", "read_meta"])
@pytest.mark.parametrize(
    "reason", ["unable to open database file", "database is locked", "disk I/O error"]
)
def test_an_index_that_cannot_be_opened_is_not_called_damaged(
    built: Path,
    where: str,
    reason: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: Capture,
) -> None:
    """SQLite's OperationalError at open (a folder it cannot write its log in, as a read-only
    mount; a lock; a disk error) was said as "index ... is damaged", and `check` exited 1."""

    def failing(*args: object) -> None:
        raise sqlite3.OperationalError(reason)

    monkeypatch.setattr(neardup.index.handle, where, failing)
    photo = str(built.parent / "photos" / "astro.jpg")
    for argv in (
        ["index", "check", "--index", str(built)],
        ["index", "info", "--index", str(built)],
        ["index", "query", photo, "--index", str(built), "--no-cache"],
        ["scan", photo, "--against-index", str(built), "--no-cache", "-q"],
    ):
        assert main(argv) == 2, argv
        captured = capsys.readouterr()
        assert captured.err == f"neardup: error: cannot open index {built}: {reason}\n", argv
        assert "problem" not in captured.out


def _timeless(output: str) -> object:
    """A JSON report without the times it took (all else must be equal)."""

    def strip(value: object) -> object:
        if isinstance(value, dict):
            return {k: strip(v) for k, v in value.items() if "seconds" not in k}
        return [strip(v) for v in value] if isinstance(value, list) else value

    return strip(json.loads(output))


def _unwritable(monkeypatch: pytest.MonkeyPatch) -> None:
    """As on a read-only mount: the folder cannot be written, so SQLite's usual open (which
    makes the log's shared-memory file beside the index) fails."""

    def failing(*args: object) -> None:
        raise sqlite3.OperationalError("unable to open database file")

    monkeypatch.setattr(neardup.index.handle, "connect", failing)
    monkeypatch.setattr(neardup.index.handle, "writable", lambda folder: False)


def test_an_index_in_a_folder_that_cannot_be_written_is_read_and_searched(
    built: Path, monkeypatch: pytest.MonkeyPatch, capsys: Capture
) -> None:
    """An index on a read-only mount could not be opened at all (SQLite keeps its log beside
    the file, even to read it); it is now opened read-only, and a change is refused in one
    line (here the writer lock cannot be made, as on such a mount)."""
    photo = str(built.parent / "photos" / "astro.jpg")
    query = ["index", "query", photo, "--index", str(built), "--no-cache", "--json", "-"]
    assert main(query) == 0
    expected = _timeless(capsys.readouterr().out)
    _unwritable(monkeypatch)
    assert _info(built, capsys)["images"] == len(PHOTOS)
    assert main(["index", "check", "--index", str(built)]) == 0
    assert "consistent" in capsys.readouterr().out
    assert main(query) == 0
    assert _timeless(capsys.readouterr().out) == expected
    (built / "lock").unlink()
    (built / "lock").mkdir()
    assert main(["index", "remove", photo, "--index", str(built)]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"neardup: error: cannot write index {built}: ")
    assert "it can be read and searched; copy it" in err


def test_a_read_only_index_whose_log_holds_commits_is_refused(
    built: Path, monkeypatch: pytest.MonkeyPatch, capsys: Capture
) -> None:
    """Read-only, SQLite cannot read the write-ahead log: commits still in it would be
    missed, so such an index is refused with the way out rather than read stale."""
    writer = sqlite3.connect(built / "index.sqlite", isolation_level=None)
    try:
        writer.execute("PRAGMA wal_autocheckpoint=0")
        writer.execute("CREATE TABLE pending (x)")  # a commit left in the log
        assert (built / "index.sqlite-wal").stat().st_size > 0
        _unwritable(monkeypatch)
        assert main(["index", "info", "--index", str(built)]) == 2
        err = capsys.readouterr().err
        assert "its write-ahead log (index.sqlite-wal) holds changes" in err
    finally:
        writer.close()


def test_sqlite_damage_outside_the_index_is_not_called_index_damage(
    built: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Any sqlite3.DatabaseError met while an index command ran was said as damage of its
    index.sqlite, whichever file SQLite was reading."""

    def elsewhere(*args: object) -> None:
        raise sqlite3.DatabaseError("database disk image is malformed")

    monkeypatch.setattr(neardup.index.adding, "compute_features", elsewhere)
    photo = str(built.parent / "photos" / "astro.jpg")
    with pytest.raises(sqlite3.DatabaseError, match="malformed"):
        main(["index", "query", photo, "--index", str(built), "--no-cache"])


def test_only_a_missing_meta_table_is_not_an_index() -> None:
    """read_meta said "not a neardup index" for a locked or unreadable database too."""

    class Failing:
        def __init__(self, reason: str) -> None:
            self.reason = reason

        def execute(self, *args: object) -> None:
            raise sqlite3.OperationalError(self.reason)

    with pytest.raises(IndexError_, match="not a neardup index"):
        read_meta(Failing("no such table: meta"))  # type: ignore[arg-type]
    with pytest.raises(sqlite3.OperationalError, match="locked"):
        read_meta(Failing("database is locked"))  # type: ignore[arg-type]


@pytest.fixture
def built(photos: Path, tmp_path: Path) -> Path:
    folder = tmp_path / "built"
    index, _ = ImageIndex.build(folder, [str(photos)], cache=False, workers=1)
    index.close()
    return folder


def _cut(path: Path, size: int) -> None:
    os.truncate(path, size)


def _scribble(path: Path, offset: int) -> None:
    with open(path, "r+b") as file:
        file.seek(offset)
        file.write(os.urandom(8192))


@pytest.mark.parametrize(
    ("name", "damage"),
    [
        ("vectors.f32", lambda p: _cut(p, 1000)),  # "mmap length is greater than file size"
        ("clusters.0.i32", lambda p: _cut(p, 10)),  # "cannot reshape array of size 2"
        ("codes.pdq.u8", lambda p: _cut(p, 5)),
        ("index.sqlite", lambda p: _cut(p, p.stat().st_size // 2)),  # traceback
        ("index.sqlite", lambda p: _scribble(p, 0)),  # "file is not a database": traceback
        ("index.sqlite", lambda p: _scribble(p, 4096)),  # pages past the header
    ],
)
def test_a_damaged_index_file_is_named_check_exits_one_others_two(
    built: Path, tmp_path: Path, name: str, damage: object, capsys: Capture
) -> None:
    folder = tmp_path / "damaged"
    shutil.copytree(built, folder)
    damage(folder / name)  # type: ignore[operator]
    assert main(["index", "check", "--index", str(folder)]) == 1
    out = capsys.readouterr().out
    assert f"{name} " in out or f"{name}:" in out, out
    assert out.splitlines()[-1].endswith("problems")
    for argv in (
        ["index", "info", "--index", str(folder)],
        ["index", "query", str(built.parent / "photos" / "astro.jpg"), "--index", str(folder)],
        ["index", "duplicates", "--index", str(folder), "-q", "--no-cache"],
        ["index", "build", str(built), "--index", str(folder), "--no-cache", "-q"],
    ):
        code = main(argv)
        err = capsys.readouterr().err
        assert code == 2, argv
        assert err.startswith(f"neardup: error: index {folder} is damaged: {name}: "), err
        assert len(err.splitlines()) == 1


def test_files_none_of_which_could_be_read_exit_three(
    photos: Path, tmp_path: Path, capsys: Capture
) -> None:
    """build, add and query exited 0 where scan exits 3."""
    junk = tmp_path / "junk"
    junk.mkdir()
    (junk / "notes.jpg").write_text("not a picture\n")
    folder = str(tmp_path / "idx")
    common = ["--index", folder, "--no-cache", "-q", "--workers", "1"]
    assert main(["index", "build", str(junk), *common]) == 3
    assert main(["index", "add", str(photos), *common]) == 0
    assert main(["index", "add", str(junk), *common]) == 3
    assert main(["index", "query", str(junk / "notes.jpg"), *common]) == 3
    assert main(["index", "query", str(photos / "astro.jpg"), *common]) == 0
    assert main(["index", "query", str(photos), str(junk), *common]) == 0  # some were read
    assert "notes.jpg" in capsys.readouterr().out  # the skip is still said, even with -q


def test_a_read_only_index_whose_lock_file_is_writable_changes_nothing(
    built: Path, monkeypatch: pytest.MonkeyPatch, capsys: Capture
) -> None:
    """A reviewer: a folder made read-only (chmod 555) after a build keeps its lock file
    writable; `add` took the lock, grew the column files, then SQLite refused the commit (a
    traceback, and files longer than the index says)."""
    sizes = {p.name: p.stat().st_size for p in built.iterdir() if p.is_file()}
    _unwritable(monkeypatch)
    monkeypatch.setattr(neardup.index.storage, "writable", lambda folder: False)
    photo = built.parent / "photos" / "new.jpg"
    make_photo("rocket", 160).save(photo, quality=90)
    assert main(["index", "add", str(photo), "--index", str(built), "--no-cache", "-q"]) == 2
    assert "cannot write index" in capsys.readouterr().err
    assert {p.name: p.stat().st_size for p in built.iterdir() if p.is_file()} == sizes
