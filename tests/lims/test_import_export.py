"""Bulk import with dry run (every bad row by line number, all-or-nothing) and export round trip."""

from __future__ import annotations

from django.core.files.uploadedfile import SimpleUploadedFile

from lims import tabular
from lims.models import Sample, SampleEdge
from lims.services import ParentLink, sample_register

HEADER = "code,kind,name,formula,status,location,owner,project,notes,parents\n"


def upload(client, text: str | bytes, *, mode="skip", dry_run=True, name="samples.csv"):
    data = text.encode() if isinstance(text, str) else text
    return client.post(
        "/samples/import/",
        {
            "file": SimpleUploadedFile(name, data),
            "mode": mode,
            **({"dry_run": "on"} if dry_run else {}),
        },
    )


def test_dry_run_reports_every_bad_row_by_line_and_saves_nothing(client, chemist):
    powder = sample_register(kind="cathode", name="LMNO")
    client.force_login(chemist)
    csv = HEADER + (
        f",cell,good cell,,active,,,,,{powder.code}:component\n"
        ",spaceship,bad kind,,,,,,,\n"
        ",cell,,,,,,,,\n"
        f",cell,orphan,,,,,,,CAT-1999-0001:component\n"
        "CELL-1999-0042,cell,ghost,,,,,,,\n"
    )
    before = Sample.objects.count()
    html = upload(client, csv, dry_run=True).content.decode()
    assert Sample.objects.count() == before
    assert "4 bad rows — nothing was saved" in html
    for line, text in [(3, "unknown kind"), (4, "needs a name"), (5, "unknown sample code"),
                       (6, "unknown sample code")]:  # fmt: skip
        assert f'<td class="num">{line}</td><td>' in html and text in html


def test_a_clean_file_imports_all_rows_with_their_lineage(client, chemist):
    powder = sample_register(kind="cathode", name="LMNO")
    client.force_login(chemist)
    csv = HEADER + "".join(
        f",cell,cell {i},,active,Box 3,,,,{powder.code}:component\n" for i in range(3)
    )
    assert "Dry run passed" in upload(client, csv, dry_run=True).content.decode()
    assert Sample.objects.filter(kind="cell").count() == 0
    html = upload(client, csv, dry_run=False).content.decode()
    assert "Imported" in html
    cells = Sample.objects.filter(kind="cell")
    assert cells.count() == 3 and {c.owner for c in cells} == {chemist}
    assert SampleEdge.objects.filter(parent=powder, role="component").count() == 3


def test_one_bad_row_in_a_real_run_saves_none_of_the_rows(client, chemist):
    client.force_login(chemist)
    csv = HEADER + ",cell,fine,,,,,,,\n,cell,bad,,frozen,,,,,\n"
    html = upload(client, csv, dry_run=False).content.decode()
    assert "1 bad row" in html and "unknown status" in html
    assert not Sample.objects.filter(kind="cell").exists()


def test_existing_codes_follow_the_chosen_mode(client, chemist):
    cell = sample_register(kind="cell", name="old name", owner=chemist)
    client.force_login(chemist)
    csv = HEADER + f"{cell.code},cell,new name,,,,,,,\n"
    assert "1 bad row" in upload(client, csv, mode="fail", dry_run=False).content.decode()
    assert "1 skipped" in upload(client, csv, mode="skip", dry_run=False).content.decode()
    assert "1 updated" in upload(client, csv, mode="update", dry_run=False).content.decode()
    cell.refresh_from_db()
    assert cell.name == "new name"


def test_an_exported_file_imports_back_unchanged(client, chemist):
    powder = sample_register(
        kind="cathode", name="LMNO", formula="Li1.2Mn0.6Ni0.2O2", owner=chemist
    )
    sample_register(
        kind="cell", name="c1", owner=chemist, parents=[ParentLink(powder, "component")]
    )
    client.force_login(chemist)
    for fmt in ("csv", "xlsx"):
        exported = client.get(f"/samples/export.{fmt}").content
        rows = tabular.read_table(exported)
        assert [r["code"] for _, r in rows] == sorted(Sample.objects.values_list("code", flat=True))
        html = upload(
            client, exported, mode="update", dry_run=False, name=f"s.{fmt}"
        ).content.decode()
        assert "0 new · 0 updated · 2 unchanged" in html
    assert powder.history.count() == 1  # no save happened


def test_an_empty_file_is_a_clear_error_on_the_file_field(client, chemist):
    client.force_login(chemist)
    html = upload(client, b"").content.decode()
    assert "The submitted file is empty" in html or "the file is empty" in html


def test_admin_exports_any_list_as_csv(admin_client, chemist):
    sample_register(kind="cathode", name="LMNO")
    response = admin_client.post(
        "/admin/lims/sample/",
        {
            "action": "export_csv",
            "_selected_action": list(Sample.objects.values_list("pk", flat=True)),
        },
    )
    text = response.content.decode("utf-8-sig")
    assert text.splitlines()[0] == "code,kind,name,formula,status,owner,project,created_at"
    assert "Cathode powder,LMNO" in text


def test_admin_show_descendants_lists_the_lineage(admin_client):
    powder = sample_register(kind="cathode", name="LMNO")
    cell = sample_register(kind="cell", name="c", parents=[ParentLink(powder, "component")])
    other = sample_register(kind="cell", name="unrelated")
    response = admin_client.post(
        "/admin/lims/sample/", {"action": "show_descendants", "_selected_action": [powder.pk]}
    )
    assert response.status_code == 302
    html = admin_client.get(response["Location"]).content.decode()
    assert cell.code in html and other.code not in html
