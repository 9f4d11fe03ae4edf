"""Tables several analyses read one after the other, and what they compute alike from them.

A worker runs the analyses of one file in a row (summary, fade, dQ/dV, first cycle) and each
starts from the same cycle summary and plausibility checks: 0.6 s of a million-row file, four
times. The jobs layer marks the table it hands to all of them as shared (`share`): it is never
changed by an analysis, so a result computed from it (`remembered`) stays valid while it
lives, and goes with it (weak references). Tables nobody shared are computed afresh every
time, as before: a caller may have edited them in place.
"""

from __future__ import annotations

import threading
import weakref
from collections.abc import Callable, Hashable
from typing import TypeVar

import pandas as pd

T = TypeVar("T")

# id(table) -> key -> result; a table's entry is removed when the table is freed (before its
# id can be given to another object). DataFrames cannot be dictionary keys themselves.
_results: dict[int, dict] = {}
_lock = threading.Lock()


def share(table: pd.DataFrame) -> pd.DataFrame:
    """Mark `table` as read by several analyses and changed by none."""
    with _lock:
        if id(table) not in _results:
            _results[id(table)] = {}
            weakref.finalize(table, _forget, id(table))
    return table


def _forget(table_id: int) -> None:
    with _lock:
        _results.pop(table_id, None)


def remembered(table: pd.DataFrame, key: Hashable, compute: Callable[[], T]) -> T:
    """compute() once per shared table and key; every call for an unshared table."""
    with _lock:
        results = _results.get(id(table))
        if results is not None and key in results:
            return results[key]
    value = compute()
    if results is not None:
        with _lock:
            results[key] = value
    return value
