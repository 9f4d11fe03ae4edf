"""Neware .ndax metadata in Kiln: read once when the file is stored, checked against the cell.

`metadata_for_stored` fills RawFile.instrument_metadata when a file is stored (services.
_raw_file_row): a .ndax gets what parsers.ndax_metadata reads (active mass, channel, start time,
step program); any other file an empty dict. It never raises: a file whose metadata cannot be
read is still stored, with the reason among the metadata's warnings.

`ndax_panels` gives the measurement page one panel per .ndax file, with a warning when the
file's active mass differs from the coin cell's by more than MASS_TOLERANCE_PERCENT or
MASS_TOLERANCE_MG, whichever is larger (2 % of a 10 mg electrode is 0.2 mg; under 2.5 mg the
0.05 mg floor, about a balance's repeatability on a disc, applies). Capacities per gram always
use the cell's mass, which the jobs take from the cell record.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

from characterization.parsers.detect import NEWARE_NDAX
from characterization.parsers.ndax_metadata import NdaxMetadata, read_ndax_metadata

logger = logging.getLogger(__name__)

KIND = "neware_ndax"
MASS_TOLERANCE_PERCENT = 2.0
MASS_TOLERANCE_MG = 0.05


def metadata_for_stored(path: str | Path, detected_format: str) -> dict:
    """What to store in RawFile.instrument_metadata for a newly stored file."""
    if detected_format != NEWARE_NDAX:
        return {}
    from characterization.jobs.cache import unpack_limits

    try:
        metadata = read_ndax_metadata(path, limits=unpack_limits())
    except MemoryError:
        raise
    except Exception as exc:  # noqa: BLE001 - the upload goes on without the metadata
        logger.warning("Neware metadata of %s not read", path, exc_info=True)
        metadata = NdaxMetadata(warnings=[f"the metadata cannot be read ({type(exc).__name__})"])
    return {"kind": KIND, **metadata.to_json()}


def stored_metadata(raw) -> NdaxMetadata | None:
    """The stored .ndax metadata of a raw file (None for any other file)."""
    data = raw.instrument_metadata or {}
    if data.get("kind") != KIND:
        return None
    try:
        return NdaxMetadata.from_json(data)
    except (TypeError, ValueError):
        return NdaxMetadata(warnings=["the stored metadata cannot be read"])


def mass_differs(file_mg: float | None, cell_mg: float | None) -> bool:
    """True when both masses are known and differ beyond the tolerance."""
    if not file_mg or not cell_mg:
        return False
    tolerance = max(cell_mg * MASS_TOLERANCE_PERCENT / 100, MASS_TOLERANCE_MG)
    return abs(file_mg - cell_mg) > tolerance + 1e-9


def mass_warning(file_mg: float | None, cell) -> str:
    """The page's warning sentence, or "" when the masses agree (or one is not known)."""
    if cell is None or not mass_differs(file_mg, cell.active_mass_mg):
        return ""
    return (
        f"the Neware file says {file_mg:.2f} mg active mass, cell {cell.sample.code} has "
        f"{cell.active_mass_mg:.2f} mg: capacities per gram use the cell's"
    )


@dataclass(frozen=True)
class NdaxPanel:
    raw: object  # RawFile
    metadata: NdaxMetadata
    mass_warning: str


def ndax_panels(file_rows, cell) -> list[NdaxPanel]:
    """One panel per (not void) .ndax file of the measurement's file table."""
    panels = []
    for row in file_rows:
        metadata = stored_metadata(row.raw)
        if metadata is not None:
            panels.append(NdaxPanel(row.raw, metadata, mass_warning(metadata.active_mass_mg, cell)))
    return panels
