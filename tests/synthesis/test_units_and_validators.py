"""Quantities read as a chemist writes them; CAS numbers carry a check digit."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from hypothesis import given
from hypothesis import strategies as st

from synthesis.services import deviation_percent
from synthesis.templatetags.synthesis_tags import amount, mass, volume
from synthesis.validators import cas_check_digit, validate_cas_number, validate_formula


@pytest.mark.parametrize(
    ("grams", "text"),
    [(1.5, "1.500 g"), (0.017416, "17.42 mg"), (0.0008512, "851.2 µg"), (12345.6, "12346 g")],
)
def test_masses_switch_to_milligrams_below_one_gram(grams, text):
    assert mass(grams) == text


def test_teos_volume_is_shown_in_microlitres():
    assert volume(0.01829318) == "18.29 µL"
    assert volume(50) == "50.00 mL"


def test_amounts_are_shown_in_micromoles():
    assert amount(8.1926e-05) == "81.93 µmol"
    assert mass(None) == "—"


@pytest.mark.parametrize(
    "cas", ["78-10-4", "497-19-8", "554-13-2", "598-62-9", "6018-89-9", "7732-18-5"]
)
def test_real_cas_numbers_pass_the_check_digit(cas):
    validate_cas_number(cas)


def test_a_cas_number_with_a_wrong_check_digit_is_refused_with_the_right_digit():
    with pytest.raises(ValidationError) as err:
        validate_cas_number("78-10-5")

    assert "expected 4" in err.value.messages[0]
    assert cas_check_digit("78-10") == 4


@pytest.mark.parametrize("text", ["7810-4", "78-10-44", "CAS 78-10-4", ""])
def test_malformed_cas_numbers_are_refused(text):
    with pytest.raises(ValidationError):
        validate_cas_number(text)


def test_a_hydrate_typed_with_a_period_is_not_a_valid_formula():
    with pytest.raises(ValidationError) as err:
        validate_formula("Ni(CH3COO)2.4H2O")

    assert "hydrate" in err.value.messages[0]


@given(
    planned=st.floats(min_value=1e-6, max_value=1e4),
    ratio=st.floats(min_value=0.01, max_value=3.0),
)
def test_deviation_is_the_relative_difference_from_plan_in_percent(planned, ratio):
    actual = planned * ratio

    assert deviation_percent(planned, actual) == pytest.approx((ratio - 1) * 100, abs=1e-6)


def test_no_deviation_without_a_planned_or_actual_amount():
    assert deviation_percent(None, 1.0) is None
    assert deviation_percent(1.0, None) is None
