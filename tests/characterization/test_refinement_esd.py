"""Refinement numbers with their esds, a volume check that uses them (or the rounding of what
was typed), and the TM–O and Li–O bond lengths for the chosen origin setting."""

from __future__ import annotations

import math

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from rest_framework.test import APIClient

from characterization import services
from characterization.analysis.errors import AnalysisError
from characterization.analysis.structure import (
    bond_lengths_angstrom,
    format_with_esd,
    layered_metrics,
    parse_reading,
)
from characterization.models import RefinementResult
from tests.characterization.factories import MeasurementFactory, PowderFactory

# Two samples refined to 0.0001 Å, 0.02 % apart in volume:
# A: a = 2.8589, c = 14.2561 → V = (√3/2)·2.8589²·14.2561 = 100.909 Å³
# B: a = 2.8592, c = 14.2561 → V = 100.930 Å³
V_A, V_B = "100.909", "100.930"  # as typed, to 0.001 Å³
SAMPLE_A = {"a_angstrom": "2.8589", "c_angstrom": "14.2561", "z_oxygen": "0.2582"}


# --- esd notation ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "value", "esd"),
    [
        ("2.8589(1)", 2.8589, 0.0001),
        ("100.911(3)", 100.911, 0.003),
        ("14.2561(12)", 14.2561, 0.0012),
        ("0.2582(3)", 0.2582, 0.0003),
        ("100(2)", 100.0, 2.0),
        ("2.8589 ± 0.0001", 2.8589, 0.0001),
    ],
)
def test_a_number_with_its_esd_in_brackets_is_read_as_value_and_esd(text, value, esd):
    reading = parse_reading(text, field="a_angstrom", label="lattice parameter a")
    assert reading.value == pytest.approx(value, rel=1e-12)
    assert reading.esd == pytest.approx(esd, rel=1e-9)
    assert format_with_esd(reading.value, reading.esd) == text.replace(" ± 0.0001", "(1)")


@pytest.mark.parametrize(
    ("text", "rounding"), [("2.86", 0.005), ("14.2561", 0.00005), ("100", 0.5)]
)
def test_a_number_without_esd_counts_half_a_unit_of_its_last_typed_digit(text, rounding):
    reading = parse_reading(text, field="c_angstrom", label="lattice parameter c")
    assert reading.esd is None
    assert reading.sigma == pytest.approx(rounding, rel=1e-12)


@pytest.mark.parametrize("text", ["2.86(", "abc", "2.8589(0)", "(3)", "2.8589(1) ± 0.1"])
def test_text_that_is_not_a_number_with_esd_names_the_field(text):
    with pytest.raises(AnalysisError) as caught:
        parse_reading(text, field="a_angstrom", label="lattice parameter a")
    assert caught.value.field == "a_angstrom"
    assert "lattice parameter a" in caught.value.message


# --- the volume check -----------------------------------------------------------------------


def test_two_samples_transposed_volumes_0_02_percent_apart_are_flagged():
    # rounding of a and c: σ_V,calc = V·√((2·0.00005/2.8589)² + (0.00005/14.2561)²) = 0.0035 Å³;
    # V typed to 0.001: σ = 0.0005; 3σ = 0.0107 Å³ < |100.930 − 100.909| = 0.021 Å³.
    # The old 0.1 % tolerance (0.10 Å³) let this through.
    swapped = layered_metrics(**SAMPLE_A, origin="transition_metal", volume_angstrom3=V_B)
    own = layered_metrics(**SAMPLE_A, origin="transition_metal", volume_angstrom3=V_A)
    assert len(swapped.warnings) == 1
    assert "+0.021 %" in swapped.warnings[0] and "3σ = 0.0107 Å³" in swapped.warnings[0]
    assert "rounding of the typed digits" in swapped.warnings[0]
    assert own.warnings == []


def test_the_volume_check_uses_the_esds_when_they_are_given():
    # σ_V,calc = 100.909·√((2·0.0001/2.8589)² + (0.0003/14.2561)²) = 0.00737 Å³, σ(V) = 0.007:
    # σ = 0.0102, 3σ = 0.0305 Å³. 100.955 (+0.046 Å³) is flagged, 100.930 (+0.021) is not.
    refined = {"a_angstrom": "2.8589(1)", "c_angstrom": "14.2561(3)", "z_oxygen": "0.2582(3)"}
    far = layered_metrics(**refined, origin="transition_metal", volume_angstrom3="100.955(7)")
    near = layered_metrics(**refined, origin="transition_metal", volume_angstrom3="100.930(7)")
    assert len(far.warnings) == 1 and "3σ = 0.0305 Å³ (σ from the esds)" in far.warnings[0]
    assert near.warnings == []


def test_a_volume_computed_from_the_same_numbers_is_never_flagged_by_float_noise():
    a, c = 2.8589, 14.2561
    volume = math.sqrt(3) / 2 * a * a * c
    metrics = layered_metrics(
        a_angstrom=a, c_angstrom=c, z_oxygen=0.2582, origin="lithium", volume_angstrom3=volume
    )
    assert not any("cell volume" in w for w in metrics.warnings)


# --- bond lengths ---------------------------------------------------------------------------


def test_bond_lengths_for_the_tm_origin_match_the_hand_worked_numbers():
    # a²/3 = 2.86²/3 = 2.72653; (1/3 − 0.258)·14.25 = 1.07350 → TM–O = √(2.72653 + 1.15240)
    # = 1.9695 Å; (0.258 − 1/6)·14.25 = 1.30150 → Li–O = √(2.72653 + 1.69390) = 2.1025 Å
    tm_o, li_o = bond_lengths_angstrom(
        a_angstrom=2.86, c_angstrom=14.25, z_oxygen=0.258, origin="transition_metal"
    )
    assert tm_o == pytest.approx(1.96950, abs=1e-5)
    assert li_o == pytest.approx(2.10248, abs=1e-5)


def test_with_li_at_the_origin_the_same_structure_gives_the_same_bonds():
    # z = 0.242 = 1/2 − 0.258: (1/3 − z)·c now spans the Li layer, (z − 1/6)·c the TM layer
    tm = bond_lengths_angstrom(
        a_angstrom=2.86, c_angstrom=14.25, z_oxygen=0.258, origin="transition_metal"
    )
    li = bond_lengths_angstrom(a_angstrom=2.86, c_angstrom=14.25, z_oxygen=0.242, origin="lithium")
    assert li == pytest.approx(tm, rel=1e-12)


# --- the service, the form, the page, the API -----------------------------------------------


@pytest.fixture
def rietveld(db, chemist):
    return MeasurementFactory(
        subject=PowderFactory(), measurement_type="rietveld", operator=chemist
    )


def test_the_service_stores_values_esds_and_bond_lengths(rietveld):
    result = services.refinement_record(
        measurement=rietveld,
        origin="transition_metal",
        a_angstrom="2.8589(1)",
        c_angstrom="14.2561(12)",
        z_oxygen="0.2582(3)",
        volume_angstrom3="100.911(3)",
        entered_by=None,
    )
    result.refresh_from_db()
    assert (result.a_angstrom, result.c_angstrom, result.z_oxygen) == (2.8589, 14.2561, 0.2582)
    assert result.a_esd_angstrom == pytest.approx(0.0001)
    assert result.c_esd_angstrom == pytest.approx(0.0012)
    assert result.volume_esd_angstrom3 == pytest.approx(0.003)
    assert result.z_oxygen_esd == pytest.approx(0.0003)
    assert result.a_text == "2.8589(1)" and result.c_text == "14.2561(12)"
    tm_o, li_o = bond_lengths_angstrom(
        a_angstrom=2.8589, c_angstrom=14.2561, z_oxygen=0.2582, origin="transition_metal"
    )
    assert (result.tm_o_bond_angstrom, result.li_o_bond_angstrom) == (tm_o, li_o)
    assert result.warnings == []


def test_the_service_flags_the_transposed_volume_that_the_old_tolerance_let_through(rietveld):
    result = services.refinement_record(
        measurement=rietveld,
        origin="transition_metal",
        entered_by=None,
        volume_angstrom3=float(V_B),
        **SAMPLE_A,
    )
    assert len(result.warnings) == 1 and "transposed" in result.warnings[0]


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("a_angstrom", "286", "lattice parameter a must be between 1 and 50 Å, got 286 Å"),
        ("c_angstrom", "14.25(", "lattice parameter c must be a number such as"),
        ("volume_angstrom3", "1e308", "cell volume must be greater than 0 Å³"),
    ],
)
def test_the_service_refuses_refined_numbers_out_of_bounds(rietveld, field, value, message):
    kwargs = {**SAMPLE_A, field: value}
    with pytest.raises(ValidationError) as caught:
        services.refinement_record(
            measurement=rietveld, origin="transition_metal", entered_by=None, **kwargs
        )
    assert caught.value.message_dict[field][0].startswith(message)
    assert not RefinementResult.objects.exists()


def test_the_form_takes_esds_and_the_page_shows_them_with_the_bond_lengths(
    client, chemist, rietveld
):
    client.force_login(chemist)
    url = reverse("measurements:refinement", args=[rietveld.sample.code])
    data = {"phase": "R-3m layered", "origin": "transition_metal", "a_angstrom": "2.8589(1)",
            "c_angstrom": "14.2561(12)", "z_oxygen": "0.2582(3)",
            "volume_angstrom3": "100.911(3)", "rwp_percent": "6.8", "occupancies": ""}  # fmt: skip

    response = client.post(url, data, follow=True)

    result = RefinementResult.objects.get()
    assert result.a_esd_angstrom == pytest.approx(0.0001)
    page = response.content.decode()
    assert '<td class="num" data-testid="a">2.8589(1)</td>' in page
    assert '<td class="num" data-testid="c">14.2561(12)</td>' in page
    assert '<td class="num" data-testid="volume-entered">100.911(3)</td>' in page
    assert f'<td class="num" data-testid="tm-o">{result.tm_o_bond_angstrom:.4f}</td>' in page
    assert f'<td class="num" data-testid="li-o">{result.li_o_bond_angstrom:.4f}</td>' in page


def test_the_form_refuses_a_lattice_parameter_of_a_thousand_angstrom_and_saves_nothing(
    client, chemist, rietveld
):
    client.force_login(chemist)
    url = reverse("measurements:refinement", args=[rietveld.sample.code])
    data = {"phase": "R-3m layered", "origin": "transition_metal", "a_angstrom": "1000",
            "c_angstrom": "14.25", "z_oxygen": "0.258", "volume_angstrom3": "",
            "rwp_percent": "", "occupancies": "Li 3b: 1.5"}  # fmt: skip

    response = client.post(url, data, HTTP_HX_REQUEST="true")

    page = response.content.decode()
    assert "lattice parameter a must be between 1 and 50 Å, got 1000 Å" in page
    assert "occupancy of Li 3b must be between 0 and 1, got 1.5" in page
    assert not RefinementResult.objects.exists()


def test_the_layered_metrics_api_takes_esds_and_flags_the_transposed_volume(chemist):
    api = APIClient()
    api.force_authenticate(chemist)
    body = {**SAMPLE_A, "origin": "transition_metal", "volume_angstrom3": float(V_B)}

    response = api.post("/api/v1/structure/layered-metrics", body, format="json")

    assert response.status_code == 200
    assert len(response.json()["warnings"]) == 1
    bad = api.post(
        "/api/v1/structure/layered-metrics",
        {**body, "a_angstrom": 1e308, "volume_angstrom3": "100.9(x)"},
        format="json",
    )
    assert bad.status_code == 400
    errors = bad.json()["errors"]
    assert errors["a_angstrom"] == ["lattice parameter a must be between 1 and 50 Å, got 1e+308 Å"]
    assert "volume_angstrom3" in errors
