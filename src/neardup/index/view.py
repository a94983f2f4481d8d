"""What the index's helpers (matching a batch, listing every group, the health check) read of
an open index: a protocol, so they depend on this small surface and not on the class that
implements it (`neardup.index.catalog.ImageIndex`, through its layers), which imports them."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Protocol

import numpy as np
import numpy.typing as npt

from neardup.index.base import ClusteredIndex
from neardup.index.columns import Columns
from neardup.index.lazy import Positions
from neardup.index.neighbours import CandidateSearch, Identity
from neardup.index.storage import Settings
from neardup.records import Features


class IndexView(Protocol):
    """An open image index, read-only."""

    folder: Path
    db: sqlite3.Connection
    settings: Settings

    @property
    def images(self) -> Sequence[Features]:
        """Every stored image's features (decoded where read); `ids[i]` is the row id of
        `images[i]`."""

    @property
    def ids(self) -> npt.NDArray[np.int64]: ...

    @property
    def positions(self) -> Positions:
        """Row id -> position in `images`."""

    @property
    def by_path(self) -> Mapping[str, int]: ...

    @property
    def ivf(self) -> ClusteredIndex | None: ...

    @property
    def columns(self) -> Columns:
        """The per-image vectors, hashes and clusters (`neardup.index.columns`)."""

    centroids: npt.NDArray[np.float32] | None
    """The k-means centroids (None before training or without a model)."""
    search: CandidateSearch
    """Exact-copy and hash candidates of the stored images."""
    trained_on: int
    fit_expected: float | None
    fit_added: tuple[float, int]
    aliases: dict[str, int]
    """Exact copies of a stored image: path -> its row id."""
    copies: dict[str, Features]
    alias_files: dict[str, tuple[int, int]]
    """Exact copies' own (size, mtime_ns)."""
    """Features of exact copies added through this handle."""

    @property
    def identity(self) -> Identity: ...

    def indexed_neighbours(
        self, images: Sequence[Features]
    ) -> Iterator[tuple[npt.NDArray[np.int64], npt.NDArray[np.int64]]]: ...

    def home_clusters(self) -> npt.NDArray[np.int64]: ...

    def saved_centroids(self) -> npt.NDArray[np.float32] | None: ...

    def cluster_sizes(self) -> npt.NDArray[np.int64]: ...
