"""Pictures of a clustering, as the idea's notebook draws them (matplotlib, PNG, no display):

- `FILE.png`: every item in the 2-D PCA plane of the clustered items' scene vectors, coloured
  by cluster, each centroid marked, and the region each centroid owns drawn beneath (every
  point of the plane coloured by its nearest centroid in that plane, the Voronoi cells);
  items assigned to saved centroids are drawn as black-edged stars over the saved items.
- `FILE-frames.png`: a strip of sample pictures per cluster (up to `STRIP` each, spread over
  the cluster's items in order).
- `FILE-similar.png`: the idea's last step: for up to `ROWS` items (spread over the run), the
  item and its most similar items of its own cluster, with their similarity.
"""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path

import numpy as np
import numpy.typing as npt

from neardup.cluster.run import ClusterResult
from neardup.cluster.saved import ItemRef

STRIP = 8
ROWS = 6
THUMB_WIDTH = 160
MESH = 300


def plot(result: ClusterResult, path: str | Path) -> list[str]:
    """Write the scatter to `path` and the sample strip beside it; returns both paths."""
    import matplotlib

    matplotlib.use("Agg")
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    strip = target.with_name(target.stem + "-frames" + (target.suffix or ".png"))
    similar = target.with_name(target.stem + "-similar" + (target.suffix or ".png"))
    _scatter(result, target)
    _strip(result, strip)
    _similar(result, similar)
    return [str(target), str(strip), str(similar)]


def _colours(k: int) -> npt.NDArray[np.float64]:
    from matplotlib import colormaps

    cmap = colormaps["tab10" if k <= 10 else "tab20"]
    return np.array([cmap(i % cmap.N) for i in range(k)])


def _scatter(result: ClusterResult, target: Path) -> None:
    import matplotlib.pyplot as plt
    from matplotlib.colors import ListedColormap

    model = result.model
    k = len(model.centroids)
    colours = _colours(k)
    base = model.projection.apply(model.vectors) if len(model.vectors) else np.zeros((0, 2))
    base_labels = np.asarray(model.labels, dtype=np.int64)
    centres = model.projection.apply(model.centroids)
    new = result.projection_of_items() if result.assigned else np.zeros((0, 2), np.float32)
    new_labels = np.array([c.cluster for c in result.items], dtype=np.int64)
    every = np.vstack([base, new, centres]).astype(np.float64)
    low: npt.NDArray[np.float64] = every.min(0)
    high: npt.NDArray[np.float64] = every.max(0)
    pad = np.maximum((high - low) * 0.08, 1e-3)
    low, high = low - pad, high + pad
    xs, ys = np.meshgrid(np.linspace(low[0], high[0], MESH), np.linspace(low[1], high[1], MESH))
    grid = np.stack([xs.ravel(), ys.ravel()], 1)
    owner = ((grid[:, None, :] - centres[None, :, :]) ** 2).sum(-1).argmin(1).reshape(xs.shape)

    fig, ax = plt.subplots(figsize=(8, 6.5), dpi=110)
    ax.pcolormesh(
        xs,
        ys,
        owner,
        cmap=ListedColormap(colours),
        alpha=0.18,
        shading="auto",
        vmin=-0.5,
        vmax=k - 0.5,
    )
    for j in range(k):
        mine = base[base_labels == j]
        ax.scatter(
            mine[:, 0],
            mine[:, 1],
            s=22,
            color=colours[j],
            label=f"cluster {j} ({len(mine)})",
            alpha=0.85,
        )
    if len(new):
        ax.scatter(
            new[:, 0],
            new[:, 1],
            s=90,
            marker="*",
            c=colours[new_labels],
            edgecolors="black",
            linewidths=0.8,
            label=f"new items ({len(new)})",
        )
    ax.scatter(
        centres[:, 0],
        centres[:, 1],
        s=160,
        marker="X",
        c=colours,
        edgecolors="black",
        linewidths=1.2,
        label="centroids",
    )
    ax.set_xlim(low[0], high[0])
    ax.set_ylim(low[1], high[1])
    ax.set_xlabel("PCA 1")
    ax.set_ylabel("PCA 2")
    title = "items assigned to saved scene centroids" if result.assigned else "scene clusters"
    ax.set_title(f"{title} ({model.model}, k={k})")
    ax.legend(loc="best", fontsize=8, framealpha=0.85)
    fig.tight_layout()
    fig.savefig(target)
    plt.close(fig)


def _strip(result: ClusterResult, target: Path) -> None:
    import matplotlib.pyplot as plt

    k = len(result.model.centroids)
    by_cluster: dict[int, list[ItemRef]] = defaultdict(list)
    for c in result.items:
        by_cluster[c.cluster].append(c.item)
    samples = {j: _spread(by_cluster.get(j, []), STRIP) for j in range(k)}
    pictures = _pictures([item for items in samples.values() for item in items])
    fig, axes = plt.subplots(k, STRIP, figsize=(STRIP * 1.6, k * 1.2 + 0.3), dpi=100, squeeze=False)
    colours = _colours(k)
    for j in range(k):
        for n in range(STRIP):
            ax = axes[j][n]
            ax.set_xticks([])
            ax.set_yticks([])
            for spine in ax.spines.values():
                spine.set_color(colours[j])
                spine.set_linewidth(2.5)
            if n < len(samples[j]) and samples[j][n] in pictures:
                ax.imshow(pictures[samples[j][n]])
                item = samples[j][n]
                ax.set_title(_short(item), fontsize=6)
            else:
                ax.axis("off")
        axes[j][0].set_ylabel(f"cluster {j}", fontsize=8)
        if not samples[j]:  # an assigned run may leave a cluster empty: say so, not a gap
            axes[j][0].text(0.0, 0.5, f"cluster {j}: no items", fontsize=9, va="center")
    fig.tight_layout()
    fig.savefig(target)
    plt.close(fig)


def _similar(result: ClusterResult, target: Path) -> None:
    import matplotlib.pyplot as plt

    picks = _spread(list(range(len(result.items))), ROWS) if result.items else []
    rows = [result.items[i] for i in picks]
    columns = 1 + max((len(c.similar) for c in rows), default=0)
    wanted = [c.item for c in rows] + [s.item for c in rows for s in c.similar]
    pictures = _pictures(wanted)
    colours = _colours(len(result.model.centroids))
    fig, axes = plt.subplots(
        max(1, len(rows)), columns, figsize=(columns * 1.8, max(1, len(rows)) * 1.3 + 0.3),
        dpi=100, squeeze=False,
    )  # fmt: skip
    for r, item in enumerate(rows):
        cells = [(item.item, "new" if result.assigned else "item")]
        cells += [(s.item, f"{s.similarity:.3f}") for s in item.similar]
        for n in range(columns):
            ax = axes[r][n]
            ax.set_xticks([])
            ax.set_yticks([])
            if n >= len(cells) or cells[n][0] not in pictures:
                ax.axis("off")
                continue
            ax.imshow(pictures[cells[n][0]])
            ax.set_title(f"{_short(cells[n][0])}\n{cells[n][1]}", fontsize=6)
            for spine in ax.spines.values():
                spine.set_color(colours[item.cluster])
                spine.set_linewidth(3.5 if n == 0 else 1.5)
        axes[r][0].set_ylabel(f"cluster {item.cluster}", fontsize=8)
    if not rows:
        axes[0][0].axis("off")
    fig.suptitle("each item and its most similar items of its own cluster", fontsize=9)
    fig.tight_layout()
    fig.savefig(target)
    plt.close(fig)


def _spread[T](items: list[T], count: int) -> list[T]:
    """Up to `count` of `items`, evenly spread, in order."""
    if len(items) <= count:
        return items
    picks = np.linspace(0, len(items) - 1, count).round().astype(int)
    return [items[i] for i in picks]


def _short(item: ItemRef) -> str:
    name = Path(item.path).name
    name = name if len(name) <= 18 else name[:15] + "..."
    return name if item.time is None else f"{name} {item.time:.1f}s"


def _pictures(items: list[ItemRef]) -> dict[ItemRef, npt.NDArray[np.uint8]]:
    """Small RGB pictures of the items: one pass over each video for its frames."""
    from neardup.decode import Decoded, DecodeSpec, decode
    from neardup.sources.video import frames_at

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
        got = frames_at(path, wanted, THUMB_WIDTH)
        for item in items:
            if item.path == path and item.frame in got:
                out[item] = got[item.frame]
    return out
