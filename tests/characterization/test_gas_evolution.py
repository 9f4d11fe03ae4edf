"""Gas evolution (DEMS): evolved O2 and CO2 in µmol and µmol per mg of active material.

Hand-worked checks use SYNTHETIC ion currents built here: a constant (or sloped) background
plus a triangle or trapezoid of excess current whose vertices fall on sample times, so the
trapezoid rule integrates them exactly and the totals are known in closed form:
- O2: k = 0.5 mol s⁻¹ A⁻¹, a triangle 1200–4800 s of height h: n = k · ½ · 3600 s · h; with
  h = 2.24e-6 / 900 A, n = 2.24 µmol = 0.28 µmol/mg × 8.0 mg;
- CO2: k = 2.0 mol s⁻¹ A⁻¹, a trapezoid rising 1001–1501 s, flat to 3501 s, falling to
  4001 s, of height h: n = k · (2000 s + 500 s) · h; with h = 0.923e-6 / 5000 A,
  n = 0.923 µmol = 0.13 µmol/mg × 7.1 mg.
Tolerance: relative 1e-9 (floating point only).

Real files (shared testdata mass_spec/): the Zilien EC-MS file with its own potentiostat
series, and the QUADERA TGA-MS export (partial pressures in mbar); their totals are checked
against the same formulas evaluated with numpy on columns read by numpy.genfromtxt/pandas
directly from the files, not through Kiln's readers.
"""

from __future__ import annotations

from datetime import UTC, datetime

import numpy as np
import pandas as pd
import pytest

from characterization.analysis.errors import AnalysisError
from characterization.analysis.gas_evolution import (
    MAX_SERIES_POINTS,
    VERSION,
    Background,
    analyse_gas_evolution,
)
from characterization.parsers.mass_spec import read_mass_spec_file, read_zilien_potentiostat
from tests.testdata import testdata_dir

K_O2, K_CO2 = 0.5, 2.0
H_O2 = 2.24e-6 / (K_O2 * 0.5 * 3600.0)
H_CO2 = 0.923e-6 / (K_CO2 * 2500.0)
BG_O2, BG_CO2 = 2.0e-10, 5.0e-11
CAL = {"O2": K_O2, "CO2": K_CO2}


def triangle(t: np.ndarray, start: float, peak: float, end: float, height: float) -> np.ndarray:
    return np.interp(t, [start, peak, end], [0.0, height, 0.0], left=0.0, right=0.0)


def trapezoid(t: np.ndarray, corners: tuple[float, ...], height: float) -> np.ndarray:
    return np.interp(t, corners, [0.0, height, height, 0.0], left=0.0, right=0.0)


def ms_table(offset_s: float = 0.0, slope_a_per_s: float = 0.0, noise: float = 0.0):
    """Two channels on their own clocks (O2 at even, CO2 at odd seconds), on the MS clock =
    cycling clock + offset_s."""
    rng = np.random.default_rng(7)
    t_o2 = np.arange(0.0, 6001.0, 2.0)
    t_co2 = np.arange(1.0, 6000.0, 2.0)
    o2 = BG_O2 + slope_a_per_s * t_o2 + triangle(t_o2, 1200, 3000, 4800, H_O2)
    co2 = BG_CO2 + trapezoid(t_co2, (1001, 1501, 3501, 4001), H_CO2)
    o2 = o2 + noise * rng.standard_normal(len(o2))
    frames = [
        pd.DataFrame({"time_s": t + offset_s, "channel": name, "mz": mz, "signal": y, "unit": "A"})
        for name, mz, t, y in (("M32-O2", 32.0, t_o2, o2), ("M44-CO2", 44.0, t_co2, co2))
    ]
    return pd.concat(frames, ignore_index=True)


def cycling_table(rest_s: float = 600.0) -> pd.DataFrame:
    """A rest to `rest_s`, then a 0.1 mA charge with the voltage rising 3.0 -> 4.8 V."""
    t = np.arange(0.0, 6001.0, 10.0)
    voltage = np.where(t < rest_s, 3.0, 3.0 + 1.8 * (t - rest_s) / (6000.0 - rest_s))
    current = np.where(t < rest_s, 0.0, 0.1)
    return pd.DataFrame({"time_s": t, "voltage_v": voltage, "current_ma": current})


def run(**changes):
    values = {
        "calibration": CAL,
        "active_mass_mg": 8.0,
        "cycling_table": cycling_table(),
    }
    return analyse_gas_evolution(changes.pop("table", ms_table()), **{**values, **changes})


# ---------------------------------------------------------------- worked checks


def test_o2_worked_check_028_micromol_per_mg_times_8_mg_is_224_micromol() -> None:
    result = run(active_mass_mg=8.0)
    o2 = result.as_summary()["gases"]["O2"]
    assert o2["micromol"] == pytest.approx(2.24, rel=1e-9)
    assert o2["micromol_per_mg"] == pytest.approx(0.28, rel=1e-9)


def test_co2_worked_check_013_micromol_per_mg_times_71_mg_is_0923_micromol() -> None:
    result = run(active_mass_mg=7.1)
    co2 = result.as_summary()["gases"]["CO2"]
    assert co2["micromol"] == pytest.approx(0.923, rel=1e-9)
    assert co2["micromol_per_mg"] == pytest.approx(0.13, rel=1e-9)


def test_the_default_background_is_the_ten_minutes_before_cycling_starts() -> None:
    result = run()
    # the rest ends at 600 s; both channels have points from 1 s (CO2's first)
    assert result.background["windows_s"] == [[1.0, 600.0]]
    assert result.background["rule"] == (
        "mean of each channel over the 10 min before cycling starts"
    )
    assert result.integration_window_s == (600.0, 5999.0)  # CO2's last point
    assert result.series["gases"]["O2"]["background"][0] == pytest.approx(BG_O2)
    assert result.warnings == []


def test_summary_keys_are_exactly_the_agreed_ones() -> None:
    summary = run().as_summary()
    assert set(summary) == {
        "gases",
        "background",
        "calibration",
        "alignment_offset_s",
        "alignment_source",
        "integration_window_s",
        "active_mass_mg",
    }
    assert set(summary["gases"]) == {"O2", "CO2"}
    assert all(set(v) == {"micromol", "micromol_per_mg"} for v in summary["gases"].values())
    assert summary["calibration"]["O2"] == {
        "channel": "M32-O2",
        "mz": 32.0,
        "factor": K_O2,
        "unit": "mol s-1 per A",
    }
    assert VERSION == "1"


def test_an_offset_aligns_the_ms_clock_to_the_cycling_clock() -> None:
    shifted = run(table=ms_table(offset_s=1800.0), time_offset_s=1800.0)
    assert shifted.as_summary()["gases"]["O2"]["micromol"] == pytest.approx(2.24, rel=1e-9)
    assert shifted.alignment_offset_s == 1800.0
    o2 = shifted.series["gases"]["O2"]
    at = o2["time_s"].index(3300.0)  # cycling clock; 3.0 + 1.8 * 2700 / 5400 = 3.9 V
    assert o2["voltage_v"][at] == pytest.approx(3.9)


def test_absolute_start_times_give_the_same_alignment() -> None:
    result = run(
        table=ms_table(offset_s=1800.0),
        ms_start="2024-03-01T10:00:00",
        cycling_start=datetime(2024, 3, 1, 10, 30),
    )
    assert result.alignment_offset_s == 1800.0
    assert result.as_summary()["gases"]["CO2"]["micromol"] == pytest.approx(0.923, rel=1e-9)
    assert result.alignment_source.startswith("start times")


def test_a_linear_background_between_two_windows_removes_a_drift() -> None:
    # background 2e-10 A + 1e-14 A/s · t: a mean would over-count; the line removes it
    result = run(
        table=ms_table(slope_a_per_s=1e-14),
        background=Background(method="linear", windows_s=((0.0, 600.0), (5400.0, 6000.0))),
    )
    assert result.integration_window_s == (600.0, 5400.0)
    assert result.as_summary()["gases"]["O2"]["micromol"] == pytest.approx(2.24, rel=1e-9)


def test_an_integration_window_can_be_chosen() -> None:
    # up to the O2 triangle's peak: half its area
    result = run(integrate_s=(600.0, 3000.0))
    assert result.as_summary()["gases"]["O2"]["micromol"] == pytest.approx(1.12, rel=1e-9)


def test_without_a_cycling_table_the_first_minutes_are_the_background() -> None:
    result = run(cycling_table=None)
    assert result.background["windows_s"] == [[1.0, 601.0]]  # where both channels have points
    assert result.as_summary()["gases"]["O2"]["micromol"] == pytest.approx(2.24, rel=1e-9)
    assert result.series["voltage"] is None


def test_series_are_thinned_and_the_cumulative_ends_at_the_total() -> None:
    result = run()
    o2 = result.series["gases"]["O2"]
    assert len(o2["time_s"]) == len(o2["rate_mol_s"]) == len(o2["voltage_v"])
    assert len(o2["time_s"]) <= MAX_SERIES_POINTS
    assert o2["cumulative_umol"][-1] == pytest.approx(2.24, rel=1e-9)
    assert o2["cumulative_umol_per_mg"][-1] == pytest.approx(0.28, rel=1e-9)
    assert max(o2["rate_mol_s"]) == pytest.approx(K_O2 * H_O2, rel=1e-9)
    assert result.series["voltage"]["voltage_v"][-1] == pytest.approx(4.8)


# ---------------------------------------------------------------- warnings


def codes(result) -> set[str]:
    return {w["code"] for w in result.warnings}


def test_a_background_above_the_signal_gives_a_negative_total_flag() -> None:
    table = ms_table()
    table.loc[(table["channel"] == "M32-O2") & (table["time_s"] <= 600), "signal"] *= 50
    result = run(table=table)
    assert result.as_summary()["gases"]["O2"]["micromol"] < 0
    flagged = [w for w in result.warnings if w["code"] == "negative_total"]
    assert flagged and flagged[0]["severity"] == "flag"
    assert flagged[0]["message"].startswith("O2: the total after background subtraction")


def test_a_total_within_the_background_noise_is_flagged() -> None:
    result = run(table=ms_table(noise=5e-8))
    assert "below_detection" in codes(result)


def test_an_implausibly_large_release_is_flagged() -> None:
    assert "implausible" in codes(run(calibration={"O2": 1e3, "CO2": K_CO2}))


def test_a_factor_applied_to_a_partial_pressure_is_said() -> None:
    table = ms_table()
    table["unit"] = "mbar"
    result = run(table=table)
    assert "calibration_unit" in codes(result)
    assert result.as_summary()["calibration"]["O2"]["unit"] == "mol s-1 per mbar"


def test_a_gap_in_the_ms_record_is_noted() -> None:
    table = ms_table()
    gap = (table["channel"] == "M32-O2") & table["time_s"].between(2000, 2400)
    assert "time_gap" in codes(run(table=table[~gap]))


def test_a_shortened_default_background_window_is_noted() -> None:
    table = ms_table()
    result = run(table=table[table["time_s"] >= 300])
    assert "background_window_shortened" in codes(result)
    assert result.background["windows_s"] == [[301.0, 600.0]]


# ---------------------------------------------------------------- inputs that cannot work


def test_a_gas_without_calibration_fails_on_calibration_with_a_sentence() -> None:
    with pytest.raises(AnalysisError) as caught:
        run(calibration={"O2": K_O2})
    assert caught.value.field == "calibration"
    assert str(caught.value) == (
        "no calibration factor for CO2 (channel M44-CO2, m/z 44): give it in mol s⁻¹ per A, "
        "or leave CO2 out of the gases"
    )


def test_a_missing_calibration_is_said_even_when_the_file_lacks_the_gas() -> None:
    table = ms_table()
    with pytest.raises(AnalysisError) as caught:
        run(table=table[table["channel"] == "M32-O2"], calibration={"O2": K_O2})
    assert caught.value.field == "calibration"
    assert str(caught.value).startswith("no calibration factor for CO2 (m/z 44): give it")


@pytest.mark.parametrize(
    ("calibration", "message"),
    [
        ({"O2": 0.0, "CO2": 1.0}, "must be > 0"),
        ({"O2": "x", "CO2": 1.0}, "must be a number"),
        ({"O2": float("nan"), "CO2": 1.0}, "finite"),
        ({"O2": {"factor": 1.0, "unit": "mbar"}, "CO2": 1.0}, "per mbar, but channel M32-O2"),
        ({"O2": {"factor": 1.0, "unit": "Torr"}, "CO2": 1.0}, "must be A or mbar"),
        ([1.0, 2.0], "map each gas"),
    ],
)
def test_bad_calibrations_are_refused(calibration, message: str) -> None:
    with pytest.raises(AnalysisError, match=message) as caught:
        run(calibration=calibration)
    assert caught.value.field == "calibration"


def test_a_calibration_with_its_unit_stated_is_accepted() -> None:
    result = run(calibration={"O2": {"factor": K_O2, "unit": "A"}, "CO2": K_CO2})
    assert result.as_summary()["gases"]["O2"]["micromol"] == pytest.approx(2.24, rel=1e-9)


@pytest.mark.parametrize(
    ("mass", "message"),
    [(0, "must be > 0 mg"), (-3.0, "must be > 0 mg"), (2500.0, "≤ 1000 mg"), ("8", "number")],
)
def test_active_mass_bounds(mass, message: str) -> None:
    with pytest.raises(AnalysisError, match=message) as caught:
        run(active_mass_mg=mass)
    assert caught.value.field == "active_mass_mg"


@pytest.mark.parametrize(
    ("gases", "message"),
    [
        ({"O2": 32, "H2": 2}, "no m/z 2 channel for H2"),
        ({"O2": "Oxygen"}, "no channel 'Oxygen' channel for O2"),
        ({"O2": 0}, "between 0 and 1000"),
        ({}, "map each gas"),
    ],
)
def test_gases_the_file_cannot_give_are_refused(gases, message: str) -> None:
    with pytest.raises(AnalysisError, match=message) as caught:
        run(gases=gases, calibration={"O2": 1.0, "H2": 1.0})
    assert caught.value.field == "gases"


def test_two_channels_at_one_mz_must_be_named() -> None:
    table = ms_table()
    table.loc[table["channel"] == "M44-CO2", "mz"] = 32.0
    with pytest.raises(AnalysisError, match="several channels at m/z 32"):
        run(table=table, gases={"O2": 32})
    result = run(table=table, gases={"O2": "M32-O2"}, calibration={"O2": K_O2})
    assert result.as_summary()["gases"]["O2"]["micromol"] == pytest.approx(2.24, rel=1e-9)


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"time_offset_s": 5.0, "ms_start": "2024-03-01T10:00"}, "time_offset_s", "not both"),
        ({"ms_start": "2024-03-01T10:00"}, "cycling_start", "is missing"),
        (
            {"ms_start": "2024-03-01T10:00", "cycling_start": datetime(2024, 3, 1, tzinfo=UTC)},
            "cycling_start",
            "timezone",
        ),
        ({"ms_start": "yesterday", "cycling_start": "2024-03-01T10:00"}, "ms_start", "ISO"),
        ({"time_offset_s": 1e9}, "time_offset_s", "within"),
        ({"time_offset_s": 50000.0}, "time_offset_s", "do not overlap"),
    ],
)
def test_alignment_inputs_are_checked(changes: dict, field: str, message: str) -> None:
    with pytest.raises(AnalysisError, match=message) as caught:
        run(**changes)
    assert caught.value.field == field


@pytest.mark.parametrize(
    ("background", "message"),
    [
        (Background(method="median"), "must be one of"),
        (Background(method="linear"), "exactly two windows"),
        (Background(windows_s=((10.0, 12.0),)), "holds 2 point"),
        (Background(windows_s=((600.0, 100.0),)), "must end after it starts"),
        (Background(baseline_min=0.0), "0.5–600 min"),
        ("first 10 min", "expected a Background"),
    ],
)
def test_background_choices_are_checked(background, message: str) -> None:
    with pytest.raises(AnalysisError, match=message) as caught:
        run(background=background)
    assert caught.value.field == "background"


def test_an_ms_record_starting_after_cycling_has_no_baseline() -> None:
    table = ms_table()
    with pytest.raises(AnalysisError, match="no baseline before cycling") as caught:
        run(table=table[table["time_s"] >= 700])
    assert caught.value.field == "background"


def test_an_integration_window_outside_the_record_is_refused() -> None:
    with pytest.raises(AnalysisError, match="goes beyond the MS record") as caught:
        run(integrate_s=(600.0, 9000.0))
    assert caught.value.field == "integrate_s"


@pytest.mark.parametrize(
    ("table", "field", "message"),
    [
        ("not a table", "ms_table", "ion-current table"),
        (pd.DataFrame({"time_s": [1.0]}), "ms_table", "no column"),
        (ms_table().iloc[:0], "ms_table", "no data points"),
    ],
)
def test_a_table_that_is_not_an_ion_current_table_is_refused(table, field, message) -> None:
    with pytest.raises(AnalysisError, match=message) as caught:
        run(table=table)
    assert caught.value.field == field


def test_a_table_with_text_for_numbers_is_refused() -> None:
    table = ms_table()
    table["signal"] = table["signal"].astype(str)
    with pytest.raises(AnalysisError, match="signal is not numeric") as caught:
        run(table=table)
    assert caught.value.field == "ms_table"
    cycling = cycling_table().astype({"voltage_v": object})
    cycling.loc[3, "voltage_v"] = "n/a"
    with pytest.raises(AnalysisError, match="not all numbers") as caught:
        run(cycling_table=cycling)
    assert caught.value.field == "cycling_table"


def test_a_cycling_table_without_voltage_or_with_time_going_back_is_refused() -> None:
    with pytest.raises(AnalysisError, match="no column") as caught:
        run(cycling_table=cycling_table().drop(columns="voltage_v"))
    assert caught.value.field == "cycling_table"
    backwards = cycling_table()
    backwards.loc[100, "time_s"] = 5.0
    with pytest.raises(AnalysisError, match="time runs backwards"):
        run(cycling_table=backwards)


# ---------------------------------------------------------------- real files


def independent_total(t, y, window, span, k) -> float:
    """The module's formula on plain arrays: mean background, trapezoids with the values at
    the window ends interpolated, in µmol."""
    bg = y[(t >= window[0]) & (t <= window[1])].mean()
    inside = (t > span[0]) & (t < span[1])
    tt = np.r_[span[0], t[inside], span[1]]
    yy = np.interp(tt, t, y)
    return float(np.trapezoid((yy - bg) * k, tt) * 1e6)


@pytest.mark.testdata("mass_spec")
def test_the_zilien_file_with_its_own_potentiostat_gives_the_numpy_total() -> None:
    path = testdata_dir("mass_spec") / "zilien_v1_ixdat_full_set.tsv"
    table, _ = read_mass_spec_file(path)
    result = analyse_gas_evolution(
        table,
        calibration={"O2": 1.0},
        active_mass_mg=8.0,
        cycling_table=read_zilien_potentiostat(path),
        gases={"O2": 32},
    )
    raw = np.genfromtxt(path, delimiter="\t", skip_header=117)
    pot_t, current = raw[:733, 0], raw[:733, 2]
    start = pot_t[np.argmax(np.abs(current) > 0.01 * np.abs(current).max())]
    t, y = raw[:404, -2], raw[:404, -1]
    window, span = (t[0], start), (start, min(t[-1], pot_t[-1]))
    assert result.background["windows_s"][0] == pytest.approx(list(window))
    assert result.integration_window_s == pytest.approx(span)
    expected = independent_total(t, y, window, span, 1.0)
    assert result.as_summary()["gases"]["O2"]["micromol"] == pytest.approx(expected, rel=1e-9)
    assert "background_window_shortened" in codes(result)  # only 1.9 min before cycling


@pytest.mark.testdata("mass_spec")
def test_the_quadera_partial_pressures_give_the_numpy_totals_and_say_per_mbar() -> None:
    path = testdata_dir("mass_spec") / "pfeiffer_quadera_datalab_tgams.asc"
    table, _ = read_mass_spec_file(path)
    result = analyse_gas_evolution(table, calibration={"O2": 1e3, "CO2": 1e3}, active_mass_mg=8.0)
    raw = pd.read_csv(path, sep="\t", skiprows=8, header=None, nrows=1365)
    # per channel: absolute time, Time Relative [s], value; Oxygen is the 5th channel
    # (columns 12-14), Carbondioxide the 7th (18-20). The background window starts at the
    # later first point (CO2's) and the integration ends at the earlier last one (O2's).
    first = raw[19].iloc[0]
    window = (first, first + 600.0)
    span = (window[1], raw[13].iloc[-1])
    for gas, column in (("O2", 13), ("CO2", 19)):
        t, y = raw[column].to_numpy(float), raw[column + 1].to_numpy(float)
        expected = independent_total(t, y, window, span, 1e3)
        total = result.as_summary()["gases"][gas]["micromol"]
        assert total == pytest.approx(expected, rel=1e-9)
    assert {"calibration_unit", "negative_total"} <= codes(result)
