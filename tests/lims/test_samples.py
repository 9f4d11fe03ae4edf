"""Sample pages and API: list filters, the lineage drawn and listed, constant query counts."""

from __future__ import annotations

import json

import pytest
from rest_framework.test import APIClient

from lims.models import EdgeRole, SampleEdge
from lims.services import ParentLink, sample_register
from tests.lims.transfer_helpers import eln_archive


@pytest.fixture
def family(chemist) -> dict:
    """reagent + powder -> coated powder -> electrode -> two cells -> a measurement."""
    teos = sample_register(kind="reagent", name="TEOS lot 7", formula="Si(OC2H5)4")
    lmno = sample_register(kind="cathode", name="LMNO", formula="Li1.2Mn0.6Ni0.2O2", owner=chemist)
    nso = sample_register(
        kind="cathode", name="NSO 1 wt%", owner=chemist,
        parents=[ParentLink(lmno, EdgeRole.SUBSTRATE, 1.0, "g"),
                 ParentLink(teos, EdgeRole.REAGENT)],
    )  # fmt: skip
    sheet = sample_register(
        kind="electrode", name="NSO sheet", parents=[ParentLink(nso, EdgeRole.ACTIVE_MATERIAL)]
    )
    cells = [
        sample_register(kind="cell", name=f"cell {i}", parents=[ParentLink(sheet, "component")])
        for i in (1, 2)
    ]
    cycling = sample_register(
        kind="measurement", name="cycling", parents=[ParentLink(cells[0], EdgeRole.MEASURED_ON)]
    )
    return {"teos": teos, "lmno": lmno, "nso": nso, "sheet": sheet, "cells": cells,
            "cycling": cycling}  # fmt: skip


@pytest.fixture
def api(chemist) -> APIClient:
    client = APIClient()
    client.force_authenticate(chemist)
    return client


def test_sample_page_draws_the_lineage_up_and_down_with_links(client, chemist, family):
    client.force_login(chemist)
    html = client.get(f"/samples/{family['sheet'].code}/").content.decode()
    assert "<svg" in html
    for key in ("lmno", "nso", "teos", "cycling"):
        assert f'href="/samples/{family[key].code}/"' in html
    assert "4 ancestors" not in html and "3 ancestors, 3 descendants" in html
    assert html.count('class="kiln-edge"') == 6


def test_sample_page_shows_the_audit_trail_of_a_change(client, chemist, family):
    nso = family["nso"]
    nso.location = "Desiccator B"
    nso.save()
    client.force_login(chemist)
    html = client.get(f"/samples/{nso.code}/").content.decode()
    assert "created" in html and "changed location from “” to “Desiccator B”" in html


def test_an_unknown_sample_code_is_a_404_not_a_500(client, chemist):
    client.force_login(chemist)
    assert client.get("/samples/CAT-1999-0001/").status_code == 404


def test_sample_page_query_count_does_not_grow_with_depth_or_descendants(
    client, chemist, family, django_assert_max_num_queries
):
    client.force_login(chemist)
    client.get(f"/samples/{family['lmno'].code}/")  # warm the session and content types
    with django_assert_max_num_queries(13) as small:  # 13: the role check reads the groups
        client.get(f"/samples/{family['lmno'].code}/")
    parent = family["cells"][1]
    for i in range(12):  # deepen the lineage by twelve levels and widen it by twelve samples
        parent = sample_register(
            kind="other", name=f"d{i}", parents=[ParentLink(parent, "derived_from")]
        )
        sample_register(
            kind="other", name=f"w{i}", parents=[ParentLink(family["sheet"], "derived_from")]
        )
    with django_assert_max_num_queries(len(small.captured_queries)):
        client.get(f"/samples/{family['lmno'].code}/")


def test_sample_list_filters_by_kind_and_by_ancestor(client, chemist, family):
    client.force_login(chemist)
    html = client.get(
        "/samples/", {"kind": "cell", "ancestor": family["nso"].code}
    ).content.decode()
    assert all(c.code in html for c in family["cells"])
    assert family["lmno"].code not in html.split("<tbody>")[1]
    html = client.get("/samples/", {"ancestor": "CAT-1999-9999"}).content.decode()
    assert "No sample has the code" in html


def test_api_lists_cells_made_from_a_powder(api, family):
    body = api.get("/api/v1/samples/", {"kind": "cell", "ancestor": family["lmno"].code}).json()
    assert sorted(s["code"] for s in body["results"]) == sorted(c.code for c in family["cells"])
    assert body["results"][0]["url"].startswith("/samples/CELL-")


@pytest.mark.parametrize(
    "params, field",
    [({"ancestor": "CAT-1999-0001"}, "ancestor"), ({"kind": "spaceship"}, "kind")],
)
def test_api_filter_errors_name_the_parameter(api, family, params, field):
    response = api.get("/api/v1/samples/", params)
    assert response.status_code == 400
    assert field in response.json()["errors"]


def test_api_lineage_returns_nodes_with_generations_and_edges(api, family):
    body = api.get(f"/api/v1/samples/{family['nso'].code}/lineage").json()
    generations = {n["code"]: n["generation"] for n in body["nodes"]}
    assert generations[family["nso"].code] == 0
    assert generations[family["lmno"].code] == -1
    assert generations[family["cycling"].code] == 3
    assert {"parent": family["lmno"].code, "child": family["nso"].code, "role": "substrate",
            "amount": 1.0, "amount_unit": "g"} in body["edges"]  # fmt: skip
    assert len(body["edges"]) == SampleEdge.objects.count()


def test_api_lineage_nodes_read_as_the_sample_api_reads_each_sample(api, family):
    """The nodes are built from rows (no serializer per node), field for field as SampleOut,
    a project and a void sample included; ordered by generation, then by age."""
    from django.utils import timezone

    from lims.api import SampleOut
    from lims.models import Project, Sample

    project = Project.objects.create(code="lmr", name="Li-rich")
    Sample.objects.filter(pk=family["sheet"].pk).update(project=project, location="drawer 2")
    Sample.objects.filter(pk=family["cells"][1].pk).update(
        voided_at=timezone.now(), voided_by=family["lmno"].owner, void_reason="entered twice"
    )
    body = api.get(f"/api/v1/samples/{family['nso'].code}/lineage").json()
    for node in body["nodes"]:
        expected = SampleOut(Sample.objects.get(code=node["code"])).data
        assert {k: v for k, v in node.items() if k != "generation"} == expected
    order = [(n["generation"], n["code"]) for n in body["nodes"]]
    assert [g for g, _ in order] == sorted(g for g, _ in order)


def test_api_lineage_of_an_unknown_code_is_404_json(api, db):
    response = api.get("/api/v1/samples/CELL-1999-0001/lineage")
    assert response.status_code == 404
    assert "errors" in response.json()


def test_label_sheet_has_a_qr_code_per_sample_pointing_to_its_page(client, chemist, family):
    client.force_login(chemist)
    codes = ",".join(c.code for c in family["cells"]) + ",CELL-1999-0001"
    html = client.get("/samples/labels/", {"codes": codes}).content.decode()
    assert html.count('src="data:image/svg+xml') == 2
    assert "Unknown codes: CELL-1999-0001" in html


def test_eln_export_holds_the_lineage_as_an_ro_crate(client, chemist, family):
    client.force_login(chemist)
    archive = eln_archive(client, family["nso"].code)  # built on the worker (lims.transfers)
    root = family["nso"].code
    metadata = json.loads(archive.read(f"{root}/ro-crate-metadata.json"))
    datasets = {e["@id"]: e for e in metadata["@graph"] if e["@type"] == "Dataset"}
    nso = datasets[f"./{root}/"]
    assert {p["@id"] for p in nso["isBasedOn"]} == {
        f"./{family['lmno'].code}/",
        f"./{family['teos'].code}/",
    }
    assert len(datasets) == 1 + 7  # the root and every sample of the lineage
