"""`Differences` as JSON data and as one compact line of text (CSV, table, report)."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from neardup.differences import JPEG_GAP, LOW_JPEG_QUALITY, SHARPNESS_BAND
from neardup.records import Differences


def to_dict(d: Differences) -> dict[str, Any]:
    """The `pairs[].differences` object of schema `neardup.scan/2` (docs/schema.md)."""
    return {
        "kinds": list(d.kinds),
        "summary": summary(d),
        "identical": d.identical,
        "aligned_by": d.aligned_by,
        # Unaligned pictures were not compared for a mirror: null, not "not mirrored".
        "mirrored": d.mirrored if d.aligned_by or d.identical else None,
        "turned": d.turned,
        "common": None if d.common is None else {"a": d.common[0], "b": d.common[1]},
        "scale": d.scale,
        "stretch": d.stretch,
        "borders": [
            {"image": image, "sides": list(sides), "share": share}
            for image, sides, share in d.borders
        ],
        "greyscale": d.greyscale,
        "transparent": d.transparent,
        "colour": d.colour,
        "overlay": d.overlay,
        "sharpness": d.sharpness,
        "grain": d.grain,
        "jpeg_quality": {"a": d.jpeg_quality[0], "b": d.jpeg_quality[1]},
        "orientation": {"a": d.orientation[0], "b": d.orientation[1]},
        "note": d.note,
    }


def _turn(degrees: float) -> str:
    if abs(degrees) == 180:
        return "turned 180°"
    way = "anticlockwise" if degrees > 0 else "clockwise"
    return f"turned {abs(degrees):g}° {way}"


def swapped(d: Differences) -> Differences:
    """The same differences told the other way round (how a differs from b)."""

    def other(name: str | None) -> str | None:
        return {"a": "b", "b": "a"}.get(name or "")

    turned = d.turned if d.mirrored or d.turned is None else -d.turned
    return replace(
        d,
        turned=180.0 if turned == -180.0 else turned,
        common=None if d.common is None else (d.common[1], d.common[0]),
        scale=None if not d.scale else round(1 / d.scale, 3),
        stretch=None if not d.stretch else round(1 / d.stretch, 3),
        borders=tuple((other(i) or i, sides, share) for i, sides, share in d.borders),
        greyscale=other(d.greyscale),
        transparent=other(d.transparent),
        sharpness=None if not d.sharpness else round(1 / d.sharpness, 3),
        grain=None if d.grain is None else -d.grain,
        jpeg_quality=(d.jpeg_quality[1], d.jpeg_quality[0]),
        orientation=(d.orientation[1], d.orientation[0]),
    )


def _quality(d: Differences, a: str, b: str) -> str:
    parts = []
    # Sharpness is named only outside the band of equal sharpness (a JPEG-quality gap alone
    # also reports "quality"; "x1.00" would say nothing, and would read the same both ways).
    if d.sharpness is not None and d.sharpness < SHARPNESS_BAND[0]:
        parts.append(f"{b} blurrier (sharpness ×{d.sharpness:.2f})")
    elif d.sharpness is not None and d.sharpness > SHARPNESS_BAND[1]:
        parts.append(f"{b} sharper or noisier (×{d.sharpness:.2f})")
    if d.grain is not None and abs(d.grain) >= 1:
        parts.append(f"{b if d.grain > 0 else a} grainier (+{abs(d.grain):.0f} levels)")
    qa, qb = d.jpeg_quality
    low, high = sorted(100 if q is None else q for q in (qa, qb))
    gap = low < LOW_JPEG_QUALITY and high - low >= JPEG_GAP
    # The JPEG qualities are named where their gap is what reported "quality", or where
    # nothing else did; beside a blur of two near-equal qualities they would read as its cause.
    if (qa is not None or qb is not None) and (gap or not parts):
        parts.append(f"JPEG quality {qa or 'none (not JPEG)'} vs {qb or 'none (not JPEG)'}")
    return ", ".join(parts)


WORDS_DIFFER = "the words, where the layout agrees (two documents of one template, not a copy)"
"""Said first of a pair its words decided (evidence `detail`): the differences are measured at
the working size, where a line of text is a grey bar whatever its words."""


def summary(d: Differences, names: tuple[str, str] = ("a", "b"), *, words: bool = False) -> str:
    """One line, kinds in their fixed order, each with its measure (b relative to a);
    `names` says what to call a and b; `words`: the pair's words were found to differ."""
    label = {"a": names[0], "b": names[1]}
    parts: list[str] = [WORDS_DIFFER] if words else []
    for kind in d.kinds:
        if kind == "turned" and d.turned is not None:
            parts.append(_turn(d.turned))
        elif kind == "cropped" and d.common is not None:
            parts.append(
                f"cropped: {d.common[0]:.0%} of {names[0]}, {d.common[1]:.0%} of {names[1]}"
                " in common"
            )
        elif kind == "scaled" and d.scale is not None:
            parts.append(f"scaled ×{d.scale:.2f}")
        elif kind == "stretched" and d.stretch:
            wider = d.stretch >= 1
            parts.append(
                f"stretched ×{max(d.stretch, 1 / d.stretch):.2f} {'wider' if wider else 'taller'}"
            )
        elif kind == "borders":
            parts += [
                f"borders on {label[image]} ({', '.join(sides) or 'thin'}; {share:.0%})"
                for image, sides, share in d.borders
            ]
        elif kind == "greyscale":
            parts.append(f"{label.get(d.greyscale or '', '?')} greyscale")
        elif kind == "transparency":
            parts.append(f"{label.get(d.transparent or '', '?')} has transparent parts")
        elif kind == "colour" and d.colour is not None:
            parts.append(f"colour changed ({d.colour:.0f} levels)")
        elif kind == "overlay" and d.overlay is not None:
            parts.append(f"overlay on {d.overlay:.0%}")
        elif kind == "quality":
            parts.append(_quality(d, *names))
        elif kind == "orientation tag":
            parts.append(f"EXIF orientation {d.orientation[0]} vs {d.orientation[1]}")
        else:
            parts.append(kind)
    if len(parts) == (1 if words else 0):  # nothing measured beyond what the words say
        parts.append("no difference above tolerance" if d.aligned_by else "not measured")
    if d.note:
        parts.append(f"({d.note})")
    return "; ".join(parts)
