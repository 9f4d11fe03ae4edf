"""The analyses Kiln ships, registered with characterization.analysis.registry."""

from __future__ import annotations

import pandas as pd

from characterization.analysis.cycling import cycle_summary
from characterization.analysis.dqdv import dqdv_analysis
from characterization.analysis.errors import AnalysisError, TooFewCyclesError
from characterization.analysis.fade import voltage_fade
from characterization.analysis.first_cycle import first_cycle_metrics
from characterization.analysis.rate import rate_capability
from characterization.analysis.registry import (
    AnalysisContext,
    AnalysisKind,
    AnalysisOutput,
    Param,
    line_figure,
    register,
)


def _mass(context: AnalysisContext) -> float:
    if context.active_mass_mg is None:
        raise AnalysisError("active_mass_mg", "the cell has no active mass; enter the disc masses")
    return context.active_mass_mg


def _records(df: pd.DataFrame) -> list[dict]:
    return df.astype(object).where(df.notna(), None).to_dict(orient="records")


def run_cycling_summary(table, params, context) -> AnalysisOutput:
    context.progress(40, "summarising cycles")
    summary = cycle_summary(
        table, active_mass_mg=_mass(context), reference_cycle=params["reference_cycle"]
    )
    complete = summary[summary["complete"]]
    figure = line_figure(
        "Capacity and Coulombic efficiency",
        "cycle",
        "mAh/g",
        [
            ("charge", complete["cycle"], complete["charge_capacity_mah_g"]),
            ("discharge", complete["cycle"], complete["discharge_capacity_mah_g"]),
        ],
    )
    efficiency = line_figure(
        "", "", "", [("CE %", complete["cycle"], complete["coulombic_efficiency"] * 100)]
    )
    figure["data"].append({**efficiency["data"][0], "yaxis": "y2"})
    figure["layout"]["yaxis2"] = {"title": {"text": "CE %"}, "overlaying": "y", "side": "right"}
    return AnalysisOutput(
        summary={"cycles": _records(summary), "complete_cycles": int(len(complete))},
        tables={"cycle_summary": summary},
        figures={"capacity": figure},
    )


def run_voltage_fade(table, params, context) -> AnalysisOutput:
    summary = cycle_summary(table, active_mass_mg=_mass(context))
    try:
        fade = voltage_fade(
            summary, first_cycle=params["first_cycle"], last_cycle=params["last_cycle"]
        )
    except TooFewCyclesError as exc:
        # One complete cycle is a normal file (a formation test): there is no fade to report.
        return AnalysisOutput(
            summary={
                "fade_mv_per_cycle": None,
                "fitted_fade_mv_per_cycle": None,
                "note": exc.message,
            }  # fmt: skip
        )
    figure = line_figure(
        "Mean discharge voltage",
        "cycle",
        "V",
        [("mean discharge voltage", fade.cycles, fade.mean_discharge_voltage_v)],
    )
    frame = pd.DataFrame(
        {"cycle": fade.cycles, "mean_discharge_voltage_v": fade.mean_discharge_voltage_v}
    )
    return AnalysisOutput(
        summary=fade.to_dict(), tables={"voltage_fade": frame}, figures={"mean_voltage": figure}
    )


def run_rate_capability(table, params, context) -> AnalysisOutput:
    rate = rate_capability(
        table,
        active_mass_mg=_mass(context),
        one_c_ma_per_g=params["one_c_ma_per_g"],
        tolerance=params["tolerance"],
    )
    steps = rate.steps
    labels = [f"{i + 1}: {r:g}C" for i, r in enumerate(steps["rate_c"])]
    capacity = steps["mean_discharge_capacity_mah_g"]
    figure = line_figure(
        "Rate capability", "step: C-rate", "mAh/g", [("discharge", labels, capacity)]
    )
    return AnalysisOutput(
        summary=rate.to_dict(),
        tables={"rate_cycles": rate.cycles},
        figures={"rate": figure} if labels else {},
    )


def run_dqdv(table, params, context) -> AnalysisOutput:
    context.progress(30, "computing dQ/dV")
    result = dqdv_analysis(
        table,
        active_mass_mg=context.active_mass_mg,
        voltage_step_v=params["voltage_step_v"],
        smoothing_sigma_v=params["smoothing_sigma_v"],
        targets_v=params["targets_v"],
        window_v=params["window_v"],
    )
    curves = result.curves
    shown = sorted(curves["cycle"].unique())[:: max(1, len(curves["cycle"].unique()) // 10)]
    series = [
        (f"cycle {c} {d}", part["voltage_v"], part["dqdv_mah_per_v"])
        for (c, d), part in curves[curves["cycle"].isin(shown)].groupby(["cycle", "direction"])
    ]
    figure = line_figure("dQ/dV", "V", "mAh/V", series, mode="lines")
    return AnalysisOutput(
        summary={"peaks": _records(result.tracks)},
        tables={"dqdv_peaks": result.peaks, "dqdv_tracks": result.tracks},
        figures={"dqdv": figure},
    )


def run_first_cycle(table, params, context) -> AnalysisOutput:
    metrics = first_cycle_metrics(
        table, active_mass_mg=_mass(context), plateau_threshold_v=params["plateau_threshold_v"]
    )
    return AnalysisOutput(summary=metrics.to_dict())


register(
    AnalysisKind(
        "cycling_summary",
        1,
        "Cycling summary",
        (Param("reference_cycle", "Reference cycle for retention", "int", None, 0),),
        run_cycling_summary,
        measurement_types=("cycling", "rate_test"),
    )
)
register(
    AnalysisKind(
        "voltage_fade",
        1,
        "Voltage fade",
        (
            Param("first_cycle", "First cycle", "int", None, 0),
            Param("last_cycle", "Last cycle", "int", None, 0),
        ),
        run_voltage_fade,
    )
)
register(
    AnalysisKind(
        "rate_capability",
        1,
        "Rate capability",
        (
            Param("one_c_ma_per_g", "1C (mA/g)", "float", 250.0, 1e-6),
            Param("tolerance", "Rate tolerance (fraction)", "float", 0.15, 0.01, 0.5),
        ),
        run_rate_capability,
        measurement_types=("rate_test",),
    )
)
register(
    AnalysisKind(
        "dqdv",
        1,
        "dQ/dV",
        (
            Param("voltage_step_v", "Voltage step (V)", "float", 0.005, 0.0005, 0.1),
            Param("smoothing_sigma_v", "Smoothing σ (V)", "float", 0.01, 0.0, 0.2),
            Param("targets_v", "Peaks to track (V)", "floats", [4.4, 3.25]),
            Param("window_v", "Tracking window (V)", "float", 0.15, 0.01, 1.0),
        ),
        run_dqdv,
        needs_active_mass=False,
    )
)
register(
    AnalysisKind(
        "first_cycle",
        1,
        "First cycle",
        (Param("plateau_threshold_v", "Plateau threshold (V)", "float", 4.45, 3.0, 5.0),),
        run_first_cycle,
    )
)
