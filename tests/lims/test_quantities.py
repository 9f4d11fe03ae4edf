"""The one table of physical bounds (lims.quantities): messages, reasons, fractions, windows."""

from __future__ import annotations

import ast
import math
from pathlib import Path

import pytest
from django.core.exceptions import ValidationError

from lims import quantities
from lims.validators import QuantityValidator, validate_conditions

REPO = Path(__file__).resolve().parents[2]


def test_the_bounds_module_never_imports_django():
    tree = ast.parse((REPO / "lims" / "quantities.py").read_text())
    modules = {alias.name for n in ast.walk(tree) if isinstance(n, ast.Import) for alias in n.names}
    modules |= {n.module for n in ast.walk(tree) if isinstance(n, ast.ImportFrom) and n.module}
    assert not {m for m in modules if m.split(".")[0] in {"django", "rest_framework", "lims"}}


def test_every_bound_has_a_label_a_unit_or_none_a_range_and_a_reason():
    for key, bound in quantities.BOUNDS.items():
        assert bound.label and bound.why, key
        assert bound.min is not None or bound.max is not None, key
        if bound.min is not None and bound.max is not None:
            assert bound.min < bound.max, key


def test_a_million_millimetre_disc_is_refused_naming_field_range_number_and_unit():
    message = quantities.problem("disc_diameter_mm", 1_000_000)
    assert message == "disc diameter must be between 1 and 100 mm, got 1,000,000 mm"


def test_minus_500_degrees_is_below_absolute_zero():
    message = quantities.problem("temperature_c", -500)
    assert message == "temperature must be between -273.15 and 2000 °C, got -500 °C"
    assert quantities.problem("temperature_c", -273.15) is None


def test_an_upper_voltage_of_1e308_is_refused():
    assert quantities.window_problems(2.0, 1e308) == {
        "voltage_max_v": "upper voltage must be between -5 and 10 V, got 1e+308 V"
    }


def test_a_window_whose_upper_voltage_is_not_above_the_lower_is_refused():
    found = quantities.window_problems(4.8, 2.0)
    assert found == {
        "voltage_max_v": "the upper voltage must be above the lower one, got 4.8 V to 2 V"
    }
    assert quantities.window_problems(2.0, 4.8) == {}


@pytest.mark.parametrize(("typed", "meant"), [(0.99, "99"), (0.5, "50"), (1, "100")])
def test_a_purity_of_at_most_1_is_asked_whether_a_fraction_was_meant(typed, meant):
    message = quantities.problem("purity_percent", typed)
    assert message == (
        f"{quantities.format_number(typed)} looks like a fraction: purity is in percent, "
        f"enter {meant}"
    )


def test_purities_above_1_and_up_to_100_percent_pass_and_others_say_the_range():
    assert quantities.problem("purity_percent", 99.5) is None
    assert quantities.problem("purity_percent", 100) is None
    assert quantities.problem("purity_percent", 0) == (
        "purity must be greater than 0 % and at most 100 %, got 0 %"
    )
    assert "got 150 %" in quantities.problem("purity_percent", 150)


@pytest.mark.parametrize("value", [math.nan, math.inf, -math.inf, "12", None, True])
def test_non_numbers_and_non_finite_numbers_are_refused(value):
    assert quantities.problem("disc_mass_mg", value) is not None


def test_exclusive_bounds_read_greater_than_and_less_than():
    assert quantities.problem("coating_wt_percent", 100) == (
        "coating must be greater than 0 wt% and less than 100 wt%, got 100 wt%"
    )
    assert quantities.problem("coating_wt_percent", 1) is None


def test_a_batch_mass_above_ten_kilograms_adds_the_unit_hint():
    message = quantities.problem("batch_mass_g", 25_000, label="substrate mass")
    assert message.startswith("substrate mass must be greater than 0 g and at most 10,000 g")
    assert message.endswith("got 25,000 g; check the unit (grams) or split it into a series")


def test_numbers_are_written_as_a_chemist_reads_them():
    cases = {1e6: "1,000,000", 2000: "2000", 0.99: "0.99", 1e308: "1e+308", -273.15: "-273.15"}
    assert {v: quantities.format_number(v) for v in cases} == cases


def test_problems_collect_one_message_per_field_and_skip_empty_values():
    found = quantities.problems(
        [
            ("disc_mass_mg", "disc_mass_mg", 5000),
            ("foil_disc_mass_mg", "foil_disc_mass_mg", None),
            ("glovebox_o2_ppm", "glovebox_o2_ppm", 0.3),
        ]
    )
    assert list(found) == ["disc_mass_mg"]


def test_measurement_conditions_are_checked_by_key_and_free_text_passes():
    found = quantities.condition_problems(
        {
            "temperature_c": -500,
            "voltage_window_v": [2.0, 1e308],
            "c_rates": [0.1, 500],
            "radiation": "Cu Kα",
        }
    )
    assert set(found) == {"temperature_c", "voltage_max_v", "c_rates"}
    assert quantities.condition_problems({"temperature_c": 25.0, "radiation": "Cu Kα"}) == {}


def test_the_django_validator_raises_the_table_message_and_lets_none_pass():
    validator = QuantityValidator("disc_diameter_mm")
    validator(None)
    validator(12.0)
    with pytest.raises(ValidationError) as caught:
        validator(1e6)
    assert caught.value.messages == ["disc diameter must be between 1 and 100 mm, got 1,000,000 mm"]
    assert QuantityValidator("rpm") == QuantityValidator("rpm")
    with pytest.raises(KeyError):
        QuantityValidator("no_such_quantity")


def test_the_conditions_validator_lists_every_problem():
    with pytest.raises(ValidationError) as caught:
        validate_conditions({"temperature_c": -500, "voltage_window_v": [2.0, 1e308]})
    assert len(caught.value.messages) == 2
