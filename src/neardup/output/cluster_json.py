"""The cluster result as JSON, schema `neardup.clusters/1` (documented in docs/schema.md)."""

from __future__ import annotations

import json
from typing import Any

from neardup import __version__
from neardup.cluster.run import ClusterResult
from neardup.cluster.saved import ItemRef

SCHEMA = "neardup.clusters/1"


def _ref(item: ItemRef) -> dict[str, Any]:
    return {"path": item.path, "frame": item.frame, "time": item.time}


def to_dict(result: ClusterResult) -> dict[str, Any]:
    """Plain data, ready for json.dumps."""
    return {
        "schema": SCHEMA,
        "neardup": __version__,
        "mode": "assign" if result.assigned else "fit",
        "model": result.model.model,
        "k": len(result.model.centroids),
        "criterion": result.model.criterion,
        "k_scores": {str(k): v for k, v in result.k_scores.items()},
        "clusters": [{"id": n, "size": size} for n, size in enumerate(result.sizes)],
        "items": [
            _ref(c.item)
            | {
                "cluster": c.cluster,
                "similar": [_ref(s.item) | {"similarity": s.similarity} for s in c.similar],
            }
            for c in result.items
        ],
        "skipped": [{"path": s.path, "reason": s.reason} for s in result.skipped],
    }


def dumps(result: ClusterResult) -> str:
    return json.dumps(to_dict(result), indent=2)
