"""`neardup act`, `undo` and `purge` on copies of a real scanned folder: every action and undo
leaves the folder byte-identical (every file hashed before and after), also after a kill -9
mid-run; changed files, links out of the root, reference folders and taken destinations are
refused; a dry run touches nothing."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from conftest import FileMaker, make_photo
from PIL import ImageOps

import neardup
from neardup.actions import apply_plan, load_plan, purge, undo
from neardup.actions.journal import read as read_journal
from neardup.actions.plan import DECISIONS_SCHEMA
from neardup.cli import main
from neardup.output import json as json_out

SRC = Path(__file__).resolve().parents[1] / "src"
Snapshot = dict[str, tuple[str, int]]


@pytest.fixture(scope="session")
def scanned(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, Any]]:
    """A real folder (three photos, each with a smaller JPEG and a mirrored copy, one
    unrelated photo, a text file, nested folders), scanned once: (its parent, the result)."""
    parent = tmp_path_factory.mktemp("scanned")
    photos = parent / "photos"
    for name in ("astronaut", "coffee", "chelsea"):
        image = make_photo(name, 300)
        FileMaker.image(photos / f"{name}.png", image)
        FileMaker.image(photos / "copies" / f"{name}_small.jpg", make_photo(name, 150))
        FileMaker.image(photos / "copies" / "deep" / f"{name}_mirror.jpg", ImageOps.mirror(image))
    FileMaker.image(photos / "moon.png", "moon")
    (photos / "notes.txt").write_text("not a picture\n")
    cwd = os.getcwd()
    os.chdir(parent)
    try:
        result = neardup.scan(["photos"], methods="pdq", cache=False, workers=1)
        doc = json_out.to_dict(result)
    finally:
        os.chdir(cwd)
    assert len(doc["groups"]) == 3, doc["groups"]
    return parent, doc


@pytest.fixture
def folder(
    scanned: tuple[Path, dict[str, Any]], tmp_path: Path
) -> Callable[..., tuple[Path, Path]]:
    """folder(doc=None) -> (photos copy, result.json for it); mtimes are copied exactly."""

    def build(doc: dict[str, Any] | None = None) -> tuple[Path, Path]:
        source, original = scanned
        work = tmp_path / "work"
        shutil.copytree(source / "photos", work / "photos")
        result = dict(doc or original)
        result["cwd"] = str(work)
        path = tmp_path / "result.json"
        path.write_text(json.dumps(result))
        return work / "photos", path

    return build


def snapshot(root: Path) -> Snapshot:
    """Every file under root: sha256 and mtime; every folder (sha "dir")."""
    out: Snapshot = {}
    for path in sorted(root.rglob("*")):
        rel = path.relative_to(root).as_posix()
        st = path.lstat()
        if path.is_symlink():
            out[rel] = ("link:" + os.readlink(path), 0)
        elif path.is_dir():
            out[rel] = ("dir", 0)
        else:
            out[rel] = (hashlib.sha256(path.read_bytes()).hexdigest(), st.st_mtime_ns)
    return out


def act(*args: str | Path) -> int:
    return main(["act", *map(str, args)])


MEMBERS = [f"copies/{n}_small.jpg" for n in ("astronaut", "coffee", "chelsea")] + [
    f"copies/deep/{n}_mirror.jpg" for n in ("astronaut", "coffee", "chelsea")
]


@pytest.mark.parametrize("action", ["move", "trash", "delete", "hardlink", "symlink"])
def test_act_then_undo_is_byte_identical(
    action: str, folder: Callable[..., tuple[Path, Path]], tmp_path: Path
) -> None:
    photos, result = folder()
    before = snapshot(photos)
    journal = tmp_path / "journal.jsonl"
    how = ["--move", str(tmp_path / "dups")] if action == "move" else [f"--{action}"]
    assert act(result, *how, "--yes", "--journal", journal) == 0
    after = snapshot(photos)
    for member in MEMBERS:
        if action in ("hardlink", "symlink"):
            path = photos / member
            assert path.exists() and (path.is_symlink() == (action == "symlink"))
        else:
            assert member not in after
    if action == "hardlink":
        keeper = photos / "astronaut.png"
        assert (photos / MEMBERS[0]).stat().st_ino == keeper.stat().st_ino
    if action == "move":
        assert (tmp_path / "dups" / MEMBERS[0]).is_file()
    for original in ("astronaut.png", "coffee.png", "chelsea.png", "moon.png", "notes.txt"):
        assert after[original] == before[original]
    records = read_journal(journal)
    assert [e.done for e in records.entries] == [True] * 6
    assert records.ended is not None  # a finished run says so (absent: a crash or a kill)
    assert all(len(e.record["sha256"]) == 64 for e in records.entries)
    assert undo(journal, yes=True).restored == 6
    assert snapshot(photos) == before
    if action == "move":
        assert not (tmp_path / "dups").exists()  # the folders act made are gone again


def test_dry_run_touches_nothing(
    folder: Callable[..., tuple[Path, Path]], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    photos, result = folder()
    before = snapshot(photos)
    journal = tmp_path / "journal.jsonl"
    for how in (["--trash"], ["--delete"], ["--hardlink"], ["--move", str(tmp_path / "d")]):
        assert act(result, *how, "--journal", journal) == 0
        out = capsys.readouterr().out
        assert out.startswith("dry run: nothing is touched")
        assert len([x for x in out.splitlines() if x.startswith("would ")]) == 6
        assert "6 files would be acted on" in out
    assert snapshot(photos) == before
    assert not journal.exists() and not (tmp_path / "d").exists()


@pytest.mark.parametrize("action", ["trash", "symlink"])
def test_kill_mid_run_then_undo_restores_everything(
    action: str, folder: Callable[..., tuple[Path, Path]], tmp_path: Path
) -> None:
    photos, result = folder()
    before = snapshot(photos)
    journal = tmp_path / "journal.jsonl"
    env = os.environ | {"NEARDUP_ACT_PAUSE": "3", "PYTHONPATH": str(SRC)}
    command = [sys.executable, "-m", "neardup", "act", str(result), f"--{action}", "--yes"]
    process = subprocess.Popen(
        [*command, "--journal", str(journal)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        # Kill it during the pause after the third intent: two files moved, the third
        # journalled but not touched.
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if journal.exists() and '"seq": 3, "op"' in journal.read_text():
                break
            time.sleep(0.02)
        else:
            pytest.fail("act never journalled its third file")
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()
    state = read_journal(journal)
    assert [e.done for e in state.entries] == [True, True, False]
    assert state.ended is None
    held = [k for k in snapshot(photos) if k.startswith(".neardup-trash/") and k.endswith(".jpg")]
    assert len(held) == 2
    if action == "symlink":
        assert sum(p.is_symlink() for p in photos.rglob("*.jpg")) == 2
    code = main(["undo", str(journal), "--yes"])
    assert code == 0
    assert snapshot(photos) == before
    # Undo again: nothing left to do, nothing touched.
    assert undo(journal, yes=True).restored == 0
    assert snapshot(photos) == before


def test_cut_short_move_leaves_both_names_and_undo_keeps_one(
    folder: Callable[..., tuple[Path, Path]], tmp_path: Path
) -> None:
    """A kill between link(src, dst) and unlink(src) leaves the file under both names."""
    photos, result = folder()
    before = snapshot(photos)
    journal = tmp_path / "journal.jsonl"
    plan = load_plan(result)
    plan.items = plan.items[:1]
    apply_plan(plan, "trash", journal=journal, yes=True, out=lambda _: None)
    entry = read_journal(journal).entries[0].record
    os.link(entry["to"], entry["path"])  # as if the unlink had not happened
    outcome = undo(journal, yes=True, out=lambda _: None)
    assert outcome.restored == 1 and not outcome.problems
    assert snapshot(photos) == before


def _touch_content(path: Path) -> None:
    """Same size, same mtime, other bytes."""
    st = path.stat()
    data = bytearray(path.read_bytes())
    data[-10] ^= 0xFF
    path.write_bytes(bytes(data))
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns))


@pytest.mark.parametrize("change", ["size", "mtime", "content", "keeper", "gone"])
def test_changed_file_is_refused(
    change: str,
    folder: Callable[..., tuple[Path, Path]],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    photos, result = folder()
    target = photos / "copies" / "coffee_small.jpg"
    if change == "size":
        with target.open("ab") as handle:
            handle.write(b"more")
    elif change == "mtime":
        os.utime(target, ns=(0, target.stat().st_mtime_ns + 5_000_000_000))
    elif change == "content":
        _touch_content(target)
    elif change == "keeper":
        _touch_content(photos / "coffee.png")
    else:
        target.unlink()
    before = snapshot(photos)
    journal = tmp_path / "journal.jsonl"
    assert act(result, "--trash", "--yes", "--journal", journal) == 1
    out = capsys.readouterr().out
    expected = {
        "size": "changed since the scan: ",
        "mtime": "changed since the scan: modified",
        "content": "changed since the scan: its content differs",
        "keeper": "coffee.png, changed since the scan: its content differs",
        "gone": "not there any more",
    }[change]
    refused = [line for line in out.splitlines() if line.startswith("refused")]
    assert any(expected in line and "coffee" in line for line in refused), out
    after = snapshot(photos)
    if change != "gone":
        assert after["copies/coffee_small.jpg"] == before["copies/coffee_small.jpg"]
    if change == "keeper":  # both copies of the changed keeper are left alone
        assert after["copies/deep/coffee_mirror.jpg"] == before["copies/deep/coffee_mirror.jpg"]
        assert "2 refused" in out
    assert "copies/astronaut_small.jpg" not in after  # the rest was done
    undo(journal, yes=True, out=lambda _: None)
    assert snapshot(photos) == before


def test_reference_folder_is_never_touched_and_kept_first(
    scanned: tuple[Path, dict[str, Any]], folder: Callable[..., tuple[Path, Path]], tmp_path: Path
) -> None:
    photos, result = folder()
    reference = photos / "copies"
    before = snapshot(photos)
    journal = tmp_path / "journal.jsonl"
    assert act(result, "--trash", "--yes", "--reference", reference, "--journal", journal) == 0
    after = snapshot(photos)
    for name, value in before.items():
        if name.startswith("copies/"):
            assert after[name] == value  # untouched
    # Each group's copy under the reference stays, so the scan's keepers went to the trash.
    for keeper in ("astronaut.png", "coffee.png", "chelsea.png"):
        assert keeper not in after
    assert undo(journal, yes=True, out=lambda _: None).restored == 3
    assert snapshot(photos) == before


def _decisions(result: Path, groups: list[dict[str, list[str]]]) -> Path:
    doc = json.loads(result.read_text())
    facts = {}
    for group in doc["groups"]:
        for entry in [group["keeper"], *group["members"]]:
            facts[entry["path"]] = {
                k: entry[k] for k in ("path", "bytes", "mtime_ns", "blake2b") if k in entry
            }
    out = {
        "schema": DECISIONS_SCHEMA,
        "cwd": doc["cwd"],
        "groups": [
            {
                "group": n,
                "keep": [facts.get(p, {"path": p}) for p in g.get("keep", [])],
                "remove": [facts.get(p, {"path": p}) for p in g.get("remove", [])],
            }
            for n, g in enumerate(groups, 1)
        ],
    }
    path = result.with_name("decisions.json")
    path.write_text(json.dumps(out))
    return path


def test_decisions_file(
    folder: Callable[..., tuple[Path, Path]], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    photos, result = folder()
    before = snapshot(photos)
    decisions = _decisions(
        result,
        [
            {"keep": ["photos/copies/astronaut_small.jpg"], "remove": ["photos/astronaut.png"]},
            {"remove": ["photos/coffee.png", "photos/copies/coffee_small.jpg"]},  # no keep
            {"keep": ["photos/chelsea.png"], "remove": ["photos/copies/chelsea_small.jpg"]},
        ],
    )
    journal = tmp_path / "journal.jsonl"
    assert act(decisions, "--trash", "--yes", "--journal", journal) == 0
    out = capsys.readouterr().out
    assert "nothing marked keep: not removing every copy; left alone" in out
    after = snapshot(photos)
    assert "astronaut.png" not in after and "copies/chelsea_small.jpg" not in after
    assert after["coffee.png"] == before["coffee.png"]
    assert after["copies/deep/chelsea_mirror.jpg"] == before["copies/deep/chelsea_mirror.jpg"]
    assert act(decisions, "--trash", "--keep", "largest") == 2  # --keep is for results
    undo(journal, yes=True, out=lambda _: None)
    assert snapshot(photos) == before


def test_paths_out_of_the_root_are_refused(
    folder: Callable[..., tuple[Path, Path]], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    photos, result = folder()
    outside = tmp_path / "outside"
    outside.mkdir()
    shutil.copy2(photos / "copies" / "coffee_small.jpg", outside / "coffee_small.jpg")
    (photos / "escape").symlink_to(outside)  # a folder link leading out of the root
    (photos / "copies" / "link.jpg").symlink_to(photos / "copies" / "chelsea_small.jpg")
    before, outside_before = snapshot(photos), snapshot(outside)
    decisions = _decisions(
        result,
        [
            {
                "keep": ["photos/coffee.png"],
                "remove": [
                    "photos/escape/coffee_small.jpg",
                    "photos/../../outside/coffee_small.jpg",
                    "photos/copies/link.jpg",
                ],
            }
        ],
    )
    assert act(decisions, "--trash", "--yes", "--root", photos) == 1
    out = capsys.readouterr().out
    assert out.count("outside the target folder") == 2
    assert "link.jpg: is a symbolic link: not touched" in out
    assert snapshot(photos) == before and snapshot(outside) == outside_before


def test_never_overwrites(
    folder: Callable[..., tuple[Path, Path]], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    photos, result = folder()
    dest = tmp_path / "dups"
    taken = dest / "copies" / "coffee_small.jpg"
    taken.parent.mkdir(parents=True)
    taken.write_bytes(b"mine")
    before = snapshot(photos)
    journal = tmp_path / "journal.jsonl"
    assert act(result, "--move", dest, "--yes", "--journal", journal) == 1
    assert "coffee_small.jpg exists: never overwritten" in capsys.readouterr().out
    assert taken.read_bytes() == b"mine"
    assert (photos / "copies" / "coffee_small.jpg").is_file()
    undo(journal, yes=True, out=lambda _: None)
    assert snapshot(photos) == before and taken.read_bytes() == b"mine"


def test_delete_holds_until_purge(
    folder: Callable[..., tuple[Path, Path]], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    photos, result = folder()
    journal = tmp_path / "journal.jsonl"
    assert act(result, "--delete", "--yes", "--journal", journal) == 0
    assert f"held until: neardup purge {journal} --yes" in capsys.readouterr().out
    held = [e.record["to"] for e in read_journal(journal).entries]
    assert all(Path(p).is_file() for p in held)
    assert purge(journal, out=lambda _: None).purged == 6  # a dry run
    assert all(Path(p).is_file() for p in held)
    assert main(["purge", str(journal), "--yes"]) == 0
    assert not any(Path(p).exists() for p in held)
    assert not (photos / ".neardup-trash").exists()
    outcome = undo(journal, yes=True, out=lambda _: None)
    assert outcome.restored == 0 and len(outcome.problems) == 6
    assert "purged for good" in outcome.problems[0][1]


def test_keep_rules(tmp_path: Path) -> None:
    def entry(path: str, w: int, b: int, t: int) -> dict[str, Any]:
        return {"path": path, "width": w, "height": w, "bytes": b, "mtime_ns": t}

    doc = {
        "schema": "neardup.scan/2",
        "cwd": str(tmp_path),
        "groups": [
            {
                "keeper": entry("a/big.png", 400, 900, 30),
                "members": [entry("b/old.jpg", 300, 2000, 10), entry("a/new.jpg", 200, 50, 50)],
            }
        ],
    }
    result = tmp_path / "r.json"
    result.write_text(json.dumps(doc))
    (tmp_path / "b").mkdir()  # a --reference folder must be there

    def kept(keep: str, refs: tuple[str, ...] = ()) -> list[str]:
        plan = load_plan(result, keep=keep, references=[str(tmp_path / r) for r in refs])
        return [os.path.relpath(p, tmp_path) for p in plan.kept]

    assert kept("keeper") == ["a/big.png"]
    assert kept("largest") == ["a/big.png"]
    assert kept("oldest") == ["b/old.jpg"]
    assert kept("newest") == ["a/new.jpg"]
    assert kept("*.jpg") == ["a/new.jpg", "b/old.jpg"]
    assert kept("*/a/*") == ["a/big.png", "a/new.jpg"]
    plan = load_plan(result, keep="*.gif")
    assert not plan.items and plan.left == [
        ("group 1", "no file matches --keep '*.gif'; left alone")
    ]
    assert kept("keeper", ("b",)) == ["b/old.jpg"]
    plan = load_plan(result, references=[str(tmp_path / "b")])
    assert sorted(os.path.relpath(i.path, tmp_path) for i in plan.items) == [
        "a/big.png",
        "a/new.jpg",
    ]


def test_scan_json_records_mtime_and_hash(scanned: tuple[Path, dict[str, Any]]) -> None:
    parent, doc = scanned
    keeper = doc["groups"][0]["keeper"]
    st = (parent / keeper["path"]).stat()
    assert keeper["mtime_ns"] == st.st_mtime_ns and keeper["bytes"] == st.st_size
    data = (parent / keeper["path"]).read_bytes()
    assert keeper["blake2b"] == hashlib.blake2b(data, digest_size=16).hexdigest()
    assert doc["cwd"] == str(parent)


def test_trash_folder_is_not_scanned(
    folder: Callable[..., tuple[Path, Path]], tmp_path: Path
) -> None:
    photos, result = folder()
    assert act(result, "--trash", "--yes", "--journal", tmp_path / "j.jsonl") == 0
    rescan = neardup.scan([photos], methods="pdq", cache=False, workers=1)
    assert not rescan.groups
    assert all(".neardup-trash" not in f.path for f in rescan.images)


def test_groups_with_video_frames_are_left_alone(
    folder: Callable[..., tuple[Path, Path]], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A frame that matches a still (or a frame of another video) does not make either file a
    copy: such groups are left alone, from a result and from a decisions file alike, and the
    other groups are acted on."""
    _, result = folder()
    doc = json.loads(result.read_text())
    doc["groups"][0]["members"][0]["frame"] = 12  # as a video's frame is listed
    result.write_text(json.dumps(doc))
    plan = load_plan(result)
    framed = doc["groups"][0]["members"][0]["path"]
    assert ("group 1", "holds video frames") in [(g, r[:18]) for g, r in plan.left]
    acted = {Path(item.path).name for item in plan.items}
    assert Path(framed).name not in acted and len({item.group for item in plan.items}) == 2
    decisions = json.loads(_decisions(result, [{"keep": [framed], "remove": []}]).read_text())
    decisions["groups"][0]["remove"] = [{"path": doc["groups"][0]["keeper"]["path"], "frame": 3}]
    path = tmp_path / "framed-decisions.json"
    path.write_text(json.dumps(decisions))
    assert load_plan(path).items == []
    assert act(path, "--trash") == 0
    assert "holds video frames" in capsys.readouterr().out


def test_a_move_that_cannot_remove_the_original_leaves_no_second_name(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The original is linked at its new place, then unlinked; where that fails (a read-only
    folder) the new name goes again, so the trash holds nothing the run says it left."""
    from neardup.actions import fileops

    src, dst = tmp_path / "a.jpg", tmp_path / "held" / "a.jpg"
    dst.parent.mkdir()
    src.write_bytes(b"picture")
    real_unlink = os.unlink

    def refuse(path: str | os.PathLike[str], *args: Any, **kwargs: Any) -> None:
        if Path(path) == src:
            raise PermissionError(13, "Permission denied", str(path))
        real_unlink(path, *args, **kwargs)

    monkeypatch.setattr(fileops.os, "unlink", refuse)
    with pytest.raises(PermissionError):
        fileops.move_no_clobber(str(src), str(dst))
    assert src.read_bytes() == b"picture" and not dst.exists()
    assert os.stat(src).st_nlink == 1


def test_ctrl_c_says_where_the_journal_is(
    folder: Callable[..., tuple[Path, Path]], tmp_path: Path
) -> None:
    """Interrupted (Ctrl-C), act names its journal (the only way back) and does not claim
    that anything was cached; undo from that journal restores the folder."""
    photos, result = folder()
    before = snapshot(photos)
    journal = tmp_path / "journal.jsonl"
    env = os.environ | {"NEARDUP_ACT_PAUSE": "3", "PYTHONPATH": str(SRC)}
    command = [sys.executable, "-m", "neardup", "act", str(result), "--trash", "--yes"]
    process = subprocess.Popen(
        [*command, "--journal", str(journal)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        # Ctrl-C as at a terminal, even where this test runs with SIGINT ignored (a
        # background job): Python turns SIGINT into KeyboardInterrupt only if not ignored.
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if journal.exists() and '"seq": 2, "op"' in journal.read_text():
                break
            time.sleep(0.02)
        else:
            pytest.fail("act never journalled its second file")
        process.send_signal(signal.SIGINT)
        out, err = process.communicate(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()
    assert process.returncode == 130, (out, err)
    assert f"journal: {journal}" in out and "interrupted after 1 files" in out
    assert "cached" not in err and "interrupted" in err
    assert read_journal(journal).ended is None  # cut short: no end record
    assert main(["undo", str(journal), "--yes"]) == 0
    assert snapshot(photos) == before


def test_decisions_are_held_to_the_groups_of_the_scan_they_name(
    folder: Callable[..., tuple[Path, Path]], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A tester edited a decisions file so that a group kept one picture and removed another
    (another scan group's file): `act --symlink` replaced it with a link to the kept one.
    Where the decisions name their scan result, a removed file must share a scan group with a
    file kept; else it is left alone, with the reason."""
    photos, result = folder()
    before = snapshot(photos)
    decisions = _decisions(
        result,
        [
            {"keep": ["photos/chelsea.png"], "remove": ["photos/coffee.png"]},  # not copies
            {"keep": ["photos/astronaut.png"], "remove": ["photos/copies/astronaut_small.jpg"]},
        ],
    )
    doc = json.loads(decisions.read_text())
    decisions.write_text(json.dumps(doc | {"result": str(result)}))
    journal = tmp_path / "journal.jsonl"
    assert act(decisions, "--symlink", "--yes", "--journal", journal) == 0
    out = capsys.readouterr().out
    assert "coffee.png: not in one scan group with a file kept" in out
    after = snapshot(photos)
    assert after["coffee.png"] == before["coffee.png"]
    assert after["copies/astronaut_small.jpg"] != before["copies/astronaut_small.jpg"]  # a link
    undo(journal, yes=True, out=lambda _: None)
    assert snapshot(photos) == before


def test_one_run_at_a_time_changes_files_in_a_folder(
    folder: Callable[..., tuple[Path, Path]], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A tester ran two `act --trash --yes` on one result at once: each failed on files the
    other had moved, and left hard-linked copies in the trash. A run holds its root's lock;
    a second act or undo there is refused before it touches anything."""
    import fcntl

    photos, result = folder()
    before = snapshot(photos)
    journal = tmp_path / "journal.jsonl"
    fd = os.open(photos, os.O_RDONLY | os.O_DIRECTORY)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)  # another run, working in the folder
        assert act(result, "--trash", "--yes", "--journal", journal) == 2
        assert "another neardup act or undo is changing files in" in capsys.readouterr().err
        assert snapshot(photos) == before and not journal.exists()
        assert act(result, "--trash") == 0  # a dry run touches nothing: it needs no lock
    finally:
        os.close(fd)
    assert act(result, "--trash", "--yes", "--journal", journal) == 0
    fd = os.open(photos, os.O_RDONLY | os.O_DIRECTORY)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        assert main(["undo", str(journal), "--yes"]) == 2
    finally:
        os.close(fd)
    assert main(["undo", str(journal), "--yes"]) == 0
    assert snapshot(photos) == before


def test_two_runs_undone_oldest_first_leave_no_trash_folder(
    folder: Callable[..., tuple[Path, Path]], tmp_path: Path
) -> None:
    """A tester: the first run made `.neardup-trash` and could not remove it while the second
    run's folder was in it; the second had not made it, so it stayed, empty."""
    photos, result = folder()
    before = snapshot(photos)
    journals = []
    for n, name in enumerate(("astronaut", "coffee")):
        decisions = _decisions(
            result,
            [{"keep": [f"photos/{name}.png"], "remove": [f"photos/copies/{name}_small.jpg"]}],
        )
        journals.append(tmp_path / f"run{n}.jsonl")
        assert act(decisions, "--trash", "--yes", "--journal", journals[-1]) == 0
    for journal in journals:  # oldest first
        assert main(["undo", str(journal), "--yes"]) == 0
    assert snapshot(photos) == before  # no `.neardup-trash` either


def test_a_removal_spelled_through_a_linked_folder_is_held_to_its_group(
    folder: Callable[..., tuple[Path, Path]], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A review: `alias/coffee.png` (alias -> photos) is outside the folders scanned as
    written, so the group check let it pass, and the bounds check, which resolves links,
    accepted it: another group's picture was replaced by a link."""
    photos, result = folder()
    before = snapshot(photos)
    os.symlink("photos", photos.parent / "alias")
    decisions = _decisions(
        result, [{"keep": ["photos/chelsea.png"], "remove": ["photos/coffee.png"]}]
    )
    doc = json.loads(decisions.read_text())
    doc["groups"][0]["remove"][0]["path"] = "alias/coffee.png"
    decisions.write_text(json.dumps(doc | {"result": str(result)}))
    journal = tmp_path / "journal.jsonl"
    act(decisions, "--symlink", "--root", photos, "--yes", "--journal", journal)
    assert "not in one scan group with a file kept" in capsys.readouterr().out
    assert snapshot(photos) == before
