"""Per-cycle summary on synthetic constant-current tables with hand-worked answers.

Reference cell: 4.00 mg active; charge 1.0 mAh with V linear 3.0 → 4.6 V; discharge 0.9 mAh
with V linear 4.4 → 2.6 V. So 250 / 225 mAh/g, CE 0.9, E_ch = 1.0 × 3.8 = 3.8 mWh
(950 mWh/g), E_dis = 0.9 × 3.5 = 3.15 mWh (787.5 mWh/g), mean discharge voltage 3.5 V.
"""

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from characterization.analysis.cycling import SUMMARY_COLUMNS, cycle_summary
from characterization.analysis.errors import AnalysisError
from tests.characterization.synthetic import (
    assemble,
    linear_cycling_halves,
    linear_cycling_table,
    linear_half_cycle,
    piecewise_half_cycle,
)

HAND_WORKED = {
    "charge_capacity_mah": 1.0,
    "discharge_capacity_mah": 0.9,
    "charge_capacity_mah_g": 250.0,
    "discharge_capacity_mah_g": 225.0,
    "coulombic_efficiency": 0.9,
    "retention": 1.0,
    "charge_energy_mwh": 3.8,
    "discharge_energy_mwh": 3.15,
    "charge_energy_mwh_g": 950.0,
    "discharge_energy_mwh_g": 787.5,
    "mean_discharge_voltage_v": 3.5,
}


def _row(summary: pd.DataFrame, cycle: int) -> dict:
    return summary.loc[summary["cycle"] == cycle].iloc[0].to_dict()


@pytest.mark.parametrize("with_energy", [False, True])
def test_linear_cycle_gives_hand_worked_capacities_energies_and_mean_voltage(with_energy):
    # trapezoids are exact for V linear in Q, so 1e-9 relative covers rounding only
    summary = cycle_summary(linear_cycling_table(1, with_energy=with_energy), active_mass_mg=4.0)
    assert list(summary.columns) == list(SUMMARY_COLUMNS)
    row = _row(summary, 1)
    assert row["complete"]
    assert {key: row[key] for key in HAND_WORKED} == pytest.approx(HAND_WORKED, rel=1e-9)


def test_energy_comes_from_the_file_columns_when_present():
    table = linear_cycling_table(1, with_energy=True)
    table[["charge_energy_mwh", "discharge_energy_mwh"]] *= 2
    row = _row(cycle_summary(table, active_mass_mg=4.0), 1)
    assert row["discharge_energy_mwh"] == pytest.approx(6.3, rel=1e-9)
    assert row["mean_discharge_voltage_v"] == pytest.approx(7.0, rel=1e-9)


def test_cycles_without_file_energy_fall_back_to_integrating_v_dq():
    table = linear_cycling_table(2, with_energy=True)
    table[["charge_energy_mwh", "discharge_energy_mwh"]] *= 2
    cycle_2 = table["cycle"] == 2
    table.loc[cycle_2, ["charge_energy_mwh", "discharge_energy_mwh"]] = np.nan
    summary = cycle_summary(table, active_mass_mg=4.0)
    assert summary["discharge_energy_mwh"].tolist() == pytest.approx([6.3, 3.15], rel=1e-9)


def test_cc_cv_charge_counts_the_constant_voltage_capacity_and_energy():
    # CC 1.0 mAh from 3.0 to 4.6 V (3.8 mWh), then CV at 4.6 V for 0.1 mAh (0.46 mWh)
    charge = piecewise_half_cycle(
        1,
        "charge",
        capacity_knots_mah=(0.0, 1.0, 1.1),
        voltage_knots_v=(3.0, 4.6, 4.6),
        current_ma=0.1,
        points=221,
    )
    discharge = linear_half_cycle(
        1, "discharge", capacity_mah=0.9, start_v=4.4, end_v=2.6, current_ma=0.1
    )
    row = _row(cycle_summary(assemble([charge, discharge]), active_mass_mg=4.0), 1)
    assert row["charge_capacity_mah"] == pytest.approx(1.1, rel=1e-12)
    assert row["charge_energy_mwh"] == pytest.approx(4.26, rel=1e-9)
    assert row["coulombic_efficiency"] == pytest.approx(0.9 / 1.1, rel=1e-12)


def test_retention_is_relative_to_the_first_complete_cycle_by_default():
    # discharge 0.90, 0.88, 0.86 mAh → retention 1, 0.97778, 0.95556
    table = linear_cycling_table(3, discharge_capacity_loss_mah_per_cycle=0.02)
    summary = cycle_summary(table, active_mass_mg=4.0)
    assert summary["retention"].tolist() == pytest.approx([1.0, 0.88 / 0.9, 0.86 / 0.9], rel=1e-9)


def test_retention_against_a_chosen_reference_cycle():
    table = linear_cycling_table(3, discharge_capacity_loss_mah_per_cycle=0.02)
    summary = cycle_summary(table, active_mass_mg=4.0, reference_cycle=2)
    assert summary["retention"].tolist() == pytest.approx([0.9 / 0.88, 1.0, 0.86 / 0.88], rel=1e-9)


def test_leading_partial_discharge_is_cycle_0_with_no_efficiency_and_not_the_reference():
    partial = linear_half_cycle(
        0, "discharge", capacity_mah=0.05, start_v=3.3, end_v=2.6, current_ma=0.1
    )
    cycles = linear_cycling_halves(2, discharge_capacity_loss_mah_per_cycle=0.09)
    table = assemble([partial, *cycles])
    summary = cycle_summary(table, active_mass_mg=4.0)
    assert summary["cycle"].tolist() == [0, 1, 2]
    assert summary["complete"].tolist() == [False, True, True]
    assert np.isnan(summary["coulombic_efficiency"].iloc[0])
    assert summary["retention"].tolist() == pytest.approx([0.05 / 0.9, 1.0, 0.9], rel=1e-9)
    assert summary["mean_discharge_voltage_v"].iloc[0] == pytest.approx(2.95, rel=1e-9)


def test_cycle_with_charge_only_is_incomplete_with_no_efficiency_and_no_mean_voltage():
    halves = [
        linear_half_cycle(1, "charge", capacity_mah=1.0, start_v=3.0, end_v=4.6, current_ma=0.1),
        linear_half_cycle(1, "discharge", capacity_mah=0.9, start_v=4.4, end_v=2.6, current_ma=0.1),
        linear_half_cycle(2, "charge", capacity_mah=1.0, start_v=3.0, end_v=4.6, current_ma=0.1),
    ]
    summary = cycle_summary(assemble(halves), active_mass_mg=4.0)
    last = _row(summary, 2)
    assert not last["complete"]
    assert last["incomplete_reason"] == "no discharge after its charge"
    assert np.isnan(last["coulombic_efficiency"])  # an incomplete cycle has no efficiency
    assert np.isnan(last["mean_discharge_voltage_v"])


def test_final_sliver_of_a_discharge_does_not_make_a_complete_cycle():
    # a test stopped one record into the last discharge (4.39 V; cycle 1's ended at 2.6 V)
    halves = [
        linear_half_cycle(1, "charge", capacity_mah=1.0, start_v=3.0, end_v=4.6, current_ma=0.1),
        linear_half_cycle(1, "discharge", capacity_mah=0.9, start_v=4.4, end_v=2.6, current_ma=0.1),
        linear_half_cycle(2, "charge", capacity_mah=1.0, start_v=3.0, end_v=4.6, current_ma=0.1),
        linear_half_cycle(
            2, "discharge", capacity_mah=0.005, start_v=4.4, end_v=4.39, current_ma=0.1, points=2
        ),
    ]
    table = assemble(halves).iloc[:-2]  # the file ends in the discharge, not in a rest after
    summary = cycle_summary(table, active_mass_mg=4.0)
    assert summary["complete"].tolist() == [True, False]
    assert "ends during its discharge at 4.390 V" in summary["incomplete_reason"].iloc[1]


def test_missing_capacity_values_count_as_zero_not_as_errors():
    table = linear_cycling_table(1)
    table.loc[table.index[:5], "charge_capacity_mah"] = np.nan
    row = _row(cycle_summary(table, active_mass_mg=4.0), 1)
    assert row["charge_capacity_mah"] == pytest.approx(1.0)


@pytest.mark.parametrize("mass", [0, -4.0, float("nan")])
def test_non_positive_active_mass_is_refused(mass):
    with pytest.raises(AnalysisError) as error:
        cycle_summary(linear_cycling_table(1), active_mass_mg=mass)
    assert error.value.field == "active_mass_mg"


def test_active_mass_message_reads_plainly():
    with pytest.raises(AnalysisError, match="active mass must be > 0 mg"):
        cycle_summary(linear_cycling_table(1), active_mass_mg=0)


def test_empty_table_is_refused():
    with pytest.raises(AnalysisError, match="no data rows") as error:
        cycle_summary(linear_cycling_table(1).iloc[0:0], active_mass_mg=4.0)
    assert error.value.field == "df"


def test_file_with_only_a_charge_has_no_complete_cycle():
    table = assemble(
        [linear_half_cycle(1, "charge", capacity_mah=1.0, start_v=3.0, end_v=4.6, current_ma=0.1)]
    )
    with pytest.raises(AnalysisError, match="the file has no complete charge/discharge cycle"):
        cycle_summary(table, active_mass_mg=4.0)


def test_table_missing_a_column_names_it():
    with pytest.raises(AnalysisError, match="voltage_v"):
        cycle_summary(linear_cycling_table(1).drop(columns="voltage_v"), active_mass_mg=4.0)


def test_unknown_reference_cycle_is_refused():
    with pytest.raises(AnalysisError) as error:
        cycle_summary(linear_cycling_table(2), active_mass_mg=4.0, reference_cycle=7)
    assert error.value.field == "reference_cycle"


def test_summary_of_a_million_rows_is_vectorised_and_exact():
    # 250 cycles × 2 × 2000 records ≈ 1.0 million rows; exact hand-worked answers on every cycle
    table = linear_cycling_table(250, points=2000)
    assert len(table) > 1_000_000
    summary = cycle_summary(table, active_mass_mg=4.0)
    assert len(summary) == 250
    assert summary["mean_discharge_voltage_v"].to_numpy() == pytest.approx(3.5, rel=1e-9)
    assert summary["discharge_energy_mwh_g"].to_numpy() == pytest.approx(787.5, rel=1e-9)


@settings(max_examples=40, deadline=None)
@given(
    st.lists(
        st.tuples(st.floats(0.01, 5.0), st.floats(0.01, 1.0)),
        min_size=1,
        max_size=5,
    )
)
def test_efficiency_never_exceeds_one_when_discharge_is_at_most_charge(cycles):
    halves = []
    for number, (charge_mah, fraction) in enumerate(cycles, start=1):
        halves.append(
            linear_half_cycle(
                number,
                "charge",
                capacity_mah=charge_mah,
                start_v=3,
                end_v=4.6,
                current_ma=1,
                points=5,
            )
        )
        halves.append(
            linear_half_cycle(
                number,
                "discharge",
                capacity_mah=charge_mah * fraction,
                start_v=4.4,
                end_v=2.6,
                current_ma=1,
                points=5,
            )
        )
    summary = cycle_summary(assemble(halves), active_mass_mg=5.0)
    efficiency = summary["coulombic_efficiency"].to_numpy()
    assert np.all(efficiency <= 1.0 + 1e-12)
    assert np.all(efficiency > 0)
    assert summary["mean_discharge_voltage_v"].to_numpy() == pytest.approx(3.5, rel=1e-9)
