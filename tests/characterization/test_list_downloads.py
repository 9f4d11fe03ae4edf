"""Issue 11 §4: the characterization lists (electrodes, coin cells, measurements, unplaced files,
jobs), a job's result tables and the study table download as CSV, Excel and Parquet with the
same rows, under the page's filters and past its display limit."""

from __future__ import annotations

import io

import pyarrow.parquet as pq
import pytest
from django.urls import reverse

from characterization import queries
from characterization.jobs import seed
from characterization.jobs.models import JobStatus
from characterization.models import HarvestedFile
from lims.models import Sample
from tests.characterization.factories import CellFactory, ElectrodeFactory, PowderFactory
from tests.characterization.test_trust_pages import measurement_with, stored
from tests.fixtures.broker import nothing_sent
from tests.lims.factories import UserFactory
from tests.lims.test_exports_formulas import assert_csv_inert, assert_xlsx_inert, csv_rows
from tests.lims.test_list_downloads import body, column, fetch_all, rows_of

pytestmark = pytest.mark.django_db
LINK = '=HYPERLINK("http://x","y")'


@pytest.fixture(autouse=True)
def no_broker(monkeypatch):
    nothing_sent(monkeypatch)


@pytest.fixture
def definitions(db):
    return seed.analysis_definitions_seed()


def test_electrodes_and_cells_download_every_matching_row(client, chemist, monkeypatch):
    powder = PowderFactory(name="NMC powder")
    sheet = ElectrodeFactory(active_material=powder, made_by=chemist)
    cells = [CellFactory(electrode=sheet, built_by=chemist) for _ in range(3)]
    Sample.objects.filter(pk=cells[0].sample_id).update(name=LINK)
    other = CellFactory()  # another powder's electrode and cell
    monkeypatch.setattr(queries, "LIST_LIMIT", 1)  # the page shows one; the download all
    client.force_login(chemist)
    files = fetch_all(client, "cells:export", query=f"q={sheet.sample.code}")
    codes = column(files["parquet"], "code")
    assert sorted(codes) == sorted(c.sample.code for c in cells) and other.sample.code not in codes
    assert column(files["csv"], "active_mass_mg")[0] == str(cells[0].active_mass_mg)
    assert str(pq.read_table(io.BytesIO(files["parquet"])).schema.field("active_mass_mg").type) == (
        "double"
    )
    assert_csv_inert(csv_rows(files["csv"]), LINK)
    assert_xlsx_inert(files["xlsx"], LINK)
    sheets = fetch_all(client, "cells:electrodes-export", query="q=NMC")
    assert column(sheets["csv"], "code") == [sheet.sample.code]
    assert column(sheets["parquet"], "cells") == ["3"]


def test_measurements_download_under_their_filters(client, chemist):
    mine = measurement_with("a.csv", instrument=LINK, operator=chemist)
    theirs = measurement_with("b.csv", instrument="Biologic VMP3")
    client.force_login(chemist)
    files = fetch_all(client, "measurements:export", query=f"operator={chemist.pk}")
    assert column(files["csv"], "code") == [mine.sample.code]
    assert column(files["parquet"], "files") == ["1"]
    assert_csv_inert(csv_rows(files["csv"]), LINK)
    everything = fetch_all(client, "measurements:export")
    assert set(column(everything["xlsx"], "code")) == {mine.sample.code, theirs.sample.code}


def test_unplaced_files_download_as_their_page_lists_them(client, chemist):
    HarvestedFile.objects.create(source="cycler-pc-1", path="@run/ch3.ndax", channel="3")
    client.force_login(chemist)
    files = fetch_all(client, "measurements:unplaced-export")
    assert rows_of(files["parquet"])[0] | {"last_received": ""} == {
        "source": "cycler-pc-1", "path": "@run/ch3.ndax", "channel": "3", "versions": "0",
        "size_bytes": "", "last_received": "", "sha256": "",
    }  # fmt: skip
    assert_csv_inert(csv_rows(files["csv"]), "@run/ch3.ndax")


def test_jobs_download_under_the_list_filters(client, chemist, definitions):
    measurement = measurement_with("run.csv")
    done = stored(measurement, "cycling_summary")
    queued = stored(measurement, "cycling_summary")
    queued.status = JobStatus.QUEUED
    queued.save(update_fields=["status"])
    client.force_login(chemist)
    files = fetch_all(client, "jobs:export", query="status=succeeded")
    assert column(files["csv"], "job") == [str(done.pk)]
    assert column(files["parquet"], "measurement") == [measurement.sample.code]
    both = fetch_all(client, "jobs:export")
    assert sorted(column(both["xlsx"], "job")) == sorted([str(done.pk), str(queued.pk)])
    page = client.get(reverse("jobs:index") + "?status=succeeded").content.decode()
    assert 'href="/jobs/export.parquet?status=succeeded"' in page


def test_a_result_table_downloads_as_parquet_with_its_numbers_typed(client, chemist, definitions):
    text = "cycle,step_note,voltage_v,cutoff_v\n1,=1+2,-0.5,4.2\n2,ok,3.25,3.0\n"
    job = stored(measurement_with("run.csv"), "cycling_summary", tables={"cycles": text})
    client.force_login(chemist)
    files = {}
    for fmt in ("csv", "xlsx", "parquet"):
        response = client.get(reverse("jobs:table", args=[job.pk, "cycles", fmt]))
        assert response.status_code == 200
        files[fmt] = body(response)
    assert rows_of(files["parquet"]) == rows_of(files["csv"]) == rows_of(files["xlsx"])
    types = pq.read_table(io.BytesIO(files["parquet"])).schema
    assert [str(types.field(n).type) for n in ("cycle", "step_note", "voltage_v", "cutoff_v")] == [
        "int64",
        "string",
        "double",
        "string",  # "3.0" would not read back as written: text
    ]
    assert column(files["parquet"], "step_note") == ["=1+2", "ok"]
    assert client.get(reverse("jobs:table", args=[job.pk, "cycles", "pdf"])).status_code == 404
    page = client.get(reverse("jobs:detail", args=[job.pk])).content.decode()
    assert f'href="/jobs/{job.pk}/tables/cycles.parquet"' in page


def test_characterization_downloads_refuse_who_cannot_see_the_lists(client):
    names = ["cells:export", "cells:electrodes-export", "measurements:export",
             "measurements:unplaced-export", "jobs:export"]  # fmt: skip
    client.force_login(UserFactory(username="norole"))
    for name in names:
        assert client.get(reverse(name, args=["parquet"])).status_code == 403, name
    assert client.get("/study/export.parquet?group=A:CAT-2026-0001").status_code == 403
    client.logout()
    assert client.get(reverse("jobs:export", args=["csv"])).status_code == 302


def test_an_unknown_format_of_a_characterization_list_is_not_found(client, chemist):
    client.force_login(chemist)
    for name in ("cells:export", "cells:electrodes-export", "measurements:export",
                 "measurements:unplaced-export", "jobs:export"):  # fmt: skip
        assert client.get(reverse(name, args=["txt"])).status_code == 404, name
    assert client.get("/study/export.txt?group=A:CAT-2026-0001").status_code == 404
