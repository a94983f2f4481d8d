"""`act` acts only inside the folders the user gave, and keeps what it promises to keep: a
leakage result never touches the earliest split, whatever `--reference` says; a copy kept
through a link leading out of the scanned folders leaves its group alone; a file named
outside the scanned folders is refused by every action, `--move` too; an explicit `--root`
outside the scanned folders is an error."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest
from conftest import byte_copies as _photos
from conftest import hand_result as _result

from neardup.actions import apply_plan, load_plan
from neardup.cli import main


def _leakage(cwd: Path, splits: dict[str, list[str]], **extra: Any) -> Path:
    """A leakage result with one group holding every file of `splits` (split name -> paths,
    in split order), each later file paired with the first file of the first split."""
    names = list(splits)
    sets = [{"name": name, "paths": [name]} for name in names]
    first = splits[names[0]][0]
    pairs = [
        {"a": first, "b": path, "sets": [names[0], name]}
        for name in names
        for path in splits[name]
        if path != first
    ]
    files = [path for name in names for path in splits[name]]
    settings = {"folders": names} | extra
    return _result(cwd, [files], leakage={"sets": sets}, pairs=pairs, settings=settings)


def test_leakage_with_a_reference_in_a_later_split_keeps_the_training_set(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """`act leak.json --move held --reference val`: train keeps its files (the earliest
    split always stays), val is kept too (the reference), only test's copy is moved."""
    train_a, train_b, val, test = _photos(
        tmp_path, "train/a.jpg", "train/b.jpg", "val/v.jpg", "test/t.jpg"
    )
    splits = {"train": ["train/a.jpg", "train/b.jpg"], "test": ["test/t.jpg"], "val": ["val/v.jpg"]}
    result = _leakage(tmp_path, splits)
    plan = load_plan(result, references=[str(tmp_path / "val")])
    assert [item.path for item in plan.items] == [str(test)]
    assert plan.items[0].keeper == str(train_a)  # the earliest split's file: any link's target
    assert sorted(plan.kept) == sorted(map(str, (train_a, train_b, val)))
    journal = tmp_path / "j.jsonl"
    argv = ["act", str(result), "--move", str(tmp_path / "held"), "--yes", "--journal"]
    assert main([*argv, str(journal), "--reference", str(tmp_path / "val")]) == 0
    assert train_a.is_file() and train_b.is_file() and val.is_file() and not test.exists()
    assert "1 file done" in capsys.readouterr().out


def _linked_keeper(tmp_path: Path) -> tuple[Path, list[Path]]:
    """photos/a.jpg and photos/b.jpg, and photos/link.jpg -> ../ext/c.jpg (the same picture
    outside the scanned folder): (photos, [a, b])."""
    photos = tmp_path / "photos"
    (outside,) = _photos(tmp_path, "ext/c.jpg")
    files = _photos(photos, "a.jpg", "b.jpg")
    (photos / "link.jpg").symlink_to(Path("..") / "ext" / outside.name)
    return photos, files


@pytest.mark.parametrize("recorded", [True, False], ids=["folders recorded", "older result"])
def test_a_keeper_linked_out_of_the_scanned_folder_leaves_its_group_alone(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], recorded: bool
) -> None:
    _, files = _linked_keeper(tmp_path)
    extra = {"settings": {"folders": ["photos"]}} if recorded else {}
    result = _result(tmp_path, [["photos/link.jpg", "photos/a.jpg", "photos/b.jpg"]], **extra)
    reason = "photos/link.jpg, lies outside the folders acted in once its links are resolved"
    assert main(["act", str(result), "--delete"]) == 1  # the dry run says it
    dry = capsys.readouterr().out
    assert dry.count(reason) == 2 and "would delete" not in dry
    journal = tmp_path / "j.jsonl"
    assert main(["act", str(result), "--delete", "--yes", "--journal", str(journal)]) == 1
    assert reason in capsys.readouterr().out
    assert all(f.is_file() for f in files)  # the real copies stay
    assert not journal.exists()  # nothing was touched


def test_a_keeper_linked_inside_the_folder_is_still_kept(tmp_path: Path) -> None:
    photos = tmp_path / "photos"
    a, b = _photos(photos, "a.jpg", "sub/b.jpg")
    (photos / "link.jpg").symlink_to("a.jpg")
    result = _result(tmp_path, [["photos/link.jpg", "photos/sub/b.jpg"]])
    journal = tmp_path / "j.jsonl"
    outcome = apply_plan(load_plan(result), "trash", journal=journal, yes=True, out=lambda _: None)
    assert outcome.done == 1 and not outcome.refused and a.is_file() and not b.exists()


def test_against_an_index_its_images_are_kept_where_they_are(tmp_path: Path) -> None:
    """The index's images lie outside the scanned folders by design: kept, unless linked."""
    work = tmp_path / "work"
    lib, test, linked = _photos(work, "lib/a.jpg", "test/t.jpg", "test/u.jpg")
    shutil.copy2(lib, tmp_path / "ext.jpg")
    (work / "lib" / "link.jpg").symlink_to(tmp_path / "ext.jpg")
    sets = [{"name": "index", "paths": ["idx"]}, {"name": "test", "paths": ["test"]}]
    pairs = [
        {"a": str(lib), "b": "test/t.jpg", "sets": ["index", "test"]},
        {"a": str(work / "lib" / "link.jpg"), "b": "test/u.jpg", "sets": ["index", "test"]},
    ]
    groups = [[str(lib), "test/t.jpg"], [str(work / "lib" / "link.jpg"), "test/u.jpg"]]
    settings = {"folders": ["test"], "index": "idx"}
    result = _result(work, groups, leakage={"sets": sets}, pairs=pairs, settings=settings)
    dest, journal = str(tmp_path / "held"), tmp_path / "j.jsonl"
    outcome = apply_plan(
        load_plan(result), "move", dest=dest, journal=journal, yes=True, out=lambda _: None
    )
    assert outcome.done == 1 and not test.exists() and lib.is_file()
    assert [path for path, _ in outcome.refused] == [str(linked)] and linked.is_file()


def test_a_file_named_outside_the_scanned_folders_is_refused_by_move(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A result that names photos/../outside/b2.jpg: no action touches it, `--move` neither."""
    _photos(tmp_path, "photos/a.jpg", "photos/b.jpg")
    (b2,) = _photos(tmp_path, "outside/b2.jpg")
    groups = [["photos/a.jpg", "photos/b.jpg", "photos/../outside/b2.jpg"]]
    result = _result(tmp_path, groups, settings={"folders": ["photos"]})
    journal = tmp_path / "j.jsonl"
    dups = tmp_path / "dups"
    assert main(["act", str(result), "--move", str(dups), "--yes", "--journal", str(journal)]) == 1
    out = capsys.readouterr().out
    assert f"refused     {b2}: outside the folders scanned, {tmp_path / 'photos'}" in out
    assert b2.is_file() and not (dups / "outside").exists()
    assert (dups / "photos" / "b.jpg").is_file()  # the file inside was moved as asked
    trash = ["act", str(result), "--trash", "--root", str(tmp_path / "photos")]
    assert main(trash) == 1 and f"refused     {b2}: outside" in capsys.readouterr().out


@pytest.mark.parametrize("root", ["/", "parent"])
def test_an_explicit_root_outside_the_scanned_folders_is_an_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], root: str
) -> None:
    _photos(tmp_path, "photos/a.jpg", "photos/b.jpg")
    given = str(tmp_path) if root == "parent" else root
    result = _result(tmp_path, [["photos/a.jpg", "photos/b.jpg"]], settings={"folders": ["photos"]})
    assert main(["act", str(result), "--trash", "--root", given]) == 2
    assert f"--root {given} is none of the folders scanned" in capsys.readouterr().err
    assert main(["act", str(result), "--trash", "--root", str(tmp_path / "photos")]) == 0
    older = _result(tmp_path, [["photos/a.jpg", "photos/b.jpg"]])  # no settings.folders
    assert main(["act", str(older), "--trash", "--root", str(tmp_path)]) == 0  # as documented


def _decisions(cwd: Path, keep: str, remove: list[str], **extra: Any) -> Path:
    doc = {
        "schema": "neardup.decisions/1",
        "cwd": str(cwd),
        "groups": [{"group": 1, "keep": [{"path": keep}], "remove": [{"path": p} for p in remove]}],
    } | extra
    path = cwd / "decisions.json"
    path.write_text(json.dumps(doc))
    return path


@pytest.mark.parametrize("told", ["result", "folders"])
def test_a_decisions_file_keeps_to_the_folders_scanned(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], told: str
) -> None:
    """A decisions file naming a file outside the folders scanned (a tester: it was trashed,
    and `lib/..` put the trash above the folder scanned): the scan's folders come from the
    decisions file's `folders` (the report writes them) or from the result it names."""
    _photos(tmp_path, "photos/a.jpg", "photos/b.jpg")
    (victim,) = _photos(tmp_path, "outside/victim.jpg")
    result = _result(tmp_path, [["photos/a.jpg", "photos/b.jpg"]], settings={"folders": ["photos"]})
    extra = {"result": result.name} if told == "result" else {"folders": ["photos"]}
    remove = ["photos/b.jpg", "photos/../outside/victim.jpg"]
    decisions = _decisions(tmp_path, "photos/a.jpg", remove, **extra)
    dups = tmp_path / "dups"
    assert main(["act", str(decisions), "--move", str(dups), "--yes"]) == 1
    assert f"refused     {victim}: outside the folders scanned" in capsys.readouterr().out
    assert victim.is_file() and (dups / "photos" / "b.jpg").is_file()
    assert main(["act", str(decisions), "--trash", "--root", str(tmp_path)]) == 2
    assert not (tmp_path / ".neardup-trash").exists()


def test_a_hand_written_decisions_file_does_not_put_the_trash_above_the_folder_named(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Without `folders` or a result, the paths as written tell what was given, `..` resolved:
    `photos/../outside/victim.jpg` lies outside `photos`."""
    _photos(tmp_path, "photos/a.jpg", "photos/b.jpg")
    (victim,) = _photos(tmp_path, "outside/victim.jpg")
    remove = ["photos/b.jpg", "photos/../outside/victim.jpg"]
    decisions = _decisions(tmp_path, "photos/a.jpg", remove)
    assert main(["act", str(decisions), "--trash", "--yes"]) == 2
    assert "--root" in capsys.readouterr().err
    assert victim.is_file() and not (tmp_path / ".neardup-trash").exists()


def test_a_decisions_file_naming_its_result_follows_base_when_the_tree_moved(
    tmp_path: Path,
) -> None:
    """The result's folders are read against the decisions' base (--base), as their paths
    are (a review: they were read against the result's old `cwd`, refusing every file)."""
    old = tmp_path / "old"
    _photos(old, "photos/a.jpg", "photos/b.jpg")
    result = _result(old, [["photos/a.jpg", "photos/b.jpg"]], settings={"folders": ["photos"]})
    decisions = _decisions(old, "photos/a.jpg", ["photos/b.jpg"], result=str(result))
    new = tmp_path / "new"
    shutil.copytree(old, new)
    assert main(["act", str(decisions), "--move", str(tmp_path / "dups"), "--base", str(new)]) == 0


def test_a_decisions_file_without_a_base_reads_its_result_folders_where_the_scan_ran(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """No `cwd` and no --base: the result's folders are its own (relative to its `cwd`), not
    relative to wherever act runs, which would widen them (a review: a file in a sibling
    folder was trashed)."""
    home = tmp_path / "home"
    _photos(home, "photos/a.jpg", "photos/b.jpg")
    (other,) = _photos(home, "other/x.jpg")
    result = _result(home / "photos", [["a.jpg", "b.jpg"]], settings={"folders": ["."]})
    doc = {
        "schema": "neardup.decisions/1",
        "result": str(result),
        "groups": [
            {
                "group": 1,
                "keep": [{"path": "photos/a.jpg"}],
                "remove": [{"path": "photos/b.jpg"}, {"path": "other/x.jpg"}],
            }
        ],
    }
    decisions = home / "decisions.json"
    decisions.write_text(json.dumps(doc))
    monkeypatch.chdir(home)
    assert main(["act", str(decisions), "--move", str(tmp_path / "dups"), "--yes"]) == 1
    assert other.is_file() and (tmp_path / "dups").exists()
