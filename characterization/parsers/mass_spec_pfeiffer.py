"""Pfeiffer Vacuum QUADERA ASCII exports (.asc, exported from a .qmp/.qmo measurement): MID
(multiple ion detection) channels against time. Own reader; pure Python, no Django.

Layout, checked on a real export (datalab-org/datalab, example_data/TGA-MS/20221128 134958 TGA
MS Megan.asc, MIT: a TGA-MS run) and on the layouts datalab's parse_mt_mass_spec_ascii and
spectrochempy's read_quadera accept:
- header lines "Key<TAB>value": Sourcefile, Exporttime, Start Time, End Time (blank lines
  between). Dates follow the PC's locale: 28/11/2022 13:51:12 in the example, 11/28/2022
  1:51:12.250 PM in US exports, 28.11.2022 in German ones; the zone is never written;
- a channel-name row: each name ("14", "Water", "Oxygen", "Nitrogen/Carbonmonoxide") stands
  in the columns of its channel, the others are empty;
- a column row repeating, per channel, "Time" (absolute date-time), "Time Relative [s]" and
  one value column: "Ion Current [A]" or "Partial Pressure [mbar]" (other units as chosen in
  QUADERA: nA, pA, Pa, Torr; concentrations in % cannot be used and are refused);
- one line per MID cycle, each channel's own three cells (the channels are measured one
  after the other, so each has its own time); Windows exponents ("1.083137e-011"); a trailing
  tab; CRLF; cp1252 when a name holds a non-ASCII character.

Rules:
- time_s is the channel's "Time Relative" (seconds from the header's Start Time, which is the
  first channel's first point); without that column, the absolute Time minus the Start Time;
- the m/z of a channel comes from its name: a number ("14", "M32", "m/z 44") or a gas name or
  formula whose main ion is assumed (Oxygen -> 32, Carbondioxide -> 44, Water -> 18; see
  mass_spec_common.GAS_MAIN_ION); metadata says which, and `channel_mz` can set it;
- the cells of a channel are tab-separated, so a comma is a decimal comma;
- a missing value (empty, "---", NaN) drops that point of that channel only (counted in the
  channel's metadata); a cell that is not a number is damage (ParseError naming the line);
- the last line of a file cut while written is incomplete: its channels with all cells are
  kept; when the file does not end with a line break its last cell may be cut inside a
  number, so it is dropped too (cut_last_line_dropped in the metadata).
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from .errors import ParseError, file_label
from .mass_spec_common import (
    ORDER_NAMES,
    TIME_UNITS,
    Channel,
    Text,
    apply_mz_overrides,
    bad_cells,
    build_table,
    channel_metadata,
    date_fields,
    date_order,
    decimal_comma_in,
    mz_of_name,
    numbers,
    parse_date_time,
    read_cells,
    read_text,
    refuse_unit,
    seconds_since,
    table_unit,
    unique_names,
    unit_in_brackets,
)

PFEIFFER_ASC = "pfeiffer_quadera_asc"
_HEADER_KEYS = ("Sourcefile", "Exporttime", "Start Time", "End Time")
_SCAN = 60  # lines searched for the column row
_VALUE_HEADERS = ("ion current [", "partial pressure [", "concentration [")


def looks_like_pfeiffer_asc(head_text: str) -> bool:
    """True for the head of a QUADERA ASCII export: a first line "Sourcefile<TAB>...", or a
    tab-separated column row with a "Time Relative [..]" cell, or starting with "Time" and
    holding an "Ion Current [..]", "Partial Pressure [..]" or "Concentration [..]" cell."""
    lines = head_text.lstrip("\ufeff").splitlines()[:_SCAN]
    if lines and lines[0].startswith("Sourcefile\t"):
        return True
    return any(_is_column_row(line.split("\t")) for line in lines)


def read_pfeiffer_asc(
    path: str | Path, *, channel_mz: dict[str, float] | None = None
) -> tuple[pd.DataFrame, dict]:
    """The ion-current table (mass_spec_common.MS_COLUMNS) and metadata of a QUADERA .asc."""
    path = Path(path)
    text = read_text(path)
    at = _column_row_index(text.lines, path)
    columns = [c.strip() for c in text.lines[at].split("\t")]
    names_row = _names_row(text.lines, at)
    header = _header(text.lines[: at - (1 if names_row is not None else 0)])
    groups = _groups(columns, path)
    names = _channel_names(groups, names_row)
    body = text.lines[at + 1 :]
    if not body:
        raise ParseError(f"{file_label(path)}: the export ends after its column line; no data.")
    comma = decimal_comma_in(body[:20], "\t")
    cells, cut = _cells(body, len(columns), groups, comma, text, path)
    order, assumed = date_order(_date_samples(header, body, groups))
    start = parse_date_time(header.get("Start Time", ""), order)
    if start is None:  # every channel's absolute times count from the same zero
        start = _first_time(body, groups[0], order)
    channels = [
        _channel(group, name, cells, comma, order, start, at + 2, cut, path)
        for group, name in zip(groups, names, strict=True)
    ]
    apply_mz_overrides(channels, channel_mz, path)
    table = build_table(channels, path)
    return table, _metadata(header, channels, start, order, assumed, comma, cut, text)


# --------------------------------------------------------------------------- layout


def _is_column_row(cells: list[str]) -> bool:
    cells = [c.strip().lower() for c in cells]
    if any(c.startswith("time relative [") for c in cells):
        return True
    return cells[0] == "time" and any(c.startswith(_VALUE_HEADERS) for c in cells[1:])


def _column_row_index(lines: list[str], path: Path) -> int:
    for index, line in enumerate(lines[:_SCAN]):
        if _is_column_row(line.split("\t")):
            return index
    raise ParseError(
        f"{file_label(path)}: no column line (Time, Time Relative [s], Ion Current [A] ...) in "
        f"its first {_SCAN} lines; not a Pfeiffer QUADERA ASCII export."
    )


def _names_row(lines: list[str], at: int) -> list[str] | None:
    """The channel-name row: the line just above the column row, unless that is a header
    (Key<TAB>value) line or blank."""
    if at == 0:
        return None
    line = lines[at - 1]
    first = line.split("\t")[0].strip()
    if not line.strip() or first in _HEADER_KEYS:
        return None
    return [c.strip() for c in line.split("\t")]


def _header(lines: list[str]) -> dict[str, str]:
    header = {}
    for line in lines:
        key, _, value = line.partition("\t")
        if key.strip() and value.strip():
            header[key.strip()] = value.strip().rstrip("\t").strip()
    return header


def _groups(columns: list[str], path: Path) -> list[dict]:
    """One group per value column: its index and header, the time columns just before it
    ("relative": "Time Relative [s]" or "Time [s]"; "absolute": "Time", a date-time) with the
    relative time's unit; a value column with no time column of its own shares the previous
    group's."""
    groups: list[dict] = []
    times: dict[str, int] = {}
    unit = "s"
    for index, cell in enumerate(columns):
        lowered = cell.lower()
        if not cell:
            continue
        if lowered.startswith("time relative") or lowered.startswith("time ["):
            times["relative"] = index
            unit = (unit_in_brackets(cell) or "s").lower()
        elif lowered == "time":
            times["absolute"] = index
        elif times:
            groups.append({"times": times, "time_unit": unit, "value": index, "header": cell})
            groups[-1]["first"] = min([index, *times.values()])
            times = {}
        elif groups:
            groups.append({**groups[-1], "value": index, "header": cell, "first": index})
        else:
            raise ParseError(f"{file_label(path)}: column '{cell}' has no time column.")
    if not groups:
        raise ParseError(f"{file_label(path)}: the column line names no measured channel.")
    return groups


def _channel_names(groups: list[dict], names_row: list[str] | None) -> list[str]:
    """Each group's name from the name row (the name standing within its columns; else the
    n-th name for the n-th group when the counts agree), else 'channel N'."""
    names = []
    row = names_row or []
    listed = [c for c in row if c]
    for number, group in enumerate(groups):
        span = range(group["first"], group["value"] + 1)
        inside = [row[i] for i in span if i < len(row) and row[i]]
        if inside:
            names.append(inside[0])
        elif len(listed) == len(groups):
            names.append(listed[number])
        else:
            names.append(f"channel {number + 1}")
    return unique_names(names)


def _cells(
    body: list[str], width: int, groups: list[dict], comma: bool, text: Text, path: Path
) -> tuple[pd.DataFrame, bool]:
    """The cells of the columns the channels need (read_cells: floats, or text when a cell is
    no number); True when the last line was cut (fewer cells than the line before it, or no
    line break at the end of the file)."""
    tabs = [line.count("\t") for line in body]
    if max(tabs) >= width:  # more cells than the column line: only empty ones are allowed
        for line, count in zip(body, tabs, strict=True):
            if count >= width and line.split("\t", width)[-1].strip():
                raise ParseError(
                    f"{file_label(path)}: some data lines hold more cells than the column "
                    "line names."
                )
    wanted = sorted(
        {g["value"] for g in groups}
        | {g["times"].get("relative", g["times"].get("absolute")) for g in groups}
    )
    if wanted[-1] > max(tabs):
        raise ParseError(
            f"{file_label(path)}: no data line holds all the columns the column line names."
        )
    cells = read_cells("\n".join(body), range(max(tabs) + 1), wanted, comma, path)
    last = body[-1].rstrip("\t").count("\t")
    before = body[-2].rstrip("\t").count("\t") if len(body) > 1 else last
    cut = last < before or not text.ends_with_newline
    if not text.ends_with_newline:  # the last written cell may end inside a number
        filled = [i for i, cell in enumerate(body[-1].split("\t")) if cell.strip()]
        if filled and filled[-1] in cells.columns:
            cells.iat[len(cells) - 1, list(cells.columns).index(filled[-1])] = None
    return cells, cut


# --------------------------------------------------------------------------- channels


def _channel(group, name, cells, comma, order, start, first_line, cut, path) -> Channel:
    header = group["header"]
    unit_text = unit_in_brackets(header)
    if unit_text is None:
        raise ParseError(f"{file_label(path)}: column '{header}' names no unit in brackets.")
    unit = table_unit(unit_text)
    if unit is None:
        raise refuse_unit(path, unit_text, header)
    values, v_missing = numbers(cells[group["value"]], comma)
    _check(values, v_missing, header, first_line, path)
    time_s, t_missing = _times(group, cells, comma, order, start, first_line, path)
    keep = ~(v_missing | t_missing)
    rows = len(keep)
    missing = int((~keep[: rows - 1]).sum() if cut else (~keep).sum())
    mz, source = mz_of_name(name)
    return Channel(
        name=name,
        mz=mz,
        mz_source=source,
        unit=unit[0],
        unit_as_written=unit_text,
        time_s=time_s[keep],
        signal=values[keep] * unit[1],
        missing_values=missing,
    )


def _times(group, cells, comma, order, start, first_line, path):
    times = group["times"]
    if "relative" in times:
        unit = group["time_unit"]
        if unit not in TIME_UNITS:
            raise ParseError(
                f"{file_label(path)}: relative time in '{unit}', not in s, ms, min or h."
            )
        values, missing = numbers(cells[times["relative"]], comma)
        _check(values, missing, f"Time Relative [{unit}]", first_line, path)
        return values * TIME_UNITS[unit], missing
    if "absolute" not in times:
        raise ParseError(f"{file_label(path)}: channel column '{group['header']}' has no time.")
    seconds, missing, bad, _ = seconds_since(cells[times["absolute"]], order, start)
    if len(bad):
        raise ParseError(
            f"{file_label(path)}: line {first_line + int(bad[0])}: "
            f"'{cells[times['absolute']].iloc[bad[0]]}' is not a date and time."
        )
    return seconds, missing


def _check(values, missing, header, first_line, path) -> None:
    bad = bad_cells(values, missing)
    if len(bad):
        raise ParseError(
            f"{file_label(path)}: line {first_line + int(bad[0])}: a value of column "
            f"'{header}' is not a number; the file is damaged."
        )


def _date_samples(header: dict, body: list[str], groups: list[dict]) -> list[str]:
    """Date-times that can tell the date order: the header's and, when the channels have an
    absolute time column, the first channel's first, middle and last ones."""
    samples = [header.get(k, "") for k in ("Exporttime", "Start Time", "End Time")]
    absolute = groups[0]["times"].get("absolute")
    if absolute is not None:
        for line in (body[0], body[len(body) // 2], body[-1]):
            cells = line.split("\t")
            samples.append(cells[absolute].strip() if absolute < len(cells) else "")
    return [s for s in samples if s and date_fields(s)]


def _first_time(body: list[str], group: dict, order: str):
    absolute = group["times"].get("absolute")
    cells = body[0].split("\t")
    if absolute is None or absolute >= len(cells):
        return None
    return parse_date_time(cells[absolute].strip(), order)


def _metadata(header, channels, start, order, assumed, comma, cut, text: Text) -> dict:
    order_text = ORDER_NAMES[order] + (" (assumed; no date told day from month)" if assumed else "")
    return {
        "format": PFEIFFER_ASC,
        "source_library": "kiln",
        "source_version": None,
        "measurement": "mass_spec",
        "channels": channel_metadata(channels),
        "units_seen": {
            "time": "s",
            "signal": sorted({c.unit_as_written for c in channels}),
        },
        "start_time": start.isoformat() if start else None,
        "start_time_timezone": ("not recorded: the instrument PC's local time" if start else None),
        "start_time_source": "header 'Start Time'" if "Start Time" in header else "first row",
        "date_order": order_text,
        "source_file": header.get("Sourcefile"),
        "export_time": header.get("Exporttime"),
        "end_time": header.get("End Time"),
        "decimal_separator": "," if comma else ".",
        "encoding": text.encoding,
        "cut_last_line_dropped": cut,
        "header": dict(header),
    }
