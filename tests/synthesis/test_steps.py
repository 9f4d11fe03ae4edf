"""Recipe steps carry typed parameters: a missing or invalid one names itself."""

from __future__ import annotations

import pytest

from synthesis.steps import STEP_KINDS, StepParameterError, describe, validate_parameters

CALCINE = {"temperature_c": "750", "duration_h": 12, "ramp_c_per_min": 5, "atmosphere": "air"}


def test_calcine_parameters_are_converted_to_numbers():
    clean = validate_parameters("calcine", CALCINE)

    assert clean == {
        "temperature_c": 750.0,
        "duration_h": 12.0,
        "ramp_c_per_min": 5.0,
        "atmosphere": "air",
    }


@pytest.mark.parametrize("missing", ["temperature_c", "duration_h", "ramp_c_per_min", "atmosphere"])
def test_a_calcine_step_without_one_of_its_parameters_is_refused_naming_it(missing):
    raw = {k: v for k, v in CALCINE.items() if k != missing}

    with pytest.raises(StepParameterError) as err:
        validate_parameters("calcine", raw)

    assert err.value.field == missing
    assert "Calcine needs" in err.value.message


@pytest.mark.parametrize(
    ("kind", "raw", "field", "words"),
    [
        ("stir", {"duration_h": 12, "rpm": 700.5}, "rpm", "whole number"),
        ("stir", {"duration_h": 0, "rpm": 700}, "duration_h", "greater than 0"),
        ("ultrasonicate", {"duration_min": "five"}, "duration_min", "must be a number"),
        ("calcine", {**CALCINE, "atmosphere": "H2"}, "atmosphere", "one of air"),
        ("calcine", {**CALCINE, "temperature_c": 2500}, "temperature_c", "between 100 and 2000"),
        ("stir", {"duration_h": 12, "rpm": 700, "temp_c": 25}, "temp_c", "no parameter"),
    ],
)
def test_invalid_step_parameters_are_field_errors(kind, raw, field, words):
    with pytest.raises(StepParameterError) as err:
        validate_parameters(kind, raw)

    assert err.value.field == field
    assert words in err.value.message


def test_an_unknown_step_kind_is_refused():
    with pytest.raises(StepParameterError) as err:
        validate_parameters("sinter", {})

    assert err.value.field == "kind"


def test_optional_parameters_may_be_left_out_or_blank():
    assert validate_parameters("grind", {"method": "", "duration_min": None}) == {}


def test_every_step_kind_the_issue_names_exists():
    expected = {
        "disperse",
        "ultrasonicate",
        "add_reagent",
        "stir",
        "centrifuge",
        "wash",
        "dry",
        "mix",
        "calcine",
        "grind",
        "other",
    }
    assert set(STEP_KINDS) == expected


def test_steps_read_as_a_bench_instruction():
    assert describe("calcine", validate_parameters("calcine", CALCINE)) == (
        "Calcine 750 °C, 12 h, 5 °C/min, air"
    )
    assert describe("stir", {"duration_h": 12.0, "rpm": 700}) == "Stir 12 h, 700 rpm"
    assert describe("wash", {"solvents": "water, ethanol", "cycles": 3}) == (
        "Wash with water, ethanol, 3×"
    )
