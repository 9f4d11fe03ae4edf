"""Issue 11 §4: every list downloads as CSV, Excel and Parquet, with exactly the rows its filters
show (every page of them). Here: the shared writer and response (lims.tabular, lims.downloads),
the sample list, and `fetch_all`, which the other apps' download tests use to check that the
three files hold the same rows (by tabular.read_table and by pandas) and stay inert.
"""

from __future__ import annotations

import io
import math

import pandas as pd
import pyarrow.parquet as pq
import pytest
from django.urls import reverse

from lims import downloads, tabular
from lims.models import SampleKind
from lims.services import sample_register
from tests.lims.factories import UserFactory
from tests.lims.test_exports_formulas import assert_csv_inert, assert_xlsx_inert, csv_rows

LINK = '=HYPERLINK("http://x","y")'
FORMATS = ("csv", "xlsx", "parquet")


def body(response) -> bytes:
    return b"".join(response.streaming_content) if response.streaming else response.content


def fetch_all(client, view_name: str, *args, query: str = "") -> dict[str, bytes]:
    """The list's three downloads, checked to hold the same rows; {fmt: file}."""
    files = {}
    for fmt in FORMATS:
        response = client.get(
            reverse(view_name, args=[*args, fmt]) + (f"?{query}" if query else "")
        )
        assert response.status_code == 200, (fmt, response.status_code)
        assert response["Content-Type"] == downloads.FORMATS[fmt][1]
        disposition = response["Content-Disposition"]
        assert disposition.startswith("attachment;") and disposition.endswith(f'.{fmt}"')
        files[fmt] = body(response)
    tables = {fmt: rows_of(data) for fmt, data in files.items()}
    assert tables["csv"] == tables["xlsx"] == tables["parquet"]
    frames = {fmt: pandas_rows(fmt, data) for fmt, data in files.items()}
    assert frames["csv"] == frames["xlsx"] == frames["parquet"] == tables["csv"]
    return files


def rows_of(data: bytes) -> list[dict[str, str]]:
    return [row for _line, row in tabular.read_table(data)]


def pandas_rows(fmt: str, data: bytes) -> list[dict[str, str]]:
    """The file as pandas reads it, each value as text the way tabular writes it."""
    if fmt == "csv":
        frame = pd.read_csv(
            io.BytesIO(data), dtype=str, keep_default_na=False, encoding="utf-8-sig"
        )
        frame = frame.map(tabular.restore)
    elif fmt == "xlsx":
        frame = pd.read_excel(io.BytesIO(data), dtype=object)
    else:
        frame = pd.read_parquet(io.BytesIO(data))
    rows = []
    for record in frame.to_dict("records"):
        row = {str(k).strip().lower(): _text(v).strip() for k, v in record.items()}
        if any(row.values()):
            rows.append(row)
    return rows


def _text(value: object) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    if hasattr(value, "item"):  # a numpy number
        value = value.item()
    return tabular.cell_text(value)


def column(data: bytes, name: str) -> list[str]:
    return [row[name] for row in rows_of(data)]


# --- lims.tabular: Parquet -----------------------------------------------------------------------


def test_parquet_types_number_columns_and_reads_back_as_the_csv_does():
    header = ["code", "count", "mass_g", "mixed", "note"]
    rows = [["A", 3, 1.0, 2, LINK], ["B", None, 2.5, "x", None], ["C", 7, 0.1, 4.0, "-0.5"]]
    data = tabular.write_parquet(header, rows)
    schema = pq.read_table(io.BytesIO(data)).schema
    assert [str(schema.field(n).type) for n in header] == [
        "string",
        "int64",
        "double",
        "string",
        "string",
    ]
    assert rows_of(data) == rows_of(tabular.write_csv(header, rows))
    assert rows_of(data)[0] == {
        "code": "A",
        "count": "3",
        "mass_g": "1",
        "mixed": "2",
        "note": LINK,
    }
    assert pq.read_table(io.BytesIO(data)).column("note").to_pylist()[0] == LINK  # as it is


def test_parquet_is_written_in_row_groups_that_stream_out():
    chunks = list(tabular.parquet_chunks(["n"], ([i] for i in range(25)), group_rows=10))
    assert len(chunks) == 4  # three row groups, then the footer
    data = b"".join(chunks)
    assert pq.ParquetFile(io.BytesIO(data)).metadata.num_row_groups == 3
    assert column(data, "n") == [str(i) for i in range(25)] and tabular.count_rows(data) == 25


def test_an_empty_list_is_a_parquet_file_with_its_columns():
    data = tabular.write_parquet(["code", "name"], [])
    assert pq.read_table(io.BytesIO(data)).column_names == ["code", "name"]
    assert rows_of(data) == []


def test_a_damaged_parquet_file_is_refused_with_a_sentence():
    with pytest.raises(tabular.TableError, match="not a readable Parquet file"):
        tabular.read_table(b"PAR1 this is not a parquet file PAR1")


# --- the sample list -----------------------------------------------------------------------------


@pytest.fixture
def samples(db, chemist):
    return [
        sample_register(kind=SampleKind.CATHODE, name=LINK, formula="LiCoO2", owner=chemist),
        sample_register(kind=SampleKind.CATHODE, name="NMC 811 lot", owner=chemist, notes="@x"),
        sample_register(kind=SampleKind.PRECURSOR, name="graphite lot", owner=chemist),
    ]


def test_the_sample_list_downloads_its_filtered_rows_in_three_formats(client, chemist, samples):
    client.force_login(chemist)
    files = fetch_all(client, "samples:export", query="kind=cathode&page=2")
    assert column(files["parquet"], "code") == sorted(s.code for s in samples[:2])
    assert column(files["csv"], "name") == [LINK, "NMC 811 lot"]
    assert_csv_inert(csv_rows(files["csv"]), LINK, "@x")
    assert_xlsx_inert(files["xlsx"], LINK, "@x")
    narrowed = fetch_all(client, "samples:export", query="kind=cathode&q=NMC")
    assert column(narrowed["xlsx"], "code") == [samples[1].code]


def test_a_long_sample_list_streams_its_parquet_and_offers_csv_to_the_worker(
    client, chemist, samples, settings
):
    settings.KILN_EXPORT_SYNC_ROWS = 1
    client.force_login(chemist)
    offer = client.get(reverse("samples:export", args=["csv"]))
    assert offer["Content-Type"].startswith("text/html") and b"Export 3 samples" in offer.content
    response = client.get(reverse("samples:export", args=["parquet"]))
    assert response.streaming
    assert sorted(column(body(response), "code")) == sorted(s.code for s in samples)


def test_the_sample_list_page_links_its_downloads_with_its_filters(client, chemist, samples):
    client.force_login(chemist)
    page = client.get(reverse("samples:index") + "?kind=cathode&page=1").content.decode()
    for fmt in FORMATS:
        assert f'href="/samples/export.{fmt}?kind=cathode"' in page
    rows = client.get(reverse("samples:index") + "?q=graphite", headers={"HX-Request": "true"})
    assert 'hx-swap-oob="true"' in rows.content.decode()
    assert 'href="/samples/export.parquet?q=graphite"' in rows.content.decode()


@pytest.mark.parametrize("fmt", ["pdf", "json", "CSV"])
def test_an_unknown_format_is_not_found(client, chemist, samples, fmt):
    client.force_login(chemist)
    assert client.get(reverse("samples:export", args=[fmt])).status_code == 404


def test_who_cannot_see_the_sample_list_cannot_download_it(client, samples):
    anonymous = client.get(reverse("samples:export", args=["parquet"]))
    assert anonymous.status_code == 302 and "/accounts/login/" in anonymous["Location"]
    client.force_login(UserFactory(username="norole"))
    for name in ("samples:index", "samples:export"):
        args = [] if name == "samples:index" else ["csv"]
        refused = client.get(reverse(name, args=args))
        assert refused.status_code == 403 and LINK not in refused.content.decode()
