"""Batches through /api/v1/ (issue 11 §1): planned with the page's calculation, started,
weighed, logged, completed, failed and corrected through the page's forms and services, with
the rules' refusals and the pages' messages."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from lims.api_permissions import READ_ONLY
from lims.models import Sample
from lims.token_models import TokenScope
from lims.token_services import api_token_create
from synthesis.models import Batch, BatchStatus
from tests.lims.factories import UserFactory
from tests.synthesis.conftest import reagent

pytestmark = pytest.mark.django_db
HAND = 1e-9
# n_t = 10 g / 85.0275 g/mol = 0.117609 mol; n(Li2CO3) = 0.6 × 1.05 × n_t = 0.0740937 mol
# m = 0.0740937 mol × 73.888 g/mol / 0.99 = 5.52993 g (tests/synthesis/test_batches.py)
LI2CO3_G = 5.529932452003829


def signed_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def post(client: Client, route: str, body: dict | None = None, code: str | None = None):
    url = reverse(f"api:{route}", args=[code] if code else None)
    return client.post(url, body or {}, content_type="application/json")


def errors(response) -> dict[str, list[str]]:
    assert response.status_code == 400, response.content
    return response.json()["errors"]


def row(answer: dict, name: str) -> dict:
    return next(r for r in answer["reagents"] if r["name"] == name)


@pytest.fixture
def planned(pristine, lots, chemist) -> dict:
    """10 g of LMNO planned by the chemist through the API (FEFO lots, as the page prefills)."""
    response = post(signed_in(chemist), "batch-plan", {"recipe": pristine.pk, "target_mass_g": 10})
    assert response.status_code == 201, response.content
    return response.json()


# --- planning -----------------------------------------------------------------------------------


def test_planning_ten_grams_freezes_the_pages_lithium_carbonate_mass(planned, chemist, lots):
    batch = Batch.objects.get()

    assert planned["code"] == batch.code and batch.operator == chemist
    li = row(planned, "Li2CO3")
    assert li["planned_mass_g"] == pytest.approx(LI2CO3_G, rel=HAND)
    assert reagent(batch, "Li2CO3").planned_mass_g == pytest.approx(LI2CO3_G, rel=HAND)
    assert li["amount_mol"] == pytest.approx(0.0740937, rel=1e-5)
    assert li["lot"]["id"] == lots["Lithium carbonate"].pk and li["purity_percent"] == 99.0
    assert row(planned, "Ethanol (milling)")["planned_volume_ml"] == pytest.approx(100.0)
    assert (planned["status"], planned["target_mass_g"], planned["tolerance_percent"]) == (
        "planned", 10.0, 2.0
    )  # fmt: skip
    assert planned["calcination_temperature_c"] == 900
    assert [s["order"] for s in planned["steps"]] == [1, 2, 3, 4, 5]
    assert planned["plan"]["lines"][0]["mass_g"] == pytest.approx(LI2CO3_G, rel=HAND)


def test_the_preview_computes_the_same_quantities_and_saves_nothing(pristine, chemist):
    body = {"recipe": pristine.pk, "target_mass_g": 10, "lots": {}}

    response = post(signed_in(chemist), "batch-preview", body)

    assert response.status_code == 200, response.content
    lines = response.json()["plan"]["lines"]
    assert lines[0]["name"] == "Li2CO3"
    assert lines[0]["mass_g"] == pytest.approx(LI2CO3_G, rel=HAND)
    assert not Batch.objects.exists()


@pytest.mark.parametrize(
    ("body", "field", "message"),
    [
        ({}, "target_mass_g", "Enter the mass of product to make (g)."),
        ({"target_mass_g": 0}, "target_mass_g", "target mass"),
        ({"target_mass_g": 10, "tolerance_percent": -1}, "tolerance_percent", "tolerance"),
        ({"target_mass_g": 10, "calcination_temperature_c": -20}, "calcination_temperature_c",
         "calcination"),
        ({"target_mass_g": "ten"}, "target_mass_g", "A valid number is required."),
    ],
)  # fmt: skip
def test_bad_plan_input_names_the_field_and_saves_nothing(pristine, chemist, body, field, message):
    response = post(signed_in(chemist), "batch-plan", {"recipe": pristine.pk, **body})

    found = errors(response)
    assert list(found) == [field]
    assert message.lower() in found[field][0].lower()
    assert not Batch.objects.exists()


def test_a_coating_needs_its_substrate_and_a_lot_must_be_of_the_lines_chemical(
    nso, lots, substrate, chemist
):
    client = signed_in(chemist)
    soda_line = nso.lines.get(name="Na2CO3")

    no_substrate = post(client, "batch-plan", {"recipe": nso.pk, "substrate_mass_g": 1})
    wrong_lot = post(client, "batch-plan", {
        "recipe": nso.pk, "substrate": substrate.code, "substrate_mass_g": 1,
        "lots": {str(soda_line.pk): lots["Lithium carbonate"].pk},
    })  # fmt: skip
    unknown = post(client, "batch-plan", {"recipe": nso.pk, "substrate": "CAT-1999-0001"})

    assert errors(no_substrate) == {"substrate": ["Choose the substrate sample to coat."]}
    assert list(errors(wrong_lot)) == [f"lots.{soda_line.pk}"]
    assert errors(unknown) == {"substrate": ["No sample has the code 'CAT-1999-0001'."]}
    assert not Batch.objects.exists()


def test_a_coating_plan_weighs_teos_for_one_gram(nso, lots, substrate, chemist):
    # n_c = 0.0100 g / 122.0615 g/mol = 8.1926e-5 mol; TEOS 98 %: 0.0174159 g (test_batches)
    body = {"recipe": nso.pk, "substrate": substrate.code, "substrate_mass_g": 1}

    response = post(signed_in(chemist), "batch-plan", body)

    assert response.status_code == 201, response.content
    teos = row(response.json(), "TEOS")
    assert teos["planned_mass_g"] == pytest.approx(0.017415855539163375, rel=HAND)
    assert teos["planned_volume_ml"] == pytest.approx(0.018666511831900722, rel=HAND)
    assert response.json()["coating_wt_percent"] == nso.default_coating_wt_percent


# --- who may ------------------------------------------------------------------------------------


def test_a_read_only_token_reads_the_batch_and_starts_nothing(planned, chemist):
    _, key = api_token_create(user=chemist, name="r", scope=TokenScope.READ, expires_at=None)
    client = Client(HTTP_AUTHORIZATION=f"Token {key}")

    read = client.get(reverse("api:batch-detail", args=[planned["code"]]))
    start = post(client, "batch-start", code=planned["code"])

    assert read.status_code == 200 and read.json()["code"] == planned["code"]
    assert start.status_code == 403
    assert start.json()["errors"]["non_field_errors"] == [READ_ONLY]
    assert Batch.objects.get().status == BatchStatus.PLANNED


@pytest.mark.parametrize("route", ["batch-start", "batch-fail", "batch-complete", "batch-correct"])
def test_a_chemist_who_does_not_own_the_batch_is_refused_with_the_rules_sentence(planned, route):
    other = UserFactory(username="otto", groups=["chemist"])

    response = post(signed_in(other), route, {"reason": "mine now"}, code=planned["code"])

    assert response.status_code == 403
    assert response.json()["errors"]["non_field_errors"] == [
        f"Batch {planned['code']} belongs to chen; only they or a lab manager may change it."
    ]
    assert Batch.objects.get().status == BatchStatus.PLANNED


def test_a_viewer_plans_nothing(pristine):
    viewer = UserFactory(username="vera", groups=["viewer"])

    response = post(signed_in(viewer), "batch-plan", {"recipe": pristine.pk, "target_mass_g": 1})

    assert response.status_code == 403
    assert "viewer" in response.json()["errors"]["non_field_errors"][0]
    assert not Batch.objects.exists()


def test_an_unknown_batch_code_is_404(chemist):
    response = post(signed_in(chemist), "batch-start", code="SYN-1999-0001")

    assert response.status_code == 404


# --- the batch's life ---------------------------------------------------------------------------


def test_starting_twice_or_completing_before_starting_is_refused_with_the_pages_sentence(
    planned, chemist
):
    client, code = signed_in(chemist), planned["code"]

    early = post(client, "batch-complete", {"yield_mass_g": 9}, code=code)
    first = post(client, "batch-start", code=code)
    second = post(client, "batch-start", code=code)

    assert errors(early) == {
        "non_field_errors": [f"{code} is planned; it cannot be completed now."]
    }
    assert first.status_code == 200 and first.json()["status"] == "in_progress"
    assert errors(second) == {
        "non_field_errors": [f"{code} is in progress; it cannot be in progress now."]
    }
    batch = Batch.objects.get()
    assert batch.status == BatchStatus.IN_PROGRESS and batch.product is None


def test_weighing_records_the_deviation_and_flags_it_beyond_the_tolerance(planned, chemist):
    li, mn = row(planned, "Li2CO3"), row(planned, "MnCO3")
    body = {"reagents": [{"reagent": li["id"], "mass_g": 5.7},
                         {"reagent": mn["id"], "mass_g": mn["planned_mass_g"]}]}  # fmt: skip

    response = post(signed_in(chemist), "batch-actuals", body, code=planned["code"])

    assert response.status_code == 200, response.content
    answer = response.json()
    # (5.7 − 5.529932) / 5.529932 × 100 = +3.0754 %, beyond ±2 %
    assert row(answer, "Li2CO3")["deviation_percent"] == pytest.approx(
        (5.7 - LI2CO3_G) / LI2CO3_G * 100, rel=HAND
    )
    assert row(answer, "Li2CO3")["flagged"] is True
    assert row(answer, "MnCO3")["deviation_percent"] == 0 and not row(answer, "MnCO3")["flagged"]
    assert answer["status"] == "in_progress"  # weighing starts the batch
    saved = reagent(Batch.objects.get(), "Li2CO3")
    assert (saved.actual_mass_g, saved.flagged) == (5.7, True)
    assert saved.lot_id == li["lot"]["id"]  # left out: the lot stays


def test_a_bad_amount_names_the_reagent_and_saves_none_of_the_amounts(planned, chemist):
    li, mn = row(planned, "Li2CO3"), row(planned, "MnCO3")
    client, code = signed_in(chemist), planned["code"]
    body = {"reagents": [{"reagent": mn["id"], "mass_g": 8.1},
                         {"reagent": li["id"], "mass_g": -1}]}  # fmt: skip

    negative = post(client, "batch-actuals", body, code=code)
    by_volume_body = {"reagents": [{"reagent": li["id"], "volume_ml": 3}]}
    by_volume = post(client, "batch-actuals", by_volume_body, code=code)
    unknown = post(client, "batch-actuals", {"reagents": [{"reagent": 0, "mass_g": 1}]}, code=code)

    assert list(errors(negative)) == ["reagents[1].mass_g"]
    assert "mass of Li2CO3" in errors(negative)["reagents[1].mass_g"][0]
    assert errors(by_volume) == {
        "reagents[0].volume_ml": ["Li2CO3 is weighed (g), not measured by volume."]
    }
    assert list(errors(unknown)) == ["reagents[0].reagent"]
    batch = Batch.objects.get()
    assert batch.status == BatchStatus.PLANNED
    assert not batch.reagents.filter(actual_mass_g__isnull=False).exists()


def test_a_step_is_logged_done_with_its_temperature(planned, chemist):
    client, code = signed_in(chemist), planned["code"]

    response = post(client, "batch-step", {"order": 5, "done": True, "actual_temperature_c": 895,
                                           "equipment": "muffle furnace 2"}, code=code)  # fmt: skip
    times = {"started_at": "2026-03-02T10:00:00Z", "ended_at": "2026-03-02T09:00:00Z"}
    backwards = post(client, "batch-step", {"order": 1, **times}, code=code)
    missing = post(client, "batch-step", {"order": 9, "done": True}, code=code)

    assert response.status_code == 200, response.content
    step = response.json()["steps"][4]
    assert (step["done"], step["actual_temperature_c"], step["equipment"], step["done_by"]) == (
        True, 895.0, "muffle furnace 2", "chen"
    )  # fmt: skip
    assert step["ended_at"] is not None
    assert errors(backwards) == {"ended_at": ["The step cannot end before it started."]}
    assert errors(missing) == {"order": [f"{code} has no step 9."]}
    log = Batch.objects.get().step_logs.get(order=1)
    assert log.started_at is None and not log.done


def test_completing_registers_the_product_and_a_yield_above_the_theoretical_is_refused(
    planned, chemist
):
    client, code = signed_in(chemist), planned["code"]
    post(client, "batch-start", code=code)
    samples = Sample.objects.count()

    too_much = post(client, "batch-complete", {"yield_mass_g": 10.5}, code=code)
    assert "yield_mass_g" in errors(too_much)
    assert Sample.objects.count() == samples and Batch.objects.get().product is None

    done = post(client, "batch-complete", {"yield_mass_g": 9.0}, code=code)

    assert done.status_code == 200, done.content
    answer = done.json()
    batch = Batch.objects.get()
    assert (answer["status"], answer["yield_mass_g"], answer["product"]) == (
        "completed", 9.0, batch.product.code
    )  # fmt: skip
    assert answer["theoretical_yield_percent"] == pytest.approx(
        100 * 9.0 / answer["theoretical_yield_g"]
    )
    assert batch.product.formula == "Li1.2Mn0.6Ni0.2O2"


def test_failing_needs_a_reason(planned, chemist):
    client, code = signed_in(chemist), planned["code"]

    silent = post(client, "batch-fail", {}, code=code)
    failed = post(client, "batch-fail", {"reason": "crucible cracked"}, code=code)

    assert errors(silent) == {"reason": ["Say what went wrong."]}
    assert failed.json()["status"] == "failed"
    assert Batch.objects.get().failure_reason == "crucible cracked"


def test_a_completed_batch_is_corrected_with_a_reason(planned, chemist):
    client, code = signed_in(chemist), planned["code"]
    open_yield = post(client, "batch-correct", {"reason": "typo", "yield_mass_g": 8}, code=code)
    post(client, "batch-start", code=code)
    post(client, "batch-complete", {"yield_mass_g": 9.0}, code=code)

    no_reason = post(client, "batch-correct", {"yield_mass_g": 8.5}, code=code)
    corrected = post(client, "batch-correct", {"reason": "read 9 for 8.5", "yield_mass_g": 8.5},
                     code=code)  # fmt: skip

    assert errors(open_yield) == {
        "yield_mass_g": [f"{code} is not completed: it has no yield to correct."]
    }
    assert list(errors(no_reason)) == ["reason"]
    assert corrected.status_code == 200, corrected.content
    assert corrected.json()["summary"] == "yield (g) from 9.0 to 8.5"
    assert corrected.json()["batch"]["yield_mass_g"] == 8.5
    batch = Batch.objects.get()
    assert batch.yield_mass_g == 8.5
    assert batch.history.first().history_change_reason == "read 9 for 8.5"


# --- the list -----------------------------------------------------------------------------------


def test_batches_filter_by_status_owner_recipe_and_product_with_a_cursor(
    planned, pristine, chemist, manager
):
    client = signed_in(chemist)
    second = post(signed_in(manager), "batch-plan", {"recipe": pristine.pk, "target_mass_g": 5})
    second_code = second.json()["code"]
    post(client, "batch-start", code=planned["code"])
    post(client, "batch-complete", {"yield_mass_g": 9}, code=planned["code"])
    product = Batch.objects.get(code=planned["code"]).product.code

    def codes(**params) -> list[str]:
        response = client.get(reverse("api:batch-list"), params)
        assert response.status_code == 200, response.content
        return [b["code"] for b in response.json()["results"]]

    assert codes() == [second_code, planned["code"]]  # newest first
    assert codes(status="completed") == codes(owner="chen") == codes(product=product)
    assert codes(status="completed") == [planned["code"]]
    assert codes(owner="maria", recipe=pristine.pk, family="lmno") == [second_code]
    assert codes(completed_from="2000-01-01") == [planned["code"]]
    assert codes(planned_to="2000-01-01") == []
    page = client.get(reverse("api:batch-list"), {"limit": 1}).json()
    assert [b["code"] for b in page["results"]] == [second_code] and page["next"]
    assert [b["code"] for b in client.get(page["next"]).json()["results"]] == [planned["code"]]
    assert client.get(reverse("api:batch-list"), {"status": "cooking"}).status_code == 400
    forged = client.get(reverse("api:batch-list"), {"cursor": "not-ours"})
    assert errors(forged) == {"cursor": ["not a cursor this list gave; follow next/previous"]}


def test_the_schema_documents_every_batch_operation_and_the_list_filters(manager):
    paths = signed_in(manager).get("/api/schema/", {"format": "json"}).json()["paths"]

    for action in ("start", "actuals", "steps", "complete", "fail", "correct"):
        assert set(paths[f"/api/v1/batches/{{code}}/{action}"]) == {"post"}, action
    assert {"post"} == set(paths["/api/v1/batches/plan"]) == set(paths["/api/v1/batches/preview"])
    listing = paths["/api/v1/batches/"]["get"]
    names = {p["name"] for p in listing["parameters"]}
    assert {"status", "recipe", "owner", "product", "planned_from", "started_to",
            "completed_from", "cursor", "limit"} <= names  # fmt: skip
    plan = paths["/api/v1/batches/plan"]["post"]
    assert {"201", "400", "403"} <= set(plan["responses"])
