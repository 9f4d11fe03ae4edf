"""First complete cycle: capacities, efficiency and the oxygen-activation plateau length.

Formation cell: 4.00 mg active. First charge V linear in Q through the knots
(0, 3.0 V), (0.5 mAh, 4.5 V), (1.0 mAh, 4.55 V), (1.2 mAh, 4.8 V); discharge 1.0 mAh.
The charge crosses 4.45 V at Q = 0.5 × 1.45 / 1.5 = 0.48333 mAh, so the plateau is
1.2 − 0.48333 = 0.71667 mAh = 179.167 mAh/g; charge 300, discharge 250 mAh/g, efficiency 0.8333.
"""

import numpy as np
import pytest

from characterization.analysis.errors import AnalysisError
from characterization.analysis.first_cycle import charge_capacity_above_mah, first_cycle_metrics
from tests.characterization.synthetic import (
    assemble,
    linear_cycling_halves,
    linear_half_cycle,
    piecewise_half_cycle,
)

CHARGE_KNOTS = {"capacity_knots_mah": (0, 0.5, 1.0, 1.2), "voltage_knots_v": (3.0, 4.5, 4.55, 4.8)}


def _formation_halves(first_cycle=1):
    charge = piecewise_half_cycle(first_cycle, "charge", **CHARGE_KNOTS, current_ma=0.05)
    discharge = linear_half_cycle(
        first_cycle, "discharge", capacity_mah=1.0, start_v=4.5, end_v=2.0, current_ma=0.05
    )
    return [charge, discharge, *linear_cycling_halves(2, first_cycle=first_cycle + 1)]


def _formation_table(first_cycle=1):
    return assemble(_formation_halves(first_cycle))


def test_formation_cycle_gives_hand_worked_capacities_and_plateau():
    # V is linear inside the crossing segment, so the split is exact (1e-9 relative)
    first = first_cycle_metrics(_formation_table(), active_mass_mg=4.0)
    assert first.cycle == 1
    assert first.charge_capacity_mah_g == pytest.approx(300.0, rel=1e-9)
    assert first.discharge_capacity_mah_g == pytest.approx(250.0, rel=1e-9)
    assert first.first_cycle_efficiency == pytest.approx(250 / 300, rel=1e-9)
    assert first.plateau_capacity_mah_g == pytest.approx(179.1667, rel=1e-6)
    assert first.plateau_threshold_v == 4.45


def test_higher_threshold_shortens_the_plateau():
    # 4.6 V is crossed at 1.0 + 0.2 × 0.05 / 0.25 = 1.04 mAh → 0.16 mAh = 40 mAh/g
    first = first_cycle_metrics(_formation_table(), active_mass_mg=4.0, plateau_threshold_v=4.6)
    assert first.plateau_capacity_mah_g == pytest.approx(40.0, rel=1e-9)


def test_leading_partial_discharge_is_skipped():
    partial = linear_half_cycle(
        0, "discharge", capacity_mah=0.02, start_v=3.2, end_v=2.0, current_ma=0.05
    )
    table = assemble([partial, *_formation_halves()])
    first = first_cycle_metrics(table, active_mass_mg=4.0)
    assert first.cycle == 1
    assert first.charge_capacity_mah_g == pytest.approx(300.0, rel=1e-9)


def test_voltage_dipping_below_the_threshold_does_not_count():
    # segments 4.5 → 4.4 → 4.5 V, each 0.1 mAh: half of each is above 4.45 V → 0.1 mAh
    volts = np.array([4.5, 4.4, 4.5])
    capacity = np.array([0.0, 0.1, 0.2])
    assert charge_capacity_above_mah(volts, capacity, threshold_v=4.45) == pytest.approx(0.1)


def test_to_dict_gives_the_first_cycle_numbers():
    data = first_cycle_metrics(_formation_table(), active_mass_mg=4.0).to_dict()
    assert set(data) == {
        "cycle",
        "charge_capacity_mah_g",
        "discharge_capacity_mah_g",
        "first_cycle_efficiency",
        "plateau_capacity_mah_g",
        "plateau_threshold_v",
    }


def test_file_without_a_discharge_has_no_first_cycle():
    table = assemble([piecewise_half_cycle(1, "charge", **CHARGE_KNOTS, current_ma=0.05)])
    with pytest.raises(AnalysisError, match="no complete charge/discharge cycle"):
        first_cycle_metrics(table, active_mass_mg=4.0)


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"active_mass_mg": -1}, "active_mass_mg"),
        ({"plateau_threshold_v": 0}, "plateau_threshold_v"),
    ],
)
def test_bad_first_cycle_inputs_name_the_field(changes, field):
    with pytest.raises(AnalysisError) as error:
        first_cycle_metrics(_formation_table(), **{"active_mass_mg": 4.0, **changes})
    assert error.value.field == field
