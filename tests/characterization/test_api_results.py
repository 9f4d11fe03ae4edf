"""Results in the API: a real cycling analysis of a Neware file, its per-cycle table fetched as
CSV, Excel and Parquet (the same numbers as the stored table), its summary and figures, ETags
that answer 304, and void results flagged or left out as the pages do."""

from __future__ import annotations

import io
from pathlib import Path

import pandas as pd
import pytest
from django.conf import settings
from django.test import Client

from characterization import corrections
from characterization.jobs import api_tables, seed
from tests.characterization.factories import CellFactory
from tests.characterization.test_jobs import NW4, cycler_upload, record, run_all

pytestmark = [pytest.mark.django_db, pytest.mark.testdata("cyclers")]


@pytest.fixture(autouse=True)
def no_broker(monkeypatch):
    monkeypatch.setattr(
        "characterization.jobs.tasks.analysis_job_run.apply_async", lambda *a, **k: None
    )


@pytest.fixture
def job(db, chemist):
    """The cycling summary of a real Neware file, run as a worker runs it."""
    seed.analysis_definitions_seed()
    measurement = record(CellFactory().sample, cycler_upload(NW4), operator=chemist)
    outcomes = run_all(measurement)
    assert outcomes["cycling_summary"] == "succeeded"
    return measurement.analysis_jobs.select_related("result").get(kind="cycling_summary")


@pytest.fixture
def client(chemist) -> Client:
    client = Client()
    client.force_login(chemist)
    return client


def stored(job, name: str = "cycle_summary") -> pd.DataFrame:
    return pd.read_csv(Path(settings.MEDIA_ROOT) / job.result.artifact(name)["path"])


def body(response) -> bytes:
    return b"".join(response.streaming_content) if response.streaming else response.content


def table_url(job, fmt: str, name: str = "cycle_summary") -> str:
    return f"/api/v1/results/{job.result_id}/tables/{name}.{fmt}"


def test_the_per_cycle_table_downloads_as_csv_excel_and_parquet_with_the_stored_numbers(
    client, job
):
    expected = stored(job)
    assert len(expected) >= 5 and "discharge_capacity_mah_g" in expected.columns
    csv = client.get(table_url(job, "csv"))
    assert csv["Content-Type"].startswith("text/csv") and csv.streaming
    assert csv["Content-Disposition"].endswith('.csv"')
    pd.testing.assert_frame_equal(pd.read_csv(io.BytesIO(body(csv))), expected)
    parquet = body(client.get(table_url(job, "parquet")))
    assert parquet[:4] == b"PAR1"
    pd.testing.assert_frame_equal(pd.read_parquet(io.BytesIO(parquet)), expected)
    xlsx = body(client.get(table_url(job, "xlsx")))
    sheets = pd.read_excel(io.BytesIO(xlsx), sheet_name=None)
    assert list(sheets) == ["cycle_summary", "warnings"]
    pd.testing.assert_frame_equal(sheets["cycle_summary"], expected, check_dtype=False)
    assert len(sheets["warnings"]) == len(job.result.warnings)
    first = expected.iloc[0]
    summary_first = job.result.summary["cycles"][0]
    assert first["discharge_capacity_mah_g"] == pytest.approx(
        summary_first["discharge_capacity_mah_g"]
    )


def test_every_download_has_a_strong_etag_and_answers_304_to_it(client, job):
    urls = [table_url(job, fmt) for fmt in ("csv", "xlsx", "parquet")] + [
        f"/api/v1/results/{job.result_id}",
        f"/api/v1/results/{job.result_id}/figures/capacity",
        f"/api/v1/measurements/{job.measurement.sample.code}/results/cycling_summary",
    ]
    etags = set()
    for url in urls:
        first = client.get(url)
        assert first.status_code == 200, url
        etag = first["ETag"]
        assert etag.startswith('"') and not etag.startswith("W/"), url
        assert "private" in first["Cache-Control"]
        etags.add(etag)
        again = client.get(url, headers={"If-None-Match": etag})
        assert again.status_code == 304, url
        assert body(again) == b"" and again["ETag"] == etag
        assert "private" in again["Cache-Control"]
        weak = client.get(url, headers={"If-None-Match": f'"other", W/{etag}'})
        assert weak.status_code == 304, url
        assert client.get(url, headers={"If-None-Match": '"stale"'}).status_code == 200, url
        assert client.get(url)["ETag"] == etag  # stable across requests
    assert len(etags) == len(urls)  # format, table and kind of response are all in it


def test_the_summary_lists_the_numbers_tables_and_figures(client, job):
    result = job.result
    data = client.get(f"/api/v1/results/{result.pk}").json()
    assert data["summary"] == result.summary
    assert (data["kind"], data["version"], data["cache_key"]) == (
        "cycling_summary", result.kind_version, result.cache_key
    )  # fmt: skip
    assert data["input_sha256"] == [job.raw_file.sha256]
    [table] = data["tables"]
    assert table["name"] == "cycle_summary"
    assert table["sha256"] == result.artifact("cycle_summary")["sha256"]
    assert table["parquet"].endswith(table_url(job, "parquet"))
    assert table["csv"].startswith("http://testserver/")
    assert [f["name"] for f in data["figures"]][0] == "capacity"
    assert set(f["name"] for f in data["figures"]) == set(result.figures)
    figure = client.get(data["figures"][0]["url"]).json()
    assert figure == result.figures["capacity"]  # what the job page draws
    assert [trace["name"] for trace in figure["data"]] == ["charge", "discharge", "CE %"]
    assert data["voided_at"] is None and data["job"] is None


def test_the_latest_result_of_a_measurement_is_the_newest_in_use(client, job, manager):
    code = job.measurement.sample.code
    url = f"/api/v1/measurements/{code}/results/cycling_summary"
    data = client.get(url).json()
    assert data["id"] == job.result_id and data["job"]["id"] == job.pk
    assert data["job"]["file"]["sha256"] == job.raw_file.sha256
    assert client.get(f"{url}?file={job.raw_file.sha256}").json()["id"] == job.result_id
    assert client.get(f"{url}?file={'0' * 64}").status_code == 404
    missing = client.get(f"/api/v1/measurements/{code}/results/xrd_peaks")
    assert missing.status_code == 404
    assert missing.json()["errors"]["non_field_errors"] == [
        f"measurement {code} has no result of 'xrd_peaks' in use"
    ]
    assert client.get("/api/v1/measurements/NOPE/results/cycling_summary").status_code == 404

    before = client.get(f"/api/v1/results/{job.result_id}")
    corrections.analysis_result_void(result=job.result, user=manager, reason="wrong mass")
    assert client.get(url).status_code == 404  # void results are not used
    flagged = client.get(f"/api/v1/results/{job.result_id}")
    assert flagged.json()["void_reason"] == "wrong mass" and flagged.json()["voided_at"]
    assert flagged["ETag"] != before["ETag"]  # a cached copy is not served as current
    assert client.get(
        f"/api/v1/results/{job.result_id}", headers={"If-None-Match": before["ETag"]}
    ).status_code == 200  # fmt: skip
    table = client.get(table_url(job, "csv"))
    assert table.status_code == 200 and table["Kiln-Void"] == "wrong mass"
    job_body = client.get(f"/api/v1/jobs/{job.pk}").json()
    assert job_body["notes"][0].startswith("The result is void: wrong mass.")


def test_unknown_tables_formats_figures_and_results_are_404(client, job):
    for url, text in (
        (table_url(job, "json"), "no table format 'json': end the URL in .csv, .xlsx, .parquet"),
        (table_url(job, "csv", "nothing"), "has no table 'nothing'"),
        (f"/api/v1/results/{job.result_id}/tables/cycle_summary", "no table format"),
        (f"/api/v1/results/{job.result_id}/figures/nothing", "has no figure 'nothing'"),
        ("/api/v1/results/999999", "no analysis result 999999"),
        ("/api/v1/results/999999/tables/cycle_summary.csv", "no analysis result 999999"),
        ("/api/v1/results/abc", "no analysis result abc"),  # JSON, not Django's HTML 404
        ("/api/v1/jobs/99999999999999999999", "no analysis job 99999999999999999999"),
        ("/api/v1/analysis-definitions/1,2", "no analysis definition 1,2"),
    ):
        response = client.get(url)
        assert response.status_code == 404, url
        assert text in response.json()["errors"]["non_field_errors"][0], url


def test_downloads_need_a_role(job):
    from tests.lims.factories import UserFactory

    nobody = Client()
    nobody.force_login(UserFactory(username="nils"))
    refused = nobody.get(table_url(job, "parquet"))
    assert refused.status_code == 403
    assert Client().get(table_url(job, "csv")).status_code == 403


def test_a_column_whose_type_changes_far_down_still_converts_to_parquet(tmp_path, monkeypatch):
    monkeypatch.setattr(api_tables, "BLOCK_BYTES", 64)  # many small batches
    path = tmp_path / "table.csv"
    rows = [f"{i},{i * 2},x{i}" for i in range(200)] + ["200,400.5,last"]
    path.write_text("cycle,value,label\n" + "\n".join(rows) + "\n")
    converted = pd.read_parquet(api_tables._parquet(path))
    pd.testing.assert_frame_equal(converted, pd.read_csv(path))
    assert converted["value"].iloc[-1] == 400.5


def test_excel_keeps_numbers_as_numbers_and_text_as_text():
    assert [api_tables._typed(v) for v in ("12", "-0.5", "1e-05", "True", "", "0012", "=1+1")] == [
        12, -0.5, 1e-05, True, "", "0012", "=1+1"
    ]  # fmt: skip


def test_empty_columns_are_numbers_and_text_further_down_is_kept(tmp_path, monkeypatch):
    monkeypatch.setattr(api_tables, "BLOCK_BYTES", 64)
    path = tmp_path / "table.csv"
    rows = [f"{i},," for i in range(200)] + ["200,,a reason"]
    path.write_text("cycle,empty,reason\n" + "\n".join(rows) + "\n")
    converted = pd.read_parquet(api_tables._parquet(path))
    assert str(converted["empty"].dtype) == "float64" and converted["empty"].isna().all()
    assert converted["reason"].iloc[-1] == "a reason" and converted["reason"].iloc[:-1].isna().all()
