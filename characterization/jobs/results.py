"""Stored results: one AnalysisResult per cache key, its tables written as CSV artefacts under
MEDIA_ROOT/results/<cache key>/."""

from __future__ import annotations

import hashlib
import math
import re
from collections.abc import Mapping
from datetime import datetime
from pathlib import Path

import pandas as pd
from django.conf import settings
from django.db import IntegrityError, transaction

from characterization.analysis import registry
from characterization.jobs.cache import write_atomically
from characterization.jobs.models import AnalysisResult
from characterization.jobs.spec import JobSpec, spec_inputs

RESULTS_DIR = "results"


def result_store(spec: JobSpec, output: registry.AnalysisOutput) -> AnalysisResult:
    """The result for the spec's cache key: the stored one, or this output written once."""
    key = spec.cache_key
    existing = AnalysisResult.objects.filter(cache_key=key).first()
    if existing is not None:
        return existing
    artifacts = [_write_table(key, name, table) for name, table in output.tables.items()]
    defaults = {
        **spec_inputs(spec),
        "summary": jsonable(output.summary),
        "figures": jsonable(output.figures),
        "artifacts": artifacts,
        "warnings": jsonable(output.warnings),
    }
    try:
        with transaction.atomic():
            result, _ = AnalysisResult.objects.get_or_create(cache_key=key, defaults=defaults)
    except IntegrityError:  # another run stored the same key at the same moment
        result = AnalysisResult.objects.get(cache_key=key)
    return result


def results_dir(cache_key: str) -> Path:
    return Path(settings.MEDIA_ROOT) / RESULTS_DIR / cache_key


def _write_table(cache_key: str, name: str, table: pd.DataFrame) -> dict:
    safe = re.sub(r"[^A-Za-z0-9_-]+", "_", name) or "table"
    final = results_dir(cache_key) / f"{safe}.csv"
    write_atomically(final, lambda path: table.to_csv(path, index=False))
    digest = hashlib.sha256(final.read_bytes()).hexdigest()
    return {
        "name": name,
        "path": final.relative_to(Path(settings.MEDIA_ROOT)).as_posix(),
        "sha256": digest,
        "size": final.stat().st_size,
    }


def jsonable(value):
    """Plain JSON (PostgreSQL refuses NaN): numpy scalars to Python, NaN and inf to None."""
    if isinstance(value, Mapping):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [jsonable(v) for v in value]
    if isinstance(value, (datetime, pd.Timestamp)):
        return value.isoformat()
    if hasattr(value, "tolist") and not isinstance(value, (str, bytes)):
        return jsonable(value.tolist())
    if isinstance(value, bool) or value is None or isinstance(value, (int, str)):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    try:
        number = float(value)
    except (TypeError, ValueError):
        return str(value)
    return number if math.isfinite(number) else None
