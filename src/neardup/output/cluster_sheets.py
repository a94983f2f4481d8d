"""Contact sheets of a clustering (PIL, PNG): pictures of the items, not points.

- `strip`: a row per cluster with up to `STRIP` of its items (spread over them in order);
- `similar`: the idea's last step: up to `ROWS` items, each beside its most similar items of
  its own cluster, with the similarity.

Drawn with PIL rather than matplotlib: a grid of 48 small axes costs seconds to lay out, a
pasted mosaic milliseconds. Cells are framed in their cluster's colour (`PALETTE`, the colours
the scatter uses). A picture that cannot be read (a saved item's file moved or deleted) is a
cell crossed out and marked "cannot read", and the sheet functions return such items so the
caller can say so: an empty frame alone would pass for a black picture.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import numpy.typing as npt
from PIL import Image, ImageDraw

from neardup.cluster.run import ClusterResult
from neardup.cluster.saved import ItemRef

STRIP = 8
ROWS = 6
CELL = (160, 96)
LABEL = 26
"""Pixels above each picture for its two lines of text."""
GUTTER = 90
"""Pixels left of each row for the cluster's name."""
PALETTE = (
    (31, 119, 180), (255, 127, 14), (44, 160, 44), (214, 39, 40), (148, 103, 189),
    (140, 86, 75), (227, 119, 194), (127, 127, 127), (188, 189, 34), (23, 190, 207),
)  # fmt: skip
"""matplotlib's tab10, cycled for more than ten clusters."""
UNREADABLE = (200, 0, 0)
"""The cross and note over a cell whose picture could not be read."""

Cell = tuple[ItemRef, str]


def colour(cluster: int) -> tuple[int, int, int]:
    return PALETTE[cluster % len(PALETTE)]


def strip(result: ClusterResult, target: Path) -> list[ItemRef]:
    """A row of sample pictures per cluster (an empty cluster says so); returns the items
    whose picture could not be read."""
    by_cluster: dict[int, list[ItemRef]] = defaultdict(list)
    for c in result.items:
        by_cluster[c.cluster].append(c.item)
    rows: list[tuple[str, int, list[Cell]]] = []
    for j in range(len(result.model.centroids)):
        items = spread(by_cluster.get(j, []), STRIP)
        name = f"cluster {j}" if items else f"cluster {j}: no items"
        rows.append((name, j, [(item, "") for item in items]))
    return _sheet(rows, STRIP, target)


def similar(result: ClusterResult, target: Path) -> list[ItemRef]:
    """Up to `ROWS` items, each followed by its most similar items of its own cluster; returns
    the items whose picture could not be read."""
    rows: list[tuple[str, int, list[Cell]]] = []
    first = "new" if result.assigned else "item"
    for c in spread(result.items, ROWS):
        cells = [(c.item, first)] + [(s.item, f"{s.similarity:.3f}") for s in c.similar]
        rows.append((f"cluster {c.cluster}", c.cluster, cells))
    return _sheet(rows, max((len(cells) for _, _, cells in rows), default=1), target)


def _sheet(
    rows: Sequence[tuple[str, int, list[Cell]]], columns: int, target: Path
) -> list[ItemRef]:
    """Draw the rows into `target`; returns the items without a picture, each once."""
    missing: dict[ItemRef, None] = {}  # ordered and unique
    pictures = _pictures([item for _, _, cells in rows for item, _ in cells])
    width, height = CELL
    sheet = Image.new(
        "RGB", (GUTTER + columns * (width + 8), max(1, len(rows)) * (height + LABEL + 10)), "white"
    )
    draw = ImageDraw.Draw(sheet)
    for r, (name, cluster, cells) in enumerate(rows):
        top = r * (height + LABEL + 10)
        draw.text((6, top + LABEL + height // 2 - 6), name, fill=(0, 0, 0))
        for n, (item, note) in enumerate(cells):
            left = GUTTER + n * (width + 8)
            draw.text((left, top + 1), _short(item), fill=(0, 0, 0))
            if note:
                draw.text((left, top + 13), note, fill=(60, 60, 60))
            box = (left, top + LABEL, left + width, top + LABEL + height)
            picture = pictures.get(item)
            if picture is not None:
                thumb = Image.fromarray(picture)
                thumb.thumbnail((width - 6, height - 6))
                sheet.paste(
                    thumb,
                    (left + (width - thumb.width) // 2, top + LABEL + (height - thumb.height) // 2),
                )
            else:
                missing[item] = None
                draw.line(box, fill=UNREADABLE, width=1)
                draw.line((box[0], box[3], box[2], box[1]), fill=UNREADABLE, width=1)
                draw.text((left + 8, top + LABEL + height // 2 - 6), "cannot read", fill=UNREADABLE)
            wide = 4 if n == 0 and note in ("new", "item") else 2
            draw.rectangle(box, outline=colour(cluster), width=wide)
    target.parent.mkdir(parents=True, exist_ok=True)
    sheet.save(target, format="PNG")
    return list(missing)


def spread[T](items: Sequence[T], count: int) -> list[T]:
    """Up to `count` of `items`, evenly spread, in order."""
    if len(items) <= count:
        return list(items)
    picks = np.linspace(0, len(items) - 1, count).round().astype(int)
    return [items[i] for i in picks]


def _short(item: ItemRef) -> str:
    name = Path(item.path).name
    name = name if len(name) <= 18 else name[:15] + "..."
    return name if item.time is None else f"{name} {item.time:.1f}s"


def _pictures(items: list[ItemRef]) -> dict[ItemRef, npt.NDArray[np.uint8]]:
    """Small RGB pictures of the items: each video opened once for its frames."""
    from neardup.decode import Decoded, DecodeSpec, decode
    from neardup.sources.video_frames import frames_at

    out: dict[ItemRef, npt.NDArray[np.uint8]] = {}
    frames: dict[str, set[int]] = defaultdict(set)
    for item in items:
        if item.frame is not None:
            frames[item.path].add(item.frame)
            continue
        try:
            data = Path(item.path).read_bytes()
        except OSError:
            continue
        decoded = decode(data, item.path, DecodeSpec(min_side=96, trim=False))
        if isinstance(decoded, Decoded):
            out[item] = decoded.rgb
    for path, wanted in frames.items():
        got = frames_at(path, wanted, CELL[0])
        for item in items:
            if item.path == path and item.frame in got:
                out[item] = got[item.frame]
    return out
