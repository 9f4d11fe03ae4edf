"""The chemistry API: exact routes and field names; 400 {"errors": {field: [...]}} on bad input."""

from __future__ import annotations

import pytest
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

NSO = {
    "substrate_formula": "Li1.2Mn0.6Ni0.2O2",
    "substrate_mass_g": 1.0,
    "coating_formula": "Na2SiO3",
    "coating_wt_percent": 1.0,
    "precursors": [
        {"formula": "Si(OC2H5)4", "name": "TEOS", "density_g_per_ml": 0.933},
        {"formula": "Na2CO3", "purity_percent": 100},
    ],
}
LMNO_PLAN = {
    "target_formula": "Li1.2Mn0.6Ni0.2O2",
    "target_mass_g": 10.0,
    "precursors": [
        {"formula": "Li2CO3", "purity_percent": 99.0},
        {"formula": "MnCO3"},
        {"formula": "Ni(CH3COO)2·4H2O"},
    ],
    "excess_percent": {"Li": 5},
}


@pytest.fixture
def api(chemist) -> APIClient:
    client = APIClient()
    client.force_authenticate(chemist)
    return client


def test_molar_mass_of_lmno_from_standard_atomic_weights(api):
    body = api.get("/api/v1/chemistry/molar-mass", {"formula": "Li1.2Mn0.6Ni0.2O2"}).json()
    # 1.2×6.94 + 0.6×54.938043 + 0.2×58.6934 + 2×15.999 = 8.328 + 32.9628258 + 11.73868 + 31.998
    assert body["molar_mass_g_per_mol"] == pytest.approx(85.0275058, rel=1e-9)
    assert body["elements"] == pytest.approx({"Li": 1.2, "Mn": 0.6, "Ni": 0.2, "O": 2.0})
    assert body["formula"] == "Li1.2Mn0.6Ni0.2O2"


def test_a_hydrate_typed_with_a_period_is_a_400_naming_the_formula(api):
    response = api.get("/api/v1/chemistry/molar-mass", {"formula": "Ni(CH3COO)2.4H2O"})
    assert response.status_code == 400
    [message] = response.json()["errors"]["formula"]
    assert "Ni(CH3COO)2.4H2O" in message and "·" in message


@pytest.mark.parametrize("formula", ["", "Xx2O", "Li2(CO3"])
def test_bad_formulas_are_400_on_the_formula_field(api, formula):
    response = api.get("/api/v1/chemistry/molar-mass", {"formula": formula})
    assert response.status_code == 400
    assert list(response.json()["errors"]) == ["formula"]


def test_coating_plan_gives_teos_volume_and_na2co3_mass_for_one_gram_at_one_percent(api):
    body = api.post("/api/v1/stoichiometry/coating", NSO, format="json").json()
    # Na2SiO3: 2×22.98976928 + 28.085 + 3×15.999 = 122.06154 g/mol; 0.0100 g -> 8.19259e-5 mol
    assert body["basis"] == "substrate"
    assert body["coating"]["mass_g"] == pytest.approx(0.0100, rel=1e-12)
    assert body["coating"]["amount_mol"] == pytest.approx(8.19259e-5, rel=1e-5)
    teos, na2co3 = body["precursors"]
    assert teos["name"] == "TEOS" and teos["mass_g"] == pytest.approx(0.0170675, rel=1e-5)
    assert teos["volume_ml"] == pytest.approx(0.0170675 / 0.933, rel=1e-5)  # 18.29 µL
    assert na2co3["mass_g"] == pytest.approx(0.0086831, rel=1e-4) and na2co3["volume_ml"] is None
    assert set(body["element_balance"]) == {"Na", "Si"}


def test_plan_for_lmno_with_li_excess_balances_every_metal(api):
    body = api.post("/api/v1/stoichiometry/plan", LMNO_PLAN, format="json").json()
    n_target = 10.0 / 85.0275058
    assert body["target"]["amount_mol"] == pytest.approx(n_target, rel=1e-9)
    li2co3, mnco3, ni_acetate = body["precursors"]
    assert li2co3["amount_mol"] == pytest.approx(n_target * 1.2 / 2 * 1.05, rel=1e-9)
    assert li2co3["mass_g"] == pytest.approx(li2co3["amount_mol"] * 73.888 / 0.99, rel=1e-6)
    assert mnco3["amount_mol"] == pytest.approx(n_target * 0.6, rel=1e-9)
    assert ni_acetate["amount_mol"] == pytest.approx(n_target * 0.2, rel=1e-9)
    for balance in body["element_balance"].values():
        assert balance["supplied_mol"] == pytest.approx(balance["required_mol"], rel=1e-9)


@pytest.mark.parametrize(
    "change, field",
    [
        ({"target_mass_g": -1}, "target_mass_g"),
        ({"target_mass_g": None}, "target_mass_g"),
        ({"target_formula": "Li1.2Mn0.6Ni0.2Q2"}, "target_formula"),
        ({"precursors": []}, "precursors"),
        ({"precursors": [{"formula": "Li2CO3"}, {"formula": "MnCO3"}]}, "precursors"),
        ({"precursors": [{"formula": "Li2CO3", "purity_percent": 120}, {"formula": "MnCO3"},
                         {"formula": "NiO"}]}, "precursors[0].purity_percent"),
        ({"precursors": [{"formula": "Li2CO3"}, {"formula": "MnCO3"}, {"formula": "NiO"},
                         {"formula": "CoO"}]}, "precursors[3].formula"),
        ({"precursors": [{"formula": 7}]}, "precursors[0].formula"),
        ({"excess_percent": {"Li": "lots"}}, "excess_percent.Li"),
    ],
)  # fmt: skip
def test_bad_plans_are_400_naming_the_field(api, change, field):
    response = api.post("/api/v1/stoichiometry/plan", {**LMNO_PLAN, **change}, format="json")
    assert response.status_code == 400, response.content
    errors = response.json()["errors"]
    assert field in errors, errors
    assert all(isinstance(m, str) and m for m in errors[field])


@pytest.mark.parametrize(
    "change, field",
    [
        ({"coating_wt_percent": 0}, "coating_wt_percent"),
        ({"coating_wt_percent": 100}, "coating_wt_percent"),
        ({"substrate_mass_g": 0}, "substrate_mass_g"),
        ({"substrate_formula": "LMNO"}, "substrate_formula"),
        ({"basis": "volume"}, "basis"),
    ],
)
def test_bad_coatings_are_400_naming_the_field(api, change, field):
    response = api.post("/api/v1/stoichiometry/coating", {**NSO, **change}, format="json")
    assert response.status_code == 400, response.content
    assert field in response.json()["errors"]


def test_malformed_json_is_a_400_on_the_body(api):
    response = api.post("/api/v1/stoichiometry/plan", "{not json", content_type="application/json")
    assert response.status_code == 400
    assert "body" in response.json()["errors"]


def test_the_api_refuses_anonymous_callers_with_json_not_a_login_redirect(db):
    response = APIClient().get("/api/v1/chemistry/molar-mass", {"formula": "Li2CO3"})
    assert response.status_code in (401, 403)
    assert "errors" in response.json()


def test_a_token_in_the_authorization_header_authenticates(chemist):
    token = Token.objects.create(user=chemist)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    response = client.get("/api/v1/chemistry/molar-mass", {"formula": "Li2CO3"})
    assert response.status_code == 200
    assert response.json()["molar_mass_g_per_mol"] == pytest.approx(73.888, rel=1e-6)


def test_the_openapi_schema_lists_every_contract_route(api):
    response = api.get("/api/schema/", HTTP_ACCEPT="application/json")
    assert response.status_code == 200
    paths = set(response.json()["paths"])
    assert {
        "/api/v1/chemistry/molar-mass",
        "/api/v1/stoichiometry/plan",
        "/api/v1/stoichiometry/coating",
        "/api/v1/structure/layered-metrics",
        "/api/v1/cells/disc-metrics",
    } <= paths
