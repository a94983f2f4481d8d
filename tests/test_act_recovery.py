"""After a kill, `undo` cleans up as promised: every undo run removes the empty folders the act
run made (also when act was killed just after making one, and when a killed undo is run
again), never a folder the run did not make; a journal cut short before anything was
journalled has nothing to undo (exit 0), and act says where its journal is before it writes
it."""

from __future__ import annotations

import importlib
import json
import os
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from conftest import FileMaker

from neardup.actions import apply_plan, load_plan, undo
from neardup.cli import main


class Killed(BaseException):
    """Stands for a SIGKILL: nothing catches it, nothing after it runs (no `end`, no prune)."""


def _killed(*_: object) -> None:
    raise Killed


def _folder(tmp_path: Path) -> tuple[Path, Path]:
    """photos/a.jpg kept; photos/x/one.jpg and photos/y/deep/two.jpg its copies: (photos, the
    result)."""
    photos = tmp_path / "photos"
    first = FileMaker.image(photos / "a.jpg", "coffee", 120)
    for name in ("x/one.jpg", "y/deep/two.jpg"):
        (photos / name).parent.mkdir(parents=True)
        shutil.copy2(first, photos / name)
    groups = [["photos/a.jpg", "photos/x/one.jpg", "photos/y/deep/two.jpg"]]

    def entry(path: str) -> dict[str, Any]:
        return {"path": path, "bytes": (tmp_path / path).stat().st_size}

    doc = {
        "schema": "neardup.scan/2",
        "cwd": str(tmp_path),
        "settings": {"folders": ["photos"]},
        "groups": [{"keeper": entry(g[0]), "members": [entry(p) for p in g[1:]]} for g in groups],
    }
    result = tmp_path / "result.json"
    result.write_text(json.dumps(doc))
    return photos, result


def _kill_after(calls: int, monkeypatch: pytest.MonkeyPatch, name: str) -> None:
    """Make the `calls`-th call of os.`name` (after it is done) stop the process, as a kill."""
    real: Callable[..., Any] = getattr(os, name)
    count = [0]

    def wrapped(*args: Any, **kwargs: Any) -> Any:
        done = real(*args, **kwargs)
        count[0] += 1
        if count[0] == calls:
            raise Killed
        return done

    monkeypatch.setattr(os, name, wrapped)


def _folders(root: Path) -> list[str]:
    return sorted(str(p.relative_to(root)) for p in root.rglob("*") if p.is_dir())


def _with_journal(tmp_path: Path) -> tuple[Path, Path, list[str], Path]:
    """The photos, their scan result, their folders before any act, and a journal path."""
    photos, result = _folder(tmp_path)
    return photos, result, _folders(photos), tmp_path / "j.jsonl"


def test_act_killed_just_after_making_a_holding_folder_leaves_none(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    photos, result, before, journal = _with_journal(tmp_path)
    with monkeypatch.context() as patch:
        _kill_after(3, patch, "mkdir")  # .neardup-trash, RUN, RUN/x: then killed
        with pytest.raises(Killed):
            apply_plan(load_plan(result), "trash", journal=journal, yes=True, out=lambda _: None)
    assert (photos / ".neardup-trash").is_dir()
    assert main(["undo", str(journal), "--yes"]) == 0
    assert _folders(photos) == before


def test_a_killed_undo_run_again_removes_the_run_folders(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    photos, result, before, journal = _with_journal(tmp_path)
    assert main(["act", str(result), "--trash", "--yes", "--journal", str(journal)]) == 0
    undo_module = importlib.import_module("neardup.actions.undo")  # `undo` is also a function
    with monkeypatch.context() as patch:  # undo killed after putting every file back
        patch.setattr(undo_module, "_prune", _killed)
        with pytest.raises(Killed):
            undo(journal, yes=True, out=lambda _: None)
    assert (photos / ".neardup-trash").is_dir()
    outcome = undo(journal, yes=True, out=lambda _: None)  # nothing left to restore
    assert outcome.restored == 0 and not outcome.problems
    assert _folders(photos) == before


def test_undo_of_a_move_removes_only_the_folders_it_made(tmp_path: Path) -> None:
    """An empty folder that was in the destination before the run stays."""
    _, result = _folder(tmp_path)
    dest = tmp_path / "dups"
    (dest / "y").mkdir(parents=True)  # there before: not the run's
    journal = tmp_path / "j.jsonl"
    assert main(["act", str(result), "--move", str(dest), "--yes", "--journal", str(journal)]) == 0
    assert (dest / "y" / "deep" / "two.jpg").is_file()
    assert main(["undo", str(journal), "--yes"]) == 0
    assert _folders(dest) == ["y"]


def test_undo_of_a_move_removes_every_level_it_made(tmp_path: Path) -> None:
    """`--move new1/new2`, neither there before: undo leaves neither (a reviewer found new1)."""
    _, result = _folder(tmp_path)
    dest = tmp_path / "new1" / "new2"
    journal = tmp_path / "j.jsonl"
    assert main(["act", str(result), "--move", str(dest), "--yes", "--journal", str(journal)]) == 0
    assert any(dest.rglob("*.jpg"))
    assert main(["undo", str(journal), "--yes"]) == 0
    assert not (tmp_path / "new1").exists()


@pytest.mark.parametrize(
    "text", ["", "\n", '{"schema": "neardup.jou'], ids=["empty", "blank", "torn"]
)
def test_a_journal_cut_short_before_its_header_has_nothing_to_undo(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], text: str
) -> None:
    journal = tmp_path / "j.jsonl"
    journal.write_text(text)
    for command in ("undo", "purge"):
        assert main([command, str(journal), "--yes"]) == 0
        out = capsys.readouterr().out
        assert f"the run was cut short before anything was journalled; nothing to {command}" in out
    journal.write_text('{"schema": "neardup.scan/2"}\n')  # not a journal at all: still exit 2
    assert main(["undo", str(journal), "--yes"]) == 2
    assert "is not a neardup journal" in capsys.readouterr().err


def test_act_says_where_its_journal_is_before_it_writes_it(tmp_path: Path) -> None:
    _, result = _folder(tmp_path)
    journal = tmp_path / "j.jsonl"
    lines: list[str] = []
    apply_plan(load_plan(result), "trash", journal=journal, yes=True, out=lines.append)
    assert lines[0] == f"journal: {journal}"  # before the first file is touched
    assert lines[1].startswith("trashed")
