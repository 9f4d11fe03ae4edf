"""Input checks shared by the analysis modules (numbers and cycling tables)."""

from __future__ import annotations

import math
from collections.abc import Iterable

import pandas as pd

from characterization.analysis.errors import AnalysisError


def number(value: object, *, field: str, label: str) -> float:
    """Return ``value`` as a finite float, or raise naming ``field``."""
    if isinstance(value, (bool, str, bytes)) or value is None:
        raise AnalysisError(field, f"{label} must be a number")
    try:
        result = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        raise AnalysisError(field, f"{label} must be a number") from None
    if not math.isfinite(result):
        raise AnalysisError(field, f"{label} must be a finite number")
    return result


def positive(value: object, *, field: str, label: str, unit: str = "") -> float:
    """Return ``value`` as a float > 0, or raise "<label> must be > 0 <unit>"."""
    result = number(value, field=field, label=label)
    if result <= 0:
        raise AnalysisError(field, f"{label} must be > 0 {unit}".rstrip())
    return result


def non_negative(value: object, *, field: str, label: str, unit: str = "") -> float:
    """Return ``value`` as a float >= 0, or raise "<label> must be >= 0 <unit>"."""
    result = number(value, field=field, label=label)
    if result < 0:
        raise AnalysisError(field, f"{label} must be >= 0 {unit}".rstrip())
    return result


def cycling_table(df: object, columns: Iterable[str], *, field: str = "df") -> pd.DataFrame:
    """Check that ``df`` is a non-empty normalised cycling table holding ``columns``."""
    if not isinstance(df, pd.DataFrame):
        raise AnalysisError(field, "expected a normalised cycling table (a pandas DataFrame)")
    missing = [name for name in columns if name not in df.columns]
    if missing:
        raise AnalysisError(field, f"the cycling table has no column(s) {', '.join(missing)}")
    if df.empty:
        raise AnalysisError(field, "the file has no data rows")
    if "cycle" in df.columns and df["cycle"].isna().any():
        raise AnalysisError(field, "some rows of the file have no cycle number")
    return df
