"""What a scene is to `neardup cluster`: the vector each item is clustered by.

Measured, not assumed (docs/cluster.md, benchmarks/scene_models.py): on frames of three real
clips, SSCD's copy-detection embedding (`sscd_distilled`) and a semantic ImageNet CNN
(EfficientNet-Lite0, `neardup.features.semantic`) both gave pure clusters and put every
held-out frame with its own clip, but only SSCD kept a hard-compressed copy of a clip with
its scene (1.00 against 0.55-0.63), at about a tenth of the time; a colour layout mixed clips. So
scenes are SSCD embeddings, which the duplicate search already computes and caches; `colour`
and `colour+sscd` stay selectable as the measured alternatives.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from neardup.records import Features

SCENE_MODELS = ("sscd_distilled", "colour", "colour+sscd")
DEFAULT_SCENE_MODEL = "sscd_distilled"


def colour_layout(features: Features) -> npt.NDArray[np.float32]:
    """The 4 x 4 RGB thumbnail, centred and unit-length: where the colours are, nothing else."""
    if features.thumb is None:
        return np.zeros(48, dtype=np.float32)
    v = features.thumb.astype(np.float32).reshape(-1)
    v -= v.mean()
    return (v / max(float(np.linalg.norm(v)), 1e-6)).astype(np.float32)


def scene_vector(features: Features, model: str) -> npt.NDArray[np.float32]:
    """The unit-length vector `model` clusters `features` by."""
    if model == "colour":
        return colour_layout(features)
    sscd = features.embeddings["sscd_distilled"]
    if model == "colour+sscd":
        joined: npt.NDArray[np.float32] = np.concatenate([sscd, colour_layout(features)])
        return (joined / np.float32(np.sqrt(2.0))).astype(np.float32)
    if model == "sscd_distilled":
        return sscd.astype(np.float32)
    raise ValueError(f"unknown scene model {model!r}; choose from {', '.join(SCENE_MODELS)}")


def scene_matrix(images: list[Features], model: str) -> npt.NDArray[np.float32]:
    """N x D scene vectors of `images`, in order."""
    if not images:
        return np.zeros((0, 512), dtype=np.float32)
    return np.stack([scene_vector(f, model) for f in images]).astype(np.float32)
