"""Electrode build: slurry from the ratio and solid content, lineage powder -> electrode."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.urls import reverse

from characterization import services
from characterization.models import Electrode
from lims.models import EdgeRole, Sample, SampleEdge, SampleKind
from lims.services import sample_register
from tests.characterization.factories import ElectrodeFactory, PowderFactory
from tests.lims.factories import UserFactory

pytestmark = pytest.mark.django_db


def _build(powder, **overrides):
    kwargs = {
        "active_material": powder,
        "made_by": None,
        "active_mass_g": 0.400,
        "solid_content_percent": 40.0,
        "casting_thickness_um": 200.0,
    }
    return services.electrode_build(**{**kwargs, **overrides})


def test_electrode_build_stores_the_hand_worked_slurry():
    # solids = 0.400 g × 100/80 = 0.500 g; carbon = binder = 0.500 × 10 % = 0.050 g;
    # NMP at 40 % solids = 0.500 × 60/40 = 0.750 g
    electrode = _build(PowderFactory())
    electrode.refresh_from_db()
    assert electrode.carbon_mass_g == pytest.approx(0.050)
    assert electrode.binder_mass_g == pytest.approx(0.050)
    assert electrode.solvent_mass_g == pytest.approx(0.750)
    assert electrode.solids_mass_g == pytest.approx(0.500)
    assert electrode.active_fraction == pytest.approx(0.8)
    assert electrode.solvent == "NMP" and electrode.current_collector == "Al foil"


def test_electrode_is_a_sample_linked_to_its_powder_as_active_material_with_the_mass_used():
    powder = PowderFactory(name="NSO")
    electrode = _build(powder)
    assert electrode.sample.kind == SampleKind.ELECTRODE
    assert electrode.sample.code.startswith("ELE-")
    assert electrode.sample.name == "NSO electrode"
    edge = SampleEdge.objects.get(child=electrode.sample)
    assert (edge.parent, edge.role, edge.amount, edge.amount_unit) == (
        powder,
        EdgeRole.ACTIVE_MATERIAL,
        pytest.approx(0.400),
        "g",
    )


def test_default_drying_is_80_c_then_120_c_under_vacuum_for_12_h():
    electrode = _build(PowderFactory())
    assert electrode.drying_steps == [
        {"temperature_c": 80.0, "duration_h": None, "vacuum": False},
        {"temperature_c": 120.0, "duration_h": 12.0, "vacuum": True},
    ]


def test_a_ratio_not_summing_to_100_is_refused_and_nothing_is_saved():
    powder = PowderFactory()
    samples_before = Sample.objects.count()
    with pytest.raises(ValidationError) as caught:
        _build(powder, ratio=(80, 10, 5))
    assert "sum to 100" in caught.value.message_dict["ratio"][0]
    assert Sample.objects.count() == samples_before
    assert not Electrode.objects.exists()


def test_the_database_refuses_a_ratio_not_summing_to_100():
    electrode = ElectrodeFactory()
    with pytest.raises(IntegrityError), transaction.atomic():
        Electrode.objects.filter(pk=electrode.pk).update(ratio_binder_percent=15.0)


def test_an_electrode_is_cast_from_a_cathode_powder_only():
    precursor = sample_register(kind=SampleKind.PRECURSOR, name="MnNi carbonate")
    with pytest.raises(ValidationError) as caught:
        _build(precursor)
    assert "not a cathode powder" in caught.value.message_dict["active_material"][0]


def test_carbon_and_binder_lots_are_recorded_and_become_lineage_components():
    from synthesis.models import Chemical, Lot

    def lot(name: str, formula: str) -> Lot:
        chemical = Chemical.objects.create(name=name, formula=formula)
        sample = sample_register(kind=SampleKind.REAGENT, name=name)
        return Lot.objects.create(
            chemical=chemical,
            supplier="Imerys" if formula == "C" else "Arkema",
            lot_number=f"L-{formula}",
            purity_percent=99.5,
            amount_left=50.0,
            amount_unit="g",
            sample=sample,
        )

    carbon, binder = lot("Super P carbon black", "C"), lot("PVDF", "C2H2F2")
    electrode = _build(PowderFactory(), carbon_lot=carbon, binder_lot=binder)
    assert (electrode.carbon_lot, electrode.binder_lot) == (carbon, binder)
    components = {
        edge.parent_id: edge.amount
        for edge in SampleEdge.objects.filter(child=electrode.sample, role=EdgeRole.COMPONENT)
    }
    assert components == {
        carbon.sample_id: pytest.approx(0.050),
        binder.sample_id: pytest.approx(0.050),
    }


# --- pages ------------------------------------------------------------------------------------


def _form_data(powder, **overrides):
    data = {
        "active_material": powder.code,
        "ratio_active_percent": "80",
        "ratio_carbon_percent": "10",
        "ratio_binder_percent": "10",
        "active_mass_g": "0.4",
        "solid_content_percent": "40",
        "carbon_name": "carbon black",
        "binder_name": "PVDF",
        "solvent": "NMP",
        "current_collector": "Al foil",
        "collector_thickness_um": "16",
        "casting_method": "blade_gap",
        "casting_thickness_um": "200",
        "drying_0_temperature_c": "80",
        "drying_1_temperature_c": "120",
        "drying_1_duration_h": "12",
        "drying_1_vacuum": "on",
        "disc_diameter_mm": "12",
        "foil_disc_mass_mg": "4.00",
        "one_c_ma_per_g": "250",
        "made_on": "2026-03-02",
    }
    return {**data, **overrides}


def test_the_electrode_form_registers_an_electrode_and_its_page_shows_the_slurry(client, chemist):
    powder = PowderFactory()
    client.force_login(chemist)
    response = client.post(reverse("cells:electrode-new"), _form_data(powder))
    electrode = Electrode.objects.get()
    assert response.status_code == 302
    assert response.url == reverse("cells:electrode", args=[electrode.sample.code])
    assert electrode.made_by == chemist and electrode.sample.owner == chemist
    assert electrode.drying_steps[1] == {"temperature_c": 120.0, "duration_h": 12.0, "vacuum": True}
    page = client.get(response.url).content.decode()
    assert "0.0500" in page and "0.7500" in page  # carbon, binder and NMP (g)
    assert f'href="/samples/{powder.code}/"' in page


def test_the_electrode_form_shows_a_ratio_error_and_saves_nothing(client, chemist):
    client.force_login(chemist)
    data = _form_data(PowderFactory(), ratio_binder_percent="5")
    response = client.post(reverse("cells:electrode-new"), data)
    assert response.status_code == 200
    assert "ratio parts must sum to 100, they sum to 95" in response.content.decode()
    assert not Electrode.objects.exists()


def test_the_electrode_form_refuses_text_in_a_number_field_without_a_server_error(client, chemist):
    client.force_login(chemist)
    data = _form_data(PowderFactory(), active_mass_g="lots", made_on="yesterday")
    response = client.post(reverse("cells:electrode-new"), data)
    assert response.status_code == 200
    assert response.content.decode().count('aria-invalid="true"') >= 2
    assert not Electrode.objects.exists()


def test_the_electrode_form_preselects_the_powder_from_the_query(client, chemist):
    powder = PowderFactory()
    client.force_login(chemist)
    page = client.get(reverse("cells:electrode-new"), {"powder": powder.code}).content.decode()
    assert f'<option value="{powder.code}" selected>' in page


def test_the_slurry_preview_shows_the_masses_to_weigh_and_ratio_errors(client, chemist):
    client.force_login(chemist)
    data = {
        "ratio_active_percent": "90",
        "ratio_carbon_percent": "5",
        "ratio_binder_percent": "5",
        "active_mass_g": "0.9",
        "solid_content_percent": "50",
    }
    page = client.post(reverse("cells:slurry-preview"), data).content.decode()
    assert "0.0500 g" in page and "1.0000 g" in page  # carbon/binder 0.05 g; NMP 1.0 g
    page = client.post(
        reverse("cells:slurry-preview"), {**data, "ratio_carbon_percent": "9"}
    ).content.decode()
    assert "they sum to 104" in page


def test_a_user_without_a_lab_role_cannot_build_an_electrode(client):
    client.force_login(UserFactory(username="visitor"))
    response = client.post(reverse("cells:electrode-new"), _form_data(PowderFactory()))
    assert response.status_code == 403
    assert not Electrode.objects.exists()


def test_the_form_records_a_third_drying_step_and_refuses_a_zero_time(client, chemist):
    client.force_login(chemist)
    url = reverse("cells:electrode-new")
    extra = {"drying_2_temperature_c": "60", "drying_2_duration_h": "2"}
    client.post(url, _form_data(PowderFactory(), **extra))
    assert Electrode.objects.get().drying_steps[2] == {
        "temperature_c": 60.0,
        "duration_h": 2.0,
        "vacuum": False,
    }
    response = client.post(url, _form_data(PowderFactory(), drying_0_duration_h="0"))
    assert "drying step 1: the time must be greater than 0 h" in response.content.decode()
    assert Electrode.objects.count() == 1
