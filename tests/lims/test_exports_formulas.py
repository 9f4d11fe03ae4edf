"""Issue 9, exports: no export path writes a cell a spreadsheet would run as a formula.

A sample named =HYPERLINK("http://x","y") (and notes, locations, warnings beginning with + - @
or a tab) goes out of every CSV and Excel path as inert text: in CSV with a leading
apostrophe, in Excel as a string cell ('s', never a formula 'f') with Excel's quote prefix.
Numbers stay numbers, negative ones included. Paths: the sample list (in the request and on
the worker), the admin's export actions (both sizes), a job's result table (CSV and Excel with
its warnings sheet) and the warnings CSVs of a job, a measurement and a cell.
"""

from __future__ import annotations

import csv
import io

import pytest
from django.urls import reverse
from openpyxl import load_workbook

from lims import tabular, transfers
from lims.models import Sample, Transfer
from lims.services import sample_register
from tests.characterization.test_trust_pages import measurement_with, stored
from tests.fixtures.broker import nothing_sent

pytestmark = pytest.mark.django_db

LINK = '=HYPERLINK("http://x","y")'
HOSTILE = {"name": LINK, "notes": "+1+cmd|' /C calc'!A0", "location": "@SUM(A1:A9)"}
FORMULA_LIKE = (LINK, "+1+2", "-2+3", "@SUM(A1)", "\tx", "\rx", "'=x", "=")


@pytest.fixture(autouse=True)
def no_broker(monkeypatch):
    """Uploads queue analyses and tests queue transfers; no broker is needed for either."""
    nothing_sent(monkeypatch)
    monkeypatch.setattr("lims.tasks.transfer_run.apply_async", lambda *a, **k: None)


@pytest.fixture
def hostile(chemist):
    return sample_register(kind="cathode", formula="-2+3", owner=chemist, **HOSTILE)


def csv_rows(content: bytes) -> list[list[str]]:
    return list(csv.reader(io.StringIO(content.decode("utf-8-sig"))))


def assert_csv_inert(rows: list[list[str]], *texts: str) -> None:
    cells = [cell for row in rows for cell in row]
    for text in texts:
        assert "'" + text in cells, f"{text!r} not written as '{text!r}"
        assert text not in cells, f"{text!r} written verbatim"


def xlsx_cells(content: bytes, sheet: str | None = None) -> dict[str, object]:
    """{text: cell} of every cell of the sheet."""
    book = load_workbook(io.BytesIO(content))
    rows = (book[sheet] if sheet else book.worksheets[0]).iter_rows()
    return {str(cell.value): cell for row in rows for cell in row if cell.value is not None}


def assert_xlsx_inert(content: bytes, *texts: str, sheet: str | None = None) -> None:
    cells = xlsx_cells(content, sheet)
    assert not [c.coordinate for c in cells.values() if c.data_type == "f"], "a formula cell"
    for text in texts:
        assert text in cells, f"{text!r} missing"
        assert cells[text].data_type == "s" and cells[text].quotePrefix, text


def run_transfer(transfer: Transfer) -> bytes:
    assert transfers.transfer_run(transfer_id=transfer.pk, worker="test") == "succeeded"
    transfer.refresh_from_db()
    return transfers.file_of(transfer).read_bytes()


# --- the one function every path uses -----------------------------------------------------------


@pytest.mark.parametrize("text", FORMULA_LIKE)
def test_text_a_spreadsheet_would_run_is_quoted_and_reads_back_unchanged(text):
    assert tabular.neutralise(text) == "'" + text
    assert tabular.restore(tabular.neutralise(text)) == text
    assert tabular.read_table(tabular.write_csv(["name"], [[text]]))[0][1]["name"] == text.strip()


@pytest.mark.parametrize("value", ["-0.5", "+3", "-1e-05", "12", "", "plain", "'quoted", "a=b"])
def test_numbers_and_plain_text_are_left_as_they_are(value):
    assert tabular.neutralise(value) == value
    assert tabular.restore(value) == value


def test_numbers_stay_numbers_in_excel_and_csv():
    content = tabular.write_xlsx(["x", "y", "z"], [[-0.5, 3, "-0.25"]], title="t")
    cells = list(load_workbook(io.BytesIO(content)).active.iter_rows())[1]
    assert [(c.value, c.data_type) for c in cells] == [(-0.5, "n"), (3, "n"), ("-0.25", "s")]
    assert csv_rows(tabular.write_csv(["x", "y"], [[-0.5, "-0.25"]]))[1] == ["-0.5", "-0.25"]


# --- the sample list ----------------------------------------------------------------------------


def test_the_sample_list_exports_names_and_notes_as_text_never_formulas(client, chemist, hostile):
    client.force_login(chemist)
    rows = csv_rows(client.get("/samples/export.csv").content)
    assert_csv_inert(rows, *HOSTILE.values(), "-2+3")
    assert_xlsx_inert(client.get("/samples/export.xlsx").content, *HOSTILE.values(), "-2+3")


def test_an_exported_file_with_quoted_cells_imports_back_to_the_same_text(client, chemist, hostile):
    client.force_login(chemist)
    for fmt in ("csv", "xlsx"):
        rows = tabular.read_table(client.get(f"/samples/export.{fmt}").content)
        assert rows[0][1]["name"] == LINK and rows[0][1]["notes"] == HOSTILE["notes"]


def test_a_long_sample_list_written_on_the_worker_has_no_formula(chemist, hostile, settings):
    for fmt in ("csv", "xlsx"):
        transfer = transfers.samples_export_start(filters={}, fmt=fmt, user=chemist)
        content = run_transfer(transfer)
        if fmt == "csv":
            assert_csv_inert(csv_rows(content), *HOSTILE.values())
        else:
            assert_xlsx_inert(content, *HOSTILE.values())


# --- the admin's export actions -----------------------------------------------------------------


def _admin_export(admin_client, action: str):
    return admin_client.post(
        "/admin/lims/sample/",
        {"action": action, "_selected_action": list(Sample.objects.values_list("pk", flat=True))},
    )


def test_the_admin_export_actions_write_no_formula(admin_client, hostile):
    assert_csv_inert(csv_rows(_admin_export(admin_client, "export_csv").content), LINK)
    assert_xlsx_inert(_admin_export(admin_client, "export_xlsx").content, LINK)


def test_a_large_admin_export_goes_to_the_worker_and_writes_no_formula(
    admin_client, hostile, settings
):
    settings.KILN_EXPORT_SYNC_ROWS = 0
    for action, fmt in (("export_csv", "csv"), ("export_xlsx", "xlsx")):
        response = _admin_export(admin_client, action)
        transfer = Transfer.objects.latest("pk")
        assert response.status_code == 302 and response["Location"] == f"/transfers/{transfer.pk}/"
        assert transfer.params == {"model": "lims.sample", "pks": [hostile.pk], "fmt": fmt}
        content = run_transfer(transfer)
        if fmt == "csv":
            assert_csv_inert(csv_rows(content), LINK)
        else:
            assert_xlsx_inert(content, LINK)


# --- a job's result tables and the warnings CSVs ------------------------------------------------

HOSTILE_WARNING = {
    "code": "capacity_above_theoretical",
    "message": '=HYPERLINK("http://x","y") capacity too high',
    "cycles": [1],
    "severity": "flag",
}


@pytest.fixture
def job(db):
    from characterization.jobs import seed

    seed.analysis_definitions_seed()
    measurement = measurement_with("@run.csv")
    table = "cycle,step_note,voltage_v\n1,=1+2,-0.5\n2,@SUM(A1),3.25\n"
    return stored(
        measurement, "cycling_summary", warnings=[HOSTILE_WARNING], tables={"cycles": table}
    )


def test_a_result_table_downloads_without_formulas_and_keeps_its_negative_numbers(
    client, chemist, job
):
    client.force_login(chemist)
    response = client.get(f"/jobs/{job.pk}/tables/cycles.csv")
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert rows == [
        ["cycle", "step_note", "voltage_v"],
        ["1", "'=1+2", "-0.5"],
        ["2", "'@SUM(A1)", "3.25"],
    ]
    excel = client.get(f"/jobs/{job.pk}/tables/cycles.xlsx").content
    assert_xlsx_inert(excel, "=1+2", "@SUM(A1)", sheet="cycles")
    assert_xlsx_inert(excel, HOSTILE_WARNING["message"], "@run.csv", sheet="warnings")


def test_the_warnings_csvs_of_a_job_a_measurement_and_a_cell_write_no_formula(client, chemist, job):
    client.force_login(chemist)
    measurement = job.measurement
    for url in (
        reverse("jobs:warnings", args=[job.pk]),
        reverse("jobs:measurement-warnings", args=[measurement.sample.code]),
        reverse("jobs:cell-warnings", args=[measurement.subject.code]),
    ):
        rows = csv_rows(client.get(url).content)
        assert_csv_inert(rows, HOSTILE_WARNING["message"], "@run.csv")
