"""What Kiln made of each raw file of a measurement, in a sentence (the measurement page's file
table): never a bare dash, and where a column mapping would read an unrecognised table."""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import urlencode

from django.urls import reverse

from characterization.jobs.definitions import table_kind_of
from characterization.models import InstrumentMapping, Measurement, RawFile, ReadState

UNSETTLED_STATES = (ReadState.PENDING, ReadState.RECOGNISED)
# Readers name the stored file (its SHA-256) before the reason: the page shows the name beside it.
_STORED_NAME = re.compile(r"(?:(?<=: )|^)[0-9a-f]{64}: ")


@dataclass(frozen=True)
class FileRow:
    link: object  # MeasurementFile
    raw: RawFile
    state: str
    state_label: str
    sentence: str
    mapping: InstrumentMapping | None  # the instrument's column mapping, if it has one
    mapping_add_url: str  # where a lab manager creates one ("" when not needed)
    data_label: str = "cycling data"  # what a mapping would read the table as

    @property
    def unsettled(self) -> bool:
        return self.state in UNSETTLED_STATES


@dataclass(frozen=True)
class FileTable:
    rows: list[FileRow]
    void_count: int = 0  # void files left out of the rows

    def __iter__(self):
        return iter(self.rows)

    def __len__(self) -> int:
        return len(self.rows)

    @property
    def unsettled(self) -> bool:
        """A file is still being looked at: the page polls until the worker has read it."""
        return any(row.unsettled for row in self.rows)


def file_rows(measurement: Measurement, *, include_void: bool = False) -> FileTable:
    """Each raw file of the measurement with what Kiln made of it, in a sentence: never a bare
    dash (a file with no message yet says it has not been looked at). Void files are counted,
    and listed only when asked."""
    links = list(measurement.files.select_related("raw_file__voided_by", "added_by"))
    shown = [link for link in links if include_void or link.raw_file.voided_at is None]
    table_kind = table_kind_of(measurement.measurement_type) or "cycling"
    mapping = InstrumentMapping.for_instrument(measurement.instrument, table_kind)
    rows = [_file_row(link, measurement, mapping, table_kind) for link in shown]
    return FileTable(rows, void_count=sum(1 for link in links if link.raw_file.voided_at))


UNREADABLE_STATES = (ReadState.NOT_CYCLING, ReadState.UNRECOGNISED, ReadState.DAMAGED)


def read_sentence(raw: RawFile) -> str:
    """What Kiln made of the file, in a sentence (without the stored name readers put first)."""
    sentence = _STORED_NAME.sub("", raw.read_message or "").strip()
    return sentence or _default_sentence(raw, raw.read_state or ReadState.PENDING)


# How the prompt to create a column mapping names the data of each table kind.
DATA_LABELS = {
    "cycling": "cycling data",
    "impedance": "impedance data (frequency, Re Z, Im Z)",
    "potential_steps": "potential-step data (time, potential, current)",
    "thermal": "DSC data (time, temperature, heat flow)",
    "ion_current": "mass-spectrometer data (time and ion currents)",
    "diffraction": "diffraction data (2θ, intensity)",
}


def _file_row(
    link, measurement: Measurement, mapping: InstrumentMapping | None, table_kind: str
) -> FileRow:
    raw = link.raw_file
    state = raw.read_state or ReadState.PENDING
    sentence = read_sentence(raw)
    add_url = ""
    if state == ReadState.UNRECOGNISED and mapping is None:
        add_url = reverse("admin:characterization_instrumentmapping_add")
        instrument = (measurement.instrument or "").strip()
        if instrument:
            add_url += "?" + urlencode(
                {"instrument": instrument, "name": f"{instrument} export", "table_kind": table_kind}
            )
    return FileRow(
        link=link,
        raw=raw,
        state=state,
        state_label=ReadState(state).label,
        sentence=sentence,
        mapping=mapping if state == ReadState.UNRECOGNISED else None,
        mapping_add_url=add_url,
        data_label=DATA_LABELS.get(table_kind, "data"),
    )


def _default_sentence(raw: RawFile, state: str) -> str:
    if state == ReadState.RECOGNISED and raw.detected_format:
        return f"recognised as {raw.detected_format}; not read yet"
    if state in UNSETTLED_STATES:
        return "not looked at yet: a worker reads every uploaded file"
    return ReadState(state).label.lower()
