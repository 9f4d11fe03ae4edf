"""Overlay cycling results of several cells, alone or grouped (mean ± spread over replicates).

Pure Python on pandas (no Django): the pages hand in, per group, the per-cycle rows of each
cell's cycling summary (the ``summary["cycles"]`` of a cycling_summary result) and get plotly
figures and a summary table back. For a group, each cycle's value is the mean over the cells that
completed that cycle, the spread its sample standard deviation (n − 1; none for one cell).

A cell whose result carries a "flag" warning (its numbers may be wrong) is left out of the
comparison unless asked for (leave_out_flagged), so that one bad file cannot move a group mean.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import pandas as pd

PALETTE = ("#1d4ed8", "#b4441b", "#1b7f3b", "#7c3aed", "#9a6700", "#0e7490", "#be185d", "#4b5563")
QUANTITIES = {
    "discharge_capacity_mah_g": ("Discharge capacity", "mAh/g"),
    "mean_discharge_voltage_v": ("Mean discharge voltage", "V"),
    "coulombic_efficiency": ("Coulombic efficiency", "fraction"),
}


@dataclass(frozen=True)
class Member:
    """One cell of a group and its per-cycle rows (dicts with at least cycle and complete);
    `flags`: the flag warnings of its result ({code, message, cycles, severity})."""

    label: str
    cycles: Sequence[Mapping]
    flags: Sequence[Mapping] = ()


@dataclass(frozen=True)
class LeftOut:
    """A flagged cell of a group: left out of it, or included because the user asked."""

    group: str
    member: Member
    included: bool


def leave_out_flagged(
    groups: Mapping[str, Sequence[Member]], *, include: bool = False
) -> tuple[dict[str, list[Member]], list[LeftOut]]:
    """The groups without their flagged members (all members when `include`), groups left
    empty dropped, and every flagged member with the group it belongs to."""
    kept: dict[str, list[Member]] = {}
    flagged: list[LeftOut] = []
    for name, members in groups.items():
        for member in members:
            if member.flags:
                flagged.append(LeftOut(name, member, include))
        chosen = [m for m in members if include or not m.flags]
        if chosen:
            kept[name] = chosen
    return kept, flagged


def group_curve(members: Sequence[Member], quantity: str) -> pd.DataFrame:
    """Per cycle: cycle, mean, sd (NaN with one cell), n - over the members' complete cycles."""
    frames = []
    for member in members:
        rows = [r for r in member.cycles if r.get("complete") and _finite(r.get(quantity))]
        frames.append(
            pd.DataFrame(
                {"cycle": [int(r["cycle"]) for r in rows], "value": [r[quantity] for r in rows]}
            )
        )
    data = pd.concat(frames) if frames else pd.DataFrame({"cycle": [], "value": []})
    if data.empty:
        return pd.DataFrame({"cycle": [], "mean": [], "sd": [], "n": []})
    grouped = data.groupby("cycle")["value"]
    out = pd.DataFrame({"mean": grouped.mean(), "sd": grouped.std(ddof=1), "n": grouped.size()})
    return out.reset_index()


def _finite(value) -> bool:
    try:
        return value is not None and math.isfinite(float(value))
    except (TypeError, ValueError):
        return False


def overlay_figure(
    groups: Mapping[str, Sequence[Member]], quantity: str, *, scale: float = 1.0
) -> dict:
    """A plotly figure: one line per group (mean) with a shaded mean ± sd band."""
    title, unit = QUANTITIES[quantity]
    data: list[dict] = []
    for index, (name, members) in enumerate(groups.items()):
        curve = group_curve(members, quantity)
        color = PALETTE[index % len(PALETTE)]
        x = curve["cycle"].astype(int).tolist()
        mean = (curve["mean"] * scale).round(6).tolist()
        sd = (curve["sd"].fillna(0.0) * scale).round(6).tolist()
        if len(members) > 1 and x:
            upper = [m + s for m, s in zip(mean, sd, strict=True)]
            lower = [m - s for m, s in zip(mean, sd, strict=True)]
            data.append(_band(x + x[::-1], upper + lower[::-1], color, name))
        data.append(
            {
                "type": "scatter",
                "mode": "lines+markers" if len(x) <= 60 else "lines",
                "name": f"{name} (n={len(members)})",
                "legendgroup": name,
                "x": x,
                "y": mean,
                "line": {"color": color},
                "marker": {"size": 5},
                "customdata": curve["n"].astype(int).tolist(),
                "hovertemplate": "cycle %{x}: %{y:.4g} " + unit + " (cells: %{customdata})",
            }
        )
    return {
        "data": data,
        "layout": {
            "title": {"text": f"{title} vs cycle"},
            "xaxis": {"title": {"text": "cycle"}},
            "yaxis": {"title": {"text": f"{title} ({unit})"}},
            "margin": {"t": 48, "r": 16, "b": 120},
            "height": 460,
            "legend": {"orientation": "h", "x": 0, "y": -0.22, "yanchor": "top"},
        },
    }


def _band(x: list, y: list, color: str, name: str) -> dict:
    return {
        "type": "scatter",
        "mode": "lines",
        "x": x,
        "y": y,
        "fill": "toself",
        "fillcolor": _rgba(color, 0.18),
        "line": {"width": 0},
        "hoverinfo": "skip",
        "showlegend": False,
        "legendgroup": name,
        "name": f"{name} ± sd",
    }


def _rgba(hex_color: str, alpha: float) -> str:
    r, g, b = (int(hex_color[i : i + 2], 16) for i in (1, 3, 5))
    return f"rgba({r},{g},{b},{alpha})"


def group_table(groups: Mapping[str, Sequence[Member]]) -> list[dict]:
    """Per group: cells, first-cycle and last-common-cycle discharge capacity (mean, sd),
    retention between them, and mean discharge voltage at both."""
    rows = []
    for name, members in groups.items():
        capacity = group_curve(members, "discharge_capacity_mah_g")
        voltage = group_curve(members, "mean_discharge_voltage_v")
        full = capacity[capacity["n"] == len(members)]
        first = full.iloc[0] if not full.empty else None
        last = full.iloc[-1] if not full.empty else None
        rows.append(
            {
                "group": name,
                "cells": len(members),
                "first_cycle": None if first is None else int(first["cycle"]),
                "first_capacity": _stat(first),
                "last_cycle": None if last is None else int(last["cycle"]),
                "last_capacity": _stat(last),
                "retention_percent": (
                    None if first is None else 100.0 * float(last["mean"]) / float(first["mean"])
                ),
                "first_voltage": _stat(_at(voltage, first)),
                "last_voltage": _stat(_at(voltage, last)),
            }
        )
    return rows


def _at(curve: pd.DataFrame, row) -> pd.Series | None:
    if row is None:
        return None
    match = curve[curve["cycle"] == row["cycle"]]
    return None if match.empty else match.iloc[0]


def _stat(row) -> dict | None:
    if row is None:
        return None
    sd = float(row["sd"])
    return {"mean": float(row["mean"]), "sd": None if math.isnan(sd) else sd}
