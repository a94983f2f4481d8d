"""`act`, `undo` and `purge` stay inside the folders the user gave and say what they refuse:
undo never restores through a folder link leading out of the root and makes a removed folder
again inside it; the trash is never made above folders scanned separately; a file kept in
one group is not removed when another group names it through a linked folder; a missing
--reference folder, --keep on a leakage result and a purge that left a file alone are said,
with their exit codes."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest
from conftest import FileMaker
from conftest import byte_copies as _photos
from conftest import hand_result as _result

from neardup.actions import apply_plan, load_plan, undo
from neardup.actions.journal import read as read_journal
from neardup.actions.plan import DECISIONS_SCHEMA
from neardup.cli import main


def _trash_then_remove_folder(tmp_path: Path) -> tuple[Path, Path, Path]:
    """photos/a.jpg kept, photos/sub/b.jpg trashed (journal j.jsonl), then photos/sub
    removed: (photos, the trashed file's old path, the journal)."""
    photos = tmp_path / "photos"
    _photos(photos, "a.jpg", "sub/b.jpg")
    result = _result(tmp_path, [["photos/a.jpg", "photos/sub/b.jpg"]])
    journal = tmp_path / "j.jsonl"
    assert main(["act", str(result), "--trash", "--yes", "--journal", str(journal)]) == 0
    (photos / "sub").rmdir()
    return photos, photos / "sub" / "b.jpg", journal


def test_undo_refuses_a_folder_that_now_leads_out_of_the_root(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    photos, gone, journal = _trash_then_remove_folder(tmp_path)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (photos / "sub").symlink_to(elsewhere)  # the folder replaced by a link out of the root
    held = read_journal(journal).entries[0].record["to"]
    capsys.readouterr()
    assert main(["undo", str(journal), "--yes"]) == 1
    out = capsys.readouterr().out
    assert f"problem     {gone}: {photos / 'sub'} leads out of {photos}" in out
    assert list(elsewhere.iterdir()) == []  # nothing written outside the root
    assert Path(held).is_file()  # the file stays held, undo can be run again
    assert read_journal(journal).entries[0].undone is False


def test_undo_makes_a_removed_folder_again_inside_the_root(tmp_path: Path) -> None:
    photos, gone, journal = _trash_then_remove_folder(tmp_path)
    assert main(["undo", str(journal), "--yes"]) == 0
    assert gone.read_bytes() == (photos / "a.jpg").read_bytes()
    assert not (photos / ".neardup-trash").exists()  # the trash folders undo removes as before
    assert sorted(p.name for p in photos.iterdir()) == ["a.jpg", "sub"]


def test_trash_is_not_made_above_folders_scanned_separately(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """`scan home/me/photos mnt/usb`: their common folder is neither; --root says where."""
    _photos(tmp_path, "home/me/photos/a.jpg", "mnt/usb/b.jpg")
    monkeypatch.chdir(tmp_path)
    scan = ["scan", "home/me/photos", "mnt/usb", "--json", "r.json", "-q", "--no-cache"]
    assert main([*scan, "--method", "pdq", "--workers", "1"]) == 0
    assert main(["act", "r.json", "--trash"]) == 2
    err = capsys.readouterr().err
    assert f"their common folder {tmp_path} is none of them" in err and "--root" in err
    assert main(["act", "r.json", "--trash", "--root", "."]) == 2  # nor their parent, given
    assert "--root . is none of the folders scanned" in capsys.readouterr().err
    # --root one of them: the copy in the other is refused ("outside the target folder").
    in_each = [
        main(["act", "r.json", "--trash", "--root", d]) for d in ("home/me/photos", "mnt/usb")
    ]
    assert sorted(in_each) == [0, 1]
    assert "outside the target folder" in capsys.readouterr().out
    assert main(["act", "r.json", "--move", "dups"]) == 0  # a move writes under DIR only
    assert not (tmp_path / ".neardup-trash").exists()


def test_a_scan_records_its_folders_and_act_keeps_its_trash_inside_them(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """`scan photos/2019 photos/2020`: the paths share a first part, so only the folders the
    result records (`settings.folders`) tell that `photos` itself was not given."""
    _photos(tmp_path, "photos/2019/a.jpg", "photos/2020/b.jpg")
    monkeypatch.chdir(tmp_path)
    scan = ["scan", "photos/2019", "photos/2020", "--json", "r.json", "-q", "--no-cache"]
    assert main([*scan, "--method", "pdq", "--workers", "1"]) == 0
    doc = json.loads((tmp_path / "r.json").read_text())
    assert doc["settings"]["folders"] == ["photos/2019", "photos/2020"]
    assert main(["act", "r.json", "--trash"]) == 2
    assert "--root" in capsys.readouterr().err
    assert (
        main(["scan", "photos", "--json", "one.json", "-q", "--no-cache", "--method", "pdq"]) == 0
    )
    assert main(["act", "one.json", "--trash"]) == 0  # the folder given holds the trash


def test_one_scanned_folder_still_holds_the_trash(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`scan photos` (or `scan .`) where the copies lie only in subfolders: the trash goes
    into the scanned folder, as before."""
    photos = tmp_path / "photos"
    _photos(photos, "2019/a.jpg", "2020/b.jpg")
    for written in ("photos/2019/a.jpg", "./photos/2019/a.jpg"):
        other = written.replace("2019/a", "2020/b")
        result = _result(tmp_path, [[written, other]])
        plan = load_plan(result)
        outcome = apply_plan(plan, "trash", out=lambda _: None)
        assert outcome.done == 1 and not outcome.refused


def test_trash_of_a_leakage_result_stays_in_a_scanned_folder(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A leakage result records its splits' folders: data/ holds both and is neither."""
    _photos(tmp_path, "data/train/a.jpg", "data/test/b.jpg")
    sets = [{"name": "train", "paths": ["data/train"]}, {"name": "test", "paths": ["data/test"]}]
    pairs = [{"a": "data/train/a.jpg", "b": "data/test/b.jpg", "sets": ["train", "test"]}]
    groups = [["data/train/a.jpg", "data/test/b.jpg"]]
    result = _result(tmp_path, groups, leakage={"sets": sets}, pairs=pairs)
    assert main(["act", str(result), "--trash"]) == 2
    assert f"their common folder {tmp_path / 'data'} is none" in capsys.readouterr().err
    assert main(["act", str(result), "--trash", "--root", str(tmp_path / "data/test")]) == 0


def test_a_file_kept_elsewhere_is_kept_when_named_through_a_linked_folder(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    p = tmp_path / "p"
    a, b = _photos(p, "a.jpg", "b.jpg")
    (p / "self").symlink_to(".")
    decisions = tmp_path / "dec.json"
    groups = [
        {"group": 1, "keep": [{"path": "p/a.jpg"}], "remove": [{"path": "p/b.jpg"}]},
        {"group": 2, "keep": [{"path": "p/b.jpg"}], "remove": [{"path": "p/self/a.jpg"}]},
    ]
    decisions.write_text(
        json.dumps({"schema": DECISIONS_SCHEMA, "cwd": str(tmp_path), "groups": groups})
    )
    plan = load_plan(decisions)
    assert plan.items == []
    assert (str(p / "self" / "a.jpg"), "kept in another group") in plan.left
    journal = tmp_path / "j.jsonl"
    assert main(["act", str(decisions), "--trash", "--yes", "--journal", str(journal)]) == 0
    assert a.is_file() and b.is_file()
    assert "would trash" not in capsys.readouterr().out


def test_a_missing_reference_folder_is_an_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _photos(tmp_path, "lib/originals/a.jpg", "lib/b.jpg")
    result = _result(tmp_path, [["lib/b.jpg", "lib/originals/a.jpg"]])
    typo = str(tmp_path / "lib" / "orignals")
    assert main(["act", str(result), "--trash", "--reference", typo]) == 2
    assert f"--reference {typo}: no such file or folder" in capsys.readouterr().err
    reference = str(tmp_path / "lib" / "originals")
    assert main(["act", str(result), "--trash", "--reference", reference]) == 0


def test_keep_on_a_leakage_result_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A leakage result keeps each group's earliest split; --keep there is said, not
    silently dropped."""
    _photos(tmp_path, "train/a.jpg", "test/b.jpg")
    sets = [{"name": "train", "paths": ["train"]}, {"name": "test", "paths": ["test"]}]
    pairs = [{"a": "train/a.jpg", "b": "test/b.jpg", "sets": ["train", "test"]}]
    result = _result(tmp_path, [["train/a.jpg", "test/b.jpg"]], leakage={"sets": sets}, pairs=pairs)
    dest = str(tmp_path / "held")
    assert main(["act", str(result), "--move", dest, "--keep", "*/test/*"]) == 2
    assert "--keep does not apply to a leakage result" in capsys.readouterr().err
    assert main(["act", str(result), "--move", dest]) == 0


def test_purge_that_leaves_a_file_alone_exits_1(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _photos(tmp_path, "photos/a.jpg", "photos/b.jpg")
    result = _result(tmp_path, [["photos/a.jpg", "photos/b.jpg"]])
    journal = tmp_path / "j.jsonl"
    assert main(["act", str(result), "--delete", "--yes", "--journal", str(journal)]) == 0
    held = Path(read_journal(journal).entries[0].record["to"])
    with held.open("ab") as handle:
        handle.write(b"changed")
    capsys.readouterr()
    assert main(["purge", str(journal), "--yes"]) == 1
    out = capsys.readouterr().out
    assert "not there or changed; left alone" in out and "0 files purged, 1 problem" in out
    assert held.is_file()
    assert undo(journal, yes=True, out=lambda _: None).problems  # changed: not restored either
    assert os.path.exists(tmp_path / "photos" / "a.jpg")


def test_a_move_into_an_existing_file_is_an_error_in_the_dry_run_too(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The dry run must say what the real run meets: every move into a file would fail."""
    a, _ = _photos(tmp_path, "photos/a.jpg", "photos/b.jpg")
    result = _result(tmp_path, [["photos/a.jpg", "photos/b.jpg"]])
    journal = tmp_path / "j.jsonl"
    for extra in ([], ["--yes", "--journal", str(journal)]):
        assert main(["act", str(result), "--move", str(a), *extra]) == 2
        assert f"--move {a} exists and is not a folder" in capsys.readouterr().err
    assert not journal.exists() and (tmp_path / "photos" / "b.jpg").is_file()


@pytest.mark.parametrize(
    ("group", "said"),
    [
        ({"members": []}, "group 1 has no `keeper`"),
        ({"keeper": {"path": "a.jpg", "bytes": "9163"}}, "`bytes` is '9163', not an integer"),
        ({"keeper": {"path": "a.jpg"}, "members": [{"path": "b.jpg", "bytes": True}]}, "`bytes`"),
        ({"keeper": {"bytes": 1}}, "group 1 keeper has no `path` string"),
        ({"keeper": {"path": "a.jpg"}, "members": {"path": "b.jpg"}}, "`members` is not a list"),
    ],
)
def test_a_malformed_result_is_one_line_and_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], group: dict[str, Any], said: str
) -> None:
    result = tmp_path / "bad.json"
    result.write_text(json.dumps({"schema": "neardup.scan/2", "cwd": "/tmp", "groups": [group]}))
    assert main(["act", str(result), "--trash"]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"neardup: error: {result}: malformed result: ") and said in err
    assert err.count("\n") == 1


def test_a_malformed_decisions_file_is_one_line_and_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    decisions = tmp_path / "dec.json"
    group = {"group": 1, "keep": [{"path": "a.jpg"}], "remove": [{"path": "b.jpg", "bytes": 1.5}]}
    doc = {"schema": DECISIONS_SCHEMA, "cwd": str(tmp_path), "groups": [group]}
    decisions.write_text(json.dumps(doc))
    assert main(["act", str(decisions), "--trash"]) == 2
    err = capsys.readouterr().err
    assert "malformed decisions file: group 1 remove[1] (b.jpg): `bytes` is 1.5" in err


def _hardlinked_pair(tmp_path: Path) -> tuple[Path, Path, bytes, Path]:
    """photos/a.png kept, photos/sub/b.jpg (smaller) replaced by a hard link to it: (the
    keeper, the member, the member's bytes before, the journal)."""
    photos = tmp_path / "photos"
    keeper, member = FileMaker.image(photos / "a.png", "coffee", 160), photos / "sub" / "b.jpg"
    FileMaker.image(member, "coffee", 100)
    old = member.read_bytes()
    result = _result(tmp_path, [["photos/a.png", "photos/sub/b.jpg"]])
    journal = tmp_path / "j.jsonl"
    assert main(["act", str(result), "--hardlink", "--yes", "--journal", str(journal)]) == 0
    return keeper, member, old, journal


def test_undo_of_a_hardlink_puts_back_a_keeper_the_user_deleted(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """After --hardlink the two names show one picture; a user who deletes the keeper's name
    leaves our link the only name of its content. Undo put the old copy back and unlinked
    that last name (a tester: the keeper's content was lost, exit 0). It now moves it back
    to the keeper's path first; with that path taken by another file it is left alone."""
    keeper, member, old, journal = _hardlinked_pair(tmp_path)
    kept = keeper.read_bytes()
    keeper.unlink()
    capsys.readouterr()
    assert main(["undo", str(journal)]) == 0  # the dry run says so and touches nothing
    assert f"would put back {keeper}" in capsys.readouterr().out
    assert member.read_bytes() == kept and not keeper.exists()
    assert main(["undo", str(journal), "--yes"]) == 0
    assert keeper.read_bytes() == kept and member.read_bytes() == old


def test_undo_leaves_a_hardlink_alone_when_it_is_the_last_copy_and_the_keeper_path_is_taken(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    keeper, member, _, journal = _hardlinked_pair(tmp_path)
    kept = keeper.read_bytes()
    keeper.unlink()
    keeper.write_bytes(b"something else")
    assert main(["undo", str(journal), "--yes"]) == 1
    assert "last copy of its keeper's content" in capsys.readouterr().out
    assert member.read_bytes() == kept  # the only copy stays


def _deny_writing(monkeypatch: pytest.MonkeyPatch, folder: Path) -> None:
    """`folder` read-only to this process, as for a user without rights there (the tests may
    run as root, whom file modes do not bind)."""
    real_access = os.access

    def access(path: Any, mode: int, **kw: Any) -> bool:
        if mode & os.W_OK and os.path.realpath(path) == os.path.realpath(folder):
            return False
        return real_access(path, mode, **kw)

    monkeypatch.setattr(os, "access", access)


@pytest.mark.parametrize("readonly", ["photos/sub", "photos"])
def test_the_dry_run_foresees_a_folder_it_cannot_write(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    readonly: str,
) -> None:
    """A file in a read-only folder, or a read-only scanned folder where the trash would go: the
    dry run said every file would be trashed and the real run then failed them, leaving empty
    trash folders (a tester). Both now refuse it up front, touching nothing."""
    photos = tmp_path / "photos"
    _photos(photos, "a.jpg", "sub/b.jpg")
    result = _result(tmp_path, [["photos/a.jpg", "photos/sub/b.jpg"]])
    _deny_writing(monkeypatch, tmp_path / readonly)
    act = ["act", str(result), "--trash", "--journal", str(tmp_path / "j.jsonl")]
    assert main(act) == 1
    dry = capsys.readouterr().out
    assert f"cannot write in {tmp_path / readonly} (permission denied)" in dry
    assert main([*act, "--yes"]) == 1
    assert "0 files done" in capsys.readouterr().out
    assert (photos / "sub" / "b.jpg").is_file() and not (photos / ".neardup-trash").exists()


def test_the_undo_dry_run_foresees_a_folder_it_cannot_write(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    photos, gone, journal = _trash_then_remove_folder(tmp_path)
    (photos / "sub").mkdir()
    _deny_writing(monkeypatch, photos / "sub")
    capsys.readouterr()
    assert main(["undo", str(journal)]) == 1
    assert f"cannot restore {gone}: cannot write in {photos / 'sub'}" in capsys.readouterr().out


@pytest.mark.parametrize("then", ["undo", "purge"])
def test_a_purge_killed_before_its_unlink_leaves_the_file_restorable_and_purgeable(
    tmp_path: Path, then: str
) -> None:
    """Purge journals a file, then unlinks it; killed in between, the file is still held but
    undo called it deleted for good and purge never took it again (it stayed in the trash).
    Both now look at what is there."""
    photos = tmp_path / "photos"
    _, member = _photos(photos, "a.jpg", "b.jpg")
    result = _result(tmp_path, [["photos/a.jpg", "photos/b.jpg"]])
    journal = tmp_path / "j.jsonl"
    assert main(["act", str(result), "--delete", "--yes", "--journal", str(journal)]) == 0
    with journal.open("a") as lines:  # the state a kill right after the purge record leaves
        lines.write(json.dumps({"purged": 1, "time": 1.0}) + "\n")
    assert main([then, str(journal), "--yes"]) == 0
    held = list((photos / ".neardup-trash").rglob("*.jpg")) if then == "purge" else []
    assert member.is_file() == (then == "undo") and held == []


def test_a_journal_that_cannot_be_written_is_one_error_and_nothing_is_touched(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Was one "failed ... No such file" line per file and exit 1; the dry run said nothing."""
    photos = tmp_path / "photos"
    _photos(photos, "a.jpg", "b.jpg", "c.jpg")
    result = _result(tmp_path, [["photos/a.jpg", "photos/b.jpg", "photos/c.jpg"]])
    (tmp_path / "file").write_text("not a folder")
    journal = tmp_path / "file" / "j.jsonl"
    for sure in ([], ["--yes"]):
        assert main(["act", str(result), "--trash", "--journal", str(journal), *sure]) == 2
        captured = capsys.readouterr()
        assert f"the journal {journal}: cannot create it" in captured.err
        assert "failed" not in captured.out
    assert sorted(p.name for p in photos.iterdir()) == ["a.jpg", "b.jpg", "c.jpg"]


def test_act_output_keeps_a_file_with_a_newline_on_one_line_and_a_second_undo_says_so(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    photos = tmp_path / "photos"
    _photos(photos, "a.jpg", "two\nlines.jpg")
    result = _result(tmp_path, [["photos/a.jpg", "photos/two\nlines.jpg"]])
    journal = tmp_path / "j.jsonl"
    assert main(["act", str(result), "--trash", "--yes", "--journal", str(journal)]) == 0
    out = capsys.readouterr().out
    assert "two\\nlines.jpg" in out and not any(
        line.startswith("lines.jpg") for line in out.split("\n")
    )
    assert main(["undo", str(journal), "--yes"]) == 0
    assert (photos / "two\nlines.jpg").is_file()
    capsys.readouterr()
    assert main(["undo", str(journal), "--yes"]) == 0
    assert "already undone" in capsys.readouterr().out


def test_undo_of_a_hardlink_restores_when_the_keeper_was_rewritten_with_its_content(
    tmp_path: Path,
) -> None:
    """A sync tool rewrites the keeper as a new file with the same bytes: our link is then its
    content's only name at that inode, but the content is still at the keeper's path, so the
    link goes and the original comes back (a review: the first form refused it)."""
    keeper, member, old, journal = _hardlinked_pair(tmp_path)
    kept = keeper.read_bytes()
    rewritten = keeper.parent / ".a.tmp"
    rewritten.write_bytes(kept)
    os.replace(rewritten, keeper)
    assert main(["undo", str(journal), "--yes"]) == 0
    assert keeper.read_bytes() == kept and member.read_bytes() == old


def _hardlinked_three(tmp_path: Path) -> tuple[Path, Path, Path]:
    """photos/a.png kept, photos/b.jpg and c.jpg (other sizes) replaced by hard links to it:
    (photos, the keeper, the journal)."""
    photos = tmp_path / "photos"
    keeper = FileMaker.image(photos / "a.png", "coffee", 160)
    for name, side in (("b.jpg", 100), ("c.jpg", 90)):
        FileMaker.image(photos / name, "coffee", side)
    result = _result(tmp_path, [["photos/a.png", "photos/b.jpg", "photos/c.jpg"]])
    journal = tmp_path / "j.jsonl"
    assert main(["act", str(result), "--hardlink", "--yes", "--journal", str(journal)]) == 0
    return photos, keeper, journal


def test_the_undo_dry_run_says_a_keeper_goes_back_in_a_group_of_three(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Two members hard-linked to a keeper the user then deleted: the real run unlinks one
    link, then puts the other back as the keeper; the dry run says the same."""
    photos, keeper, journal = _hardlinked_three(tmp_path)
    keeper.unlink()
    capsys.readouterr()
    assert main(["undo", str(journal)]) == 0
    dry = [line.split()[:3] for line in capsys.readouterr().out.splitlines()]
    assert main(["undo", str(journal), "--yes"]) == 0
    done = [line.split()[:2] for line in capsys.readouterr().out.splitlines()]
    assert ["would", "put", "back"] in dry and ["put", "back"] in done
    assert keeper.is_file() and len(list(photos.glob("*.jpg"))) == 2


def test_the_undo_dry_run_puts_a_keeper_back_once(tmp_path: Path) -> None:
    """The keeper deleted and one of its two links rewritten by a sync tool: the dry run said
    it would put the keeper back twice (a review); once, as the real run does."""
    photos, keeper, journal = _hardlinked_three(tmp_path)
    keeper.unlink()
    rewritten = photos / ".c.tmp"
    rewritten.write_bytes((photos / "c.jpg").read_bytes())
    os.replace(rewritten, photos / "c.jpg")
    said: list[str] = []
    undo(journal, out=said.append)
    done: list[str] = []
    undo(journal, yes=True, out=done.append)
    assert sum("put back" in line for line in said) == 1 == sum("put back" in x for x in done)
