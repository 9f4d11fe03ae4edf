"""A measurement's type decides which definitions run on its files, and each job reads its file
as the table kind its analysis declares (cached per table kind, with the reader's metadata)."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.conf import settings
from django.core.exceptions import ValidationError

from characterization.analysis import registry
from characterization.analysis.registry import AnalysisKind, AnalysisOutput, Param
from characterization.jobs import cache, definitions, run, seed
from characterization.jobs.models import AnalysisDefinition, JobStatus
from characterization.models import MeasurementType
from characterization.parsers import schema, tables
from lims.celery import app
from tests.characterization.factories import CellFactory, PowderFactory
from tests.characterization.test_jobs import EIS_MPT, NW4, cycler_upload, record

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def no_broker(monkeypatch):
    """The jobs are run here, in process: nothing is sent."""
    for task in ("analysis_job_run", "raw_file_inspect"):
        monkeypatch.setattr(f"characterization.jobs.tasks.{task}.apply_async", lambda *a, **k: 0)


def describe_table(table, params, context) -> AnalysisOutput:
    return AnalysisOutput(
        summary={
            "rows": len(table),
            "columns": list(table.columns),
            "metadata": sorted(context.file_metadata),
        }
    )


def kind_reading(monkeypatch, table_kind: str, measurement_type: str) -> AnalysisKind:
    kind = AnalysisKind(
        f"test_{table_kind}_table",
        1,
        f"Test: {table_kind} table",
        (Param("label", "Label", "int", 1, 0),),
        describe_table,
        needs_active_mass=False,
        measurement_types=(measurement_type,),
        table_kind=table_kind,
    )
    monkeypatch.setitem(registry._KINDS, kind.key, kind)
    return kind


def test_each_measurement_type_gives_its_table_kind():
    given = {t: definitions.table_kind_of(t) for t in MeasurementType.values}
    assert {t: k for t, k in given.items() if k} == {
        "cycling": "cycling",
        "rate_test": "cycling",
        "eis": "impedance",
        "pitt": "potential_steps",
        "dems": "ion_current",
        "dsc": "thermal",
        "xrd": "diffraction",
        "in_situ_xrd": "diffraction",
    }
    assert set(definitions.TABLE_KIND_OF_TYPE.values()) <= set(schema.TABLE_KINDS)


def test_a_cycling_definition_does_not_start_on_an_impedance_measurement():
    seed.analysis_definitions_seed()
    AnalysisDefinition.objects.update(auto_run_for=["cycling", "eis"])  # as an old row could
    eis = record(CellFactory().sample, cycler_upload(EIS_MPT), measurement_type="eis")
    assert {job.definition.kind for job in eis.analysis_jobs.all()} == {"eis_fit"}
    cycling = record(CellFactory().sample, cycler_upload(NW4))
    reads_cycling = [
        d
        for d in AnalysisDefinition.objects.all()
        if registry.get_kind(d.kind).table_kind == "cycling"
    ]
    assert cycling.analysis_jobs.count() == len(reads_cycling) >= 7


def test_a_definition_cannot_run_automatically_on_a_type_whose_table_it_does_not_read():
    with pytest.raises(ValidationError) as error:
        AnalysisDefinition(name="d", kind="dqdv", auto_run_for=["cycling", "eis"]).full_clean()
    assert error.value.message_dict["auto_run_for"] == [
        "dQ/dV reads cycling tables; EIS measurements give impedance tables"
    ]


def test_an_impedance_analysis_reads_the_impedance_table_of_an_eis_measurement(monkeypatch):
    kind = kind_reading(monkeypatch, "impedance", "eis")
    first = AnalysisDefinition.objects.create(name="Z 1", kind=kind.key, auto_run_for=["eis"])
    second = AnalysisDefinition.objects.create(
        name="Z 2", kind=kind.key, parameters={"label": 2}, auto_run_for=["eis"]
    )
    measurement = record(CellFactory().sample, cycler_upload(EIS_MPT), measurement_type="eis")
    jobs = {job.definition: job for job in measurement.analysis_jobs.all()}
    assert {d.kind for d in set(jobs) - {first, second}} == {"eis_fit"}  # the shipped one
    jobs = {d: job for d, job in jobs.items() if d in (first, second)}
    assert run.analysis_job_run(job_id=jobs[first].pk, worker="w") == "succeeded"
    raw = jobs[first].raw_file
    cached = cache.parquet_path(raw.sha256, table_kind="impedance")
    assert cached.is_file() and cached != cache.parquet_path(raw.sha256)
    assert ".impedance." in cached.name
    assert run.analysis_job_run(job_id=jobs[second].pk, worker="w") == "succeeded"  # cached
    for job in jobs.values():
        job.refresh_from_db()
        summary = job.result.summary
        assert summary["columns"] == list(schema.IMPEDANCE_COLUMNS) and summary["rows"] > 10
        assert "parser_version" in summary["metadata"]  # from the cache for the second
    assert jobs[first].result_id != jobs[second].result_id


def test_a_kind_without_a_reader_fails_saying_kiln_cannot_read_its_files_yet(monkeypatch):
    monkeypatch.delitem(tables.READERS, "thermal", raising=False)
    kind = kind_reading(monkeypatch, "thermal", "dsc")
    AnalysisDefinition.objects.create(name="DSC", kind=kind.key, auto_run_for=["dsc"])
    upload = cycler_upload(EIS_MPT, as_name="run.txt")
    measurement = record(PowderFactory(), upload, measurement_type="dsc")
    (job,) = measurement.analysis_jobs.filter(definition__kind=kind.key)
    assert run.analysis_job_run(job_id=job.pk, worker="w") == "failed"
    job.refresh_from_db()
    assert job.status == JobStatus.FAILED
    assert job.error == "run.txt: Kiln cannot read thermal files yet."


def test_a_dsc_measurement_runs_the_shipped_dsc_analysis_on_its_thermal_table(tmp_path):
    """A TA Universal Analysis export of the worked exotherm (22.088 mW, σ 30 s; the file
    states 5.00 mg): the seeded "DSC peaks" definition starts, reads the thermal table (its
    sample mass from the file's metadata) and gives 332.2 J/g; the file is recorded as read."""
    from django.core.files.uploadedfile import SimpleUploadedFile

    from tests.characterization.test_dsc_analysis import EXPECTED_J_PER_G, _ta_file, scan

    path = _ta_file(tmp_path, scan(), "Up")
    upload = SimpleUploadedFile("exotherm.txt", Path(path).read_bytes())
    measurement = record(PowderFactory(), upload, measurement_type="dsc")
    (job,) = measurement.analysis_jobs.all()
    assert job.definition.kind == "dsc_peaks"
    assert run.analysis_job_run(job_id=job.pk, worker="w") == "succeeded", job.error
    job.refresh_from_db()
    (peak,) = job.result.summary["peaks"]
    assert peak["enthalpy_j_per_g"] == pytest.approx(EXPECTED_J_PER_G, abs=0.5)
    job.raw_file.refresh_from_db()
    assert job.raw_file.read_state == "not_cycling"
    assert "thermal" in job.raw_file.read_message


def test_the_task_names_queued_messages_and_beat_name_are_unchanged():
    app.loader.import_default_modules()  # what a worker imports: every app's tasks
    registered = set(app.tasks)
    assert {
        "characterization.analysis_job_run",
        "characterization.jobs_recover",
        "characterization.raw_file_inspect",
        "characterization.storage_check",
    } <= registered
    assert {entry["task"] for entry in settings.CELERY_BEAT_SCHEDULE.values()} <= registered
