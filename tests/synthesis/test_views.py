"""The synthesis pages: errors land on their field and save nothing; actions change the DB."""

from __future__ import annotations

import pytest
from django.urls import reverse

from lims.models import Sample, SampleKind
from synthesis import queries, services
from synthesis.models import Batch, BatchStatus, Chemical, Lot, Recipe
from synthesis.services import Actual
from tests.lims.factories import UserFactory
from tests.synthesis.conftest import reagent

pytestmark = pytest.mark.django_db


@pytest.fixture
def chemist_client(client, chemist):
    client.force_login(chemist)
    return client


@pytest.fixture
def manager_client(client, manager):
    client.force_login(manager)
    return client


def plan_data(recipe, sample, **overrides) -> dict:
    lots = {f"lot_{line_id}": lot.pk for line_id, lot in queries.default_lots(recipe).items()}
    data = {
        "substrate": sample.pk,
        "substrate_mass_g": "1.000",
        "coating_wt_percent": "1",
        "calcination_temperature_c": "750",
        "tolerance_percent": "2",
        "notes": "",
        **lots,
    }
    return {**data, **overrides}


# --- planning -------------------------------------------------------------------------------


def test_the_quantities_partial_shows_the_teos_volume_for_the_typed_substrate_mass(
    chemist_client, nso, lots, substrate
):
    url = reverse("synthesis:batch_quantities", args=[nso.pk])

    response = chemist_client.post(url, plan_data(nso, substrate), HTTP_HX_REQUEST="true")

    html = response.content.decode()
    teos_row = html[html.index('data-reagent="TEOS"') :].split("</tr>")[0]
    assert "18.67 µL" in teos_row and "17.42 mg" in teos_row
    assert "208.33 g/mol" in teos_row and "98 %" in teos_row and "0.933 g/mL" in teos_row
    assert "<html" not in html  # a partial, not a page
    assert not Batch.objects.exists()


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        ({"substrate_mass_g": "0"}, "substrate_mass_g", "must be greater than 0 g and at most"),
        ({"substrate_mass_g": "-1.5"}, "substrate_mass_g", "10,000 g, got -1.5 g"),
        ({"substrate_mass_g": ""}, "substrate_mass_g", "Enter the substrate mass (g)."),
        ({"coating_wt_percent": "0"}, "coating_wt_percent", "greater than 0 wt% and less than"),
        ({"coating_wt_percent": "100"}, "coating_wt_percent", "less than 100 wt%, got 100 wt%"),
        ({"coating_wt_percent": "250"}, "coating_wt_percent", "less than 100 wt%, got 250 wt%"),
        ({"substrate": "999999"}, "substrate", "Select a valid choice"),
        ({"substrate_mass_g": "25000"}, "substrate_mass_g", "check the unit"),
        ({"substrate_mass_g": "1e400"}, "substrate_mass_g", "Enter a number"),
        ({"tolerance_percent": "0"}, "tolerance_percent", "greater than 0 % and at most 100 %"),
    ],
)
def test_bad_plan_input_shows_on_its_field_and_saves_nothing(
    chemist_client, nso, lots, substrate, overrides, field, message
):
    url = reverse("synthesis:batch_plan", args=[nso.pk])

    response = chemist_client.post(url, plan_data(nso, substrate, **overrides))

    assert response.status_code == 200
    assert message in " ".join(response.context["form"].errors[field])
    assert f'id="id_{field}-error"' in response.content.decode()
    assert not Batch.objects.exists()


def test_a_substrate_whose_formula_does_not_parse_is_an_error_on_the_substrate(
    chemist_client, nso, lots
):
    bad = Sample.objects.create(
        code="CAT-2026-0777",
        kind=SampleKind.CATHODE,
        name="mislabelled",
        formula="Li1.2Mn0.6Ni0.2O2.H2O",
    )
    url = reverse("synthesis:batch_plan", args=[nso.pk])

    response = chemist_client.post(url, plan_data(nso, bad))

    errors = response.context["form"].errors["substrate"]
    assert "CAT-2026-0777" in errors[0] and "hydrate" in errors[0]
    assert not Batch.objects.exists()


def test_saving_the_plan_freezes_it_and_opens_the_batch(chemist_client, nso, lots, substrate):
    url = reverse("synthesis:batch_plan", args=[nso.pk])

    response = chemist_client.post(url, plan_data(nso, substrate, notes="first try"))

    batch = Batch.objects.get()
    assert response.status_code == 302
    assert response.url == reverse("synthesis:batch_detail", args=[batch.pk])
    assert batch.notes == "first try" and batch.substrate == substrate
    assert reagent(batch, "TEOS").lot == lots["TEOS"]


def test_a_user_without_a_lab_role_may_not_plan(client, nso, substrate):
    client.force_login(UserFactory(username="visitor"))

    response = client.post(
        reverse("synthesis:batch_plan", args=[nso.pk]), plan_data(nso, substrate)
    )

    assert response.status_code == 403
    assert "Your account has no role yet" in response.content.decode()
    assert not Batch.objects.exists()


def test_a_series_is_planned_from_one_form(chemist_client, nso, lots, substrate):
    url = reverse("synthesis:series_plan", args=[nso.pk])
    data = plan_data(
        nso, substrate, parameter="coating_wt_percent", values="0.5, 1, 2, 3", name="wt% screen"
    )

    response = chemist_client.post(url, data)

    assert response.status_code == 302
    assert Batch.objects.filter(series__name="wt% screen").count() == 4
    page = chemist_client.get(response.url).content.decode()
    assert "Weighing list" in page and "TEOS" in page


def test_series_values_that_are_not_numbers_are_an_error_on_the_values(
    chemist_client, nso, substrate
):
    url = reverse("synthesis:series_plan", args=[nso.pk])

    response = chemist_client.post(
        url, plan_data(nso, substrate, parameter="coating_wt_percent", values="1, two")
    )

    assert "'two' is not a number" in response.context["form"].errors["values"][0]
    assert not Batch.objects.exists()


# --- logging and completing -----------------------------------------------------------------


def test_recorded_actuals_beyond_tolerance_are_flagged_on_the_page(chemist_client, nso_batch):
    soda = reagent(nso_batch, "Na2CO3")
    url = reverse("synthesis:batch_actuals", args=[nso_batch.pk])

    response = chemist_client.post(
        url, {f"mass_{soda.pk}": "0.0095", f"lot_{soda.pk}": soda.lot_id}, follow=True
    )

    soda.refresh_from_db()
    assert soda.actual_mass_g == 0.0095 and soda.flagged
    assert soda.deviation_percent == pytest.approx((0.0095 / soda.planned_mass_g - 1) * 100)
    assert "Beyond the ±2 % tolerance: Na2CO3 (+8.9 %)" in response.content.decode()


def test_a_negative_actual_mass_is_an_error_on_its_field(chemist_client, nso_batch):
    soda = reagent(nso_batch, "Na2CO3")
    url = reverse("synthesis:batch_actuals", args=[nso_batch.pk])

    response = chemist_client.post(url, {f"mass_{soda.pk}": "-0.01"})

    assert response.status_code == 400
    assert "must be greater than 0" in response.context["actuals_form"].errors[f"mass_{soda.pk}"][0]
    soda.refresh_from_db()
    assert soda.actual_mass_g is None


def test_ticking_a_step_returns_its_row_and_starts_the_batch(chemist_client, nso_batch):
    log = nso_batch.step_logs.get(order=2)
    url = reverse("synthesis:batch_step", args=[nso_batch.pk, log.pk])

    response = chemist_client.post(url, {"quick": "1", "done": "on"}, HTTP_HX_REQUEST="true")

    html = response.content.decode()
    assert html.startswith(f'<tr id="step-{log.pk}" class="kiln-done">')
    assert 'hx-swap-oob="true"' in html and "In progress" in html
    log.refresh_from_db()
    assert log.done
    assert Batch.objects.get().status == BatchStatus.IN_PROGRESS


def test_completing_from_the_page_shows_the_new_product_code(chemist_client, nso_batch, chemist):
    services.batch_start(user=chemist, batch=nso_batch)
    url = reverse("synthesis:batch_complete", args=[nso_batch.pk])

    response = chemist_client.post(url, {"yield_mass_g": "0.97"}, follow=True)

    batch = Batch.objects.get()
    assert batch.status == BatchStatus.COMPLETED
    assert f"product registered as {batch.product.code}" in response.content.decode()
    assert batch.product.code in response.content.decode()


def test_completing_an_already_completed_batch_tells_the_chemist(
    chemist_client, nso_batch, manager
):
    services.batch_start(user=manager, batch=nso_batch)
    services.batch_complete(user=manager, batch=nso_batch)
    lots_after = dict(Lot.objects.values_list("pk", "amount_left"))
    url = reverse("synthesis:batch_complete", args=[nso_batch.pk])

    response = chemist_client.post(url, {"yield_mass_g": ""}, follow=True)

    assert "is completed by maria" in response.content.decode()
    assert dict(Lot.objects.values_list("pk", "amount_left")) == lots_after


def test_a_zero_yield_is_refused(chemist_client, nso_batch, chemist):
    services.batch_start(user=chemist, batch=nso_batch)

    response = chemist_client.post(
        reverse("synthesis:batch_complete", args=[nso_batch.pk]), {"yield_mass_g": "0"}
    )

    assert response.status_code == 400
    assert Batch.objects.get().status == BatchStatus.IN_PROGRESS


def test_the_printable_sheet_has_planned_quantities_blanks_and_step_checkboxes(
    chemist_client, nso_batch
):
    response = chemist_client.get(reverse("synthesis:batch_sheet", args=[nso_batch.pk]))

    html = response.content.decode()
    assert "17.42 mg" in html and "18.67 µL" in html and "8.727 mg" in html  # TEOS, Na2CO3
    assert "50.00 mL" in html  # water, fixed per gram of substrate
    assert "Calcine 750 °C, 12 h, 5 °C/min, air" in html and "Stir 12 h, 700 rpm" in html
    assert html.count('class="kiln-box"') == 6 + 9  # a tick per reagent and per step
    assert html.count("kiln-blank") >= 6 * 2 + 9 * 4  # actual, deviation; start, end, ...
    assert "window.print()" in html and "CIAAW" in html


def test_the_sheet_stylesheet_prints_on_a4():
    from django.contrib.staticfiles import finders

    with open(finders.find("kiln/kiln.css"), encoding="utf-8") as stylesheet:
        css = stylesheet.read()
    assert "@page { size: A4" in css and ".kiln-sheet-table" in css


def test_a_calcination_override_is_shown_on_the_sheet(chemist_client, nso, substrate, chemist):
    from synthesis.planning import PlanInputs

    batch = services.batch_create(
        user=chemist,
        recipe=nso,
        inputs=PlanInputs(substrate=substrate, substrate_mass_g=1.0, calcination_temperature_c=700),
    )

    html = chemist_client.get(reverse("synthesis:batch_sheet", args=[batch.pk])).content.decode()
    assert "this batch: 700 °C" in html


# --- index ----------------------------------------------------------------------------------


def test_the_index_filters_batches_by_status_and_calcination(
    chemist_client, nso, pristine, substrate, chemist
):
    from synthesis.planning import PlanInputs

    coat = services.batch_create(
        user=chemist, recipe=nso, inputs=PlanInputs(substrate=substrate, substrate_mass_g=1.0)
    )
    bulk = services.batch_create(
        user=chemist, recipe=pristine, inputs=PlanInputs(target_mass_g=2.0)
    )
    services.batch_start(user=chemist, batch=bulk)
    url = reverse("synthesis:index")

    def codes(**params):
        return [b.code for b in chemist_client.get(url, params).context["page"]]

    assert codes() == [bulk.code, coat.code]
    assert codes(status="in_progress") == [bulk.code]
    assert codes(calcination_min_c="800") == [bulk.code]
    assert codes(calcination_max_c="800") == [coat.code]
    assert codes(family=nso.family) == [coat.code]
    partial = chemist_client.get(url, {"status": "planned"}, HTTP_HX_REQUEST="true")
    assert "<html" not in partial.content.decode() and coat.code in partial.content.decode()


# --- inventory ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        ({"default_purity_percent": "150"}, "default_purity_percent", "at most 100 %"),
        ({"default_purity_percent": "0"}, "default_purity_percent", "greater than 0 %"),
        ({"formula": "Qq2O"}, "formula", "unknown element 'Qq'"),
        ({"formula": "LiOH.H2O"}, "formula", "hydrate written with a period"),
        ({"cas_number": "1310-66-2"}, "cas_number", "wrong check digit"),
    ],
)
def test_bad_chemical_input_shows_on_its_field_and_saves_nothing(
    manager_client, overrides, field, message
):
    data = {
        "name": "Lithium hydroxide monohydrate",
        "formula": "LiOH·H2O",
        "cas_number": "1310-66-3",
        "default_purity_percent": "98",
    }

    response = manager_client.post(reverse("synthesis:chemical_new"), {**data, **overrides})

    assert message in " ".join(response.context["form"].errors[field])
    assert not Chemical.objects.exists()


def test_a_new_chemical_leads_to_receiving_its_first_lot(manager_client):
    data = {
        "name": "Lithium hydroxide monohydrate",
        "formula": "LiOH*H2O",
        "cas_number": "1310-66-3",
        "default_purity_percent": "98",
    }

    response = manager_client.post(reverse("synthesis:chemical_new"), data)

    chemical = Chemical.objects.get()
    assert chemical.formula == "LiOH·H2O"
    assert response.url == f"{reverse('synthesis:lot_new')}?chemical={chemical.pk}"


def test_receiving_a_lot_from_the_page_registers_its_sample(manager_client, chem):
    data = {
        "chemical": chem["TEOS"].pk,
        "supplier": "Sigma-Aldrich",
        "lot_number": "SHBM1",
        "purity_percent": "",
        "amount_left": "100",
        "amount_unit": "mL",
        "received_on": "2026-01-05",
        "expires_on": "2028-01-05",
        "location": "Cab A",
    }

    manager_client.post(reverse("synthesis:lot_new"), data)

    lot = Lot.objects.get()
    assert lot.purity_percent == 98.0 and lot.sample.kind == SampleKind.REAGENT
    listing = manager_client.get(reverse("synthesis:lot_list")).content.decode()
    assert lot.sample.code in listing and "SHBM1" in listing


def test_a_lot_purity_above_100_percent_is_refused_on_the_field(manager_client, chem):
    data = {
        "chemical": chem["TEOS"].pk,
        "supplier": "Sigma-Aldrich",
        "lot_number": "SHBM1",
        "purity_percent": "100.5",
        "amount_left": "100",
        "amount_unit": "mL",
        "received_on": "2026-01-05",
    }

    response = manager_client.post(reverse("synthesis:lot_new"), data)

    assert "at most 100 %" in response.context["form"].errors["purity_percent"][0]
    assert not Lot.objects.exists() and not Sample.objects.exists()


def test_the_pages_render(chemist_client, manager, nso_batch, pristine):
    for name, args in [
        ("index", []),
        ("recipe_detail", [nso_batch.recipe_id]),
        ("batch_plan", [pristine.pk]),
        ("batch_plan", [nso_batch.recipe_id]),
        ("series_plan", [pristine.pk]),
        ("batch_detail", [nso_batch.pk]),
        ("batch_new", []),
        ("chemical_list", []),
        ("lot_list", []),
    ]:
        response = chemist_client.get(reverse(f"synthesis:{name}", args=args))
        assert response.status_code == 200, name
    chemist_client.force_login(manager)  # chemicals and lots are lab managers' (lims.rules)
    for name in ("chemical_new", "lot_new"):
        assert chemist_client.get(reverse(f"synthesis:{name}")).status_code == 200, name


def test_the_pristine_plan_form_shows_quantities_for_the_reference_mass(chemist_client, pristine):
    html = chemist_client.get(reverse("synthesis:batch_plan", args=[pristine.pk])).content.decode()

    # 1 g: n(Li2CO3) = 0.6 × 1.05 × 1/85.0275 mol; × 73.888 g/mol / 0.99 = 0.55299 g
    assert "553.0 mg" in html and "Quantities" in html


def test_recording_actuals_on_a_completed_batch_is_refused(chemist_client, nso_batch, chemist):
    services.batch_record_actuals(
        user=chemist,
        batch=nso_batch,
        actuals={reagent(nso_batch, "Na2CO3").pk: Actual(mass_g=0.0087)},
    )
    services.batch_complete(user=chemist, batch=nso_batch)
    soda = reagent(nso_batch, "Na2CO3")

    response = chemist_client.post(
        reverse("synthesis:batch_actuals", args=[nso_batch.pk]),
        {f"mass_{soda.pk}": "0.02"},
        follow=True,
    )

    assert "its record is closed" in response.content.decode()
    soda.refresh_from_db()
    assert soda.actual_mass_g == 0.0087


def test_recipes_listed_on_the_index_link_to_plan_and_series(chemist_client, nso):
    html = chemist_client.get(reverse("synthesis:index")).content.decode()

    assert reverse("synthesis:batch_plan", args=[nso.pk]) in html
    assert reverse("synthesis:series_plan", args=[nso.pk]) in html
    assert Recipe.objects.count() == 1


def test_an_expired_lot_is_a_warning_on_the_plan_and_on_the_batch(
    chemist_client, nso, lots, substrate
):
    Lot.objects.filter(pk=lots["TEOS"].pk).update(expires_on="2021-03-04")
    url = reverse("synthesis:batch_quantities", args=[nso.pk])

    partial = chemist_client.post(
        url, plan_data(nso, substrate, **{f"lot_{nso.lines.get(name='TEOS').pk}": lots["TEOS"].pk})
    )
    saved = chemist_client.post(
        reverse("synthesis:batch_plan", args=[nso.pk]),
        plan_data(nso, substrate, **{f"lot_{nso.lines.get(name='TEOS').pk}": lots["TEOS"].pk}),
        follow=True,
    )

    warning = "TEOS: lot L-0 expired on 2021-03-04."
    assert warning in partial.content.decode()
    assert warning in saved.content.decode()
    assert Batch.objects.count() == 1
