"""Measurements: a sample of their own, measured on a cell or powder, with raw files."""

from __future__ import annotations

import datetime
import hashlib

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone

from characterization import services
from characterization.models import Measurement, MeasurementFile, RawFile
from lims.lineage import ancestor_depths
from lims.models import EdgeRole, Sample, SampleEdge, SampleKind
from tests.characterization.factories import (
    CellFactory,
    MeasurementFactory,
    PowderFactory,
    upload,
)
from tests.characterization.parser_reference import cycler_data_dir

pytestmark = pytest.mark.django_db

CONTENT = b"time,voltage\n0,3.2\n1,3.3\n"
SHA = hashlib.sha256(CONTENT).hexdigest()


@pytest.fixture(autouse=True)
def media_root(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


def test_a_measurement_is_a_sample_measured_on_its_cell_down_the_whole_lineage(chemist):
    cell = CellFactory()
    measured_at = timezone.make_aware(datetime.datetime(2026, 3, 5, 14, 30))
    recorded = services.measurement_record(
        subject=cell.sample,
        measurement_type="cycling",
        operator=chemist,
        instrument="Neware CT-4008",
        conditions={"voltage_window_v": [2.0, 4.8], "c_rates": [0.05], "temperature_c": 25.0},
        measured_at=measured_at,
        notes="formation",
    )
    measurement = Measurement.objects.get()
    assert recorded.measurement == measurement and recorded.files == []
    assert measurement.sample.kind == SampleKind.MEASUREMENT
    assert measurement.sample.code.startswith("MEAS-")
    assert measurement.sample.name == f"Galvanostatic cycling of {cell.sample.code}"
    assert measurement.sample.notes == "formation" and measurement.sample.owner == chemist
    assert measurement.conditions["voltage_window_v"] == [2.0, 4.8]
    assert measurement.measured_at == measured_at
    edge = SampleEdge.objects.get(child=measurement.sample)
    assert (edge.parent, edge.role) == (cell.sample, EdgeRole.MEASURED_ON)
    powder = cell.electrode.active_material
    assert ancestor_depths(measurement.sample.pk)[powder.pk] == 3


def test_a_powder_can_be_measured_too():
    powder = PowderFactory()
    measurement = MeasurementFactory(subject=powder, measurement_type="xrd")
    assert measurement.subject == powder
    assert list(powder.measurements.all()) == [measurement]


def test_a_measurement_of_a_measurement_and_an_unknown_type_are_refused():
    measurement = MeasurementFactory()
    with pytest.raises(ValidationError) as caught:
        MeasurementFactory(subject=measurement.sample, measurement_type="tea_leaves")
    assert set(caught.value.message_dict) == {"subject", "measurement_type"}


# --- pages ------------------------------------------------------------------------------------


def _post(cell, files, **overrides):
    data = {
        "subject": cell.sample.code,
        "measurement_type": "cycling",
        "instrument": "Neware CT-4008",
        "measured_at": "2026-03-05T14:30",
        "voltage_min_v": "2.0",
        "voltage_max_v": "4.8",
        "c_rates": "0.05, 0.1C",
        "temperature_c": "25",
        "other_conditions": "channel: 3\nrest: 10 min",
        "notes": "",
        "files": files,
    }
    return {**data, **overrides}


def test_the_cell_page_offers_the_upload_form_for_that_cell(client, chemist):
    cell = CellFactory()
    client.force_login(chemist)
    page = client.get(reverse("cells:cell", args=[cell.sample.code])).content.decode()
    assert f'action="{reverse("measurements:new")}" enctype="multipart/form-data"' in page
    assert f'<input type="hidden" name="subject" value="{cell.sample.code}">' in page


def test_uploading_from_the_cell_page_records_the_measurement_and_lists_its_sha256(client, chemist):
    cell = CellFactory()
    client.force_login(chemist)
    response = client.post(reverse("measurements:new"), _post(cell, [upload("run.csv", CONTENT)]))
    measurement = Measurement.objects.get()
    assert response.status_code == 302
    assert response.url == reverse("measurements:detail", args=[measurement.sample.code])
    assert measurement.operator == chemist and measurement.subject == cell.sample
    assert measurement.conditions == {
        "voltage_window_v": [2.0, 4.8],
        "c_rates": [0.05, 0.1],
        "temperature_c": 25.0,
        "channel": 3,
        "rest": "10 min",
    }
    assert measurement.measured_at == timezone.make_aware(datetime.datetime(2026, 3, 5, 14, 30))
    assert list(measurement.raw_files.values_list("sha256", flat=True)) == [SHA]
    detail = client.get(response.url).content.decode()
    assert f"run.csv: stored (sha256 {SHA[:12]}…" in detail
    assert f'title="{SHA}">{SHA[:12]}…</code>' in detail
    cell_page = client.get(reverse("cells:cell", args=[cell.sample.code])).content.decode()
    assert SHA[:12] in cell_page and measurement.sample.code in cell_page


def test_uploading_the_same_content_again_says_where_it_is_already_stored(client, chemist):
    measurement = MeasurementFactory(operator=chemist, uploads=[upload("first name.csv", CONTENT)])
    client.force_login(chemist)
    url = reverse("measurements:files", args=[measurement.sample.code])
    response = client.post(url, {"files": [upload("second name.csv", CONTENT)]}, follow=True)
    page = response.content.decode()
    assert "second name.csv: already stored as first name.csv (sha256 " in page
    assert "already attached to this measurement" in page
    assert RawFile.objects.count() == 1 and MeasurementFile.objects.count() == 1


def test_an_empty_file_in_the_form_is_a_field_error_and_nothing_is_saved(client, chemist):
    cell = CellFactory()
    samples_before = Sample.objects.count()
    client.force_login(chemist)
    response = client.post(reverse("measurements:new"), _post(cell, [upload("empty.csv", b"")]))
    assert response.status_code == 200
    assert "empty.csv" in response.content.decode()
    assert Sample.objects.count() == samples_before and not RawFile.objects.exists()


def test_an_oversized_file_in_the_form_is_a_field_error_and_nothing_is_saved(
    client, chemist, settings
):
    settings.KILN_MAX_UPLOAD_MB = 1
    cell = CellFactory()
    client.force_login(chemist)
    big = upload("huge.mpr", b"\0" * (1024 * 1024 + 10))
    response = client.post(reverse("measurements:new"), _post(cell, [big]))
    assert response.status_code == 200
    assert "huge.mpr is larger than the upload limit of 1 MB" in response.content.decode()
    assert not Measurement.objects.exists() and not RawFile.objects.exists()


def test_bad_form_input_gives_field_errors_not_a_server_error(client, chemist):
    cell = CellFactory()
    client.force_login(chemist)
    response = client.post(
        reverse("measurements:new"),
        _post(
            cell,
            [],
            subject="CELL-1999-0001",
            measured_at="soon",
            c_rates="fast",
            voltage_min_v="4.8",
            voltage_max_v="2.0",
            other_conditions="no separator here",
        ),
    )
    page = response.content.decode()
    assert response.status_code == 200
    assert "no sample with the code CELL-1999-0001" in page
    assert "&#x27;FAST&#x27; is not a C-rate" in page
    assert "the upper voltage must be above the lower one" in page
    assert "line 1: write “name: value”" in page
    assert not Measurement.objects.exists()


def test_a_real_cycler_file_uploads_through_the_form_with_its_format(client, chemist):
    path = cycler_data_dir() / "neware_navani_test.ndax"
    cell = CellFactory()
    client.force_login(chemist)
    client.post(reverse("measurements:new"), _post(cell, [upload(path.name, path.read_bytes())]))
    raw = RawFile.objects.get()
    assert (raw.original_name, raw.detected_format) == ("neware_navani_test.ndax", "neware_ndax")
    assert raw.size_bytes == path.stat().st_size


def test_the_measurements_index_filters_by_type_and_sample(client, chemist):
    cycling = MeasurementFactory(operator=chemist)
    xrd = MeasurementFactory(subject=PowderFactory(), measurement_type="xrd")
    client.force_login(chemist)
    url = reverse("measurements:index")
    page = client.get(url).content.decode()
    assert cycling.sample.code in page and xrd.sample.code in page
    page = client.get(url, {"measurement_type": "xrd"}).content.decode()
    assert xrd.sample.code in page and cycling.sample.code not in page
    page = client.get(url, {"q": cycling.subject.code}, HTTP_HX_REQUEST="true").content.decode()
    assert cycling.sample.code in page and xrd.sample.code not in page
    page = client.get(url, {"operator": chemist.pk}).content.decode()
    assert cycling.sample.code in page and xrd.sample.code not in page


def test_the_measurement_form_starts_from_the_sample_in_the_query(client, chemist):
    powder = PowderFactory()
    client.force_login(chemist)
    page = client.get(reverse("measurements:new"), {"sample": powder.code}).content.decode()
    assert f'value="{powder.code}"' in page
