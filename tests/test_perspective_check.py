"""The check reads a copy seen in perspective (a keystoned or re-photographed picture) under a
homography, and so a copy stretched to other proportions (`neardup.perspective`): a
rotation and scale alone left a keystoned copy's pixels apart at its far side (the blind
set's perspective copies: aligned 0.75-0.89). Another frame of a moving scene keeps the
similarity transform."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest
from conftest import make_photo
from PIL import Image, ImageDraw

import neardup.perspective as perspective
import neardup.verify as verify
from neardup.aligned_pixels import NO_SPOT, Spot, frame_shares
from neardup.verify import Verifier


def keystoned(picture: Image.Image, shrink: float, fill: tuple[int, int, int]) -> Image.Image:
    """`picture` with its top edge pulled in by `shrink` of its width each side (the corners
    filled with `fill`), as a photo of a print taken from below."""
    w, h = picture.size
    src = np.float32([[0, 0], [w, 0], [w, h], [0, h]])
    dst = np.float32([[shrink * w, 0], [(1 - shrink) * w, 0], [w, h], [0, h]])
    warp = cv2.getPerspectiveTransform(src, dst)
    out = cv2.warpPerspective(np.asarray(picture), warp, (w, h), borderValue=fill)
    return Image.fromarray(out)


def plain_check(a: str, b: str) -> verify.Geometry | None:
    """The check as it was before homographies (the similarity transform only)."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(perspective, "PERSPECTIVE_FROM", 1 << 30)
        return Verifier().check(a, b)


@pytest.fixture(scope="module")
def pictures(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("perspective")
    photo = make_photo("coffee", 512)
    photo.save(folder / "photo.png")
    keystoned(photo, 0.09, (120, 200, 90)).save(folder / "keystone.jpg", quality=90)
    w, h = photo.size
    photo.resize((int(w * 0.8), h)).save(folder / "narrow.jpg", quality=90)
    return folder


def test_a_keystoned_copy_is_aligned_whole(pictures: Path) -> None:
    a, b = str(pictures / "photo.png"), str(pictures / "keystone.jpg")
    plain = plain_check(a, b)
    found = Verifier().check(a, b)
    assert plain is not None and found is not None
    assert found.inliers > plain.inliers
    assert found.aligned >= 0.97 and found.agree >= 0.97
    assert plain.aligned < perspective.PERSPECTIVE_BELOW
    assert found.score >= 0.85  # the copy's filled corners are not the photograph's


def test_a_stretched_copy_is_aligned_whole(pictures: Path) -> None:
    """Resized to other proportions (to 80 % of its width): a rotation and one scale cannot
    map it (aligned 0.70), a homography can."""
    a, b = str(pictures / "photo.png"), str(pictures / "narrow.jpg")
    plain = plain_check(a, b)
    found = Verifier().check(a, b)
    assert plain is not None and found is not None and plain.aligned < 0.8
    assert found.score >= 0.95 and found.aligned >= 0.97 and found.agree >= 0.95


def test_another_frame_keeps_the_similarity_transform(tmp_path: Path) -> None:
    """A subject moved in a still scene: a homography gains the moved subject nothing, so
    the finding is the similarity transform's, as before."""
    scene = make_photo("astronaut", 512)
    later = scene.copy()
    part = scene.crop((180, 140, 330, 300))
    ImageDraw.Draw(later).rectangle((180, 140, 330, 300), fill=(90, 90, 90))
    later.paste(part, (215, 160))
    scene.save(tmp_path / "frame.png")
    later.save(tmp_path / "later.jpg", quality=88)
    a, b = str(tmp_path / "frame.png"), str(tmp_path / "later.jpg")
    assert Verifier().check(a, b) == plain_check(a, b)


def test_frame_shares_of_a_homography_match_those_of_its_affine_form() -> None:
    """A homography with no perspective terms shares the frames as its 2 x 3 form does, and
    a keystone that keeps B's frame inside A's image covers all of B."""
    affine = np.array([[0.8, -0.1, 20.0], [0.1, 0.8, 10.0]])
    homography = np.vstack([affine, [0.0, 0.0, 1.0]])
    shares = frame_shares(cv2, affine, (400, 300), (360, 280))
    assert frame_shares(cv2, homography, (400, 300), (360, 280)) == pytest.approx(shares)
    src = np.float32([[0, 0], [400, 0], [400, 300], [0, 300]])
    dst = np.float32([[-20, -10], [420, -10], [400, 300], [0, 300]])
    keystone = cv2.getPerspectiveTransform(src, dst)
    overlap_a, overlap_b = frame_shares(cv2, keystone, (400, 300), (400, 300))
    assert overlap_b == pytest.approx(1.0) and 0.9 < overlap_a < 1.0


def test_a_mirrored_or_folded_homography_is_not_mild() -> None:
    mirror = np.array([[-1.0, 0.0, 400.0], [0.0, 1.0, 0.0], [0.0, 0.0, 1.0]])
    assert not perspective.mild(cv2, mirror, (400, 300))
    steep = np.array([[1.0, 0.0, 0.0], [0.0, 1.0, 0.0], [0.002, 0.0, 1.0]])  # 0.8 across
    assert not perspective.mild(cv2, steep, (400, 300))
    assert perspective.mild(cv2, np.eye(3), (400, 300))


def matches(warp: np.ndarray, size: tuple[int, int]) -> tuple[np.ndarray, np.ndarray]:
    """A grid of points in a frame of `size` and where `warp` takes them."""
    w, h = size
    xs, ys = np.meshgrid(np.linspace(10, w - 10, 12), np.linspace(10, h - 10, 9))
    src = np.stack([xs.ravel(), ys.ravel()], axis=1).astype(np.float32)
    return src, cv2.perspectiveTransform(src[None], warp)[0].astype(np.float32)


KEYSTONE = cv2.getPerspectiveTransform(
    np.float32([[0, 0], [400, 0], [400, 300], [0, 300]]),
    np.float32([[30, 0], [370, 0], [400, 300], [0, 300]]),
)


def agreeing_pixels(_warp: object) -> tuple[float, float, Spot]:
    return 0.995, 0.995, NO_SPOT


def test_each_gate_of_the_homography_can_refuse_it() -> None:
    """On exact matches of a keystone: taken where every gate passes, refused by each."""
    src, dst = matches(KEYSTONE, (400, 300))
    sizes = ((400, 300), (400, 300))
    seen = perspective.in_perspective(cv2, src, dst, sizes, 60, agreeing_pixels)
    assert seen is not None and seen[0] == len(src) and min(seen[1:3]) >= 0.85
    # No gain in inliers over the similarity transform's.
    assert perspective.in_perspective(cv2, src, dst, sizes, len(src), agreeing_pixels) is None
    # Pixels that do not agree as a copy's.
    apart = lambda _warp: (0.97, 0.995, NO_SPOT)  # noqa: E731
    assert perspective.in_perspective(cv2, src, dst, sizes, 60, apart) is None
    # Part of a picture: B shows the keystoned frame's lower half only.
    lower = np.float32([[1, 0, 0], [0, 1, -150], [0, 0, 1]]) @ KEYSTONE
    src_low, dst_low = matches(lower, (400, 300))
    inside = (dst_low[:, 1] >= 0) & (dst_low[:, 1] <= 150)
    part = perspective.in_perspective(
        cv2, src_low[inside], dst_low[inside], ((400, 300), (400, 150)), 20, agreeing_pixels
    )
    assert part is None
    # A mirrored view.
    mirror = np.float32([[-1, 0, 400], [0, 1, 0], [0, 0, 1]]) @ KEYSTONE
    src_m, dst_m = matches(mirror, (400, 300))
    assert perspective.in_perspective(cv2, src_m, dst_m, sizes, 20, agreeing_pixels) is None


def test_worth_a_homography_only_where_pixels_are_apart() -> None:
    assert perspective.worth_a_homography(40, 0.90, 0.99)
    assert not perspective.worth_a_homography(40, 0.99, 0.98)  # aligned already
    assert not perspective.worth_a_homography(12, 0.5, 0.5)  # too few inliers to refit
