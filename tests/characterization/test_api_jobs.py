"""The analyses API (issue 11 §1): definitions, the jobs list with its filters and cursor, a
job's progress and provenance, re-run and cancel with the pages' rules. Jobs run in process by
calling the service, as a worker would (test_jobs_pages.py's pattern)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from characterization import corrections
from characterization.analysis import registry
from characterization.jobs import seed
from characterization.jobs.models import AnalysisDefinition, AnalysisJob, JobStatus
from lims import rules
from lims.api_permissions import READ_ONLY
from lims.token_models import TokenScope
from lims.token_services import api_token_create
from tests.characterization.factories import CellFactory
from tests.characterization.test_jobs import (
    GCPL_MPR,
    NW4,
    REST_ONLY,
    cycler_upload,
    record,
    run_all,
)
from tests.lims import test_permission_matrix as matrix
from tests.lims.factories import UserFactory
from tests.lims.test_permission_matrix import _world, world  # noqa: F401 (its fixtures)

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def no_broker(monkeypatch):
    monkeypatch.setattr(
        "characterization.jobs.tasks.analysis_job_run.apply_async", lambda *a, **k: None
    )


@pytest.fixture
def analysed(db, chemist):
    """A cell with a Neware file whose default analyses all ran, measured by the chemist."""
    seed.analysis_definitions_seed()
    measurement = record(CellFactory().sample, cycler_upload(NW4), operator=chemist)
    run_all(measurement)
    return measurement


def signed_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def errors(response, field: str = "non_field_errors") -> list[str]:
    return response.json()["errors"][field]


def all_pages(client: Client, url: str) -> list[dict]:
    rows = []
    while url:
        page = client.get(url).json()
        rows += page["results"]
        url = page["next"]
    return rows


# --- definitions ------------------------------------------------------------------------------


def test_definitions_list_their_analysis_version_table_kind_and_parameters(chemist):
    seed.analysis_definitions_seed()
    client = signed_in(chemist)
    listed = client.get("/api/v1/analysis-definitions/").json()["results"]
    assert len(listed) == AnalysisDefinition.objects.count()
    fade = next(d for d in listed if d["kind"] == "voltage_fade")
    kind = registry.get_kind("voltage_fade")
    assert (fade["version"], fade["table_kind"], fade["title"]) == (
        kind.version, "cycling", kind.title
    )  # fmt: skip
    assert [p["name"] for p in fade["parameter_schema"]] == [p.name for p in kind.params]
    assert fade["defaults"] == {p.name: p.default for p in kind.params}
    assert fade["parameters"] == AnalysisDefinition.objects.get(pk=fade["id"]).parameters
    detail = client.get(fade["url"]).json()
    assert detail == fade
    assert client.get("/api/v1/analysis-definitions/?kind=dqdv").json()["count"] == 1
    missing = client.get("/api/v1/analysis-definitions/999999")
    assert missing.status_code == 404 and "999999" in errors(missing)[0]


# --- the jobs list ----------------------------------------------------------------------------


def test_the_jobs_list_filters_by_status_kind_measurement_cell_and_date(chemist, analysed):
    failed = record(CellFactory().sample, cycler_upload(REST_ONLY))
    run_all(failed)
    client = signed_in(chemist)
    cell = analysed.subject.code

    everything = all_pages(client, "/api/v1/jobs/")
    assert {j["id"] for j in everything} == set(AnalysisJob.objects.values_list("pk", flat=True))
    by_cell = all_pages(client, f"/api/v1/jobs/?cell={cell}")
    assert sorted(j["kind"] for j in by_cell) == sorted(
        analysed.analysis_jobs.values_list("kind", flat=True)
    )
    assert {j["measurement"] for j in by_cell} == {analysed.sample.code}
    failed_only = all_pages(client, "/api/v1/jobs/?status=failed")
    assert {j["id"] for j in failed_only} == set(
        AnalysisJob.objects.filter(status="failed").values_list("pk", flat=True)
    )
    assert failed_only and all(j["measurement"] == failed.sample.code for j in failed_only)
    dqdv = all_pages(client, f"/api/v1/jobs/?kind=dqdv&measurement={analysed.sample.code}")
    assert [j["id"] for j in dqdv] == [analysed.analysis_jobs.get(kind="dqdv").pk]
    named = all_pages(client, "/api/v1/jobs/?definition=" + dqdv[0]["definition"]["name"])
    assert {j["kind"] for j in named} == {"dqdv"}
    future = (timezone.now() + timedelta(hours=1)).isoformat()
    assert all_pages(client, f"/api/v1/jobs/?created_since={future}".replace("+", "%2B")) == []
    assert len(all_pages(client, f"/api/v1/jobs/?created_until={future}".replace("+", "%2B"))) == (
        AnalysisJob.objects.count()
    )


def test_the_jobs_list_pages_with_a_cursor_newest_first(chemist, analysed):
    client = signed_in(chemist)
    first = client.get("/api/v1/jobs/?limit=3").json()
    assert len(first["results"]) == 3 and first["next"] and first["previous"] is None
    assert "count" not in first  # a cursor: no COUNT(*)
    ids = [j["id"] for j in all_pages(client, "/api/v1/jobs/?limit=3")]
    expected = list(AnalysisJob.objects.order_by("-created_at", "-id").values_list("pk", flat=True))
    assert ids == expected


def test_bad_filters_answer_400_naming_the_parameter(chemist, analysed):
    client = signed_in(chemist)
    for query, field, text in (
        ("status=done", "status", "done"),
        ("cell=NOPE-1", "cell", "no cell has the code 'NOPE-1'"),
        (f"cell={analysed.sample.code}", "cell", "no cell has the code"),  # a measurement
        ("measurement=NOPE-2", "measurement", "no measurement has the code 'NOPE-2'"),
        ("sample=NOPE-3", "sample", "no sample has the code 'NOPE-3'"),
        ("definition=nothing", "definition", "no analysis definition 'nothing'"),
        ("created_since=yesterday", "created_since", "date"),
    ):
        response = client.get(f"/api/v1/jobs/?{query}")
        assert response.status_code == 400, query
        assert text in errors(response, field)[0], query


def test_void_jobs_are_left_out_unless_asked_for_and_then_flagged(chemist, manager, analysed):
    job = analysed.analysis_jobs.get(kind="dqdv")
    corrections.analysis_job_void(job=job, user=manager, reason="wrong window")
    client = signed_in(chemist)
    listed = {j["id"] for j in all_pages(client, f"/api/v1/jobs/?cell={analysed.subject.code}")}
    assert job.pk not in listed and len(listed) == analysed.analysis_jobs.count() - 1
    with_void = all_pages(client, f"/api/v1/jobs/?cell={analysed.subject.code}&void=true")
    flagged = next(j for j in with_void if j["id"] == job.pk)
    assert flagged["voided_at"] and flagged["void_reason"] == "wrong window"
    detail = client.get(f"/api/v1/jobs/{job.pk}").json()
    assert detail["notes"] == [f"Job {job.pk} is void: wrong window"]


# --- one job ----------------------------------------------------------------------------------


def test_a_job_shows_its_progress_and_provenance(chemist, analysed):
    job = analysed.analysis_jobs.get(kind="cycling_summary")
    body = signed_in(chemist).get(f"/api/v1/jobs/{job.pk}").json()
    progress = body["progress"]
    assert (progress["state"], progress["percent"], progress["message"]) == (
        "succeeded", 100, job.progress_message
    )  # fmt: skip
    assert progress["started_at"] and progress["finished_at"] and progress["duration_s"] >= 0
    provenance = body["provenance"]
    assert provenance["input_sha256"] == [job.raw_file.sha256]
    assert provenance["analysis"] == {
        "kind": "cycling_summary", "title": "Cycling summary", "version": job.kind_version
    }  # fmt: skip
    assert provenance["parser_version"] == job.parser_version != ""
    assert provenance["parameters"] == job.parameters
    assert provenance["active_mass_mg"] == pytest.approx(6.4)
    assert provenance["cache_key"] == job.cache_key == job.result.cache_key
    assert body["file"] == {"name": NW4, "sha256": job.raw_file.sha256,
                            "format": job.raw_file.detected_format, "voided_at": None,
                            "void_reason": ""}  # fmt: skip
    assert body["result"].endswith(f"/api/v1/results/{job.result_id}")
    assert body["error"] == "" and body["can_cancel"] is False and body["notes"] == []


def test_a_failed_job_says_why_in_a_sentence(chemist):
    seed.analysis_definitions_seed()
    failed = record(CellFactory().sample, cycler_upload(REST_ONLY))
    run_all(failed)
    job = failed.analysis_jobs.filter(status=JobStatus.FAILED).first()
    body = signed_in(chemist).get(f"/api/v1/jobs/{job.pk}").json()
    assert body["status"] == "failed" and body["result"] is None
    assert body["error"] == job.error and len(job.error) > 20
    assert signed_in(chemist).get("/api/v1/jobs/999999").status_code == 404


# --- re-run and cancel ------------------------------------------------------------------------


def test_rerun_queues_a_new_job_that_reuses_the_identical_result(chemist, analysed):
    job = analysed.analysis_jobs.get(kind="cycling_summary")
    before = AnalysisJob.objects.count()
    response = signed_in(chemist).post(f"/api/v1/jobs/{job.pk}/rerun")
    assert response.status_code == 201
    body = response.json()
    new = AnalysisJob.objects.get(pk=body["job"]["id"])
    assert AnalysisJob.objects.count() == before + 1 and new.pk != job.pk
    assert (new.definition_id, new.raw_file_id, new.created_by) == (
        job.definition_id, job.raw_file_id, chemist
    )  # fmt: skip
    assert new.reused and new.result_id == job.result_id
    assert body["message"] == f"Job {new.pk}: identical inputs, the stored result was reused."
    assert body["job"]["progress"]["state"] == "succeeded"


def test_rerun_of_a_queued_job_answers_the_same_job(chemist):
    seed.analysis_definitions_seed()
    measurement = record(CellFactory().sample, cycler_upload(NW4), operator=chemist)
    job = measurement.analysis_jobs.get(kind="dqdv")
    response = signed_in(chemist).post(f"/api/v1/jobs/{job.pk}/rerun")
    assert response.status_code == 200
    assert response.json() == {**response.json(), "message": f"Job {job.pk} is still queued."}
    assert AnalysisJob.objects.filter(measurement=measurement, kind="dqdv").count() == 1


def test_cancel_stops_a_queued_job_and_refuses_a_finished_one(chemist, analysed):
    # another file: the same one again would reuse the stored results at once
    measurement = record(CellFactory().sample, cycler_upload(GCPL_MPR), operator=chemist)
    job = measurement.analysis_jobs.get(kind="dqdv")
    client = signed_in(chemist)
    response = client.post(f"/api/v1/jobs/{job.pk}/cancel")
    assert response.status_code == 200
    assert response.json()["message"] == f"Job {job.pk} cancelled."
    job.refresh_from_db()
    assert (job.status, job.progress_message) == (JobStatus.CANCELLED, "cancelled by chen")
    assert job.finished_at is not None and job.claim_token is None
    assert response.json()["job"]["progress"]["state"] == "cancelled"
    done = analysed.analysis_jobs.get(kind="dqdv")
    again = client.post(f"/api/v1/jobs/{done.pk}/cancel")
    assert again.status_code == 409
    assert errors(again) == [f"Job {done.pk} had already finished; nothing to cancel."]
    done.refresh_from_db()
    assert done.status == JobStatus.SUCCEEDED


def test_only_the_measurements_owner_or_a_lab_manager_may_run_or_cancel(chemist, analysed):
    job = analysed.analysis_jobs.get(kind="cycling_summary")
    other = UserFactory(username="olga", groups=["chemist"])
    viewer = UserFactory(username="vera", groups=["viewer"])
    nobody = UserFactory(username="nils")
    before = AnalysisJob.objects.count()
    for user, sentence in (
        (other, rules.refusal(other, "run", job)),
        (viewer, "Your role (viewer) reads records but does not change them."),
        (nobody, "Your account has no role yet; ask a lab manager to add you to a group."),
    ):
        for action in ("rerun", "cancel"):
            response = signed_in(user).post(f"/api/v1/jobs/{job.pk}/{action}")
            assert response.status_code == 403, (user, action)
            assert errors(response) == [sentence]
    assert "belongs to chen; only they or a lab manager may run it." in rules.refusal(
        other, "run", job
    )
    _, key = api_token_create(user=chemist, name="notebook", scope=TokenScope.READ, expires_at=None)
    by_token = Client(HTTP_AUTHORIZATION=f"Token {key}").post(f"/api/v1/jobs/{job.pk}/rerun")
    assert by_token.status_code == 403 and errors(by_token) == [READ_ONLY]
    assert AnalysisJob.objects.count() == before
    assert signed_in(chemist).post("/api/v1/jobs/999999/rerun").status_code == 404
    manager = UserFactory(username="mona", groups=["lab-manager"])
    assert signed_in(manager).post(f"/api/v1/jobs/{job.pk}/rerun").status_code == 201


def test_the_job_routes_are_in_the_schema_and_the_index(chemist):
    client = signed_in(chemist)
    schema = client.get("/api/schema/?format=json").json()
    for route in ("/api/v1/jobs/", "/api/v1/jobs/{id}/rerun", "/api/v1/jobs/{id}/cancel",
                  "/api/v1/analysis-definitions/", "/api/v1/results/{id}/tables/{filename}",
                  "/api/v1/measurements/{code}/results/{kind}"):  # fmt: skip
        assert route in schema["paths"], route
    listed = schema["paths"]["/api/v1/jobs/"]["get"]["parameters"]
    assert {"status", "cell", "created_since", "cursor", "limit"} <= {p["name"] for p in listed}
    resources = client.get("/api/v1/").json()["resources"]
    assert resources["job-rerun"].endswith("/api/v1/jobs/{pk}/rerun")


# --- the permission matrix (tests/lims/test_permission_matrix.py) on these routes -------------

ROUTE_ARGS = {  # what the matrix's ARGS needs for this module's routes
    "api:analysis-definition": lambda w: {"pk": w["jobs.analysisdefinition"].pk},
    "api:job": lambda w: {"pk": w["jobs.analysisjob"].pk},
    "api:result": lambda w: {"pk": w["jobs.analysisresult"].pk},
    "api:result-table": lambda w: {
        "pk": w["jobs.analysisresult"].pk,
        "filename": "cycle_summary.csv",
    },
    "api:result-figure": lambda w: {"pk": w["jobs.analysisresult"].pk, "name": "capacity"},
    "api:measurement-result": lambda w: {
        "code": w["characterization.measurement"].sample.code,
        "kind": "cycling_summary",
    },
}
READS = {*ROUTE_ARGS, "api:analysis-definitions", "api:jobs"}
WRITES = {"api:job-rerun", "api:job-cancel"}


def test_the_permission_matrix_holds_on_the_analyses_routes(world, monkeypatch):  # noqa: F811
    for name, args in ROUTE_ARGS.items():
        monkeypatch.setitem(matrix.ARGS, name, args)
    problems, checked = matrix.write_route_problems(world, only=WRITES | READS)
    assert not problems, problems
    assert checked == len(WRITES)  # the reads answer POST with 405
    viewer, nobody = matrix._client(world, "viewer"), matrix._client(world, "none")
    sentence = rules.refusal(world.users["none"], "read", "lims.sample")
    routes = [r for r in matrix.project_routes() if r.name in READS | WRITES]
    assert len(routes) == len(READS | WRITES)
    for route in routes:
        url, missing = matrix.url_of(route, world)
        assert url is not None, missing
        seen = viewer.get(url)  # a write route refuses the viewer before it says 405
        assert (seen.status_code == 403) == (route.name in WRITES), route.name
        assert seen.status_code < 500, route.name
        refused = nobody.get(url)
        assert refused.status_code == 403 and errors(refused) == [sentence], route.name
