"""What the index's helpers (matching a batch, listing every group, the health check) read of
an open index: a protocol, so they depend on this small surface and not on the class that
implements it (`neardup.index.catalog.ImageIndex`), which imports them."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Protocol

import numpy as np
import numpy.typing as npt

from neardup.index.base import ClusteredIndex
from neardup.index.storage import Settings
from neardup.records import Features


class IndexView(Protocol):
    """An open image index, read-only."""

    folder: Path
    db: sqlite3.Connection
    settings: Settings
    images: list[Features]
    """Every stored image's features; `ids[i]` is the row id of `images[i]`."""
    ids: list[int]
    positions: dict[int, int]
    """Row id -> position in `images`."""
    by_path: dict[str, int]
    ivf: ClusteredIndex | None
    trained_on: int
    fit_expected: float | None
    fit_added: tuple[float, int]
    aliases: dict[str, int]
    """Exact copies of a stored image: path -> its row id."""
    copies: dict[str, Features]
    """Features of exact copies added through this handle."""

    @property
    def identity(self) -> dict[tuple[str, str], int]: ...

    def indexed_neighbours(self, images: Sequence[Features]) -> Iterator[tuple[int, int]]: ...

    def hash_neighbours(self, images: Sequence[Features]) -> Iterator[tuple[int, int]]: ...

    def saved_centroids(self) -> npt.NDArray[np.float32] | None: ...
