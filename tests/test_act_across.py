"""Moves across file systems (`neardup.actions.fileops`): a copy beside the destination,
checked, linked into place, then the source removed. Simulated here by a hard link that
fails with EXDEV from the source, as it does between two mounts."""

from __future__ import annotations

import errno
import fcntl
import os
from pathlib import Path

import pytest

from neardup.actions import fileops
from neardup.actions.fileops import Refused, move_no_clobber, tmp_name
from neardup.actions.journal import sha256_of


@pytest.fixture
def across(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> tuple[Path, Path]:
    """A source folder and a destination folder "on another file system"."""
    source, target = tmp_path / "photos", tmp_path / "elsewhere"
    source.mkdir()
    target.mkdir()
    link = os.link

    def no_link_from_source(src: str, dst: str, **kwargs: object) -> None:
        if str(src).startswith(str(source)):
            raise OSError(errno.EXDEV, "Invalid cross-device link")
        link(src, dst, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(fileops.os, "link", no_link_from_source)
    return source, target


def test_a_killed_run_s_partial_copy_is_replaced(across: tuple[Path, Path]) -> None:
    """A tester killed `undo` mid-copy: its partial copy stayed beside the destination, and
    every later run failed on it with "File exists" (the file itself was safe at its source)."""
    source, target = across
    (source / "b.png").write_bytes(os.urandom(300_000))
    digest = sha256_of(str(source / "b.png"))
    partial = Path(tmp_name(str(target / "b.png")))
    partial.write_bytes(b"half a file")  # no process holds it: a killed run's
    move_no_clobber(str(source / "b.png"), str(target / "b.png"), digest)
    assert sha256_of(str(target / "b.png")) == digest
    assert not (source / "b.png").exists() and not partial.exists()


def test_a_copy_another_run_is_writing_is_left_alone(across: tuple[Path, Path]) -> None:
    source, target = across
    (source / "b.png").write_bytes(os.urandom(1000))
    busy = tmp_name(str(target / "b.png"))
    fd = os.open(busy, os.O_WRONLY | os.O_CREAT, 0o600)
    fcntl.flock(fd, fcntl.LOCK_EX)  # another run, copying now
    try:
        with pytest.raises(Refused, match="another neardup run"):
            move_no_clobber(str(source / "b.png"), str(target / "b.png"))
    finally:
        os.close(fd)
    assert (source / "b.png").exists() and not (target / "b.png").exists()


@pytest.mark.skipif(os.geteuid() != 0, reason="giving a file to another user needs root")
def test_a_move_across_keeps_the_owner(across: tuple[Path, Path]) -> None:
    """A tester: moved to another file system (and back by undo) a file became root's."""
    source, target = across
    (source / "b.png").write_bytes(os.urandom(1000))
    os.chown(source / "b.png", 65534, 65534)
    os.chmod(source / "b.png", 0o640)
    move_no_clobber(str(source / "b.png"), str(target / "b.png"))
    st = os.lstat(target / "b.png")
    assert (st.st_uid, st.st_gid, st.st_mode & 0o777) == (65534, 65534, 0o640)


def test_something_else_at_the_temporary_name_is_left_alone(across: tuple[Path, Path]) -> None:
    """A review: a FIFO there made the run wait forever; a folder crashed it."""
    source, target = across
    (source / "b.png").write_bytes(os.urandom(1000))
    os.mkfifo(tmp_name(str(target / "b.png")))
    with pytest.raises(Refused, match="not a copy neardup left"):
        move_no_clobber(str(source / "b.png"), str(target / "b.png"))
    assert (source / "b.png").exists() and not (target / "b.png").exists()
