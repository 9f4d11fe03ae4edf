"""Voltage hysteresis ΔV = E_ch/Q_ch − E_dis/Q_dis and energy efficiency E_dis/E_ch per cycle.

Synthetic tables (tests.characterization.synthetic.assemble, through the cycle model every
reader uses), 4.00 mg active:
- constant-voltage halves: charge 0.4 mAh (100 mAh/g) at 4.0 V, discharge 0.4 mAh at 3.7 V →
  E_ch = 1.6 mWh, E_dis = 1.48 mWh, ΔV = 0.3 V, EE = 1.48/1.6 = 0.925;
- linear ramps: charge 1.0 mAh 3.0 → 4.6 V (E = 1.0 × 3.8 = 3.8 mWh), discharge 0.9 mAh
  4.4 → 2.6 V (E = 0.9 × 3.5 = 3.15 mWh) → V̄ 3.8 / 3.5 V, ΔV 0.3 V, EE 3.15/3.8 = 0.828947…;
- piecewise charge (0, 3.0 V) (0.5 mAh, 4.0 V) (1.0 mAh, 4.2 V): E = 0.5·3.5 + 0.5·4.1 = 3.8
  mWh, V̄ 3.8 V.
Trapezoids are exact for V linear in Q, so 1e-9 relative covers rounding only. Real files:
the shared cyclers (REFERENCE.md), through read_cycler_file.
"""

import numpy as np
import pandas as pd
import pytest

from characterization.analysis.errors import AnalysisError
from characterization.analysis.hysteresis import (
    FROM_FILE,
    INTEGRATED,
    SEVERITY,
    SUMMARY_FIELDS,
    voltage_hysteresis,
)
from characterization.parsers.reader import read_cycler_file
from tests.characterization.synthetic import (
    assemble,
    linear_cycling_table,
    linear_half_cycle,
    piecewise_half_cycle,
)
from tests.testdata import testdata_dir

MASS_G = 0.004


def _flat(cycle, direction, volts, capacity_mah=100 * MASS_G):
    return piecewise_half_cycle(
        cycle,
        direction,
        capacity_knots_mah=(0.0, capacity_mah),
        voltage_knots_v=(volts, volts),
        current_ma=0.05,
    )


def _flat_cycles(pairs, with_energy=False):
    """One cycle per (charge V, discharge V[, discharge mAh])."""
    halves = []
    for n, pair in enumerate(pairs, 1):
        halves += [_flat(n, "charge", pair[0]), _flat(n, "discharge", *pair[1:])]
    return assemble(halves, with_energy=with_energy)


def _codes(result):
    return {w["code"]: w for w in result.warnings}


@pytest.mark.parametrize("with_energy", [False, True])
def test_constant_voltage_halves_give_0_3_v_and_0_925(with_energy):
    result = voltage_hysteresis(_flat_cycles([(4.0, 3.7)], with_energy=with_energy))
    row = result.cycles[0]
    assert row.cycle == 1
    assert row.mean_charge_v == pytest.approx(4.0, rel=1e-12)
    assert row.mean_discharge_v == pytest.approx(3.7, rel=1e-12)
    assert row.hysteresis_v == pytest.approx(0.3, rel=1e-9)
    assert row.energy_efficiency == pytest.approx(0.925, rel=1e-12)
    assert row.energy_source == (FROM_FILE if with_energy else INTEGRATED)
    assert result.energy_source == row.energy_source
    assert result.warnings == ()


@pytest.mark.parametrize("with_energy", [False, True])
def test_linear_ramps_give_the_hand_integrated_means(with_energy):
    result = voltage_hysteresis(linear_cycling_table(2, with_energy=with_energy))
    for row in result.cycles:
        assert row.mean_charge_v == pytest.approx(3.8, rel=1e-9)
        assert row.mean_discharge_v == pytest.approx(3.5, rel=1e-9)
        assert row.hysteresis_v == pytest.approx(0.3, rel=1e-9)
        assert row.energy_efficiency == pytest.approx(3.15 / 3.8, rel=1e-9)


def test_piecewise_charge_is_integrated_segment_by_segment():
    charge = piecewise_half_cycle(
        1,
        "charge",
        capacity_knots_mah=(0.0, 0.5, 1.0),
        voltage_knots_v=(3.0, 4.0, 4.2),
        current_ma=0.1,
    )
    discharge = linear_half_cycle(
        1, "discharge", capacity_mah=0.9, start_v=4.4, end_v=2.6, current_ma=0.1
    )
    row = voltage_hysteresis(assemble([charge, discharge])).cycles[0]
    assert row.mean_charge_v == pytest.approx(3.8, rel=1e-9)
    assert row.hysteresis_v == pytest.approx(0.3, rel=1e-9)


def test_file_energy_counters_are_used_when_the_file_has_them():
    table = linear_cycling_table(1, with_energy=True)
    table["charge_energy_mwh"] *= 1.01  # the counters, not ∫V dQ, decide: V̄_ch 3.838 V
    row = voltage_hysteresis(table).cycles[0]
    assert row.mean_charge_v == pytest.approx(3.838, rel=1e-9)
    assert row.energy_efficiency == pytest.approx(3.15 / 3.838, rel=1e-9)
    assert row.energy_source == FROM_FILE


def test_a_cycle_whose_energy_counters_are_missing_gets_no_figures_and_a_note():
    table = linear_cycling_table(3, with_energy=True)
    table.loc[table["cycle"] == 2, "discharge_energy_mwh"] = np.nan
    result = voltage_hysteresis(table)
    second = result.cycles[1]
    assert second.as_summary() == {
        "cycle": 2,
        "mean_charge_v": None,
        "mean_discharge_v": None,
        "hysteresis_v": None,
        "energy_efficiency": None,
    }
    assert second.energy_source is None
    assert "not for this cycle's discharge" in second.note
    assert [r.hysteresis_v is not None for r in result.cycles] == [True, False, True]
    missing = _codes(result)["energy_missing"]
    assert (missing["cycles"], missing["severity"]) == ([2], "note")


def test_a_file_with_zero_energy_columns_is_integrated():
    table = linear_cycling_table(1, with_energy=True)
    table[["charge_energy_mwh", "discharge_energy_mwh"]] = 0.0
    row = voltage_hysteresis(table).cycles[0]
    assert row.energy_source == INTEGRATED
    assert row.mean_charge_v == pytest.approx(3.8, rel=1e-9)


def test_a_file_with_energy_in_one_direction_only_is_integrated_for_both():
    # one basis for both halves: the discharge counter alone cannot make an efficiency
    table = linear_cycling_table(1, with_energy=True)
    table["charge_energy_mwh"] = np.nan
    table["discharge_energy_mwh"] *= 2
    row = voltage_hysteresis(table).cycles[0]
    assert (row.energy_source, row.mean_discharge_v) == (INTEGRATED, pytest.approx(3.5))


def test_a_cycle_with_missing_voltages_gets_no_figures_and_a_note():
    table = linear_cycling_table(2)
    table.loc[(table["cycle"] == 2) & (table["direction"] == "discharge"), "voltage_v"] = np.nan
    rows = voltage_hysteresis(table).cycles
    assert rows[0].hysteresis_v == pytest.approx(0.3, rel=1e-9)
    assert rows[1].hysteresis_v is None
    assert "∫V dQ over its discharge is not a positive number" in rows[1].note


def test_incomplete_cycles_get_no_figures_and_say_why():
    partial = linear_half_cycle(
        0, "discharge", capacity_mah=0.05, start_v=3.2, end_v=2.0, current_ma=0.1
    )
    last_charge = _flat(2, "charge", 4.0)
    table = assemble([partial, _flat(1, "charge", 4.0), _flat(1, "discharge", 3.7), last_charge])
    rows = {row.cycle: row for row in voltage_hysteresis(table).cycles}
    assert sorted(rows) == [0, 1, 2]
    assert rows[0].hysteresis_v is None and "leading partial discharge" in rows[0].note
    assert rows[1].hysteresis_v == pytest.approx(0.3, rel=1e-9) and rows[1].note == ""
    assert rows[2].energy_efficiency is None and "no discharge after its charge" in rows[2].note


def test_anode_half_cell_pairs_the_lithiation_with_the_delithiation_after_it():
    # discharge (lithiation) at 0.10 V, then charge (delithiation) at 0.25 V, twice:
    # ΔV = 0.25 − 0.10 = 0.15 V; EE = energy out / in = 0.10/0.25 = 0.4 (either role)
    halves = []
    for n in (1, 2):
        halves += [_flat(n, "discharge", 0.10), _flat(n, "charge", 0.25)]
    table = assemble(halves)
    anode = voltage_hysteresis(table, electrode="anode")
    assert anode.electrode == "anode"
    assert [r.cycle for r in anode.cycles] == [1, 2]
    for row in anode.cycles:
        assert row.hysteresis_v == pytest.approx(0.15, rel=1e-9)
        assert row.energy_efficiency == pytest.approx(0.4, rel=1e-9)
    # paired as a cathode the leading discharge is cycle 0 and the last charge is left alone
    cathode = voltage_hysteresis(table)
    assert [r.hysteresis_v is not None for r in cathode.cycles] == [False, True, False]


def test_more_energy_out_than_in_is_flagged():
    # discharge 0.5 mAh at 3.7 V after a 0.4 mAh charge at 4.0 V: EE = 1.85/1.6 = 1.15625
    result = voltage_hysteresis(_flat_cycles([(4.0, 3.7), (4.0, 3.7, 0.5)]))
    assert result.cycles[1].energy_efficiency == pytest.approx(1.15625, rel=1e-9)
    flag = _codes(result)["energy_efficiency_above_one"]
    assert (flag["cycles"], flag["severity"]) == ([2], "flag")


@pytest.mark.parametrize(("charge_v", "discharge_v"), [(3.7, 4.0), (4.6, 2.5)])
def test_hysteresis_below_zero_or_above_two_volts_is_flagged(charge_v, discharge_v):
    result = voltage_hysteresis(_flat_cycles([(4.0, 3.7), (charge_v, discharge_v)]))
    flag = _codes(result)["hysteresis_out_of_range"]
    assert (flag["cycles"], flag["severity"]) == ([2], "flag")


def test_energy_counters_disagreeing_with_the_voltages_are_flagged():
    # energy in Wh read as mWh: mean voltages of 0.0038 V on a 3.0–4.6 V charge
    table = linear_cycling_table(2, with_energy=True)
    table.loc[table["cycle"] == 2, ["charge_energy_mwh", "discharge_energy_mwh"]] /= 1000
    flag = _codes(voltage_hysteresis(table))["mean_voltage_outside_half"]
    assert (flag["cycles"], flag["severity"]) == ([2], "flag")


def test_summary_has_exactly_the_agreed_keys_and_series_one_entry_per_cycle():
    result = voltage_hysteresis(linear_cycling_table(3))
    summary = result.as_summary()
    assert list(summary) == ["hysteresis"]
    assert [list(row) for row in summary["hysteresis"]] == [list(SUMMARY_FIELDS)] * 3
    assert summary["hysteresis"][0]["hysteresis_v"] == pytest.approx(0.3, rel=1e-9)
    assert {len(values) for values in result.series.values()} == {3}
    assert result.series["energy_source"] == [INTEGRATED] * 3
    assert result.version == "1"
    assert set(SEVERITY.values()) <= {"flag", "note"}


@pytest.mark.parametrize(
    ("make", "field", "message"),
    [
        (lambda t: t.to_dict(), "df", "expected a normalised cycling table"),
        (lambda t: t.drop(columns="charge_energy_mwh"), "df", "no column(s) charge_energy"),
        (lambda t: t.iloc[0:0], "df", "no data rows"),
        (lambda t: t.assign(cycle=np.where(t.index == 3, np.nan, t["cycle"])), "df", "no cycle"),
    ],
)
def test_a_table_that_is_not_usable_names_the_problem(make, field, message):
    with pytest.raises(AnalysisError, match=message.replace("(", r"\(").replace(")", r"\)")) as e:
        voltage_hysteresis(make(linear_cycling_table(1)))
    assert e.value.field == field


def test_an_unknown_electrode_role_names_the_field():
    with pytest.raises(AnalysisError) as error:
        voltage_hysteresis(linear_cycling_table(1), electrode="positive")
    assert error.value.field == "electrode"


# --- real files (shared cyclers) ----------------------------------------------------------


def _real(name: str) -> pd.DataFrame:
    return read_cycler_file(testdata_dir("cyclers") / name).table


def _trapezoid_mean_v(table: pd.DataFrame, cycle: int, direction: str) -> float:
    rows = table[(table["cycle"] == cycle) & (table["direction"] == direction)]
    q = rows[f"{direction}_capacity_mah"].to_numpy(dtype=float)
    return float(np.trapezoid(rows["voltage_v"].to_numpy(dtype=float), q) / q.max())


@pytest.mark.testdata("cyclers")
def test_biologic_file_without_energy_is_integrated_like_an_independent_trapezoid():
    # 4p6V .mpr has no energy column; REFERENCE.md c1: 1.94221 / 1.66638 mAh. V̄ from
    # np.trapezoid over each half's own records (Q from ~1e-8 mAh, not 0: 1e-6 relative)
    table = _real("biologic_yadg_gcpl_4p6V.mpr")
    result = voltage_hysteresis(table)
    assert result.energy_source == INTEGRATED
    assert len(result.cycles) == 12
    first = result.cycles[0]
    assert first.mean_charge_v == pytest.approx(_trapezoid_mean_v(table, 1, "charge"), rel=1e-6)
    assert first.mean_discharge_v == pytest.approx(
        _trapezoid_mean_v(table, 1, "discharge"), rel=1e-6
    )
    assert first.mean_charge_v == pytest.approx(3.7135, abs=1e-4)
    assert first.hysteresis_v == pytest.approx(0.0331, abs=1e-4)
    assert first.energy_efficiency == pytest.approx(0.8503, abs=1e-4)
    # the 2.5–4.6 V cycles at ~10x the current: ΔV rises to ~0.19 V
    assert result.cycles[3].hysteresis_v == pytest.approx(0.1856, abs=1e-4)
    last = result.cycles[-1]
    assert last.cycle == 12 and last.hysteresis_v is None and "incomplete" in last.note
    assert result.warnings == ()


@pytest.mark.testdata("cyclers")
def test_arbin_energy_counters_agree_with_the_integrated_voltage_within_one_percent():
    # the counter integrates V·I between sparse records: ∫V dQ of the records is 0.66 % low
    table = _real("arbin_navani_example.res")
    result = voltage_hysteresis(table)
    assert result.energy_source == FROM_FILE
    first = result.cycles[0]
    assert first.mean_charge_v == pytest.approx(1.941041498782 / 0.483514940818, rel=1e-9)
    for direction, value in (
        ("charge", first.mean_charge_v),
        ("discharge", first.mean_discharge_v),
    ):
        assert value == pytest.approx(_trapezoid_mean_v(table, 1, direction), rel=0.01)
    assert [r.energy_efficiency for r in result.cycles] == pytest.approx(
        [0.9723, 0.9840, 0.9844, 0.9842], abs=1e-4
    )


@pytest.mark.testdata("cyclers")
def test_neware_anode_half_cell_pairs_discharge_first():
    # REFERENCE.md (cellpy, instrument cycles): c1 charge 4.24934 / discharge 5.08628 mAh; the
    # file's energies for those halves: 1.73322 / 0.86494 mWh
    result = voltage_hysteresis(_real("neware_btsda_export_uio.csv"), electrode="anode")
    first = result.cycles[0]
    assert first.cycle == 1
    assert first.mean_charge_v == pytest.approx(1.73322 / 4.24934, rel=1e-4)
    assert first.mean_discharge_v == pytest.approx(0.86494 / 5.08628, rel=1e-4)
    assert first.energy_efficiency == pytest.approx(0.86494 / 1.73322, rel=1e-4)
    assert result.cycles[-1].hysteresis_v is None  # the file ends during a delithiation


@pytest.mark.testdata("cyclers")
def test_maccor_cell_that_started_charged_is_flagged_for_energy_efficiency():
    # BEEP c0: 3852.9 / 4762.61 mAh (CE 1.236): more out than in, EE 17424/15011 = 1.161
    result = voltage_hysteresis(_real("maccor_beep_PreDiag_000229_truncated.034"))
    assert result.cycles[0].energy_efficiency == pytest.approx(1.1608, abs=1e-4)
    assert _codes(result)["energy_efficiency_above_one"]["cycles"] == [1]
    assert "the file ends during its discharge" in result.cycles[1].note
