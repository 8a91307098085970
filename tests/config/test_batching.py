"""The one chunker: consecutive batches, the last shorter, none for nothing."""

from __future__ import annotations

import pytest

from config.batching import batched


def test_batches_hold_at_most_the_batch_size_in_order() -> None:
    batches = list(batched(iter(range(5)), 2))
    assert batches == [[0, 1], [2, 3], [4]]


def test_no_items_make_no_batch() -> None:
    assert list(batched([], 3)) == []


def test_a_batch_size_below_one_is_refused() -> None:
    with pytest.raises(ValueError, match="at least 1"):
        list(batched([1], 0))
