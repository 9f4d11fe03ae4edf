"""The sample list API at scale: cursor pages, django-filter filters in the schema with their
errors naming the parameter, and each powder's stock without a query per row."""

from __future__ import annotations

import pytest
from django.core.handlers.wsgi import WSGIHandler
from django.core.management import call_command
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient
from schemathesis.generation.feedback import NO_FEEDBACK
from schemathesis.openapi import from_wsgi
from schemathesis.pytest._test_builder import build_operation_test

from lims import sample_filters
from lims.models import EdgeRole, Sample
from lims.services import ParentLink, sample_register
from lims.stock_services import stock_correct
from lims.voiding import record_void
from tests.test_api_fuzz import fuzz_config

LIST = "/api/v1/samples/"


@pytest.fixture
def api(chemist) -> APIClient:
    client = APIClient()
    client.force_authenticate(chemist)
    return client


@pytest.fixture
def powder(chemist) -> Sample:
    """5 g of LMNO; a sheet took 1.5 g (1500 mg) of it, and 0.25 g was spilled."""
    lmno = sample_register(
        kind="cathode", name="LMNO", formula="Li1.2Mn0.6Ni0.2O2", owner=chemist, initial_mass_g=5.0
    )
    took = ParentLink(lmno, EdgeRole.ACTIVE_MATERIAL, 1500, "mg")
    sheet = sample_register(kind="electrode", name="sheet", parents=[took])
    for i in (1, 2):
        sample_register(kind="cell", name=f"cell {i}", parents=[ParentLink(sheet, "component")])
    stock_correct(sample=lmno, user=chemist, delta_g=-0.25, reason="spilled on the balance")
    return lmno


def results(response) -> list[dict]:
    assert response.status_code == 200, response.content
    return response.json()["results"]


def test_pages_follow_the_cursor_newest_first_without_a_count(api, chemist):
    made = [sample_register(kind="other", name=f"s{i}") for i in range(7)]
    seen, url, pages = [], f"{LIST}?limit=3", 0
    while url:
        body = api.get(url).json()
        assert "count" not in body and len(body["results"]) <= 3
        seen += [s["code"] for s in body["results"]]
        url, pages = body["next"], pages + 1
    assert seen == [s.code for s in reversed(made)]
    assert pages == 3


def test_a_page_reached_by_cursor_links_back_to_the_one_before(api, chemist):
    made = [sample_register(kind="other", name=f"s{i}") for i in range(4)]
    second = api.get(api.get(f"{LIST}?limit=2").json()["next"]).json()
    assert [s["code"] for s in second["results"]] == [made[1].code, made[0].code]
    back = api.get(second["previous"]).json()
    assert [s["code"] for s in back["results"]] == [made[3].code, made[2].code]


def test_every_filter_the_admin_has_is_a_documented_parameter_in_the_schema(api):
    schema = api.get("/api/schema/", {"format": "json"}).json()
    parameters = {p["name"]: p for p in schema["paths"][LIST]["get"]["parameters"]}
    expected = {"kind", "status", "q", "ancestor", "descendant", "void", "cursor", "limit",
                *sample_filters.registered()}  # fmt: skip
    assert expected <= set(parameters)
    assert {"recipe", "coating_wt_percent", "calcination_temperature_c", "batch",
            "operator"} <= set(parameters)  # fmt: skip
    for name in expected - {"cursor", "limit"}:
        assert parameters[name].get("description"), name
    assert "cell" in parameters["kind"]["schema"]["enum"]
    assert parameters["void"]["schema"]["type"] == "boolean"
    assert "recipe family, or family@version" in parameters["recipe"]["description"]


def test_kind_and_ancestor_narrow_to_the_cells_made_from_a_powder(api, powder):
    sample_register(kind="cell", name="unrelated")
    found = results(api.get(LIST, {"kind": "cell", "ancestor": powder.code.lower()}))
    assert sorted(s["name"] for s in found) == ["cell 1", "cell 2"]


def test_descendant_lists_what_a_cell_was_made_from(api, powder):
    cell = Sample.objects.get(name="cell 1")
    found = results(api.get(LIST, {"descendant": cell.code}))
    assert {s["name"] for s in found} == {"LMNO", "sheet"}


@pytest.mark.parametrize(
    ("params", "field", "message"),
    [
        ({"ancestor": "CAT-1999-0001"}, "ancestor", "no sample has the code 'CAT-1999-0001'"),
        ({"descendant": "CELL-1999-0001"}, "descendant", "no sample has the code 'CELL-1999-0001'"),
        ({"kind": "spaceship"}, "kind", "must be one of reagent, precursor, cathode, electrode, "
                                        "disc, cell, measurement, other"),  # fmt: skip
        ({"status": "lost"}, "status", "must be one of active, consumed, discarded"),
        ({"void": "maybe"}, "void", "must be true or false"),
        ({"calcination_temperature_c": "hot"}, "calcination_temperature_c",
         "calcination temperature must be a number, got 'hot'"),
    ],
)  # fmt: skip
def test_a_bad_filter_value_is_a_400_naming_the_parameter(api, powder, params, field, message):
    response = api.get(LIST, params)
    assert response.status_code == 400
    assert response.json() == {"errors": {field: [message]}}


def test_a_cursor_that_is_not_one_of_the_lists_is_a_400_naming_it(api, powder):
    response = api.get(LIST, {"cursor": "not-a-cursor"})
    assert response.status_code == 400
    assert response.json() == {
        "errors": {"cursor": ["not a cursor this list gave; follow next/previous"]}
    }


def test_void_samples_are_listed_only_when_asked(api, manager, powder):
    cell = Sample.objects.get(name="cell 2")
    record_void(record=cell, user=manager, reason="built twice")
    assert cell.code not in {s["code"] for s in results(api.get(LIST))}
    listed = {s["code"]: s for s in results(api.get(LIST, {"void": "true"}))}
    assert listed[cell.code]["void_reason"] == "built twice"


def test_a_powder_carries_its_stock_left_and_other_samples_none(api, powder):
    listed = {s["name"]: s for s in results(api.get(LIST))}
    assert listed["LMNO"]["stock"] == {
        "initial_g": 5.0, "drawn_g": pytest.approx(1.5), "corrected_g": -0.25,
        "left_g": pytest.approx(3.25),
    }  # fmt: skip
    assert listed["sheet"]["stock"] is None
    detail = api.get(f"/api/v1/samples/{powder.code}").json()
    assert detail["stock"]["left_g"] == pytest.approx(3.25)


def test_an_untracked_powder_says_so_with_nulls(api, chemist):
    sample_register(kind="precursor", name="hydroxide")
    [row] = results(api.get(LIST, {"kind": "precursor"}))
    assert row["stock"] == {"initial_g": None, "drawn_g": 0.0, "corrected_g": 0.0, "left_g": None}


def test_a_page_costs_the_same_queries_for_2_or_40_powders_with_draws(
    api, chemist, django_assert_max_num_queries
):
    def add_powders(n: int) -> None:
        for i in range(n):
            p = sample_register(kind="cathode", name=f"p{i}", initial_mass_g=2.0)
            took = ParentLink(p, EdgeRole.ACTIVE_MATERIAL, 0.5, "g")
            sample_register(kind="electrode", name=f"e{i}", parents=[took])

    add_powders(2)
    api.get(LIST)  # warm the role cache and content types
    with django_assert_max_num_queries(10) as small:
        assert len(results(api.get(LIST))) == 4
    add_powders(18)
    with django_assert_max_num_queries(len(small.captured_queries)):
        rows = results(api.get(LIST, {"limit": 100}))
    assert len(rows) == 40
    assert {r["stock"]["left_g"] for r in rows if r["kind"] == "cathode"} == {1.5}


def test_lineage_filters_combine_with_the_cursor(api, powder):
    sheet = Sample.objects.get(name="sheet")
    for i in range(3):
        sample_register(kind="cell", name=f"more {i}", parents=[ParentLink(sheet, "component")])
    first = api.get(LIST, {"kind": "cell", "ancestor": powder.code, "limit": 2}).json()
    second = api.get(first["next"]).json()
    third = api.get(second["next"]).json()
    names = [s["name"] for page in (first, second, third) for s in page["results"]]
    assert sorted(names) == ["cell 1", "cell 2", "more 0", "more 1", "more 2"]
    assert third["next"] is None


def test_the_sample_list_and_detail_answer_generated_requests_as_the_schema_says(db, manager):
    """Schemathesis (as tests/test_api_fuzz.py runs it) on the sample list and one sample only:
    every generated filter value, cursor and limit is answered 200 or a documented 400/404,
    and each answer matches its schema (the stock object included)."""
    with open("/dev/null", "w") as quiet:
        call_command("load_demo", stdout=quiet)
    token = Token.objects.create(user=manager).key
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    statuses, failures = {}, []
    try:
        headers = {"Authorization": f"Token {token}"}
        schema = from_wsgi(
            "/api/schema/", WSGIHandler(), config=fuzz_config(token), headers=headers
        )
        schema = schema.include(path_regex=r"^/api/v1/samples/(\{code\})?$", method="GET")
        for result in schema.get_all_operations():
            operation = result.ok()

            def call(case) -> None:
                code = case.call_and_validate().status_code
                statuses[code] = statuses.get(code, 0) + 1

            test = build_operation_test(
                config=schema.config,
                operation=operation,
                test_func=call,
                given_kwargs={},
                feedback=NO_FEEDBACK,
            )
            try:
                test()
            except (Exception, BaseExceptionGroup) as exc:
                failures.append(f"{operation.label}:\n{exc}")
    finally:
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)
    assert not failures, "\n\n".join(failures)
    assert statuses.get(200, 0) >= 5 and statuses.get(400, 0) >= 5, statuses
    assert set(statuses) <= {200, 400, 404, 405}, statuses  # 405: methods the route has not
