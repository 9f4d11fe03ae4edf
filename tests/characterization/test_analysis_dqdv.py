"""dQ/dV on synthetic half-cycles whose Q(V) has a tanh step, i.e. a sech² dQ/dV peak centred
exactly at a chosen voltage (4.4 V on charge, 3.25 V on discharge) on a 0.1 mAh/V baseline."""

import numpy as np
import pandas as pd
import pytest

from characterization.analysis.dqdv import (
    dqdv_analysis,
    dqdv_curves,
    find_dqdv_peaks,
    gaussian_smooth,
    peak_indices,
)
from characterization.analysis.errors import AnalysisError
from tests.characterization.synthetic import assemble, linear_cycling_table, peak_half_cycle


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
    return assemble(halves)


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
    result = dqdv_analysis(linear_cycling_table(1), active_mass_mg=4.0)
    charge = result.curves.loc[result.curves["direction"] == "charge"]
    assert charge["dqdv_mah_per_v"].to_numpy() == pytest.approx(0.625, rel=1e-6)
    assert charge["dqdv_mah_g_per_v"].to_numpy() == pytest.approx(156.25, rel=1e-6)
    assert result.peaks.empty
    assert result.tracks["peak_voltage_v"].isna().all()


def test_cycle_selection_limits_the_curves():
    curves = dqdv_curves(_peak_table(3), cycles=[2])
    assert set(curves["cycle"]) == {2}


def test_constant_voltage_only_data_is_refused_without_dividing_by_zero():
    table = linear_cycling_table(1)
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
