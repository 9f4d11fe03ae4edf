"""The normalised table of a raw file, parsed once and cached as Parquet (by SHA-256, parser
version, table kind and column mapping) for every analysis of the same content.

The reader's metadata (ParsedFile.metadata: a DSC file's sample mass ...) is kept with the
table, in its attrs under FILE_METADATA, so an analysis gets it from the cache too.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
import tempfile
from collections.abc import Mapping
from pathlib import Path

import pandas as pd
from django.conf import settings

from characterization import storage
from characterization.jobs.errors import TRANSIENT_ERRORS, JobDataError
from characterization.models import RawFile
from characterization.parsers import (
    MappingError,
    NotCyclingFileError,
    ParsedFile,
    ParseError,
    UnpackLimits,
    read_table,
)
from characterization.parsers.mappings_by_kind import mapping_of, read_mapped_table
from characterization.parsers.reader import PARSER_VERSION
from characterization.parsers.verdict import (
    FileVerdict,
    verdict_of_eis,
    verdict_of_error,
    verdict_of_kind,
    verdict_of_table,
)

logger = logging.getLogger(__name__)

PARQUET_DIR = "parquet"
FILE_METADATA = "kiln_file_metadata"  # table.attrs key of the reader's metadata


def parquet_path(
    sha256: str, column_mapping: Mapping | None = None, table_kind: str = "cycling"
) -> Path:
    """MEDIA_ROOT/parquet/<sha256>[.<table kind>].p<parser version>[.m<mapping hash>].parquet:
    a parser change rebuilds it, and a table of another kind, or read through another column
    mapping, is another table. The cycling table's name carries no kind (the name it had before
    there were other kinds: the tables cached then stay valid)."""
    storage.raw_path(sha256)  # validates the digest
    kind = "" if table_kind == "cycling" else f".{table_kind}"
    suffix = f".m{_mapping_hash(column_mapping)}" if column_mapping else ""
    name = f"{sha256}{kind}.p{PARSER_VERSION}{suffix}.parquet"
    return Path(settings.MEDIA_ROOT) / PARQUET_DIR / name


def _mapping_hash(column_mapping: Mapping) -> str:
    canonical = json.dumps(column_mapping.get("mapping", {}), sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()[:16]


def normalised_table(
    raw: RawFile, *, table_kind: str = "cycling", column_mapping: Mapping | None = None
) -> tuple[pd.DataFrame, bool]:
    """(table, from cache): the Parquet cache of the file's table of `table_kind`, else the
    parser (and the cache is written, atomically, for the next analysis of the same content).
    With a column mapping snapshot of that table kind (its "table_kind", cycling when it names
    none) the file is read through the mapping (mappings_by_kind.read_mapped_table); a
    snapshot of another kind is not used. The reader's metadata is in
    table.attrs[FILE_METADATA]."""
    column_mapping = _mapping_of_kind(column_mapping, table_kind)
    cache = parquet_path(raw.sha256, column_mapping, table_kind)
    cached = _read_cache(cache)
    if cached is not None:
        return cached, True
    # The analyses of one upload start together: one parses, the others wait and read its cache.
    with storage.lock_file(cache.with_name(f".{cache.name}.lock")):
        cached = _read_cache(cache)
        if cached is not None:
            return cached, True
        return _parse_to_cache(raw, cache, table_kind, column_mapping), False


def table_path(
    raw: RawFile, *, table_kind: str = "cycling", column_mapping: Mapping | None = None
) -> Path:
    """Where normalised_table keeps the file's table of `table_kind`."""
    return parquet_path(raw.sha256, _mapping_of_kind(column_mapping, table_kind), table_kind)


def _mapping_of_kind(column_mapping: Mapping | None, table_kind: str) -> Mapping | None:
    """The mapping snapshot if it is one of `table_kind` (cycling when it names none); a
    snapshot of another kind is not used."""
    if column_mapping and column_mapping.get("table_kind", "cycling") != table_kind:
        return None
    return column_mapping


def _read_cache(cache: Path) -> pd.DataFrame | None:
    if not cache.exists():
        return None
    try:
        table = pd.read_parquet(cache)
    except Exception as exc:  # a damaged cache is rebuilt, never trusted
        logger.warning("rebuilding damaged table cache %s: %s", cache, exc)
        cache.unlink(missing_ok=True)
        return None
    table.attrs.setdefault(FILE_METADATA, {})  # a table cached before the metadata was kept
    return table


def _parse_to_cache(
    raw: RawFile, cache: Path, table_kind: str, column_mapping: Mapping | None
) -> pd.DataFrame:
    source = storage.raw_path(raw.sha256)
    if not source.exists():
        raise JobDataError(
            f"The stored content of {raw.original_name} (sha256 {raw.short_sha}…) is missing "
            "from the file store; ask the lab manager to restore it from the backup."
        )
    try:
        parsed, verdict = _parse(source, table_kind, column_mapping)
    except NotCyclingFileError:
        raise  # a valid file of another kind: its inspection records what it is
    except ParseError as exc:
        raw_file_read_record(raw=raw, verdict=verdict_of_error(exc))
        raise
    table = parsed.table
    table.attrs[FILE_METADATA] = _json_metadata(parsed.metadata)
    write_atomically(cache, lambda path: table.to_parquet(path, index=False))
    if verdict is not None:
        raw_file_read_record(raw=raw, verdict=verdict)
    return table


def _parse(
    source: Path, table_kind: str, column_mapping: Mapping | None
) -> tuple[ParsedFile, FileVerdict | None]:
    """The parsed file and what to record of it (None: leave the inspection's verdict)."""
    if column_mapping:
        mapping = _column_mapping(column_mapping, table_kind)
        parsed = read_mapped_table(source, table_kind, mapping, limits=unpack_limits())
        if table_kind == "cycling":
            return parsed, verdict_of_table(parsed.format, parsed.table, mapping=mapping.name)
        name = parsed.metadata["format_name"]
        return parsed, verdict_of_kind(parsed.format, table_kind, parsed.table, name)
    parsed = read_table(source, table_kind, limits=unpack_limits())
    if table_kind == "cycling":
        return parsed, verdict_of_table(parsed.format, parsed.table)
    if table_kind == "impedance":
        return parsed, verdict_of_eis(parsed.format, parsed.table)
    name = parsed.metadata.get("format_name", "")
    return parsed, verdict_of_kind(parsed.format, table_kind, parsed.table, name)


def _json_metadata(metadata: Mapping) -> dict:
    """The metadata as plain JSON (Parquet keeps attrs as JSON): anything else as text."""
    return json.loads(json.dumps(dict(metadata), default=str))


def raw_file_read_record(*, raw: RawFile, verdict: FileVerdict) -> None:
    """Record what Kiln made of a file (a conditional UPDATE: no history row, no lock)."""
    with contextlib.suppress(*TRANSIENT_ERRORS):
        RawFile.objects.filter(pk=raw.pk).update(
            read_state=verdict.state,
            read_message=verdict.message[:2000],
            **({"detected_format": verdict.format} if verdict.format else {}),
        )


def unpack_limits() -> UnpackLimits:
    """How far Kiln unpacks a zip-based upload (settings KILN_UNPACK_MAX_MB, _RATIO)."""
    return UnpackLimits(
        max_mb=settings.KILN_UNPACK_MAX_MB, max_ratio=settings.KILN_UNPACK_MAX_RATIO
    )


def _column_mapping(snapshot: Mapping, table_kind: str):
    """The snapshot's mapping of the table kind (ColumnMapping, ImpedanceColumnMapping ...)."""
    try:
        return mapping_of(table_kind, dict(snapshot["mapping"]), name=snapshot["name"])
    except (MappingError, KeyError, TypeError) as exc:
        raise JobDataError(
            f"The column mapping “{snapshot.get('name', '?')}” cannot read files: {exc}. "
            "Ask the lab manager to correct it in the admin, then re-run the job."
        ) from None


def write_atomically(final: Path, write) -> None:
    """`write(path)` to a temporary file beside `final`, then renamed over it: a reader sees
    the old file or the whole new one, never a part."""
    final.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(dir=final.parent, prefix=".tmp-", suffix=final.suffix)
    os.close(fd)
    try:
        write(tmp_name)
        os.replace(tmp_name, final)
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp_name)
