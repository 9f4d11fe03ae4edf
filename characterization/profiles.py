"""Voltage profiles of chosen cycles (voltage vs capacity, charge and discharge) as a plotly
figure, from the normalised cycling table (characterization/parsers/schema.py). Pure pandas.

Capacity is the table's per-cycle charge/discharge capacity (mAh), divided by the active mass
in g when it is known (mAh/g). Each curve keeps at most `max_points` evenly spaced rows.
"""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd

from characterization.comparison import PALETTE

MAX_CYCLES = 12


def default_cycles(table: pd.DataFrame) -> list[int]:
    """The first two cycles, the 10th, and the last (those that exist)."""
    labels = sorted(int(c) for c in table["cycle"].unique())
    if not labels:
        return []
    picks = labels[:2] + ([labels[9]] if len(labels) > 9 else []) + [labels[-1]]
    return list(dict.fromkeys(picks))


def parse_cycles(text: str) -> list[int]:
    """ "1, 2, 10-12" -> [1, 2, 10, 11, 12]; ValueError naming the bad part."""
    cycles: list[int] = []
    for part in filter(None, (p.strip() for p in text.replace(";", ",").split(","))):
        low, _, high = part.partition("-")
        try:
            first, last = int(low), int(high or low)
        except ValueError:
            raise ValueError(f"“{part}” is not a cycle number or a range like 10-12") from None
        if last < first or last - first > 1000:
            raise ValueError(f"“{part}” is not a range of cycles")
        cycles.extend(range(first, last + 1))
    return list(dict.fromkeys(cycles))[:MAX_CYCLES]


def voltage_profile_figure(
    table: pd.DataFrame,
    cycles: Sequence[int],
    *,
    active_mass_mg: float | None = None,
    max_points: int = 1500,
) -> dict:
    scale = 1000.0 / active_mass_mg if active_mass_mg else 1.0
    unit = "mAh/g" if active_mass_mg else "mAh"
    data = []
    for index, cycle in enumerate(cycles):
        color = PALETTE[index % len(PALETTE)]
        rows = table[table["cycle"] == cycle]
        for direction, dash in (("charge", "solid"), ("discharge", "dash")):
            part = rows[rows["step_type"] == direction]
            if part.empty:
                continue
            step = max(1, len(part) // max_points)
            part = part.iloc[::step]
            data.append(
                {
                    "type": "scatter",
                    "mode": "lines",
                    "name": f"cycle {cycle} {direction}",
                    "legendgroup": f"cycle {cycle}",
                    "x": (part[f"{direction}_capacity_mah"] * scale).round(5).tolist(),
                    "y": part["voltage_v"].round(5).tolist(),
                    "line": {"color": color, "dash": dash},
                }
            )
    return {
        "data": data,
        "layout": {
            "title": {"text": "Voltage profiles"},
            "xaxis": {"title": {"text": f"capacity ({unit})"}},
            "yaxis": {"title": {"text": "voltage (V)"}},
            "margin": {"t": 48, "r": 16},
            "legend": {"orientation": "v"},
        },
    }
