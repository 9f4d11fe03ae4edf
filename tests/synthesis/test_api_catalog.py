"""Chemicals, lots and recipes through /api/v1/ (issue 11 §1): filtered lists, records, and the
"new chemical" and "receive a lot" pages' rules for lab managers."""

from __future__ import annotations

import datetime

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from lims.models import Sample
from synthesis.models import Chemical, Lot
from tests.lims.factories import UserFactory

pytestmark = pytest.mark.django_db
# Li 6.94, C 12.011, O 15.999 (CIAAW abridged): 2 × 6.94 + 12.011 + 3 × 15.999 = 73.888
LI2CO3_G_PER_MOL = 73.888


def signed_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def post(client: Client, name: str, body: dict):
    return client.post(reverse(f"api:{name}"), body, content_type="application/json")


def listed(client: Client, route: str, **params) -> list[dict]:
    response = client.get(reverse(f"api:{route}"), params)
    assert response.status_code == 200, response.content
    return response.json()["results"]


# --- chemicals ----------------------------------------------------------------------------------


def test_a_lab_manager_adds_a_chemical_with_its_molar_mass(manager):
    body = {"name": "Lithium carbonate", "formula": " Li2CO3 ", "cas_number": "554-13-2",
            "default_purity_percent": 99.0}  # fmt: skip

    response = post(signed_in(manager), "chemical-create", body)

    assert response.status_code == 201, response.content
    saved = Chemical.objects.get()
    assert (saved.name, saved.formula, saved.default_purity_percent) == (
        "Lithium carbonate", "Li2CO3", 99.0
    )  # fmt: skip
    assert saved.created_by == manager
    answer = response.json()
    assert answer["id"] == saved.pk and answer["lot_count"] == 0
    assert answer["molar_mass_g_per_mol"] == pytest.approx(LI2CO3_G_PER_MOL, abs=1e-3)


def test_a_chemist_may_not_add_a_chemical_and_is_told_why(chemist):
    response = post(signed_in(chemist), "chemical-create", {"name": "X", "formula": "NaCl"})

    assert response.status_code == 403
    assert response.json()["errors"]["non_field_errors"] == ["Only lab managers add chemicals."]
    assert not Chemical.objects.exists()


@pytest.mark.parametrize(
    ("body", "field", "words"),
    [
        ({"formula": "Li2Xx3"}, "formula", "Xx"),
        ({"cas_number": "554-13-3"}, "cas_number", "check digit"),
        ({"default_purity_percent": 0}, "default_purity_percent", "purity"),
        ({"density_g_per_ml": "dense"}, "density_g_per_ml", "number"),
        ({"name": ""}, "name", "blank"),
    ],
)
def test_a_bad_chemical_names_the_field_and_saves_nothing(manager, body, field, words):
    response = post(
        signed_in(manager), "chemical-create", {"name": "Li salt", "formula": "Li2CO3", **body}
    )

    assert response.status_code == 400
    errors = response.json()["errors"]
    assert list(errors) == [field]
    assert words.lower() in " ".join(errors[field]).lower()
    assert not Chemical.objects.exists()


def test_a_chemical_name_is_unique_whatever_its_case(manager, chem):
    response = post(
        signed_in(manager), "chemical-create", {"name": "lithium CARBONATE", "formula": "Li2CO3"}
    )

    assert response.status_code == 400
    assert "name" in str(response.json()["errors"]).lower()
    assert Chemical.objects.filter(name__iexact="lithium carbonate").count() == 1


def test_chemicals_filter_by_formula_supplier_and_liquid(chemist, chem, lots):
    client = signed_in(chemist)

    assert [c["name"] for c in listed(client, "chemical-list", formula="co3")] == [
        "Lithium carbonate", "Manganese(II) carbonate", "Sodium carbonate"
    ]  # fmt: skip
    liquids = {c["name"] for c in listed(client, "chemical-list", liquid="true")}
    assert liquids == {c.name for c in chem.values() if c.density_g_per_ml is not None}
    assert "TEOS" in liquids and "Lithium carbonate" not in liquids
    assert len(listed(client, "chemical-list", supplier="sigma")) == len(chem)
    assert listed(client, "chemical-list", supplier="Alfa") == []
    teos = next(c for c in listed(client, "chemical-list", name="teos"))
    assert teos["lot_count"] == 1 and teos["density_g_per_ml"] == 0.933


def test_a_chemical_is_read_by_id_and_an_unknown_id_is_404(chemist, chem):
    client = signed_in(chemist)
    teos = chem["TEOS"]

    found = client.get(reverse("api:chemical-detail", args=[teos.pk]))
    missing = client.get(reverse("api:chemical-detail", args=[teos.pk + 1000]))
    not_an_id = client.get("/api/v1/chemicals/null")

    assert found.status_code == 200 and found.json()["formula"] == teos.formula
    assert missing.status_code == 404 and "errors" in missing.json()
    assert not_an_id.status_code == 404 and "errors" in not_an_id.json()


# --- lots ---------------------------------------------------------------------------------------


def test_a_lab_manager_receives_a_lot_registered_as_a_reagent_sample(manager, chem):
    soda = chem["Sodium carbonate"]
    body = {"chemical": soda.pk, "supplier": "Alfa Aesar", "lot_number": "X-17",
            "amount_left": 500, "amount_unit": "g", "expires_on": "2030-01-31"}  # fmt: skip

    response = post(signed_in(manager), "lot-create", body)

    assert response.status_code == 201, response.content
    lot = Lot.objects.get(lot_number="X-17")
    assert (lot.amount_left, lot.purity_percent, lot.received_on) == (
        500.0, soda.default_purity_percent, timezone.localdate()
    )  # fmt: skip
    assert lot.sample.kind == "reagent" and lot.sample.owner == manager
    assert response.json()["code"] == lot.sample.code
    assert response.json()["chemical"] == {"id": soda.pk, "name": soda.name,
                                           "formula": soda.formula}  # fmt: skip


@pytest.mark.parametrize(
    ("change", "field", "message"),
    [
        ({"amount_left": 0}, "amount_left", "The amount must be greater than 0, got 0."),
        ({"expires_on": "2019-12-31"}, "expires_on", "The expiry date is before the received"),
        ({"chemical": 999999}, "chemical", "Select a valid choice"),
        ({"amount_unit": "kg"}, "amount_unit", '"kg" is not a valid choice.'),
    ],
)
def test_a_bad_lot_names_the_field_and_registers_nothing(manager, chem, change, field, message):
    body = {"chemical": chem["Ethanol"].pk, "supplier": "VWR", "lot_number": "E-1",
            "amount_left": 2500, "amount_unit": "mL", "received_on": "2020-01-01",
            **change}  # fmt: skip
    samples = Sample.objects.count()

    response = post(signed_in(manager), "lot-create", body)

    assert response.status_code == 400
    assert message in response.json()["errors"][field][0]
    assert not Lot.objects.exists() and Sample.objects.count() == samples


def test_a_chemist_may_not_receive_a_lot(chemist, chem):
    body = {"chemical": chem["Ethanol"].pk, "supplier": "VWR", "lot_number": "E-1",
            "amount_left": 1, "amount_unit": "mL"}  # fmt: skip

    response = post(signed_in(chemist), "lot-create", body)

    assert response.status_code == 403
    assert response.json()["errors"]["non_field_errors"] == ["Only lab managers add lots."]
    assert not Lot.objects.exists()


def test_lots_filter_by_chemical_expiry_and_what_is_left(chemist, chem, lots):
    li, soda = lots["Lithium carbonate"], lots["Sodium carbonate"]
    Lot.objects.filter(pk=li.pk).update(expires_on=timezone.localdate() - datetime.timedelta(1))
    Lot.objects.filter(pk=soda.pk).update(amount_left=0)
    client = signed_in(chemist)

    by_chemical = listed(client, "lot-list", chemical=chem["TEOS"].pk)
    expired = listed(client, "lot-list", expired="true")
    low = listed(client, "lot-list", amount_left_max=50, include_empty="true")

    assert [lot["id"] for lot in by_chemical] == [lots["TEOS"].pk]
    assert (
        by_chemical[0]["amount_unit"] == "mL" and by_chemical[0]["code"] == lots["TEOS"].sample.code
    )
    assert [(lot["id"], lot["expired"]) for lot in expired] == [(li.pk, True)]
    assert [lot["id"] for lot in low] == [soda.pk]
    assert soda.pk not in {lot["id"] for lot in listed(client, "lot-list")}  # empty: not listed
    assert len(listed(client, "lot-list", include_empty="true")) == len(lots)


# --- recipes ------------------------------------------------------------------------------------


def test_a_recipe_reads_with_its_lines_and_steps(chemist, pristine, chem):
    response = signed_in(chemist).get(reverse("api:recipe-detail", args=[pristine.pk]))

    assert response.status_code == 200
    recipe = response.json()
    assert (recipe["family"], recipe["version"], recipe["latest_version"]) == ("lmno", 1, 1)
    li2co3 = recipe["lines"][0]
    assert (li2co3["name"], li2co3["chemical"], li2co3["excess_element"],
            li2co3["excess_percent"], li2co3["purity_percent"]) == (
        "Li2CO3", chem["Lithium carbonate"].pk, "Li", 5.0, 99.0
    )  # fmt: skip
    ethanol = recipe["lines"][3]
    assert (ethanol["in_stoichiometry"], ethanol["fixed_amount"], ethanol["fixed_unit"]) == (
        False, 10.0, "mL"
    )  # fmt: skip
    assert [s["kind"] for s in recipe["steps"]] == ["mix", "dry", "calcine", "grind", "calcine"]
    assert recipe["steps"][4]["parameters"]["temperature_c"] == 900


def test_recipes_filter_by_kind_name_and_latest_version(chemist, pristine, nso):
    client = signed_in(chemist)

    assert [r["family"] for r in listed(client, "recipe-list", kind="coating")] == ["nso"]
    assert [r["family"] for r in listed(client, "recipe-list", name="pristine")] == ["lmno"]
    assert {r["family"] for r in listed(client, "recipe-list", latest="true")} == {"lmno", "nso"}
    assert client.get(reverse("api:recipe-list"), {"kind": "magic"}).status_code == 400


def test_a_user_in_no_group_reads_no_chemical():
    client = signed_in(UserFactory(username="nobody"))

    response = client.get(reverse("api:chemical-list"))

    assert response.status_code == 403
    assert "no role" in response.json()["errors"]["non_field_errors"][0]


# --- the schema ---------------------------------------------------------------------------------


def test_the_schema_documents_the_catalog_operations_and_their_filters(manager):
    schema = signed_in(manager).get("/api/schema/", {"format": "json"}).json()
    paths = schema["paths"]

    assert {"get"} == set(paths["/api/v1/chemicals/{id}"]) == set(paths["/api/v1/recipes/{id}"])
    assert "post" in paths["/api/v1/chemicals/new"] and "post" in paths["/api/v1/lots/new"]
    filters = {p["name"] for p in paths["/api/v1/lots/"]["get"]["parameters"]}
    assert {"chemical", "supplier", "expired", "amount_left_max", "include_empty", "limit",
            "offset"} <= filters  # fmt: skip
    chemical_filters = {p["name"] for p in paths["/api/v1/chemicals/"]["get"]["parameters"]}
    assert {"name", "formula", "supplier", "liquid"} <= chemical_filters
    assert "403" in paths["/api/v1/chemicals/new"]["post"]["responses"]
