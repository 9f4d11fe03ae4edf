"""Reads for the harvester's API, the unplaced files page and the measurement page's "live"
line."""

from __future__ import annotations

import datetime
from dataclasses import dataclass

from django.db.models import Count, Max, OuterRef, Subquery
from django.utils import timezone

from characterization.models import HarvestedFile, HarvestVersion, Measurement, RawFile

LIVE_WITHIN = datetime.timedelta(hours=24)


def known_content(
    sha256: str, *, source: str = "", path: str = ""
) -> tuple[RawFile, HarvestVersion | None] | None:
    """The stored content with this SHA-256 (None: Kiln has not got it). Given a source and a
    path, only as a version of that file, which is returned with it."""
    raw = RawFile.objects.filter(sha256=sha256.lower()).first()
    if raw is None or not (source or path):
        return (raw, None) if raw is not None else None
    version = (
        HarvestVersion.objects.select_related("harvested_file__measurement__sample")
        .filter(raw_file=raw, harvested_file__source=source, harvested_file__path=path)
        .order_by("-version")
        .first()
    )
    return (raw, version) if version is not None else None


def unplaced_files() -> list[HarvestedFile]:
    """Files received but not placed on a cell, newest first, with their newest version
    (`newest`), how many were received (`version_count`) and when the last came in."""
    newest = HarvestVersion.objects.filter(harvested_file=OuterRef("pk")).order_by("-version")
    files = list(
        HarvestedFile.objects.filter(measurement__isnull=True)
        .annotate(
            version_count=Count("versions"),
            last_received=Max("versions__received_at"),
            newest_id=Subquery(newest.values("pk")[:1]),
        )
        .order_by("-last_received", "-id")
    )
    by_id = HarvestVersion.objects.select_related("raw_file").in_bulk(
        [f.newest_id for f in files if f.newest_id]
    )
    for harvested in files:
        harvested.newest = by_id.get(harvested.newest_id)
    return files


@dataclass(frozen=True)
class LiveState:
    source: str
    path: str
    version: int
    received_at: datetime.datetime


def live_state(measurement: Measurement, now: datetime.datetime | None = None) -> LiveState | None:
    """The measurement's newest harvested version when it arrived within LIVE_WITHIN (a test
    still running on its cycler), else None."""
    now = now or timezone.now()
    newest = (
        HarvestVersion.objects.select_related("harvested_file")
        .filter(harvested_file__measurement=measurement, received_at__gte=now - LIVE_WITHIN)
        .order_by("-received_at", "-id")
        .first()
    )
    if newest is None:
        return None
    harvested = newest.harvested_file
    return LiveState(harvested.source, harvested.path, newest.version, newest.received_at)
