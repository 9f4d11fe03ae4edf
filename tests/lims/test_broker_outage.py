"""Every button that sends work says so when the job broker is down, instead of a 500: the
worker check, a job's re-run, an analysis run on a measurement, the voltage-fade window, the
admin's re-run of a definition and of jobs. The broker is Redis on a port where nothing
listens (as in test_healthz), for the sending side of Celery."""

from __future__ import annotations

import pytest
from django.urls import reverse

from characterization.jobs import seed, sending
from characterization.jobs.models import AnalysisDefinition, AnalysisJob, JobStatus
from lims.models import WorkerHeartbeat
from tests.characterization.factories import MeasurementFactory, upload
from tests.fixtures.broker import broker_unreachable

# Transactional: the sends run on commit, as in a real request, before the view's message.
pytestmark = pytest.mark.django_db(transaction=True)

BROKER_DOWN = "The job broker is not reachable"


@pytest.fixture
def outage():
    return broker_unreachable


@pytest.fixture
def definitions(db):
    seed.analysis_definitions_seed()
    return {d.kind: d for d in AnalysisDefinition.objects.all()}


@pytest.fixture
def measurement(definitions, chemist, monkeypatch):
    """A cycling measurement of the chemist with a cycler file, its automatic jobs finished."""
    monkeypatch.setattr(
        "characterization.jobs.tasks.analysis_job_run.apply_async", lambda *a, **k: 0
    )
    monkeypatch.setattr(
        "characterization.jobs.tasks.raw_file_inspect.apply_async", lambda *a, **k: 0
    )
    made = MeasurementFactory(operator=chemist, uploads=[upload("cell.ndax", b"NDAX junk")])
    monkeypatch.undo()
    made.analysis_jobs.update(status=JobStatus.FAILED)
    return made


def messages_of(response) -> list[str]:
    return [str(m) for m in response.context["messages"]] if response.context else []


def test_worker_check_says_the_broker_is_down_and_sends_nothing(client, chemist, outage):
    client.force_login(chemist)
    with outage():
        response = client.post(reverse("worker-ping"))
    assert response.status_code == 200
    html = response.content.decode()
    assert BROKER_DOWN in html
    assert "waiting for a worker" not in html  # it would wait forever
    assert WorkerHeartbeat.objects.count() == 0


def test_rerun_of_a_job_says_the_broker_is_down_and_the_job_waits(
    client, chemist, measurement, outage
):
    job = measurement.analysis_jobs.order_by("id").first()
    client.force_login(chemist)
    with outage():
        response = client.post(reverse("jobs:rerun", args=[job.pk]), follow=True)
    assert response.status_code == 200
    new = AnalysisJob.objects.exclude(status=JobStatus.FAILED).get()
    assert (new.status, new.progress_message, new.sent_at) == (
        JobStatus.QUEUED,
        sending.BROKER_WAIT_MESSAGE,
        None,
    )
    assert any(BROKER_DOWN in m for m in messages_of(response)), messages_of(response)


def test_running_an_analysis_says_the_broker_is_down(
    client, chemist, measurement, definitions, outage
):
    client.force_login(chemist)
    code = measurement.sample.code
    with outage():
        response = client.post(
            reverse("jobs:measurement-run", args=[code]),
            {"definition": definitions["cycling_summary"].pk},
            follow=True,
        )
    assert response.status_code == 200
    waiting = AnalysisJob.objects.filter(status=JobStatus.QUEUED)
    assert [j.progress_message for j in waiting] == [sending.BROKER_WAIT_MESSAGE]
    assert any(BROKER_DOWN in m for m in messages_of(response)), messages_of(response)


def test_the_fade_window_says_the_broker_is_down(client, chemist, measurement, outage):
    client.force_login(chemist)
    code = measurement.sample.code
    with outage():
        response = client.post(
            reverse("jobs:measurement-fade", args=[code]),
            {"first_cycle": "2", "last_cycle": "5"},
            follow=True,
        )
    assert response.status_code == 200
    fade = AnalysisJob.objects.get(status=JobStatus.QUEUED, kind="voltage_fade")
    assert fade.progress_message == sending.BROKER_WAIT_MESSAGE
    assert any(BROKER_DOWN in m for m in messages_of(response)), messages_of(response)


def test_the_fade_window_in_the_page_says_the_broker_is_down(client, chemist, measurement, outage):
    client.force_login(chemist)
    code = measurement.sample.code
    with outage():
        response = client.post(
            reverse("jobs:measurement-fade", args=[code]),
            {"first_cycle": "2", "last_cycle": "5"},
            headers={"HX-Request": "true"},
        )
    assert response.status_code == 200
    assert BROKER_DOWN in response.content.decode()


def test_admin_rerun_of_a_definition_says_the_broker_is_down(admin_client, measurement, outage):
    definition = AnalysisDefinition.objects.get(kind="cycling_summary")
    with outage():
        response = admin_client.post(
            reverse("admin:jobs_analysisdefinition_changelist"),
            {"action": "rerun_on_all_measurements", "_selected_action": [definition.pk]},
            follow=True,
        )
    assert response.status_code == 200
    waiting = AnalysisJob.objects.filter(status=JobStatus.QUEUED, definition=definition)
    assert [j.progress_message for j in waiting] == [sending.BROKER_WAIT_MESSAGE]
    assert any(BROKER_DOWN in m for m in messages_of(response)), messages_of(response)


def test_admin_rerun_of_jobs_says_the_broker_is_down(admin_client, measurement, outage):
    job = measurement.analysis_jobs.order_by("id").first()
    with outage():
        response = admin_client.post(
            reverse("admin:jobs_analysisjob_changelist"),
            {"action": "rerun_jobs", "_selected_action": [job.pk]},
            follow=True,
        )
    assert response.status_code == 200
    assert AnalysisJob.objects.get(status=JobStatus.QUEUED).progress_message == (
        sending.BROKER_WAIT_MESSAGE
    )
    assert any(BROKER_DOWN in m for m in messages_of(response)), messages_of(response)


def test_running_an_analysis_that_is_not_an_id_asks_for_one(client, chemist, measurement):
    client.force_login(chemist)
    code = measurement.sample.code
    response = client.post(
        reverse("jobs:measurement-run", args=[code]), {"definition": "cycling"}, follow=True
    )
    assert response.status_code == 200
    assert messages_of(response) == ["Choose an analysis to run."]
    assert not AnalysisJob.objects.filter(status=JobStatus.QUEUED).exists()
