"""Small shared steps of the readers: run ids, chained counters, step-type names.

The normalisation itself (direction, half cycles, cycles, capacities) is cycle_model.normalise;
the readers only gather their file's records into a cycle_model.Records.
"""

from __future__ import annotations

import numpy as np

from .schema import STEP_TYPES

CHARGE, DISCHARGE, REST, OTHER = STEP_TYPES


def run_ids(*keys: np.ndarray) -> np.ndarray:
    """1-based id that increases whenever any key changes from one row to the next."""
    n = len(keys[0])
    changed = np.zeros(n, dtype=bool)
    for key in keys:
        values = np.asarray(key)
        changed[1:] |= values[1:] != values[:-1]
    return np.cumsum(changed) + 1 if n else np.zeros(0, dtype=np.int64)


def chained(segments: np.ndarray, running: np.ndarray, *, boundaries: bool = False) -> np.ndarray:
    """A value that restarts at each segment, continued over the file: each row's value plus
    the maxima of all earlier segments. Rows of a segment are contiguous, so the maxima come
    from np.fmax.reduceat (numpy only: this runs on million-row files). With `boundaries`,
    `segments` is already a boolean mask of the rows that start a segment."""
    segments, running = np.asarray(segments), np.asarray(running, dtype=float)
    n = len(running)
    if n == 0:
        return np.zeros(0)
    if boundaries:
        starts_mask = segments.astype(bool).copy()
        starts_mask[0] = True
    else:
        starts_mask = np.r_[True, segments[1:] != segments[:-1]]
    starts = np.flatnonzero(starts_mask)
    seg_max = np.nan_to_num(np.fmax.reduceat(running, starts))  # NaN: a segment of NaN only
    before = np.cumsum(seg_max) - seg_max
    return running + before[np.cumsum(starts_mask) - 1]
