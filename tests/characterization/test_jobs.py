"""Analysis jobs, in process: enqueue on upload, the claim, results stored once per cache key,
bad data failing with a chemist's sentence, transient errors, cancelling and recovery.

The Celery task itself is tested against a real worker on real Redis in test_jobs_worker.py;
here the service it calls runs directly (no eager mode), and sending is observed or faked.
"""

from __future__ import annotations

import importlib
import time
import uuid
from datetime import timedelta
from pathlib import Path

import pandas as pd
import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import OperationalError
from django.utils import timezone
from kombu.exceptions import OperationalError as BrokerOperationalError

from characterization import services, storage
from characterization.analysis import registry
from characterization.analysis.report import cycling_report
from characterization.analysis_test_kinds import register_test_kinds, unregister_test_kinds
from characterization.jobs import cache, enqueue, errors, recovery, run, seed, sending, spec
from characterization.jobs.models import AnalysisDefinition, AnalysisJob, AnalysisResult, JobStatus
from characterization.models import Measurement
from tests.characterization.factories import CellFactory, PowderFactory, upload
from tests.characterization.parser_reference import cycler_data_dir, parsed

NW4 = "neware_fastnda_nw4-120-1-6-53.ndax"
REST_ONLY = "neware_newarenda_unit27_rest_only.ndax"
EIS_MPT = "eis_impedancepy_biologic.mpt"
GCPL_MPR = "biologic_navani_gcpl_5cycles.mpr"
DEFAULT_KINDS = {"cycling_summary", "voltage_fade", "dqdv", "first_cycle"}  # for "cycling"


# --- helpers shared by the job test modules ---------------------------------------------------


def cycler_upload(name: str, *, truncate_to: float | None = None, as_name: str | None = None):
    content = (cycler_data_dir() / name).read_bytes()
    if truncate_to is not None:
        content = content[: int(len(content) * truncate_to)]
    return SimpleUploadedFile(as_name or name, content)


def record(subject, *uploads, measurement_type: str = "cycling", operator=None) -> Measurement:
    """Record a measurement with files through the service, as the upload form does."""
    return services.measurement_record(
        subject=subject,
        measurement_type=measurement_type,
        operator=operator,
        uploads=list(uploads),
    ).measurement


def run_all(measurement: Measurement | None = None) -> dict[str, str]:
    """Run every queued job in this process (what a worker does), kind -> outcome."""
    jobs = AnalysisJob.objects.filter(status=JobStatus.QUEUED)
    if measurement is not None:
        jobs = jobs.filter(measurement=measurement)
    return {
        job.kind: run.analysis_job_run(job_id=job.pk, worker="test@local")
        for job in jobs.order_by("id")
    }


def wait_for(predicate, timeout_s: float = 60, interval_s: float = 0.2):
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval_s)
    return None


@pytest.fixture
def definitions(db):
    """The shipped definitions (a transactional test's flush removes the migration's rows)."""
    seed.analysis_definitions_seed()
    return {d.kind: d for d in AnalysisDefinition.objects.all()}


@pytest.fixture
def kinds_for_tests():
    register_test_kinds()
    yield
    unregister_test_kinds()


@pytest.fixture
def sent(monkeypatch):
    """Job ids handed to the broker (the send is faked: no broker in process tests)."""
    ids: list[int] = []
    monkeypatch.setattr(
        "characterization.jobs.tasks.analysis_job_run.apply_async",
        lambda args, **kwargs: ids.append(args[0]),
    )
    # the inspection of each new file is another task; tests run it in-process when they need it
    monkeypatch.setattr(
        "characterization.jobs.tasks.raw_file_inspect.apply_async", lambda args, **kwargs: None
    )
    return ids


pytestmark = pytest.mark.django_db


# --- definitions ------------------------------------------------------------------------------


def test_the_migration_seeds_one_definition_per_shipped_analysis_with_valid_defaults():
    migration = importlib.import_module(
        "characterization.migrations.0002_analysis_definitions_jobs_results"
    )
    later = importlib.import_module(
        "characterization.jobs.migrations.0003_definitions_for_the_study_analyses"
    )
    kinds = registry.kinds()
    seeded = {kind: (params, types) for _, kind, params, types, _ in migration.DEFAULT_DEFINITIONS}
    seeded |= {kind: (params, types) for _, kind, params, types in later.DEFINITIONS}
    assert set(seeded) == {k for k in kinds if not k.startswith("test_")}
    for key, (params, types) in seeded.items():
        # parameters added since (dQ/dV's follow window) take their defaults
        cleaned = kinds[key].clean_parameters(params)
        assert {name: cleaned[name] for name in params} == params
        assert tuple(types) == kinds[key].measurement_types


@pytest.mark.django_db
def test_seeded_rate_definitions_use_each_cells_own_1c_after_the_migration():
    definition = AnalysisDefinition.objects.get(kind="rate_capability")
    assert definition.parameters["one_c_ma_per_g"] is None


def test_a_definition_with_an_unknown_analysis_or_bad_parameters_is_a_field_error():
    with pytest.raises(ValidationError) as unknown:
        AnalysisDefinition(name="x", kind="magic").full_clean()
    assert "unknown analysis 'magic'" in unknown.value.message_dict["kind"][0]
    bad = AnalysisDefinition(name="y", kind="rate_capability", parameters={"tolerance": 2})
    with pytest.raises(ValidationError) as error:
        bad.full_clean()
    assert error.value.message_dict["parameters"] == ["Rate tolerance (fraction) must be ≤ 0.5"]
    wrong_type = AnalysisDefinition(name="z", kind="dqdv", auto_run_for=["cycling", "nmr"])
    with pytest.raises(ValidationError) as types:
        wrong_type.full_clean()
    assert "unknown measurement type 'nmr'" in types.value.message_dict["auto_run_for"][0]


def test_a_definition_is_stored_with_every_parameter_filled_in():
    definition = AnalysisDefinition(name="Rate 1C=200", kind="rate_capability")
    definition.parameters = {"one_c_ma_per_g": "200"}
    definition.full_clean()
    assert definition.parameters == {"one_c_ma_per_g": 200.0, "tolerance": 0.15}


# --- enqueueing on upload ---------------------------------------------------------------------


def test_uploading_a_cycler_file_queues_the_default_analyses_sent_only_after_commit(
    definitions, sent, django_capture_on_commit_callbacks
):
    cell = CellFactory()
    with django_capture_on_commit_callbacks() as callbacks:
        measurement = record(cell.sample, cycler_upload(NW4))
    jobs = list(AnalysisJob.objects.filter(measurement=measurement))
    assert {j.kind for j in jobs} == DEFAULT_KINDS
    assert all(j.status == JobStatus.QUEUED for j in jobs)
    assert sent == []  # nothing left before the transaction committed
    for callback in callbacks:
        callback()
    assert sorted(sent) == sorted(j.pk for j in jobs)
    job = jobs[0]
    raw = measurement.files.get().raw_file
    assert job.input_checksums == [raw.sha256]
    assert job.active_mass_mg == pytest.approx(cell.active_mass_mg)
    assert job.kind_version == registry.kinds()[job.kind].version
    assert AnalysisJob.objects.filter(sent_at__isnull=False).count() == len(jobs)


def test_a_rate_test_runs_the_cycling_summary_and_rate_capability(definitions, sent):
    measurement = record(CellFactory().sample, cycler_upload(NW4), measurement_type="rate_test")
    kinds = set(measurement.analysis_jobs.values_list("kind", flat=True))
    assert kinds == {"cycling_summary", "rate_capability"}


def test_files_that_are_not_cycler_files_start_no_analysis(definitions, sent):
    measurement = record(CellFactory().sample, upload("notes.csv"))
    assert not measurement.analysis_jobs.exists()
    xrd = record(PowderFactory(), cycler_upload(NW4), measurement_type="xrd")
    read = {registry.get_kind(job.kind).table_kind for job in xrd.analysis_jobs.all()}
    assert read <= {"diffraction"}  # no cycling analysis on an XRD measurement's file


def test_attaching_a_second_file_queues_jobs_for_that_file_only(definitions, sent):
    measurement = record(CellFactory().sample, cycler_upload(NW4))
    services.measurement_files_attach(
        measurement=measurement, uploads=[cycler_upload(GCPL_MPR)], added_by=None
    )
    per_file = measurement.analysis_jobs.values_list("raw_file__original_name", flat=True)
    assert sorted(set(per_file)) == [GCPL_MPR, NW4]
    assert measurement.analysis_jobs.count() == 2 * len(DEFAULT_KINDS)


def test_the_same_analysis_is_never_queued_twice_for_the_same_file(definitions, sent):
    measurement = record(CellFactory().sample, cycler_upload(NW4))
    job = measurement.analysis_jobs.get(kind="dqdv")
    again = enqueue.job_enqueue(
        definition=job.definition, measurement=measurement, raw_file=job.raw_file
    )
    assert again.pk == job.pk
    assert measurement.analysis_jobs.filter(kind="dqdv").count() == 1


def test_the_cache_key_depends_on_every_input_and_nothing_else():
    base = {
        "kind": "cycling_summary",
        "kind_version": 1,
        "parser_version": "1",
        "parameters": {"b": 1, "a": None},
        "input_checksums": ["a" * 64],
        "active_mass_mg": 6.4,
    }
    key = spec.cache_key_for(**base)
    assert key == spec.cache_key_for(**{**base, "parameters": {"a": None, "b": 1}})
    for change in (
        {"kind_version": 2},
        {"parser_version": "2"},
        {"parameters": {"a": 1, "b": 1}},
        {"input_checksums": ["b" * 64]},
        {"active_mass_mg": 6.41},
    ):
        assert spec.cache_key_for(**{**base, **change}) != key


# --- running ----------------------------------------------------------------------------------


def test_a_job_stores_the_numbers_of_the_analyze_cycling_report(definitions, sent):
    cell = CellFactory()
    measurement = record(cell.sample, cycler_upload(NW4))
    outcomes = run_all(measurement)
    assert outcomes == {kind: "succeeded" for kind in DEFAULT_KINDS}
    job = measurement.analysis_jobs.get(kind="cycling_summary")
    assert (job.status, job.progress_percent, job.attempts, job.worker) == (
        JobStatus.SUCCEEDED,
        100,
        1,
        "test@local",
    )
    report = cycling_report(parsed(NW4).table, active_mass_mg=cell.active_mass_mg)
    stored = {row["cycle"]: row for row in job.result.summary["cycles"]}
    assert len(stored) == len(report["cycles"]) == 160
    for expected in report["cycles"]:
        row = stored[expected["cycle"]]
        for field in ("discharge_capacity_mah_g", "charge_capacity_mah", "coulombic_efficiency"):
            assert row[field] == pytest.approx(expected[field], rel=1e-9)
    fade = measurement.analysis_jobs.get(kind="voltage_fade").result.summary
    assert fade["fade_mv_per_cycle"] == pytest.approx(report["voltage_fade_mv_per_cycle"])


def test_result_tables_are_csv_artefacts_named_by_the_cache_key(definitions, sent, settings):
    measurement = record(CellFactory().sample, cycler_upload(NW4))
    run_all(measurement)
    result = measurement.analysis_jobs.get(kind="cycling_summary").result
    (artifact,) = result.artifacts
    path = Path(settings.MEDIA_ROOT) / artifact["path"]
    assert artifact["path"] == f"results/{result.cache_key}/cycle_summary.csv"
    assert artifact["size"] == path.stat().st_size
    table = pd.read_csv(path)
    assert len(table) == 160 and "discharge_capacity_mah_g" in table.columns
    assert set(result.figures) == {"capacity"}


def test_the_normalised_table_is_parsed_once_then_read_from_the_parquet_cache(
    definitions, sent, settings, monkeypatch
):
    measurement = record(CellFactory().sample, cycler_upload(NW4))
    first = measurement.analysis_jobs.get(kind="cycling_summary")
    run.analysis_job_run(job_id=first.pk, worker="w")
    raw = first.raw_file
    cached = cache.parquet_path(raw.sha256)
    assert cached.is_file()
    assert not list(cached.parent.glob(".tmp-*"))  # written atomically, nothing left behind

    def parser_must_not_run(path, *args, **kwargs):
        raise AssertionError("parsed again")

    monkeypatch.setattr(cache, "read_table", parser_must_not_run)
    for job in measurement.analysis_jobs.filter(status=JobStatus.QUEUED):
        assert run.analysis_job_run(job_id=job.pk, worker="w") == "succeeded"


def test_a_damaged_parquet_cache_is_rebuilt_from_the_raw_file(definitions, sent, settings):
    measurement = record(CellFactory().sample, cycler_upload(NW4))
    raw = measurement.files.get().raw_file
    cached = cache.parquet_path(raw.sha256)
    cached.parent.mkdir(parents=True)
    cached.write_bytes(b"PAR1 not really")
    table, from_cache = cache.normalised_table(raw)
    assert (from_cache, len(table)) == (False, 18700)
    assert cache.normalised_table(raw)[1] is True


def test_an_identical_rerun_reuses_the_stored_result_at_once(definitions, sent, chemist):
    measurement = record(CellFactory().sample, cycler_upload(NW4))
    run_all(measurement)
    job = measurement.analysis_jobs.get(kind="cycling_summary")
    again = enqueue.job_rerun(job=job, user=chemist)
    assert again.pk != job.pk
    assert (again.status, again.reused, again.result_id) == (
        JobStatus.SUCCEEDED,
        True,
        job.result_id,
    )
    assert AnalysisResult.objects.filter(kind="cycling_summary").count() == 1
    assert again.pk not in sent  # nothing to compute, nothing sent


def test_the_same_file_on_another_cell_is_a_new_result_because_the_active_mass_differs(
    definitions, sent
):
    one = record(CellFactory().sample, cycler_upload(NW4))
    other = record(CellFactory(disc_mass_mg=13.0).sample, cycler_upload(NW4))
    run_all()
    keys = {m.analysis_jobs.get(kind="cycling_summary").cache_key for m in (one, other)}
    assert len(keys) == 2
    dqdv_mass = {m.analysis_jobs.get(kind="dqdv").result_id for m in (one, other)}
    assert len(dqdv_mass) == 2


def test_a_job_run_twice_runs_once(definitions, sent):
    measurement = record(CellFactory().sample, cycler_upload(NW4))
    job = measurement.analysis_jobs.get(kind="cycling_summary")
    assert run.analysis_job_run(job_id=job.pk, worker="a") == "succeeded"
    assert run.analysis_job_run(job_id=job.pk, worker="b") == "skipped"
    assert run.analysis_job_run(job_id=job.pk, worker="b", redelivered=True) == "skipped"
    job.refresh_from_db()
    assert (job.worker, job.attempts) == ("a", 1)
    assert AnalysisResult.objects.filter(kind="cycling_summary").count() == 1


def test_a_redelivered_job_is_taken_over_and_the_first_run_can_no_longer_write(definitions, sent):
    measurement = record(CellFactory().sample, cycler_upload(NW4))
    job = measurement.analysis_jobs.get(kind="cycling_summary")
    dead_token = uuid.uuid4()
    assert run._claim(job.pk, worker="dead@host", token=dead_token, redelivered=False)
    # A plain duplicate delivery leaves a running job alone ...
    assert run.analysis_job_run(job_id=job.pk, worker="b") == "skipped"
    # ... a redelivery (the worker that had it died) takes it over.
    assert run.analysis_job_run(job_id=job.pk, worker="b", redelivered=True) == "succeeded"
    job.refresh_from_db()
    assert (job.status, job.worker, job.attempts) == (JobStatus.SUCCEEDED, "b", 2)
    dead = run._Run(job, dead_token)
    with pytest.raises(errors.JobLost):
        dead.progress(50, "still here")
    with pytest.raises(errors.JobLost):
        dead.finish(job.result, reused=False)
    assert AnalysisResult.objects.filter(kind="cycling_summary").count() == 1


def test_a_job_redelivered_after_the_maximum_attempts_fails_saying_the_worker_stopped(
    definitions, sent, settings
):
    measurement = record(CellFactory().sample, cycler_upload(NW4))
    job = measurement.analysis_jobs.get(kind="dqdv")
    AnalysisJob.objects.filter(pk=job.pk).update(
        status=JobStatus.RUNNING,
        attempts=settings.KILN_JOB_MAX_ATTEMPTS,
        heartbeat_at=timezone.now(),
    )
    assert run.analysis_job_run(job_id=job.pk, worker="b", redelivered=True) == "failed"
    job.refresh_from_db()
    assert job.status == JobStatus.FAILED
    assert job.error.startswith(f"The worker stopped {settings.KILN_JOB_MAX_ATTEMPTS} times")


def test_a_worker_with_a_newer_analysis_version_records_it_and_computes_again(
    definitions, sent, monkeypatch
):
    measurement = record(CellFactory().sample, cycler_upload(NW4))
    run_all(measurement)
    old = measurement.analysis_jobs.get(kind="cycling_summary")
    bumped = registry.kinds()["cycling_summary"]
    monkeypatch.setitem(registry._KINDS, "cycling_summary", _with_version(bumped, 3))
    report = enqueue.definition_rerun_all(definition=old.definition)
    assert (report.queued, report.reused, report.up_to_date) == (1, 0, 0)
    new = measurement.analysis_jobs.filter(kind="cycling_summary").latest("id")
    assert run.analysis_job_run(job_id=new.pk, worker="w") == "succeeded"
    new.refresh_from_db()
    assert new.kind_version == 3 and new.result_id != old.result_id
    again = enqueue.definition_rerun_all(definition=old.definition)
    assert (again.queued, again.up_to_date) == (0, 1)


def _with_version(kind, version):
    import dataclasses

    return dataclasses.replace(kind, version=version)


# --- bad data fails at once with a sentence ---------------------------------------------------


@pytest.mark.parametrize(
    ("name", "truncate_to", "kinds", "message"),
    [
        (
            REST_ONLY,
            None,
            DEFAULT_KINDS - {"dqdv"},
            "the file has no complete charge/discharge cycle",
        ),
        (EIS_MPT, None, DEFAULT_KINDS, "not a cycling file"),
        (GCPL_MPR, 0.5, DEFAULT_KINDS, "it may be truncated or damaged"),
        (NW4, 0.5, DEFAULT_KINDS, "damaged or truncated; upload the complete file again"),
    ],
    ids=["rest-only", "eis", "truncated-mpr", "truncated-ndax"],
)
def test_bad_data_fails_at_once_with_a_chemists_message(
    definitions, sent, name, truncate_to, kinds, message
):
    stored_name = f"cut-{name}" if truncate_to else name
    measurement = record(
        CellFactory().sample, cycler_upload(name, truncate_to=truncate_to, as_name=stored_name)
    )
    assert run_all(measurement) == {kind: "failed" for kind in DEFAULT_KINDS}
    for job in measurement.analysis_jobs.all():
        assert (job.status, job.attempts, job.result) == (JobStatus.FAILED, 1, None)
        assert stored_name in job.error and job.raw_file.sha256 not in job.error
        if job.kind in kinds:
            assert message in job.error
    assert not AnalysisResult.objects.exists()


def test_a_powder_without_an_active_mass_fails_the_mass_based_analyses_only(definitions, sent):
    powder = PowderFactory()
    measurement = record(powder, cycler_upload(NW4))
    outcomes = run_all(measurement)
    assert outcomes == {
        "cycling_summary": "failed",
        "voltage_fade": "failed",
        "first_cycle": "failed",
        "dqdv": "succeeded",  # dQ/dV needs no mass
    }
    error = measurement.analysis_jobs.get(kind="cycling_summary").error
    assert error == (
        f"Cycling summary of {NW4} failed: it needs the active mass of the electrode, and "
        f"{powder.code} (cathode powder) has none. Record the measurement on the coin cell "
        "built from weighed discs."
    )


def test_one_bad_file_affects_no_other_job(definitions, sent):
    good = record(CellFactory().sample, cycler_upload(NW4))
    bad = record(CellFactory().sample, cycler_upload(EIS_MPT))
    run_all()
    assert set(good.analysis_jobs.values_list("status", flat=True)) == {JobStatus.SUCCEEDED}
    assert set(bad.analysis_jobs.values_list("status", flat=True)) == {JobStatus.FAILED}


def test_a_missing_stored_file_fails_asking_for_the_backup(definitions, sent):
    measurement = record(CellFactory().sample, cycler_upload(NW4))
    raw = measurement.files.get().raw_file
    path = storage.raw_path(raw.sha256)
    path.chmod(0o644)
    path.unlink()
    run_all(measurement)
    job = measurement.analysis_jobs.get(kind="cycling_summary")
    assert job.status == JobStatus.FAILED
    assert "is missing from the file store; ask the lab manager to restore it" in job.error


def test_an_unknown_analysis_in_a_definition_fails_its_job_and_not_the_upload(definitions, sent):
    AnalysisDefinition.objects.filter(kind="dqdv").update(kind="retired_analysis")
    measurement = record(CellFactory().sample, cycler_upload(NW4))
    job = measurement.analysis_jobs.get(kind="retired_analysis")
    assert job.status == JobStatus.FAILED
    assert "cannot run: unknown analysis 'retired_analysis'" in job.error
    assert measurement.analysis_jobs.filter(status=JobStatus.QUEUED).count() == 3


# --- faults that are not the data's -----------------------------------------------------------


def test_a_transient_database_error_gives_the_job_back_and_is_raised_for_the_retry(
    definitions, sent, monkeypatch
):
    measurement = record(CellFactory().sample, cycler_upload(NW4))
    job = measurement.analysis_jobs.get(kind="cycling_summary")

    def database_gone(raw, **kwargs):
        raise OperationalError("server closed the connection unexpectedly")

    monkeypatch.setattr(cache, "normalised_table", database_gone)
    with pytest.raises(OperationalError):
        run.analysis_job_run(job_id=job.pk, worker="w")
    job.refresh_from_db()
    assert (job.status, job.attempts, job.claim_token) == (JobStatus.QUEUED, 1, None)
    monkeypatch.undo()
    assert run.analysis_job_run(job_id=job.pk, worker="w", redelivered=True) == "succeeded"


def test_a_bug_in_an_analysis_fails_the_job_politely_and_is_raised_for_the_log(
    sent, kinds_for_tests
):
    definition = AnalysisDefinition.objects.create(name="Boom", kind="test_internal_error")
    measurement = record(CellFactory().sample, cycler_upload(NW4))
    raw = measurement.files.get().raw_file
    job = enqueue.job_enqueue(definition=definition, measurement=measurement, raw_file=raw)
    with pytest.raises(KeyError):
        run.analysis_job_run(job_id=job.pk, worker="w")
    job.refresh_from_db()
    assert job.status == JobStatus.FAILED
    assert "internal error (KeyError)" in job.error


def test_progress_is_written_to_the_job_while_it_runs(sent, kinds_for_tests):
    definition = AnalysisDefinition.objects.create(
        name="Slow", kind="test_slow_steps", parameters={"steps": 4, "step_s": 0.0}
    )
    measurement = record(CellFactory().sample, cycler_upload(NW4))
    job = enqueue.job_enqueue(
        definition=definition, measurement=measurement, raw_file=measurement.files.get().raw_file
    )
    seen = []
    original = run._Run.progress

    def spy(self, percent, message, *, force=True):
        original(self, percent, message, force=True)
        seen.append(AnalysisJob.objects.values_list("progress_percent", flat=True).get(pk=job.pk))

    run._Run.progress = spy
    try:
        assert run.analysis_job_run(job_id=job.pk, worker="w") == "succeeded"
    finally:
        run._Run.progress = original
    assert seen == sorted(seen) and seen[0] == 5 and 40 < seen[-2] <= 92
    assert AnalysisResult.objects.get().summary["rows"] == 18700


# --- sending and the broker -------------------------------------------------------------------


def test_with_the_broker_down_the_upload_succeeds_and_the_job_waits(
    client, chemist, definitions, monkeypatch, django_capture_on_commit_callbacks
):
    def broker_down(*args, **kwargs):
        raise BrokerOperationalError("Error 111 connecting to 127.0.0.1:6379. Connection refused.")

    monkeypatch.setattr("characterization.jobs.tasks.analysis_job_run.apply_async", broker_down)
    cell = CellFactory()
    client.force_login(chemist)
    with django_capture_on_commit_callbacks(execute=True):
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
    jobs = list(measurement.analysis_jobs.all())
    assert len(jobs) == len(DEFAULT_KINDS)
    assert {(j.status, j.progress_message, j.sent_at) for j in jobs} == {
        (JobStatus.QUEUED, sending.BROKER_WAIT_MESSAGE, None)
    }


def test_recovery_sends_jobs_the_broker_never_received_but_not_brand_new_ones(
    definitions, sent, monkeypatch
):
    measurement = record(CellFactory().sample, cycler_upload(NW4))
    ids = sorted(measurement.analysis_jobs.values_list("pk", flat=True))
    assert recovery.jobs_recover().resent == []  # just queued: its send may be under way
    later = timezone.now() + timedelta(seconds=recovery.RESEND_AFTER_S + 1)
    report = recovery.jobs_recover(now=later)
    assert sorted(report.resent) == ids == sorted(sent)
    assert recovery.jobs_recover(now=later).resent == []  # sent now: not again


def test_recovery_requeues_a_job_whose_worker_stopped_and_fails_it_after_the_last_attempt(
    definitions, sent, settings
):
    measurement = record(CellFactory().sample, cycler_upload(NW4))
    AnalysisJob.objects.update(sent_at=timezone.now())
    stale = timezone.now() - timedelta(seconds=settings.KILN_JOB_STALE_S + 5)
    retry, give_up, alive = measurement.analysis_jobs.order_by("id")[:3]
    for job, attempts, heartbeat in ((retry, 1, stale), (give_up, 3, stale), (alive, 1, None)):
        AnalysisJob.objects.filter(pk=job.pk).update(
            status=JobStatus.RUNNING,
            attempts=attempts,
            worker="gone@host",
            claim_token=uuid.uuid4(),
            heartbeat_at=heartbeat or timezone.now(),
        )
    report = recovery.jobs_recover()
    assert (report.requeued, report.failed) == ([retry.pk], [give_up.pk])
    retry.refresh_from_db(), give_up.refresh_from_db(), alive.refresh_from_db()
    assert (retry.status, retry.worker) == (JobStatus.QUEUED, "")
    assert sent == [retry.pk]
    assert give_up.status == JobStatus.FAILED
    assert give_up.error.startswith("The worker stopped 3 times while running this job")
    assert alive.status == JobStatus.RUNNING
    restarted = recovery.jobs_recover(restarted_worker="gone@host")
    assert restarted.requeued == [alive.pk]


# --- cancelling -------------------------------------------------------------------------------


def test_a_cancelled_job_is_not_run_and_a_running_one_stops_at_its_next_report(
    definitions, sent, chemist
):
    measurement = record(CellFactory().sample, cycler_upload(NW4))
    queued, running = measurement.analysis_jobs.order_by("id")[:2]
    assert enqueue.job_cancel(job=queued, user=chemist)
    assert run.analysis_job_run(job_id=queued.pk, worker="w") == "skipped"
    queued.refresh_from_db()
    assert (queued.status, queued.progress_message) == (JobStatus.CANCELLED, "cancelled by chen")
    token = uuid.uuid4()
    run._claim(running.pk, worker="w", token=token, redelivered=False)
    assert enqueue.job_cancel(job=running, user=chemist)
    with pytest.raises(errors.JobLost):
        run._Run(running, token).progress(50, "half way")
    assert not enqueue.job_cancel(job=queued, user=chemist)  # already finished
