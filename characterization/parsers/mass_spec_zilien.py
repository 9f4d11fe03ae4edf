"""Spectro Inlets Zilien .tsv files (EC-MS): the mass channels, and the potentiostat series the
same file carries. Own reader; pure Python, no Django.

Layout (ixdat's zilien reader is the reference; checked on ixdat-large-test-files
zilien_version_1/2022-04-06 16_17_23 full set.tsv, MIT, and on the values ixdat's functional
tests expect from it):
- header lines of 5 tab-separated fields: key, description, series, type, value. The first
  lines are file_format_version (missing in some version-1 files), num_header_lines,
  num_data_header_lines, data_start. Per mass series (C0M2, C4M32 ...): mass (its m/z),
  label_suffix ("O2"), and "<series>_count", the number of points of that series;
  start_time_unix (UTC seconds) in later versions;
- a series row naming each series above its first column ("pot", "Iongauge value", "C4M32",
  "EC-lab" in version 2), then a column row: each series has its own time column
  ("Time [s]", or "time/s" in the EC-lab block) followed by its value columns
  ("M32-O2 [A]", "Voltage [V]", "Current [mA]", "Pressure [mbar]");
- tab-separated rows; a series shorter than the longest is padded with "NaN".

Rules:
- a mass channel is a series named C<n>M<mass>; its m/z is the header's `mass` for that series
  (else the number after M), its name the column's ("M32-O2"), its label the label_suffix;
- time_s is Zilien's time as written: seconds from the measurement's start, whose absolute
  time is start_time_unix (UTC) when present, else the "YYYY-MM-DD HH_MM_SS" that Zilien puts
  at the start of the file name (the PC's local time, zone not recorded), else unknown;
- each channel holds the first <series>_count rows of its columns; fewer rows than any series
  declares is a truncated file (ParseError), except for the last line of a file cut while
  written;
- numbers are e-notation; a decimal comma (tab-separated cells) is read too; a missing value
  inside a channel's count drops that point (counted in the metadata).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pandas as pd

from .errors import ParseError, file_label
from .mass_spec_common import (
    Channel,
    Text,
    apply_mz_overrides,
    bad_cells,
    build_table,
    channel_metadata,
    decimal_comma_in,
    numbers,
    read_cells,
    read_text,
    refuse_unit,
    table_unit,
    unique_names,
    unit_in_brackets,
)

ZILIEN_TSV = "zilien_tsv"
_MASS_SERIES = re.compile(r"^C\d+M(\d+)$")
_TIME_HEADERS = ("time [s]", "time/s")
_FILE_STAMP = re.compile(r"(\d{4})-(\d{2})-(\d{2}) (\d{2})_(\d{2})_(\d{2})")
EC_COLUMNS: tuple[str, ...] = ("time_s", "voltage_v", "current_ma")


def looks_like_zilien_tsv(head_text: str) -> bool:
    """True for the head of a Zilien .tsv: among its first 4 lines, 5-field tab-separated
    lines with the keys num_header_lines and data_start."""
    lines = head_text.lstrip("\ufeff").splitlines()[:4]
    keys = {line.split("\t")[0] for line in lines if line.count("\t") >= 4}
    return {"num_header_lines", "data_start"} <= keys


@dataclass
class _File:
    meta: dict[tuple[str, str], str]  # (series, key) -> value as written
    spans: list[tuple[str, int, int]]  # series name, first column, end column
    columns: list[str]
    body: list[str]
    first_line: int  # 1-based number of the first data line
    text: Text
    path: Path


def read_zilien_tsv(
    path: str | Path, *, channel_mz: dict[str, float] | None = None
) -> tuple[pd.DataFrame, dict]:
    """The ion-current table (mass_spec_common.MS_COLUMNS) and metadata of a Zilien .tsv."""
    path = Path(path)
    zfile = _open(path)
    wanted = [s for s in zfile.spans if _MASS_SERIES.match(s[0]) or (s[0], "mass") in zfile.meta]
    if not wanted:
        raise ParseError(f"{file_label(path)}: a Zilien file without mass spectrometer channels.")
    cells, comma, cut = _cells(zfile, [i for _, b, e in wanted for i in range(b, min(b + 2, e))])
    for series, _, _ in zfile.spans:  # any series cut short means the file is truncated
        _count(zfile, series, len(cells), cut, path)
    channels = [_channel(zfile, span, cells, comma, cut, path) for span in wanted]
    for channel, name in zip(channels, unique_names([c.name for c in channels]), strict=True):
        channel.name = name
    apply_mz_overrides(channels, channel_mz, path)
    table = build_table(channels, path)
    start, zone, source = _start_time(zfile, path)
    meta = {
        "format": ZILIEN_TSV,
        "source_library": "kiln",
        "source_version": None,
        "measurement": "mass_spec",
        "channels": channel_metadata(channels),
        "units_seen": {"time": "s", "signal": sorted({c.unit_as_written for c in channels})},
        "start_time": start,
        "start_time_timezone": zone,
        "start_time_source": source,
        "file_format_version": zfile.meta.get(("", "file_format_version"), "1"),
        "zilien_version": zfile.meta.get(("", "Zilien version")) or None,
        "series": [name for name, _, _ in zfile.spans],
        "has_potentiostat_data": any(name in ("pot", "EC-lab") for name, _, _ in zfile.spans),
        "decimal_separator": "," if comma else ".",
        "encoding": zfile.text.encoding,
        "cut_last_line_dropped": cut,
        "header": {f"{s}:{k}" if s else k: v for (s, k), v in zfile.meta.items()},
    }
    return table, meta


def read_zilien_potentiostat(path: str | Path) -> pd.DataFrame:
    """The potentiostat series of a Zilien file as a table time_s, voltage_v, current_ma on
    the mass channels' clock (Zilien's "pot" series, or its "EC-lab" block in version 2), for
    analyse_gas_evolution(cycling_table=..., time_offset_s=0)."""
    path = Path(path)
    zfile = _open(path)
    for series, names in (
        ("pot", ("time [s]", "voltage [v]", "current [ma]")),
        ("EC-lab", ("time/s", "ewe/v", "i/ma")),
    ):
        span = next((s for s in zfile.spans if s[0] == series), None)
        if span is None:
            continue
        lowered = [c.lower() for c in zfile.columns]
        found = [next((i for i in range(span[1], span[2]) if lowered[i] == n), None) for n in names]
        if None in found:
            raise ParseError(
                f"{file_label(path)}: the '{series}' series lacks one of its time, voltage "
                "or current columns."
            )
        cells, comma, cut = _cells(zfile, found)  # type: ignore[arg-type]
        values = [numbers(cells[i], comma)[0] for i in found]  # type: ignore[index]
        count = _count(zfile, series, len(cells), cut, path)
        frame = pd.DataFrame(dict(zip(EC_COLUMNS, (v[:count] for v in values), strict=True)))
        return frame.dropna().reset_index(drop=True)
    raise ParseError(f"{file_label(path)}: a Zilien file without potentiostat data.")


# --------------------------------------------------------------------------- layout


def _open(path: Path) -> _File:
    text = read_text(path)
    if not looks_like_zilien_tsv("\n".join(text.lines[:4])):
        raise ParseError(f"{file_label(path)}: not a Zilien .tsv (no num_header_lines header).")
    meta: dict[tuple[str, str], str] = {}
    first = text.lines[:4]
    declared = {ln.split("\t")[0]: ln.split("\t")[-1].strip() for ln in first}
    try:
        n_header = int(declared["num_header_lines"])
        n_data_header = int(declared.get("num_data_header_lines", "2"))
    except ValueError as exc:
        raise ParseError(f"{file_label(path)}: its header line counts are not numbers.") from exc
    if not (4 <= n_header < len(text.lines) - n_data_header) or n_data_header < 2:
        raise ParseError(
            f"{file_label(path)}: the file ends inside its header ({len(text.lines)} lines, "
            f"{n_header} header lines declared); it is truncated."
        )
    for line in text.lines[:n_header]:
        fields = line.split("\t")
        if len(fields) >= 5:
            meta[(fields[2].strip(), fields[0].strip())] = "\t".join(fields[4:]).strip()
    series_row = text.lines[n_header].split("\t")
    columns = [c.strip() for c in text.lines[n_header + n_data_header - 1].split("\t")]
    starts = [i for i, name in enumerate(series_row) if name.strip()]
    ends = starts[1:] + [len(columns)]
    spans = [(series_row[b].strip(), b, e) for b, e in zip(starts, ends, strict=True)]
    body = text.lines[n_header + n_data_header :]
    if not body:
        raise ParseError(f"{file_label(path)}: the file ends after its column line; no data.")
    return _File(meta, spans, columns, body, n_header + n_data_header + 1, text, path)


def _cells(zfile: _File, wanted: list[int]) -> tuple[pd.DataFrame, bool, bool]:
    """The wanted columns' cells as text, the decimal mark, and whether the last line was
    cut (fewer cells than the column row, or no line break at the end of the file)."""
    body = zfile.body
    width = len(zfile.columns)
    widest = max(line.count("\t") for line in body) + 1
    if max(wanted) >= widest:
        raise ParseError(
            f"{file_label(zfile.path)}: no data line holds all the columns its column line names."
        )
    comma = decimal_comma_in(body[:20], "\t")
    cells = read_cells("\n".join(body), range(widest), sorted(set(wanted)), comma, zfile.path)
    last_fields = body[-1].split("\t")
    cut = len(last_fields) < width or not zfile.text.ends_with_newline
    if not zfile.text.ends_with_newline:  # the last written cell may end inside a number
        filled = [i for i, cell in enumerate(last_fields) if cell.strip()]
        if filled and filled[-1] in cells.columns:
            cells.iat[len(cells) - 1, list(cells.columns).index(filled[-1])] = None
    return cells, comma, cut


def _count(zfile: _File, series: str, rows: int, cut: bool, path: Path) -> int:
    """The series' declared number of points, checked against the rows the file holds."""
    declared = zfile.meta.get((series, f"{series}_count"))
    if declared is None:
        return rows
    try:
        count = int(declared)
    except ValueError as exc:
        raise ParseError(
            f"{file_label(path)}: the point count of '{series}' is unreadable."
        ) from exc
    if count > rows + (1 if cut else 0):
        raise ParseError(
            f"{file_label(path)}: series '{series}' declares {count} points but the file holds "
            f"{rows} data lines; it is truncated."
        )
    return min(count, rows)


def _channel(zfile: _File, span, cells, comma, cut, path) -> Channel:
    series, begin, end = span
    if end - begin < 2 or zfile.columns[begin].lower() not in _TIME_HEADERS:
        raise ParseError(
            f"{file_label(path)}: mass series '{series}' does not start with a time column."
        )
    header = zfile.columns[begin + 1]
    unit_text = unit_in_brackets(header) or ""
    unit = table_unit(unit_text)
    if unit is None:
        raise refuse_unit(path, unit_text or "no unit", header)
    count = _count(zfile, series, len(cells), cut, path)
    time_s, t_missing = numbers(cells[begin].iloc[:count], comma)
    values, v_missing = numbers(cells[begin + 1].iloc[:count], comma)
    for vals, miss, name in ((time_s, t_missing, "time"), (values, v_missing, header)):
        bad = bad_cells(vals, miss)
        if len(bad):
            raise ParseError(
                f"{file_label(path)}: line {zfile.first_line + int(bad[0])}: a {name} value "
                f"of series '{series}' is not a number; the file is damaged."
            )
    keep = ~(t_missing | v_missing)
    in_cut_line = cut and count == len(cells)
    missing = int((~keep[: count - 1]).sum() if in_cut_line else (~keep).sum())
    mz_text = zfile.meta.get((series, "mass"))
    match = _MASS_SERIES.match(series)
    mz = _float(mz_text) if mz_text else (float(match.group(1)) if match else float("nan"))
    return Channel(
        name=header[: header.rfind("[")].strip() if "[" in header else header,
        mz=mz,
        mz_source=f"Zilien header: mass of series {series}" if mz_text else "series name",
        unit=unit[0],
        unit_as_written=unit_text,
        time_s=time_s[keep],
        signal=values[keep] * unit[1],
        missing_values=missing,
        label=zfile.meta.get((series, "label_suffix"), ""),
    )


def _float(text: str) -> float:
    try:
        return float(text.replace(",", "."))
    except ValueError:
        return float("nan")


def _start_time(zfile: _File, path: Path) -> tuple[str | None, str | None, str | None]:
    unix = zfile.meta.get(("", "start_time_unix"))
    if unix and np.isfinite(_float(unix)):
        stamp = datetime.fromtimestamp(_float(unix), tz=UTC)
        return stamp.isoformat(), "UTC", "header start_time_unix"
    match = _FILE_STAMP.search(path.name)
    if match:
        try:
            stamp = datetime(*(int(g) for g in match.groups()))
        except ValueError:
            return None, None, None
        return stamp.isoformat(), "not recorded: the instrument PC's local time", "file name"
    return None, None, None
