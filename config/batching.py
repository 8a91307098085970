"""Batches of a sequence: the one chunker every layer uses.

Salesforce caps everything by count (200 records a Collections call, 5 queries a Composite
request, ids per query), and mapsync plans and commits a bounded number of Opportunities at a
time; all of them cut with this. It is ``itertools.batched`` of Python 3.12, for 3.11, and
lives in ``config`` because that is the one package every other package may import.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from itertools import islice
from typing import TypeVar

T = TypeVar("T")


def batched(items: Iterable[T], size: int) -> Iterator[list[T]]:
    """Consecutive lists of ``size`` items (the last may be shorter); none for no items."""
    if size < 1:
        raise ValueError(f"batch size must be at least 1 (got {size})")
    it = iter(items)
    while batch := list(islice(it, size)):
        yield batch
