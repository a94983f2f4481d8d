"""`neardup.channels.largest_channel`: the same values as numpy's `.max(axis=-1)` (it replaces
it where a picture's three channels made that reduction slow), a new array every time."""

from __future__ import annotations

import numpy as np
import pytest

from neardup.channels import largest_channel


@pytest.mark.parametrize("channels", [1, 2, 3, 4])
@pytest.mark.parametrize("dtype", [np.uint8, np.int16, np.float32, np.float64])
def test_the_largest_channel_is_numpys_maximum(channels: int, dtype: type) -> None:
    rng = np.random.default_rng(channels)
    values = (rng.random((7, 5, channels)) * 200 - (0 if dtype == np.uint8 else 100)).astype(dtype)
    found = largest_channel(values)
    expected = values.max(axis=-1)
    assert found.dtype == expected.dtype and found.shape == expected.shape
    assert np.array_equal(found, expected)
    assert not np.shares_memory(found, values)  # writing to it leaves the picture alone


def test_rows_of_channels_and_not_a_number() -> None:
    """A list of pixels (n x 3), as the page's ring is read, and NaN kept as numpy keeps it."""
    values = np.array([[1.0, 5.0, 2.0], [np.nan, 0.0, 1.0], [-3.0, -2.0, -1.0]])
    found = largest_channel(values)
    assert found[0] == 5.0 and np.isnan(found[1]) and found[2] == -1.0
