"""A worker runs the analyses of one upload one after the other: the cycling table is read
once and its cycle summary computed once for all of them (jobs.table_memo,
analysis.shared_tables), and every result is the one the analyses give each on their own."""

from __future__ import annotations

import pandas as pd
import pytest

from characterization.analysis import report, shared_tables
from characterization.analysis.report import CellFacts, cycling_assessment
from characterization.jobs import cache, seed, table_memo
from characterization.jobs.models import AnalysisJob, AnalysisResult, JobStatus
from tests.characterization.factories import CellFactory
from tests.characterization.parser_reference import parsed
from tests.characterization.test_jobs import DEFAULT_KINDS, NW4, cycler_upload, record, run_all
from tests.fixtures.broker import nothing_sent

pytestmark = pytest.mark.testdata("cyclers")


@pytest.fixture(autouse=True)
def no_broker(monkeypatch):
    nothing_sent(monkeypatch)
    table_memo.forget()
    yield
    table_memo.forget()


@pytest.fixture
def counted(monkeypatch) -> dict[str, int]:
    """Parses, Parquet tables read and cycle assessments done from here on."""
    counts = {"parse": 0, "parquet": 0, "assessment": 0}

    def counting(name, module, attribute):
        real = getattr(module, attribute)

        def wrapper(*args, **kwargs):
            value = real(*args, **kwargs)
            counts[name] += value is not None  # a cache file that is not there is not a read
            return value

        monkeypatch.setattr(module, attribute, wrapper)

    counting("parse", cache, "_parse")
    counting("parquet", cache, "_read_cache")
    counting("assessment", report, "_assessment")
    return counts


def summaries(measurement) -> dict[str, dict]:
    jobs = AnalysisJob.objects.filter(measurement=measurement).select_related("result")
    return {job.kind: job.result.summary for job in jobs}


@pytest.mark.django_db
def test_the_analyses_of_one_upload_read_the_table_once_and_agree_with_separate_runs(counted):
    seed.analysis_definitions_seed()
    measurement = record(CellFactory().sample, cycler_upload(NW4))
    outcomes = run_all(measurement)
    assert set(outcomes) == set(DEFAULT_KINDS) and set(outcomes.values()) == {"succeeded"}
    # the first job parsed (the cache did not exist yet); the others were handed its table
    assert counted == {"parse": 1, "parquet": 0, "assessment": 1}
    together = summaries(measurement)

    # the same jobs again, each on its own: nothing kept between them
    jobs = AnalysisJob.objects.filter(measurement=measurement)
    jobs.update(status=JobStatus.QUEUED, result=None, reused=False, finished_at=None,
                claim_token=None, progress_percent=0)  # fmt: skip
    AnalysisResult.objects.all().delete()
    for job in jobs.order_by("id"):
        table_memo.forget()
        run_all_one(job)
    assert counted == {"parse": 1, "parquet": len(DEFAULT_KINDS),
                       "assessment": 1 + len(DEFAULT_KINDS)}  # fmt: skip
    assert summaries(measurement) == together


def run_all_one(job: AnalysisJob) -> None:
    from characterization.jobs import run

    assert run.analysis_job_run(job_id=job.pk, worker="test@local") == "succeeded"


@pytest.mark.django_db
def test_a_table_whose_cache_file_changed_or_went_is_read_again(counted, settings):
    seed.analysis_definitions_seed()
    measurement = record(CellFactory().sample, cycler_upload(NW4))
    raw = measurement.files.get().raw_file
    first, metadata, _ = table_memo.normalised_table(raw, table_kind="cycling", column_mapping={})
    again, _, read_before = table_memo.normalised_table(
        raw, table_kind="cycling", column_mapping={}
    )
    assert again is first and read_before and metadata["source_library"] == "fastnda"
    cache.table_path(raw).unlink()  # storage_check --repair, or a hand: the cache is gone
    third, _, _ = table_memo.normalised_table(raw, table_kind="cycling", column_mapping={})
    assert third is not first and counted["parse"] == 2
    pd.testing.assert_frame_equal(third, first)


def test_a_table_nobody_shared_is_assessed_afresh_every_time(counted):
    table = parsed(NW4).table.copy()
    facts = CellFacts(active_mass_mg=12.0)
    before, _ = cycling_assessment(table, facts)
    table["discharge_capacity_mah"] *= 2.0  # a caller may edit its own table in place
    after, _ = cycling_assessment(table, facts)
    assert counted["assessment"] == 2
    assert after["discharge_capacity_mah"].iloc[1] == pytest.approx(
        2 * before["discharge_capacity_mah"].iloc[1]
    )


def test_a_shared_table_is_assessed_once_and_each_caller_gets_its_own_copy(counted):
    table = shared_tables.share(parsed(NW4).table.copy())
    facts = CellFacts(active_mass_mg=12.0)
    first, warnings = cycling_assessment(table, facts)
    first["retention"] = 0.0  # one analysis changing its summary changes no other's
    warnings.clear()
    second, warnings_again = cycling_assessment(table, facts)
    assert counted["assessment"] == 1
    assert (
        second["retention"].iloc[-1] > 0 and warnings_again == cycling_assessment(table, facts)[1]
    )
    cycling_assessment(table, CellFacts(active_mass_mg=6.0))  # other facts: computed
    assert counted["assessment"] == 2
