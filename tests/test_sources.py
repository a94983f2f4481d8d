"""Finding files: one path per file on disk, images recognised by content, clear skips."""

from __future__ import annotations

import io
import os
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from conftest import make_photo

import neardup
from neardup.sources import collect, expand_stdin
from neardup.sources.files import looks_like_image

if TYPE_CHECKING:
    from conftest import FileMaker, ScanView


@pytest.fixture
def linked(photo_dir: Callable[..., Path]) -> Path:
    """A photo, a symlink and a hard link to it, and a resized copy (a real duplicate)."""
    folder = photo_dir({"photo.png": ("astronaut", 300), "smaller.jpg": ("astronaut", 180)})
    (folder / "a_symlink.png").symlink_to(folder / "photo.png")
    os.link(folder / "photo.png", folder / "b_hardlink.png")
    return folder


def test_links_to_one_file_are_one_image_never_a_pair(
    linked: Path, scan_view: Callable[..., ScanView]
) -> None:
    view = scan_view(linked)
    # Names that are not symbolic links are visited first, each in sorted order: the hard
    # link (another real name) stands for the file, the symlink sorting first does not.
    assert set(view.images) == {"b_hardlink.png", "smaller.jpg"}
    assert view.skipped == {}
    assert len(view.result.pairs) == 1
    assert view.groups == {"b_hardlink.png": {"smaller.jpg"}}
    found = collect([str(linked)])
    assert len(found.files) == 2 and found.aliases == 2


def test_a_linked_folder_does_not_stand_for_the_real_one(tmp_path: Path, make: FileMaker) -> None:
    """A tester: with `album -> photos` beside `photos`, every photo was reported as
    `album/...` (sorted first), which act then refused to touch as a link."""
    make.image(tmp_path / "photos" / "real.png", "coffee", 300)
    make.image(tmp_path / "photos" / "small.jpg", "coffee", 150)
    (tmp_path / "album").symlink_to("photos")
    (tmp_path / "photos" / "a_link.png").symlink_to("real.png")
    result = neardup.scan([tmp_path], cache=False, workers=1, differences="none")
    names = sorted(str(Path(f.path).relative_to(tmp_path)) for f in result.images)
    assert names == ["photos/real.png", "photos/small.jpg"]


def test_file_and_its_links_named_explicitly_are_one_image(linked: Path) -> None:
    paths = [linked / "photo.png", linked / "a_symlink.png", linked / "b_hardlink.png"]
    result = neardup.scan(paths, cache=False, workers=1)
    assert [Path(f.path).name for f in result.images] == ["photo.png"]
    assert result.pairs == [] and result.groups == [] and result.skipped == []


def test_two_hard_links_are_one_image(tmp_path: Path, make: FileMaker) -> None:
    make.image(tmp_path / "one.jpg", "coffee", 200)
    os.link(tmp_path / "one.jpg", tmp_path / "two.jpg")
    result = neardup.scan([tmp_path], cache=False, workers=1)
    assert [Path(f.path).name for f in result.images] == ["one.jpg"]
    assert result.pairs == []


@pytest.mark.parametrize("other", ["a_symlink.png", "b_hardlink.png", "photo.png"])
def test_compare_a_file_with_another_name_for_it(linked: Path, other: str) -> None:
    result = neardup.compare(linked / "photo.png", linked / other)
    assert result.same_file is True
    assert result.similarity == 1.0


def test_byte_identical_copy_is_a_pair_unlike_a_link(tmp_path: Path, make: FileMaker) -> None:
    make.image(tmp_path / "one.png", "coffee", 200)
    (tmp_path / "copy.png").write_bytes((tmp_path / "one.png").read_bytes())
    result = neardup.scan([tmp_path], cache=False, workers=1)
    assert len(result.images) == 2
    [pair] = result.pairs
    assert (pair.similarity, pair.evidence, pair.scores["exact"]) == (1.0, "exact", 1.0)


def test_images_are_recognised_by_content_not_name(tmp_path: Path, make: FileMaker) -> None:
    make.image(tmp_path / "photo.png", "rocket", 200)
    make.image(tmp_path / "photo_jpeg.dat", "rocket", 160, fmt="JPEG")  # unlisted extension
    make.text(tmp_path / "README.txt")  # neither named nor looking like an image
    (tmp_path / "empty.txt").write_bytes(b"")
    (tmp_path / "empty.png").write_bytes(b"")
    found = collect([str(tmp_path)])
    assert [Path(f.path).name for f in found.files] == ["photo.png", "photo_jpeg.dat"]
    assert [(Path(s.path).name, s.reason) for s in found.skipped] == [
        ("empty.png", "empty file (0 bytes)")
    ]
    assert found.ignored == 2
    result = neardup.scan([tmp_path], cache=False, workers=1)
    assert result.stats.ignored == 2
    assert result.stats.files_found == 3
    assert len(result.groups) == 1


def test_a_file_named_explicitly_is_always_tried(tmp_path: Path, make: FileMaker) -> None:
    notes = make.text(tmp_path / "notes.txt")
    result = neardup.scan([notes], cache=False, workers=1)
    assert [(s.path, s.reason) for s in result.skipped] == [
        (str(notes), "not an image: the file holds text")
    ]
    found = collect([str(notes)])
    assert found.ignored == 0 and len(found.files) == 1


def test_missing_path_is_skipped(tmp_path: Path) -> None:
    result = neardup.scan([tmp_path / "nope"], cache=False, workers=1)
    assert [s.reason for s in result.skipped] == ["no such file or folder"]


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs named pipes")
def test_named_pipe_is_not_read(tmp_path: Path) -> None:
    fifo = tmp_path / "pipe.jpg"
    os.mkfifo(fifo)
    assert [s.reason for s in collect([str(fifo)]).skipped] == ["not a regular file"]
    inside = collect([str(tmp_path)])  # found while walking: skipped the same, never opened
    assert inside.files == [] and [(s.path, s.reason) for s in inside.skipped] == [
        (str(fifo), "not a regular file")
    ]


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs named pipes")
def test_special_files_in_a_folder_are_skipped_not_lost(
    tmp_path: Path, scan_view: Callable[..., ScanView]
) -> None:
    """A FIFO and a link to a device named as pictures vanished from a folder's report (not
    skipped, not counted); a special file not named as one is ignored, as a README is."""
    make_photo("astronaut", 120).save(tmp_path / "good.jpg")
    os.mkfifo(tmp_path / "fifo.jpg")
    os.mkfifo(tmp_path / "control")
    (tmp_path / "zero.jpg").symlink_to("/dev/zero")
    found = collect([str(tmp_path)])
    assert [Path(f.path).name for f in found.files] == ["good.jpg"]
    assert {Path(s.path).name: s.reason for s in found.skipped} == {
        "fifo.jpg": "not a regular file",
        "zero.jpg": "not a regular file",
    }
    assert found.ignored == 1
    view = scan_view(tmp_path)
    assert view.skipped == {"fifo.jpg": "not a regular file", "zero.jpg": "not a regular file"}
    assert view.result.stats.files_found == 3


def test_symlink_loop_and_repeated_folders_are_walked_once(
    photo_dir: Callable[..., Path],
) -> None:
    folder = photo_dir({"a.png": "coins", "sub/b.png": "moon"})
    (folder / "sub" / "loop").symlink_to(folder)
    found = collect([str(folder), str(folder / "sub"), str(folder)])
    assert sorted(Path(f.path).name for f in found.files) == ["a.png", "b.png"]
    assert found.skipped == []


def test_symlinked_folder_is_followed(tmp_path: Path, photo_dir: Callable[..., Path]) -> None:
    outside = photo_dir({"far.png": "chelsea"}, name="outside")
    scanned = tmp_path / "scanned"
    scanned.mkdir()
    (scanned / "link").symlink_to(outside)
    assert [Path(f.path).name for f in collect([str(scanned)]).files] == ["far.png"]


def test_expand_stdin(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("sys.stdin", io.StringIO("a.jpg\n\nb dir/c.png\r\n"))
    assert expand_stdin(["x", "-", "y"]) == ["x", "a.jpg", "b dir/c.png", "y"]


@pytest.mark.parametrize(
    ("head", "expected"),
    [
        (b"\xff\xd8\xff\xe0", True),
        (b"\x89PNG\r\n\x1a\n", True),
        (b"GIF89a", True),
        (b"RIFF\x00\x00\x00\x00WEBPVP8 ", True),
        (b"P6\n", True),
        (b"BM", True),
        (b"hello world", False),
        (b"PK\x03\x04", False),
        (b"", False),
    ],
)
def test_looks_like_image(head: bytes, expected: bool) -> None:
    assert looks_like_image(head) is expected
