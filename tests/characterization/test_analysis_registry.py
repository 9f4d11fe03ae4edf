"""Registered analysis kinds: parameter validation and outputs (summary, tables, figures)."""

from __future__ import annotations

import json

import pytest

from characterization.analysis.errors import AnalysisError
from characterization.analysis.registry import AnalysisContext, get_kind, kinds
from tests.characterization.synthetic import linear_cycling_table, rate_test_table


def run(key: str, table, active_mass_mg: float | None = 4.0, **params):
    kind = get_kind(key) if key in kinds() else None
    assert kind is not None
    return kind.run(table, kind.clean_parameters(params), AnalysisContext(active_mass_mg))


def test_every_shipped_kind_is_registered_with_a_version():
    assert set(kinds()) == {"cycling_summary", "voltage_fade", "rate_capability", "dqdv",
                            "first_cycle", "voltage_hysteresis", "first_charge_plateau",
                            "eis_fit", "pitt_diffusion", "gas_evolution", "dsc_peaks",
                            "xrd_reflections"}  # fmt: skip
    assert all(k.version >= 1 for k in kinds().values())


def test_parameters_take_defaults_and_are_checked_with_the_field_named():
    kind = kinds()["dqdv"]
    assert kind.clean_parameters({})["targets_v"] == [4.4, 3.25]
    assert kind.clean_parameters({"targets_v": "4.5, 3.0"})["targets_v"] == [4.5, 3.0]
    with pytest.raises(AnalysisError) as excinfo:
        kind.clean_parameters({"voltage_step_v": 0})
    assert excinfo.value.field == "parameters.voltage_step_v"
    with pytest.raises(AnalysisError, match="no parameter 'smoothing'"):
        kind.clean_parameters({"smoothing": 3})
    with pytest.raises(AnalysisError, match="whole number"):
        kinds()["cycling_summary"].clean_parameters({"reference_cycle": 1.5})


def test_cycling_summary_output_is_json_and_plots_capacity_per_cycle():
    # 1.0 mAh charge, 0.9 mAh discharge per cycle on 4 mg: 250 / 225 mAh/g, CE 0.9
    output = run("cycling_summary", linear_cycling_table(3))
    json.dumps(output.summary)  # must be storable as JSON
    first = output.summary["cycles"][0]
    assert first["discharge_capacity_mah_g"] == pytest.approx(225.0, rel=1e-9)
    assert first["coulombic_efficiency"] == pytest.approx(0.9, rel=1e-9)
    figure = output.figures["capacity"]
    assert figure["data"][1]["y"] == pytest.approx([225.0] * 3)
    assert list(output.tables["cycle_summary"]["cycle"]) == [1, 2, 3]


def test_voltage_fade_reports_the_known_fade_of_a_synthetic_file():
    table = linear_cycling_table(20, discharge_shift_v_per_cycle=0.0005)  # V falls 0.5 mV per cycle
    summary = run("voltage_fade", table).summary
    assert summary["fade_mv_per_cycle"] == pytest.approx(0.5, rel=1e-6)
    assert summary["fitted_fade_mv_per_cycle"] == pytest.approx(0.5, rel=1e-6)


def test_rate_capability_labels_each_step_with_its_rate():
    table = rate_test_table(
        active_mass_mg=4.0, steps=[(0.1, 2, 240.0), (1, 2, 180.0), (0.1, 2, 236.0)]
    )
    output = run("rate_capability", table)
    assert [s["rate_c"] for s in output.summary["steps"]] == [0.1, 1, 0.1]
    assert output.summary["recovery"]["fraction"] == pytest.approx(236.0 / 240.0, rel=1e-6)
    assert output.figures["rate"]["data"][0]["x"] == ["1: 0.1C", "2: 1C", "3: 0.1C"]


def test_an_analysis_needing_an_active_mass_fails_clearly_without_one():
    with pytest.raises(AnalysisError, match="no active mass"):
        run("cycling_summary", linear_cycling_table(2), active_mass_mg=None)


def test_voltage_fade_of_a_single_cycle_file_reports_no_fade_instead_of_failing():
    summary = run("voltage_fade", linear_cycling_table(1)).summary
    assert summary["fade_mv_per_cycle"] is None
    assert "at least 2 complete cycles" in summary["note"]
