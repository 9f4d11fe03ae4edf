"""TA Instruments Universal Analysis text exports (DSC, MDSC, SDT, TGA). Own reader, pure Python.

Rules, checked on a real export (PPeitsch/pkynetics src/pkynetics/data/dsc/
sample_dsc_tainstruments.txt, a 2920 MDSC V2.6A file) and written for the format:
- a header of "Key<TAB>value[<TAB>unit]" lines (CLOSED, Version, Run, Instrument, Module,
  Sample, Size, Method, Operator, Comment, Exotherm, Kcell, ..., Nsig, Sig1..SigN, Date, Time,
  File), then a line "StartOfData", then one line per point with N numbers;
- "SigK<TAB>Name (unit)" names column K of the data: "Time (min)", "Temperature (°C)",
  "Heat Flow (mW)", "Heat Flow (W/g)", "Weight (mg)", "Rev Heat Flow (W/g)", ... in any order
  and number; Nsig, when present, must match the Sig lines. The columns are found by name:
  time "Time"; temperature "Temperature" (or "Sample Temperature"), never a modulated,
  program or reference temperature; heat flow "Heat Flow" (the total), else the first
  "Heat Flow ..." signal that is not reversing, non-reversing, derivative, phase or amplitude;
  TG "Weight" in mg (a "Weight (%)" signal is left out). Units are read from the Sig lines
  (time s/min/h; °C or K; mW, W, µW, W/g, mW/mg), whatever byte the degree sign is;
- "Size<TAB>9.00000<TAB>mg" is the sample mass;
- "Exotherm<TAB>Up" (or Down) is the direction exotherms are drawn in, taken as the sign of the
  exported heat flow: Up keeps the values (exotherm positive, Kiln's convention), Down negates
  them. With no Exotherm line, Exotherm Up is assumed (TA Instruments' usual setting:
  endothermic heat flow negative), said in metadata and in a warning. (Checked on the real
  file: its declared Up export shows the eicosane melting, an endotherm, as a negative peak;
  no public "Exotherm Down" export was found to check that Down exports negated values.)
- bytes are Latin-1/cp1252 or DOS code page 437 (the real file's degree sign is 0xF8);
  UTF-8 is accepted. LF or CRLF. Cells are separated by tabs (spaces, ";" or "," are accepted
  too); with tab, space or ";" separators a comma in a number is a decimal comma;
- rows whose time is exactly -1 are Universal Analysis's marker rows (the real file has four:
  two before the data, one between the heating and cooling segments, one at the end, each with
  a temperature and a zero heat flow): they are dropped and counted in the metadata.

A last data line cut short (a file copied while the export was written) is dropped and said
in a warning; any other line that is not N numbers is damage (ParseError naming the line).
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd

from .errors import ParseError, file_label, read_nonempty_bytes
from .thermal_table import (
    heat_flow_to_mw,
    mass_in_mg,
    seconds_per,
    temperature_to_c,
    thermal_table,
    unit_key,
    warning,
)

TA_UNIVERSAL_TEXT = "ta_universal_text"
_SIG = re.compile(r"^Sig(\d+)$", re.IGNORECASE)
_NAME_UNIT = re.compile(r"^(.*?)\s*[(\[]([^()\[\]]*)[)\]]\s*$")
_NOT_TOTAL_HEAT_FLOW = ("rev", "deriv", "phase", "amplitude", "amp", "cp", "lissajous")
_NOT_SAMPLE_TEMPERATURE = ("modulated", "program", "reference", "furnace", "deriv", "amplitude")
_MARKER_TIME = -1.0
_HEADER_KEYS = {
    "instrument": "Instrument",
    "module": "Module",
    "sample_name": "Sample",
    "method": "Method",
    "operator": "Operator",
    "run": "Run",
    "date": "Date",
    "time": "Time",
    "comment": "Comment",
    "original_file": "File",
}


def recognise_ta_text(head_text: str) -> str | None:
    """TA_UNIVERSAL_TEXT when the first KB (decoded as Latin-1) hold Sig<N> lines and a
    StartOfData or Nsig line; None otherwise."""
    lines = head_text.lstrip("\ufeff\u00ef\u00bb\u00bf").splitlines()[:300]
    sig = any(_SIG.match(_key_and_values(ln)[0]) for ln in lines if ln.strip())
    marker = any(ln.strip().lower() == "startofdata" for ln in lines) or any(
        _key_and_values(ln)[0].lower() == "nsig" for ln in lines
    )
    return TA_UNIVERSAL_TEXT if sig and marker else None


def read_ta_universal_text(path: str | Path) -> tuple[pd.DataFrame, dict]:
    """The thermal table (thermal_table.THERMAL_COLUMNS) and metadata of a Universal Analysis
    text export; ParseError naming the file for anything it cannot read (see the module doc)."""
    path = Path(path)
    lines, encoding = _read_lines(path)
    start = next((i for i, ln in enumerate(lines) if ln.strip().lower() == "startofdata"), None)
    if start is None:
        raise ParseError(
            f"{file_label(path)}: no 'StartOfData' line; the export is truncated or is not a "
            "TA Universal Analysis text export."
        )
    header, signals = _header(lines[:start], path)
    columns = _columns(signals, path)
    values, layout = _data(lines, start + 1, len(signals), path)
    time_sig = signals[columns["time"]]
    marker = values[:, columns["time"]] == _MARKER_TIME
    values = values[~marker]
    mass_mg = _sample_mass(header, path)
    declared = _exotherm(header)
    used = declared or "up"
    sign = -1.0 if used == "down" else 1.0
    hf_sig = signals[columns["heat_flow"]]
    heat_flow = sign * heat_flow_to_mw(
        values[:, columns["heat_flow"]], hf_sig[1], mass_mg, path, f"'{hf_sig[0]}'"
    )
    warnings = _warnings(declared, layout["cut_last_line_dropped"])
    weight = None
    if "weight" in columns:
        weight = values[:, columns["weight"]]
    table = thermal_table(
        path,
        time_s=values[:, columns["time"]] * seconds_per(time_sig[1], path, f"'{time_sig[0]}'"),
        temperature_c=temperature_to_c(
            values[:, columns["temperature"]],
            signals[columns["temperature"]][1],
            path,
            f"'{signals[columns['temperature']][0]}'",
        ),
        heat_flow_mw=heat_flow,
        sample_mass_mg=mass_mg,
        mass_change_mg=weight,
        warnings=warnings,
    )
    meta = {
        "source_library": "kiln",
        "source_version": None,
        "format": TA_UNIVERSAL_TEXT,
        "measurement": "dsc",
        **{key: _first(header.get(name)) for key, name in _HEADER_KEYS.items()},
        "sample_mass_mg": mass_mg,
        "exotherm_direction_declared": declared,
        "exotherm_direction_used": used,
        "heat_flow_sign": _sign_sentence(declared),
        "units_seen": {
            "time": time_sig[1],
            "temperature": signals[columns["temperature"]][1],
            "heat_flow": hf_sig[1],
            **({"tg": signals[columns["weight"]][1]} if "weight" in columns else {}),
        },
        "signals": [f"{name} ({unit})" if unit else name for name, unit in signals],
        "columns_used": {k: f"Sig{i + 1}" for k, i in columns.items()},
        "encoding": encoding,
        "marker_rows_dropped": int(marker.sum()),
        **layout,
        "warnings": warnings,
        "header": {k: "\t".join(v) for k, v in header.items()},
    }
    return table, meta


def _read_lines(path: Path) -> tuple[list[str], str]:
    raw = read_nonempty_bytes(path)
    try:
        text, encoding = raw.decode("utf-8-sig"), "utf-8"
    except UnicodeDecodeError:
        text, encoding = raw.decode("latin-1"), "latin-1"
    return re.split(r"\r\n|\r|\n", text), encoding


def _key_and_values(line: str) -> tuple[str, list[str]]:
    """'Key<TAB>a<TAB>b' -> ('Key', ['a', 'b']); without a tab the first space splits."""
    if "\t" in line:
        key, *values = line.split("\t")
    else:
        key, _, rest = line.strip().partition(" ")
        values = [rest]
    return key.strip(), [v.strip() for v in values if v.strip()]


def _header(lines: list[str], path: Path) -> tuple[dict[str, list[str]], list[tuple[str, str]]]:
    header: dict[str, list[str]] = {}
    numbered: dict[int, tuple[str, str]] = {}
    for line in lines:
        key, values = _key_and_values(line)
        if not key:
            continue
        header.setdefault(key, values)
        match = _SIG.match(key)
        if match:
            numbered[int(match.group(1))] = _name_and_unit(" ".join(values))
    name = file_label(path)
    if not numbered:
        raise ParseError(f"{name}: no 'Sig' lines name the data columns.")
    if sorted(numbered) != list(range(1, len(numbered) + 1)):
        raise ParseError(f"{name}: the Sig lines are not numbered 1..N ({sorted(numbered)}).")
    declared = _first(header.get("Nsig"))
    if declared is not None and declared.strip().isdigit() and int(declared) != len(numbered):
        raise ParseError(
            f"{name}: Nsig says {declared} signals but {len(numbered)} Sig lines name them; "
            "the header is damaged."
        )
    return header, [numbered[k] for k in sorted(numbered)]


def _name_and_unit(text: str) -> tuple[str, str]:
    """'Temperature (øC)' -> ('Temperature', '°C'): a degree unit is shown as °C whatever byte
    the file used for the degree sign."""
    match = _NAME_UNIT.match(text.strip())
    if not match:
        return text.strip(), ""
    unit = match.group(2).strip()
    return match.group(1).strip(), "°C" if unit_key(unit) == "c" else unit


def _columns(signals: list[tuple[str, str]], path: Path) -> dict[str, int]:
    """Positions of the time, temperature, heat-flow (and TG weight in mg) signals."""
    lower = [name.lower() for name, _ in signals]
    found: dict[str, int] = {}
    time = [i for i, n in enumerate(lower) if n == "time"]
    temperature = [i for i, n in enumerate(lower) if n in ("temperature", "sample temperature")]
    if not temperature:
        temperature = [
            i
            for i, n in enumerate(lower)
            if "temperature" in n and not any(w in n for w in _NOT_SAMPLE_TEMPERATURE)
        ]
    heat = [i for i, n in enumerate(lower) if n == "heat flow"] or [
        i
        for i, n in enumerate(lower)
        if n.startswith("heat flow") and not any(w in n.split() for w in _NOT_TOTAL_HEAT_FLOW)
    ]
    weight = [i for i, n in enumerate(lower) if n == "weight" and unit_key(signals[i][1]) == "mg"]
    listed = ", ".join(f"{n} ({u})" if u else n for n, u in signals)
    for key, hits, what in (
        ("time", time, "time"),
        ("temperature", temperature, "sample temperature"),
        ("heat_flow", heat, "heat-flow"),
    ):
        if not hits:
            extra = " (a TGA export?)" if key == "heat_flow" else ""
            raise ParseError(
                f"{file_label(path)}: no {what} signal among its signals ({listed}){extra}; "
                "a DSC analysis needs time, temperature and heat flow."
            )
        found[key] = hits[0]
    if weight:
        found["weight"] = weight[0]
    return found


def _data(lines: list[str], first: int, width: int, path: Path) -> tuple[np.ndarray, dict]:
    """The data rows as floats (n × width) and their layout (separator, decimal mark, cut)."""
    numbered = [(i + 1, ln) for i, ln in enumerate(lines[first:], start=first) if ln.strip()]
    if not numbered:
        raise ParseError(
            f"{file_label(path)}: the file ends right after 'StartOfData': no data rows; the "
            "export is truncated."
        )
    sep = _separator(numbered[0][1], width)
    comma = sep != "," and any("," in ln for _, ln in numbered[:50])
    values = np.full((len(numbered), width), np.nan)
    bad = []
    for row, (_, line) in enumerate(numbered):
        text = line.replace(",", ".") if comma else line
        cells = text.split() if sep is None else [c.strip() for c in text.split(sep)]
        while len(cells) > width and cells[-1] == "":
            cells.pop()
        try:
            if len(cells) != width:
                raise ValueError
            values[row] = [float(c) for c in cells]
        except ValueError:
            bad.append(row)
    cut = bool(bad) and bad[-1] == len(numbered) - 1
    if cut:
        bad.pop()
        values = values[:-1]
    if bad:
        number, line = numbered[bad[0]]
        raise ParseError(
            f"{file_label(path)}: line {number} cannot be read as {width} numbers "
            f"('{line.strip()[:60]}'); the file is damaged."
        )
    if not len(values):
        raise ParseError(f"{file_label(path)}: no complete data row after 'StartOfData'.")
    layout = {
        "delimiter": {None: "whitespace", "\t": "tab"}.get(sep, sep),
        "decimal_separator": "," if comma else ".",
        "cut_last_line_dropped": cut,
    }
    return values, layout


def _separator(line: str, width: int) -> str | None:
    if "\t" in line:
        return "\t"
    if ";" in line:
        return ";"
    if len(line.split()) == width:
        return None
    return "," if line.count(",") == width - 1 else None


def _first(values: list[str] | None) -> str | None:
    return values[0] if values else None


def _sample_mass(header: dict[str, list[str]], path: Path) -> float | None:
    values = header.get("Size")
    if not values:
        return None
    match = re.match(r"^([-+]?\d+(?:[.,]\d*)?(?:[eE][-+]?\d+)?)\s*(\S*)$", values[0])
    if not match:
        raise ParseError(f"{file_label(path)}: the Size line ('{values[0]}') is not a mass.")
    unit = match.group(2) or (values[1] if len(values) > 1 else "mg")
    return mass_in_mg(float(match.group(1).replace(",", ".")), unit, path)


def _exotherm(header: dict[str, list[str]]) -> str | None:
    for key, values in header.items():
        words = (key + " " + " ".join(values)).lower().split()
        if words and words[0] == "exotherm" and len(words) > 1 and words[1] in ("up", "down"):
            return words[1]
    return None


def _sign_sentence(declared: str | None) -> str:
    if declared == "down":
        return "negated: the file declares Exotherm Down (exotherms negative)"
    if declared == "up":
        return "as in the file: it declares Exotherm Up (exotherms positive)"
    return "as in the file, assuming Exotherm Up (the file does not declare the direction)"


def _warnings(declared: str | None, cut: bool) -> list[dict]:
    out = []
    if declared is None:
        out.append(
            warning(
                "exotherm_direction_assumed",
                "The file does not declare the exotherm direction (no 'Exotherm Up/Down' "
                "line); Kiln assumed Exotherm Up, TA Instruments' usual setting (endothermic "
                "heat flow negative). If melting peaks point up in the file, the exo/endo "
                "labels are swapped.",
                "flag",
            )
        )
    if cut:
        out.append(
            warning(
                "file_truncated",
                "The file's last line was cut off in the middle of a row and was left out.",
            )
        )
    return out
