"""A picture with see-through parts and its copies flattened onto black or a colour: found,
and compared with the picture shown over the copy's colour (`neardup.see_through`)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from PIL import Image, ImageDraw
from skimage import data as skdata

from neardup.api import compare, scan
from neardup.decode import Decoded, DecodeSpec, decode
from neardup.feature_rows import decode_features, encode_features
from neardup.item_pixels import ShownOver, read_still, ref_order
from neardup.pair_order import by_image
from neardup.records import FileRef
from neardup.scoring import PRESETS
from neardup.see_through import flatten_colour

COLOUR = (40, 90, 160)
DEFAULT_CUT = PRESETS["default"]


def _cut_out(picture: np.ndarray) -> Image.Image:
    """The picture inside an ellipse, clear around it (as a sticker or a product shot is)."""
    image = Image.fromarray(picture).convert("RGB").resize((320, 320))
    mask = Image.new("L", image.size, 0)
    ImageDraw.Draw(mask).ellipse((80, 50, 240, 270), fill=255)
    image.putalpha(mask)
    return image


def _flattened(image: Image.Image, colour: tuple[int, int, int]) -> Image.Image:
    under = Image.new("RGBA", image.size, (*colour, 255))
    return Image.alpha_composite(under, image).convert("RGB")


def _named(result: Any) -> set[frozenset[str]]:
    """Each group of a scan's or an index's result, as its images' file names."""
    return {
        frozenset(Path(result.path(i)).name for i in [g.keeper, *(m for m, _ in g.members)])
        for g in result.groups
    }


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A see-through picture, its copies flattened onto black and onto a blue, and a
    look-alike: another picture cut out the same way, flattened onto that blue."""
    out = tmp_path_factory.mktemp("see_through")
    sticker = _cut_out(skdata.astronaut())
    sticker.save(out / "sticker.png")
    _flattened(sticker, (0, 0, 0)).save(out / "on_black.jpg", quality=88)
    _flattened(sticker, COLOUR).save(out / "on_blue.jpg", quality=88)
    _flattened(_cut_out(skdata.chelsea()), COLOUR).save(out / "other_on_blue.jpg", quality=88)
    return out


def test_copies_flattened_onto_a_colour_join_their_original(folder: Path) -> None:
    result = scan([str(folder)], cache=False, differences=False)
    groups = [
        sorted(Path(result.images[i].path).name for i in [g.keeper, *(m for m, _ in g.members)])
        for g in result.groups
    ]
    assert groups == [["on_black.jpg", "on_blue.jpg", "sticker.png"]]


def test_compare_reads_the_picture_over_the_copys_colour(folder: Path) -> None:
    for name in ("on_black.jpg", "on_blue.jpg"):
        found = compare(folder / "sticker.png", folder / name, cache=False)
        assert found.confidence is not None and found.confidence >= DEFAULT_CUT, name
        assert found.similarity is not None and 0.85 < found.similarity < 1.0, name
    other = compare(folder / "sticker.png", folder / "other_on_blue.jpg", cache=False)
    assert other.confidence is not None and other.confidence < DEFAULT_CUT


def test_over_white_the_black_copy_is_no_candidate(folder: Path) -> None:
    """Why the view over black exists: shown over white, the sticker embeds far from its
    copy flattened onto black; over black, close."""
    result = scan([str(folder)], cache=False, differences=False)
    by_name = {Path(f.path).name: f for f in result.images}
    sticker, copy = by_name["sticker.png"], by_name["on_black.jpg"]
    assert set(sticker.embeddings_dark) == {"sscd_distilled"}
    assert not copy.embeddings_dark  # opaque: no view
    white = float(sticker.embeddings["sscd_distilled"] @ copy.embeddings["sscd_distilled"])
    dark = float(sticker.embeddings_dark["sscd_distilled"] @ copy.embeddings["sscd_distilled"])
    assert white < 0.6 < 0.9 < dark


def test_the_view_over_black_is_kept_in_a_row(folder: Path) -> None:
    result = scan([str(folder / "sticker.png")], cache=False, differences=False)
    sticker = result.images[0]
    meta, blob = encode_features(sticker)
    ref = FileRef(sticker.path, sticker.size, sticker.mtime_ns)
    back = decode_features(ref, json.loads(meta), blob)
    assert np.array_equal(
        back.embeddings_dark["sscd_distilled"], sticker.embeddings_dark["sscd_distilled"]
    )


def test_a_decode_shows_see_through_pixels_over_its_background(folder: Path) -> None:
    data = (folder / "sticker.png").read_bytes()
    spec = DecodeSpec(min_side=64, trim=False)
    white = decode(data, "sticker.png", spec)
    blue = decode(data, "sticker.png", DecodeSpec(min_side=64, trim=False, background=COLOUR))
    assert isinstance(white, Decoded) and isinstance(blue, Decoded)
    assert white.transparent and blue.transparent
    assert white.rgb[0, 0].tolist() == [255, 255, 255]
    assert blue.rgb[0, 0].tolist() == list(COLOUR)
    shown = read_still(ShownOver(str(folder / "sticker.png"), COLOUR), spec)
    assert isinstance(shown, Decoded) and np.array_equal(shown.rgb, blue.rgb)


def test_the_colour_is_read_where_the_ring_is_clear() -> None:
    alpha = np.full((40, 40), 255, dtype=np.uint8)
    alpha[:4], alpha[-4:], alpha[:, :4], alpha[:, -4:] = 0, 0, 0, 0
    rng = np.random.default_rng(0)
    rgb = rng.integers(0, 256, (40, 40, 3)).astype(np.uint8)  # the picture: anything inside
    ring = alpha == 0
    rgb[ring] = np.clip(np.array(COLOUR) + rng.integers(-3, 4, (int(ring.sum()), 3)), 0, 255)
    assert flatten_colour(alpha, rgb) == COLOUR
    # Noise over the ring: not one colour, no flattened copy.
    noisy = rgb.copy()
    noisy[ring] = rng.integers(0, 256, (int(ring.sum()), 3))
    assert flatten_colour(alpha, noisy) is None
    # White: the picture is already shown over it.
    white = rgb.copy()
    white[ring] = 254
    assert flatten_colour(alpha, white) is None
    # A picture opaque to its edges has no clear ring to read.
    assert flatten_colour(np.full((40, 40), 255, dtype=np.uint8), rgb) is None


def test_a_shown_ref_sorts_beside_its_path_and_its_pairs_share_a_chunk() -> None:
    shown = ShownOver("b.png", COLOUR)
    refs = ["c.png", shown, "a.png", ("b.mp4", 3)]
    assert sorted(refs, key=ref_order) == ["a.png", ("b.mp4", 3), shown, "c.png"]
    pairs = [(shown, "x.jpg"), ("a.png", "y.jpg"), (shown, "z.jpg"), ("c.png", "w.jpg")]
    ordered = by_image(pairs, chunk=2)
    assert sorted(map(str, ordered)) == sorted(map(str, pairs))
    chunks = [ordered[0:2], ordered[2:4]]
    assert [(shown, "x.jpg"), (shown, "z.jpg")] in [sorted(c, key=str) for c in chunks]


def test_a_file_unreadable_for_a_moment_is_read_next_time(
    folder: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A picture that cannot be read while its colour is looked for is not kept as having
    none: the next scan (same cache) reads it and finds the copies; and a finding made over
    white is not read for the pair shown over its colour."""
    import neardup.see_through

    cache = tmp_path / "cache.sqlite"
    real = neardup.see_through.read_bytes
    gone = str(folder / "sticker.png")

    def flaky(path: str) -> bytes:
        if path == gone:
            raise OSError(5, "Input/output error")
        return real(path)

    monkeypatch.setattr(neardup.see_through, "read_bytes", flaky)
    first = scan([str(folder)], cache=cache, differences=False)
    monkeypatch.undo()
    second = scan([str(folder)], cache=cache, differences=False)
    fresh = scan([str(folder)], cache=False, differences=False)

    whole = {frozenset(["on_black.jpg", "on_blue.jpg", "sticker.png"])}
    assert _named(first) != whole  # the sticker could not be shown over a colour then
    assert _named(second) == _named(fresh) == whole


def test_an_index_finds_the_groups_a_scan_finds(folder: Path, tmp_path: Path) -> None:
    """One pipeline: the index's stored rows (their vectors in its column) give the same."""
    from neardup.index.catalog import ImageIndex

    scanned = scan([str(folder)], cache=False, differences=False)
    index, _ = ImageIndex.build(tmp_path / "idx", [str(folder)], cache=False, workers=1)
    with index:
        listed = index.duplicates()

    assert (
        _named(scanned)
        == _named(listed)
        == {frozenset(["on_black.jpg", "on_blue.jpg", "sticker.png"])}
    )
