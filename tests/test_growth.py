"""When the index retrains its centroids: growth, a swollen cluster, drift of new data."""

from __future__ import annotations

import numpy as np

from neardup.index import growth
from neardup.index.growth import nearest_similarity, rebalance_reason, split_for_training
from neardup.index.ivf import train_centroids

EVEN = np.full(10, 100, dtype=np.int64)


def _reason(**changes: object) -> str | None:
    settings: dict[str, object] = {
        "images": 1000,
        "trained_on": 1000,
        "sizes": EVEN,
        "fit_expected": 0.5,
        "fit_added_sum": 0.0,
        "fit_added_n": 0,
    }
    settings.update(changes)
    return rebalance_reason(**settings)  # type: ignore[arg-type]


def test_each_sign_triggers_on_its_own_and_nothing_else_does() -> None:
    assert _reason() is None
    assert _reason(images=4001) == "growth" and _reason(images=4000) is None
    swollen = EVEN.copy()
    swollen[0] = 5000  # 5000 > 8 x the mean 590
    assert _reason(sizes=swollen) == "imbalance"
    tiny = np.array([1, 1, 1, 1, 1, 1, 1, 1, 1, 60])  # 60 > 8 x 6.6 but a small cluster
    assert _reason(sizes=tiny) is None
    # drift: 100 added (10 % of 1000) fitting at 0.3 against an expected 0.5
    assert _reason(fit_added_sum=30.0, fit_added_n=100) == "drift"
    assert _reason(fit_added_sum=45.0, fit_added_n=100) is None  # within the margin
    assert _reason(fit_added_sum=15.0, fit_added_n=50) is None  # too few added yet
    assert _reason(fit_added_sum=30.0, fit_added_n=100, fit_expected=None) is None
    assert _reason(images=1) is None


def test_hold_out_and_fit_tell_new_data_from_old() -> None:
    rng = np.random.default_rng(0)
    centres = rng.standard_normal((20, 32)).astype(np.float32)

    def around(which: np.ndarray) -> np.ndarray:
        x = centres[which] + 0.4 * rng.standard_normal((len(which), 32)).astype(np.float32)
        return x / np.linalg.norm(x, axis=1, keepdims=True)

    old = around(rng.integers(0, 10, 3000))  # the first 10 centres only
    train, held = split_for_training(len(old))
    assert len(held) == 300 and not np.intersect1d(train, held).size
    assert len(np.union1d(train, held)) == len(old)
    assert split_for_training(50)[1].size == 0  # too few to hold any out
    centroids = train_centroids(old[train], 10)
    expected = float(nearest_similarity(old[held], centroids).mean())
    same = float(nearest_similarity(around(rng.integers(0, 10, 500)), centroids).mean())
    new = float(nearest_similarity(around(rng.integers(10, 20, 500)), centroids).mean())
    assert abs(same - expected) < 0.02
    assert new < expected - growth.DRIFT_MARGIN
    assert _reason(fit_expected=expected, fit_added_sum=new * 500, fit_added_n=500) == "drift"
    assert _reason(fit_expected=expected, fit_added_sum=same * 500, fit_added_n=500) is None


def test_expected_fit_ignores_held_out_copies_of_training_vectors() -> None:
    rng = np.random.default_rng(1)
    x = rng.standard_normal((600, 64)).astype(np.float32)  # unrelated vectors, like SSCD's
    x /= np.linalg.norm(x, axis=1, keepdims=True)
    train, novel = x[:500], x[500:]
    copies = train[:100] + 0.05 * rng.standard_normal((100, 64)).astype(np.float32)
    copies /= np.linalg.norm(copies, axis=1, keepdims=True)
    centroids = train_centroids(train, 20)
    own = float(nearest_similarity(novel, centroids).mean())
    with_copies = float(nearest_similarity(np.concatenate([copies, novel]), centroids).mean())
    assert with_copies > own + 0.05  # copies fit like the training vectors they copy
    measured = growth.expected_fit(train, np.concatenate([copies, novel]), centroids)
    assert abs(measured - own) < 1e-6  # only the new content is measured
    assert growth.expected_fit(train, novel[:0], centroids) > own  # nothing held out: in-sample
