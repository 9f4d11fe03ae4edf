"""Measurements through the REST API (issue 11 §1): recorded as the measurement page records
them, read with their files (SHA-256, size, harvest version) and the state of their analyses,
listed with filters, corrected with a reason; refused as the pages refuse."""

from __future__ import annotations

import datetime
import hashlib

import pytest
from django.test import Client
from django.utils import timezone

from characterization.jobs import enqueue, seed
from characterization.jobs.models import AnalysisDefinition
from characterization.models import HarvestedFile, HarvestVersion, Measurement, MeasurementType
from lims.api_permissions import READ_ONLY
from lims.models import Sample, SampleEdge, SampleKind
from lims.token_models import TokenScope
from lims.token_services import api_token_create
from tests.characterization.factories import CellFactory, MeasurementFactory, PowderFactory, upload
from tests.lims.factories import UserFactory

pytestmark = pytest.mark.django_db

MEASUREMENTS = "/api/v1/measurements/"
CSV = b"time,voltage\n0,3.2\n1,3.3\n"


def signed_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def post(client: Client, url: str, data: dict):
    return client.post(url, data, content_type="application/json")


@pytest.fixture
def cell(chemist):
    return CellFactory(built_by=chemist)


@pytest.fixture
def other(db):
    return UserFactory(username="otto", groups=["chemist"])


# --- recording --------------------------------------------------------------------------------


def test_a_measurement_is_recorded_on_its_subject_with_its_conditions(chemist, cell):
    data = {
        "subject": cell.sample.code.lower(),  # codes are found in any case, as on the page
        "measurement_type": "cycling",
        "instrument": " Neware CT-4008 ",
        "measured_at": "2026-03-01T10:00:00+01:00",
        "conditions": {"voltage_window_v": [2.0, 4.8], "c_rates": [0.1, 0.2], "cell": "A1"},
        "notes": "first formation",
    }

    response = post(signed_in(chemist), MEASUREMENTS, data)

    assert response.status_code == 201, response.json()
    body = response.json()
    measurement = Measurement.objects.get(sample__code=body["code"])
    assert (measurement.subject, measurement.operator) == (cell.sample, chemist)
    assert measurement.instrument == "Neware CT-4008"
    assert measurement.measured_at == datetime.datetime(2026, 3, 1, 9, 0, tzinfo=datetime.UTC)
    assert measurement.conditions == data["conditions"]
    assert (measurement.sample.kind, measurement.sample.notes) == ("measurement", "first formation")
    edge = SampleEdge.objects.get(child=measurement.sample)
    assert (edge.parent, edge.role) == (cell.sample, "measured_on")
    assert body["files"] == [] and body["analyses"]["total"] == 0
    assert body["subject"] == cell.sample.code


@pytest.mark.parametrize(
    ("data", "field", "words"),
    [
        ({"conditions": {"voltage_window_v": [4.8, 2.0]}}, "conditions.voltage_window_v",
         "above the lower"),
        ({"conditions": {"temperature_c": -300}}, "conditions.temperature_c", "-273.15"),
        ({"conditions": {"c_rates": "fast"}}, "conditions.c_rates", "list"),
        ({"subject": "CELL-1999-0001"}, "subject", "no sample"),
        ({"measurement_type": "nmr"}, "measurement_type", ""),
        ({"measured_at": "yesterday"}, "measured_at", ""),
    ],
)  # fmt: skip
def test_a_bad_measurement_field_is_named_and_nothing_is_saved(chemist, cell, data, field, words):
    body = {"subject": cell.sample.code, "measurement_type": "cycling", **data}

    response = post(signed_in(chemist), MEASUREMENTS, body)

    assert response.status_code == 400
    errors = response.json()["errors"]
    assert field in errors, errors
    assert words in " ".join(errors[field])
    assert not Measurement.objects.exists()
    assert not Sample.objects.filter(kind=SampleKind.MEASUREMENT).exists()


def test_a_measurement_is_not_the_subject_of_another(chemist):
    measured = MeasurementFactory(operator=chemist)

    response = post(
        signed_in(chemist), MEASUREMENTS,
        {"subject": measured.sample.code, "measurement_type": "eis"},
    )  # fmt: skip

    assert response.status_code == 400 and "subject" in response.json()["errors"]
    assert Measurement.objects.count() == 1


def test_a_read_token_and_a_viewer_cannot_record_a_measurement(chemist, cell):
    _, key = api_token_create(user=chemist, name="laptop", scope=TokenScope.READ, expires_at=None)
    viewer = UserFactory(username="vera", groups=["viewer"])
    data = {"subject": cell.sample.code, "measurement_type": "cycling"}

    by_token = post(Client(HTTP_AUTHORIZATION=f"Token {key}"), MEASUREMENTS, data)
    by_viewer = post(signed_in(viewer), MEASUREMENTS, data)

    assert by_token.status_code == by_viewer.status_code == 403
    assert by_token.json()["errors"]["non_field_errors"] == [READ_ONLY]
    assert "viewer" in by_viewer.json()["errors"]["non_field_errors"][0]
    assert not Measurement.objects.exists()


# --- reading ----------------------------------------------------------------------------------


def test_a_measurement_reads_with_its_files_versions_and_analyses(chemist, cell):
    seed.analysis_definitions_seed()
    measurement = MeasurementFactory(subject=cell.sample, operator=chemist, uploads=[upload()])
    definition = AnalysisDefinition.objects.get(kind="cycling_summary")
    first = measurement.files.get().raw_file
    enqueue.job_enqueue(
        definition=definition, measurement=measurement, raw_file=first, user=chemist
    )
    newer = b"time,voltage\n0,3.2\n1,3.3\n2,3.4\n"
    code = measurement.sample.code
    attached = signed_in(chemist).post(
        f"{MEASUREMENTS}{code}/files", {"files": [upload("grown.csv", newer)]}
    )
    assert attached.status_code == 201
    link = measurement.files.get(raw_file__original_name="grown.csv")
    harvested = HarvestedFile.objects.create(
        source="neware-unit3", path="grown.csv", measurement=measurement,
        placement="code", placed_at=timezone.now(),
    )  # fmt: skip
    HarvestVersion.objects.create(harvested_file=harvested, version=2, raw_file=link.raw_file)

    body = signed_in(chemist).get(f"{MEASUREMENTS}{code}").json()

    files = [(f["name"], f["sha256"], f["size_bytes"], f["version"]) for f in body["files"]]
    assert files == [
        ("cycle.csv", hashlib.sha256(CSV).hexdigest(), len(CSV), None),
        ("grown.csv", hashlib.sha256(newer).hexdigest(), len(newer), 2),
    ]
    assert all(f["read"] and f["void_reason"] == "" for f in body["files"])
    assert body["analyses"]["total"] == 1
    assert body["analyses"]["by_status"]["queued"] == 1
    assert set(body["analyses"]["by_status"]) == {
        "queued", "running", "succeeded", "failed", "cancelled"
    }  # fmt: skip
    assert body["file_count"] == 2
    assert signed_in(chemist).get(f"{MEASUREMENTS}MEAS-1999-0001").status_code == 404


def test_the_measurement_list_filters_by_type_sample_date_and_files(chemist, cell):
    powder = PowderFactory(owner=chemist)
    cycling = MeasurementFactory(subject=cell.sample, operator=chemist, uploads=[upload()])
    xrd = MeasurementFactory(
        subject=powder, operator=chemist, measurement_type=MeasurementType.XRD,
        measured_at=datetime.datetime(2025, 6, 1, 12, 0, tzinfo=datetime.UTC),
    )  # fmt: skip
    client = signed_in(chemist)

    def codes(query: str) -> list[str]:
        response = client.get(MEASUREMENTS + query)
        assert response.status_code == 200, response.json()
        return [row["code"] for row in response.json()["results"]]

    both = [xrd.sample.code, cycling.sample.code]  # newest first (by creation)
    assert codes("") == both
    assert codes("?type=xrd") == [xrd.sample.code]
    assert codes(f"?sample={cell.sample.code}") == [cycling.sample.code]
    assert codes("?measured_to=2025-12-31") == [xrd.sample.code]
    assert codes("?measured_from=2026-01-01") == [cycling.sample.code]
    assert codes("?has_files=true") == [cycling.sample.code]
    assert codes("?has_files=false") == [xrd.sample.code]
    bad = client.get(MEASUREMENTS + "?type=nmr")
    assert bad.status_code == 400 and "type" in bad.json()["errors"]


# --- correcting -------------------------------------------------------------------------------


def test_a_measurement_is_corrected_with_a_reason_in_its_audit_row(chemist, cell):
    measurement = MeasurementFactory(subject=cell.sample, operator=chemist)
    url = f"{MEASUREMENTS}{measurement.sample.code}/correct"
    data = {"conditions": {"voltage_window_v": [2.0, 4.6]}, "notes": "rerun", "reason": "typo"}

    response = post(signed_in(chemist), url, data)

    assert response.status_code == 200, response.json()
    body = response.json()
    assert {c["field"] for c in body["changes"]} == {"conditions", "notes"}
    assert body["measurement"]["conditions"] == {"voltage_window_v": [2.0, 4.6]}
    measurement.refresh_from_db()
    assert measurement.conditions == {"voltage_window_v": [2.0, 4.6]}
    assert measurement.instrument == "Neware CT-4008"  # not given: unchanged
    assert measurement.history.latest().history_change_reason == "typo"
    assert measurement.sample.notes == "rerun"


def test_a_bad_correction_is_named_and_changes_nothing(chemist, cell):
    measurement = MeasurementFactory(subject=cell.sample, operator=chemist)
    url = f"{MEASUREMENTS}{measurement.sample.code}/correct"
    client = signed_in(chemist)

    window = post(client, url, {"conditions": {"voltage_window_v": [3, 2]}, "reason": "x"})
    no_reason = post(client, url, {"instrument": "Arbin"})
    same = post(client, url, {"instrument": "Neware CT-4008", "reason": "x"})

    assert "conditions.voltage_window_v" in window.json()["errors"]
    assert list(no_reason.json()["errors"]) == ["reason"]
    assert "Nothing to correct" in same.json()["errors"]["non_field_errors"][0]
    measurement.refresh_from_db()
    assert (measurement.conditions, measurement.instrument) == ({}, "Neware CT-4008")


def test_another_chemist_may_not_correct_a_measurement_as_on_the_page(chemist, cell, other):
    measurement = MeasurementFactory(subject=cell.sample, operator=chemist)
    url = f"{MEASUREMENTS}{measurement.sample.code}/correct"

    response = post(signed_in(other), url, {"instrument": "Arbin", "reason": "mine"})

    assert response.status_code == 403
    assert "belongs to chen" in response.json()["errors"]["non_field_errors"][0]
    measurement.refresh_from_db()
    assert measurement.instrument == "Neware CT-4008"


def test_the_schema_has_the_measurement_operations_and_filters(chemist):
    paths = signed_in(chemist).get("/api/schema/?format=json").json()["paths"]

    assert {"get", "post"} <= set(paths["/api/v1/measurements/"])
    assert "get" in paths["/api/v1/measurements/{code}"]
    assert "post" in paths["/api/v1/measurements/{code}/correct"]
    names = {p["name"] for p in paths["/api/v1/measurements/"]["get"]["parameters"]}
    assert {"type", "sample", "measured_from", "measured_to", "has_files", "cursor"} <= names
