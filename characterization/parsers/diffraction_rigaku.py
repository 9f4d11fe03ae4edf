"""Rigaku .ras (text) and .rasx (zip) patterns: SmartLab, MiniFlex, Ultima. Own reader.

.ras rules, checked on pyScattData's MiniFlex TiO2-1-6h.ras and the RAS header pairs inside
FAIRmat's SmartLab .rasx:
- bytes: header values may hold Shift-JIS (cp932) text (Japanese hardware names); decoded as
  UTF-8, else cp932, else Latin-1; any line ending;
- a file is one or more *RAS_DATA_START ... *RAS_DATA_END blocks, each holding one or more
  scans: *RAS_HEADER_START, lines '*KEY "value"', *RAS_HEADER_END, *RAS_INT_START, one line
  per point "2θ intensity [attenuator factor]" (spaces), *RAS_INT_END. Several scans (an in
  situ or repeated measurement) are several scans of the table, in file order;
- the true intensity is intensity × attenuator factor (the third column, 1 without an
  attenuator in the beam); the esd is √(intensity) × factor for counts;
- *MEAS_SCAN_UNIT_Y is "counts" or "cps" (*DISP_UNIT_Y is only the display choice);
  *MEAS_DATA_COUNT must equal the rows read; *MEAS_SCAN_AXIS_X_INTERNAL (or *MEAS_SCAN_AXIS_X)
  must be a 2θ axis (TwoThetaTheta, TwoThetaOmega, TwoTheta; "Theta/2-Theta", "2-Theta");
  an ω or φ scan is refused;
- wavelengths from *HW_XG_WAVE_LENGTH_ALPHA1/ALPHA2/BETA (Å), anode *HW_XG_TARGET_NAME;
  *MEAS_COND_XG_WAVE_TYPE "Ka1" (or *HW_XG_WAVE_TYPE) means a Kα1 monochromator: no Kα2;
- counting time per step: *MEAS_SCAN_SPEED s in step mode; step / speed (deg/min) × 60 s in
  continuous mode;
- a file without its *RAS_INT_END (cut while written) is refused.

.rasx rules, checked on FAIRmat's TwoTheta_scan_powder.rasx (SmartLab Studio II):
- a zip (checked against Kiln's unpack limits before anything is unpacked, _zip.py) of
  Data<i>/Profile<j>.txt (UTF-8, a byte-order mark optional, tab-separated "2θ intensity
  attenuator-factor" lines) and Data<i>/MesurementConditions<j>.xml (sic; "Measurement" also
  accepted); scans in (i, j) order;
- <ScanInformation>: AxisName (2θ axis as above), IntensityUnit (counts|cps), DataCount (must
  equal the rows), Mode/Step/Speed/SpeedUnit (counting time); <XrayGenerator>: TargetName,
  WaveType (Ka1 = monochromated), WavelengthKalpha1/Kalpha2/Kbeta.

fairmat-readers-xrd's read_rigaku_rasx reads the same numbers but skips the first 3 bytes of
every profile whether or not they are a byte-order mark, ignores the attenuator factor and
opens the zip without size limits, so Kiln reads .rasx itself.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np

from ._zip import DEFAULT_LIMITS, UnpackLimits, open_archive
from .diffraction_scan import Scan, number_or_none, wavelength_metadata
from .diffraction_xml import parse_xml, xml_text
from .errors import ParseError, file_label

_HEADER_LINE = re.compile(r'^\*(\S+)\s*"?(.*?)"?\s*$')
_TWO_THETA_AXES = {"twothetatheta", "twothetaomega", "twotheta", "theta/2-theta",
                   "2-theta", "2theta", "2theta/theta", "2-theta/theta", "theta-2theta",
                   "twotheta/theta", "2theta/omega", "2-theta/omega"}  # fmt: skip
_PROFILE = re.compile(r"^Data(\d+)/Profile(\d+)\.txt$")
_MAX_MEMBER_BYTES = 256 << 20


# ---------------------------------------------------------------- .ras


def read_ras(path: Path) -> tuple[list[Scan], dict]:
    """Scans and metadata of a Rigaku .ras file (module doc)."""
    lines = _ras_lines(path)
    blocks = _ras_blocks(lines, path)
    scans = [_ras_scan(header, rows, n, path) for n, (header, rows) in enumerate(blocks)]
    first = blocks[0][0]
    meta = _ras_wavelengths(first)
    meta.update(
        sample=first.get("FILE_SAMPLE") or None,
        instrument=first.get("HW_GONIOMETER_NAME") or None,
        start_time=first.get("MEAS_SCAN_START_TIME") or None,
        scan_axis=first.get("MEAS_SCAN_AXIS_X_INTERNAL") or first.get("MEAS_SCAN_AXIS_X"),
    )
    return scans, meta


def _ras_lines(path: Path) -> list[str]:
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise ParseError(f"{file_label(path)}: cannot be opened ({exc.strerror}).") from exc
    for encoding in ("utf-8-sig", "cp932"):
        try:
            return raw.decode(encoding).splitlines()
        except UnicodeDecodeError:
            continue
    return raw.decode("latin-1").splitlines()


def _ras_blocks(lines: list[str], path: Path) -> list[tuple[dict, list[str]]]:
    """(header dict, data lines) per scan, in file order."""
    blocks: list[tuple[dict, list[str]]] = []
    header: dict[str, str] = {}
    rows: list[str] | None = None
    state = "outside"
    for number, line in enumerate(lines, 1):
        text = line.strip()
        if text == "*RAS_HEADER_START":
            header, state = {}, "header"
        elif text == "*RAS_HEADER_END":
            state = "between"
        elif text == "*RAS_INT_START":
            if state != "between":
                raise ParseError(f"{file_label(path)}: line {number}: data without a header.")
            rows, state = [], "data"
        elif text == "*RAS_INT_END":
            blocks.append((header, rows or []))
            rows, state = None, "outside"
        elif state == "header" and text.startswith("*"):
            match = _HEADER_LINE.match(text)
            if match:
                header[match.group(1)] = match.group(2).strip()
        elif state == "data" and text:
            rows.append(text)
    if state in ("header", "between", "data"):
        raise ParseError(
            f"{file_label(path)}: the file ends inside a scan (no *RAS_INT_END); it is "
            "truncated, perhaps copied while the measurement was running."
        )
    if not blocks:
        raise ParseError(f"{file_label(path)}: no *RAS_INT_START ... *RAS_INT_END data block.")
    return blocks


def _ras_scan(header: dict, rows: list[str], number: int, path: Path) -> Scan:
    label = f"scan {number + 1}"
    axis = header.get("MEAS_SCAN_AXIS_X_INTERNAL") or header.get("MEAS_SCAN_AXIS_X", "")
    _check_axis(axis, label, path)
    table = _number_rows(rows, label, path)
    declared = number_or_none(header.get("MEAS_DATA_COUNT"))
    if declared is not None and int(declared) != len(table):
        raise ParseError(
            f"{file_label(path)}: {label} declares {int(declared)} points (*MEAS_DATA_COUNT) "
            f"but holds {len(table)}; the file is damaged or was cut while written."
        )
    unit = _unit(header.get("MEAS_SCAN_UNIT_Y", ""), label, path)
    factor = table[:, 2] if table.shape[1] >= 3 else np.ones(len(table))
    return Scan(
        two_theta_deg=table[:, 0],
        intensity=table[:, 1] * factor,
        unit=unit,
        attenuation=factor,
        counting_time_s=_counting_time(
            header.get("MEAS_SCAN_MODE"),
            header.get("MEAS_SCAN_STEP"),
            header.get("MEAS_SCAN_SPEED"),
            header.get("MEAS_SCAN_SPEED_UNIT"),
        ),
        label=label,
        info={"axis": axis, "start_time": header.get("MEAS_SCAN_START_TIME")},
    )


def _number_rows(rows: list[str], label: str, path: Path) -> np.ndarray:
    table = []
    width = None
    for index, row in enumerate(rows, 1):
        fields = row.replace(",", ".").split()
        width = width or len(fields)
        try:
            if len(fields) != width or width < 2:
                raise ValueError
            table.append([float(f) for f in fields[:3]])
        except ValueError:
            raise ParseError(
                f"{file_label(path)}: {label}, data row {index} ('{row[:40]}') is not "
                f"{width} numbers like the rows before it."
            ) from None
    if not table:
        raise ParseError(f"{file_label(path)}: {label} holds no data rows.")
    return np.asarray(table, dtype=float)


def _check_axis(axis: str, label: str, path: Path) -> None:
    key = axis.strip().lower().replace(" ", "")
    if key and key not in _TWO_THETA_AXES:
        raise ParseError(
            f"{file_label(path)}: {label} scans '{axis}', not 2θ; Kiln reads powder 2θ scans "
            "(θ/2θ, 2θ/ω or 2θ alone), not rocking curves or other axes."
        )


def _unit(text: str, label: str, path: Path) -> str:
    key = text.strip().lower()
    if key in ("counts", "count", "cts"):
        return "counts"
    if key in ("cps", "counts/s", "count/s"):
        return "cps"
    if not key:
        return "arbitrary"
    raise ParseError(f"{file_label(path)}: {label} has intensity unit '{text}', unknown.")


def _counting_time(mode, step, speed, speed_unit) -> float | None:
    """Seconds per step: the speed itself in step mode (s), else step / speed."""
    step_deg, speed_value = number_or_none(step), number_or_none(speed)
    if not step_deg or not speed_value or speed_value <= 0:
        return None
    if (mode or "").strip().upper() == "STEP":
        return speed_value
    unit = (speed_unit or "deg/min").strip().lower()
    per_second = speed_value / 60.0 if unit.endswith("min") else speed_value
    return abs(step_deg) / per_second


def _ras_wavelengths(header: dict) -> dict:
    wave_type = header.get("MEAS_COND_XG_WAVE_TYPE") or header.get("HW_XG_WAVE_TYPE") or ""
    return wavelength_metadata(
        ka1=number_or_none(header.get("HW_XG_WAVE_LENGTH_ALPHA1")),
        ka2=number_or_none(header.get("HW_XG_WAVE_LENGTH_ALPHA2")),
        kbeta=number_or_none(header.get("HW_XG_WAVE_LENGTH_BETA")),
        anode=header.get("HW_XG_TARGET_NAME"),
        ka1_only=wave_type.strip().lower() == "ka1",
    )


# ---------------------------------------------------------------- .rasx


def read_rasx(path: Path, limits: UnpackLimits = DEFAULT_LIMITS) -> tuple[list[Scan], dict]:
    """Scans and metadata of a Rigaku .rasx archive (module doc)."""
    with open_archive(path, limits) as archive:
        names = archive.namelist()
        profiles = sorted(
            (tuple(int(g) for g in m.groups()), name)
            for name in names
            if (m := _PROFILE.match(name))
        )
        if not profiles:
            raise ParseError(
                f"{file_label(path)}: a .rasx archive without any Data*/Profile*.txt pattern "
                "(an image-only or empty measurement)."
            )
        scans, conditions = [], []
        for number, ((data, profile), name) in enumerate(profiles):
            condition = _conditions(archive, names, data, profile, path)
            text = _member_text(archive, name, path)
            scans.append(_rasx_scan(text, condition, name, number, path))
            conditions.append(condition)
    first = conditions[0]
    meta = dict(first["wavelengths"])
    meta.update(
        sample=first.get("sample"),
        instrument=first.get("system"),
        start_time=first.get("start_time"),
        scan_axis=first.get("axis"),
    )
    return scans, meta


def _member_text(archive, name: str, path: Path) -> str:
    info = archive.getinfo(name)
    if info.file_size > _MAX_MEMBER_BYTES:
        raise ParseError(f"{file_label(path)}: member {name} is too large for one pattern.")
    raw = archive.read(name)
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        return raw.decode("cp932", errors="replace")


def _conditions(archive, names: list[str], data: int, profile: int, path: Path) -> dict:
    candidates = [
        f"Data{data}/MesurementConditions{profile}.xml",
        f"Data{data}/MeasurementConditions{profile}.xml",
    ]
    name = next((c for c in candidates if c in names), None)
    if name is None:
        raise ParseError(
            f"{file_label(path)}: Data{data}/Profile{profile}.txt has no measurement "
            "conditions (MesurementConditions) beside it; the archive is incomplete."
        )
    root = parse_xml(_member_text(archive, name, path).encode("utf-8"), f"{name}", path)
    scan = root.find("ScanInformation")
    generator = root.find("HWConfigurations/XrayGenerator")
    general = root.find("GeneralInformation")
    get = lambda node, tag: xml_text(node.find(tag)) if node is not None else None  # noqa: E731
    wave_type = get(generator, "WaveType") or ""
    return {
        "name": name,
        "axis": get(scan, "AxisName") or "",
        "unit": get(scan, "IntensityUnit") or "",
        "count": number_or_none(get(scan, "DataCount")),
        "time": _counting_time(
            get(scan, "Mode"), get(scan, "Step"), get(scan, "Speed"), get(scan, "SpeedUnit")
        ),
        "start_time": get(scan, "StartTime"),
        "sample": get(general, "SampleName") or None,
        "system": get(general, "SystemName") or None,
        "wavelengths": wavelength_metadata(
            ka1=number_or_none(get(generator, "WavelengthKalpha1")),
            ka2=number_or_none(get(generator, "WavelengthKalpha2")),
            kbeta=number_or_none(get(generator, "WavelengthKbeta")),
            anode=get(generator, "TargetName"),
            ka1_only=wave_type.strip().lower() == "ka1",
        ),
    }


def _rasx_scan(text: str, condition: dict, name: str, number: int, path: Path) -> Scan:
    label = f"scan {number + 1} ({name})"
    _check_axis(condition["axis"], label, path)
    rows = [ln for ln in text.splitlines() if ln.strip()]
    table = _number_rows(rows, label, path)
    if condition["count"] is not None and int(condition["count"]) != len(table):
        raise ParseError(
            f"{file_label(path)}: {label} declares {int(condition['count'])} points "
            f"(DataCount) but holds {len(table)}; the archive is damaged."
        )
    factor = table[:, 2] if table.shape[1] >= 3 else np.ones(len(table))
    return Scan(
        two_theta_deg=table[:, 0],
        intensity=table[:, 1] * factor,
        unit=_unit(condition["unit"], label, path),
        attenuation=factor,
        counting_time_s=condition["time"],
        label=label,
        info={"axis": condition["axis"], "member": name, "start_time": condition["start_time"]},
    )
