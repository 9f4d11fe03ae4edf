"""The raw files of a measurement an analysis reads, and the column mapping each is read with."""

from __future__ import annotations

from characterization import storage
from characterization.models import InstrumentMapping, Measurement, RawFile
from characterization.parsers import MappingError
from characterization.parsers.mappings_by_kind import MAPPED_FORMATS, recognised_format

# Files a chemist meant as cycler files even when their content was not recognised (a damaged
# or truncated upload): they get jobs, which fail saying what is wrong with the file.
CYCLER_EXTENSIONS = (".nda", ".ndax", ".mpr", ".mpt", ".res")
# Files no reader recognises, read through the column mapping saved for the measurement's
# instrument and the analysis' table kind (InstrumentMapping) when it has one.
TABLE_EXTENSIONS = (".csv", ".tsv", ".txt", ".xlsx")


def files_for(measurement: Measurement, table_kind: str) -> list[RawFile]:
    """The raw files of the measurement an analysis of `table_kind` reads: for cycling those of
    cycling_files(); for another kind every live file (a file its reader cannot read gets a
    job that says so)."""
    if table_kind == "cycling":
        return cycling_files(measurement)
    return live_files(measurement)


def cycling_files(measurement: Measurement) -> list[RawFile]:
    """Raw files of the measurement a cycling analysis should read: those recognised as cycler
    files, damaged ones that carry a cycler extension (their jobs say what is wrong) and, when
    the instrument has a column mapping, unrecognised tables (.csv, .tsv, .txt, .xlsx)."""
    mapped = InstrumentMapping.for_instrument(measurement.instrument) is not None
    return [
        raw
        for raw in live_files(measurement)
        if raw.detected_format
        or raw.original_name.lower().endswith(CYCLER_EXTENSIONS)
        or (mapped and is_mapped_table(raw))
    ]


def live_files(measurement: Measurement) -> list[RawFile]:
    """The measurement's files that are not void (a void file is kept, not analysed again),
    in the order they were added."""
    links = measurement.files.select_related("raw_file").filter(raw_file__voided_at__isnull=True)
    return [link.raw_file for link in links.order_by("added_at", "pk")]


def is_mapped_table(raw: RawFile) -> bool:
    """A generic table no reader recognised (read through its instrument's column mapping),
    also once a read through a mapping has recorded its format ("mapped", ...) on the file."""
    unrecognised = not raw.detected_format or raw.detected_format in MAPPED_FORMATS
    return unrecognised and raw.original_name.lower().endswith(TABLE_EXTENSIONS)


def column_mapping_of(
    measurement: Measurement, raw_file: RawFile, table_kind: str | None = "cycling"
) -> dict:
    """The snapshot of the column mapping the file is read with: its instrument's mapping for
    the table kind when the file is a generic table, {} for a file its format's reader reads.
    Upload detection knows only cycler formats, so for another kind the file's head is asked
    too (a TA or XRD text export on an instrument with a mapping keeps its own reader)."""
    if not table_kind or not is_mapped_table(raw_file):
        return {}
    mapping = InstrumentMapping.for_instrument(measurement.instrument, table_kind)
    if mapping is None:
        return {}
    if table_kind != "cycling" and _own_reader_reads(raw_file, table_kind):
        return {}
    try:
        return mapping.snapshot()
    except MappingError:  # saved before a stricter check: the job fails saying so
        kept = {"name": mapping.name, "instrument": mapping.instrument, "mapping": mapping.mapping}
        return kept if table_kind == "cycling" else {**kept, "table_kind": table_kind}


def _own_reader_reads(raw: RawFile, table_kind: str) -> bool:
    return recognised_format(storage.raw_path(raw.sha256), table_kind) is not None
