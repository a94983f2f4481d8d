"""A copy under a painted box told from other content (`neardup.painted_check`): a logo or a
caption box painted over a copy is a solid region whose local mean moved, the rest agreeing;
another frame with moved shapes, or one flat colour over another, is not raised."""

from __future__ import annotations

from pathlib import Path

from PIL import Image, ImageDraw
from test_overlay_spot import scene

from neardup.checked_scores import SPOT_CONFIDENCE
from neardup.painted_check import (
    PAINTED_FLOOR,
    Painted,
    painted_of_value,
    painted_pairs,
    painted_rescored,
    painted_value,
    painted_wanted,
)
from neardup.records import Features
from neardup.scoring import Scored
from neardup.verify import Geometry


def with_badge(picture: Image.Image, box: tuple[int, int, int, int]) -> Image.Image:
    """`picture` with a solid dark badge and white words painted over `box`."""
    copy = picture.copy()
    draw = ImageDraw.Draw(copy)
    draw.rounded_rectangle(box, radius=10, fill=(20, 20, 30))
    draw.text((box[0] + 12, (box[1] + box[3]) // 2 - 6), "(c) studio photo", fill="white")
    return copy


LOW = Scored(0.5, 0.3, {"sscd_distilled": 0.5, "geometry": 0.99}, "geometry", 120.0)
"""A pair the scores left well under the cut, its frame found whole."""


def test_a_badge_painted_over_a_copy_raises_it_and_moved_shapes_do_not(tmp_path: Path) -> None:
    scene().save(tmp_path / "original.png")
    with_badge(scene(), (380, 300, 600, 420)).save(tmp_path / "badge.jpg", quality=88)
    scene(moved=12).save(tmp_path / "next.jpg", quality=88)
    badge, moved = painted_pairs(
        [(str(tmp_path / "original.png"), str(tmp_path / n)) for n in ("badge.jpg", "next.jpg")]
    )
    assert badge is not None and 0.05 <= badge.box <= 0.3 and badge.rest >= 0.95, badge
    raised = painted_rescored(LOW, badge)
    assert raised.confidence == SPOT_CONFIDENCE and raised.scores["painted"] == round(badge.box, 4)
    assert raised.similarity == LOW.similarity  # how alike the pictures are stays
    # Shapes that moved change local means in many places: no one solid box, or a rest that
    # disagrees.
    assert moved is None or painted_rescored(LOW, moved).confidence == LOW.confidence, moved
    assert painted_of_value(painted_value(badge)) == badge


def test_a_rest_that_disagrees_raises_nothing() -> None:
    assert painted_rescored(LOW, Painted(0.1, 0.94)).confidence == LOW.confidence
    surer = Scored(0.9, 0.99, LOW.scores, "geometry", 120.0)
    assert painted_rescored(surer, Painted(0.1, 1.0)) is surer


def test_only_whole_frames_of_two_pictures_under_a_crossed_cut_are_read() -> None:
    photo = Features("a.jpg", 1, 0, 640, 480, "JPEG", "a", None, page=(0.1, 0.01))
    page = Features("p.png", 1, 0, 900, 1200, "PNG", "p", None, page=(0.9, 0.02))
    whole = Geometry(200, 150, 0.99, 0.99)
    cuts = (0.85,)
    assert painted_wanted(LOW, whole, photo, photo, cuts)
    assert not painted_wanted(LOW, whole, page, page, cuts)  # their words decide
    assert not painted_wanted(LOW, Geometry(200, 150, 0.8, 0.8), photo, photo, cuts)
    below = Scored(0.5, PAINTED_FLOOR / 2, LOW.scores, "geometry", 120.0)
    assert not painted_wanted(below, whole, photo, photo, cuts)
    passing = Scored(0.9, 0.9, LOW.scores, "geometry", 120.0)
    assert not painted_wanted(passing, whole, photo, photo, cuts)  # no verdict to change
