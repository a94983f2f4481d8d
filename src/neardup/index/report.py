"""What `add` and `query` tell the caller: each image's status and its duplicates already in
the index, with their scores."""

from __future__ import annotations

from dataclasses import dataclass, field

from neardup.records import Skipped


@dataclass(slots=True)
class Match:
    """One existing image a new image duplicates, and how similar they are."""

    path: str
    similarity: float
    confidence: float
    evidence: str
    scores: dict[str, float]


@dataclass(slots=True)
class Entry:
    """What happened to one image given to add or query."""

    path: str
    status: str
    """"added", "new" (query: would be added), "already indexed" (same bytes or pixels)."""
    same_as: str | None = None
    duplicates: list[Match] = field(default_factory=list)


@dataclass(slots=True)
class IndexReport:
    entries: list[Entry]
    skipped: list[Skipped]
    seconds: float = 0.0
    rebalanced: bool = False
    rebalance_reason: str | None = None
    """Why the centroids were retrained after this batch: "growth", "imbalance" or "drift"."""
