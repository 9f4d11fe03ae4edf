"""DEMS calibration factors from a calibration measurement (DOMAIN.md section 3). Pure: numpy
and pandas, no Django.

The calibration is a pulse: a known amount of each gas (n, µmol, stated on the calibration
measurement) is injected into the same MS inlet and its whole response recorded. For each gas:

    I_bg(t) = the line through (mean t, mean I) of the first and of the last `edge_fraction`
              of the channel's record (the signal before and after the pulse);
    A       = ∫ (I − I_bg) dt over the record, trapezoids            [A·s]
    k       = n · 1e-6 / A                                           [mol s⁻¹ per A]

so that the gas-evolution analysis' ∫ k·(I − I_bg) dt gives back n for the same pulse.
Refused with a sentence naming the field: a gas without a stated amount, a channel missing or
with fewer than MIN_POINTS points, a pulse not finished inside the record (over the last edge
the signal falls, against the first edge's trend, by more than 10 % of the pulse height), a
pulse not seen (A ≤ 0, or A below PULSE_NOISE_FACTOR times its noise: the edges' scatter σ
integrated over the record, σ·√(T·Δt)).
"""

from __future__ import annotations

import math
from collections.abc import Mapping

import numpy as np
import pandas as pd

from characterization.analysis._checks import number
from characterization.analysis.errors import AnalysisError

EDGE_FRACTION = 0.1
MIN_POINTS = 20
PULSE_NOISE_FACTOR = 10.0
UNFINISHED_FRACTION = 0.10
MZ_TOLERANCE = 0.05
MAX_INJECTED_UMOL = 1.0e4


def calibration_factors(
    ms_table: pd.DataFrame,
    injected_umol: Mapping[str, object],
    gases: Mapping[str, float],
    *,
    edge_fraction: float = EDGE_FRACTION,
) -> dict[str, dict]:
    """{gas: {"factor", "unit", "channel", "mz", "area_a_s", "injected_umol"}} for each gas of
    `gases` (gas -> m/z) that has an injected amount; raises AnalysisError when none has."""
    if not isinstance(ms_table, pd.DataFrame) or not {"time_s", "mz", "signal"} <= set(
        ms_table.columns
    ):
        raise AnalysisError(
            "calibration_measurement", "the calibration file is no ion-current table"
        )
    factors = {}
    for gas, mz in gases.items():
        amount = injected_umol.get(gas)
        if amount is None:
            continue
        if isinstance(amount, str):  # typed as "name: value" on the measurement
            try:
                amount = float(amount.strip().removesuffix("µmol").strip())
            except ValueError:
                raise AnalysisError(
                    "calibration_measurement",
                    f"the injected {gas} must be a number of µmol, got {amount!r}",
                ) from None
        n = number(amount, field="calibration_measurement", label=f"the injected {gas}")
        if not 0 < n <= MAX_INJECTED_UMOL:
            raise AnalysisError(
                "calibration_measurement",
                f"the injected {gas} must be above 0 and at most {MAX_INJECTED_UMOL:g} µmol",
            )
        factors[gas] = _factor(ms_table, gas, float(mz), n, edge_fraction)
    if not factors:
        keys = ", ".join(f"{gas.lower()}_injected_umol" for gas in gases)
        raise AnalysisError(
            "calibration_measurement",
            f"the calibration measurement states no injected amount: give {keys} in its "
            "conditions (µmol)",
        )
    return factors


def _factor(table: pd.DataFrame, gas: str, mz: float, n_umol: float, fraction: float) -> dict:
    rows = table[np.abs(table["mz"].to_numpy(dtype=float) - mz) < MZ_TOLERANCE]
    if rows.empty:
        raise AnalysisError(
            "calibration_measurement", f"the calibration file has no m/z {mz:g} channel for {gas}"
        )
    t = rows["time_s"].to_numpy(dtype=float)
    y = rows["signal"].to_numpy(dtype=float)
    good = np.isfinite(t) & np.isfinite(y)
    t, y = t[good], y[good]
    if len(t) < MIN_POINTS or np.any(np.diff(t) <= 0):
        raise AnalysisError(
            "calibration_measurement",
            f"the {gas} channel of the calibration file has fewer than {MIN_POINTS} points in "
            "time order",
        )
    edge = max(3, int(len(t) * fraction))
    head, tail = slice(0, edge), slice(len(t) - edge, len(t))
    height = float(np.max(y) - y[head].mean())
    falling = (_slope(t[head], y[head]) - _slope(t[tail], y[tail])) * (t[tail][-1] - t[tail][0])
    if height > 0 and falling > UNFINISHED_FRACTION * height:
        raise AnalysisError(
            "calibration_measurement",
            f"the {gas} signal is still falling at the end of the calibration record: the "
            "pulse is not finished inside it",
        )
    (t0, y0), (t1, y1) = (t[head].mean(), y[head].mean()), (t[tail].mean(), y[tail].mean())
    background = y0 + (y1 - y0) * (t - t0) / (t1 - t0)
    area = float(np.trapezoid(y - background, t))
    noise = float(np.std(np.concatenate([y[head] - y0, y[tail] - y1]), ddof=1))
    if area <= 0 or area < PULSE_NOISE_FACTOR * noise * math.sqrt((t[-1] - t[0]) * _step(t)):
        raise AnalysisError(
            "calibration_measurement",
            f"no {gas} pulse stands out of the calibration file's background (area {area:.3g} A·s)",
        )
    unit = str(rows["unit"].iloc[0]) if "unit" in rows else "A"
    return {
        "factor": n_umol * 1e-6 / area,
        "unit": unit,
        "channel": str(rows["channel"].iloc[0]) if "channel" in rows else f"m/z {mz:g}",
        "mz": mz,
        "area_a_s": area,
        "injected_umol": n_umol,
    }


def _slope(t: np.ndarray, y: np.ndarray) -> float:
    return float(np.polyfit(t, y, 1)[0])


def _step(t: np.ndarray) -> float:
    return float(np.median(np.diff(t)))
