"""Samples filtered across lineage by how their powder was made (API and admin)."""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from lims.services import ParentLink, sample_register
from synthesis import services

pytestmark = pytest.mark.django_db


@pytest.fixture
def cells(nso_batch, chemist):
    """Two cells from the NSO product, one cell from an unrelated powder."""
    services.batch_start(user=chemist, batch=nso_batch)
    batch = services.batch_complete(user=chemist, batch=nso_batch, yield_mass_g=0.96)
    sheet = sample_register(kind="electrode", name="sheet",
                            parents=[ParentLink(batch.product, "active_material")])  # fmt: skip
    ours = [sample_register(kind="cell", name=f"c{i}", parents=[ParentLink(sheet, "component")])
            for i in range(2)]  # fmt: skip
    other = sample_register(kind="cell", name="other")
    return {"batch": batch, "ours": ours, "other": other}


@pytest.fixture
def api(chemist) -> APIClient:
    client = APIClient()
    client.force_authenticate(chemist)
    return client


def codes(response) -> set[str]:
    assert response.status_code == 200, response.content
    return {s["code"] for s in response.json()["results"]}


@pytest.mark.parametrize(
    "params",
    [{"coating_wt_percent": "1", "calcination_temperature_c": "750"}, {"recipe": "nso"},
     {"recipe": "nso@1"}, {"operator": "chen"}],
)  # fmt: skip
def test_api_finds_cells_whose_powder_was_made_that_way(api, cells, params):
    found = codes(api.get("/api/v1/samples/", {"kind": "cell", **params}))
    assert found == {c.code for c in cells["ours"]}


def test_api_filter_by_batch_code_and_a_non_matching_condition(api, cells):
    batch_code = cells["batch"].code
    assert len(codes(api.get("/api/v1/samples/", {"kind": "cell", "batch": batch_code}))) == 2
    assert (
        codes(api.get("/api/v1/samples/", {"kind": "cell", "calcination_temperature_c": 650}))
        == set()
    )


def test_a_malformed_filter_value_is_a_400_naming_it(api, cells):
    response = api.get("/api/v1/samples/", {"calcination_temperature_c": "hot"})
    assert response.status_code == 400
    assert "calcination_temperature_c" in response.json()["errors"]


def test_admin_lists_cells_by_ancestor_calcination_temperature(admin_client, cells):
    html = admin_client.get(
        "/admin/lims/sample/", {"kind__exact": "cell", "calcination_temperature_c": "750"}
    ).content.decode()
    assert all(c.code in html for c in cells["ours"]) and cells["other"].code not in html
    assert "calcined at" in html
