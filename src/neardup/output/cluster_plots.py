"""Pictures of a clustering, as the idea's notebook draws them (PNG, no display):

- `FILE.png`: every item in the 2-D PCA plane of the clustered items' scene vectors, coloured
  by cluster, each centroid marked, and the region each centroid owns drawn beneath (every
  point of the plane coloured by its nearest centroid in that plane, the Voronoi cells);
  items assigned to saved centroids are drawn as black-edged stars over the saved items
  (matplotlib).
- `FILE-frames.png` and `FILE-similar.png`: contact sheets (`neardup.output.cluster_sheets`):
  sample pictures per cluster, and items beside their most similar items of their cluster.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path

import numpy as np
import numpy.typing as npt

from neardup.cluster.run import ClusterResult
from neardup.cluster.saved import ItemRef
from neardup.output import cluster_sheets

MESH = 300
NAMED = 5
"""Unreadable items named in the warning; the rest are counted."""


def _stderr(message: str) -> None:
    print(message, file=sys.stderr)


def png_path(path: str | Path) -> Path:
    """The scatter's file: `path`, `.png` added where it has no suffix. Another suffix is
    refused: the three pictures are PNG (a tester's `p.jpg` got PNG sheets named `.jpg`, and
    a name without a suffix was reported while matplotlib wrote it with `.png` added)."""
    target = Path(path)
    if not target.suffix:
        return target.with_name(target.name + ".png")
    if target.suffix.lower() != ".png":
        raise ValueError(f"--plot writes PNG pictures: name a .png file, not {target.name!r}")
    return target


def plot(
    result: ClusterResult, path: str | Path, warn: Callable[[str], None] = _stderr
) -> list[str]:
    """Write the scatter to `path` and the two contact sheets beside it; returns the paths.
    Items whose picture could not be read for a sheet (drawn crossed out) are told to `warn`
    (default: stderr), so a moved clip is not mistaken for a black frame."""
    import matplotlib

    matplotlib.use("Agg")
    target = png_path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    strip = target.with_name(target.stem + "-frames.png")
    similar = target.with_name(target.stem + "-similar.png")
    _scatter(result, target)
    missing = cluster_sheets.strip(result, strip)
    missing += [m for m in cluster_sheets.similar(result, similar) if m not in missing]
    if missing:
        warn(_unreadable(missing))
    return [str(target), str(strip), str(similar)]


def _unreadable(missing: list[ItemRef]) -> str:
    named = [m.path if m.frame is None else f"{m.path} [frame {m.frame}]" for m in missing]
    more = f" and {len(named) - NAMED} more" if len(named) > NAMED else ""
    return (
        f"neardup: warning: {len(named)} pictures could not be read for the contact sheets "
        f"(crossed out there): {', '.join(named[:NAMED])}{more}"
    )


def _colours(k: int) -> npt.NDArray[np.float64]:
    """The sheets' colours (matplotlib's tab10), as RGBA in [0, 1]."""
    return np.array([(*(v / 255 for v in cluster_sheets.colour(j)), 1.0) for j in range(k)])


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
