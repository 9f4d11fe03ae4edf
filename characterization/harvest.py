"""Every write for the cycler PCs' harvesters (harvester/kiln_harvest.py): a file received, an
unplaced file assigned to a cell. Keyword-only services, each in one transaction.

A file is placed by the first of: the measurement its (source, path) already has; a cell's code
in its file name or a folder name (the cell must exist); the channel -> cell assignment active
at the file's time. Otherwise it is stored and listed as unplaced, never dropped. One cycling
measurement per (cell, source, path): each new content of the file is a new version on it, the
older ones voided as superseded (kept, not analysed) and their unfinished jobs cancelled.
"""

from __future__ import annotations

import datetime
import hashlib
import math
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Max, Q
from django.utils import timezone

from characterization import harvest_paths
from characterization.jobs.enqueue import job_cancel, jobs_create_for_measurement
from characterization.jobs.models import ACTIVE_STATUSES, AnalysisJob
from characterization.models import (
    ChannelAssignment,
    HarvestedFile,
    HarvestVersion,
    Measurement,
    MeasurementFile,
    MeasurementType,
    Placement,
    RawFile,
)
from characterization.services import measurement_record, raw_file_store
from lims.models import CODE_PREFIX, Sample, SampleKind
from lims.voiding import VOID_FIELDS, save_audited

SUPERSEDED = "superseded by a newer version of the same file"
LATEST_MTIME = datetime.datetime(3000, 1, 1, tzinfo=datetime.UTC).timestamp()


class HarvestStatus:
    STORED = "stored"
    DUPLICATE = "duplicate"
    UNPLACED = "unplaced"


@dataclass(frozen=True)
class HarvestOutcome:
    status: str
    measurement: Measurement | None
    sha256: str
    version: int


@dataclass(frozen=True)
class Received:
    """What a harvester says about the file it sends (checked by harvest_file_receive)."""

    source: str
    path: str
    channel: str
    sha256: str
    size_bytes: int
    mtime: float | None  # seconds since the epoch, by the PC's clock


def _fail(field: str, message: str) -> None:
    raise ValidationError({field: [message]})


def _sha256_of(upload) -> str:
    digest = hashlib.sha256()
    for chunk in upload.chunks():
        digest.update(chunk)
    return digest.hexdigest()


def _file_time(mtime: float | None) -> datetime.datetime | None:
    if mtime is None:
        return None
    if not math.isfinite(mtime) or not 0 <= mtime < LATEST_MTIME:
        _fail("mtime", f"mtime: seconds since 1970 before the year 3000, got {mtime!r}")
    return datetime.datetime.fromtimestamp(mtime, tz=datetime.UTC)


@transaction.atomic
def harvest_file_receive(*, upload, received: Received, user) -> HarvestOutcome:
    """Store one file a harvester sent and place it (see the module docstring). The content
    must hash to `received.sha256` and have `size_bytes`; content this (source, path) already
    had is a duplicate and changes nothing."""
    try:
        path = harvest_paths.path_clean(received.path)
    except harvest_paths.HarvestPathError as exc:
        _fail(exc.field, exc.message)
    file_time = _file_time(received.mtime)
    sha256 = received.sha256.lower()
    if upload.size != received.size_bytes:
        _fail("size", f"size: {received.size_bytes} bytes announced, {upload.size} received")
    if _sha256_of(upload) != sha256:
        _fail("sha256", "sha256: the file received does not hash to it (changed while sent?)")
    harvested = _locked_file(received.source.strip(), path, received.channel)
    numbers = harvested.versions.aggregate(  # one query: this content's version, the newest
        known=Max("version", filter=Q(raw_file__sha256=sha256)), newest=Max("version")
    )
    if numbers["known"] is not None:
        return HarvestOutcome(
            HarvestStatus.DUPLICATE, harvested.measurement, sha256, numbers["known"]
        )
    raw, _ = raw_file_store(upload=upload, uploaded_by=user)
    version = HarvestVersion.objects.create(
        harvested_file=harvested,
        version=(numbers["newest"] or 0) + 1,
        raw_file=raw,
        file_mtime=file_time,
        uploaded_by=user,
    )
    if received.channel and harvested.channel != received.channel:
        harvested.channel = received.channel
        harvested.save(update_fields=["channel"])
    if harvested.measurement is None:
        cell, how = harvest_place(
            source=harvested.source, path=path, channel=harvested.channel, at=file_time
        )
        if cell is None:
            return HarvestOutcome(HarvestStatus.UNPLACED, None, sha256, version.version)
        first_version = [version] if numbers["newest"] is None else None  # all there is
        _place(harvested, cell=cell, how=how, user=user, placed_by=None, versions=first_version)
    else:
        _attach_newest(harvested, user)
    return HarvestOutcome(HarvestStatus.STORED, harvested.measurement, sha256, version.version)


def _locked_file(source: str, path: str, channel: str) -> HarvestedFile:
    """The (source, path)'s row, created if missing (with the channel sent), locked until the
    transaction ends (two uploads of one file queue here: versions are numbered one after the
    other)."""
    if not source:
        _fail("source", "source: name the harvester (its PC)")
    HarvestedFile.objects.bulk_create(
        [HarvestedFile(source=source, path=path, channel=channel)], ignore_conflicts=True
    )
    return HarvestedFile.objects.select_for_update().get(source=source, path=path)


def harvest_place(
    *, source: str, path: str, channel: str, at: datetime.datetime | None
) -> tuple[Sample | None, str]:
    """(the cell, how it was found) for a file not placed yet, or (None, "")."""
    prefixes = [CODE_PREFIX[SampleKind.CELL]]
    for code in harvest_paths.code_candidates(path, prefixes):
        cells = Sample.objects.select_related("owner")  # who the measurement is recorded for
        cell = cells.filter(code=code, kind=SampleKind.CELL, voided_at=None).first()
        if cell is not None:
            return cell, Placement.CODE
    if channel:
        assignment = channel_assignment_at(source=source, channel=channel, at=at)
        if assignment is not None:
            return assignment.cell, Placement.CHANNEL
    return None, ""


def channel_assignment_at(
    *, source: str, channel: str, at: datetime.datetime | None
) -> ChannelAssignment | None:
    """The assignment of the channel at `at` (the file's time; now when the PC gave none)."""
    at = at or timezone.now()
    return (
        ChannelAssignment.objects.select_related("cell__owner")
        .filter(source=source, channel=channel, valid_from__lte=at)
        .filter(Q(valid_to__isnull=True) | Q(valid_to__gt=at))
        .order_by("-valid_from")
        .first()
    )


def _place(
    harvested: HarvestedFile,
    *,
    cell: Sample,
    how: str,
    user,
    placed_by,
    versions: list[HarvestVersion] | None = None,
) -> None:
    """Give the locked file its cycling measurement (one per cell, source and path), with
    every version received so far (`versions`, in order, when the caller has them all), the
    newest analysed."""
    if versions is None:
        versions = _versions_of(harvested)
    first = versions[0] if versions else None
    measured_at = first.file_mtime if first and first.file_mtime else timezone.now()
    channel = f", channel {harvested.channel}" if harvested.channel else ""
    harvested.measurement = measurement_record(
        subject=cell,
        measurement_type=MeasurementType.CYCLING,
        operator=cell.owner or user,  # the cell's owner runs its test; else the harvester
        instrument=harvested.source[:120],
        measured_at=measured_at,
        notes=f"Harvested from {harvested.source}{channel}: {harvested.path}",
    ).measurement
    harvested.placement = how
    harvested.placed_at = timezone.now()
    harvested.placed_by = placed_by
    harvested.save(update_fields=["measurement", "placement", "placed_at", "placed_by"])
    _attach_newest(harvested, user, versions, new_measurement=True)


def _versions_of(harvested: HarvestedFile) -> list[HarvestVersion]:
    return list(harvested.versions.select_related("raw_file").order_by("version"))


def _attach_newest(
    harvested: HarvestedFile,
    user,
    versions: list[HarvestVersion] | None = None,
    *,
    new_measurement: bool = False,
) -> None:
    """Link every version to the measurement (a measurement made in this transaction has no
    file yet), supersede all but the newest, and start the newest's automatic analyses (after
    commit)."""
    measurement = harvested.measurement
    if versions is None:
        versions = _versions_of(harvested)
    newest = versions[-1].raw_file
    for version in versions:
        if new_measurement:
            MeasurementFile.objects.create(
                measurement=measurement, raw_file=version.raw_file, added_by=user
            )
        else:
            MeasurementFile.objects.get_or_create(
                measurement=measurement, raw_file=version.raw_file, defaults={"added_by": user}
            )
        if version.raw_file.pk != newest.pk:
            _supersede(version.raw_file, measurement, user)
    jobs_create_for_measurement(measurement=measurement, user=user, new_measurement=new_measurement)


def _supersede(raw: RawFile, measurement: Measurement, user) -> None:
    """Void an older version (kept, no longer analysed) and cancel its unfinished jobs here.
    A content another measurement also has (a copy of the file elsewhere) stays live for it."""
    locked = RawFile.objects.select_for_update().get(pk=raw.pk)
    shared = locked.links.exclude(measurement=measurement).exists()
    if locked.voided_at is None and not shared:
        locked.voided_at, locked.voided_by, locked.void_reason = timezone.now(), user, SUPERSEDED
        save_audited(locked, user=user, reason=f"voided: {SUPERSEDED}", fields=list(VOID_FIELDS))
    active = AnalysisJob.objects.filter(
        measurement=measurement, raw_file=raw, status__in=ACTIVE_STATUSES
    )
    for job in active:
        job_cancel(job=job, user=user)


@transaction.atomic
def harvested_file_assign(*, harvested_file: HarvestedFile, cell: Sample, user) -> Measurement:
    """Place an unplaced file on a cell by hand (the unplaced files page): its measurement is
    made with every version received so far; later versions follow it."""
    locked = HarvestedFile.objects.select_for_update().get(pk=harvested_file.pk)
    if locked.measurement_id is not None:
        _fail("file", f"{locked} was placed already, on {locked.measurement.sample.code}.")
    if cell.kind != SampleKind.CELL or cell.voided_at is not None:
        _fail("cell", f"{cell.code} is not a cell in use: assign the file to a cell.")
    _place(locked, cell=cell, how=Placement.ASSIGNED, user=user, placed_by=user)
    return locked.measurement
