"""The saved clustering (`neardup cluster --save FILE`): centroids, the PCA basis for plots,
and the clustered items with their vectors, so new items can be assigned later and compared
with the items of their own cluster.

One JSON file, schema `neardup.centroids/1` (docs/schema.md): readable, diffable, and safe to
open (no pickle). Vectors are base64 of little-endian float32.
"""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from neardup.cluster.kmeans import Matrix, Projection

SCHEMA = "neardup.centroids/1"


@dataclass(frozen=True, slots=True)
class ItemRef:
    """An item as the output names it: a path, and the frame and time for a video frame."""

    path: str
    frame: int | None = None
    time: float | None = None


@dataclass(slots=True)
class SceneModel:
    """What `--save` writes and `--centroids` reads."""

    model: str
    centroids: Matrix
    projection: Projection
    items: list[ItemRef]
    labels: list[int]
    vectors: Matrix
    """The clustered items' scene vectors (N x D), in `items` order."""
    criterion: str = "given"


def _pack(array: Matrix) -> dict[str, Any]:
    data = np.ascontiguousarray(array, dtype="<f4")
    return {"shape": list(data.shape), "float32": base64.b64encode(data.tobytes()).decode()}


def _unpack(value: Any) -> Matrix:
    raw = base64.b64decode(value["float32"])
    return np.frombuffer(raw, dtype="<f4").reshape(value["shape"]).astype(np.float32)


def save(model: SceneModel, path: str | Path) -> None:
    doc = {
        "schema": SCHEMA,
        "model": model.model,
        "k": len(model.centroids),
        "criterion": model.criterion,
        "centroids": _pack(model.centroids),
        "pca": {
            "mean": _pack(model.projection.mean),
            "components": _pack(model.projection.components),
        },
        "items": [
            {"path": i.path, "frame": i.frame, "time": i.time, "cluster": label}
            for i, label in zip(model.items, model.labels, strict=True)
        ],
        "vectors": _pack(model.vectors),
    }
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    temporary = target.with_name(target.name + ".tmp")
    temporary.write_text(json.dumps(doc), encoding="utf-8")
    temporary.replace(target)  # a reader never sees half a file


def load(path: str | Path) -> SceneModel:
    """The saved model, or ValueError saying why the file cannot be used."""
    try:
        doc = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
        raise ValueError(f"cannot read centroids file {path}: {error}") from error
    if not isinstance(doc, dict) or doc.get("schema") != SCHEMA:
        raise ValueError(f"{path} is not a neardup centroids file (schema {SCHEMA})")
    try:
        items = [ItemRef(i["path"], i["frame"], i["time"]) for i in doc["items"]]
        model = SceneModel(
            model=str(doc["model"]),
            centroids=_unpack(doc["centroids"]),
            projection=Projection(_unpack(doc["pca"]["mean"]), _unpack(doc["pca"]["components"])),
            items=items,
            labels=[int(i["cluster"]) for i in doc["items"]],
            vectors=_unpack(doc["vectors"]),
            criterion=str(doc.get("criterion", "given")),
        )
    except (KeyError, TypeError, ValueError) as error:
        raise ValueError(f"centroids file {path} is damaged: {error!r}") from error
    if len(model.vectors) != len(items) or model.vectors.shape[1:] != model.centroids.shape[1:]:
        raise ValueError(f"centroids file {path} is damaged: vectors do not match centroids")
    return model
