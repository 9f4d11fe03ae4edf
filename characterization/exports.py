"""What characterization adds to a sample's .eln export: the raw files of its measurements and
the numbers of its electrodes and cells (registered with lims.exports in apps.ready)."""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path

from django.conf import settings

from characterization.models import CoinCell, MeasurementFile
from lims.rocrate import CrateFile


def raw_files(sample_ids: list[int]) -> dict[int, list[CrateFile]]:
    """Raw files of the measurement samples among `sample_ids` (one query)."""
    links = MeasurementFile.objects.filter(measurement__sample_id__in=sample_ids).select_related(
        "raw_file", "measurement"
    )
    files: dict[int, list[CrateFile]] = defaultdict(list)
    for link in links:
        raw = link.raw_file
        files[link.measurement.sample_id].append(
            CrateFile(
                name=raw.original_name,
                source=Path(settings.MEDIA_ROOT) / raw.relative_path,
                sha256=raw.sha256,
                size=raw.size_bytes,
                content_type=raw.content_type or "application/octet-stream",
            )
        )
    return files


def cell_properties(sample_ids: list[int]) -> dict[int, dict[str, str]]:
    """Active mass, loading and format of the coin cells among `sample_ids` (one query)."""
    return {
        cell.sample_id: {
            "active_mass_mg": f"{cell.active_mass_mg:.4f}",
            "areal_loading_mg_per_cm2": f"{cell.areal_loading_mg_per_cm2:.4f}",
            "cell_format": cell.cell_format,
        }
        for cell in CoinCell.objects.filter(sample_id__in=sample_ids)
    }
