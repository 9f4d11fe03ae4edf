"""EIS analysis: high-frequency intercept, equivalent-circuit fit, warnings and comparison.

Hand-worked numbers are derived in the comments; real files are the shared BioLogic .mpt of
impedance.py (../shared/testdata/cyclers/) and the Autolab Z60W and CHI exports
(../shared/testdata/impedance/). Synthetic spectra are computed here from circuits with known
values (formulas in each helper), with seeded noise where a test says so.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from characterization.analysis.errors import AnalysisError
from characterization.analysis.impedance import (
    DEFAULT_CIRCUIT,
    RESIDUAL_THRESHOLD,
    ImpedanceResult,
    Spectrum,
    analyse_impedance,
    high_frequency_intercept,
)
from characterization.analysis.impedance_compare import compare_impedance
from characterization.parsers.impedance_text import read_impedance_text
from characterization.parsers.reader import read_eis_file
from tests.testdata import testdata_dir

SUMMARY_KEYS = {
    "r_s_ohm",
    "circuit",
    "parameters",
    "units",
    "r_ct_ohm",
    "mean_relative_residual",
    "reliable",
    "unreliable_reason",
}


def table(freq_hz, z, cycle=1) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "time_s": np.nan,
            "freq_hz": freq_hz,
            "z_real_ohm": np.real(z),
            "z_imag_ohm": np.imag(z),
            "cycle": cycle,
        }
    )


def r_rc(freq_hz, r0=10.0, r1=50.0, c=1e-5, inductance=0.0):
    """Z = jωL + R0 + R1/(1 + jωR1C): a semicircle of diameter R1 from R0, apex at
    f = 1/(2π R1 C) (318.3 Hz for the defaults)."""
    w = 2 * np.pi * np.asarray(freq_hz, dtype=float)
    return 1j * w * inductance + r0 + r1 / (1 + 1j * w * r1 * c)


def randles(freq_hz, r0=10.0, r1=50.0, q=1e-5, alpha=0.9, sigma=5.0):
    """Z = R0 + 1/(1/R1 + Q(jω)^α) + σ(1 − j)/√ω (impedance.py's CPE and W elements)."""
    w = 2 * np.pi * np.asarray(freq_hz, dtype=float)
    return r0 + 1 / (1 / r1 + q * (1j * w) ** alpha) + sigma * (1 - 1j) / np.sqrt(w)


def codes(result) -> list[str]:
    return [w["code"] for w in result.warnings]


# ---------------------------------------------------------------- worked check, real files


@pytest.mark.testdata("cyclers")
def test_the_biologic_example_gives_the_published_intercept_and_arc() -> None:
    path = testdata_dir("cyclers") / "eis_impedancepy_biologic.mpt"
    result = analyse_impedance(read_eis_file(path).table)
    # From the file's rows (freq/Hz, Re(Z)/Ohm, -Im(Z)/Ohm), highest frequency first:
    #   592.91 Hz: 63.786083, -0.49220982   (inductive)
    #   456.31 Hz: 66.016418, +1.1641068    (capacitive: the first crossing)
    # R_s = 63.786083 + (66.016418 − 63.786083)·0.49220982/(0.49220982 + 1.1641068)
    #     = 63.786083 + 2.230335 × 0.297171 = 64.4489 Ω
    assert result.r_s_ohm == pytest.approx(64.4489, abs=1e-3)
    assert result.intercept.bracket_hz == pytest.approx((592.91284, 456.31409))
    # impedance.py's fit of the same circuit gives R0 ≈ 63.7 Ω, R1 ≈ 47.9 Ω (SOURCES.md: HF
    # intercept ~64 Ω, arc ~48 Ω). Tolerance: 0.3 Ω on R0, 0.5 Ω on R1 (1 %).
    summary = result.as_summary()
    assert summary["parameters"]["R0"]["value"] == pytest.approx(63.7, abs=0.3)
    assert summary["parameters"]["R1"]["value"] == pytest.approx(47.9, abs=0.5)
    assert summary["r_ct_ohm"] == summary["parameters"]["R1"]["value"]
    low, high = summary["parameters"]["R1"]["ci95"]
    assert low < 47.9 < high and high - low < 5.0
    assert summary["mean_relative_residual"] == pytest.approx(0.019, abs=0.002)
    # The spectrum ends before any diffusion tail: W1 collapses to 0 with an interval far
    # wider than its value, so the fit is flagged even though R0 and R1 are well determined.
    assert summary["reliable"] is False and "W1" in summary["unreliable_reason"]
    noisy = next(w for w in result.warnings if w["code"] == "hf_intercept_noisy")
    assert "63.69–64.45 Ω" in noisy["message"]  # the other crossings, by the same formula
    assert noisy["severity"] == "note"  # a spread of 0.76 Ω, 1.2 % of R_s


@pytest.mark.testdata("impedance")
def test_the_autolab_and_chi_files_read_and_fit_and_their_intercepts_are_hand_worked() -> None:
    folder = testdata_dir("impedance")
    # Autolab Z60W rows "2371.4,0,0,0,0.0136244689640838,0.000435669727416036,..." and
    # "1778.3,0,0,0,0.0138936845869494,-0.000267175834196236,...": Z'' changes from + to −,
    # so -Im Z crosses zero between them:
    #   R_s = 0.0136244689640838 + 0.0002692156228656 × 0.000435669727416036/0.000702845561612272
    #       = 0.0136244689640838 + 0.0002692156228656 × 0.619866 = 0.0137913 Ω
    autolab = analyse_impedance(read_impedance_text(folder / "autolab_z60w_impedancepy.txt")[0])
    assert autolab.r_s_ohm == pytest.approx(0.0137913, abs=2e-7)
    # CHI: the first inductive-to-capacitive pair from the top is 5.625e+4 Hz (99.22, Z" +0.6836)
    # and 4.644e+4 Hz (99.31, Z" −0.7515): R_s = 99.22 + 0.09 × 0.6836/1.4351 = 99.2629 Ω.
    # (The 9.961e+4 Hz point is capacitive, the next three inductive: noise at the top.)
    chi = analyse_impedance(read_impedance_text(folder / "chinstruments_impedancepy.txt")[0])
    assert chi.r_s_ohm == pytest.approx(99.2629, abs=1e-4)
    for result in (autolab, chi):
        assert result.converged and len(result.parameters) == 5
        assert set(result.as_summary()) == SUMMARY_KEYS
    # The CHI spectrum has no visible apex (-Im Z rises to the lowest frequency): said.
    assert "apex_not_covered" in codes(chi)


@pytest.mark.testdata("cyclers")
def test_a_noisy_real_spectrum_is_flagged_not_trusted() -> None:
    # yadg's PEIS .mpr: 32 points, 200 kHz–1 Hz, scattered below 100 Hz (SOURCES.md).
    data = read_eis_file(testdata_dir("cyclers") / "biologic_yadg_peis.mpr").table
    result = analyse_impedance(data)
    assert result.n_points == 32 and not result.reliable
    assert result.mean_relative_residual > RESIDUAL_THRESHOLD
    # -Im Z is positive at 200 kHz, one point at 18.8 kHz is inductive (noise): the crossing
    # there gives R_s = 12.530541 + (10.869603 − 12.530541)·1.356129/(1.356129 + 0.142443)
    #                = 11.0275 Ω, and the warning says how far the other crossings scatter.
    assert result.r_s_ohm == pytest.approx(11.0275, abs=1e-3)
    assert {"hf_intercept_noisy", "fit_unreliable"} <= set(codes(result))
    noisy = next(w for w in result.warnings if w["code"] == "hf_intercept_noisy")
    assert noisy["severity"] == "flag"  # crossings from 0.94 to 11.03 Ω: more than 5 % of R_s


# ---------------------------------------------------------------- the intercept, by hand


def test_the_intercept_interpolates_between_the_two_bracketing_points() -> None:
    # Highest frequency first; -Im Z = 2, -2, -1 (inductive), then +3: the crossing is between
    # the 3rd and 4th points. R_s = 10 + (14 − 10) × 1/(1 + 3) = 11 Ω.
    freq = np.array([1e5, 5e4, 2e4, 1e4, 1e3, 1e2, 10.0, 1.0])
    minus_imag = np.array([2.0, -2.0, -1.0, 3.0, 20.0, 40.0, 20.0, 5.0])
    real = np.array([8.0, 9.0, 10.0, 14.0, 30.0, 50.0, 80.0, 95.0])
    spectrum = Spectrum(1, freq, real, -minus_imag)
    intercept = high_frequency_intercept(spectrum)
    assert intercept.r_s_ohm == pytest.approx(11.0)
    assert intercept.bracket_hz == (2e4, 1e4)


def test_a_point_exactly_on_the_axis_is_the_intercept() -> None:
    freq = np.array([1e5, 1e4, 1e3, 1e2, 10.0, 1.0])
    spectrum = Spectrum(
        1, freq, np.array([9.0, 10.0, 20, 40, 55, 60]), -np.array([-1, 0, 10, 25, 10, 2.0])
    )
    assert high_frequency_intercept(spectrum).r_s_ohm == 10.0


def test_an_r_rc_arc_with_a_lead_inductance_crosses_where_the_formula_says() -> None:
    # -Im Z = ωR1²C/(1 + (ωR1C)²) − ωL = 0  ⇒  1 + (ωR1C)² = R1²C/L = 25000, and there
    # Re Z = R0 + R1/(1 + (ωR1C)²) = R0 + L/(R1·C) = 10 + 1e-6/(50 × 1e-5) = 10.002 Ω,
    # at ω = √(R1²C/L − 1)/(R1C) = √24999/5e-4 = 316,221 rad/s (50,328 Hz).
    freq = np.logspace(6, -1, 421)  # 60 points per decade
    result = analyse_impedance(table(freq, r_rc(freq, inductance=1e-6)), "L0-R0-p(R1,C1)")
    assert result.r_s_ohm == pytest.approx(10.002, abs=2e-5)
    high, low = result.intercept.bracket_hz
    assert low < 50328 < high
    fitted = {p.name: p.value for p in result.parameters}
    assert fitted == pytest.approx({"L0": 1e-6, "R0": 10.0, "R1": 50.0, "C1": 1e-5}, rel=1e-6)
    assert result.reliable and result.mean_relative_residual < 1e-8


def test_an_exact_r_rc_semicircle_never_reaches_the_axis_so_r_s_stays_empty() -> None:
    # Without inductance -Im Z = ωR1²C/(1 + (ωR1C)²) > 0 at every frequency: even at 1 MHz
    # (-Im Z = 0.0159 Ω) the arc has not reached R0 = 10 Ω. Kiln does not extrapolate; the
    # fit, which models the arc, finds R0 = 10 and R1 = 50 Ω exactly.
    freq = np.logspace(6, -1, 71)
    result = analyse_impedance(table(freq, r_rc(freq)), "R0-p(R1,C1)")
    assert result.r_s_ohm is None and result.intercept.bracket_hz is None
    warning = next(w for w in result.warnings if w["code"] == "no_hf_intercept")
    assert "already positive (capacitive) at the highest frequency, 1e+06 Hz" in warning["message"]
    assert "fitted R0 (10 Ω)" in warning["message"]
    fitted = {p.name: p.value for p in result.parameters}
    assert fitted == pytest.approx({"R0": 10.0, "R1": 50.0, "C1": 1e-5}, rel=1e-6)
    assert result.r_ct_ohm == pytest.approx(50.0, rel=1e-6)
    assert result.reliable and result.unreliable_reason is None


# ---------------------------------------------------------------- fit with noise


def test_a_noisy_randles_spectrum_gives_back_its_circuit() -> None:
    # R0 = 10 Ω, R1 = 50 Ω, CPE Q = 1e-5 F s^(α−1), α = 0.9, Warburg σ = 5 Ω s^-1/2; 100 kHz
    # to 10 mHz, 10 points per decade; Z × (1 + 1 % complex Gaussian noise), seed 7.
    # Tolerances (≈3× the spread over seeds 0–7): R0, R1 2 %; Q 20 %; α ±0.02; σ 5 %. The
    # mean relative residual of 1 % complex noise is 0.01·√π/2 = 0.0089 on average.
    freq = np.logspace(5, -2, 71)
    rng = np.random.default_rng(7)
    noise = 0.01 * (rng.standard_normal(71) + 1j * rng.standard_normal(71)) / math.sqrt(2)
    result = analyse_impedance(table(freq, randles(freq) * (1 + noise)))
    assert result.circuit == DEFAULT_CIRCUIT
    fitted = {p.name: p.value for p in result.parameters}
    assert fitted["R0"] == pytest.approx(10.0, rel=0.02)
    assert fitted["R1"] == pytest.approx(50.0, rel=0.02)
    assert fitted["CPE1_0"] == pytest.approx(1e-5, rel=0.2)
    assert fitted["CPE1_1"] == pytest.approx(0.9, abs=0.02)
    assert fitted["W1"] == pytest.approx(5.0, rel=0.05)
    for name, truth in (("R0", 10.0), ("R1", 50.0)):  # inside their 95 % intervals
        low, high = result.parameter(name).ci95
        assert low < truth < high
    assert 0.006 < result.mean_relative_residual < 0.012
    assert result.reliable and result.weighting == "unit"
    assert codes(result) == ["no_hf_intercept"]  # no inductance: the arc never reaches the axis


def test_a_residual_above_the_threshold_makes_the_fit_unreliable() -> None:
    # An R-RC circuit cannot follow a Warburg tail: residual ~8 %, above 5 %.
    freq = np.logspace(5, -2, 71)
    result = analyse_impedance(table(freq, randles(freq)), "R0-p(R1,C1)")
    assert result.mean_relative_residual > RESIDUAL_THRESHOLD
    assert not result.reliable and "above the 5% threshold" in result.unreliable_reason
    assert "fit_unreliable" in codes(result)
    lenient = analyse_impedance(table(freq, randles(freq)), "R0-p(R1,C1)", residual_threshold=0.5)
    assert "threshold" not in (lenient.unreliable_reason or "")


def test_a_fit_that_runs_out_of_evaluations_is_not_converged() -> None:
    freq = np.logspace(5, -2, 71)
    rng = np.random.default_rng(0)
    noise = 0.01 * (rng.standard_normal(71) + 1j * rng.standard_normal(71)) / math.sqrt(2)
    circuit = "R0-p(R1,CPE1)-p(R2,CPE2)-W1"
    result = analyse_impedance(
        table(freq, randles(freq) * (1 + noise)), circuit, max_evaluations=50
    )
    assert not result.converged and not result.reliable
    assert result.parameters == () and result.mean_relative_residual is None
    assert "did not converge within 50 function evaluations" in result.unreliable_reason
    assert "fit_not_converged" in codes(result)
    assert result.figures["nyquist"]["fitted"] is None
    assert len(result.figures["nyquist"]["measured"]["z_real_ohm"]) == 71


# ---------------------------------------------------------------- plausibility warnings


def test_few_frequencies_are_flagged() -> None:
    freq = np.logspace(5, 0, 8)
    result = analyse_impedance(table(freq, r_rc(freq)), "R0-p(R1,C1)")
    assert "few_frequencies" in codes(result)


def test_data_that_stop_before_the_apex_are_flagged() -> None:
    freq = np.logspace(5, 3.3, 30)  # apex at 318 Hz, data stop at 2 kHz
    result = analyse_impedance(table(freq, r_rc(freq)), "R0-p(R1,C1)")
    assert "apex_not_covered" in codes(result)


def test_a_negative_intercept_is_flagged() -> None:
    freq = np.logspace(6, -1, 71)
    result = analyse_impedance(table(freq, r_rc(freq, r0=-5.0, inductance=1e-6)), "L0-R0-p(R1,C1)")
    assert result.r_s_ohm == pytest.approx(-5 + 0.002, abs=1e-3)
    assert "resistance_not_positive" in codes(result)


def test_an_intercept_far_above_the_arc_is_flagged() -> None:
    freq = np.logspace(6, -1, 71)
    result = analyse_impedance(table(freq, r_rc(freq, r0=1000.0, r1=5.0)), "R0-p(R1,C1)")
    assert result.r_ct_ohm == pytest.approx(5.0, rel=1e-4)
    assert "r_s_far_above_r_ct" in codes(result)  # R_s/R_ct = 200 > 100; R_s from R0 here
    # (the arc does not reach the axis, so the ratio uses the fitted R0)


def test_other_spectra_repeated_frequencies_and_reader_notes_are_said() -> None:
    freq = np.logspace(5, -1, 43)
    first, second = table(freq, r_rc(freq)), table(freq, r_rc(freq, r1=80.0), cycle=2)
    both = pd.concat([first, second, first.iloc[[3]]], ignore_index=True)
    both.attrs["kiln"] = {"reading_notes": [{"code": "file_truncated", "message": "cut"}]}
    result = analyse_impedance(both, "R0-p(R1,C1)")
    assert result.cycle == 1
    assert codes(result)[:4] == [
        "several_spectra",
        "duplicate_frequencies",
        "file_truncated",
        "no_hf_intercept",
    ]
    later = analyse_impedance(both, "R0-p(R1,C1)", cycle=2)
    assert later.r_ct_ohm == pytest.approx(80.0, rel=1e-6)


# ---------------------------------------------------------------- summary and figures


def test_the_summary_has_exactly_the_agreed_keys_and_the_figures_their_data() -> None:
    freq = np.logspace(5, -1, 43)
    result = analyse_impedance(table(freq, r_rc(freq)), "R0-p(R1,C1)")
    summary = result.as_summary()
    assert set(summary) == SUMMARY_KEYS
    assert summary["units"] == {"R0": "Ohm", "R1": "Ohm", "C1": "F"}
    assert set(summary["parameters"]["R1"]) == {"value", "ci95"}
    nyquist, bode = result.figures["nyquist"], result.figures["bode"]
    assert nyquist["equal_axes"] is True
    measured = nyquist["measured"]
    assert measured["freq_hz"][0] == 1e5 and measured["minus_z_imag_ohm"][0] > 0
    assert len(nyquist["fitted"]["freq_hz"]) == 6 * 20 + 1  # 6 decades, 20 points each
    assert all(p < 0 for p in bode["measured"]["phase_deg"])  # capacitive: arg Z < 0
    apex = int(np.argmax(measured["minus_z_imag_ohm"]))
    assert bode["measured"]["z_abs_ohm"][apex] == pytest.approx(abs(r_rc(freq[apex])))
    assert max(result.figures["residuals"]["relative"]) < 1e-8


def test_a_result_from_another_circuit_has_no_r_ct() -> None:
    freq = np.logspace(5, -1, 43)
    result = analyse_impedance(table(freq, r_rc(freq)), "R0-p(R2,C2)")
    assert result.r_ct_ohm is None and result.as_summary()["r_ct_ohm"] is None


# ---------------------------------------------------------------- inputs refused


@pytest.mark.parametrize(
    "circuit",
    [
        "",
        None,
        123,
        "R0-",
        "R0-p(R1)",
        "R0-p(R1,C1",
        "R0-X1",
        "R0-R0",
        "R-p(R1,C1)",
        "R0p(R1,C1)",
        "__import__('os').system('true')",
        "R0;R1",
        "-".join(f"R{i}" for i in range(20)),
    ],
)
def test_a_bad_circuit_string_is_refused_on_field_circuit(circuit) -> None:
    freq = np.logspace(5, -1, 43)
    with pytest.raises(AnalysisError) as caught:
        analyse_impedance(table(freq, r_rc(freq)), circuit)
    assert caught.value.field == "circuit"


@pytest.mark.parametrize(
    ("data", "kwargs", "field", "message"),
    [
        ("not a table", {}, "table", "expected an impedance table"),
        (pd.DataFrame({"freq_hz": [1.0]}), {}, "table", "no column(s) z_real_ohm, z_imag_ohm"),
        ("empty", {}, "table", "no data rows"),
        ("nan", {}, "table", "missing or non-numeric"),
        ("negative", {}, "table", "frequencies must be > 0 Hz"),
        ("single", {}, "table", "a single frequency"),
        ("zero_z", {}, "table", "Z = 0 Ω"),
        ("no_cycle", {}, "table", "no cycle number"),
        ("ok", {"cycle": 3}, "cycle", "no spectrum 3"),
        ("ok", {"cycle": 0}, "cycle", "whole number ≥ 1"),
        ("ok", {"weighting": "proportional"}, "weighting", "one of auto, unit, modulus"),
        ("ok", {"residual_threshold": 0}, "residual_threshold", "> 0 and ≤ 1"),
        ("ok", {"residual_threshold": "5%"}, "residual_threshold", "must be a number"),
        ("ok", {"max_evaluations": 10}, "max_evaluations", "between 50 and 20000"),
        ("ok", {"max_evaluations": 100.5}, "max_evaluations", "whole number"),
        ("two_points", {}, "table", "too few to fit 5 parameters"),
    ],
)
def test_bad_inputs_are_refused_by_field(data, kwargs, field, message) -> None:
    freq = np.logspace(5, -1, 43)
    tables = {
        "ok": table(freq, randles(freq)),
        "empty": table(freq, randles(freq)).iloc[:0],
        "nan": table(freq, randles(freq)).assign(
            z_real_ohm=lambda t: t.z_real_ohm.where(t.index != 4)
        ),
        "negative": table(-freq, randles(freq)),
        "single": table(np.full(43, 100.0), randles(freq)),
        "zero_z": table(freq, np.where(np.arange(43) == 2, 0, randles(freq))),
        "two_points": table(freq[:2], randles(freq[:2])),
        "no_cycle": table(freq, randles(freq)).assign(cycle=[1.0] * 42 + [np.nan]),
    }
    with pytest.raises(AnalysisError) as caught:
        analyse_impedance(
            tables[data] if isinstance(data, str) and data in tables else data, **kwargs
        )
    assert caught.value.field == field and message in caught.value.message


# ---------------------------------------------------------------- comparison


def test_before_and_after_cycling_are_compared_against_the_first() -> None:
    freq = np.logspace(5, -1, 43)
    before = analyse_impedance(table(freq, r_rc(freq, r1=50.0)), "R0-p(R1,C1)")
    after = analyse_impedance(table(freq, r_rc(freq, r0=12.0, r1=80.0)), "R0-p(R1,C1)")
    comparison = compare_impedance([("before cycling", before), ("after 100 cycles", after)])
    first, second = comparison.as_summary()["rows"]
    assert comparison.reference == "before cycling"
    assert first["r_ct_change_ohm"] is None and first["r_ct_ohm"] == pytest.approx(50.0)
    # R_ct 50 → 80 Ω: +30 Ω, +60 %; R_s is empty (the arcs never reach the axis): no change.
    assert second["r_ct_change_ohm"] == pytest.approx(30.0, rel=1e-5)
    assert second["r_ct_change_pct"] == pytest.approx(60.0, rel=1e-5)
    assert second["r_s_ohm"] is None and second["r_s_change_ohm"] is None
    assert [w["code"] for w in comparison.warnings] == ["value_missing"]


def test_a_comparison_across_circuits_or_unreliable_fits_is_flagged() -> None:
    freq = np.logspace(5, -2, 71)
    good = analyse_impedance(table(freq, r_rc(freq)), "R0-p(R1,C1)")
    poor = analyse_impedance(table(freq, randles(freq)), "R0-p(R1,C1)")
    other = analyse_impedance(table(freq, randles(freq)))
    comparison = compare_impedance([("a", good), ("b", poor), ("c", other)])
    assert [w["code"] for w in comparison.warnings][:2] == ["circuits_differ", "unreliable_fit"]


@pytest.mark.parametrize(
    ("results", "field"),
    [
        ([], "results"),
        ("before", "results"),
        ([("a", "not a result")], "results[0]"),
        ([("", "x")], "results[0]"),
    ],
)
def test_a_bad_comparison_list_is_refused(results, field) -> None:
    with pytest.raises(AnalysisError) as caught:
        compare_impedance(results)
    assert caught.value.field == field


def test_repeated_labels_are_refused() -> None:
    freq = np.logspace(5, -1, 43)
    result = analyse_impedance(table(freq, r_rc(freq)), "R0-p(R1,C1)")
    assert isinstance(result, ImpedanceResult)
    with pytest.raises(AnalysisError, match="the label 'cell 7' is used twice"):
        compare_impedance([("cell 7", result), ("cell 7 ", result)])


# ---------------------------------------------------------------- agreement with impedance.py


@pytest.mark.parametrize(
    ("circuit", "values"),
    [
        ("R0-p(R1,CPE1)-W1", [10, 50, 1e-5, 0.9, 5]),
        ("L0-R0-p(R1-Wo1,C1)-p(R2,CPE2)", [1e-7, 3, 20, 40, 2.0, 1e-4, 8, 2e-3, 0.8]),
        (
            "R0-p(Zarc1,C1)-Ws1-La1-G1-K1",
            [5, 10, 1e-3, 0.7, 1e-6, 20, 10, 1e-7, 0.9, 4, 1e-2, 6, 1e-3],
        ),
    ],
)
def test_the_compiled_model_is_impedance_pys_circuit(circuit, values) -> None:
    from impedance.models.circuits import CustomCircuit

    from characterization.analysis.impedance_circuit import model, parse_circuit

    freq = np.logspace(6, -3, 55)
    parsed = parse_circuit(circuit)
    reference = CustomCircuit(circuit, initial_guess=[float(v) for v in values])
    assert list(parsed.names) == reference.get_param_names()[0]
    assert list(parsed.units) == reference.get_param_names()[1]
    with pytest.warns(UserWarning, match="initial parameters"):
        expected = reference.predict(freq, use_initial=True)
    np.testing.assert_allclose(model(parsed)(freq, values), expected, rtol=1e-12)


@pytest.mark.testdata("cyclers")
def test_the_fit_is_the_one_custom_circuit_finds_from_the_same_seeds() -> None:
    from impedance.models.circuits import CustomCircuit

    path = testdata_dir("cyclers") / "eis_impedancepy_biologic.mpt"
    data = read_eis_file(path).table
    result = analyse_impedance(data)
    assert result.confirmed and result.weighting == "unit"
    reference = CustomCircuit(DEFAULT_CIRCUIT, initial_guess=list(result.initial_guess.values()))
    freq = data["freq_hz"].to_numpy()
    reference.fit(
        freq,
        data["z_real_ohm"].to_numpy() + 1j * data["z_imag_ohm"].to_numpy(),
        bounds=([0] * 5, [np.inf, np.inf, np.inf, 1, np.inf]),
    )
    ours = [p.value for p in result.parameters]
    np.testing.assert_allclose(ours[:4], reference.parameters_[:4], rtol=1e-6)
    assert ours[4] < 1e-6 and reference.parameters_[4] < 1e-6  # W1 at its bound in both
