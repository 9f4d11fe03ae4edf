"""dQ/dV on synthetic half-cycles whose Q(V) has a tanh step, i.e. a sech² dQ/dV peak centred
exactly at a chosen voltage (4.4 V on charge, 3.25 V on discharge) on a 0.1 mAh/V baseline."""

import json

import numpy as np
import pandas as pd
import pytest

from characterization.analysis.dqdv import (
    dqdv_analysis,
    dqdv_curves,
    find_dqdv_peaks,
    gaussian_smooth,
    peak_indices,
    track_peaks,
    track_summary,
)
from characterization.analysis.errors import AnalysisError
from tests.characterization.dqdv_synthetic import (
    cycling_table,
    peak_cycling_table,
    with_direction_columns,
)
from tests.characterization.synthetic import linear_half_cycle, peak_half_cycle


def _peak_table(n_cycles=1, *, charge_shift_v=0.0, discharge_shift_v=0.0, noise_v=0.0, cv_mah=0.0):
    halves = []
    for n in range(1, n_cycles + 1):
        k = n - 1
        charge_peak = 4.4 + charge_shift_v * k
        discharge_peak = 3.25 + discharge_shift_v * k
        halves.append(
            peak_half_cycle(
                n, "charge", peak_v=charge_peak, noise_v=noise_v, cv_hold_mah=cv_mah, seed=n
            )
        )
        halves.append(
            peak_half_cycle(n, "discharge", peak_v=discharge_peak, noise_v=noise_v, seed=100 + n)
        )
    return cycling_table(halves)


def _linear_table():
    # V linear in Q: charge 1.0 mAh over 3.0 → 4.6 V, discharge 0.9 mAh over 4.4 → 2.6 V
    return cycling_table(
        [
            linear_half_cycle(
                1, "charge", capacity_mah=1.0, start_v=3.0, end_v=4.6, current_ma=0.1
            ),
            linear_half_cycle(
                1, "discharge", capacity_mah=0.9, start_v=4.4, end_v=2.6, current_ma=0.1
            ),
        ]
    )


def test_peaks_sit_at_the_plateau_voltages():
    # clean data: the parabola-refined peak is within 1 mV of the true centre
    peaks = dqdv_analysis(_peak_table()).peaks
    charge = peaks.loc[peaks["direction"] == "charge"]
    discharge = peaks.loc[peaks["direction"] == "discharge"]
    assert charge["voltage_v"].tolist() == pytest.approx([4.4], abs=0.001)
    assert discharge["voltage_v"].tolist() == pytest.approx([3.25], abs=0.001)


def test_charge_is_positive_and_discharge_negative():
    curves = dqdv_curves(_peak_table(noise_v=0.0005))
    assert (curves.loc[curves["direction"] == "charge", "dqdv_mah_per_v"] >= 0).all()
    assert (curves.loc[curves["direction"] == "discharge", "dqdv_mah_per_v"] <= 0).all()


def test_grid_is_uniform_at_multiples_of_the_step():
    curves = dqdv_curves(_peak_table(), voltage_step_v=0.005)
    charge = curves.loc[curves["direction"] == "charge", "voltage_v"].to_numpy()
    assert np.diff(charge) == pytest.approx(0.005, abs=1e-9)
    assert charge / 0.005 == pytest.approx(np.round(charge / 0.005), abs=1e-6)
    # the grid stops one step below the top of the charge (4.7 V) to keep CV charge out
    assert charge.max() == pytest.approx(4.695, abs=1e-9)


def test_area_under_dqdv_is_the_capacity_on_the_grid():
    # charge Q(2.5 → 4.695 V) = 0.1 mAh/V × 2.195 V + 0.4 mAh step ≈ 0.6195 mAh (0.5 % tolerance)
    curves = dqdv_curves(_peak_table())
    charge = curves.loc[curves["direction"] == "charge", "dqdv_mah_per_v"].to_numpy()
    assert charge.sum() * 0.005 == pytest.approx(0.6195, rel=5e-3)


def test_noisy_voltage_and_cv_hold_give_finite_curves_and_the_same_peaks():
    # 0.5 mV voltage noise (V goes backwards), 0.1 mAh CV hold at 4.7 V (dV = 0)
    result = dqdv_analysis(_peak_table(3, noise_v=0.0005, cv_mah=0.1))
    assert np.isfinite(result.curves["dqdv_mah_per_v"]).all()
    assert (result.peaks["voltage_v"] < 4.6).all()  # no spike from the CV hold
    charge = result.tracks.loc[
        (result.tracks["target_v"] == 4.4) & (result.tracks["direction"] == "charge")
    ]
    assert charge["peak_voltage_v"].to_numpy() == pytest.approx(4.4, abs=0.003)


def test_tracking_follows_a_peak_drifting_by_3_7_mv_per_cycle():
    # discharge peak at 3.25 − 0.0037·(n − 1): shift 0, −3.7, −7.4, −11.1, −14.8 mV (±0.3 mV)
    tracks = dqdv_analysis(_peak_table(5, discharge_shift_v=-0.0037)).tracks
    mn = tracks.loc[(tracks["target_v"] == 3.25) & (tracks["direction"] == "discharge")]
    assert mn["cycle"].tolist() == [1, 2, 3, 4, 5]
    assert mn["shift_mv"].tolist() == pytest.approx([0, -3.7, -7.4, -11.1, -14.8], abs=0.3)


def test_half_cycles_without_a_peak_near_the_target_are_nan():
    tracks = dqdv_analysis(_peak_table()).tracks
    missing = tracks.loc[(tracks["target_v"] == 3.25) & (tracks["direction"] == "charge")]
    assert len(missing) == 1
    assert missing["peak_voltage_v"].isna().all()


def test_linear_voltage_profile_has_flat_dqdv_and_no_peaks():
    # V linear in Q: charge 1.0 mAh over 1.6 V → dQ/dV = 0.625 mAh/V everywhere
    result = dqdv_analysis(_linear_table(), active_mass_mg=4.0)
    charge = result.curves.loc[result.curves["direction"] == "charge"]
    assert charge["dqdv_mah_per_v"].to_numpy() == pytest.approx(0.625, rel=1e-6)
    assert charge["dqdv_mah_g_per_v"].to_numpy() == pytest.approx(156.25, rel=1e-6)
    assert result.peaks.empty
    assert result.tracks["peak_voltage_v"].isna().all()


def test_cycle_selection_limits_the_curves():
    curves = dqdv_curves(_peak_table(3), cycles=[2])
    assert set(curves["cycle"]) == {2}


def test_constant_voltage_only_data_is_refused_without_dividing_by_zero():
    table = _linear_table()
    table["voltage_v"] = 4.6
    with pytest.raises(AnalysisError, match="enough voltage") as error:
        dqdv_curves(table)
    assert error.value.field == "df"


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"voltage_step_v": 0}, "voltage_step_v"),
        ({"smoothing_sigma_v": -0.01}, "smoothing_sigma_v"),
        ({"active_mass_mg": 0}, "active_mass_mg"),
        ({"window_v": 0}, "window_v"),
        ({"follow_window_v": -0.05}, "follow_window_v"),
        ({"targets_v": (4.4, -1)}, "targets_v[1]"),
        ({"min_prominence_fraction": 1.0}, "min_prominence_fraction"),
    ],
)
def test_bad_dqdv_inputs_name_the_field(changes, field):
    with pytest.raises(AnalysisError) as error:
        dqdv_analysis(_peak_table(), **changes)
    assert error.value.field == field


def test_gaussian_smoothing_keeps_a_constant_up_to_the_edges():
    assert gaussian_smooth(np.full(10, 2.0), sigma_points=3.0) == pytest.approx(2.0, rel=1e-12)


def test_gaussian_smoothing_of_zero_width_changes_nothing():
    values = np.array([0.0, 1.0, 5.0, 1.0])
    assert gaussian_smooth(values, sigma_points=0.0).tolist() == values.tolist()


def test_flat_topped_peak_is_found_once_at_its_middle():
    y = np.array([0.0, 1.0, 3.0, 3.0, 3.0, 1.0, 0.0, 0.5, 0.0])
    found, prominence = peak_indices(y, min_prominence=1.0)
    assert found.tolist() == [3]
    assert prominence.tolist() == [3.0]


def test_small_bump_on_a_big_peak_is_dropped_by_prominence():
    curves = pd.DataFrame(
        {
            "cycle": 1,
            "direction": "charge",
            "voltage_v": np.arange(9) * 0.005 + 4.0,
            "dqdv_mah_per_v": [0.0, 1.0, 5.0, 10.0, 5.0, 4.9, 5.0, 1.0, 0.0],
        }
    )
    peaks = find_dqdv_peaks(curves, min_prominence_fraction=0.05)
    assert peaks["voltage_v"].tolist() == pytest.approx([4.015])


def _track(result, target_v, direction="discharge"):
    tracks = result.tracks
    return tracks.loc[(tracks["target_v"] == target_v) & (tracks["direction"] == direction)]


def _summary(result, target_v, direction="discharge"):
    summary = result.track_summary
    rows = summary.loc[(summary["target_v"] == target_v) & (summary["direction"] == direction)]
    assert len(rows) == 1
    return rows.iloc[0]


NI_CHARGE = [(4.4, 0.4)]  # every charge: one peak at 4.4 V
NI_DISCHARGE = (3.9, 0.3)  # a second discharge peak 650 mV above the Mn one, always there


def test_tracking_follows_a_peak_drifting_4_mv_per_cycle_for_150_cycles():
    # discharge Mn peak at 3.25 − 0.004·(n − 1) V: 2.654 V by cycle 150, 596 mV from the
    # target; a fixed ±0.15 V window around 3.25 V lost it at cycle 39 (3.098 V)
    table = peak_cycling_table(
        150,
        charge_peaks=lambda n: NI_CHARGE,
        discharge_peaks=lambda n: [(3.25 - 0.004 * (n - 1), 0.4)],
    )
    result = dqdv_analysis(table)
    mn = _track(result, 3.25)
    assert mn["cycle"].tolist() == list(range(1, 151))
    assert mn["shift_mv"].tolist() == pytest.approx([-4.0 * k for k in range(150)], abs=0.5)
    assert (mn["status"] == "found").all()
    summary = _summary(result, 3.25)
    assert summary["status"] == "tracked"
    assert summary["last_found_cycle"] == 150
    assert summary["last_shift_mv"] == pytest.approx(-596.0, abs=0.5)
    assert summary["missing_cycles"] == []
    assert pd.isna(summary["lost_at_cycle"])


def test_a_peak_that_fades_for_three_cycles_is_picked_up_again_and_the_gap_reported():
    # Mn peak at 3.25 − 0.004·(n − 1) V, absent in cycles 8–10: last found at cycle 7
    # (3.226 V), back at cycle 11 at 3.210 V, 16 mV away (inside the 50 mV follow window)
    def discharge(n):
        return [NI_DISCHARGE] + ([] if 8 <= n <= 10 else [(3.25 - 0.004 * (n - 1), 0.4)])

    table = peak_cycling_table(20, charge_peaks=lambda n: NI_CHARGE, discharge_peaks=discharge)
    result = dqdv_analysis(table)
    mn = _track(result, 3.25).set_index("cycle")
    assert mn.loc[[8, 9, 10], "peak_voltage_v"].isna().all()
    assert mn.loc[[8, 9, 10], "status"].tolist() == ["missing"] * 3
    assert mn.loc[11, "status"] == "found"
    assert mn.loc[11, "shift_mv"] == pytest.approx(-40.0, abs=0.5)
    assert mn.loc[20, "shift_mv"] == pytest.approx(-76.0, abs=0.5)
    summary = _summary(result, 3.25)
    assert summary["status"] == "tracked"
    assert summary["first_missing_cycle"] == 8
    assert summary["missing_cycles"] == [8, 9, 10]
    assert (summary["found_half_cycles"], summary["missing_half_cycles"]) == (17, 3)
    assert pd.isna(summary["lost_at_cycle"])


def test_a_peak_that_disappears_for_good_is_reported_lost_at_that_cycle():
    # Mn peak at 3.25 V in cycles 1–12, gone from cycle 13 to 20; the 3.9 V peak stays
    def discharge(n):
        return [NI_DISCHARGE] + ([(3.25, 0.4)] if n <= 12 else [])

    table = peak_cycling_table(20, charge_peaks=lambda n: NI_CHARGE, discharge_peaks=discharge)
    result = dqdv_analysis(table)
    mn = _track(result, 3.25).set_index("cycle")
    assert mn.loc[13:, "peak_voltage_v"].isna().all()
    assert (mn.loc[13:, "status"] == "missing").all()
    summary = _summary(result, 3.25)
    assert summary["status"] == "lost"
    assert summary["lost_at_cycle"] == 13
    assert summary["last_found_cycle"] == 12
    assert summary["first_missing_cycle"] == 13
    assert summary["missing_cycles"] == list(range(13, 21))
    assert summary["start_voltage_v"] == pytest.approx(3.25, abs=0.001)


def test_two_neighbouring_peaks_are_not_swapped():
    # A = 3.20 + 0.001·(n − 1) V (small), B = 3.34 − 0.001·(n − 1) V (twice as tall), closing
    # from 140 to 82 mV apart. The 3.25 V track starts on A (50 mV away; B, 90 mV away, is
    # taller but not nearer) and must stay on A; the 3.32 V track stays on B. The neighbour's
    # tail pulls each refined position by at most ~2 mV.
    def discharge(n):
        return [(3.20 + 0.001 * (n - 1), 0.3), (3.34 - 0.001 * (n - 1), 0.6)]

    table = peak_cycling_table(30, charge_peaks=lambda n: NI_CHARGE, discharge_peaks=discharge)
    result = dqdv_analysis(table, targets_v=(3.25, 3.32))
    k = np.arange(30)
    a, b = _track(result, 3.25), _track(result, 3.32)
    assert a["peak_voltage_v"].to_numpy() == pytest.approx(3.20 + 0.001 * k, abs=0.003)
    assert b["peak_voltage_v"].to_numpy() == pytest.approx(3.34 - 0.001 * k, abs=0.003)
    assert a["shift_mv"].iloc[-1] == pytest.approx(29.0, abs=3.0)
    assert b["shift_mv"].iloc[-1] == pytest.approx(-29.0, abs=3.0)


def test_each_half_cycle_takes_the_peak_nearest_the_last_one_found_within_the_window():
    # start window ±0.15 V around 3.25, then ±0.05 V around the last peak found:
    # 1: 3.25 → start; 2: 3.21 (40 mV) beats 3.30 (50 mV); 3: 3.17 (40 mV) beats 3.28 (70 mV);
    # 4: 3.10 is 70 mV from 3.17 → missing; 5: 3.13 is 40 mV from 3.17 → found again
    peaks = pd.DataFrame(
        [
            (1, "discharge", 3.25, -1.0, 1.0),
            (2, "discharge", 3.21, -1.0, 1.0),
            (2, "discharge", 3.30, -2.0, 2.0),
            (3, "discharge", 3.28, -2.0, 2.0),
            (3, "discharge", 3.17, -1.0, 1.0),
            (4, "discharge", 3.10, -1.0, 1.0),
            (5, "discharge", 3.13, -1.0, 1.0),
        ],
        columns=["cycle", "direction", "voltage_v", "dqdv_mah_per_v", "prominence_mah_per_v"],
    )
    tracks = track_peaks(peaks, targets_v=[3.25], window_v=0.15, follow_window_v=0.05)
    assert "half_cycle" not in tracks.columns
    assert tracks["cycle"].tolist() == [1, 2, 3, 4, 5]
    assert tracks["peak_voltage_v"].tolist() == pytest.approx(
        [3.25, 3.21, 3.17, np.nan, 3.13], nan_ok=True
    )
    assert tracks["shift_mv"].tolist() == pytest.approx([0, -40, -80, np.nan, -120], nan_ok=True)
    assert tracks["status"].tolist() == ["found", "found", "found", "missing", "found"]
    summary = track_summary(tracks).iloc[0]
    assert (summary["status"], summary["missing_cycles"]) == ("tracked", [4])


def test_a_target_with_no_peak_in_its_window_is_not_found():
    result = dqdv_analysis(_peak_table(2))
    rows = _track(result, 3.25, "charge")
    assert rows["status"].tolist() == ["not_started", "not_started"]
    summary = _summary(result, 3.25, "charge")
    assert summary["status"] == "not_found"
    assert pd.isna(summary["first_cycle"])
    assert (summary["found_half_cycles"], summary["missing_half_cycles"]) == (0, 0)


def test_track_summary_is_plain_json():
    summary = dqdv_analysis(_peak_table(2)).track_summary
    records = summary.astype(object).where(summary.notna(), None).to_dict(orient="records")
    decoded = json.loads(json.dumps(records))
    assert [(r["target_v"], r["direction"], r["status"]) for r in decoded] == [
        (4.4, "charge", "tracked"),
        (4.4, "discharge", "not_found"),
        (3.25, "charge", "not_found"),
        (3.25, "discharge", "tracked"),
    ]
    assert decoded[0]["first_cycle"] == 1 and decoded[0]["lost_at_cycle"] is None
    assert decoded[0]["missing_cycles"] == [] and decoded[1]["start_voltage_v"] is None


@pytest.mark.parametrize("current", ["magnitude", "reversed"])
def test_direction_column_decides_charge_and_discharge_whatever_the_current_sign(current):
    # an export recording |I| (all ≥ 0), or counting charge negative, keeps its discharges
    table = with_direction_columns(_peak_table(2))
    signed = table["current_ma"]
    table["current_ma"] = signed.abs() if current == "magnitude" else -signed
    result = dqdv_analysis(table)
    curves = result.curves
    discharge = curves.loc[curves["direction"] == "discharge"]
    assert sorted(set(discharge["cycle"])) == [1, 2]
    assert sorted(set(discharge["half_cycle"])) == [2, 4]
    assert (discharge["dqdv_mah_per_v"] <= 0).all()
    assert _track(result, 3.25)["peak_voltage_v"].to_numpy() == pytest.approx(3.25, abs=0.001)
    assert _track(result, 4.4, "charge")["peak_voltage_v"].to_numpy() == pytest.approx(
        4.4, abs=0.001
    )


def test_without_a_direction_column_the_current_sign_decides():
    # signed current: both directions, half-cycles numbered 1, 2, ... in time order
    curves = dqdv_curves(_peak_table(2))
    halves = curves[["cycle", "direction", "half_cycle"]].drop_duplicates()
    assert halves.sort_values("half_cycle").values.tolist() == [
        [1, "charge", 1],
        [1, "discharge", 2],
        [2, "charge", 3],
        [2, "discharge", 4],
    ]
    # |I| without a direction column: every record looks like charge, no discharge curve
    table = _peak_table(2)
    table["current_ma"] = table["current_ma"].abs()
    assert set(dqdv_curves(table)["direction"]) == {"charge"}


def test_half_cycle_column_separates_half_cycles_that_share_a_cycle_label():
    # a file whose cycle label never advances: half_cycle still gives four curves
    table = with_direction_columns(_peak_table(2, discharge_shift_v=-0.01))
    table["cycle"] = 1
    result = dqdv_analysis(table)
    assert result.curves.groupby(["direction", "half_cycle"]).ngroups == 4
    mn = _track(result, 3.25)
    assert mn["half_cycle"].tolist() == [2, 4]
    assert mn["shift_mv"].tolist() == pytest.approx([0.0, -10.0], abs=0.5)


def test_charge_rows_without_a_half_cycle_number_are_refused():
    table = with_direction_columns(_peak_table(1))
    table["half_cycle"] = table["half_cycle"].astype(float)
    table.loc[5, "half_cycle"] = np.nan
    with pytest.raises(AnalysisError, match="half-cycle number") as error:
        dqdv_curves(table)
    assert error.value.field == "df"
