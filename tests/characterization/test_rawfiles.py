"""Raw files: stored once by SHA-256, unchanged, never overwritten; bad uploads refused."""

from __future__ import annotations

import hashlib
import os
import stat

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from characterization import services, storage
from characterization.models import Measurement, MeasurementFile, RawFile
from lims.models import Sample, SampleKind
from tests.characterization.factories import CellFactory, MeasurementFactory, upload
from tests.characterization.parser_reference import cycler_data_dir

pytestmark = pytest.mark.django_db

CONTENT = b"Cycle,Voltage(V),Current(mA)\n1,3.20,0.08\n1,4.80,0.08\n"
SHA = hashlib.sha256(CONTENT).hexdigest()


@pytest.fixture(autouse=True)
def media_root(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


def _stored_files(media_root) -> list:
    raw = media_root / "raw"
    return sorted(p for p in raw.rglob("*") if p.is_file()) if raw.exists() else []


def test_a_file_is_stored_under_its_sha256_with_its_size_and_original_bytes(media_root, chemist):
    raw, created = services.raw_file_store(upload=upload("run 1.csv", CONTENT), uploaded_by=chemist)
    assert created
    raw.refresh_from_db()
    assert (raw.sha256, raw.size_bytes, raw.original_name) == (SHA, len(CONTENT), "run 1.csv")
    assert raw.content_type == "text/csv" and raw.uploaded_by == chemist
    path = media_root / "raw" / SHA[:2] / SHA
    assert _stored_files(media_root) == [path]
    assert path.read_bytes() == CONTENT
    assert storage.verify(SHA)


def test_the_same_content_uploaded_twice_is_one_stored_file_and_one_row(media_root):
    first, created_first = services.raw_file_store(
        upload=upload("a.csv", CONTENT), uploaded_by=None
    )
    again, created_again = services.raw_file_store(
        upload=upload("renamed copy.csv", CONTENT), uploaded_by=None
    )
    assert (created_first, created_again) == (True, False)
    assert again.pk == first.pk and again.original_name == "a.csv"
    assert RawFile.objects.count() == 1
    assert len(_stored_files(media_root)) == 1  # no temporary files left behind either


def test_a_stored_file_is_read_only_and_never_overwritten(media_root):
    services.raw_file_store(upload=upload("a.csv", CONTENT), uploaded_by=None)
    path = storage.raw_path(SHA)
    before = path.stat()
    assert not before.st_mode & (stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH)
    blob = storage.store_chunks([CONTENT[:10], CONTENT[10:]], name="again.csv")
    after = path.stat()
    assert not blob.created
    assert (after.st_ino, after.st_mtime_ns) == (before.st_ino, before.st_mtime_ns)
    assert path.read_bytes() == CONTENT


def test_verify_detects_a_stored_file_changed_behind_kilns_back(media_root):
    services.raw_file_store(upload=upload("a.csv", CONTENT), uploaded_by=None)
    path = storage.raw_path(SHA)
    os.chmod(path, 0o644)
    path.write_bytes(CONTENT + b"tampered")
    assert not storage.verify(SHA)
    assert not storage.verify("0" * 64)  # nothing stored under that name


def test_an_empty_upload_is_refused_and_nothing_is_saved(media_root, chemist):
    cell = CellFactory()
    samples_before = Sample.objects.count()
    with pytest.raises(ValidationError) as caught:
        services.measurement_record(
            subject=cell.sample,
            measurement_type="cycling",
            operator=chemist,
            uploads=[upload("ok.csv", CONTENT), upload("empty.csv", b"")],
        )
    assert caught.value.message_dict["files"] == ["empty.csv is empty: nothing was saved."]
    assert Sample.objects.count() == samples_before
    assert not Measurement.objects.exists() and not RawFile.objects.exists()
    assert _stored_files(media_root) == []


def test_an_upload_over_the_size_limit_is_refused_and_nothing_is_saved(
    media_root, settings, chemist
):
    settings.KILN_MAX_UPLOAD_MB = 1
    big = upload("big.mpr", b"x" * (1024 * 1024 + 1))
    with pytest.raises(ValidationError) as caught:
        services.measurement_record(
            subject=CellFactory().sample, measurement_type="cycling", operator=chemist,
            uploads=[big],
        )  # fmt: skip
    assert "larger than the upload limit of 1 MB" in caught.value.message_dict["files"][0]
    assert not Measurement.objects.filter(subject__kind=SampleKind.CELL).exists()
    assert not RawFile.objects.exists() and _stored_files(media_root) == []


def test_storage_counts_the_bytes_itself_and_leaves_nothing_behind_over_the_limit(
    media_root, settings
):
    settings.KILN_MAX_UPLOAD_MB = 1
    with pytest.raises(storage.StorageError, match="larger than the upload limit"):
        storage.store_chunks([b"x" * 600_000, b"x" * 600_000], name="stream.bin")
    assert _stored_files(media_root) == []
    exactly = storage.store_chunks([b"y" * (1024 * 1024)], name="limit.bin")
    assert exactly.created and exactly.size_bytes == 1024 * 1024


def test_a_real_cycler_file_is_stored_unchanged_with_its_detected_format(media_root):
    path = cycler_data_dir() / "neware_navani_test.ndax"
    content = path.read_bytes()
    raw, _ = services.raw_file_store(upload=upload(path.name, content), uploaded_by=None)
    assert raw.detected_format == "neware_ndax"
    assert raw.sha256 == hashlib.sha256(content).hexdigest() and raw.size_bytes == len(content)
    assert storage.raw_path(raw.sha256).read_bytes() == content


def test_a_file_the_parsers_do_not_know_is_stored_with_no_format(media_root):
    raw, _ = services.raw_file_store(upload=upload("sem.tif", b"II*\x00 image"), uploaded_by=None)
    assert raw.detected_format == ""


def test_a_file_is_attached_to_a_measurement_once_and_may_serve_several(media_root, chemist):
    first = MeasurementFactory(uploads=[upload("a.csv", CONTENT)], operator=chemist)
    second = MeasurementFactory(subject=first.subject)
    outcomes = services.measurement_files_attach(
        measurement=first, uploads=[upload("b.csv", CONTENT)], added_by=chemist
    )
    assert (outcomes[0].stored, outcomes[0].linked) == (False, False)
    assert outcomes[0].message.startswith("b.csv: already stored as a.csv (sha256 ")
    assert "already attached to this measurement" in outcomes[0].message
    services.measurement_files_attach(
        measurement=second, uploads=[upload("c.csv", CONTENT)], added_by=chemist
    )
    assert MeasurementFile.objects.count() == 2 and RawFile.objects.count() == 1
    assert set(RawFile.objects.get().measurements.all()) == {first, second}


def test_the_download_streams_the_stored_bytes_under_the_original_name(client, chemist):
    MeasurementFactory(uploads=[upload("NSO cell 1.csv", CONTENT)])
    client.force_login(chemist)
    response = client.get(reverse("measurements:raw-file", args=[SHA]))
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == CONTENT
    assert response.headers["Content-Disposition"] == 'attachment; filename="NSO cell 1.csv"'
    assert response.headers["Content-Type"] == "text/csv"


def test_downloading_an_unknown_hash_is_not_found(client, chemist):
    client.force_login(chemist)
    assert client.get(reverse("measurements:raw-file", args=["a" * 64])).status_code == 404
    assert client.get(f"/measurements/files/{'Z' * 64}/").status_code == 404
