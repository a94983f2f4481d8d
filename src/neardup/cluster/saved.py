"""The saved clustering (`neardup cluster --save FILE`): centroids, the PCA basis for plots,
and the clustered items with their vectors, so new items can be assigned later and compared
with the items of their own cluster.

One JSON file, schema `neardup.centroids/1` (docs/schema.md): readable, diffable, and safe to
open (no pickle). Vectors are base64 of little-endian float32. Item paths are stored as given,
with `cwd`, the folder they are relative to (as a scan's JSON records it), so a file loaded
from another folder still names files that can be opened.
"""

from __future__ import annotations

import base64
import contextlib
import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from neardup.cluster.kmeans import Matrix, Projection
from neardup.sources.remote import is_url

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
    cwd: str | None = None
    """The folder relative item paths are relative to; None: the current one."""


def _pack(array: Matrix) -> dict[str, Any]:
    data = np.ascontiguousarray(array, dtype="<f4")
    return {"shape": list(data.shape), "float32": base64.b64encode(data.tobytes()).decode()}


def _unpack(value: Any) -> Matrix:
    raw = base64.b64decode(value["float32"])
    return np.frombuffer(raw, dtype="<f4").reshape(value["shape"]).astype(np.float32)


def save(model: SceneModel, path: str | Path) -> None:
    """Write the model to `path` through a temporary file beside it (ValueError, with the
    temporary file removed, when it cannot be written)."""
    doc = {
        "schema": SCHEMA,
        "model": model.model,
        "k": len(model.centroids),
        "cwd": model.cwd or os.getcwd(),
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
    temporary = target.with_name(target.name + ".tmp")
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        temporary.write_text(json.dumps(doc), encoding="utf-8")
        temporary.replace(target)  # a reader never sees half a file
    except OSError as error:
        with contextlib.suppress(OSError):
            temporary.unlink()  # a failed save leaves nothing behind
        raise ValueError(f"cannot write {path}: {error.strerror or error}") from error


def load(path: str | Path) -> SceneModel:
    """The saved model, or ValueError saying why the file cannot be used."""
    try:
        doc = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
        raise ValueError(f"cannot read centroids file {path}: {error}") from error
    if not isinstance(doc, dict) or doc.get("schema") != SCHEMA:
        raise ValueError(f"{path} is not a neardup centroids file (schema {SCHEMA})")
    try:
        base = doc.get("cwd")
        if base is not None and not isinstance(base, str):
            raise TypeError(f"cwd is {base!r}, not a folder")
        items = [ItemRef(_resolve(i["path"], base), i["frame"], i["time"]) for i in doc["items"]]
        model = SceneModel(
            model=str(doc["model"]),
            centroids=_unpack(doc["centroids"]),
            projection=Projection(_unpack(doc["pca"]["mean"]), _unpack(doc["pca"]["components"])),
            items=items,
            labels=[int(i["cluster"]) for i in doc["items"]],
            vectors=_unpack(doc["vectors"]),
            criterion=str(doc.get("criterion", "given")),
            cwd=os.getcwd() if base is not None else None,
        )
    except (KeyError, TypeError, ValueError) as error:
        raise ValueError(f"centroids file {path} is damaged: {error!r}") from error
    if len(model.vectors) != len(items) or model.vectors.shape[1:] != model.centroids.shape[1:]:
        raise ValueError(f"centroids file {path} is damaged: vectors do not match centroids")
    k = len(model.centroids)
    if doc.get("k", k) != k or not all(0 <= label < k for label in model.labels):
        # A saved item of no cluster would drop out of every `similar` list without a word.
        raise ValueError(f"centroids file {path} is damaged: k or a cluster does not match")
    arrays = {
        "centroids": model.centroids,
        "vectors": model.vectors,
        "pca": np.concatenate([model.projection.mean.ravel(), model.projection.components.ravel()]),
    }
    for name, array in arrays.items():
        # NaN or infinite values would send every new item to cluster 0 with NaN similarities.
        if not np.isfinite(array).all():
            raise ValueError(f"centroids file {path} is damaged: {name} hold NaN or infinity")
    return model


def _resolve(path: str, base: str | None) -> str:
    """`path` as the current folder can open it: a relative path saved in another folder
    (`base`) is joined to that folder; one saved here, or in an older file without `cwd`
    (read relative to the current folder, as before), is kept as given."""
    if not isinstance(path, str):
        raise TypeError(f"item path {path!r} is not a string")
    if base is None or is_url(path) or os.path.isabs(path) or _same_folder(base, os.getcwd()):
        return path
    return os.path.join(base, path)


def _same_folder(a: str, b: str) -> bool:
    try:
        return os.path.samefile(a, b)
    except OSError:  # the saving folder is gone: compare the names
        return os.path.normpath(a) == os.path.normpath(b)
