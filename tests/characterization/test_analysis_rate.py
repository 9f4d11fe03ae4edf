"""Rate capability: C-rate recognised from the current, steps, and recovery at 0.1C.

Cell: 5.00 mg active, 1C = 250 mA/g → 1.25 mA; 0.1C = 0.125 mA, 10C = 12.5 mA.
"""

import pytest

from characterization.analysis.errors import AnalysisError
from characterization.analysis.rate import rate_capability, snap_c_rate
from tests.characterization.synthetic import rate_test_table

PROTOCOL_STEPS = [
    (0.05, 2, 250.0),
    (0.1, 5, 240.0),
    (0.2, 5, 225.0),
    (0.5, 5, 210.0),
    (1, 5, 190.0),
    (2, 5, 165.0),
    (5, 5, 130.0),
    (10, 5, 100.0),
    (0.1, 5, 235.0),
]


def test_protocol_steps_are_recognised_from_noisy_currents():
    # 2 % Gaussian noise on every current record; the median absorbs it
    table = rate_test_table(active_mass_mg=5.0, steps=PROTOCOL_STEPS, current_noise_fraction=0.02)
    result = rate_capability(table, active_mass_mg=5.0)
    steps = result.steps
    assert steps["rate_c"].tolist() == [0.05, 0.1, 0.2, 0.5, 1, 2, 5, 10, 0.1]
    assert steps["rate_snapped"].all()
    assert steps["n_cycles"].tolist() == [2, 5, 5, 5, 5, 5, 5, 5, 5]
    assert steps["cycles"].iloc[-1] == [38, 39, 40, 41, 42]
    expected = [capacity for _, _, capacity in PROTOCOL_STEPS]
    assert steps["mean_discharge_capacity_mah_g"].tolist() == pytest.approx(expected, rel=1e-9)


def test_recovery_compares_the_return_to_0_1c_with_the_first_0_1c_step():
    # 235 / 240 = 0.97917; the 0.05C activation is not the reference
    table = rate_test_table(active_mass_mg=5.0, steps=PROTOCOL_STEPS)
    recovery = rate_capability(table, active_mass_mg=5.0).recovery
    assert recovery is not None
    assert recovery.rate_c == 0.1
    assert (recovery.reference_step, recovery.return_step) == (2, 9)
    assert recovery.fraction == pytest.approx(235 / 240, rel=1e-9)


def test_per_cycle_rates_cover_charge_and_discharge():
    table = rate_test_table(active_mass_mg=5.0, steps=[(0.5, 1, 200.0), (2, 1, 150.0)])
    cycles = rate_capability(table, active_mass_mg=5.0).cycles
    assert cycles["charge_rate_c"].tolist() == [0.5, 2]
    assert cycles["discharge_rate_c"].tolist() == [0.5, 2]
    assert cycles["discharge_capacity_mah_g"].tolist() == pytest.approx([200, 150], rel=1e-9)


def test_rate_within_15_percent_snaps_and_beyond_is_reported_raw():
    # 1.12C snaps to 1C; 1.20C is 20 % off 1C and 40 % off 2C, so it stays 1.2 (not snapped)
    table = rate_test_table(active_mass_mg=5.0, steps=[(1.12, 2, 190.0), (1.2, 2, 180.0)])
    steps = rate_capability(table, active_mass_mg=5.0).steps
    assert steps["rate_c"].tolist() == pytest.approx([1.0, 1.2], rel=1e-9)
    assert steps["rate_snapped"].tolist() == [True, False]


def test_off_protocol_rate_forms_its_own_step():
    table = rate_test_table(
        active_mass_mg=5.0, steps=[(0.1, 2, 240.0), (0.3, 2, 220.0), (0.5, 2, 210.0)]
    )
    steps = rate_capability(table, active_mass_mg=5.0).steps
    assert steps["rate_c"].tolist() == pytest.approx([0.1, 0.3, 0.5], rel=1e-9)
    assert steps["rate_snapped"].tolist() == [True, False, True]


def test_no_return_to_an_earlier_rate_means_no_recovery():
    table = rate_test_table(active_mass_mg=5.0, steps=PROTOCOL_STEPS[:-1])
    result = rate_capability(table, active_mass_mg=5.0)
    assert result.recovery is None
    assert result.to_dict()["recovery"] is None


def test_wrong_active_mass_shifts_every_recognised_rate():
    # the same currents read with twice the mass look like half the rate
    table = rate_test_table(active_mass_mg=5.0, steps=[(1, 1, 190.0), (10, 1, 100.0)])
    steps = rate_capability(table, active_mass_mg=10.0).steps
    assert steps["rate_c"].tolist() == [0.5, 5]


def test_to_dict_gives_steps_and_recovery():
    table = rate_test_table(active_mass_mg=5.0, steps=PROTOCOL_STEPS)
    data = rate_capability(table, active_mass_mg=5.0).to_dict()
    assert set(data) == {"steps", "recovery"}
    assert data["steps"][0] == {
        "step": 1,
        "rate_c": 0.05,
        "rate_snapped": True,
        "cycles": [1, 2],
        "mean_discharge_capacity_mah_g": pytest.approx(250.0),
    }
    assert data["recovery"]["fraction"] == pytest.approx(235 / 240)


def test_snap_c_rate_picks_the_nearest_protocol_rate_relatively():
    rates, snapped = snap_c_rate([0.055, 0.16, 0.3, 9.0], tolerance=0.15)
    assert rates.tolist() == pytest.approx([0.05, 0.16, 0.3, 10.0])
    assert snapped.tolist() == [True, False, False, True]


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"active_mass_mg": 0}, "active_mass_mg"),
        ({"one_c_ma_per_g": -250}, "one_c_ma_per_g"),
        ({"tolerance": 0}, "tolerance"),
        ({"tolerance": 1.5}, "tolerance"),
        ({"protocol_rates_c": (0.1, 0)}, "protocol_rates_c[1]"),
    ],
)
def test_bad_rate_inputs_name_the_field(changes, field):
    table = rate_test_table(active_mass_mg=5.0, steps=[(1, 1, 190.0)])
    with pytest.raises(AnalysisError) as error:
        rate_capability(table, **{"active_mass_mg": 5.0, **changes})
    assert error.value.field == field


def test_the_rate_job_uses_the_cells_own_1c_unless_the_definition_sets_one():
    from characterization.analysis.kinds import run_rate_capability
    from characterization.analysis.registry import AnalysisContext

    table = rate_test_table(
        active_mass_mg=4.0, steps=[(0.2, 2, 250.0), (1.0, 2, 200.0)], one_c_ma_per_g=200.0
    )
    context = AnalysisContext(active_mass_mg=4.0, one_c_ma_per_g=200.0)
    own = run_rate_capability(table, {"one_c_ma_per_g": None, "tolerance": 0.15}, context)
    assert [s["rate_c"] for s in own.summary["steps"]] == [0.2, 1.0]
    assert (own.summary["one_c_ma_per_g"], own.summary["one_c_from"]) == (200.0, "the cell")
    chosen = run_rate_capability(table, {"one_c_ma_per_g": 250.0, "tolerance": 0.15}, context)
    assert chosen.summary["one_c_from"] == "the analysis parameter"
    lab = run_rate_capability(
        table, {"one_c_ma_per_g": None, "tolerance": 0.15}, AnalysisContext(active_mass_mg=4.0)
    )
    assert (lab.summary["one_c_ma_per_g"], lab.summary["one_c_from"]) == (250.0, "the lab default")
