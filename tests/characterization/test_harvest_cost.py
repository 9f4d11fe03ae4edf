"""What one placed harvester file costs the server (issue 11, speed: 1,000 small files in under
a minute): a bound on its SQL statements (a regression guard, not a timing test), and the
batched queueing of its automatic analyses doing exactly what queueing them one by one did:
the same specs and cache keys, stored results reused, history rows, a concurrent request's
job respected, every message sent (or left waiting for the broker) job by job."""

from __future__ import annotations

import hashlib

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from characterization.jobs import enqueue, seed, sending
from characterization.jobs.inputs import column_mapping_of
from characterization.jobs.models import AnalysisDefinition, AnalysisJob, JobStatus
from characterization.jobs.spec import active_mass_of, cell_context_of, cell_facts_of, job_spec
from characterization.models import HarvestedFile
from lims.token_models import TokenScope
from lims.token_services import api_token_create
from tests.characterization.factories import CellFactory
from tests.characterization.test_jobs import NW4, cycler_upload, record, run_all
from tests.fixtures.broker import broker_unreachable
from tests.lims.factories import UserFactory

pytestmark = pytest.mark.django_db

FILES = "/api/v1/harvest/files"
PC = "neware-unit3"


def ndax(n: int) -> bytes:
    """A damaged Neware file (its jobs fail later), the n-th of its kind."""
    return b"PK\x03\x04 a Neware file still being written %d " % n * 20


# One placed file: token and role (2), the file row, its version, the raw file, the cell, the
# measurement (its sample, code and lineage: 22), its file link, its 4 jobs and their history
# (7: a new measurement has no job to look for), after commit one UPDATE of the jobs sent.
# It was 97 when each job was queued and marked sent on its own.
STATEMENTS_PER_PLACED_FILE = 51
KINDS = ["cycling_summary", "dqdv", "first_cycle", "voltage_fade"]


@pytest.fixture
def messages(monkeypatch):
    """What the web process hands the broker: (task, id, sent with a shared producer)."""
    sent: list[tuple[str, int, bool]] = []
    for task in ("analysis_job_run", "raw_file_inspect"):
        monkeypatch.setattr(
            f"characterization.jobs.tasks.{task}.apply_async",
            lambda args, task=task, **kw: sent.append((task, args[0], "producer" in kw)),
        )
    return sent


@pytest.fixture
def harvester(db):
    seed.analysis_definitions_seed()
    user = UserFactory(username="neware-pc", groups=["chemist"])
    _, key = api_token_create(user=user, name=PC, scope=TokenScope.UPLOAD, expires_at=None)
    return user, Client(HTTP_AUTHORIZATION=f"Bearer {key}")


def send(client: Client, path: str, content: bytes):
    name = path.rsplit("/", 1)[-1]
    data = {"file": SimpleUploadedFile(name, content), "source": PC, "path": path,
            "sha256": hashlib.sha256(content).hexdigest(), "size": len(content),
            "channel": "unit3-ch5", "mtime": 1.7e9}  # fmt: skip
    return client.post(FILES, data)


def test_a_placed_file_costs_a_bounded_number_of_statements(
    harvester, messages, django_capture_on_commit_callbacks
):
    _, client = harvester
    cell = CellFactory()
    assert send(client, f"NewareData/{cell.sample.code}_run0.ndax", ndax(0)).status_code == 201
    messages.clear()

    with (
        CaptureQueriesContext(connection) as queries,
        django_capture_on_commit_callbacks(execute=True),
    ):
        response = send(client, f"NewareData/{cell.sample.code}_run1.ndax", ndax(1))

    assert response.status_code == 201, response.content
    assert response.json()["status"] == "stored"
    statements = [q["sql"] for q in queries.captured_queries]
    assert len(statements) <= STATEMENTS_PER_PLACED_FILE, "\n".join(s[:120] for s in statements)
    measurement = HarvestedFile.objects.get(path__endswith="run1.ndax").measurement
    jobs = list(measurement.analysis_jobs.order_by("kind"))
    assert [j.kind for j in jobs] == KINDS
    assert all(j.status == JobStatus.QUEUED and j.sent_at is not None for j in jobs)
    assert all(j.progress_message == sending.QUEUED_MESSAGE for j in jobs)
    raw = measurement.files.get().raw_file
    assert sorted(messages) == sorted(
        [("raw_file_inspect", raw.pk, False)]
        + [("analysis_job_run", j.pk, True) for j in jobs]  # over one connection
    )


def test_jobs_queued_together_have_the_specs_and_history_of_jobs_queued_one_by_one(
    harvester, messages
):
    user, client = harvester
    cell = CellFactory()
    assert send(client, f"NewareData/{cell.sample.code}.ndax", ndax(2)).status_code == 201
    measurement = HarvestedFile.objects.get().measurement
    raw = measurement.files.get().raw_file

    jobs = measurement.analysis_jobs.order_by("kind")
    assert [j.kind for j in jobs] == KINDS
    assert cell_facts_of(measurement) == (active_mass_of(measurement), cell_context_of(measurement))
    for job in jobs:
        expected = job_spec(
            definition=job.definition,
            raw_file=raw,
            active_mass_mg=active_mass_of(measurement),
            column_mapping=column_mapping_of(measurement, raw, "cycling"),
            cell_context=cell_context_of(measurement),
            measurement=measurement,
        )
        assert (job.cache_key, job.parameters, job.cell_context, job.active_mass_mg) == (
            expected.cache_key, expected.parameters, expected.cell_context, cell.active_mass_mg
        )  # fmt: skip
        assert (job.status, job.created_by, job.input_checksums) == (
            JobStatus.QUEUED, user, [raw.sha256]
        )  # fmt: skip
        history = job.history.get()
        assert (history.history_type, history.history_user, history.cache_key) == (
            "+", user, job.cache_key
        )  # fmt: skip
    # the same analysis queued one by one (a re-run) has the same cache key
    job = jobs.first()
    AnalysisJob.objects.filter(pk=job.pk).update(status=JobStatus.FAILED)
    again = enqueue.job_rerun(job=job, user=user)
    assert (again.pk != job.pk, again.cache_key, again.status) == (
        True, job.cache_key, JobStatus.QUEUED
    )  # fmt: skip


def test_stored_results_are_reused_when_the_jobs_are_queued_together(messages):
    seed.analysis_definitions_seed()
    cell = CellFactory()
    first = record(cell.sample, cycler_upload(NW4))
    assert set(run_all(first).values()) == {"succeeded"}
    messages.clear()

    second = record(cell.sample, cycler_upload(NW4, as_name="again.ndax"))

    jobs = {j.kind: j for j in second.analysis_jobs.all()}
    stored = {j.kind: j.result_id for j in first.analysis_jobs.all()}
    assert {k: (j.status, j.reused, j.result_id) for k, j in jobs.items()} == {
        k: (JobStatus.SUCCEEDED, True, stored[k]) for k in stored
    }
    assert all(j.progress_message.startswith("reused the result computed") for j in jobs.values())
    assert not [m for m in messages if m[0] == "analysis_job_run"]  # nothing to compute


def test_a_job_a_concurrent_request_queued_first_is_kept_and_the_others_queued(messages):
    """The insert of all the jobs meets the one queued meanwhile: each is queued one by one,
    the concurrent one returned as it is, nothing twice."""
    seed.analysis_definitions_seed()
    user = UserFactory()
    measurement = record(
        CellFactory().sample, SimpleUploadedFile("run.ndax", ndax(3)), operator=user
    )
    AnalysisJob.objects.all().delete()
    raw = measurement.files.get().raw_file
    definitions = list(AnalysisDefinition.objects.filter(kind__in=KINDS).order_by("id"))
    concurrent = enqueue.job_enqueue(
        definition=definitions[1], measurement=measurement, raw_file=raw, user=user
    )

    jobs = enqueue._jobs_create(measurement, [(raw, d) for d in definitions], user)

    assert [j.definition_id for j in jobs] == [d.pk for d in definitions]
    assert jobs[1].pk == concurrent.pk
    assert measurement.analysis_jobs.count() == 4
    assert all(j.status == JobStatus.QUEUED for j in jobs)


def test_each_job_sent_together_that_the_broker_refuses_waits_for_it(monkeypatch):
    seed.analysis_definitions_seed()
    monkeypatch.setattr(
        "characterization.jobs.tasks.raw_file_inspect.apply_async", lambda *a, **k: None
    )
    monkeypatch.setattr(
        "characterization.jobs.tasks.analysis_job_run.apply_async", lambda *a, **k: None
    )
    measurement = record(CellFactory().sample, SimpleUploadedFile("run.ndax", ndax(4)))
    jobs = list(measurement.analysis_jobs.order_by("id"))
    refused = jobs[1].pk

    def apply_async(args, **kwargs):
        if args[0] == refused:
            raise ConnectionRefusedError("Redis went away")

    monkeypatch.setattr("characterization.jobs.tasks.analysis_job_run.apply_async", apply_async)
    assert sending.jobs_send([j.pk for j in jobs]) == [j.pk for j in jobs if j.pk != refused]

    found = {j.pk: (j.progress_message, j.sent_at is not None) for j in jobs_of(measurement)}
    assert found == {
        j.pk: (sending.BROKER_WAIT_MESSAGE, False)
        if j.pk == refused
        else (sending.QUEUED_MESSAGE, True)
        for j in jobs
    }
    # sent again later (jobs_recover): no longer waiting
    monkeypatch.setattr(
        "characterization.jobs.tasks.analysis_job_run.apply_async", lambda *a, **k: None
    )
    assert sending.jobs_send([refused, jobs[0].pk]) == [refused, jobs[0].pk]
    assert AnalysisJob.objects.get(pk=refused).progress_message == sending.QUEUED_MESSAGE


def test_with_the_broker_down_the_jobs_sent_together_all_wait(monkeypatch):
    seed.analysis_definitions_seed()
    for task in ("analysis_job_run", "raw_file_inspect"):
        monkeypatch.setattr(f"characterization.jobs.tasks.{task}.apply_async", lambda *a, **k: 0)
    measurement = record(CellFactory().sample, SimpleUploadedFile("run.ndax", ndax(5)))
    monkeypatch.undo()
    ids = list(measurement.analysis_jobs.values_list("pk", flat=True))
    with broker_unreachable():
        assert sending.jobs_send(ids) == []
    assert {(j.status, j.progress_message, j.sent_at) for j in jobs_of(measurement)} == {
        (JobStatus.QUEUED, sending.BROKER_WAIT_MESSAGE, None)
    }


def jobs_of(measurement) -> list[AnalysisJob]:
    return list(AnalysisJob.objects.filter(measurement=measurement))
