"""HEIC/HEIF and AVIF photos: found by content, decoded, grouped with their JPEG/PNG copies,
compared, indexed; a damaged one is skipped with a reason."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import make_photo
from media import write_avif, write_heif

import neardup
from neardup.sources import collect


@pytest.fixture(scope="module")
def photos(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("heif")
    astronaut = make_photo("astronaut", 320)
    astronaut.save(folder / "astronaut.png")
    write_heif(astronaut, folder / "astronaut.heic")
    write_avif(astronaut, folder / "astronaut_avif.bin")  # no image name: found by content
    make_photo("coffee", 320).save(folder / "coffee.png")
    data = (folder / "astronaut.heic").read_bytes()
    (folder / "broken.heic").write_bytes(data[: len(data) // 3])
    return folder


def test_found_by_content(photos: Path) -> None:
    names = {Path(f.path).name for f in collect([photos]).files}
    assert "astronaut_avif.bin" in names and "astronaut.heic" in names


def test_scan_groups_heic_and_avif_with_the_png(photos: Path) -> None:
    result = neardup.scan([photos], cache=False, workers=1)
    formats = {Path(f.path).name: f.format for f in result.images}
    assert formats["astronaut.heic"] == "HEIF" and formats["astronaut_avif.bin"] == "AVIF"
    [group] = result.groups
    members = {
        Path(result.images[i].path).name for i in [group.keeper, *(m for m, _ in group.members)]
    }
    assert members == {"astronaut.png", "astronaut.heic", "astronaut_avif.bin"}
    [skip] = result.skipped
    assert skip.path.endswith("broken.heic") and skip.reason


def test_compare_and_index(photos: Path, tmp_path: Path) -> None:
    result = neardup.compare(photos / "astronaut.heic", photos / "astronaut_avif.bin")
    assert result.verdicts["default"] and result.similarity is not None
    index, report = neardup.ImageIndex.build(tmp_path / "idx", [photos], cache=False)
    with index:
        added = {Path(e.path).name: e for e in report.entries}
        assert "astronaut.heic" in added and "astronaut_avif.bin" in added
