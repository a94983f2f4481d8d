"""The semantic CNN of the scene-model comparison: the numpy port of EfficientNet-Lite0 must
classify like the network it was trained as, and its weights reader must refuse code."""

from __future__ import annotations

import pickle
from pathlib import Path

import numpy as np
import pytest
from skimage import data

from neardup.features.semantic import classify, embed_semantic, pooled, read_checkpoint

TABBY_TO_EGYPTIAN_CAT = range(281, 286)  # ImageNet's domestic cat classes
ESPRESSO, CUP = 967, 968


def test_port_classifies_real_photos() -> None:
    features = pooled([np.asarray(data.chelsea()), np.asarray(data.coffee())])
    cat, coffee = classify(features)
    assert cat in TABBY_TO_EGYPTIAN_CAT and coffee in (ESPRESSO, CUP)
    vectors = features / np.linalg.norm(features, axis=1, keepdims=True)
    assert float(vectors[0] @ vectors[1]) < 0.9  # a cat and a coffee cup are not one scene
    unit = embed_semantic([np.asarray(data.chelsea())])
    assert unit.shape == (1, 1280) and np.allclose(unit[0], vectors[0], atol=1e-5)


class _Boom:
    def __reduce__(self) -> tuple[object, tuple[str]]:
        return (print, ("ran code",))


def test_weights_reader_refuses_code(tmp_path: Path) -> None:
    evil = tmp_path / "evil.pth"
    evil.write_bytes(pickle.dumps(_Boom()))
    with pytest.raises(pickle.UnpicklingError, match="refusing"):
        read_checkpoint(evil)
