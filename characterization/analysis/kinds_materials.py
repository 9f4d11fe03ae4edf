"""Kinds for the study's other measurements (issue 10): DSC peaks, XRD reflections and
lattice, PITT diffusion coefficients and DEMS gas evolution. Each wraps the pure analysis of
its module, takes the table kind its reader gives, and draws its figures."""

from __future__ import annotations

import dataclasses
import datetime

import pandas as pd

from characterization.analysis import dsc, gas_calibration, gas_evolution, impedance, pitt, xrd
from characterization.analysis.errors import AnalysisError
from characterization.analysis.kind_output import figure, scatter, warning_dicts
from characterization.analysis.registry import AnalysisContext, AnalysisKind, AnalysisOutput, Param


def _optional_pair(params: dict, low: str, high: str) -> tuple[float, float] | None:
    if params[low] is None and params[high] is None:
        return None
    if params[low] is None or params[high] is None:
        missing = low if params[low] is None else high
        raise AnalysisError(f"parameters.{missing}", "give both limits, or neither")
    return params[low], params[high]


def _reader_notes(table, context: AnalysisContext) -> None:
    """The reader's notes travel in table.attrs["kiln"]; a cached table has them in the
    file's metadata instead: put them back where the analysis looks."""
    kiln = table.attrs.setdefault("kiln", {})
    for key in ("warnings", "reading_notes"):
        if key not in kiln and context.file_metadata.get(key):
            kiln[key] = list(context.file_metadata[key])


# --- DSC ------------------------------------------------------------------------------------


def run_dsc(table, params, context: AnalysisContext) -> AnalysisOutput:
    mass, source = next(
        (
            (value, where)
            for value, where in (
                (params["sample_mass_mg"], "parameter"),
                (context.sample_mass_mg, "measurement"),
                (context.file_metadata.get("sample_mass_mg"), "file"),
            )
            if value is not None
        ),
        (None, None),
    )
    if mass is None:
        raise AnalysisError(
            "sample_mass_mg",
            "neither the measurement nor the file states the sample mass: enter it on the "
            "measurement, or give sample_mass_mg (mg)",
        )
    _reader_notes(table, context)
    context.progress(40, "baseline and peaks")
    result = dsc.analyse_dsc(
        table,
        sample_mass_mg=mass,
        baseline=_optional_pair(params, "baseline_low_c", "baseline_high_c"),
        segment=params["segment"],
    )
    scan, base = result.figures["scan"], result.figures["baseline"]
    traces = [
        scatter("heat flow (exo up)", scan["temperature_c"], scan["heat_flow_mw"]),
        scatter("baseline", base["temperature_c"], base["heat_flow_mw"], line={"dash": "dash"}),
    ]
    for peak in result.figures["peaks"]:
        traces.append(
            scatter(
                f"{peak['kind']} {peak['peak_temperature_c']:.1f} °C",
                [peak["peak_temperature_c"]],
                [peak["peak_heat_flow_mw"]],
                mode="markers",
            )
        )
        if peak["tangent"]:
            tangent = peak["tangent"]
            traces.append(
                scatter(
                    "onset tangent",
                    tangent["temperature_c"],
                    tangent["heat_flow_mw"],
                    line={"dash": "dot"},
                    showlegend=False,
                )
            )
    peaks = pd.DataFrame(result.as_summary()["peaks"])
    return AnalysisOutput(
        summary={
            **result.as_summary(),
            "sample_mass_mg": result.sample_mass_mg,
            "sample_mass_source": source,
        },
        tables={"dsc_peaks": peaks},
        figures={"dsc": figure("DSC", "temperature (°C)", "heat flow (mW, exo up)", traces)},
        warnings=warning_dicts(result.warnings),
    )


# --- XRD ------------------------------------------------------------------------------------


def run_xrd(table, params, context: AnalysisContext) -> AnalysisOutput:
    context.progress(30, "fitting reflections")
    result = xrd.analyse_xrd(
        table,
        params["wavelength_a"],
        metadata=dict(context.file_metadata),
        a_guess_angstrom=params["a_guess_angstrom"],
        c_guess_angstrom=params["c_guess_angstrom"],
        window_deg=params["window_deg"],
        ignore_peaks_deg=tuple(params["ignore_peaks_deg"] or ()),
        **_reference(context),
    )
    figs = result.figures
    pattern = figs["pattern"]
    traces = [scatter("measured", pattern["two_theta_deg"], pattern["intensity"])]
    for region in figs.get("fits", []):
        traces.append(
            scatter(
                f"fit {region['hkl']}", region["two_theta_deg"], region["model"], line={"width": 2}
            )
        )
    figures = {"pattern": figure("Diffraction pattern", "2θ (°)", "intensity", traces)}
    if figs.get("contour"):
        grid = figs["contour"]
        figures["series"] = {
            "data": [
                {
                    "type": "contour",
                    "x": grid["two_theta_deg"],
                    "y": grid["scan"],
                    "z": grid["intensity"],
                    "colorscale": "Viridis",
                }
            ],
            "layout": {
                "title": {"text": "In situ series"},
                "xaxis": {"title": {"text": "2θ (°)"}},
                "yaxis": {"title": {"text": "scan"}},
            },
        }
        tracks = figs["tracks"]
        figures["tracks"] = figure(
            "Tracked reflections",
            "scan",
            "2θ (°)",
            [
                scatter(hkl, tracks["scan"], positions, mode="lines+markers")
                for hkl, positions in tracks["two_theta_deg"].items()
            ],
        )
    summary = result.as_summary()
    reference = context.companions.get("reference")
    if reference is not None:
        summary["reference"] = reference.label
        summary["shifts"] = [dataclasses.asdict(shift) for shift in result.shifts]
    return AnalysisOutput(
        summary={**summary, "scans": len(result.scans)},
        tables={"xrd_peaks": pd.DataFrame(summary["peaks"])}
        | ({"xrd_shifts": pd.DataFrame(summary["shifts"])} if reference is not None else {}),
        figures=figures,
        warnings=warning_dicts(result.warnings),
    )


def _reference(context: AnalysisContext) -> dict:
    reference = context.companions.get("reference")
    if reference is None:
        return {}
    return {"reference": reference.table, "reference_metadata": dict(reference.metadata)}


# --- PITT -----------------------------------------------------------------------------------


def run_pitt(table, params, context: AnalysisContext) -> AnalysisOutput:
    length, source = _diffusion_length(params, context)
    context.progress(40, "fitting each step")
    result = pitt.analyse_pitt(table, length, min_r_squared=params["min_r_squared"])
    curves = result.figures["d_vs_potential"]
    d_plot = figure(
        "Li diffusion coefficient",
        "step potential (V)",
        "D (cm² s⁻¹)",
        [
            scatter(
                direction,
                curves[direction]["potential_v"],
                curves[direction]["d_cm2_per_s"],
                mode="markers",
            )  # fmt: skip
            for direction in ("charge", "discharge")
        ],
        yaxis={"type": "log", "exponentformat": "e"},
    )
    summary = result.as_summary()
    return AnalysisOutput(
        summary={**summary, "diffusion_length_um": length, "diffusion_length_source": source},
        tables={"pitt_steps": pd.DataFrame(summary["steps"])},
        figures={"diffusion": d_plot},
        warnings=warning_dicts(result.warnings),
    )


def _diffusion_length(params: dict, context: AnalysisContext) -> tuple[float, str]:
    """L (µm) and where it came from: the parameter, the file, else half the D50 recorded on
    the cell's electrode (the particle radius: Li diffuses from the surface to the centre)."""
    if params["diffusion_length_um"] is not None:
        return params["diffusion_length_um"], "parameter"
    if context.file_metadata.get("diffusion_length_um") is not None:
        return float(context.file_metadata["diffusion_length_um"]), "file"
    if context.particle_d50_um is not None:
        return (
            context.particle_d50_um / 2,
            f"half the electrode's D50 ({context.particle_d50_um:g} µm)",
        )
    raise AnalysisError(
        "diffusion_length_um",
        "give the diffusion length L (µm), or record the active particle size D50 on the "
        "cell's electrode (L is then half of it)",
    )


# --- DEMS -----------------------------------------------------------------------------------


def run_gas_evolution(table, params, context: AnalysisContext) -> AnalysisOutput:
    if context.active_mass_mg is None:
        raise AnalysisError("active_mass_mg", "the cell has no active mass; enter the disc masses")
    gases, calibration = {}, {}
    for gas, mz, factor in (("O2", "o2_mz", "o2_factor"), ("CO2", "co2_mz", "co2_factor")):
        if not params[mz]:
            continue
        gases[gas] = params[mz]
        if params[factor] is not None:
            calibration[gas] = params[factor]
    calibrated = _calibration_from_measurement(context, gases, calibration)
    windows = _optional_pair(params, "background_start_s", "background_end_s")
    background = gas_evolution.Background(windows_s=(windows,) if windows else ())
    cycling = context.companions.get("cycling")
    alignment = _alignment(params, context.file_metadata, cycling)
    context.progress(40, "integrating gases")
    result = gas_evolution.analyse_gas_evolution(
        table,
        calibration=calibration,
        active_mass_mg=context.active_mass_mg,
        gases=gases,
        background=background,
        cycling_table=cycling.table if cycling else None,
        **alignment,
    )
    by_gas = result.series["gases"]
    voltage = result.series.get("voltage")
    under, axes = [], {}
    if voltage:  # the cycling file's voltage drawn under the gas curves, on its own axis
        line = {"color": "#888", "width": 1}
        under = [
            scatter("cell voltage", voltage["time_s"], voltage["voltage_v"], yaxis="y2", line=line)
        ]
        axes = {
            "yaxis2": {"title": {"text": "voltage (V)"}, "overlaying": "y", "side": "right"},
            "margin": {"t": 48, "r": 64},
        }
    cumulative = figure(
        "Evolved gas",
        "time (s)",
        "µmol/mg",
        [scatter(g, s["cumulative_time_s"], s["cumulative_umol_per_mg"]) for g, s in by_gas.items()]
        + under,
        **axes,
    )
    rate = figure(
        "Gas evolution rate",
        "time (s)",
        "mol/s",
        [scatter(g, s["time_s"], s["rate_mol_s"]) for g, s in by_gas.items()] + under,
        **axes,
    )
    summary = result.as_summary()
    summary["aligned_to"] = cycling.label if cycling else None
    for gas, entry in summary["calibration"].items():
        entry["source"] = calibrated.get(gas, "entered")
    totals = pd.DataFrame(
        [{"gas": gas, **amounts} for gas, amounts in summary["gases"].items()],
        columns=["gas", "micromol", "micromol_per_mg"],
    )
    return AnalysisOutput(
        summary=summary,
        tables={"gases": totals},
        figures={"cumulative": cumulative, "rate": rate},
        warnings=warning_dicts(result.warnings),
    )


def _calibration_from_measurement(context: AnalysisContext, gases: dict, calibration: dict):
    """Fill `calibration` for the gases without an entered factor from the calibration
    measurement's pulse (gas_calibration); {gas: where its factor came from}."""
    pulse = context.companions.get("calibration")
    missing = {gas: mz for gas, mz in gases.items() if gas not in calibration}
    if pulse is None or not missing:
        return {}
    stated = pulse.metadata.get("measurement_conditions") or {}
    injected = {gas: stated.get(f"{gas.lower()}_injected_umol") for gas in missing}
    factors = gas_calibration.calibration_factors(pulse.table, injected, missing)
    for gas, found in factors.items():
        calibration[gas] = {"factor": found["factor"], "unit": found["unit"]}
    return {
        gas: f"pulse of {f['injected_umol']:g} µmol in {pulse.label} (area {f['area_a_s']:.4g} A·s)"
        for gas, f in factors.items()
    }


def _alignment(params: dict, ms_metadata, cycling) -> dict:
    """How the MS clock is put on the cycling file's: the offset given; else the two files'
    start times when both are known and comparable; else none (the same clock)."""
    if params["time_offset_s"] is not None or cycling is None:
        return {"time_offset_s": params["time_offset_s"]}
    ms_start = _start_time(ms_metadata.get("start_time"))
    cycling_start = _start_time(
        cycling.metadata.get("start_time_utc") or cycling.metadata.get("start_time_local")
    )
    if ms_start is None or cycling_start is None:
        raise AnalysisError(
            "time_offset_s",
            f"the MS file or the cycling file {cycling.label} states no start time; give the "
            "MS time at the cycling start (time_offset_s)",
        )
    if (ms_start.tzinfo is None) != (cycling_start.tzinfo is None):
        zoned, local = ("MS", "cycling") if ms_start.tzinfo else ("cycling", "MS")
        raise AnalysisError(
            "time_offset_s",
            f"the {zoned} file's start time has a timezone and the {local} file's is the "
            "instrument PC's local time, so they cannot be compared; give the MS time at the "
            "cycling start (time_offset_s)",
        )
    return {"ms_start": ms_start, "cycling_start": cycling_start}


def _start_time(value) -> datetime.datetime | None:
    """An ISO start time (nanoseconds allowed, as Neware writes them), None when absent or
    unreadable."""
    if not value:
        return None
    try:
        return pd.Timestamp(str(value)).floor("us").to_pydatetime()
    except (ValueError, TypeError):
        return None


KINDS = (
    AnalysisKind(
        "dsc_peaks",
        int(dsc.VERSION),
        "DSC peaks",
        (
            Param(
                "sample_mass_mg",
                "Sample mass (mg; empty: the measurement's, else the file's)",
                "float",
                None,
                1e-3,
                1000,
            ),
            Param("baseline_low_c", "Baseline from (°C)", "float", None, -200, 1600),
            Param("baseline_high_c", "Baseline to (°C)", "float", None, -200, 1600),
            Param("segment", "Heating segment (1 = first; empty: the widest)", "int", None, 1),
        ),
        run_dsc,
        needs_active_mass=False,
        measurement_types=("dsc",),
        table_kind="thermal",
    ),
    AnalysisKind(
        "xrd_reflections",
        int(xrd.VERSION),
        "XRD reflections and lattice",
        (
            Param(
                "wavelength_a",
                "Kα1 wavelength (Å; empty: the file's, else Cu)",
                "float",
                None,
                0.1,
                3.0,
            ),
            Param("a_guess_angstrom", "a to seed the search (Å)", "float", 2.86, 2.0, 4.0),
            Param("c_guess_angstrom", "c to seed the search (Å)", "float", 14.25, 5.0, 40.0),
            Param(
                "window_deg", "Search window around each reflection (°)", "float", 0.5, 0.05, 3.0
            ),
            Param(
                "ignore_peaks_deg",
                "Peaks to keep out of fits (2θ °, e.g. a Be window)",
                "floats",
                [],
            ),
            Param(
                "reference_sample",
                "Shift against the pattern of sample (code; its latest XRD)",
                "text",
                "",
            ),
        ),
        run_xrd,
        needs_active_mass=False,
        measurement_types=("xrd", "in_situ_xrd"),
        table_kind="diffraction",
        companions=(("reference", "diffraction"),),
    ),
    AnalysisKind(
        "pitt_diffusion",
        int(pitt.VERSION),
        "PITT diffusion coefficient",
        (
            Param("diffusion_length_um", "Diffusion length L (µm)", "float", None, 0.01, 1000),
            Param("min_r_squared", "Least R² of a fit", "float", 0.95, 0.0, 1.0),
        ),
        run_pitt,
        needs_active_mass=False,
        measurement_types=("pitt",),
        table_kind="potential_steps",
    ),
    AnalysisKind(
        "gas_evolution",
        int(gas_evolution.VERSION),
        "Gas evolution (DEMS)",
        (
            Param("o2_mz", "O2 m/z (0: leave O2 out)", "float", 32, 0, 300),
            Param("o2_factor", "O2 calibration (mol s⁻¹ per A)", "float", None, 0.0),
            Param("co2_mz", "CO2 m/z (0: leave CO2 out)", "float", 44, 0, 300),
            Param("co2_factor", "CO2 calibration (mol s⁻¹ per A)", "float", None, 0.0),
            Param(
                "calibration_measurement",
                "Calibration pulse measurement (code; for gases without a factor)",
                "text",
                "",
            ),
            Param(
                "time_offset_s",
                "MS time at the cycling start (s; empty: from the files' start times)",
                "float",
                None,
            ),
            Param("background_start_s", "Background from (s)", "float", None),
            Param("background_end_s", "Background to (s)", "float", None),
        ),
        run_gas_evolution,
        measurement_types=("dems",),
        table_kind="ion_current",
        companions=(("cycling", "cycling"), ("calibration", "ion_current")),
    ),
)


# --- EIS ------------------------------------------------------------------------------------


def run_eis(table, params, context: AnalysisContext) -> AnalysisOutput:
    _reader_notes(table, context)
    context.progress(30, "fitting the equivalent circuit")
    result = impedance.analyse_impedance(
        table,
        params["circuit"],
        cycle=params["cycle"],
        weighting=params["weighting"],
        residual_threshold=params["residual_threshold_percent"] / 100,
    )
    figs = result.figures
    nyquist, bode = figs["nyquist"], figs["bode"]
    measured = nyquist["measured"]
    traces = [
        scatter("measured", measured["z_real_ohm"], measured["minus_z_imag_ohm"], mode="markers")
    ]
    if nyquist["fitted"]:
        fitted = nyquist["fitted"]
        traces.append(
            scatter(f"fit {result.circuit}", fitted["z_real_ohm"], fitted["minus_z_imag_ohm"])
        )
    equal = {"scaleanchor": "x", "scaleratio": 1}
    figures = {"nyquist": figure("Nyquist", "Re Z (Ω)", "−Im Z (Ω)", traces, yaxis=equal)}
    seen = bode["measured"]
    bode_traces = [
        scatter("|Z| measured", seen["freq_hz"], seen["z_abs_ohm"], mode="markers"),
        scatter("phase measured", seen["freq_hz"], seen["phase_deg"], mode="markers", yaxis="y2"),
    ]
    if bode["fitted"]:
        fit = bode["fitted"]
        bode_traces += [
            scatter("|Z| fit", fit["freq_hz"], fit["z_abs_ohm"]),
            scatter("phase fit", fit["freq_hz"], fit["phase_deg"], yaxis="y2"),
        ]
    figures["bode"] = figure(
        "Bode",
        "frequency (Hz)",
        "|Z| (Ω)",
        bode_traces,
        xaxis={"type": "log"},
        yaxis={"type": "log"},
        yaxis2={"title": {"text": "phase (°)"}, "overlaying": "y", "side": "right"},
        margin={"t": 48, "r": 64},
    )
    summary = result.as_summary()
    rows = [
        {"parameter": k, "value": v["value"], "ci95": v["ci95"]}
        for k, v in summary["parameters"].items()
    ]
    return AnalysisOutput(
        summary=summary,
        tables={"eis_parameters": pd.DataFrame(rows)},
        figures=figures,
        warnings=warning_dicts(result.warnings),
    )


KINDS += (
    AnalysisKind(
        "eis_fit",
        int(impedance.VERSION),
        "Impedance: R_s and equivalent-circuit fit",
        (
            Param("circuit", "Circuit (impedance.py notation)", "text", impedance.DEFAULT_CIRCUIT),
            Param("cycle", "Spectrum (1 = first; empty: the first)", "int", None, 0),
            Param("weighting", "Weighting", "text", "auto", choices=("auto", "unit", "modulus")),
            Param(
                "residual_threshold_percent", "Reliable below residual (%)", "float", 5.0, 0.1, 50
            ),
        ),
        run_eis,
        needs_active_mass=False,
        measurement_types=("eis",),
        table_kind="impedance",
    ),
)
