"""The first charge's ~4.5 V plateau, measured two ways: (a) capacity above a threshold and
(b) the flat-plateau length from the smoothed dV/dQ.

Synthetic Li-rich first charge (tests.characterization.synthetic, through the cycle model),
4.00 mg active, V linear in Q (mAh/g) between the knots (0, 3.7 V) (100, 4.5 V) (220, 4.5 V)
(250, 4.8 V): a sloping part of 0.8 V per 100 mAh/g, a 120 mAh/g flat plateau at 4.5 V, a rise
of 1.0 V per 100 mAh/g.
(a) 4.4 V is crossed at 100 × 0.7/0.8 = 87.5 mAh/g → 250 − 87.5 = 162.5 mAh/g, exact for V
    linear in Q (1e-9 relative).
(b) a 10 mAh/g window (h = 5) centred near a knee sees part of the slope (plateau.py doc): with
    slope/threshold r = 0.5/0.8 the run reaches 0.17·h = 0.8 mAh/g into the sloping part, with
    r = 0.5/1.0 it stops at the knee; plus the 0.5 mAh/g grid → 120.8 ± 0.5; tolerance ±2
    mAh/g, and ±0.02 V on the smoothed voltages at the run's ends.
"""

import numpy as np
import pandas as pd
import pytest

from characterization.analysis.errors import AnalysisError
from characterization.analysis.plateau import (
    SUMMARY_FIELDS,
    constant_current_end,
    first_charge_plateau,
    longest_run,
)
from characterization.parsers.reader import read_cycler_file
from tests.characterization.synthetic import (
    HalfCycle,
    assemble,
    linear_half_cycle,
    piecewise_half_cycle,
)
from tests.testdata import testdata_dir

MASS_MG = 4.0
MASS_G = MASS_MG / 1000
LI_RICH_KNOTS = ((0.0, 100.0, 220.0, 250.0), (3.7, 4.5, 4.5, 4.8))


def _charge(knots=LI_RICH_KNOTS, points=501, cycle=1) -> HalfCycle:
    capacity, volts = knots
    return piecewise_half_cycle(
        cycle,
        "charge",
        capacity_knots_mah=np.array(capacity) * MASS_G,
        voltage_knots_v=volts,
        current_ma=0.05,
        points=points,
    )


def _discharge(cycle=1) -> HalfCycle:
    return linear_half_cycle(
        cycle, "discharge", capacity_mah=200 * MASS_G, start_v=4.5, end_v=2.0, current_ma=0.05
    )


def _with_cv_hold(charge: HalfCycle, hold_mah_g: float) -> HalfCycle:
    """A constant-voltage hold at the end voltage, the current decaying 1 → 0.05 of CC."""
    steps = 200
    q = charge.capacity_mah[-1] + hold_mah_g * MASS_G * np.linspace(0, 1, steps + 1)[1:]
    return HalfCycle(
        charge.cycle,
        "charge",
        np.r_[charge.capacity_mah, q],
        np.r_[charge.voltage_v, np.full(steps, charge.voltage_v[-1])],
        np.r_[charge.current_ma, charge.current_ma[-1] * np.geomspace(1.0, 0.05, steps)],
    )


def _table(charge=None, *more) -> pd.DataFrame:
    return assemble([charge or _charge(), _discharge(), *more])


def test_li_rich_first_charge_gives_both_plateau_measures():
    result = first_charge_plateau(_table(), active_mass_mg=MASS_MG)
    assert result.cycle == 1
    assert result.capacity_above_threshold_mah_g == pytest.approx(162.5, rel=1e-9)
    assert result.flat_plateau_mah_g == pytest.approx(120.8, abs=2.0)
    assert result.flat_plateau_start_v == pytest.approx(4.5, abs=0.02)
    assert result.flat_plateau_end_v == pytest.approx(4.5, abs=0.02)
    assert (result.threshold_v, result.slope_threshold) == (4.4, 0.5)
    assert "(a) capacity above threshold" in result.note and "(b) flat plateau" in result.note
    assert result.warnings == ()


def test_summary_has_exactly_the_agreed_keys_and_the_series_the_flat_run():
    result = first_charge_plateau(_table(), active_mass_mg=MASS_MG)
    summary = result.as_summary()
    assert list(summary) == ["plateau"]
    assert list(summary["plateau"]) == list(SUMMARY_FIELDS)
    series = result.series
    assert len(series["q_mah_g"]) == len(series["dvdq_v_per_100mah_g"]) == 501  # 250 / 0.5 + 1
    first, last = series["flat_first_index"], series["flat_last_index"]
    span = series["q_mah_g"][last] - series["q_mah_g"][first] + 0.5
    assert span == pytest.approx(result.flat_plateau_mah_g)
    assert max(abs(s) for s in series["dvdq_v_per_100mah_g"][first : last + 1]) < 0.5


def test_constant_voltage_hold_counts_above_the_threshold_but_is_not_a_flat_plateau():
    # 20 mAh/g held at 4.8 V: (a) 162.5 + 20 = 182.5 (sum of exact pieces); (b) unchanged
    table = _table(_with_cv_hold(_charge(), 20.0))
    result = first_charge_plateau(table, active_mass_mg=MASS_MG)
    assert result.capacity_above_threshold_mah_g == pytest.approx(182.5, rel=1e-9)
    assert result.flat_plateau_mah_g == pytest.approx(120.8, abs=2.0)
    assert result.flat_plateau_end_v == pytest.approx(4.5, abs=0.02)
    # the hold's first records still carry >= 0.9 of the CC current: ~0.7 mAh/g stays in CC
    assert result.constant_voltage_hold_mah_g == pytest.approx(20.0, abs=1.0)
    assert "mAh/g constant-voltage hold" in result.note


def test_noisy_plateau_stays_within_five_mah_g():
    # 2 mV Gaussian noise on every record (seeded); the window's slope noise is ~0.05 V per
    # 100 mAh/g, a tenth of the threshold, so the run ends move by a few grid steps at most
    charge = _charge(points=2001)
    noise = 0.002 * np.random.default_rng(7).standard_normal(len(charge.voltage_v))
    noisy = HalfCycle(1, "charge", charge.capacity_mah, charge.voltage_v + noise, charge.current_ma)
    result = first_charge_plateau(_table(noisy), active_mass_mg=MASS_MG)
    assert result.flat_plateau_mah_g == pytest.approx(120.8, abs=5.0)
    assert result.capacity_above_threshold_mah_g == pytest.approx(162.5, abs=1.0)


def test_steadily_rising_charge_has_capacity_above_but_no_flat_plateau():
    # 3.0 → 4.6 V over 250 mAh/g (0.64 V per 100 mAh/g): 4.4 V at 218.75 → 31.25 mAh/g above
    charge = _charge(((0.0, 250.0), (3.0, 4.6)))
    result = first_charge_plateau(_table(charge), active_mass_mg=MASS_MG)
    assert result.capacity_above_threshold_mah_g == pytest.approx(31.25, rel=1e-9)
    assert result.flat_plateau_mah_g == 0.0
    assert result.flat_plateau_start_v is None and result.flat_plateau_end_v is None


def test_thresholds_are_parameters():
    # 4.6 V is crossed at 220 + 30 × 0.1/0.3 = 230 → 20 mAh/g; a 4.55 V floor leaves no flat part
    result = first_charge_plateau(
        _table(), active_mass_mg=MASS_MG, threshold_v=4.6, plateau_floor_v=4.55
    )
    assert result.capacity_above_threshold_mah_g == pytest.approx(20.0, rel=1e-9)
    assert result.flat_plateau_mah_g == 0.0
    assert result.threshold_v == 4.6 and result.plateau_floor_v == 4.55


def test_first_charge_below_the_threshold_measures_nothing_and_says_why():
    charge = _charge(((0.0, 200.0), (3.0, 4.3)))
    result = first_charge_plateau(_table(charge), active_mass_mg=MASS_MG)
    summary = result.as_summary()["plateau"]
    assert [summary[k] for k in SUMMARY_FIELDS[1:5]] == [None] * 4
    assert summary["threshold_v"] == 4.4 and summary["slope_threshold"] == 0.5
    assert "peaks at 4.3000 V, below the 4.4 V threshold" in summary["note"]
    assert result.warnings[0]["code"] == "plateau_unavailable"
    assert result.warnings[0]["severity"] == "note"


def test_later_cycles_reaching_the_threshold_do_not_stand_in_for_the_first():
    first = _charge(((0.0, 200.0), (3.0, 4.2)))
    table = assemble([first, _discharge(), _charge(cycle=2), _discharge(2)])
    assert first_charge_plateau(table, active_mass_mg=MASS_MG).flat_plateau_mah_g is None


def test_incomplete_first_cycle_measures_nothing():
    result = first_charge_plateau(assemble([_charge()]), active_mass_mg=MASS_MG)
    assert result.capacity_above_threshold_mah_g is None
    assert "the first cycle (1) is incomplete (no discharge after its charge)" in result.note


def test_a_leading_partial_discharge_is_not_the_first_charge():
    partial = linear_half_cycle(
        0, "discharge", capacity_mah=0.02, start_v=3.2, end_v=2.0, current_ma=0.05
    )
    result = first_charge_plateau(assemble([partial, _charge(), _discharge()]), active_mass_mg=4)
    assert result.cycle == 1
    assert result.capacity_above_threshold_mah_g == pytest.approx(162.5, rel=1e-9)


def test_anode_half_cell_has_no_activation_plateau():
    result = first_charge_plateau(_table(), active_mass_mg=MASS_MG, electrode="anode")
    assert result.flat_plateau_mah_g is None and "anode" in result.note


def test_flat_plateau_far_from_4_5_v_is_measured_with_a_note():
    # 130 mAh/g flat at 4.9 V after a 7 V per 100 mAh/g rise (r = 0.5/7: t³ − 3t + 2 − 4r = 0
    # gives t = 0.86, so the run starts 0.86·h = 4.3 mAh/g late) and before a 1 V per 100
    # mAh/g rise (t = 0): 125.7 ± 2 mAh/g
    charge = _charge(((0.0, 20.0, 150.0, 160.0), (3.5, 4.9, 4.9, 5.0)))
    result = first_charge_plateau(_table(charge), active_mass_mg=MASS_MG)
    assert result.flat_plateau_mah_g == pytest.approx(125.7, abs=2.0)
    assert result.warnings[0]["code"] == "plateau_voltage_unusual"


def test_records_too_sparse_for_the_window_give_no_flat_plateau():
    # 6 records over 250 mAh/g: 50 mAh/g apart, more than half the 10 mAh/g window
    charge = _charge(((0.0, 250.0), (3.0, 4.6)), points=6)
    result = first_charge_plateau(_table(charge), active_mass_mg=MASS_MG)
    assert result.flat_plateau_mah_g is None
    assert result.capacity_above_threshold_mah_g == pytest.approx(31.25, rel=1e-9)
    assert "too coarse" in result.note


def test_a_file_without_current_keeps_the_whole_charge_and_says_so():
    table = _table(_with_cv_hold(_charge(), 20.0))
    table["current_ma"] = np.nan
    result = first_charge_plateau(table, active_mass_mg=MASS_MG)
    assert result.constant_voltage_hold_mah_g == 0.0
    assert result.capacity_above_threshold_mah_g == pytest.approx(182.5, rel=1e-9)
    assert "records no current" in result.note


def test_records_without_a_voltage_are_left_out_and_counted():
    table = _table()
    charge_rows = np.flatnonzero(table["direction"].to_numpy() == "charge")
    table.loc[charge_rows[[10, 20, 30]], "voltage_v"] = np.nan
    result = first_charge_plateau(table, active_mass_mg=MASS_MG)
    assert result.capacity_above_threshold_mah_g == pytest.approx(162.5, rel=1e-9)
    assert "3 record(s) without a finite voltage or capacity left out" in result.note


def test_constant_current_end_cuts_the_decaying_tail():
    q = np.array([0.0, 1, 2, 3, 3.5, 3.7, 3.8])
    amps = np.array([1.0, 1.0, 1.0, 1.0, 0.5, 0.2, 0.1])
    assert constant_current_end(q, amps) == 4
    assert constant_current_end(q, np.full(7, np.nan)) == 7


def test_longest_run_takes_the_longest_and_the_earliest_of_equals():
    assert longest_run(np.array([1, 1, 0, 1, 1, 1, 0], bool)) == (3, 5)
    assert longest_run(np.array([1, 0, 1], bool)) == (0, 0)
    assert longest_run(np.zeros(3, bool)) == (None, None)


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"active_mass_mg": 0}, "active_mass_mg"),
        ({"threshold_v": 0}, "threshold_v"),
        ({"threshold_v": 7.0}, "threshold_v"),
        ({"threshold_v": "4.4"}, "threshold_v"),
        ({"threshold_v": float("nan")}, "threshold_v"),
        ({"plateau_floor_v": -4.4}, "plateau_floor_v"),
        ({"slope_threshold_v_per_100mah_g": 0}, "slope_threshold_v_per_100mah_g"),
        ({"slope_threshold_v_per_100mah_g": 50}, "slope_threshold_v_per_100mah_g"),
        ({"smoothing_window_mah_g": 0.5}, "smoothing_window_mah_g"),
        ({"smoothing_window_mah_g": 500}, "smoothing_window_mah_g"),
        ({"electrode": "positive"}, "electrode"),
    ],
)
def test_bad_parameters_name_the_field(changes, field):
    with pytest.raises(AnalysisError) as error:
        first_charge_plateau(_table(), **{"active_mass_mg": MASS_MG, **changes})
    assert error.value.field == field


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda t: t.to_dict(), "expected a normalised cycling table"),
        (lambda t: t.drop(columns="current_ma"), "no column"),
        (lambda t: t.iloc[0:0], "no data rows"),
    ],
)
def test_a_table_that_is_not_usable_names_the_problem(make, message):
    with pytest.raises(AnalysisError, match=message) as error:
        first_charge_plateau(make(_table()), active_mass_mg=MASS_MG)
    assert error.value.field == "df"


# --- real files (shared cyclers) ----------------------------------------------------------


def _real(name: str) -> pd.DataFrame:
    return read_cycler_file(testdata_dir("cyclers") / name).table


@pytest.mark.testdata("cyclers")
def test_biologic_4p6v_file_first_charge_stops_at_4_2_v():
    # the file's first three cycles run 2.5-4.2 V; 4.6 V comes from cycle 4 on, too late for
    # an activation plateau: nothing is measured, and the note says why
    result = first_charge_plateau(_real("biologic_yadg_gcpl_4p6V.mpr"), active_mass_mg=12.0)
    assert result.cycle == 1
    assert result.capacity_above_threshold_mah_g is None and result.flat_plateau_mah_g is None
    assert "peaks at 4.2000 V, below the 4.4 V threshold" in result.note


@pytest.mark.testdata("cyclers")
def test_biologic_4p6v_charge_rises_through_4_4_v_without_a_flat_plateau():
    # cycles 4.. alone (its first 4.6 V charge, CC then a CV hold, 12 mg assumed): capacity
    # above 4.4 V = the CC records' crossing to the end of the hold, checked against the
    # records directly (V rises monotonically there; 0.2 mAh/g covers the interpolation)
    table = _real("biologic_yadg_gcpl_4p6V.mpr")
    result = first_charge_plateau(table[table["cycle"] >= 4], active_mass_mg=12.0)
    rows = table[(table["cycle"] == 4) & (table["direction"] == "charge")]
    q = rows["charge_capacity_mah"].to_numpy() / 0.012
    v = rows["voltage_v"].to_numpy()
    rising = v < 4.59
    expected = q[-1] - np.interp(4.4, v[rising], q[rising])
    assert result.cycle == 4
    assert result.capacity_above_threshold_mah_g == pytest.approx(expected, abs=0.2)
    assert result.flat_plateau_mah_g == 0.0
    assert "constant-voltage hold" in result.note


@pytest.mark.testdata("cyclers")
def test_neware_4_9_v_charge_plateau_is_measured_and_noted():
    # nw4: a rest logged as charge at 1.66 V, a CC step at ~4.87-4.90 V (1.0 mAh) and a CV
    # hold at 4.9 V (0.69 mAh), 10 mg assumed. The CC part is flat; it is not at 4.5 V.
    result = first_charge_plateau(_real("neware_fastnda_nw4-120-1-6-53.ndax"), active_mass_mg=10.0)
    assert result.capacity_above_threshold_mah_g == pytest.approx(164.8, abs=0.5)
    assert 80 < result.flat_plateau_mah_g < 101
    assert result.flat_plateau_start_v > 4.85
    assert [w["code"] for w in result.warnings] == ["plateau_voltage_unusual"]
