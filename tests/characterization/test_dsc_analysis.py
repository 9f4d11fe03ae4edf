"""DSC peak analysis: hand-worked Gaussian peaks, both sign conventions through real reader
paths, every way an input can be wrong, and the real shared files.

Worked check (by hand): a Gaussian of height H = 22.088 mW and σ = 30 s has the area
H·σ·√(2π) = 22.088 × 30 × 2.50663 = 1661.0 mJ; on m = 5.00 mg that is 332.2 J/g. Heated at
β = 10 K/min (1/6 K/s) its σ in temperature is 5 K; its inflection points are at μ ± σ, where
the Gaussian is H·e^(−1/2) with slope H·e^(−1/2)/σ, so the tangent there meets the baseline
σ before the inflection: extrapolated onset = μ − 2σ = 299.0 − 10.0 = 289.0 °C.
Tolerances: enthalpy ±0.3 J/g (0.1 %: trapezoids on 1 s steps, the tails beyond the return
level), peak ±0.05 K (parabolic interpolation on a 0.167 K grid), onset ±0.1 K (the
inflection is taken at a grid point). With noise (σ = 0.01 mW, seeded) ±1 J/g, ±0.1 K, ±0.3 K.
All tables here are SYNTHETIC unless a test is marked testdata.
"""

from __future__ import annotations

import json
import math

import numpy as np
import pandas as pd
import pytest

from characterization.analysis.dsc import (
    FIGURE_POINTS,
    MAX_ENTHALPY_J_PER_G,
    PEAK_SUMMARY_FIELDS,
    SIGN_CONVENTION,
    VERSION,
    analyse_dsc,
)
from characterization.analysis.errors import AnalysisError
from characterization.parsers.thermal import ThermalColumnMap, read_thermal_file
from tests.testdata import testdata_dir

H_MW, SIGMA_S, MASS_MG, CENTRE_C, RATE = 22.088, 30.0, 5.00, 299.0, 10.0
EXPECTED_J_PER_G = H_MW * SIGMA_S * math.sqrt(2 * math.pi) / MASS_MG  # 332.19
ONSET_C = CENTRE_C - 2 * SIGMA_S * RATE / 60.0  # 289.0


def scan(
    peaks: tuple[tuple[float, float, float], ...] = ((CENTRE_C, H_MW, SIGMA_S),),
    *,
    start_c: float = 150.0,
    end_c: float = 450.0,
    rate: float = RATE,
    noise_mw: float = 0.0,
) -> pd.DataFrame:
    """A linear heating scan on a sloping baseline (0.5 mW + 0.004 mW/K) with Gaussian peaks
    (centre °C, signed height mW: > 0 exo, σ s), 1 s steps."""
    t = np.arange(0.0, (end_c - start_c) / rate * 60.0 + 1.0, 1.0)
    temp = start_c + rate * t / 60.0
    power = 0.5 + 0.004 * (temp - 150.0)
    for centre, height, sigma in peaks:
        t_c = (centre - start_c) / rate * 60.0
        power = power + height * np.exp(-0.5 * ((t - t_c) / sigma) ** 2)
    power = power + np.random.default_rng(7).normal(0.0, noise_mw, len(t)) if noise_mw else power
    return pd.DataFrame({"time_s": t, "temperature_c": temp, "heat_flow_mw": power})


def only_peak(result):
    assert len(result.peaks) == 1, result.peaks
    return result.peaks[0]


# ---------------------------------------------------------------- worked checks


def test_gaussian_exotherm_gives_332_2_j_per_g_at_299_c():
    result = analyse_dsc(scan(), sample_mass_mg=MASS_MG)
    peak = only_peak(result)
    assert round(EXPECTED_J_PER_G, 1) == 332.2  # the hand-worked figure
    assert peak.kind == "exo"
    assert peak.enthalpy_j_per_g == pytest.approx(EXPECTED_J_PER_G, abs=0.3)
    assert peak.peak_temperature_c == pytest.approx(CENTRE_C, abs=0.05)
    assert peak.onset_temperature_c == pytest.approx(ONSET_C, abs=0.1)
    assert peak.complete
    assert result.heating_rate_k_per_min == pytest.approx(RATE, rel=1e-6)
    assert result.warnings == ()


def test_gaussian_endotherm_gives_the_same_numbers_with_kind_endo():
    peak = only_peak(analyse_dsc(scan(((CENTRE_C, -H_MW, SIGMA_S),)), sample_mass_mg=MASS_MG))
    assert peak.kind == "endo"
    assert peak.enthalpy_j_per_g == pytest.approx(EXPECTED_J_PER_G, abs=0.3)
    assert peak.peak_temperature_c == pytest.approx(CENTRE_C, abs=0.05)
    assert peak.onset_temperature_c == pytest.approx(ONSET_C, abs=0.1)


@pytest.mark.parametrize("height", [H_MW, -H_MW])
def test_noisy_peaks_stay_within_stated_tolerances(height):
    result = analyse_dsc(scan(((CENTRE_C, height, SIGMA_S),), noise_mw=0.01), sample_mass_mg=5)
    peak = only_peak(result)
    assert peak.enthalpy_j_per_g == pytest.approx(EXPECTED_J_PER_G, abs=1.0)
    assert peak.peak_temperature_c == pytest.approx(CENTRE_C, abs=0.1)
    assert peak.onset_temperature_c == pytest.approx(ONSET_C, abs=0.3)
    assert result.noise_mw == pytest.approx(0.01, rel=0.3)


def _ta_file(tmp_path, table: pd.DataFrame, exotherm: str) -> str:
    """SYNTHETIC TA export of `table`; Exotherm Down files store exotherms negative."""
    sign = -1.0 if exotherm == "Down" else 1.0
    head = [
        "Instrument\tQ2000",
        "Size\t5.00000\tmg",
        f"Exotherm\t{exotherm}",
        "Nsig\t3",
        "Sig1\tTime (min)",
        "Sig2\tHeat Flow (mW)",
        "Sig3\tTemperature (\xb0C)",
        "StartOfData",
    ]
    rows = [
        f"{t / 60:.7f}\t{sign * p:.7f}\t{c:.5f}"
        for t, c, p in table[["time_s", "temperature_c", "heat_flow_mw"]].to_numpy()
    ]
    path = tmp_path / f"exo_{exotherm}.txt"
    path.write_bytes("\r\n".join(head + rows).encode("latin-1"))
    return str(path)


def test_both_sign_conventions_give_the_same_result(tmp_path):
    table = scan(((260.0, -8.0, 40.0), (CENTRE_C, H_MW, SIGMA_S)))
    results = []
    for exotherm in ("Up", "Down"):
        data, meta = read_thermal_file(_ta_file(tmp_path, table, exotherm))
        results.append(analyse_dsc(data, sample_mass_mg=meta["sample_mass_mg"]).as_summary())
    csv_path = tmp_path / "down.csv"
    csv_path.write_text(
        "t;T;HF\n" + "\n".join(f"{t:.1f};{c:.5f};{-p:.7f}" for t, c, p in table.to_numpy()) + "\n"
    )
    mapping = ThermalColumnMap(
        temperature_column="T", heat_flow_column="HF", time_column="t", exotherm="down"
    )
    data, _ = read_thermal_file(csv_path, mapping=mapping)
    results.append(analyse_dsc(data, sample_mass_mg=MASS_MG).as_summary())
    kinds = [[p["kind"] for p in r["peaks"]] for r in results]
    assert kinds == [["endo", "exo"]] * 3
    for other in results[1:]:
        for a, b in zip(results[0]["peaks"], other["peaks"], strict=True):
            for key in ("onset_temperature_c", "peak_temperature_c", "enthalpy_j_per_g"):
                assert a[key] == pytest.approx(b[key], abs=1e-3)
    assert results[0]["peaks"][1]["enthalpy_j_per_g"] == pytest.approx(EXPECTED_J_PER_G, abs=0.3)
    # endotherm: 8 mW × 40 s × √(2π) / 5 mg = 160.4 J/g
    assert results[0]["peaks"][0]["enthalpy_j_per_g"] == pytest.approx(160.4, abs=0.3)


# ---------------------------------------------------------------- summary and figures


def test_summary_has_exactly_the_agreed_keys():
    result = analyse_dsc(scan(), sample_mass_mg=MASS_MG)
    summary = result.as_summary()
    assert set(summary) == {
        "peaks",
        "baseline_limits_c",
        "sign_convention",
        "heating_rate_k_per_min",
    }
    assert tuple(summary["peaks"][0]) == PEAK_SUMMARY_FIELDS
    assert summary["sign_convention"] == SIGN_CONVENTION
    # default baseline limits: 5 % of the 300 K range in from each end
    assert summary["baseline_limits_c"] == pytest.approx([165.0, 435.0])
    assert result.version == VERSION
    json.dumps(summary, allow_nan=False)


def test_figures_hold_scan_baseline_peaks_and_tangent():
    table = scan(start_c=30.0, end_c=800.0)  # 4,621 points: decimated for the plot
    result = analyse_dsc(table, sample_mass_mg=MASS_MG)
    figures = json.loads(json.dumps(result.figures, allow_nan=False))
    assert len(figures["scan"]["temperature_c"]) <= FIGURE_POINTS
    assert len(figures["scan"]["heat_flow_w_per_g"]) == len(figures["scan"]["heat_flow_mw"])
    lo, hi = result.baseline_limits_c
    assert figures["baseline"]["temperature_c"] == [lo, hi]
    assert figures["baseline"]["heat_flow_mw"][0] == pytest.approx(0.5 + 0.004 * (lo - 150))
    (peak,) = figures["peaks"]
    assert peak["peak_heat_flow_mw"] == pytest.approx(0.5 + 0.004 * 149 + H_MW, abs=0.01)
    onset_t, inflection_t = peak["tangent"]["temperature_c"]
    assert onset_t == pytest.approx(ONSET_C, abs=0.1)
    assert inflection_t == pytest.approx(CENTRE_C - 5.0, abs=0.2)  # μ − σ
    assert figures["segments"][0]["kind"] == "heating"


# ---------------------------------------------------------------- baselines and peaks


def test_chosen_baseline_limits_are_used_in_either_order():
    result = analyse_dsc(scan(), sample_mass_mg=MASS_MG, baseline=(340.0, 250.0))
    assert result.baseline_limits_c == (250.0, 340.0)
    assert result.baseline_rule.startswith("chosen")
    peak = only_peak(result)
    assert peak.enthalpy_j_per_g == pytest.approx(EXPECTED_J_PER_G, abs=0.5)


def test_exotherm_and_endotherm_in_one_scan_are_both_found_in_scan_order():
    table = scan(((220.0, -10.0, 30.0), (CENTRE_C, H_MW, SIGMA_S)))
    result = analyse_dsc(table, sample_mass_mg=MASS_MG)
    assert [p.kind for p in result.peaks] == ["endo", "exo"]
    endo, exo = result.peaks
    assert endo.enthalpy_j_per_g == pytest.approx(10 * 30 * math.sqrt(2 * math.pi) / 5, abs=0.3)
    assert exo.enthalpy_j_per_g == pytest.approx(EXPECTED_J_PER_G, abs=0.3)


def test_overlapping_exotherms_are_split_and_said_so():
    table = scan(((280.0, 15.0, 40.0), (CENTRE_C + 6.0, 15.0, 40.0)))
    result = analyse_dsc(table, sample_mass_mg=MASS_MG)
    assert [p.kind for p in result.peaks] == ["exo", "exo"]
    total = 2 * 15.0 * 40.0 * math.sqrt(2 * math.pi) / MASS_MG
    assert sum(p.enthalpy_j_per_g for p in result.peaks) == pytest.approx(total, rel=0.002)
    assert [w["code"] for w in result.warnings] == ["peaks_overlap"]


def test_peak_cut_by_the_end_of_the_scan_is_flagged_incomplete():
    # centred 420 °C, σ 60 s = 10 K: still at a third of its height at the 435 °C limit
    table = scan(((420.0, H_MW, 2 * SIGMA_S),))
    result = analyse_dsc(table, sample_mass_mg=MASS_MG)
    exo = next(p for p in result.peaks if p.kind == "exo")
    assert not exo.complete
    assert exo.enthalpy_j_per_g < 2 * EXPECTED_J_PER_G  # the whole peak would give 664.4
    flags = {w["code"]: w for w in result.warnings if w["severity"] == "flag"}
    assert "lower bound" in flags["peak_at_edge"]["message"]
    # the peak's tail lies in the last 5 % window and tilts the default baseline: said so
    assert "last baseline window" in flags["baseline_window_not_flat"]["message"]


def test_flat_scan_has_no_peak_and_says_so():
    result = analyse_dsc(scan((), noise_mw=0.01), sample_mass_mg=MASS_MG)
    assert result.peaks == ()
    assert [w["code"] for w in result.warnings] == ["no_peak"]
    assert result.as_summary()["peaks"] == []


def test_small_bump_below_the_prominence_rule_is_not_a_peak():
    # 5 % of the largest excursion: a 0.5 mW bump beside a 22 mW exotherm is left out
    table = scan(((200.0, 0.5, 30.0), (CENTRE_C, H_MW, SIGMA_S)))
    result = analyse_dsc(table, sample_mass_mg=MASS_MG)
    assert [p.peak_temperature_c for p in result.peaks] == [pytest.approx(CENTRE_C, abs=0.05)]
    assert result.prominence_threshold_mw == pytest.approx(0.05 * H_MW, rel=0.01)


def test_enthalpy_beyond_any_cathode_is_flagged():
    result = analyse_dsc(scan(), sample_mass_mg=0.5)  # 3,322 J/g
    assert only_peak(result).enthalpy_j_per_g > MAX_ENTHALPY_J_PER_G
    flag = next(w for w in result.warnings if w["code"] == "enthalpy_implausible")
    assert flag["severity"] == "flag" and "3,000 J/g" in flag["message"]


# ---------------------------------------------------------------- temperature program


def _heat_cool() -> pd.DataFrame:
    """Heat 150→450 °C at 10 K/min (exotherm at 299 °C), hold 5 min, cool at 10 K/min with
    an exotherm at 350 °C (crystallisation-like: height 10 mW, σ 20 s)."""
    heat = scan()
    t_end = heat["time_s"].iloc[-1]
    hold_t = np.arange(1.0, 301.0)
    cool_t = np.arange(1.0, 1801.0)
    cool_temp = 450.0 - RATE * cool_t / 60.0
    t_c = (450.0 - 350.0) / RATE * 60.0
    cool_power = 0.3 + 10.0 * np.exp(-0.5 * ((cool_t - t_c) / 20.0) ** 2)
    hold = pd.DataFrame({"time_s": t_end + hold_t, "temperature_c": 450.0, "heat_flow_mw": 1.7})
    cool = pd.DataFrame(
        {"time_s": t_end + 300 + cool_t, "temperature_c": cool_temp, "heat_flow_mw": cool_power}
    )
    return pd.concat([heat, hold, cool], ignore_index=True)


def test_heat_cool_program_analyses_the_heating_and_names_the_segments():
    result = analyse_dsc(_heat_cool(), sample_mass_mg=MASS_MG)
    assert [s.kind for s in result.segments] == ["heating", "isothermal", "cooling"]
    assert result.segment == 1
    assert only_peak(result).peak_temperature_c == pytest.approx(CENTRE_C, abs=0.05)
    note = next(w for w in result.warnings if w["code"] == "temperature_segments")
    assert note["severity"] == "note" and "segment 1 (heating) was analysed" in note["message"]


def test_cooling_segment_puts_the_onset_above_the_peak():
    result = analyse_dsc(_heat_cool(), sample_mass_mg=MASS_MG, segment=3)
    peak = only_peak(result)
    assert result.heating_rate_k_per_min == pytest.approx(-RATE, rel=1e-3)
    assert peak.kind == "exo"
    assert peak.peak_temperature_c == pytest.approx(350.0, abs=0.05)
    # leading edge on cooling is the hot side: onset = 350 + 2 × 20 s × 1/6 K/s
    assert peak.onset_temperature_c == pytest.approx(350.0 + 2 * 20 / 6, abs=0.1)
    assert peak.enthalpy_j_per_g == pytest.approx(10 * 20 * math.sqrt(2 * math.pi) / 5, abs=0.3)


def test_temperature_running_back_within_the_scan_is_flagged():
    table = scan()
    dip = (table["temperature_c"] > 380) & (table["temperature_c"] < 386)
    table.loc[dip, "temperature_c"] -= 2.0
    result = analyse_dsc(table, sample_mass_mg=MASS_MG)
    flag = next(w for w in result.warnings if w["code"] == "temperature_not_monotonic")
    assert flag["severity"] == "flag"
    assert only_peak(result).enthalpy_j_per_g == pytest.approx(EXPECTED_J_PER_G, abs=0.3)


def test_uneven_heating_rate_is_noted():
    table = scan()
    t = table["time_s"].to_numpy()
    table["temperature_c"] = 150 + RATE * t / 60 + 15 * np.sin(t / 150.0)
    result = analyse_dsc(table, sample_mass_mg=MASS_MG)
    assert "heating_rate_uneven" in [w["code"] for w in result.warnings]


def test_reader_warnings_and_dropped_rows_are_carried_into_the_result():
    table = scan()
    table.loc[5:9, "heat_flow_mw"] = np.nan
    table.attrs["kiln"] = {"warnings": [{"code": "file_truncated", "message": "cut"}]}
    result = analyse_dsc(table, sample_mass_mg=MASS_MG)
    codes = [w["code"] for w in result.warnings]
    assert codes[:2] == ["file_truncated", "rows_dropped"]
    assert "5 row(s)" in result.warnings[1]["message"]


# ---------------------------------------------------------------- wrong inputs


@pytest.mark.parametrize(
    "mass, message",
    [
        (None, "not known"),
        (0.0, "> 0"),
        (-3.0, "> 0"),
        (1500.0, "≤ 1000"),
        (float("nan"), "finite"),
        (float("inf"), "finite"),
        ("five", "number"),
        (True, "number"),
    ],
)
def test_bad_sample_mass_is_an_error_on_sample_mass_mg(mass, message):
    with pytest.raises(AnalysisError) as info:
        analyse_dsc(scan(), sample_mass_mg=mass)
    assert info.value.field == "sample_mass_mg"
    assert message in info.value.message


@pytest.mark.parametrize(
    "baseline, message",
    [
        ((250.0,), "two temperatures"),
        ("250-340", "two temperatures"),
        ((250.0, 251.0), "at least 2 K"),
        ((100.0, 340.0), "outside the scan"),
        ((250.0, 500.0), "outside the scan"),
        ((250.0, float("nan")), "finite"),
        ((250.0, None), "number"),
    ],
)
def test_bad_baseline_limits_are_an_error_on_baseline(baseline, message):
    with pytest.raises(AnalysisError) as info:
        analyse_dsc(scan(), sample_mass_mg=MASS_MG, baseline=baseline)
    assert info.value.field == "baseline"
    assert message in info.value.message


@pytest.mark.parametrize(
    "segment, message", [(0, "got 0"), (4, "got 4"), (2, "isothermal"), (1.5, "whole number")]
)
def test_bad_segment_is_an_error_on_segment(segment, message):
    with pytest.raises(AnalysisError) as info:
        analyse_dsc(_heat_cool(), sample_mass_mg=MASS_MG, segment=segment)
    assert info.value.field == "segment"
    assert message in info.value.message


@pytest.mark.parametrize("fraction", [0.0, 0.3, float("nan"), "x"])
def test_bad_edge_fraction_is_an_error_on_edge_fraction(fraction):
    with pytest.raises(AnalysisError) as info:
        analyse_dsc(scan(), sample_mass_mg=MASS_MG, edge_fraction=fraction)
    assert info.value.field == "edge_fraction"


def _backwards() -> pd.DataFrame:
    table = scan()
    table.loc[100, "time_s"] = 10.0
    return table


@pytest.mark.parametrize(
    "make, message",
    [
        (lambda: [1, 2, 3], "expected the thermal table"),
        (lambda: scan().drop(columns="heat_flow_mw"), "heat_flow_mw"),
        (lambda: scan().iloc[:10], "at least 20"),
        (lambda: scan().assign(heat_flow_mw=np.nan), "holds 0 point"),
        (_backwards, "time runs backwards"),
        (lambda: scan().assign(temperature_c=25.0), "isothermal"),
        (lambda: scan().iloc[:61].assign(temperature_c=lambda d: 25 + d["time_s"] / 60), "spans"),
    ],
)
def test_unusable_tables_are_an_error_on_table(make, message):
    with pytest.raises(AnalysisError) as info:
        analyse_dsc(make(), sample_mass_mg=MASS_MG)
    assert info.value.field == "table"
    assert message in info.value.message


# ---------------------------------------------------------------- real files


def _independent_enthalpy(table: pd.DataFrame, t1: float, t2: float, mass: float) -> float:
    """By hand: trapezoids of (P − line through the mean heat flow of 100 points around each
    limit) over time, between the first points reaching t1 and t2."""
    t, temp, power = (table[c].to_numpy() for c in ("time_s", "temperature_c", "heat_flow_mw"))
    i, j = sorted(int(np.argmin(np.abs(temp - x))) for x in (t1, t2))
    p_i, p_j = power[max(i - 50, 0) : i + 50].mean(), power[j - 50 : j + 50].mean()
    line = p_i + (p_j - p_i) * (t[i : j + 1] - t[i]) / (t[j] - t[i])
    return abs(float(np.trapezoid(power[i : j + 1] - line, t[i : j + 1]))) / mass


@pytest.mark.testdata("thermal")
def test_eicosane_melting_in_the_real_ta_file():
    table, meta = read_thermal_file(testdata_dir("thermal") / "ta_universal_analysis_pkynetics.txt")
    heating = table.iloc[:9501]  # the file's middle marker row ends the heating at row 9,501
    mass = meta["sample_mass_mg"]
    result = analyse_dsc(table, sample_mass_mg=mass)
    assert result.segment == 1 and result.segments[0].kind == "heating"
    assert result.heating_rate_k_per_min == pytest.approx(1.0, abs=0.02)
    melt = only_peak(result)
    assert melt.kind == "endo"
    # n-eicosane melts at 36.4-36.8 °C (NIST WebBook); this file's own temperature calibration
    # is unknown, so a 1.5 K window around it
    assert 35.0 < melt.onset_temperature_c < 38.0
    assert melt.onset_temperature_c < melt.peak_temperature_c < 39.0
    by_hand = _independent_enthalpy(heating, 30.0, 45.0, mass)  # 283.5 J/g
    assert by_hand == pytest.approx(283.5, abs=1.0)
    chosen = only_peak(analyse_dsc(table, sample_mass_mg=mass, baseline=(30.0, 45.0)))
    assert chosen.enthalpy_j_per_g == pytest.approx(by_hand, rel=0.01)
    # the default baseline (a line through both 5 % ends) lies a little off the local one
    assert melt.enthalpy_j_per_g == pytest.approx(by_hand, rel=0.03)


@pytest.mark.testdata("thermal")
def test_eicosane_crystallisation_on_cooling_in_the_real_ta_file():
    table, meta = read_thermal_file(testdata_dir("thermal") / "ta_universal_analysis_pkynetics.txt")
    result = analyse_dsc(table, sample_mass_mg=meta["sample_mass_mg"], segment=2, baseline=(40, 25))
    assert [p.kind for p in result.peaks] == ["exo", "exo"]  # two freezing steps
    by_hand = _independent_enthalpy(table.iloc[9501:], 40.0, 25.0, meta["sample_mass_mg"])
    total = sum(p.enthalpy_j_per_g for p in result.peaks)
    assert total == pytest.approx(by_hand, rel=0.01)
    codes = [w["code"] for w in result.warnings]
    # the sample warms while it freezes (recalescence): the temperature runs back
    assert "temperature_not_monotonic" in codes and "peaks_overlap" in codes


@pytest.mark.testdata("thermal")
def test_netzsch_sta_file_is_analysed_on_its_main_heating_ramp():
    table, meta = read_thermal_file(testdata_dir("thermal") / "netzsch_sta_pyngb_probe_g.ngb-ds3")
    result = analyse_dsc(table, sample_mass_mg=meta["sample_mass_mg"])
    # program (file metadata): 30→105 °C at 10 K/min, hold, 105→300 °C at 10 K/min, hold, cool
    kinds = [s.kind for s in result.segments]
    assert kinds == ["heating", "isothermal", "heating", "isothermal", "cooling"]
    assert result.segment == 3
    assert result.heating_rate_k_per_min == pytest.approx(10.0, abs=0.5)
    json.dumps(result.as_summary(), allow_nan=False)
    json.dumps(result.figures, allow_nan=False)
