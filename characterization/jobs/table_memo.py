"""The cycling table a worker process read last, kept for the next job on the same content.

A worker runs the analyses of one upload one after the other; each read the Parquet cache
again (0.2-0.5 s for a million rows) and computed the same cycle summary again. The table is
content-addressed (cache.table_path: the file's SHA-256, the parser version and the column
mapping), and it is kept only while its cache file on disk is the one it was read from. It is
shared between the analyses (analysis.shared_tables), which read it and never change it.
One table per process, and only one below KEEP_MAX_MB: a larger one is read for each job.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from pathlib import Path

import pandas as pd

from characterization.analysis.shared_tables import share
from characterization.jobs import cache
from characterization.models import RawFile

KEEP_MAX_MB = 512  # a million-row cycling table is 86 MB
KEPT_KIND = "cycling"  # the kind several analyses read one after the other

_lock = threading.Lock()
_kept: tuple[tuple, pd.DataFrame, dict] | None = None  # (key, table, its reader's metadata)


def normalised_table(
    raw: RawFile, *, table_kind: str, column_mapping: Mapping | None
) -> tuple[pd.DataFrame, dict, bool]:
    """(table, the reader's metadata, read before): cache.normalised_table, the table read by
    the previous job of this process when it is the same content."""
    global _kept
    if table_kind != KEPT_KIND:
        return _fresh(raw, table_kind, column_mapping)
    path = cache.table_path(raw, table_kind=table_kind, column_mapping=column_mapping)
    kept = _kept
    if kept is not None and kept[0] == _key(path):
        return kept[1], dict(kept[2]), True
    table, metadata, cached = _fresh(raw, table_kind, column_mapping)
    key = _key(path)
    if key is not None and table.memory_usage(deep=False).sum() <= KEEP_MAX_MB * 2**20:
        with _lock:
            _kept = (key, share(table), dict(metadata))
    return table, metadata, cached


def forget() -> None:
    """Drop the kept table (tests; a worker never needs to)."""
    global _kept
    with _lock:
        _kept = None


def _fresh(raw, table_kind, column_mapping) -> tuple[pd.DataFrame, dict, bool]:
    table, cached = cache.normalised_table(
        raw, table_kind=table_kind, column_mapping=column_mapping
    )
    return table, table.attrs.pop(cache.FILE_METADATA, {}), cached


def _key(path: Path) -> tuple | None:
    """The cache file and its state on disk; None when there is none (nothing to keep)."""
    try:
        stat = path.stat()
    except OSError:
        return None
    return (str(path), stat.st_mtime_ns, stat.st_size)
