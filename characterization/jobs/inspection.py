"""The first read of every stored file, in a worker: what it is, recorded on the raw file."""

from __future__ import annotations

from characterization import storage
from characterization.jobs.cache import normalised_table, raw_file_read_record, unpack_limits
from characterization.jobs.definitions import table_kind_of
from characterization.models import MeasurementFile, RawFile, ReadState
from characterization.parsers import NotCyclingFileError, ParseError, read_table
from characterization.parsers.verdict import verdict_of_eis, verdict_of_error, verdict_of_kind

_SETTLED = (ReadState.READ, ReadState.NOT_CYCLING, ReadState.DAMAGED)


def raw_file_inspect(*, raw_id: int) -> str:
    """Read a stored file once in a worker and record what it is (every file accounted for):
    a cycler file is parsed (its normalised table cached for the analyses), an impedance file
    read as such; anything else gets the reason it cannot be read. Files already settled are
    left alone, so a late inspection never overwrites what a job found."""
    raw = RawFile.objects.filter(pk=raw_id).first()
    if raw is None or raw.read_state in _SETTLED:
        return "skipped"
    source = storage.raw_path(raw.sha256)
    if not source.exists():
        return "missing"
    other = _other_kind(raw)
    if other is not None:  # a DSC, XRD, PITT or DEMS measurement's file: read as such
        try:
            parsed = read_table(source, other, limits=unpack_limits())
        except ParseError as exc:
            raw_file_read_record(raw=raw, verdict=verdict_of_error(exc))
            return "unreadable"
        name = parsed.metadata.get("format_name", "")
        verdict = verdict_of_kind(parsed.format, other, parsed.table, name)
        raw_file_read_record(raw=raw, verdict=verdict)
        return "not cycling"
    try:
        normalised_table(raw)
        return "read"
    except NotCyclingFileError as exc:
        other_kind = exc
    except ParseError:
        return "unreadable"  # normalised_table recorded why
    if other_kind.kind != "eis":  # a potential step, CV, ...: say what it is
        raw_file_read_record(raw=raw, verdict=verdict_of_error(other_kind))
        return "not cycling"
    try:
        parsed = read_table(source, "impedance", limits=unpack_limits())
    except ParseError:
        raw_file_read_record(raw=raw, verdict=verdict_of_error(other_kind))
        return "not cycling"
    raw_file_read_record(raw=raw, verdict=verdict_of_eis(parsed.format, parsed.table))
    return "not cycling"


def _other_kind(raw: RawFile) -> str | None:
    """The table kind the file's measurements give, when it is neither cycling nor impedance
    (those two are told apart from the file itself)."""
    types = MeasurementFile.objects.filter(raw_file=raw).values_list(
        "measurement__measurement_type", flat=True
    )
    kinds = {table_kind_of(t) for t in types} - {None, "cycling", "impedance"}
    return min(kinds) if kinds else None
