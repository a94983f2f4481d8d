"""An index query reads the check's findings from the pair store and keeps them there, as a
scan does (one pipeline): asked again with the same cache it checks no pair, with the same
answers."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from neardup import verify
from neardup.examples import EDITS, bundled_photo
from neardup.index.catalog import ImageIndex
from neardup.index.report import IndexReport


def _answers(report: IndexReport) -> dict[str, list[tuple[str, float]]]:
    return {
        e.path: sorted((m.path, round(m.confidence, 6)) for m in e.duplicates)
        for e in report.entries
    }


def test_a_query_asked_again_checks_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    stored: list[str] = []
    asked: list[str] = []
    for name in ("astronaut.png", "coffee.png", "rocket.jpg"):
        image = bundled_photo("skimage", name)
        assert image is not None
        image.thumbnail((256, 256))
        stem = Path(name).stem
        image.save(tmp_path / f"{stem}.jpg", quality=92)
        stored.append(str(tmp_path / f"{stem}.jpg"))
        for kind in ("crop", "grey"):
            EDITS[kind](image).save(tmp_path / f"{stem}_{kind}.jpg", quality=80)
            (asked if kind == "crop" else stored).append(str(tmp_path / f"{stem}_{kind}.jpg"))
    index, _ = ImageIndex.build(tmp_path / "idx", stored, cache=False, workers=1)
    checks: list[Any] = []
    original = verify.Verifier.check

    def counted(self: verify.Verifier, a: Any, b: Any) -> Any:
        checks.append((a, b))
        return original(self, a, b)

    monkeypatch.setattr(verify.Verifier, "check", counted)
    cache = tmp_path / "cache.db"
    first = _answers(index.query(asked, cache=cache, workers=1))
    assert checks  # the crops sit in the check's band
    assert any(first.values())
    made = len(checks)
    again = _answers(index.query(asked, cache=cache, workers=1))
    assert again == first and len(checks) == made  # every finding read from the store
    _answers(index.query(asked, cache=False, workers=1))
    assert len(checks) == 2 * made  # without a store each query checks again
    index.close()
