"""Voltage fade: endpoint (first − last)/(last_cycle − first_cycle) and fitted slope, in mV/cycle,
positive when the mean discharge voltage falls."""

import pandas as pd
import pytest

from characterization.analysis.cycling import cycle_summary
from characterization.analysis.errors import AnalysisError
from characterization.analysis.fade import voltage_fade
from tests.characterization.synthetic import linear_cycling_table


def _summary(cycles, volts):
    return pd.DataFrame(
        {
            "cycle": cycles,
            "complete": True,
            "charge_capacity_mah": 1.0,
            "discharge_capacity_mah": 0.9,
            "mean_discharge_voltage_v": volts,
        }
    )


def test_fifty_cycles_with_0_5_mv_per_cycle_fade_give_0_5_both_ways():
    # discharge 4.4 → 2.6 V shifted by −0.5 mV per cycle: V̄ = 3.5 − 0.0005·(n − 1);
    # cycle 50: 3.4755 V; endpoint (3.5 − 3.4755)/49 = 0.5 mV/cycle; slope −0.5 mV/cycle
    table = linear_cycling_table(50, discharge_shift_v_per_cycle=0.0005, points=51)
    fade = voltage_fade(cycle_summary(table, active_mass_mg=4.0))
    assert (fade.first_cycle, fade.last_cycle) == (1, 50)
    assert fade.first_voltage_v == pytest.approx(3.5, abs=1e-9)
    assert fade.last_voltage_v == pytest.approx(3.4755, abs=1e-9)
    assert fade.fade_mv_per_cycle == pytest.approx(0.5, abs=1e-6)
    assert fade.fitted_fade_mv_per_cycle == pytest.approx(0.5, abs=1e-6)
    assert fade.fit_intercept_v == pytest.approx(3.5005, abs=1e-9)
    assert len(fade.mean_discharge_voltage_v) == 50


def test_endpoint_fade_divides_by_the_cycles_between_first_and_last():
    # cycles 1 and 11: a 10 mV drop over 11 − 1 = 10 cycles is 1.0 mV/cycle
    fade = voltage_fade(_summary([1, 11], [3.50, 3.49]))
    assert fade.fade_mv_per_cycle == pytest.approx(1.0, abs=1e-9)


def test_rising_voltage_gives_negative_fade():
    fade = voltage_fade(_summary([1, 2, 3], [3.50, 3.51, 3.52]))
    assert fade.fade_mv_per_cycle == pytest.approx(-10.0, abs=1e-9)
    assert fade.fitted_fade_mv_per_cycle == pytest.approx(-10.0, abs=1e-9)


def test_fitted_fade_uses_every_cycle_while_endpoint_uses_two():
    # V̄ = 3.50, 3.40, 3.45, 3.49 at cycles 1–4: endpoint 10 mV / 3 = 3.333 mV/cycle;
    # least squares: Σ(n − 2.5)·V̄ = 0.010 V, Σ(n − 2.5)² = 5 → slope +2 mV/cycle → fade −2
    fade = voltage_fade(_summary([1, 2, 3, 4], [3.50, 3.40, 3.45, 3.49]))
    assert fade.fade_mv_per_cycle == pytest.approx(10.0 / 3, abs=1e-9)
    assert fade.fitted_fade_mv_per_cycle == pytest.approx(-2.0, abs=1e-9)


def test_incomplete_cycles_are_left_out():
    summary = _summary([0, 1, 2], [3.0, 3.50, 3.49])
    summary.loc[0, "complete"] = False
    fade = voltage_fade(summary)
    assert fade.cycles == [1, 2]
    assert fade.fade_mv_per_cycle == pytest.approx(10.0, abs=1e-9)


def test_cycle_range_can_skip_formation():
    fade = voltage_fade(_summary([1, 2, 3, 4], [3.70, 3.50, 3.49, 3.48]), first_cycle=2)
    assert fade.first_cycle == 2
    assert fade.fade_mv_per_cycle == pytest.approx(10.0, abs=1e-9)


def test_to_dict_lists_voltages_per_cycle():
    data = voltage_fade(_summary([1, 2], [3.5, 3.4])).to_dict()
    assert data["cycles"] == [1, 2]
    assert data["mean_discharge_voltage_v"] == pytest.approx([3.5, 3.4])
    assert data["fade_mv_per_cycle"] == pytest.approx(100.0)


def test_one_complete_cycle_is_not_enough():
    with pytest.raises(AnalysisError, match="at least 2 complete cycles") as error:
        voltage_fade(_summary([1], [3.5]))
    assert error.value.field == "summary"


def test_fade_follows_the_summarys_completeness_not_its_own_rule():
    # Both capacities are > 0 in cycle 3, but the summary says it is incomplete (a discharge
    # cut short by the end of the file): the old rule of its own took it as the end point.
    summary = _summary([1, 2, 3], [3.50, 3.49, 4.18])
    summary.loc[2, "complete"] = False
    fade = voltage_fade(summary)
    assert fade.last_cycle == 2
    assert fade.fade_mv_per_cycle == pytest.approx(10.0, abs=1e-9)


def test_default_window_leaves_out_formation_cycles_at_another_rate_and_names_them():
    # cycles 1-2 at 0.1 mA (formation), 3-8 at 1.0 mA losing 1 mV per cycle
    summary = _summary(list(range(1, 9)), [3.70, 3.69, 3.50, 3.499, 3.498, 3.497, 3.496, 3.495])
    summary["charge_current_ma"] = [0.1, 0.1, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0]
    summary["discharge_current_ma"] = summary["charge_current_ma"]
    fade = voltage_fade(summary)
    assert fade.formation_cycles == [1, 2]
    assert (fade.first_cycle, fade.last_cycle, fade.window) == (3, 8, "default")
    assert fade.fade_mv_per_cycle == pytest.approx(1.0, abs=1e-9)
    # a chosen window is taken as given (formation included when asked for)
    chosen = voltage_fade(summary, first_cycle=1, last_cycle=8)
    assert chosen.window == "chosen" and chosen.formation_cycles == []
    assert chosen.fade_mv_per_cycle == pytest.approx(1000 * (3.70 - 3.495) / 7, abs=1e-9)


def test_formation_at_a_narrower_voltage_window_is_recognised():
    summary = _summary(list(range(1, 7)), [3.60, 3.60, 3.50, 3.49, 3.48, 3.47])
    summary["charge_end_v"] = [4.2, 4.2, 4.6, 4.6, 4.6, 4.6]
    assert voltage_fade(summary).formation_cycles == [1, 2]


def test_the_sign_convention_is_stated_in_the_result():
    data = voltage_fade(_summary([1, 2], [3.5, 3.4])).to_dict()
    assert data["sign"] == "positive = the mean discharge voltage falls with cycling"


def test_summary_without_mean_voltage_is_refused():
    with pytest.raises(AnalysisError, match="mean_discharge_voltage_v"):
        voltage_fade(_summary([1, 2], [3.5, 3.4]).drop(columns="mean_discharge_voltage_v"))
