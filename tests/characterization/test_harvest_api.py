"""The harvester's side of Kiln (issue 11 §2): POST /api/v1/harvest/files places a cycler PC's
file on a cell (its code in the name or a folder, else the channel assignment at the file's
time, else listed as unplaced), keeps every version of a growing file and analyses the newest;
GET /api/v1/harvest/files/<sha256> says whether Kiln has a content."""

from __future__ import annotations

import datetime
import hashlib

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from characterization.harvest import SUPERSEDED
from characterization.harvest_paths import code_candidates, path_clean
from characterization.jobs import seed
from characterization.jobs.models import AnalysisJob, JobStatus
from characterization.models import (
    ChannelAssignment,
    HarvestedFile,
    HarvestVersion,
    MeasurementFile,
    RawFile,
)
from lims.api_permissions import READ_ONLY
from lims.token_models import TokenScope
from lims.token_services import api_token_create
from tests.characterization.factories import CellFactory
from tests.lims.factories import UserFactory

FILES = "/api/v1/harvest/files"
PC = "neware-unit3"
T0 = datetime.datetime(2026, 12, 3, 9, 0, tzinfo=datetime.UTC)
NDAX = b"PK\x03\x04 a Neware file still being written " * 20  # damaged: its jobs fail later


@pytest.fixture
def harvester(db):
    """The account of the cycler PCs (a chemist) and its upload-only token's client."""
    seed.analysis_definitions_seed()
    user = UserFactory(username="neware-pc", groups=["chemist"])
    _, key = api_token_create(user=user, name=PC, scope=TokenScope.UPLOAD, expires_at=None)
    return Client(HTTP_AUTHORIZATION=f"Bearer {key}")


def send(client: Client, path: str, content: bytes = NDAX, *, when=T0, **fields):
    name = path.replace("\\", "/").rsplit("/", 1)[-1]
    data = {
        "file": SimpleUploadedFile(name, content),
        "source": PC,
        "path": path,
        "sha256": hashlib.sha256(content).hexdigest(),
        "size": len(content),
        "mtime": when.timestamp(),
        **fields,
    }
    return client.post(FILES, data)


def versions(harvested: HarvestedFile) -> list[tuple[int, str]]:
    return [(v.version, v.raw_file.sha256) for v in harvested.versions.order_by("version")]


def sha(content: bytes) -> str:
    return hashlib.sha256(content).hexdigest()


# --- where a file belongs, from its path (pure) ------------------------------------------------


def test_a_path_is_cleaned_to_slashes_between_its_parts():
    assert path_clean("\\NewareData\\\\unit3-ch5\\run.ndax ") == "NewareData/unit3-ch5/run.ndax"
    with pytest.raises(ValueError, match="path"):
        path_clean(" / ")


def test_the_codes_of_the_file_name_come_before_those_of_its_folders_innermost_first():
    path = "CELL-2026-0001 batch/cell-2026-0002/CELL-2026-0003_0.1C.ndax"
    assert code_candidates(path, ["CELL"]) == ["CELL-2026-0003", "CELL-2026-0002", "CELL-2026-0001"]
    assert code_candidates("XCELL-2026-00011/CELL-2026-00012x.ndax", ["CELL"]) == []


# --- placing a file ------------------------------------------------------------------------------


def test_a_file_named_with_a_cell_code_becomes_a_cycling_measurement_of_that_cell(harvester):
    cell = CellFactory()
    path = f"NewareData/unit3-ch5/{cell.sample.code}_0.1C.ndax"

    response = send(harvester, path, channel="unit3-ch5")

    assert response.status_code == 201, response.content
    harvested = HarvestedFile.objects.get()
    measurement = harvested.measurement
    assert response.json() == {
        "status": "stored", "measurement": measurement.sample.code, "sha256": sha(NDAX),
        "version": 1,
    }  # fmt: skip
    assert (harvested.source, harvested.path, harvested.channel, harvested.placement) == (
        PC, path, "unit3-ch5", "code"
    )  # fmt: skip
    assert (measurement.subject, measurement.measurement_type, measurement.instrument) == (
        cell.sample, "cycling", PC
    )  # fmt: skip
    assert measurement.measured_at == T0  # the file's time
    assert [link.raw_file.sha256 for link in measurement.files.all()] == [sha(NDAX)]
    assert measurement.analysis_jobs.filter(status=JobStatus.QUEUED).count() == 4


def test_a_cell_code_in_a_folder_name_places_the_file(harvester):
    cell = CellFactory()

    response = send(harvester, f"Data\\{cell.sample.code}\\run 7.ndax")

    assert response.status_code == 201, response.content
    harvested = HarvestedFile.objects.get()
    assert (harvested.path, harvested.placement) == (f"Data/{cell.sample.code}/run 7.ndax", "code")
    assert harvested.measurement.subject == cell.sample


def test_a_code_of_no_existing_cell_is_passed_over_for_the_next(harvester):
    cell = CellFactory()

    send(harvester, f"{cell.sample.code}/CELL-1999-9999_typo.ndax")

    assert HarvestedFile.objects.get().measurement.subject == cell.sample


def test_the_channel_assignment_at_the_files_time_places_a_file_without_a_code(harvester):
    before, after = CellFactory(), CellFactory()
    switch = T0 + datetime.timedelta(days=1)
    ChannelAssignment.objects.create(
        source=PC, channel="unit3-ch5", cell=before.sample, valid_from=T0, valid_to=switch
    )
    ChannelAssignment.objects.create(
        source=PC, channel="unit3-ch5", cell=after.sample, valid_from=switch
    )

    early = send(harvester, "data/first.ndax", when=T0 + datetime.timedelta(hours=2),
                 channel="unit3-ch5")  # fmt: skip
    late = send(harvester, "data/second.ndax", b"other bytes", when=switch, channel="unit3-ch5")
    elsewhere = send(harvester, "data/third.ndax", b"third", channel="unit1-ch1")

    assert (early.status_code, late.status_code, elsewhere.status_code) == (201, 201, 201)
    placed = {f.path: (f.placement, f.measurement) for f in HarvestedFile.objects.all()}
    assert placed["data/first.ndax"][0] == "channel"
    assert placed["data/first.ndax"][1].subject == before.sample
    assert placed["data/second.ndax"][1].subject == after.sample
    assert placed["data/third.ndax"] == ("", None)
    assert elsewhere.json()["status"] == "unplaced"


def test_overlapping_assignments_of_a_channel_are_refused(db):
    cell = CellFactory()
    ChannelAssignment.objects.create(source=PC, channel="ch5", cell=cell.sample, valid_from=T0)
    clash = ChannelAssignment(
        source=PC, channel="ch5", cell=CellFactory().sample, valid_from=T0 + datetime.timedelta(1)
    )

    with pytest.raises(ValidationError, match=f"holds {cell.sample.code}"):
        clash.full_clean()


# --- unplaced files ------------------------------------------------------------------------------


def test_a_file_kiln_cannot_place_is_stored_listed_and_assigned_by_hand(harvester, chemist):
    path = "NewareData/unit3-ch5/test 12.ndax"
    response = send(harvester, path, channel="unit3-ch5")
    grown = send(harvester, path, NDAX + b"more", channel="unit3-ch5")

    assert response.status_code == 201
    assert response.json() == {
        "status": "unplaced", "measurement": None, "sha256": sha(NDAX), "version": 1
    }  # fmt: skip
    assert grown.json()["version"] == 2
    assert RawFile.objects.count() == 2 and not MeasurementFile.objects.exists()
    page = Client()
    page.force_login(chemist)
    listed = page.get(reverse("measurements:unplaced"))
    assert f'data-file="{HarvestedFile.objects.get().pk}"' in listed.content.decode()
    assert "test 12.ndax" in listed.content.decode() and 'name="cell"' in listed.content.decode()

    cell = CellFactory()
    harvested = HarvestedFile.objects.get()
    assigned = page.post(
        reverse("measurements:unplaced-assign"),
        {"file": harvested.pk, "cell": cell.sample.code.lower()},
    )

    harvested.refresh_from_db()
    measurement = harvested.measurement
    assert assigned.status_code == 302 and assigned.url.endswith(f"/{measurement.sample.code}/")
    assert (harvested.placement, harvested.placed_by, measurement.subject) == (
        "assigned", chemist, cell.sample
    )  # fmt: skip
    assert measurement.files.count() == 2  # both versions, the older void
    assert list(RawFile.objects.filter(voided_at__isnull=False).values_list("sha256", flat=True))
    assert {j.raw_file.sha256 for j in measurement.analysis_jobs.all()} == {sha(NDAX + b"more")}
    later = send(harvester, path, NDAX + b"more still")
    assert later.json()["measurement"] == measurement.sample.code  # later versions follow
    listed_after = page.get(reverse("measurements:unplaced")).content.decode()
    assert f'data-file="{harvested.pk}"' not in listed_after


def test_assigning_needs_a_cell_code_and_a_viewer_may_not_assign(harvester, chemist):
    send(harvester, "loose.ndax")
    harvested = HarvestedFile.objects.get()
    page = Client()
    page.force_login(chemist)
    viewer = Client()
    viewer.force_login(UserFactory(username="vera", groups=["viewer"]))

    bad = page.post(reverse("measurements:unplaced-assign"), {"file": harvested.pk, "cell": "X"})
    refused = viewer.post(
        reverse("measurements:unplaced-assign"),
        {"file": harvested.pk, "cell": CellFactory().sample.code},
    )

    assert bad.status_code == 200 and "No cell X" in bad.content.decode()
    assert refused.status_code == 403
    assert HarvestedFile.objects.get().measurement is None


# --- versions, duplicates, what the harvester asks ----------------------------------------------


def test_the_same_content_again_is_a_duplicate_and_changes_nothing(harvester):
    path = f"NewareData/{CellFactory().sample.code}.ndax"
    first = send(harvester, path)
    counts = [m.objects.count() for m in (RawFile, HarvestVersion, MeasurementFile, AnalysisJob)]

    again = send(harvester, path)

    assert again.status_code == 200
    assert again.json() == {**first.json(), "status": "duplicate"}
    assert [
        m.objects.count() for m in (RawFile, HarvestVersion, MeasurementFile, AnalysisJob)
    ] == counts


def test_a_grown_file_is_a_new_version_that_supersedes_the_old_one_and_only_it_is_analysed(
    harvester,
):
    path = f"NewareData/{CellFactory().sample.code}_0.1C.ndax"
    grown = NDAX + b" and the next cycles"
    send(harvester, path)

    response = send(harvester, path, grown, when=T0 + datetime.timedelta(minutes=10))

    assert response.status_code == 201
    harvested = HarvestedFile.objects.get()
    assert response.json()["version"] == 2
    assert versions(harvested) == [(1, sha(NDAX)), (2, sha(grown))]
    old, new = (RawFile.objects.get(sha256=sha(c)) for c in (NDAX, grown))
    assert (old.void_reason, new.voided_at) == (SUPERSEDED, None)
    jobs = harvested.measurement.analysis_jobs.all()
    assert {(j.raw_file_id, j.status) for j in jobs} == {
        (old.pk, JobStatus.CANCELLED), (new.pk, JobStatus.QUEUED)
    }  # fmt: skip
    assert harvested.measurement.files.count() == 2  # the older version kept


def test_the_harvester_asks_whether_kiln_has_a_content(harvester):
    path = f"NewareData/{CellFactory().sample.code}.ndax"
    code = send(harvester, path).json()["measurement"]
    url = f"{FILES}/{sha(NDAX)}"

    as_version = harvester.get(url, {"source": PC, "path": path})
    anywhere = harvester.get(url)
    other_file = harvester.get(url, {"source": PC, "path": "NewareData/other.ndax"})
    unknown = harvester.get(f"{FILES}/{sha(b'never sent')}")
    not_a_hash = harvester.get(f"{FILES}/abc")

    assert as_version.status_code == 200
    assert as_version.json() == {
        "sha256": sha(NDAX), "size_bytes": len(NDAX), "version": 1, "measurement": code
    }  # fmt: skip
    assert anywhere.json()["version"] is None
    assert [r.status_code for r in (other_file, unknown, not_a_hash)] == [404, 404, 404]


def test_a_sha256_or_size_that_does_not_match_the_content_is_refused_and_nothing_stored(
    harvester,
):
    path = f"{CellFactory().sample.code}.ndax"

    wrong_hash = send(harvester, path, sha256=sha(b"something else"))
    wrong_size = send(harvester, path, size=len(NDAX) + 1)

    assert wrong_hash.status_code == 400
    assert "does not hash to it" in wrong_hash.json()["errors"]["sha256"][0]
    assert wrong_size.status_code == 400 and "size" in wrong_size.json()["errors"]
    assert not RawFile.objects.exists() and not HarvestedFile.objects.exists()


def test_an_upload_token_may_harvest_and_a_read_token_may_not(harvester, chemist):
    _, key = api_token_create(user=chemist, name="r", scope=TokenScope.READ, expires_at=None)
    reader = Client(HTTP_AUTHORIZATION=f"Token {key}")
    path = f"{CellFactory().sample.code}.ndax"

    refused = send(reader, path)
    allowed = send(harvester, path)
    asked = harvester.get(f"{FILES}/{sha(NDAX)}")
    listing = harvester.get("/api/v1/samples/")

    assert refused.status_code == 403
    assert refused.json()["errors"]["non_field_errors"] == [READ_ONLY]
    assert (allowed.status_code, asked.status_code, listing.status_code) == (201, 200, 403)


# --- the measurement page -------------------------------------------------------------------------


def test_the_measurement_page_says_live_while_versions_arrive(harvester, chemist):
    code = send(harvester, f"{CellFactory().sample.code}.ndax").json()["measurement"]
    page = Client()
    page.force_login(chemist)
    url = reverse("measurements:detail", args=[code])

    live = page.get(url).content.decode()
    HarvestVersion.objects.update(received_at=timezone.now() - datetime.timedelta(hours=25))
    quiet = page.get(url).content.decode()

    assert 'data-testid="harvest-live"' in live and "last updated" in live
    assert 'data-testid="harvest-live"' not in quiet
