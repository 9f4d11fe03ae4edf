"""Cycling kinds added by issue 10: voltage hysteresis with energy efficiency, and the first
charge's high-voltage plateau (analysis.hysteresis, analysis.plateau)."""

from __future__ import annotations

import pandas as pd

from characterization.analysis.errors import AnalysisError
from characterization.analysis.hysteresis import VERSION as HYSTERESIS_VERSION
from characterization.analysis.hysteresis import voltage_hysteresis
from characterization.analysis.kind_output import figure, scatter, warning_dicts
from characterization.analysis.plateau import VERSION as PLATEAU_VERSION
from characterization.analysis.plateau import first_charge_plateau
from characterization.analysis.registry import AnalysisContext, AnalysisKind, AnalysisOutput, Param


def run_hysteresis(table, params, context: AnalysisContext) -> AnalysisOutput:
    context.progress(40, "mean voltages per cycle")
    result = voltage_hysteresis(
        table, electrode=context.electrode, voltage_window_v=context.voltage_window_v
    )
    series = result.series
    hysteresis = figure(
        "Voltage hysteresis and energy efficiency",
        "cycle",
        "ΔV (V)",
        [
            scatter("ΔV", series["cycle"], series["hysteresis_v"], mode="lines+markers"),
            scatter(
                "energy efficiency %",
                series["cycle"],
                [None if e is None else e * 100 for e in series["energy_efficiency"]],
                mode="lines+markers",
                yaxis="y2",
            ),
        ],
        yaxis2={"title": {"text": "energy efficiency %"}, "overlaying": "y", "side": "right"},
    )
    return AnalysisOutput(
        summary={**result.as_summary(), "energy_source": result.energy_source},
        tables={"hysteresis": pd.DataFrame(series)},
        figures={"hysteresis": hysteresis},
        warnings=warning_dicts(result.warnings),
    )


def run_plateau(table, params, context: AnalysisContext) -> AnalysisOutput:
    if context.active_mass_mg is None:
        raise AnalysisError("active_mass_mg", "the cell has no active mass; enter the disc masses")
    context.progress(40, "first charge")
    result = first_charge_plateau(
        table,
        active_mass_mg=context.active_mass_mg,
        threshold_v=params["threshold_v"],
        plateau_floor_v=params["plateau_floor_v"],
        slope_threshold_v_per_100mah_g=params["slope_threshold_v_per_100mah_g"],
        electrode=context.electrode,
        voltage_window_v=context.voltage_window_v,
    )
    figures = {}
    series = result.series or {}
    if series.get("q_mah_g"):
        q, first, last = series["q_mah_g"], series["flat_first_index"], series["flat_last_index"]
        traces = [
            scatter("V", q, series["voltage_v"]),
            scatter("smoothed V", q, series["smoothed_voltage_v"]),
        ]
        if first is not None and last is not None:
            flat = slice(first, last + 1)
            traces.append(
                scatter(
                    "flat plateau", q[flat], series["smoothed_voltage_v"][flat], line={"width": 4}
                )
            )
        figures["first_charge"] = figure("First charge", "mAh/g", "V", traces)
    return AnalysisOutput(
        summary=result.as_summary(), figures=figures, warnings=warning_dicts(result.warnings)
    )


KINDS = (
    AnalysisKind(
        "voltage_hysteresis",
        int(HYSTERESIS_VERSION),
        "Voltage hysteresis",
        (),
        run_hysteresis,
        needs_active_mass=False,
        measurement_types=(),  # on request: every cycling upload already starts four
    ),
    AnalysisKind(
        "first_charge_plateau",
        int(PLATEAU_VERSION),
        "First-charge plateau",
        (
            Param("threshold_v", "Capacity counted above (V)", "float", 4.4, 1.0, 6.0),
            Param("plateau_floor_v", "Flat plateau only above (V)", "float", 4.4, 1.0, 6.0),
            Param(
                "slope_threshold_v_per_100mah_g",
                "Flat: |dV/dQ| below (V per 100 mAh/g)",
                "float",
                0.5,
                0.01,
                10.0,
            ),
        ),
        run_plateau,
        measurement_types=(),  # on request: every cycling upload already starts four
    ),
)
