"""Bruker DIFFRAC patterns: .brml (zip of XML, DIFFRAC.SUITE) and .raw version 4 (binary,
magic "RAW4.00"). Own readers.

.brml rules, checked on datalab's TiOF.brml (D2 PHASER, DIFFRAC 7.5):
- a zip (checked against Kiln's unpack limits first, _zip.py); Experiment<i>/DataContainer.xml
  lists the raw data members (<RawDataReferenceList><string>Experiment0/RawData0.xml); each
  RawData member is one scan (several: an in situ series or several ranges), in list order;
- in a RawData member, the <DataRoute RouteFlag="Measured"> holds <ScanInformation>
  (ScanName, MeasurementPoints, TimePerStep, ScanAxes) and one <Datum> per point: comma-
  separated values whose meaning the <DataViews> give: FixedRawDataView LogicName
  "MeasuredTime" (s) and "AbsorptionFactor", a VaryingRawDataView whose <FieldDefinitions
  FieldName="TwoTheta"> is the measured 2θ column, a RecordedRawDataView whose <Recording>
  is the counter (Unit Base="Counts" or "Cps");
- intensity = counter × AbsorptionFactor (1 without an absorber in the beam; when any factor
  differs from 1, metadata["absorption_factor_applied"] says so);
- the number of <Datum> rows must equal the measured steps (the sum of <SubScanInfo
  MeasuredSteps>, else MeasurementPoints);
- a scan whose 2θ does not move (rocking curve, φ scan) is refused;
- wavelengths from the tube's WaveLengthAlpha1/Alpha2/Beta/Ratio (Value, Unit Å), anode
  from TubeMaterial.
fairmat-readers-xrd's read_bruker_brml rebuilds 2θ as an even grid from the scan axis start,
stop and point count (not the measured 2θ of each Datum), ignores the absorption factor and
stops on several raw data members (NotImplementedError for 'multiline'); the tests compare
its numbers with this reader's on the shared file, where they agree.

RAW v4 rules (no public specification; the layout as described by xylib's bruker_raw.cpp
and other readers' format notes, re-implemented here as a walk, no fixed offsets):
- a 61-byte preamble ("RAW4.00", date at byte 12, time at 24), then a chain of segments,
  each uint32 type + uint32 length (little-endian): type 10 a text field (name at +12, 24
  bytes; value from +36), type 30 the tube (from +72 float64 Kα average, Kα1, Kα2, Kβ,
  Kα2/Kα1 ratio; anode text at +116);
- a type of 0 or 160 starts a range (one scan): scan type text at +32 (24 bytes), float64
  start angle at +72, float64 step at +80, uint32 steps at +88, uint32 datum size at +136,
  uint32 size of the drive records at +140; drive records (type 50: name at +12, position
  float64 at +56) follow the 160-byte header; then `steps` data records of `datum size`
  bytes whose first 4 bytes are the intensity (float32). The chain resumes after the data;
- the start angle is 2θ for coupled (θ/2θ) and detector scans; other scan types are refused,
  and a 2Theta drive record that disagrees with the start angle is refused as ambiguous;
- the file declares no intensity unit: whole numbers are read as counts (Poisson esd),
  anything else as arbitrary units (no esd).
fairmat-readers-xrd's RAW4 parser reads fixed byte offsets from one file (point count as a
uint16 at 0x1C3, data from 0x51F in 8-byte records) and takes wavelengths from a table by
anode name, so it is wrong on any file whose text fields have other lengths; not used.
"""

from __future__ import annotations

import re
import struct
from pathlib import Path
from xml.etree.ElementTree import Element

import numpy as np

from ._zip import DEFAULT_LIMITS, UnpackLimits, open_archive
from .diffraction_scan import Scan, number_or_none, wavelength_metadata
from .diffraction_xml import find_first, parse_xml, xml_text
from .errors import ParseError, file_label

_CONTAINER = re.compile(r"^Experiment(\d+)/DataContainer\.xml$")
_RAW_DATA = re.compile(r"^Experiment(\d+)/RawData(\d+)\.xml$")
_MAX_MEMBER_BYTES = 512 << 20


# ---------------------------------------------------------------- .brml


def read_brml(path: Path, limits: UnpackLimits = DEFAULT_LIMITS) -> tuple[list[Scan], dict]:
    """Scans and metadata of a Bruker .brml archive (module doc)."""
    with open_archive(path, limits) as archive:
        names = archive.namelist()
        members, containers = _raw_members(archive, names, path)
        roots = [(name, parse_xml(_member(archive, name, path), name, path)) for name in members]
    scans = []
    for name, root in roots:
        for route in _measured_routes(root, name, path):
            scans.append(_brml_scan(route, f"scan {len(scans) + 1} ({name})", path))
    first = roots[0][1]
    meta = _brml_wavelengths(first, path)
    info = next(
        (i for c in containers if (i := find_first(c, "MeasurementInfo")) is not None), None
    )
    meta.update(
        sample=info.get("SampleName") if info is not None else None,
        instrument=xml_text(find_first(first, "DeviceTypeDesc")),
        start_time=xml_text(find_first(first, "TimeStampStarted")),
        scan_axis=scans[0].info.get("scan_name") if scans else None,
        absorption_factor_applied=any(s.info.get("absorber") for s in scans),
    )
    return scans, meta


def _member(archive, name: str, path: Path) -> bytes:
    if archive.getinfo(name).file_size > _MAX_MEMBER_BYTES:
        raise ParseError(f"{file_label(path)}: member {name} is too large for one pattern.")
    return archive.read(name)


def _raw_members(archive, names: list[str], path: Path) -> tuple[list[str], list[Element]]:
    """RawData members in the order the DataContainers list them (else by number), and the
    DataContainer roots (sample name, user)."""
    listed: list[str] = []
    containers: list[Element] = []
    for container in sorted(n for n in names if _CONTAINER.match(n)):
        root = parse_xml(_member(archive, container, path), container, path)
        containers.append(root)
        listed += [xml_text(s) for s in root.findall("RawDataReferenceList/string")]
    listed = [n for n in listed if n]
    if not listed:
        found = [(tuple(map(int, m.groups())), n) for n in names if (m := _RAW_DATA.match(n))]
        listed = [n for _, n in sorted(found)]
    missing = [n for n in listed if n not in names]
    if missing:
        raise ParseError(f"{file_label(path)}: the archive lists {missing[0]} but lacks it.")
    if not listed:
        raise ParseError(f"{file_label(path)}: a .brml archive without raw data (RawData*.xml).")
    return listed, containers


def _measured_routes(root: Element, name: str, path: Path) -> list[Element]:
    routes = root.findall("DataRoutes/DataRoute")
    measured = [r for r in routes if r.get("RouteFlag") == "Measured"] or routes[:1]
    if not measured:
        raise ParseError(f"{file_label(path)}: {name} holds no data route.")
    return measured


def _brml_scan(route: Element, label: str, path: Path) -> Scan:
    info = route.find("ScanInformation")
    rows = _datum_rows(route, label, path)
    expected = _expected_steps(route, info)
    if expected is not None and expected != len(rows):
        raise ParseError(
            f"{file_label(path)}: {label} declares {expected} measured steps but holds "
            f"{len(rows)} <Datum> rows; the file is damaged or was cut while written."
        )
    columns = _columns(route, label, path)
    two_theta = rows[:, columns["two_theta"]] if "two_theta" in columns else None
    if two_theta is None or np.ptp(two_theta) == 0:
        raise ParseError(
            f"{file_label(path)}: {label} ({info.get('ScanName') if info is not None else '?'}) "
            "does not move 2θ: not a powder 2θ scan; Kiln reads 2θ scans."
        )
    factor = rows[:, columns["absorption"]] if "absorption" in columns else np.ones(len(rows))
    times = rows[:, columns["time"]] if "time" in columns else None
    planned = number_or_none(xml_text(info.find("TimePerStep"))) if info is not None else None
    return Scan(
        two_theta_deg=two_theta,
        intensity=rows[:, columns["counts"]] * factor,
        unit=columns["unit"],
        attenuation=factor,
        counting_time_s=float(times.mean()) if times is not None else planned,
        label=label,
        info={
            "scan_name": info.get("ScanName") if info is not None else None,
            "absorber": bool((factor != 1).any()),
        },
    )


def _datum_rows(route: Element, label: str, path: Path) -> np.ndarray:
    data = [xml_text(d) or "" for d in route.findall("Datum")]
    if not data:
        raise ParseError(f"{file_label(path)}: {label} holds no <Datum> rows.")
    try:
        rows = [[float(v) for v in d.split(",")] for d in data]
        return np.asarray(rows, dtype=float)
    except ValueError:
        bad = next(i for i, d in enumerate(data) if not _numbers(d))
        raise ParseError(
            f"{file_label(path)}: {label}, <Datum> {bad + 1} ('{data[bad][:40]}') is not a row "
            "of numbers like the others."
        ) from None


def _numbers(text: str) -> bool:
    try:
        [float(v) for v in text.split(",")]
    except ValueError:
        return False
    return True


def _expected_steps(route: Element, info: Element | None) -> int | None:
    subscans = route.findall("SubScans/SubScanInfo")
    measured = [number_or_none(s.get("MeasuredSteps")) for s in subscans]
    if measured and all(m is not None for m in measured):
        return int(sum(measured))
    points = number_or_none(xml_text(info.find("MeasurementPoints"))) if info is not None else None
    return int(points) if points is not None else None


def _columns(route: Element, label: str, path: Path) -> dict:
    """Datum column indices: two_theta, counts (+ unit), time, absorption."""
    columns: dict = {"unit": "counts"}
    for view in route.findall("DataViews/RawDataView"):
        kind, start = view.get("type", ""), int(view.get("Start", "-1"))
        if kind == "FixedRawDataView" and view.get("LogicName") == "MeasuredTime":
            columns["time"] = start
        elif kind == "FixedRawDataView" and view.get("LogicName") == "AbsorptionFactor":
            columns["absorption"] = start
        elif kind == "VaryingRawDataView":
            fields = [f.get("FieldName") for f in view.findall("Varying/FieldDefinitions")]
            if "TwoTheta" in fields:
                columns["two_theta"] = start + fields.index("TwoTheta")
        elif kind == "RecordedRawDataView" and "counts" not in columns:
            columns["counts"] = start
            base = view.find("Recording/Unit")
            unit = (base.get("Base") if base is not None else "Counts").lower()
            columns["unit"] = {"counts": "counts", "cps": "cps"}.get(unit, "arbitrary")
    if "counts" not in columns:
        raise ParseError(f"{file_label(path)}: {label} names no counter column (DataViews).")
    return columns


def _brml_wavelengths(root: Element, path: Path) -> dict:
    def angstrom(tag: str) -> float | None:
        node = find_first(root, tag)
        value = number_or_none(node.get("Value")) if node is not None else None
        if value is not None and (node.get("Unit") or "").lower() == "nm":
            value *= 10.0
        return value

    ratio_node = find_first(root, "WaveLengthRatio")
    try:
        return wavelength_metadata(
            ka1=angstrom("WaveLengthAlpha1"),
            ka2=angstrom("WaveLengthAlpha2"),
            ratio=number_or_none(ratio_node.get("Value")) if ratio_node is not None else None,
            kbeta=angstrom("WaveLengthBeta"),
            anode=xml_text(find_first(root, "TubeMaterial")),
        )
    except ParseError as exc:
        raise ParseError(f"{file_label(path)}: {exc}") from None


# ---------------------------------------------------------------- RAW v4

RAW4_MAGIC = b"RAW4.00"
_SEGMENTS_AT = 61
_RANGE_MARKERS = (0, 160)
_RANGE_HEADER = 160
_TWO_THETA_SCANS = ("lockedcoupled", "unlockedcoupled", "detectorscan", "coupled")


def read_raw4(path: Path) -> tuple[list[Scan], dict]:
    """Scans and metadata of a Bruker RAW v4 file (module doc)."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise ParseError(f"{file_label(path)}: cannot be opened ({exc.strerror}).") from exc
    if not data.startswith(RAW4_MAGIC):
        raise ParseError(f"{file_label(path)}: not a Bruker RAW v4 file (no RAW4.00 magic).")
    if len(data) < _SEGMENTS_AT:
        raise ParseError(f"{file_label(path)}: {len(data)} bytes, shorter than its header.")
    fields, tube, scans = _walk(data, path)
    if not scans:
        raise ParseError(f"{file_label(path)}: a RAW v4 header without any measured range.")
    meta = tube or wavelength_metadata(ka1=None)
    meta.update(
        sample=fields.get("SAMPLEID") or None,
        instrument=None,
        start_time=f"{_text(data, 12, 12)} {_text(data, 24, 10)}".strip() or None,
        scan_axis=scans[0].info.get("scan_type"),
        raw_fields=fields,
    )
    return scans, meta


def _text(data: bytes, at: int, length: int) -> str:
    return data[at : at + length].split(b"\x00")[0].decode("latin-1").strip()


def _unpack(fmt: str, data: bytes, at: int, path: Path, what: str) -> tuple:
    if at < 0 or at + struct.calcsize(fmt) > len(data):
        raise ParseError(
            f"{file_label(path)}: the file ends inside {what} (byte {at}); it is truncated."
        )
    return struct.unpack_from(fmt, data, at)


def _walk(data: bytes, path: Path) -> tuple[dict, dict, list[Scan]]:
    fields: dict[str, str] = {}
    tube: dict = {}
    scans: list[Scan] = []
    cursor = _SEGMENTS_AT
    while cursor + 8 <= len(data):
        (kind,) = _unpack("<I", data, cursor, path, "a segment")
        if kind == 0 and not data[cursor:].strip(b"\x00"):
            break  # zero padding at the end of the file
        if kind in _RANGE_MARKERS:
            scan, cursor = _range(data, cursor, len(scans), path)
            scans.append(scan)
            continue
        (length,) = _unpack("<I", data, cursor + 4, path, "a segment")
        if length < 8 or cursor + length > len(data):
            raise ParseError(
                f"{file_label(path)}: a header segment at byte {cursor} declares {length} "
                "bytes, which the file does not hold; it is damaged or truncated."
            )
        if kind == 10 and length >= 36:
            fields[_text(data, cursor + 12, 24).upper()] = _text(data, cursor + 36, length - 36)
        elif kind == 30 and length >= 120:
            tube = _tube(data, cursor, path)
        cursor += length
    return fields, tube, scans


def _tube(data: bytes, at: int, path: Path) -> dict:
    _average, ka1, ka2, kbeta, ratio = _unpack("<5d", data, at + 72, path, "the tube record")
    clean = [v if 0.1 <= v <= 3.0 else None for v in (ka1, ka2, kbeta)]
    try:
        return wavelength_metadata(
            ka1=clean[0],
            ka2=clean[1],
            ratio=ratio if 0 <= ratio <= 1 else None,
            kbeta=clean[2],
            anode=_text(data, at + 116, 4),
        )
    except ParseError as exc:
        raise ParseError(f"{file_label(path)}: {exc}") from None


def _range(data: bytes, at: int, number: int, path: Path) -> tuple[Scan, int]:
    label = f"range {number + 1}"
    scan_type = _text(data, at + 32, 24)
    start, step = _unpack("<2d", data, at + 72, path, f"{label}'s header")
    (steps,) = _unpack("<I", data, at + 88, path, f"{label}'s header")
    datum, drives_size = _unpack("<2I", data, at + 136, path, f"{label}'s header")
    key = scan_type.lower().replace(" ", "").replace("_", "")
    if not any(name in key for name in _TWO_THETA_SCANS):
        raise ParseError(
            f"{file_label(path)}: {label} is a '{scan_type}' scan, not a powder 2θ scan; "
            "Kiln reads coupled (θ/2θ) and detector scans."
        )
    if steps < 1 or datum < 4 or datum % 4 or not np.isfinite([start, step]).all() or step == 0:
        raise ParseError(
            f"{file_label(path)}: {label}'s header is not a scan Kiln understands ({steps} "
            f"steps of {datum} bytes from {start!r} by {step!r}); the file may be damaged."
        )
    drives = _drives(data, at + _RANGE_HEADER, drives_size, label, path)
    two_theta_drive = drives.get("2theta", drives.get("twotheta"))
    if two_theta_drive is not None and abs(two_theta_drive - start) > max(2 * abs(step), 0.01):
        raise ParseError(
            f"{file_label(path)}: {label} starts at {start:g}° but its 2Theta drive stood at "
            f"{two_theta_drive:g}°: Kiln cannot tell which axis the scan stepped."
        )
    data_at = at + _RANGE_HEADER + drives_size
    end = data_at + steps * datum
    if end > len(data):
        raise ParseError(
            f"{file_label(path)}: {label} declares {steps} points but the file ends after "
            f"{max(0, (len(data) - data_at) // datum)}; it is truncated."
        )
    records = np.frombuffer(data, dtype="<f4", count=steps * datum // 4, offset=data_at)
    intensity = records.reshape(steps, datum // 4)[:, 0].astype(float)
    whole = bool(np.all(intensity == np.round(intensity)))
    return (
        Scan(
            two_theta_deg=start + step * np.arange(steps),
            intensity=intensity,
            unit="counts" if whole else "arbitrary",
            label=label,
            info={"scan_type": scan_type, "datum_bytes": datum},
        ),
        end,
    )


def _drives(data: bytes, at: int, size: int, label: str, path: Path) -> dict[str, float]:
    """Drive name (lower case, no spaces) -> position, from the records after a range header;
    the records must end exactly where the header says."""
    drives: dict[str, float] = {}
    cursor, end = at, at + size
    while cursor < end:
        kind, length = _unpack("<2I", data, cursor, path, f"{label}'s drive records")
        if length < 8 or cursor + length > end:
            raise ParseError(
                f"{file_label(path)}: {label}'s drive records overrun the {size} bytes its "
                "header declares; the file is damaged or not a layout Kiln knows."
            )
        if kind == 50 and length >= 64:
            name = _text(data, cursor + 12, 24).lower().replace(" ", "")
            (drives[name],) = _unpack("<d", data, cursor + 56, path, "a drive record")
        cursor += length
    return drives
