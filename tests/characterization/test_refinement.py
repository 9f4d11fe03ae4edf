"""Rietveld results: S(MO2), I(LiO2) and V derived for the chosen origin setting, with warnings."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from characterization import services
from characterization.models import RefinementResult
from tests.characterization.factories import MeasurementFactory, PowderFactory

pytestmark = pytest.mark.django_db

# a = 2.86 Å, c = 14.25 Å. TM at the origin, z = 0.258:
# S(MO2) = 2 (1/3 − 0.258) × 14.25 = 2.147 Å; I(LiO2) = 14.25/3 − 2.147 = 2.603 Å;
# V = (√3/2) × 2.86² × 14.25 = 100.943 Å³. Li at the origin, z = 0.242 = 1/2 − 0.258: the same.
S_MO2, I_LIO2, VOLUME = 2.147, 2.603, 100.9433


@pytest.fixture
def rietveld(chemist):
    return MeasurementFactory(
        subject=PowderFactory(), measurement_type="rietveld", operator=chemist
    )


def _record(measurement, **overrides):
    kwargs = {
        "measurement": measurement,
        "origin": "transition_metal",
        "a_angstrom": 2.86,
        "c_angstrom": 14.25,
        "z_oxygen": 0.258,
        "entered_by": None,
    }
    return services.refinement_record(**{**kwargs, **overrides})


def test_tm_origin_results_store_the_hand_worked_slabs_and_volume_without_warnings(rietveld):
    _record(rietveld, rwp_percent=6.8, occupancies={"Ni 3b": 0.04}, volume_angstrom3=100.94)
    result = RefinementResult.objects.get()
    assert result.slab_thickness_angstrom == pytest.approx(S_MO2, abs=1e-9)
    assert result.interslab_spacing_angstrom == pytest.approx(I_LIO2, abs=1e-9)
    assert result.cell_volume_angstrom3 == pytest.approx(VOLUME, abs=1e-4)
    assert result.warnings == []
    assert (result.rwp_percent, result.occupancies) == (6.8, {"Ni 3b": 0.04})


def test_li_origin_results_give_the_same_slabs_for_the_same_structure(rietveld):
    result = _record(rietveld, origin="lithium", z_oxygen=0.242)
    result.refresh_from_db()
    assert result.origin == "lithium"
    assert result.slab_thickness_angstrom == pytest.approx(S_MO2, abs=1e-9)
    assert result.interslab_spacing_angstrom == pytest.approx(I_LIO2, abs=1e-9)
    assert result.warnings == []


def test_a_z_that_does_not_fit_the_chosen_setting_is_stored_with_warnings(rietveld):
    # TM origin with the Li-origin z: 2 (1/3 − 0.242) × 14.25 = 2.603 Å "TM slab" > 2.147 Å
    result = _record(rietveld, z_oxygen=0.242)
    result.refresh_from_db()
    assert result.slab_thickness_angstrom == pytest.approx(I_LIO2, abs=1e-9)
    assert len(result.warnings) == 2
    assert "below 0.25" in result.warnings[0]
    assert "TM slab (2.603 Å) is thicker than the Li interslab (2.147 Å)" in result.warnings[1]


def test_li_origin_with_a_tm_origin_z_is_warned_about(rietveld):
    result = _record(rietveld, origin="lithium", z_oxygen=0.258)
    assert any("above 0.25" in w for w in result.warnings)


def test_an_entered_volume_beyond_three_sigma_is_warned_about(rietveld):
    # a, c to 0.0001 Å give σ_V ≈ 0.0035 Å³; 101.2 is 0.26 Å³ off
    result = _record(rietveld, a_angstrom="2.8600", c_angstrom="14.2500", volume_angstrom3=101.2)
    assert result.volume_angstrom3 == 101.2
    assert result.cell_volume_angstrom3 == pytest.approx(VOLUME, abs=1e-4)
    assert len(result.warnings) == 1 and "differs from (√3/2)·a²·c" in result.warnings[0]


def test_results_belong_to_a_rietveld_measurement_only():
    cycling = MeasurementFactory()
    with pytest.raises(ValidationError) as caught:
        _record(cycling)
    assert "Rietveld" in caught.value.message_dict["measurement"][0]
    assert not RefinementResult.objects.exists()


def test_an_impossible_z_and_bad_occupancies_are_refused(rietveld):
    with pytest.raises(ValidationError) as caught:
        _record(rietveld, z_oxygen=0.6)
    assert "greater than 0 and less than 0.5" in caught.value.message_dict["z_oxygen"][0]
    with pytest.raises(ValidationError) as caught:
        _record(rietveld, occupancies={"Li 3b": 1.2})
    assert "Li 3b" in caught.value.message_dict["occupancies"][0]
    assert not RefinementResult.objects.exists()


# --- pages ------------------------------------------------------------------------------------


def _form(**overrides):
    data = {
        "phase": "R-3m layered",
        "origin": "transition_metal",
        "a_angstrom": "2.86",
        "c_angstrom": "14.25",
        "z_oxygen": "0.242",
        "volume_angstrom3": "",
        "rwp_percent": "7.1",
        "occupancies": "Li 3b: 0.96\nNi 3b = 0.04",
    }
    return {**data, **overrides}


def test_the_refinement_form_saves_the_result_and_the_page_shows_derived_values_and_warnings(
    client, chemist, rietveld
):
    client.force_login(chemist)
    url = reverse("measurements:refinement", args=[rietveld.sample.code])
    response = client.post(url, _form(), follow=True)
    result = RefinementResult.objects.get()
    assert result.entered_by == chemist
    assert result.occupancies == {"Li 3b": 0.96, "Ni 3b": 0.04}
    page = response.content.decode()
    assert "Refinement result saved with 2 warning(s)." in page
    assert '<td class="num" data-testid="slab">2.6030</td>' in page
    assert '<td class="num" data-testid="interslab">2.1470</td>' in page
    assert '<td class="num" data-testid="volume">100.943</td>' in page
    assert "is thicker than the Li interslab" in page


def test_bad_refinement_input_is_shown_on_the_form_over_htmx_and_nothing_is_saved(
    client, chemist, rietveld
):
    client.force_login(chemist)
    url = reverse("measurements:refinement", args=[rietveld.sample.code])
    response = client.post(
        url, _form(z_oxygen="0.55", occupancies="Li: lots"), HTTP_HX_REQUEST="true"
    )
    page = response.content.decode()
    assert response.status_code == 200 and page.lstrip().startswith('<form id="refinement-form"')
    assert "line 1: &#x27;lots&#x27; is not a number" in page
    response = client.post(url, _form(z_oxygen="0.55"), HTTP_HX_REQUEST="true")
    assert (
        "oxygen z must be greater than 0 and less than 0.5, got 0.55" in response.content.decode()
    )
    assert not RefinementResult.objects.exists()


def test_only_rietveld_measurements_show_the_refinement_form(client, chemist, rietveld):
    client.force_login(chemist)
    assert (
        "refinement-form"
        in client.get(reverse("measurements:detail", args=[rietveld.sample.code])).content.decode()
    )
    cycling = MeasurementFactory()
    assert (
        "refinement-form"
        not in client.get(
            reverse("measurements:detail", args=[cycling.sample.code])
        ).content.decode()
    )
