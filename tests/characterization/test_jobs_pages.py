"""The jobs pages, the analyses on the measurement page, downloads, the admin and the sample panel
(in process; jobs are run by calling the service, as a worker would)."""

from __future__ import annotations

import csv
import io
import json
import re
from urllib.parse import urlsplit

import pytest
from django.urls import resolve, reverse
from openpyxl import load_workbook

from characterization.jobs import run, seed
from characterization.jobs.models import AnalysisDefinition, AnalysisJob, AnalysisResult, JobStatus
from characterization.models import CoinCell
from tests.characterization.factories import CellFactory, PowderFactory
from tests.characterization.test_jobs import NW4, REST_ONLY, cycler_upload, record, run_all

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
    cell = CellFactory()
    measurement = record(cell.sample, cycler_upload(NW4), operator=chemist)
    run_all(measurement)
    return measurement


def html(response) -> str:
    assert response.status_code == 200, response.status_code
    return response.content.decode()


def test_the_jobs_list_shows_each_job_and_filters_by_status(client, chemist, analysed):
    failed = record(CellFactory().sample, cycler_upload(REST_ONLY))
    run_all(failed)
    client.force_login(chemist)
    page = html(client.get("/jobs/"))
    assert page.count('<tr data-job="') == 8
    assert NW4 in page and REST_ONLY in page and analysed.sample.code in page
    assert 'hx-trigger="every 2s"' not in page  # nothing running: no polling
    only_failed = html(client.get("/jobs/?status=failed"))
    assert only_failed.count('<tr data-job="') == failed.analysis_jobs.count()
    assert NW4 not in only_failed.split("<tbody>")[1]
    search = html(client.get(f"/jobs/?q={analysed.subject.code}"))
    assert search.count('<tr data-job="') == 4
    job = analysed.analysis_jobs.first()
    rows = search.split("<tbody>")[1].split("</tbody>")[0]
    links = {resolve(urlsplit(h).path).view_name for h in re.findall(r'href="(/[^"]+)"', rows)}
    assert {"jobs:detail", "cells:cell", "measurements:detail"} <= links
    assert f'href="/jobs/{job.pk}/"' in search


def test_the_jobs_list_pages_by_keyset_and_keeps_its_filters(
    client, chemist, analysed, monkeypatch
):
    """Pages of PAGE_SIZE newest first, each job once; the filter stays on the links."""
    from characterization.jobs import queries

    monkeypatch.setattr(queries, "PAGE_SIZE", 3)
    expected = list(AnalysisJob.objects.order_by("-created_at", "-id").values_list("pk", flat=True))
    client.force_login(chemist)
    seen, url = [], "/jobs/?status=succeeded"
    while url:
        page = html(client.get(url))
        seen += [int(pk) for pk in re.findall(r'<tr data-job="(\d+)"', page)]
        older = re.search(r'href="\?([^"]*)" rel="next"', page)
        url = f"/jobs/?{older.group(1).replace('&amp;', '&')}" if older else None
        assert url is None or "status=succeeded" in url
    succeeded = set(AnalysisJob.objects.filter(status="succeeded").values_list("pk", flat=True))
    assert seen == [pk for pk in expected if pk in succeeded] and len(seen) > 3


def test_the_status_tabs_count_up_to_the_cap(client, chemist, analysed, monkeypatch):
    from characterization.jobs import queries
    from lims import keyset

    succeeded = AnalysisJob.objects.filter(status=JobStatus.SUCCEEDED).count()
    assert succeeded > 2
    assert queries.status_counts()[JobStatus.SUCCEEDED] == f"{succeeded}"
    monkeypatch.setattr(keyset, "COUNT_CAP", 2)
    counts = queries.status_counts()
    assert counts[JobStatus.SUCCEEDED] == "2+" and counts[JobStatus.QUEUED] == "0"
    client.force_login(chemist)
    assert "Succeeded (2+)" in html(client.get("/jobs/"))


def test_the_jobs_list_polls_every_two_seconds_only_while_a_job_is_active(client, chemist):
    seed.analysis_definitions_seed()
    measurement = record(CellFactory().sample, cycler_upload(NW4))
    client.force_login(chemist)
    page = html(client.get("/jobs/"))
    assert 'hx-get="/jobs/" hx-trigger="every 2s"' in page
    run_all(measurement)
    partial = html(client.get("/jobs/", headers={"HX-Request": "true"}))
    assert partial.startswith('<div id="jobs-table" data-active="0">')
    assert "every 2s" not in partial and "<html" not in partial


def test_the_job_page_shows_status_provenance_summary_plots_and_tables(client, chemist, analysed):
    job = analysed.analysis_jobs.get(kind="cycling_summary")
    raw = job.raw_file
    client.force_login(chemist)
    page = html(client.get(f"/jobs/{job.pk}/"))
    assert 'data-status="succeeded"' in page
    for text in (raw.sha256, job.cache_key, "Cycling summary (cycling_summary), version 2"):
        assert text in page
    assert "&quot;reference_cycle&quot;: null" in page  # the parameters, as run
    assert "6.4000 mg" in page
    # what Kiln knew of the cell is part of the provenance (and of the cache key)
    assert "cathode half-cell · Li1.2Mn0.6Ni0.2O2 · 1C = 250 mA/g" in page
    assert f'data-kiln-figure="fig-{job.pk}-capacity-data"' in page
    figure = page.split(f'id="fig-{job.pk}-capacity-data" type="application/json">')[1]
    figure = json.loads(figure.split("</script>")[0])
    assert [trace["name"] for trace in figure["data"]] == ["charge", "discharge", "CE %"]
    assert "plotly-2.35.3.min.js" in page and "kiln/plots.js" in page
    assert f"/jobs/{job.pk}/tables/cycle_summary.csv" in page
    assert "Re-run" in page and "every 2s" not in page


def test_result_tables_download_as_the_stored_csv_and_as_excel(client, chemist, analysed):
    job = analysed.analysis_jobs.get(kind="voltage_fade")
    client.force_login(chemist)
    response = client.get(f"/jobs/{job.pk}/tables/voltage_fade.csv")
    assert response["Content-Disposition"].startswith("attachment;")
    content = b"".join(response.streaming_content).decode()
    rows = list(csv.reader(io.StringIO(content)))
    assert rows[0] == ["cycle", "mean_discharge_voltage_v"]
    assert len(rows) - 1 == len(job.result.summary["cycles"])
    excel = client.get(f"/jobs/{job.pk}/tables/voltage_fade.xlsx")
    sheet = load_workbook(io.BytesIO(excel.content)).active
    values = list(sheet.iter_rows(values_only=True))
    assert list(values[0]) == rows[0] and len(values) == len(rows)
    assert client.get(f"/jobs/{job.pk}/tables/nothing.csv").status_code == 404


def test_the_polled_status_of_a_running_job_reloads_the_page_once_it_finishes(client, chemist):
    seed.analysis_definitions_seed()
    measurement = record(CellFactory().sample, cycler_upload(NW4))
    job = measurement.analysis_jobs.get(kind="dqdv")
    client.force_login(chemist)
    page = html(client.get(f"/jobs/{job.pk}/"))
    assert f'hx-get="/jobs/{job.pk}/?poll=1" hx-trigger="every 2s"' in page
    polled = client.get(f"/jobs/{job.pk}/?poll=1", headers={"HX-Request": "true"})
    assert "HX-Refresh" not in polled and 'data-status="queued"' in html(polled)
    run.analysis_job_run(job_id=job.pk, worker="w")
    finished = client.get(f"/jobs/{job.pk}/?poll=1", headers={"HX-Request": "true"})
    assert finished["HX-Refresh"] == "true"


def test_a_failed_job_shows_the_chemists_message(client, chemist):
    seed.analysis_definitions_seed()
    measurement = record(CellFactory().sample, cycler_upload(REST_ONLY))
    run_all(measurement)
    job = measurement.analysis_jobs.get(kind="cycling_summary")
    client.force_login(chemist)
    page = html(client.get(f"/jobs/{job.pk}/"))
    assert 'data-testid="job-error"' in page
    assert "has no complete charge/discharge cycle" in page


def test_a_chemist_cancels_a_queued_job_and_reruns_a_finished_one(client, chemist, analysed):
    other_cell = CellFactory(disc_mass_mg=13.0)  # another active mass: a new computation
    queued = record(other_cell.sample, cycler_upload(NW4), operator=chemist)
    queued = queued.analysis_jobs.get(kind="dqdv")
    client.force_login(chemist)
    response = client.post(f"/jobs/{queued.pk}/cancel/", {"next": "/jobs/"})
    assert response.url == "/jobs/"
    queued.refresh_from_db()
    assert (queued.status, queued.progress_message) == (JobStatus.CANCELLED, "cancelled by chen")
    done = analysed.analysis_jobs.get(kind="dqdv")
    response = client.post(f"/jobs/{done.pk}/rerun/")
    rerun = AnalysisJob.objects.latest("id")
    assert response.url == f"/jobs/{rerun.pk}/"
    assert (rerun.reused, rerun.created_by, rerun.result_id) == (True, chemist, done.result_id)
    assert client.post(f"/jobs/{done.pk}/cancel/", {"next": "https://evil.example/"}).url == (
        f"/jobs/{done.pk}/"
    )


def test_cancel_and_rerun_need_the_permissions(client, analysed):
    from tests.lims.factories import UserFactory

    job = analysed.analysis_jobs.first()
    client.force_login(UserFactory(username="guest"))
    assert client.post(f"/jobs/{job.pk}/rerun/").status_code == 403
    assert client.post(f"/jobs/{job.pk}/cancel/").status_code == 403
    assert AnalysisJob.objects.count() == 4


def test_the_measurement_page_loads_its_analyses_live(client, chemist, analysed):
    client.force_login(chemist)
    page = html(client.get(f"/measurements/{analysed.sample.code}/"))
    assert f'hx-get="/jobs/measurement/{analysed.sample.code}/" hx-trigger="load"' in page
    section = html(client.get(f"/jobs/measurement/{analysed.sample.code}/"))
    assert section.count('<tr data-job="') == 4
    for kind in ("capacity", "mean_voltage", "dqdv"):
        assert f'data-testid="plot-{kind}"' in section
    flat = section.replace("\n", "")
    assert 'First cycle efficiency</th><td class="num">19.08 %' in flat  # no plot: numbers
    assert 'Discharge capacity (mAh/g)</th><td class="num">50.5656' in flat
    assert 'name="definition"' in section  # run another analysis
    assert "every 2s" not in section


def test_the_measurement_jobs_poll_tells_the_results_to_reload_when_a_job_finished(client, chemist):
    seed.analysis_definitions_seed()
    measurement = record(CellFactory().sample, cycler_upload(NW4))
    code = measurement.sample.code
    client.force_login(chemist)
    section = html(client.get(f"/jobs/measurement/{code}/"))
    assert f'hx-get="/jobs/measurement/{code}/jobs/?seen=0" hx-trigger="every 2s"' in section
    assert 'hx-trigger="kiln-results-changed from:body"' in section
    same = client.get(f"/jobs/measurement/{code}/jobs/?seen=0", headers={"HX-Request": "true"})
    assert "HX-Trigger" not in same
    run_all(measurement)
    changed = client.get(f"/jobs/measurement/{code}/jobs/?seen=0", headers={"HX-Request": "true"})
    assert changed["HX-Trigger"] == "kiln-results-changed"
    assert 'data-active="0"' in html(changed) and "every 2s" not in html(changed)
    results = html(client.get(f"/jobs/measurement/{code}/results/"))
    assert results.count('class="kiln-result"') == 4


def test_a_chemist_runs_another_analysis_from_the_measurement_page(client, chemist, analysed):
    rate = AnalysisDefinition.objects.get(kind="rate_capability")
    client.force_login(chemist)
    response = client.post(
        f"/jobs/measurement/{analysed.sample.code}/run/", {"definition": rate.pk}
    )
    assert response.url == f"/measurements/{analysed.sample.code}/#analyses"
    job = analysed.analysis_jobs.get(kind="rate_capability")
    assert (job.status, job.created_by) == (JobStatus.QUEUED, chemist)


# --- admin ------------------------------------------------------------------------------------


def test_a_lab_manager_adds_a_definition_in_the_admin_with_checked_parameters(client, manager):
    manager.is_staff = True
    manager.save()
    client.force_login(manager)
    url = reverse("admin:jobs_analysisdefinition_add")
    bad = client.post(
        url,
        {"name": "Rate 1C=200", "kind": "rate_capability", "parameters": '{"tolerance": 3}'},
    )
    assert "Rate tolerance (fraction) must be ≤ 0.5" in html(bad)
    good = client.post(
        url,
        {
            "name": "Rate 1C=200",
            "kind": "rate_capability",
            "parameters": '{"one_c_ma_per_g": 200}',
            "auto_run_for": ["rate_test"],
            "enabled": "on",
        },
    )
    assert good.status_code == 302
    definition = AnalysisDefinition.objects.get(name="Rate 1C=200")
    assert definition.parameters == {"one_c_ma_per_g": 200.0, "tolerance": 0.15}
    assert (definition.auto_run_for, definition.created_by) == (["rate_test"], manager)
    assert definition.history.count() == 1


def test_chemists_see_definitions_but_only_lab_managers_change_them(client, chemist):
    chemist.is_staff = True
    chemist.save()
    client.force_login(chemist)
    assert client.get(reverse("admin:jobs_analysisdefinition_changelist")).status_code == 200
    assert client.get(reverse("admin:jobs_analysisdefinition_add")).status_code == 403


def test_the_admin_reruns_a_definition_on_all_old_measurements(client, manager, analysed):
    manager.is_staff = True
    manager.save()
    definition = AnalysisDefinition.objects.get(kind="cycling_summary")
    AnalysisDefinition.objects.filter(pk=definition.pk).update(parameters={"reference_cycle": 2})
    client.force_login(manager)
    response = client.post(
        reverse("admin:jobs_analysisdefinition_changelist"),
        {"action": "rerun_on_all_measurements", "_selected_action": [definition.pk]},
        follow=True,
    )
    assert "1 job(s) queued, 0 reused a stored result, 0 already up to date" in html(response)
    new = AnalysisJob.objects.latest("id")
    assert (new.status, new.parameters) == (JobStatus.QUEUED, {"reference_cycle": 2})


# --- the sample page panel --------------------------------------------------------------------


def test_the_sample_pages_of_a_cell_and_its_powder_show_the_cycling_results(
    client, chemist, analysed
):
    cell = analysed.subject
    powder = CoinCell.objects.get(sample=cell).electrode.active_material
    client.force_login(chemist)
    cell_page = html(client.get(f"/samples/{cell.code}/"))
    assert "Cycling results" in cell_page and f"/jobs/compare/?cells={cell.code}" in cell_page
    powder_page = html(client.get(f"/samples/{powder.code}/"))
    assert (
        "Cycling results" in powder_page and f"/jobs/compare/?groups={powder.code}" in powder_page
    )
    other = html(client.get(f"/samples/{PowderFactory().code}/"))
    assert "Cycling results" not in other
    assert AnalysisResult.objects.count() == 4


def test_voltage_profiles_of_chosen_cycles_come_from_the_cached_table(client, chemist, analysed):
    raw = analysed.files.get().raw_file
    url = f"/jobs/measurement/{analysed.sample.code}/profiles/?file={raw.sha256}"
    client.force_login(chemist)
    page = html(client.get(url + "&cycles=1, 3-4, 999"))
    assert 'value="1, 3, 4, 999"' in page and "The file has no cycle 999." in page
    data_id = f"profiles-{raw.sha256[:12]}-data"
    figure = json.loads(page.split(f'id="{data_id}" type="application/json">')[1].split("<")[0])
    names = [trace["name"] for trace in figure["data"]]
    assert names == [f"cycle {c} {d}" for c in (1, 3, 4) for d in ("charge", "discharge")]
    discharge_1 = figure["data"][1]
    assert max(discharge_1["x"]) == pytest.approx(0.32362 / 6.4e-3, rel=5e-3)  # mAh/g
    assert figure["layout"]["xaxis"]["title"]["text"] == "capacity (mAh/g)"
    default = html(client.get(url))
    assert 'value="1, 2, 10, 160"' in default
    bad = html(client.get(url + "&cycles=first"))
    assert "“first” is not a cycle number or a range like 10-12" in bad


def test_voltage_profiles_wait_for_an_analysis_to_have_read_the_file(client, chemist):
    seed.analysis_definitions_seed()
    measurement = record(CellFactory().sample, cycler_upload(NW4))
    raw = measurement.files.get().raw_file
    client.force_login(chemist)
    page = html(
        client.get(f"/jobs/measurement/{measurement.sample.code}/profiles/?file={raw.sha256}")
    )
    assert "The profiles appear once an analysis has read this file." in page
    other = client.get(f"/jobs/measurement/{measurement.sample.code}/profiles/?file={'0' * 64}")
    assert other.status_code == 404


def test_rerunning_a_definition_this_code_cannot_run_is_refused_with_the_reason(
    client, manager, analysed
):
    manager.is_staff = True
    manager.save()
    retired = AnalysisDefinition.objects.create(
        name="Old", kind="retired", auto_run_for=["cycling"]
    )
    client.force_login(manager)
    response = client.post(
        reverse("admin:jobs_analysisdefinition_changelist"),
        {"action": "rerun_on_all_measurements", "_selected_action": [retired.pk]},
        follow=True,
    )
    assert "Old: unknown analysis &#x27;retired&#x27;" in html(response)
    assert not retired.jobs.exists()
