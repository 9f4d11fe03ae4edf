"""Exports and imports on a real Celery worker subprocess, real Redis and the PostgreSQL test
database (issue 9): a large import sent from the page runs on the worker, its page sees the
progress while it runs, and it saves every row or none; an .eln archive is built there."""

from __future__ import annotations

import io
import time
import zipfile

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from lims.models import Sample, Transfer, TransferStatus
from lims.services import sample_register

pytestmark = [pytest.mark.services, pytest.mark.django_db(transaction=True)]

HEADER = "code,kind,name,formula,status,location,owner,project,notes,parents\n"
ROWS = 6000


def csv_of(rows: int, powder: str, *, bad_last: bool = False) -> bytes:
    lines = [
        f",{'cathode' if i % 3 else 'other'},import {i},,,Box {i % 9},,,,"
        f"{powder + ':derived_from' if i % 3 == 0 else ''}\n"
        for i in range(rows)
    ]
    if bad_last:
        lines[-1] = ",cathode,the last one,,frozen,,,,,\n"
    return (HEADER + "".join(lines)).encode()


def post_import(client, data: bytes, *, dry_run: bool = False) -> Transfer:
    form = {"file": SimpleUploadedFile("big.csv", data), "mode": "skip"}
    response = client.post("/samples/import/", {**form, **({"dry_run": "on"} if dry_run else {})})
    assert response.status_code == 302, response.content[:500]
    return Transfer.objects.get(pk=int(response["Location"].rstrip("/").rsplit("/", 1)[1]))


def follow(transfer: Transfer, timeout_s: float = 240) -> tuple[Transfer, list[int]]:
    """Poll the row as the page does; the percentages seen while it was running."""
    seen: list[int] = []
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        transfer.refresh_from_db()
        if transfer.status == TransferStatus.RUNNING:
            seen.append(transfer.progress_percent)
        if not transfer.is_active:
            return transfer, seen
        time.sleep(0.05)
    raise AssertionError(f"transfer {transfer.pk} still {transfer.status} after {timeout_s} s")


def test_a_large_import_runs_on_the_worker_with_progress_and_all_or_nothing(
    client, chemist, celery_worker, settings
):
    settings.KILN_IMPORT_SYNC_ROWS = 100
    powder = sample_register(kind="cathode", name="parent powder", owner=chemist)
    client.force_login(chemist)

    failed, _ = follow(post_import(client, csv_of(ROWS, powder.code, bad_last=True)))
    assert failed.status == "succeeded", failed.error  # it ran; its report says why none saved
    assert failed.result["errors"] == [[ROWS + 1, "status: unknown status 'frozen'"]]
    assert Sample.objects.count() == 1  # not one of the 6,000 rows

    done, seen = follow(post_import(client, csv_of(ROWS, powder.code)))
    assert done.status == "succeeded", done.error
    assert len(done.result["created"]) == ROWS and not done.result["errors"]
    assert Sample.objects.count() == ROWS + 1
    assert powder.child_edges.count() == ROWS // 3
    assert any(0 < p < 100 for p in seen), f"no progress seen while running: {seen}"
    assert seen == sorted(seen)
    assert done.progress_percent == 100 and done.worker == celery_worker.hostname
    page = client.get(f"/transfers/{done.pk}/").content.decode()
    assert f"{ROWS} new" in page and "every 1s" not in page


def test_an_eln_archive_is_built_by_the_worker(client, chemist, celery_worker):
    powder = sample_register(kind="cathode", name="LMNO", owner=chemist)
    client.force_login(chemist)
    response = client.post(f"/transfers/eln/{powder.code}/")
    transfer, _ = follow(Transfer.objects.get(pk=int(response["Location"].split("/")[2])))
    assert transfer.status == "succeeded", transfer.error
    content = b"".join(client.get(f"/transfers/{transfer.pk}/download").streaming_content)
    names = zipfile.ZipFile(io.BytesIO(content)).namelist()
    code = powder.code  # the root folder, its metadata, and the sample's own (empty) folder
    assert names == [f"{code}/", f"{code}/ro-crate-metadata.json", f"{code}/{code}/"]
