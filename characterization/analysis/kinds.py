"""The analyses Kiln ships (BUILTIN_KINDS), registered with characterization.analysis.registry
by register_builtin_kinds() when the jobs app starts. Importing this module registers nothing."""

from __future__ import annotations

import pandas as pd

from characterization.analysis import kinds_cycling_extra, kinds_materials
from characterization.analysis.dqdv import dqdv_analysis
from characterization.analysis.electrode import LAB_ONE_C_MA_PER_G
from characterization.analysis.errors import AnalysisError, TooFewCyclesError
from characterization.analysis.fade import SIGN_CONVENTION, voltage_fade
from characterization.analysis.first_cycle import first_cycle_metrics
from characterization.analysis.plausibility import ResultWarning, cycle_list, reading_notes
from characterization.analysis.rate import rate_capability
from characterization.analysis.registry import (
    AnalysisContext,
    AnalysisKind,
    AnalysisOutput,
    Param,
    line_figure,
    register,
)
from characterization.analysis.report import CellFacts, cycling_assessment
from characterization.parsers.cycles import instrument_index_check, paired


def _mass(context: AnalysisContext) -> float:
    if context.active_mass_mg is None:
        raise AnalysisError("active_mass_mg", "the cell has no active mass; enter the disc masses")
    return context.active_mass_mg


def _facts(context: AnalysisContext) -> CellFacts:
    return CellFacts(
        active_mass_mg=_mass(context),
        electrode=context.electrode,
        formula=context.formula,
        voltage_window_v=context.voltage_window_v,
        capacity_ceiling_mah_g=context.capacity_ceiling_mah_g,
    )


def _records(df: pd.DataFrame) -> list[dict]:
    return df.astype(object).where(df.notna(), None).to_dict(orient="records")


def _warning_dicts(warnings) -> list[dict]:
    return [w.to_dict() for w in warnings]


def run_cycling_summary(table, params, context) -> AnalysisOutput:
    context.progress(40, "summarising cycles")
    summary, warnings = cycling_assessment(
        table, _facts(context), reference_cycle=params["reference_cycle"]
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
        summary={
            "cycles": _records(summary),
            "complete_cycles": int(len(complete)),
            "electrode": context.electrode,
        },
        tables={"cycle_summary": summary},
        figures={"capacity": figure},
        warnings=_warning_dicts(warnings),
    )


def run_voltage_fade(table, params, context) -> AnalysisOutput:
    summary, warnings = cycling_assessment(table, _facts(context))
    try:
        fade = voltage_fade(
            summary, first_cycle=params["first_cycle"], last_cycle=params["last_cycle"]
        )
    except TooFewCyclesError as exc:
        # One complete cycle is a normal file (a formation test): there is no fade to report.
        note = ResultWarning("fade_unavailable", f"No voltage fade: {exc.message}.")
        return AnalysisOutput(
            summary={
                "fade_mv_per_cycle": None,
                "fitted_fade_mv_per_cycle": None,
                "sign": SIGN_CONVENTION,
                "note": exc.message,
            },
            warnings=_warning_dicts([*warnings, note]),
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
        summary=fade.to_dict(),
        tables={"voltage_fade": frame},
        figures={"mean_voltage": figure},
        warnings=_warning_dicts(warnings),
    )


def one_c_of(params: dict, context: AnalysisContext) -> tuple[float, str]:
    """The 1C used (mA/g) and where it came from: the definition's parameter when set, else
    the cell's own, else the lab's."""
    if params.get("one_c_ma_per_g") is not None:
        return float(params["one_c_ma_per_g"]), "the analysis parameter"
    if context.one_c_ma_per_g is not None:
        return float(context.one_c_ma_per_g), "the cell"
    return LAB_ONE_C_MA_PER_G, "the lab default"


def run_rate_capability(table, params, context) -> AnalysisOutput:
    _, warnings = cycling_assessment(table, _facts(context))
    one_c, source = one_c_of(params, context)
    rate = rate_capability(
        table,
        active_mass_mg=_mass(context),
        one_c_ma_per_g=one_c,
        tolerance=params["tolerance"],
        electrode=context.electrode,
        voltage_window_v=context.voltage_window_v,
    )
    steps = rate.steps
    labels = [f"{i + 1}: {r:g}C" for i, r in enumerate(steps["rate_c"])]
    capacity = steps["mean_discharge_capacity_mah_g"]
    figure = line_figure(
        "Rate capability", "step: C-rate", "mAh/g", [("discharge", labels, capacity)]
    )
    return AnalysisOutput(
        summary={**rate.to_dict(), "one_c_ma_per_g": one_c, "one_c_from": source},
        tables={"rate_cycles": rate.cycles},
        figures={"rate": figure} if labels else {},
        warnings=_warning_dicts(warnings),
    )


def run_dqdv(table, params, context) -> AnalysisOutput:
    context.progress(30, "computing dQ/dV")
    data = paired(table, context.electrode)
    result = dqdv_analysis(
        data,
        active_mass_mg=context.active_mass_mg,
        voltage_step_v=params["voltage_step_v"],
        smoothing_sigma_v=params["smoothing_sigma_v"],
        targets_v=params["targets_v"],
        window_v=params["window_v"],
        follow_window_v=params["follow_window_v"],
    )
    curves = result.curves
    shown = sorted(curves["cycle"].unique())[:: max(1, len(curves["cycle"].unique()) // 10)]
    series = [
        (f"cycle {c} {d}", part["voltage_v"], part["dqdv_mah_per_v"])
        for (c, d), part in curves[curves["cycle"].isin(shown)].groupby(["cycle", "direction"])
    ]
    figure = line_figure("dQ/dV", "V", "mAh/V", series, mode="lines")
    if context.active_mass_mg is not None:
        _, warnings = cycling_assessment(table, _facts(context))
    else:
        warnings = reading_notes(table, instrument_index_check(table, context.electrode))
    return AnalysisOutput(
        summary={
            "peaks": _records(result.tracks),
            "peak_tracks": _records(result.track_summary),
        },
        tables={
            "dqdv_peaks": result.peaks,
            "dqdv_tracks": result.tracks,
            "dqdv_track_summary": result.track_summary,
        },
        figures={"dqdv": figure},
        warnings=_warning_dicts([*warnings, *_lost_peaks(result.track_summary)]),
    )


def _lost_peaks(summary: pd.DataFrame) -> list[ResultWarning]:
    """A note for each tracked peak that was lost for good or missed in some cycles."""
    notes = []
    for row in summary.itertuples(index=False):
        missing = [int(c) for c in (row.missing_cycles or [])]
        if row.status == "lost":
            text = (
                f"The {row.direction} peak near {row.target_v:g} V was lost from cycle "
                f"{int(row.lost_at_cycle)} (last found in cycle {int(row.last_found_cycle)})."
            )
        elif missing:
            text = (
                f"The {row.direction} peak near {row.target_v:g} V was not found in cycles "
                f"{cycle_list(missing)}; it was picked up again after."
            )
        else:
            continue
        notes.append(ResultWarning("peak_lost", text, tuple(missing)))
    return notes


def run_first_cycle(table, params, context) -> AnalysisOutput:
    _, warnings = cycling_assessment(table, _facts(context))
    metrics = first_cycle_metrics(
        table,
        active_mass_mg=_mass(context),
        plateau_threshold_v=params["plateau_threshold_v"],
        electrode=context.electrode,
        voltage_window_v=context.voltage_window_v,
    )
    return AnalysisOutput(summary=metrics.to_dict(), warnings=_warning_dicts(warnings))


BUILTIN_KINDS: tuple[AnalysisKind, ...] = (
    AnalysisKind(
        "cycling_summary",
        2,
        "Cycling summary",
        (Param("reference_cycle", "Reference cycle for retention", "int", None, 0),),
        run_cycling_summary,
        measurement_types=("cycling", "rate_test"),
        table_kind="cycling",
    ),
    AnalysisKind(
        "voltage_fade",
        2,
        "Voltage fade",
        (
            Param("first_cycle", "First cycle", "int", None, 0),
            Param("last_cycle", "Last cycle", "int", None, 0),
        ),
        run_voltage_fade,
        table_kind="cycling",
    ),
    AnalysisKind(
        "rate_capability",
        2,
        "Rate capability",
        (
            # None: the cell's own 1C (its electrode's), else the lab's 250 mA/g
            Param("one_c_ma_per_g", "1C (mA/g; empty: the cell's own)", "float", None, 1e-6),
            Param("tolerance", "Rate tolerance (fraction)", "float", 0.15, 0.01, 0.5),
        ),
        run_rate_capability,
        measurement_types=("rate_test",),
        table_kind="cycling",
    ),
    AnalysisKind(
        "dqdv",
        2,
        "dQ/dV",
        (
            Param("voltage_step_v", "Voltage step (V)", "float", 0.005, 0.0005, 0.1),
            Param("smoothing_sigma_v", "Smoothing σ (V)", "float", 0.01, 0.0, 0.2),
            Param("targets_v", "Peaks to track (V)", "floats", [4.4, 3.25]),
            Param("window_v", "Start window around each target (V)", "float", 0.15, 0.01, 1.0),
            Param(
                "follow_window_v",
                "Follow window around the last peak found (V)",
                "float",
                0.05,
                0.005,
                0.5,
            ),
        ),
        run_dqdv,
        needs_active_mass=False,
        table_kind="cycling",
    ),
    AnalysisKind(
        "first_cycle",
        2,
        "First cycle",
        (Param("plateau_threshold_v", "Plateau threshold (V)", "float", 4.45, 3.0, 5.0),),
        run_first_cycle,
        table_kind="cycling",
    ),
)


# Issue 10: the cycling additions and the study's other measurements.
BUILTIN_KINDS += kinds_cycling_extra.KINDS + kinds_materials.KINDS


def register_builtin_kinds() -> None:
    """Register the shipped analyses (the jobs app's ready() calls this once per process)."""
    for kind in BUILTIN_KINDS:
        register(kind)
