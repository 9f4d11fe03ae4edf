"""Coin cells through the sample import: built from their electrode sheet, and an exported
file with cells imports back unchanged."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from characterization.models import CoinCell
from lims import sample_import, tabular
from tests.characterization.factories import CellFactory, ElectrodeFactory

pytestmark = pytest.mark.django_db


def upload(client, rows: list[dict], *, dry_run: bool, mode: str = "skip"):
    header = sample_import.columns()
    text = tabular.write_csv(header, [[row.get(c, "") for c in header] for row in rows])
    data = {"file": SimpleUploadedFile("cells.csv", text), "mode": mode}
    if dry_run:
        data["dry_run"] = "on"
    return client.post("/samples/import/", data).content.decode()


def test_imported_cells_are_built_from_their_electrode_with_computed_active_mass(client, chemist):
    electrode = ElectrodeFactory()
    client.force_login(chemist)
    rows = [
        {"kind": "cell", "name": "imported A", "electrode": electrode.sample.code,
         "disc_mass_mg": "12.00", "foil_disc_mass_mg": "4.00"},
        {"kind": "cell", "name": "imported B", "electrode": electrode.sample.code,
         "disc_mass_mg": "3.00", "foil_disc_mass_mg": "4.00"},
    ]  # fmt: skip
    html = upload(client, rows, dry_run=True)
    assert "1 bad row" in html and '<td class="num">3</td>' in html and "disc_mass_mg" in html
    html = upload(client, rows[:1], dry_run=False)
    cell = CoinCell.objects.get(sample__name="imported A")
    # (12.00 − 4.00) mg × 0.80 active fraction = 6.400 mg
    assert cell.active_mass_mg == pytest.approx(6.40, rel=1e-12)
    assert cell.sample.parent_edges.get().parent == electrode.sample
    assert cell.sample.owner == chemist


def test_an_unknown_electrode_code_is_a_bad_row(client, chemist):
    client.force_login(chemist)
    rows = [{"kind": "cell", "name": "x", "electrode": "ELE-1999-0001", "disc_mass_mg": "12"}]
    html = upload(client, rows, dry_run=True)
    assert "no electrode sheet has the code" in html


def test_an_export_with_built_cells_imports_back_unchanged(client, chemist):
    cells = [CellFactory(), CellFactory()]
    client.force_login(chemist)
    exported = client.get("/samples/export.csv", {"kind": "cell"}).content
    table = dict((r["code"], r) for _, r in tabular.read_table(exported))
    assert table[cells[0].sample.code]["disc_mass_mg"] == "12.0"
    data = {"file": SimpleUploadedFile("cells.csv", exported), "mode": "update"}
    html = client.post("/samples/import/", data).content.decode()
    assert "0 new · 0 updated · 2 unchanged" in html


def test_import_does_not_rewrite_a_built_cells_disc_mass(client, chemist):
    cell = CellFactory()
    client.force_login(chemist)
    row = {"code": cell.sample.code, "kind": "cell", "name": cell.sample.name,
           "status": "active", "disc_mass_mg": "13.0"}  # fmt: skip
    html = upload(client, [row], dry_run=False, mode="update")
    assert "import does not change a built record" in html
    cell.refresh_from_db()
    assert cell.disc_mass_mg == 12.0
