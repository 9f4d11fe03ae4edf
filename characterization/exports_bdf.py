"""Battery Data Format (BDF) exports of a measurement's raw file: its normalised cycling table
(the jobs layer's Parquet cache) in BDF columns, and its per-cycle table (Kiln's columns: BDF
defines none). Columns, units and sign convention: characterization.parsers.bdf."""

from __future__ import annotations

import io
import re

import pandas as pd

from characterization.jobs import cache, inputs
from characterization.jobs.errors import JobDataError
from characterization.jobs.spec import cell_context_of
from characterization.models import Measurement, RawFile
from characterization.parsers import ParseError
from characterization.parsers.bdf import cycles_for_export, to_bdf

FORMATS = {"csv": "text/csv", "parquet": "application/vnd.apache.parquet"}
PARTS = ("time_series", "cycles")


class ExportError(Exception):
    """The file has no cycling table to export; the message says why, in a sentence."""


def normalised_cycling_table(measurement: Measurement, raw: RawFile) -> pd.DataFrame:
    """The file's cycling table as its analyses read it (cached; through the instrument's
    column mapping for a generic table)."""
    mapping = inputs.column_mapping_of(measurement, raw, "cycling")
    try:
        table, _cached = cache.normalised_table(raw, table_kind="cycling", column_mapping=mapping)
    except (ParseError, JobDataError) as exc:
        raise ExportError(str(exc).replace(raw.sha256, raw.original_name)) from exc
    table.attrs.clear()
    return table


def export_frame(measurement: Measurement, raw: RawFile, part: str) -> pd.DataFrame:
    """The BDF time series ("time_series") or the per-cycle table ("cycles"), paired for the
    cell's electrode role and judged against the measurement's voltage window as the jobs are."""
    table = normalised_cycling_table(measurement, raw)
    if part == "time_series":
        return to_bdf(table)
    context = cell_context_of(measurement)
    window = context.get("voltage_window_v")
    return cycles_for_export(
        table,
        electrode=context.get("electrode", "cathode"),
        voltage_window_v=tuple(window) if window else None,
    )


def serialise(frame: pd.DataFrame, fmt: str) -> bytes:
    """CSV (a header row of labels, full float precision) or Parquet bytes."""
    if fmt == "csv":
        return frame.to_csv(index=False, lineterminator="\n").encode("utf-8")
    out = io.BytesIO()
    frame.to_parquet(out, index=False)
    return out.getvalue()


def filename(measurement: Measurement, raw: RawFile, part: str, fmt: str) -> str:
    """<measurement>_<file stem>.bdf.csv (BDF's suggested suffix) or ....cycles.<fmt>."""
    stem = raw.original_name.rsplit(".", 1)[0] or "file"
    name = f"{measurement.sample.code}_{stem}.{'bdf' if part == 'time_series' else 'cycles'}"
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", name) + f".{fmt}"
