"""Jobs after a broker restart (issue 9): work whose message the broker lost (Redis restarted
without persistence, a purged queue) is sent again within minutes by the recovery sweep, and
the job page says so; work still waiting in the queue is not sent twice."""

from __future__ import annotations

from datetime import timedelta
from types import SimpleNamespace

import pytest
from django.utils import timezone

from characterization.jobs import delivery, recovery, seed, sending
from characterization.jobs.delivery import INSPECT_TASK, JOB_TASK, Holdings
from characterization.jobs.models import AnalysisDefinition, AnalysisJob, AnalysisResult, JobStatus
from characterization.models import RawFile, ReadState
from lims.celery import app
from tests.characterization.factories import CellFactory, MeasurementFactory, upload

LOST_AFTER = timedelta(minutes=2)


@pytest.fixture
def sent(monkeypatch):
    """Ids handed to the broker (faked: the in-process tests have no worker)."""
    ids = SimpleNamespace(jobs=[], files=[])
    monkeypatch.setattr(
        "characterization.jobs.tasks.analysis_job_run.apply_async",
        lambda args, **kwargs: ids.jobs.append(args[0]),
    )
    monkeypatch.setattr(
        "characterization.jobs.tasks.raw_file_inspect.apply_async",
        lambda args, **kwargs: ids.files.append(args[0]),
    )
    return ids


@pytest.fixture
def broker(monkeypatch):
    """What the broker holds, as each test sets it (None: it cannot be looked into)."""
    state = SimpleNamespace(holdings=Holdings({JOB_TASK: frozenset(), INSPECT_TASK: frozenset()}))
    monkeypatch.setattr(delivery, "broker_holdings", lambda queue=None: state.holdings)
    monkeypatch.setattr(delivery, "LOOK_AGAIN_S", 0)
    return state


def queued_job(*, sent_ago: timedelta) -> AnalysisJob:
    """One queued job of a cycler-named file, sent `sent_ago`."""
    AnalysisDefinition.objects.exclude(kind="cycling_summary").update(enabled=False)
    measurement = MeasurementFactory(uploads=[upload("cell 1.ndax", b"not really a cycler file")])
    job = measurement.analysis_jobs.get()
    AnalysisJob.objects.filter(pk=job.pk).update(sent_at=timezone.now() - sent_ago)
    RawFile.objects.update(read_state=ReadState.READ)  # the file's inspection is not the subject
    job.refresh_from_db()
    return job


def clock(moment) -> str:
    return timezone.localtime(moment).strftime("%H:%M")


# --- in process: the sweep's decisions --------------------------------------------------------


@pytest.mark.django_db
def test_a_job_whose_message_the_broker_lost_is_sent_again_and_its_page_says_so(
    sent, broker, client, chemist
):
    job = queued_job(sent_ago=LOST_AFTER)
    now = timezone.now()
    report = recovery.jobs_recover(now=now)
    assert (report.lost, report.resent) == ([job.pk], [job.pk])
    assert sent.jobs[-1:] == [job.pk]
    job.refresh_from_db()
    assert (job.status, job.progress_message) == (
        JobStatus.QUEUED,
        "the job broker lost this job's message (it was no longer in the queue); "
        f"sent again at {clock(now)}",
    )
    client.force_login(chemist)
    page = client.get(f"/jobs/{job.pk}/").content.decode()
    assert "the job broker lost this job&#x27;s message (it was no longer in the queue)" in page
    assert recovery.jobs_recover().lost == []  # sent just now: not again


@pytest.mark.django_db
def test_a_job_waiting_in_the_queue_or_sent_moments_ago_is_not_sent_twice(sent, broker):
    waiting = queued_job(sent_ago=timedelta(minutes=20))
    broker.holdings = Holdings({JOB_TASK: frozenset({waiting.pk})})
    assert recovery.jobs_recover().lost == []
    fresh = queued_job(sent_ago=timedelta(seconds=20))
    broker.holdings = Holdings({JOB_TASK: frozenset()})
    assert recovery.jobs_recover().lost == [waiting.pk]  # not the fresh one
    fresh.refresh_from_db()
    assert fresh.progress_message == sending.QUEUED_MESSAGE


@pytest.mark.django_db
def test_after_a_broker_restart_the_page_says_when_it_restarted(sent, broker):
    job = queued_job(sent_ago=timedelta(minutes=5))
    restarted = timezone.now() - timedelta(minutes=3)
    broker.holdings = Holdings({JOB_TASK: frozenset()}, restarted_at=restarted)
    now = timezone.now()
    recovery.jobs_recover(now=now)
    job.refresh_from_db()
    assert job.progress_message == (
        f"the job broker lost this job's message (it restarted at {clock(restarted)}); "
        f"sent again at {clock(now)}"
    )


@pytest.mark.django_db
def test_without_a_look_into_the_broker_a_job_is_sent_again_only_once_stale(sent, broker, settings):
    broker.holdings = None  # another transport, or the broker did not answer
    recent = queued_job(sent_ago=LOST_AFTER)
    stale = queued_job(sent_ago=timedelta(seconds=settings.KILN_JOB_STALE_S + 60))
    now = timezone.now()
    assert recovery.jobs_recover(now=now).lost == [stale.pk]
    stale.refresh_from_db(), recent.refresh_from_db()
    minutes = settings.KILN_JOB_STALE_S // 60
    assert stale.progress_message == (
        f"no worker started this job in {minutes} minutes; sent again at {clock(now)}"
    )
    assert recent.progress_message == sending.QUEUED_MESSAGE


@pytest.mark.django_db
def test_a_job_the_worker_took_meanwhile_is_not_sent_again(sent, broker, monkeypatch):
    job = queued_job(sent_ago=LOST_AFTER)

    def taken_while_looking(task, ids):
        AnalysisJob.objects.filter(pk=job.pk).update(status=JobStatus.RUNNING)
        return set(ids), broker.holdings

    monkeypatch.setattr(delivery, "confirmed_lost", taken_while_looking)
    assert recovery.jobs_recover().lost == [] and sent.jobs == []


@pytest.mark.django_db
def test_an_inspection_whose_message_was_lost_is_sent_again_at_most_three_times(sent, broker):
    raw = MeasurementFactory(uploads=[upload("eis.mpt", b"EC-Lab ASCII FILE\n")]).files.get()
    raw = raw.raw_file
    RawFile.objects.filter(pk=raw.pk).update(
        read_state=ReadState.PENDING, uploaded_at=timezone.now() - LOST_AFTER
    )
    broker.holdings = Holdings({INSPECT_TASK: frozenset({raw.pk})})
    recovery.jobs_recover()
    assert sent.files == []  # its message is there: waiting its turn
    broker.holdings = Holdings({INSPECT_TASK: frozenset()})
    now = timezone.now()
    for _ in range(4):
        recovery.jobs_recover(now=now)
    assert sent.files == [raw.pk] * 3
    raw.refresh_from_db()
    assert raw.read_message.endswith(
        f"(sent to a worker again at {clock(now)}: its message was not in the job broker)"
    )


def test_the_reason_names_a_restart_only_after_the_job_was_sent():
    sent_at = timezone.now() - timedelta(minutes=5)
    before = sent_at - timedelta(hours=1)
    assert delivery.lost_reason(before, sent_at) == (
        "the job broker lost this job's message (it was no longer in the queue)"
    )
    assert "(it restarted at " in delivery.lost_reason(sent_at + timedelta(minutes=1), sent_at)


# --- the real broker --------------------------------------------------------------------------


def purge_test_queue() -> None:
    """What a Redis restart without persistence does to the waiting messages."""
    with app.connection_for_write() as connection:
        connection.default_channel.queue_purge(app.conf.task_default_queue)


def test_the_broker_is_seen_to_hold_a_sent_message_until_its_queue_is_purged():
    """Filesystem transport by default, Redis when REDIS_URL is set; no worker listens."""
    purge_test_queue()
    app.send_task(JOB_TASK, args=[987_654_321])
    app.send_task(INSPECT_TASK, args=[123_456_789])
    held = delivery.broker_holdings()
    assert (held.of(JOB_TASK), held.of(INSPECT_TASK)) == ({987_654_321}, {123_456_789})
    purge_test_queue()
    held = delivery.broker_holdings()
    assert (held.of(JOB_TASK), held.of(INSPECT_TASK)) == (frozenset(), frozenset())


@pytest.mark.services
@pytest.mark.testdata("cyclers")
@pytest.mark.django_db(transaction=True)
def test_a_job_whose_message_redis_lost_is_sent_again_by_the_sweep_and_finishes(
    start_worker, client, chemist, settings
):
    from tests.characterization.test_jobs import NW4, cycler_upload, record, wait_for

    seed.analysis_definitions_seed()
    AnalysisDefinition.objects.exclude(kind="cycling_summary").update(enabled=False)
    purge_test_queue()
    measurement = record(CellFactory().sample, cycler_upload(NW4))  # sent; no worker yet
    job, raw = measurement.analysis_jobs.get(), measurement.files.get().raw_file
    later = timezone.now() + timedelta(seconds=settings.KILN_JOB_LOST_AFTER_S + 1)
    assert job.pk in delivery.broker_holdings().of(JOB_TASK)
    assert recovery.jobs_recover(now=later).lost == []  # waiting its turn

    purge_test_queue()  # Redis restarted without persistence
    assert recovery.jobs_recover(now=later).lost == [job.pk]
    job.refresh_from_db(), raw.refresh_from_db()
    assert job.progress_message.startswith(
        "the job broker lost this job's message (it was no longer in the queue); sent again at "
    )
    assert "(sent to a worker again at " in raw.read_message
    client.force_login(chemist)
    assert (
        "the job broker lost this job&#x27;s message"
        in client.get(f"/jobs/{job.pk}/").content.decode()
    )

    worker = start_worker()
    done = wait_for(
        lambda: AnalysisJob.objects.filter(pk=job.pk, status=JobStatus.SUCCEEDED).first()
    )
    assert done is not None, worker.log()
    assert (done.attempts, done.worker) == (1, worker.hostname)
    assert AnalysisResult.objects.count() == 1
    assert wait_for(lambda: RawFile.objects.filter(pk=raw.pk, read_state=ReadState.READ).exists())
