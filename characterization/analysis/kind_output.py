"""What every analysis kind hands back the same way: warnings in the stored shape, table rows,
and plotly figures built from an analysis' plot data."""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence

import pandas as pd

from characterization.analysis.plausibility import FLAG, SEVERITY


def warning_dicts(warnings: Iterable[Mapping]) -> list[dict]:
    """Warnings as results store them: {code, message, cycles, severity}; an analysis' own
    extra keys (steps, scans) are kept, and a missing severity comes from plausibility."""
    out = []
    for w in warnings:
        item = dict(w)
        item.setdefault("cycles", [])
        item.setdefault("severity", SEVERITY.get(item.get("code", ""), FLAG))
        out.append(item)
    return out


def records(df: pd.DataFrame) -> list[dict]:
    return df.astype(object).where(df.notna(), None).to_dict(orient="records")


def json_number(value):
    if value is None or isinstance(value, str):
        return value
    value = float(value)
    return None if math.isnan(value) or math.isinf(value) else round(value, 9)


def scatter(name: str, x: Sequence, y: Sequence, **extra) -> dict:
    """One plotly trace."""
    return {
        "type": "scatter",
        "mode": extra.pop("mode", "lines"),
        "name": name,
        "x": [json_number(v) for v in x],
        "y": [json_number(v) for v in y],
        **extra,
    }


def figure(title: str, x_title: str, y_title: str, traces: list[dict], **layout) -> dict:
    return {
        "data": traces,
        "layout": {
            "title": {"text": title},
            "xaxis": {"title": {"text": x_title}, **layout.pop("xaxis", {})},
            "yaxis": {"title": {"text": y_title}, **layout.pop("yaxis", {})},
            "margin": {"t": 48, "r": 16},
            "legend": {"orientation": "h"},
            **layout,
        },
    }
