"""A chemist uploads a cycler file to a cell and watches its analyses finish on the live page,
run by a real Celery worker on Redis and PostgreSQL, until the capacity plot is drawn."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from characterization.jobs import seed
from characterization.jobs.models import AnalysisJob, JobStatus
from characterization.models import Measurement
from tests.characterization.factories import CellFactory
from tests.characterization.parser_reference import cycler_data_dir
from tests.fixtures.browser import log_in
from tests.lims.factories import PASSWORD

pytestmark = [pytest.mark.services, pytest.mark.browser, pytest.mark.testdata("cyclers")]

NW4 = "neware_fastnda_nw4-120-1-6-53.ndax"


def test_an_uploaded_file_is_analysed_live_and_the_capacity_plot_appears(
    page, celery_worker, chemist
):
    seed.analysis_definitions_seed()
    cell = CellFactory()
    page.goto(f"/cells/{cell.sample.code}/")
    log_in(page, "chen", PASSWORD)
    page.get_by_label("Instrument").fill("Neware CT-4008")
    page.get_by_label("Raw files").set_input_files(cycler_data_dir() / NW4)
    page.get_by_role("button", name="Record measurement").click()
    expect(page).to_have_url(re.compile(r"/measurements/MEAS-\d{4}-\d{4}/$"))

    analyses = page.locator("#analyses")
    expect(analyses.locator("tr[data-job]")).to_have_count(4)  # loaded without a reload
    summary_row = analyses.locator('tr[data-kind="cycling_summary"]')
    expect(summary_row.get_by_test_id("job-status")).to_have_attribute(
        "data-status", "succeeded", timeout=60_000
    )
    for status in analyses.get_by_test_id("job-status").all():
        expect(status).to_have_attribute("data-status", "succeeded", timeout=60_000)
    plot = analyses.get_by_test_id("plot-capacity")
    expect(plot.locator("svg.main-svg").first).to_be_visible(timeout=20_000)
    expect(plot).to_contain_text("Capacity and Coulombic efficiency")
    expect(analyses.locator("#measurement-jobs")).to_have_attribute("data-active", "0")

    measurement = Measurement.objects.get(subject=cell.sample)
    jobs = list(AnalysisJob.objects.filter(measurement=measurement))
    assert {job.status for job in jobs} == {JobStatus.SUCCEEDED}
    assert {job.worker for job in jobs} == {celery_worker.hostname}

    analyses.locator("#measurement-jobs").get_by_role("link", name="Cycling summary").click()
    expect(page.get_by_test_id("job-status")).to_have_attribute("data-status", "succeeded")
    expect(page.locator("#provenance")).to_contain_text(measurement.files.get().raw_file.sha256)
    expect(page.get_by_test_id("plot-capacity").locator("svg.main-svg").first).to_be_visible()
