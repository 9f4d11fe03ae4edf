"""Analysis jobs on a real Celery worker subprocess, real Redis and the PostgreSQL test database:
upload -> worker -> stored result; bad data; SIGKILL mid-job; the broker down at upload; a worker
that stopped. Never eager mode: these are the faults of issue 5, "Bad input and faults"."""

from __future__ import annotations

import os
import signal
from datetime import timedelta
from pathlib import Path

import pytest
from django.utils import timezone

from characterization.analysis.report import cycling_report
from characterization.analysis_test_kinds import register_test_kinds, unregister_test_kinds
from characterization.jobs import cache, enqueue, recovery, seed, sending
from characterization.jobs.models import AnalysisDefinition, AnalysisJob, AnalysisResult, JobStatus
from characterization.models import Measurement
from lims.celery import app
from tests.characterization.factories import CellFactory, PowderFactory
from tests.characterization.parser_reference import parsed
from tests.characterization.test_jobs import (
    DEFAULT_KINDS,
    EIS_MPT,
    NW4,
    REST_ONLY,
    cycler_upload,
    record,
    wait_for,
)
from tests.fixtures.broker import broker_unreachable

pytestmark = [
    pytest.mark.services,
    pytest.mark.testdata("cyclers"),
    pytest.mark.django_db(transaction=True),
]

FINISHED = (JobStatus.SUCCEEDED, JobStatus.FAILED, JobStatus.CANCELLED)


@pytest.fixture
def definitions(transactional_db):
    """The shipped definitions (the flush after a transactional test removes the seeded rows)."""
    seed.analysis_definitions_seed()


@pytest.fixture
def kinds_for_tests():
    register_test_kinds()  # in this process; the workers get KILN_TEST_ANALYSES=1
    yield
    unregister_test_kinds()


def all_finished(measurement: Measurement, count: int):
    jobs = list(measurement.analysis_jobs.all())
    return jobs if len(jobs) == count and all(j.status in FINISHED for j in jobs) else None


def test_an_upload_is_analysed_by_the_worker_and_an_identical_rerun_reuses_the_result(
    celery_worker,
    definitions,
    client,
    chemist,
    settings,
):
    cell = CellFactory()
    client.force_login(chemist)
    response = client.post(
        "/measurements/new/",
        {
            "subject": cell.sample.code,
            "measurement_type": "cycling",
            "measured_at": "2026-03-05T14:30",
            "files": [cycler_upload(NW4)],
        },
    )
    assert response.status_code == 302
    measurement = Measurement.objects.get(subject=cell.sample)
    jobs = wait_for(lambda: all_finished(measurement, len(DEFAULT_KINDS)))
    assert jobs, celery_worker.log()
    assert {(j.kind, j.status) for j in jobs} == {(k, JobStatus.SUCCEEDED) for k in DEFAULT_KINDS}
    assert {j.worker for j in jobs} == {celery_worker.hostname}
    assert all(j.attempts == 1 and j.sent_at and not j.reused for j in jobs)

    summary = measurement.analysis_jobs.get(kind="cycling_summary").result
    report = cycling_report(parsed(NW4).table, active_mass_mg=cell.active_mass_mg)
    stored = {row["cycle"]: row for row in summary.summary["cycles"]}
    for expected in report["cycles"]:
        assert stored[expected["cycle"]]["discharge_capacity_mah_g"] == pytest.approx(
            expected["discharge_capacity_mah_g"], rel=1e-9
        )
    raw = measurement.files.get().raw_file
    assert cache.parquet_path(raw.sha256).is_file()
    raw.refresh_from_db()  # the worker recorded what it made of the file
    assert (raw.read_state, raw.read_message) == (
        "read",
        "read as a Neware .ndax file, 18,700 rows, 320 half cycles; direction from the step types",
    )
    assert (Path(settings.MEDIA_ROOT) / summary.artifacts[0]["path"]).is_file()

    job = measurement.analysis_jobs.get(kind="cycling_summary")
    response = client.post(f"/jobs/{job.pk}/rerun/")
    rerun = AnalysisJob.objects.latest("id")
    assert response.url == f"/jobs/{rerun.pk}/"
    assert (rerun.status, rerun.reused, rerun.result_id) == (
        JobStatus.SUCCEEDED,
        True,
        job.result_id,
    )
    assert AnalysisResult.objects.count() == len(DEFAULT_KINDS)


def test_bad_data_fails_at_once_on_the_worker_and_affects_nothing_else(
    celery_worker,
    definitions,
):
    good = record(CellFactory().sample, cycler_upload(NW4))
    rest_only = record(CellFactory().sample, cycler_upload(REST_ONLY))
    eis = record(CellFactory().sample, cycler_upload(EIS_MPT))
    truncated = record(
        CellFactory().sample, cycler_upload(NW4, truncate_to=0.6, as_name="cut-short.ndax")
    )
    powder = record(PowderFactory(), cycler_upload(NW4))
    for measurement in (good, rest_only, eis, truncated, powder):
        assert wait_for(lambda m=measurement: all_finished(m, 4), 90), celery_worker.log()

    def errors(measurement):
        return {j.kind: (j.status, j.error, j.attempts) for j in measurement.analysis_jobs.all()}

    assert {s for s, _, _ in errors(good).values()} == {JobStatus.SUCCEEDED}
    summary_status, summary_error, attempts = errors(rest_only)["cycling_summary"]
    assert (summary_status, attempts) == (JobStatus.FAILED, 1)
    assert summary_error == (
        f"Cycling summary of {REST_ONLY} failed: the file has no complete charge/discharge cycle."
    )
    assert all("not a cycling file" in e for _, e, _ in errors(eis).values())
    assert all(
        e.startswith("cut-short.ndax: a zip archive") and "truncated" in e
        for _, e, _ in errors(truncated).values()
    )
    mass = errors(powder)
    assert "needs the active mass of the electrode" in mass["voltage_fade"][1]
    assert mass["dqdv"][0] == JobStatus.SUCCEEDED
    # The failures did not retry: one attempt each, and no stray results.
    assert AnalysisResult.objects.count() == len(DEFAULT_KINDS) + 1


@pytest.fixture
def slow_definition(definitions, kinds_for_tests):
    AnalysisDefinition.objects.update(enabled=False)  # only the slow job in the queue
    return AnalysisDefinition.objects.create(
        name="Slow test analysis",
        kind="test_slow_steps",
        parameters={"steps": 40, "step_s": 0.25},
    )


SLOW_WORKER_ENV = {"KILN_TEST_ANALYSES": "1", "KILN_VISIBILITY_TIMEOUT_S": "2"}


def test_a_worker_killed_mid_job_is_redelivered_and_the_job_finishes_with_one_result(
    start_worker, slow_definition
):
    first = start_worker(SLOW_WORKER_ENV)
    measurement = record(CellFactory().sample, cycler_upload(NW4))
    job = enqueue.job_enqueue(
        definition=slow_definition,
        measurement=measurement,
        raw_file=measurement.files.get().raw_file,
    )
    running = wait_for(
        lambda: AnalysisJob.objects.filter(
            pk=job.pk, status=JobStatus.RUNNING, progress_percent__gte=40
        ).first(),
        30,
    )
    assert running is not None and running.worker == first.hostname, first.log()
    first.kill()  # SIGKILL the worker and its pool process: no goodbye, no ack

    second = start_worker(SLOW_WORKER_ENV)  # Redis gives it the unacknowledged message
    done = wait_for(
        lambda: AnalysisJob.objects.filter(pk=job.pk, status=JobStatus.SUCCEEDED).first(), 60
    )
    assert done is not None, second.log()
    assert (done.worker, done.attempts) == (second.hostname, 2)
    assert AnalysisResult.objects.filter(kind="test_slow_steps").count() == 1
    assert done.result.summary == {
        "rows": 18700,
        "steps": 40,
        "max_discharge_capacity_mah": pytest.approx(
            float(parsed(NW4).table["discharge_capacity_mah"].max())
        ),
    }


def test_a_pool_process_killed_mid_job_is_redelivered_to_the_same_worker(
    start_worker, slow_definition
):
    """The out-of-memory killer takes the pool process, not the worker: Celery rejects the
    message back to the queue (acks_late + reject_on_worker_lost) and the job runs again."""
    worker = start_worker(SLOW_WORKER_ENV)
    measurement = record(CellFactory().sample, cycler_upload(NW4))
    job = enqueue.job_enqueue(
        definition=slow_definition,
        measurement=measurement,
        raw_file=measurement.files.get().raw_file,
    )
    assert wait_for(
        lambda: AnalysisJob.objects.filter(
            pk=job.pk, status=JobStatus.RUNNING, progress_percent__gte=40
        ).exists(),
        30,
    ), worker.log()
    children = Path(f"/proc/{worker.proc.pid}/task/{worker.proc.pid}/children").read_text()
    (pool_pid,) = [int(pid) for pid in children.split()]
    os.kill(pool_pid, signal.SIGKILL)
    done = wait_for(
        lambda: AnalysisJob.objects.filter(pk=job.pk, status=JobStatus.SUCCEEDED).first(), 60
    )
    assert done is not None, worker.log()
    assert (done.worker, done.attempts) == (worker.hostname, 2)
    assert AnalysisResult.objects.filter(kind="test_slow_steps").count() == 1


def test_with_redis_down_at_upload_the_upload_is_kept_and_the_job_runs_once_redis_is_back(
    celery_worker,
    slow_definition,
):
    AnalysisDefinition.objects.filter(kind="cycling_summary").update(enabled=True)
    with broker_unreachable():
        measurement = record(CellFactory().sample, cycler_upload(NW4))
    job = measurement.analysis_jobs.get()
    assert (job.status, job.progress_message, job.sent_at) == (
        JobStatus.QUEUED,
        sending.BROKER_WAIT_MESSAGE,
        None,
    )
    assert measurement.files.get().raw_file.sha256  # the upload itself is stored
    assert (
        wait_for(lambda: AnalysisJob.objects.get(pk=job.pk).status != JobStatus.QUEUED, 3) is None
    )

    later = timezone.now() + timedelta(seconds=recovery.RESEND_AFTER_S + 1)
    assert recovery.jobs_recover(now=later).resent == [job.pk]
    done = wait_for(
        lambda: AnalysisJob.objects.filter(pk=job.pk, status=JobStatus.SUCCEEDED).first()
    )
    assert done is not None, celery_worker.log()
    assert (done.attempts, done.worker) == (1, celery_worker.hostname)
    assert AnalysisResult.objects.count() == 1


def test_the_beat_recovery_task_takes_back_a_job_whose_worker_stopped(
    celery_worker,
    definitions,
    settings,
):
    AnalysisDefinition.objects.exclude(kind="cycling_summary").update(enabled=False)
    with broker_unreachable():  # the message never reaches Redis: only recovery can run it
        measurement = record(CellFactory().sample, cycler_upload(NW4))
    job = measurement.analysis_jobs.get()
    stale = timezone.now() - timedelta(seconds=settings.KILN_JOB_STALE_S + 60)
    AnalysisJob.objects.filter(pk=job.pk).update(
        status=JobStatus.RUNNING,
        attempts=1,
        worker="dead-worker@lab",
        started_at=stale,
        heartbeat_at=stale,
        sent_at=stale,
    )
    app.send_task("characterization.jobs_recover")  # the task beat sends every minute
    done = wait_for(
        lambda: AnalysisJob.objects.filter(pk=job.pk, status=JobStatus.SUCCEEDED).first()
    )
    assert done is not None, celery_worker.log()
    assert (done.attempts, done.worker) == (2, celery_worker.hostname)
