"""Physical bounds on what a chemist types in synthesis: purities typed as fractions, step
temperatures below absolute zero, weighings and batch sizes beyond any bench. Every way in
(form, service, API, admin, recipe editor) refuses the same input and saves nothing."""

from __future__ import annotations

import datetime
from dataclasses import replace

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.urls import reverse
from rest_framework.test import APIClient

from synthesis import services
from synthesis.models import Batch, BatchStatus, BatchStepLog, Chemical, Lot
from synthesis.planning import PlanInputs
from synthesis.recipe_input import check_recipe, recipe_data_from
from synthesis.services import Actual
from tests.synthesis.conftest import reagent

pytestmark = pytest.mark.django_db

FRACTION = "0.99 looks like a fraction: purity is in percent, enter 99"


@pytest.fixture
def chemist_client(client, chemist):
    client.force_login(chemist)
    return client


# --- purity typed as a fraction -------------------------------------------------------------


def test_a_purity_of_0_99_is_refused_by_the_chemical_form_and_nothing_is_saved(client, manager):
    data = {"name": "Lithium carbonate", "formula": "Li2CO3", "default_purity_percent": "0.99"}
    client.force_login(manager)  # chemicals and lots are lab managers' (lims.rules)

    response = client.post(reverse("synthesis:chemical_new"), data)

    assert response.context["form"].errors["default_purity_percent"] == [FRACTION]
    assert not Chemical.objects.exists()


def test_a_purity_of_0_99_is_refused_by_the_lot_form_and_the_lot_service(
    client, manager, chemist, chem
):
    data = {"chemical": chem["Lithium carbonate"].pk, "supplier": "Sigma", "lot_number": "X1",
            "purity_percent": "0.99", "amount_left": "250", "amount_unit": "g",
            "received_on": "2026-01-05"}  # fmt: skip
    client.force_login(manager)

    response = client.post(reverse("synthesis:lot_new"), data)

    assert response.context["form"].errors["purity_percent"] == [FRACTION]
    with pytest.raises(ValidationError) as caught:
        services.lot_create(
            user=chemist, chemical=chem["Lithium carbonate"], supplier="Sigma",
            lot_number="X2", amount=250, amount_unit="g", purity_percent=0.99,
        )  # fmt: skip
    assert caught.value.message_dict["purity_percent"] == [FRACTION]
    assert not Lot.objects.exists()


def test_a_purity_of_0_99_is_refused_by_the_chemical_service(manager):
    with pytest.raises(ValidationError) as caught:
        services.chemical_create(
            user=manager, name="Li2CO3", formula="Li2CO3", default_purity_percent=0.99
        )
    assert caught.value.message_dict["default_purity_percent"] == [FRACTION]
    assert not Chemical.objects.exists()


def test_a_purity_of_0_99_is_a_400_from_the_planning_api(chemist):
    api = APIClient()
    api.force_authenticate(chemist)
    body = {"target_formula": "Li1.2Mn0.6Ni0.2O2", "target_mass_g": 5,
            "precursors": [{"formula": "Li2CO3", "purity_percent": 0.99},
                           {"formula": "MnCO3"}, {"formula": "NiO"}]}  # fmt: skip

    response = api.post("/api/v1/stoichiometry/plan", body, format="json")

    # without the bound this planned 263 g of Li2CO3 for 5 g of product
    assert response.status_code == 400
    assert response.json() == {"errors": {"precursors[0].purity_percent": [FRACTION]}}


def test_a_purity_of_0_99_is_refused_in_the_admin(admin_client, chem):
    data = {"chemical": chem["Ethanol"].pk, "supplier": "Merck", "lot_number": "K1",
            "purity_percent": "0.99", "received_on": "2026-01-05", "amount_left": "1000",
            "amount_unit": "mL", "location": ""}  # fmt: skip

    response = admin_client.post(reverse("admin:synthesis_lot_add"), data)

    assert response.status_code == 200
    assert FRACTION in response.content.decode()
    assert not Lot.objects.exists()


def test_a_recipe_line_purity_of_0_99_is_refused_on_that_line(nso):
    data = recipe_data_from(nso)
    lines = list(data.lines)
    index = next(i for i, line in enumerate(lines) if line.name == "Na2CO3")
    lines[index] = replace(lines[index], purity_percent=0.99)

    with pytest.raises(ValidationError) as caught:
        check_recipe(replace(data, lines=tuple(lines)))

    assert caught.value.message_dict[f"lines-{index}-purity_percent"] == [FRACTION]


# --- temperatures, weighings and sizes ------------------------------------------------------


def test_a_step_logged_at_minus_500_c_is_refused_by_the_service(nso_batch, chemist):
    log = nso_batch.step_logs.get(step__kind="stir")

    with pytest.raises(ValidationError) as caught:
        services.batch_log_step(
            user=chemist, batch=nso_batch, step_log=log, actual_temperature_c=-500
        )

    assert caught.value.message_dict["actual_temperature_c"] == [
        "actual temperature must be between -273.15 and 2000 °C, got -500 °C"
    ]
    log.refresh_from_db()
    assert log.actual_temperature_c is None
    assert Batch.objects.get().status == BatchStatus.PLANNED


def test_a_step_logged_at_minus_500_c_on_the_page_says_why_and_saves_nothing(
    chemist_client, nso_batch
):
    log = nso_batch.step_logs.get(step__kind="stir")
    prefix = f"log-{log.pk}"
    data = {f"{prefix}-actual_temperature_c": "-500", f"{prefix}-rpm": "700",
            f"{prefix}-equipment": "IKA", f"{prefix}-notes": ""}  # fmt: skip

    response = chemist_client.post(
        reverse("synthesis:batch_step", args=[nso_batch.pk, log.pk]), data, follow=True
    )

    assert "actual temperature must be between -273.15 and 2000 °C" in response.content.decode()
    log.refresh_from_db()
    assert (log.actual_temperature_c, log.rpm, log.equipment) == (None, None, "")


def test_a_weighing_of_a_tonne_is_refused_on_its_field(chemist_client, nso_batch):
    soda = reagent(nso_batch, "Na2CO3")

    response = chemist_client.post(
        reverse("synthesis:batch_actuals", args=[nso_batch.pk]), {f"mass_{soda.pk}": "1e6"}
    )

    assert response.status_code == 400
    assert response.context["actuals_form"].errors[f"mass_{soda.pk}"] == [
        "mass of Na2CO3 must be greater than 0 g and at most 100,000 g, got 1,000,000 g"
    ]
    soda.refresh_from_db()
    assert soda.actual_mass_g is None


def test_the_actuals_service_refuses_a_tonne_too(nso_batch, chemist):
    soda = reagent(nso_batch, "Na2CO3")
    with pytest.raises(ValidationError) as caught:
        services.batch_record_actuals(
            user=chemist, batch=nso_batch, actuals={soda.pk: Actual(mass_g=1e6)}
        )
    assert f"mass_{soda.pk}" in caught.value.message_dict
    soda.refresh_from_db()
    assert soda.actual_mass_g is None and Batch.objects.get().status == BatchStatus.PLANNED


@pytest.mark.parametrize("temperature", [50, 2500])
def test_a_calcination_outside_100_to_2000_c_is_refused_and_no_batch_is_planned(
    pristine, chemist, temperature
):
    with pytest.raises(ValidationError) as caught:
        services.batch_create(
            user=chemist,
            recipe=pristine,
            inputs=PlanInputs(target_mass_g=2, calcination_temperature_c=temperature),
        )
    assert caught.value.message_dict["calcination_temperature_c"] == [
        f"calcination temperature must be between 100 and 2000 °C, got {temperature} °C"
    ]
    assert not Batch.objects.exists()


def test_a_tolerance_above_100_percent_is_refused_by_the_service(pristine, chemist):
    with pytest.raises(ValidationError) as caught:
        services.batch_create(
            user=chemist, recipe=pristine, inputs=PlanInputs(target_mass_g=2), tolerance_percent=150
        )
    assert "deviation tolerance must be greater than 0 %" in str(caught.value)
    assert not Batch.objects.exists()


def test_a_lot_of_a_thousand_litres_is_refused_in_its_unit(chemist, chem):
    with pytest.raises(ValidationError) as caught:
        services.lot_create(
            user=chemist, chemical=chem["Ethanol"], supplier="Merck", lot_number="K2",
            amount=1e6, amount_unit="mL", received_on=datetime.date(2026, 1, 5),
        )  # fmt: skip
    assert caught.value.message_dict["amount_left"] == [
        "amount must be between 0 and 100,000 mL, got 1,000,000 mL"
    ]
    assert not Lot.objects.exists()


# --- the database is the last line --------------------------------------------------------


def test_the_database_refuses_a_yield_beyond_10_kg_and_a_step_below_absolute_zero(nso_batch):
    log = nso_batch.step_logs.first()
    updates = [
        (Batch.objects.filter(pk=nso_batch.pk), {"yield_mass_g": 50_000}),
        (BatchStepLog.objects.filter(pk=log.pk), {"actual_temperature_c": -500}),
        (Chemical.objects.filter(name="TEOS"), {"density_g_per_ml": 1e308}),
    ]
    for queryset, values in updates:
        with pytest.raises(IntegrityError), transaction.atomic():
            queryset.update(**values)
    nso_batch.refresh_from_db()
    log.refresh_from_db()
    assert nso_batch.yield_mass_g is None and log.actual_temperature_c is None
    assert Chemical.objects.get(name="TEOS").density_g_per_ml == 0.933


def test_a_lot_saved_with_purity_0_99_before_the_bounds_is_refused_when_planned(
    pristine, lots, chemist
):
    # 0.99 read as 0.99 % planned 100× the Li2CO3 (263 g for 5 g of product)
    lithium = lots["Lithium carbonate"]
    Lot.objects.filter(pk=lithium.pk).update(purity_percent=0.99)
    line = pristine.lines.get(name="Li2CO3")

    with pytest.raises(ValidationError) as caught:
        services.batch_create(
            user=chemist,
            recipe=pristine,
            inputs=PlanInputs(target_mass_g=5, lots={line.pk: Lot.objects.get(pk=lithium.pk)}),
        )

    assert caught.value.message_dict[f"lot_{line.pk}"] == [
        "0.99 looks like a fraction: purity of Li2CO3 is in percent, enter 99 "
        f"(correct lot {lithium.lot_number})"
    ]
    assert not Batch.objects.exists()


def test_an_amount_in_mol_beyond_ten_kilograms_of_product_is_a_400(chemist):
    # 1000 mol × 85.03 g/mol = 85 kg of Li1.2Mn0.6Ni0.2O2
    api = APIClient()
    api.force_authenticate(chemist)
    precursors = [{"formula": "Li2CO3"}, {"formula": "MnCO3"}, {"formula": "NiO"}]
    body = {
        "target_formula": "Li1.2Mn0.6Ni0.2O2",
        "target_amount_mol": 1000,
        "precursors": precursors,
    }

    response = api.post("/api/v1/stoichiometry/plan", body, format="json")

    assert response.status_code == 400
    [message] = response.json()["errors"]["target_amount_mol"]
    assert message.startswith("target mass (amount × molar mass) must be greater than 0 g and")
