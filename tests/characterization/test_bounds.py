"""Physical bounds on what is typed for electrodes, cells and measurements: a 1,000,000 mm
disc, a −500 °C measurement, an upper voltage of 1e308 V. Form, service, sample import, API
and admin refuse the same input with the same sentence and save nothing."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from rest_framework.test import APIClient

from characterization import services
from characterization.models import CoinCell, Electrode, Measurement
from lims import sample_import, tabular
from lims.models import Sample
from tests.characterization.factories import CellFactory, ElectrodeFactory, PowderFactory

pytestmark = pytest.mark.django_db

DISC_1E6 = "disc diameter must be between 1 and 100 mm, got 1,000,000 mm"
MINUS_500 = "temperature must be between -273.15 and 2000 °C, got -500 °C"
VOLTS_1E308 = "upper voltage must be between -5 and 10 V, got 1e+308 V"


def _electrode_kwargs(**overrides) -> dict:
    kwargs = {
        "active_material": PowderFactory(),
        "made_by": None,
        "active_mass_g": 0.4,
        "solid_content_percent": 40.0,
        "casting_thickness_um": 200.0,
        "disc_diameter_mm": 12.0,
        "foil_disc_mass_mg": 4.0,
    }
    return {**kwargs, **overrides}


# --- the 1,000,000 mm disc ------------------------------------------------------------------


def test_a_million_millimetre_disc_is_refused_by_the_electrode_service():
    with pytest.raises(ValidationError) as caught:
        services.electrode_build(**_electrode_kwargs(disc_diameter_mm=1e6))
    assert caught.value.message_dict["disc_diameter_mm"] == [DISC_1E6]
    assert not Electrode.objects.exists()
    assert not Sample.objects.filter(kind="electrode").exists()


def test_a_million_millimetre_disc_is_refused_by_the_electrode_form(client, chemist):
    powder = PowderFactory()
    client.force_login(chemist)
    data = {"active_material": powder.code, "ratio_active_percent": "80",
            "ratio_carbon_percent": "10", "ratio_binder_percent": "10", "active_mass_g": "0.4",
            "solid_content_percent": "40", "carbon_name": "carbon black", "binder_name": "PVDF",
            "solvent": "NMP", "current_collector": "Al foil", "casting_method": "blade_gap",
            "casting_thickness_um": "200", "drying_0_temperature_c": "80",
            "disc_diameter_mm": "1000000", "one_c_ma_per_g": "250",
            "made_on": "2026-03-02"}  # fmt: skip

    response = client.post(reverse("cells:electrode-new"), data)

    assert response.status_code == 200
    assert response.context["form"].errors["disc_diameter_mm"] == [DISC_1E6]
    assert not Electrode.objects.exists()


def test_a_million_millimetre_disc_is_a_400_from_the_disc_metrics_api(chemist):
    api = APIClient()
    api.force_authenticate(chemist)
    body = {"disc_diameter_mm": 1e6, "disc_mass_mg": 12.0, "foil_disc_mass_mg": 4.0,
            "active_fraction": 0.8}  # fmt: skip

    response = api.post("/api/v1/cells/disc-metrics", body, format="json")

    assert response.status_code == 400
    assert response.json() == {"errors": {"disc_diameter_mm": [DISC_1E6]}}


def test_a_c_rate_of_a_thousand_is_a_400_naming_its_place_in_the_list(chemist):
    api = APIClient()
    api.force_authenticate(chemist)
    body = {"disc_diameter_mm": 12, "disc_mass_mg": 12.0, "foil_disc_mass_mg": 4.0,
            "active_fraction": 0.8, "c_rates": [0.1, 1000]}  # fmt: skip

    response = api.post("/api/v1/cells/disc-metrics", body, format="json")

    assert response.status_code == 400
    assert response.json()["errors"] == {
        "c_rates[1]": ["C-rate must be greater than 0 C and at most 100 C, got 1000 C"]
    }


def test_a_million_millimetre_disc_is_refused_in_the_admin(admin_client):
    electrode = ElectrodeFactory()
    url = reverse("admin:characterization_electrode_change", args=[electrode.pk])
    form = admin_client.get(url).context["adminform"].form
    data = {name: form[name].value() for name in form.fields}
    data = {key: "" if value is None else value for key, value in data.items()}
    data.update({"disc_diameter_mm": "1000000", "drying_steps": '[{"temperature_c": 80}]'})

    response = admin_client.post(url, data)

    assert response.status_code == 200
    assert DISC_1E6 in response.content.decode()
    electrode.refresh_from_db()
    assert electrode.disc_diameter_mm == 12.0


# --- discs, cells and the import ------------------------------------------------------------


def test_a_disc_typed_in_grams_as_milligrams_is_refused_on_its_row_and_no_cell_is_built():
    electrode = ElectrodeFactory()
    with pytest.raises(ValidationError) as caught:
        services.cell_build_batch(
            electrode=electrode,
            discs=[services.DiscRow(12.0), services.DiscRow(12_000.0)],
            built_by=None,
        )
    assert caught.value.message_dict["discs[1].disc_mass_mg"] == [
        "disc mass must be greater than 0 mg and at most 1000 mg, got 12,000 mg; "
        "check the unit (milligrams)"
    ]
    assert not CoinCell.objects.exists()


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("electrolyte_volume_ul", 0.0, "electrolyte volume must be greater than 0 µL"),
        ("glovebox_o2_ppm", 5000.0, "glove-box O2 must be between 0 and 1000 ppm, got 5000 ppm"),
        ("one_c_ma_per_g", 25_000.0, "1C specific current must be greater than 0 mA/g"),
    ],
)
def test_cell_conditions_beyond_their_bounds_are_refused(field, value, message):
    electrode = ElectrodeFactory()
    with pytest.raises(ValidationError) as caught:
        services.cell_build(electrode=electrode, disc_mass_mg=12.0, built_by=None, **{field: value})
    assert caught.value.message_dict[field][0].startswith(message)
    assert not CoinCell.objects.exists()


def test_the_make_cells_form_refuses_a_glove_box_reading_of_5000_ppm(client, chemist):
    electrode = ElectrodeFactory()
    client.force_login(chemist)
    data = {"cell_format": "2025", "foil_disc_mass_mg": "4.00", "counter_electrode": "Li metal",
            "separator": "Celgard 2400", "electrolyte_name": "LP30", "electrolyte_volume_ul": "60",
            "glovebox_o2_ppm": "5000", "one_c_ma_per_g": "250", "built_on": "2026-03-04",
            "discs-TOTAL_FORMS": "1", "discs-INITIAL_FORMS": "0", "discs-MIN_NUM_FORMS": "0",
            "discs-MAX_NUM_FORMS": "48", "discs-0-disc_mass_mg": "12.0"}  # fmt: skip

    response = client.post(reverse("cells:electrode-cells", args=[electrode.sample.code]), data)

    assert "glove-box O2 must be between 0 and 1000 ppm, got 5000 ppm" in response.content.decode()
    assert not CoinCell.objects.exists()


def test_the_cell_import_refuses_a_disc_mass_in_grams_naming_the_column(client, chemist):
    electrode = ElectrodeFactory()
    client.force_login(chemist)
    header = sample_import.columns()
    row = {"kind": "cell", "name": "imported", "electrode": electrode.sample.code,
           "disc_mass_mg": "5000", "foil_disc_mass_mg": "4.00"}  # fmt: skip
    text = tabular.write_csv(header, [[row.get(c, "") for c in header]])
    data = {"file": SimpleUploadedFile("cells.csv", text), "mode": "skip"}

    page = client.post("/samples/import/", data).content.decode()

    assert "disc_mass_mg: disc mass must be greater than 0 mg and at most 1000 mg" in page
    assert not CoinCell.objects.exists()
    assert not Sample.objects.filter(name="imported").exists()


# --- measurement conditions -----------------------------------------------------------------


def test_a_measurement_at_minus_500_c_is_refused_by_the_service(chemist):
    cell = CellFactory()
    with pytest.raises(ValidationError) as caught:
        services.measurement_record(
            subject=cell.sample,
            measurement_type="cycling",
            operator=chemist,
            conditions={"temperature_c": -500.0},
        )
    assert caught.value.message_dict["temperature_c"] == [MINUS_500]
    assert not Measurement.objects.exists()


def test_an_upper_voltage_of_1e308_is_refused_by_the_service(chemist):
    cell = CellFactory()
    with pytest.raises(ValidationError) as caught:
        services.measurement_record(
            subject=cell.sample,
            measurement_type="cycling",
            operator=chemist,
            conditions={"voltage_window_v": [2.0, 1e308]},
        )
    assert caught.value.message_dict["voltage_max_v"] == [VOLTS_1E308]
    assert not Measurement.objects.exists()


def _measurement_post(cell, **overrides) -> dict:
    data = {"subject": cell.sample.code, "measurement_type": "cycling", "instrument": "Neware",
            "measured_at": "2026-03-05T14:30", "voltage_min_v": "2.0", "voltage_max_v": "4.8",
            "c_rates": "0.05", "temperature_c": "25", "other_conditions": "",
            "notes": ""}  # fmt: skip
    return {**data, **overrides}


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        ({"temperature_c": "-500"}, "temperature_c", MINUS_500),
        ({"voltage_max_v": "1e308"}, "voltage_max_v", VOLTS_1E308),
        ({"c_rates": "0.1, 500"}, "c_rates", "C-rate must be greater than 0 C"),
        ({"other_conditions": "temperature_c: -500"}, "other_conditions", MINUS_500),
    ],
)
def test_the_measurement_form_refuses_conditions_beyond_their_bounds(
    client, chemist, overrides, field, message
):
    cell = CellFactory()
    client.force_login(chemist)

    response = client.post(reverse("measurements:new"), _measurement_post(cell, **overrides))

    assert response.status_code == 200
    assert message in response.content.decode()
    assert not Measurement.objects.exists()


def test_a_measurement_edited_to_minus_500_c_in_the_admin_is_refused(admin_client, chemist):
    cell = CellFactory()
    measurement = services.measurement_record(
        subject=cell.sample, measurement_type="cycling", operator=chemist
    ).measurement
    url = reverse("admin:characterization_measurement_change", args=[measurement.pk])
    form = admin_client.get(url).context["adminform"].form
    data = {name: form[name].value() for name in form.fields}
    data = {key: "" if value is None else value for key, value in data.items()}
    data.update({"conditions": '{"temperature_c": -500}', "measured_at_0": "2026-03-05",
                 "measured_at_1": "14:30"})  # fmt: skip

    response = admin_client.post(url, data)

    assert MINUS_500 in response.content.decode()
    measurement.refresh_from_db()
    assert measurement.conditions == {}


def test_a_sheet_saved_with_a_million_millimetre_disc_builds_no_cells():
    electrode = ElectrodeFactory()
    electrode.disc_diameter_mm = 1e6  # as read from a row saved before the bounds existed
    with pytest.raises(ValidationError) as caught:
        services.cell_build(electrode=electrode, disc_mass_mg=12.0, built_by=None)
    assert caught.value.message_dict["disc_diameter_mm"] == [
        "sheet disc diameter must be between 1 and 100 mm, got 1,000,000 mm"
    ]
    assert not CoinCell.objects.exists()
