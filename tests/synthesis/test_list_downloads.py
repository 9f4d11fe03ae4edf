"""Issue 11 §4: the synthesis lists (batches, recipes, chemicals, lots) download as CSV, Excel
and Parquet with the same rows, under the page's filters, every page of them."""

from __future__ import annotations

import io

import pyarrow.parquet as pq
import pytest
from django.urls import reverse

from synthesis import queries, services, views
from synthesis.models import Batch, Lot
from synthesis.planning import PlanInputs
from tests.lims.factories import UserFactory
from tests.lims.test_exports_formulas import assert_csv_inert, assert_xlsx_inert, csv_rows
from tests.lims.test_list_downloads import column, fetch_all

pytestmark = pytest.mark.django_db
NOTE = "=1+2 weighed twice"


def parquet_type(data: bytes, name: str) -> str:
    return str(pq.read_table(io.BytesIO(data)).schema.field(name).type)


def test_batches_download_every_page_under_the_filters(client, chemist, nso_batch, monkeypatch):
    Batch.objects.filter(pk=nso_batch.pk).update(notes=NOTE)
    second = services.batch_create(
        user=chemist, recipe=nso_batch.recipe,
        inputs=PlanInputs(substrate=nso_batch.substrate, substrate_mass_g=2.0,
                          lots=queries.default_lots(nso_batch.recipe)),
    )  # fmt: skip
    monkeypatch.setattr(views, "PAGE_SIZE", 1)  # the page shows one; the download all
    client.force_login(chemist)
    files = fetch_all(client, "synthesis:batches_export", query="page=2")
    assert sorted(column(files["csv"], "code")) == sorted([nso_batch.code, second.code])
    assert parquet_type(files["parquet"], "substrate_mass_g") == "double"
    assert_csv_inert(csv_rows(files["csv"]), NOTE)
    assert_xlsx_inert(files["xlsx"], NOTE)
    narrowed = fetch_all(client, "synthesis:batches_export", query=f"q={second.code}")
    assert column(narrowed["parquet"], "code") == [second.code]
    assert column(narrowed["parquet"], "substrate_mass_g") == ["2"]


def test_recipes_chemicals_and_lots_download_what_their_pages_list(client, chemist, nso, lots):
    client.force_login(chemist)
    recipes = fetch_all(client, "synthesis:recipes_export")
    assert column(recipes["csv"], "family") == ["nso"]
    chemicals = fetch_all(client, "synthesis:chemicals_export")
    assert len(column(chemicals["csv"], "name")) == len(lots)
    assert parquet_type(chemicals["parquet"], "molar_mass_g_per_mol") == "double"
    lot = next(iter(lots.values()))
    Lot.objects.exclude(pk=lot.pk).filter(chemical=lot.chemical).update(amount_left=0)
    Lot.objects.filter(pk=lot.pk).update(location="@shelf 3")
    only = fetch_all(client, "synthesis:lots_export", query=f"chemical={lot.chemical_id}")
    assert column(only["csv"], "sample") == [lot.sample.code]
    assert column(only["parquet"], "location") == ["@shelf 3"]
    assert_csv_inert(csv_rows(only["csv"]), "@shelf 3")
    Lot.objects.filter(pk=lot.pk).update(amount_left=0)
    assert column(fetch_all(client, "synthesis:lots_export", query=f"chemical={lot.chemical_id}")[
        "csv"], "sample") == []  # fmt: skip
    with_empty = f"chemical={lot.chemical_id}&empty=1"
    assert column(fetch_all(client, "synthesis:lots_export", query=with_empty)["xlsx"], "sample")


def test_the_synthesis_pages_link_their_downloads(client, chemist, nso, lots):
    client.force_login(chemist)
    index = client.get(reverse("synthesis:index") + "?status=planned&page=3").content.decode()
    assert 'href="/synthesis/batches/export.parquet?status=planned"' in index
    assert 'href="/synthesis/recipes/export.xlsx"' in index
    chemicals = client.get("/synthesis/chemicals/").content.decode()
    assert 'href="/synthesis/chemicals/export.csv"' in chemicals
    lots_page = client.get("/synthesis/lots/?empty=1").content.decode()
    assert 'href="/synthesis/lots/export.csv?empty=1"' in lots_page


def test_synthesis_downloads_refuse_who_cannot_see_the_lists(client, nso, lots):
    client.force_login(UserFactory(username="norole"))
    for name in ("batches_export", "recipes_export", "chemicals_export", "lots_export"):
        assert client.get(reverse(f"synthesis:{name}", args=["csv"])).status_code == 403
    client.logout()
    assert client.get(reverse("synthesis:lots_export", args=["parquet"])).status_code == 302


def test_an_unknown_format_of_a_synthesis_list_is_not_found(client, chemist):
    client.force_login(chemist)
    for name in ("batches_export", "recipes_export", "chemicals_export", "lots_export"):
        assert client.get(reverse(f"synthesis:{name}", args=["ods"])).status_code == 404
    assert client.get("/synthesis/lots/export.csv?chemical=abc").status_code == 200
