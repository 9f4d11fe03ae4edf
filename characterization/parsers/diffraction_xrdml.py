"""PANalytical .xrdml (XRDMeasurement schema 1.0-2.1; Data Collector, X'Pert, Empyrean,
Aeris). Own reader on defusedxml.

Rules, checked on datalab's CG20396_jdb12-1.xrdml (schema 1.5) and, for 2.x, on synthetic
files written from the schema's element names (no public 2.x powder file was at hand):
- root <xrdMeasurements xmlns=".../XRDMeasurement/<version>">; one or more <xrdMeasurement>,
  each with <usedWavelength intended="K-Alpha|K-Alpha 1|..."> (kAlpha1, kAlpha2, kBeta in
  unit="Angstrom" or "nm", ratioKAlpha2KAlpha1), <incidentBeamPath><xRayTube><anodeMaterial>,
  and one or more <scan scanAxis=... status=...>: several scans (an in situ series, repeats)
  become several scans of the table, in document order;
- <dataPoints>: per axis a <positions axis=... unit="deg"> with <listPositions> (one value per
  point; their number must equal the intensities'), <startPosition>/<endPosition> (equal steps,
  as many points as intensities) or <commonPosition> (the axis did not move); 2θ is the axis
  "2Theta" and must move, else the scan is not a powder 2θ scan and is refused;
- intensities: schema 1.x <intensities> are "counts multiplied by the beam attenuation
  factor" (kept as they are); schema 2.x <counts> are raw detector counts, multiplied here by
  <beamAttenuationFactors> (per point) or <commonBeamAttenuationFactor>. unit="counts" or
  "cps". Counting time per step: <commonCountingTime> or the mean of <countingTimes> (s);
- divergence-slit corrections (<divergenceCorrections>, <commonDivergenceCorrection>) are
  not applied (the schema does not say how they combine): metadata says so;
- usedWavelength intended="K-Alpha 1" means the beam is monochromated to Kα1: no Kα2.
yadg's xrdml reader fails on 2.x files (it looks for <intensities>); fairmat-readers-xrd
reads 1.5 and 2.x single scans right (checked against this reader in the tests) but stops on
several scans of one file (NotImplementedError for 'multiline'), ignores the intensity unit
and the divergence corrections, so Kiln reads .xrdml itself.
"""

from __future__ import annotations

import re
from pathlib import Path
from xml.etree.ElementTree import Element

import numpy as np

from .diffraction_scan import Scan, number_or_none, wavelength_metadata
from .diffraction_xml import find_first, parse_xml, xml_text
from .errors import ParseError, file_label

_VERSION = re.compile(rb'xmlns="http://www\.xrdml\.com/XRDMeasurement/([0-9.]+)"')
_MOVING_2THETA = {"gonio", "2theta", "2theta-omega", "omega-2theta", "2theta/omega", ""}


def read_xrdml(path: Path) -> tuple[list[Scan], dict]:
    """Scans and metadata of a PANalytical .xrdml file (module doc)."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise ParseError(f"{file_label(path)}: cannot be opened ({exc.strerror}).") from exc
    root = parse_xml(data, None, path)
    if root.tag != "xrdMeasurements":
        raise ParseError(f"{file_label(path)}: an XML file, but not PANalytical .xrdml.")
    measurements = root.findall("xrdMeasurement")
    scans: list[Scan] = []
    notes: list[str] = []
    for measurement in measurements:
        for node in measurement.findall("scan"):
            scan = _scan(node, len(scans), path, notes)
            if scan is not None:
                scans.append(scan)
    if not scans:
        raise ParseError(f"{file_label(path)}: the .xrdml file holds no measured scan.")
    version = _VERSION.search(data[:4096])
    meta = _wavelengths(measurements[0], path)
    meta.update(
        schema_version=version.group(1).decode() if version else None,
        sample=xml_text(root.find("sample/name")) or xml_text(root.find("sample/id")),
        instrument=xml_text(find_first(root, "instrumentID")),
        start_time=xml_text(find_first(root, "startTimeStamp")),
        scan_axis=measurements[0].find("scan").get("scanAxis") if scans else None,
        notes=notes,
    )
    meta["divergence_correction_not_applied"] = any(
        s.info.get("divergence_correction") for s in scans
    )
    return scans, meta


def _floats(node: Element | None, what: str, label: str, path: Path) -> np.ndarray | None:
    text = xml_text(node)
    if text is None:
        return None
    try:
        return np.asarray(text.split(), dtype=float)
    except ValueError:
        raise ParseError(f"{file_label(path)}: {label}: <{what}> holds a non-number.") from None


def _scan(node: Element, number: int, path: Path, notes: list[str]) -> Scan | None:
    label = f"scan {number + 1}"
    points = node.find("dataPoints")
    status = node.get("status")
    counts_node = None if points is None else points.find("intensities")
    raw = counts_node is None
    if raw and points is not None:
        counts_node = points.find("counts")
    counts = _floats(counts_node, "intensities", label, path)
    if counts is None or counts.size == 0:
        notes.append(f"{label} (status {status or 'unknown'}) holds no intensities; skipped")
        return None
    two_theta = _two_theta(points, node.get("scanAxis", ""), counts.size, label, path)
    factor = _attenuation(points, counts.size, label, path)
    unit = (counts_node.get("unit") or "counts").strip().lower()
    if unit not in ("counts", "cps"):
        raise ParseError(f"{file_label(path)}: {label} has intensity unit '{unit}', unknown.")
    intensity = counts * factor if raw else counts
    times = _floats(points.find("countingTimes"), "countingTimes", label, path)
    common = number_or_none(xml_text(points.find("commonCountingTime")))
    return Scan(
        two_theta_deg=two_theta,
        intensity=intensity,
        unit=unit,
        attenuation=factor,
        counting_time_s=common if common else (float(times.mean()) if times is not None else None),
        label=label,
        info={
            "status": status,
            "scan_axis": node.get("scanAxis"),
            "mode": node.get("mode"),
            "start_time": xml_text(node.find("header/startTimeStamp")),
            "divergence_correction": points.find("divergenceCorrections") is not None
            or points.find("commonDivergenceCorrection") is not None,
        },
    )


def _two_theta(points: Element, scan_axis: str, n: int, label: str, path: Path) -> np.ndarray:
    node = next((p for p in points.findall("positions") if p.get("axis") == "2Theta"), None)
    if node is None:
        raise ParseError(f"{file_label(path)}: {label} has no 2Theta positions.")
    unit = (node.get("unit") or "deg").lower()
    if unit not in ("deg", "degree", "degrees", "°"):
        raise ParseError(f"{file_label(path)}: {label} gives 2θ in '{unit}', not degrees.")
    listed = _floats(node.find("listPositions"), "listPositions", label, path)
    if listed is not None:
        if listed.size != n:
            raise ParseError(
                f"{file_label(path)}: {label} lists {listed.size} 2θ positions for {n} "
                "intensities; the file is damaged."
            )
        return listed
    start = number_or_none(xml_text(node.find("startPosition")))
    end = number_or_none(xml_text(node.find("endPosition")))
    if start is not None and end is not None:
        return np.linspace(start, end, n)
    raise ParseError(
        f"{file_label(path)}: {label} holds 2θ fixed (scan axis '{scan_axis}'): not a powder "
        "2θ scan (a rocking curve or another axis); Kiln reads 2θ scans."
    )


def _attenuation(points: Element, n: int, label: str, path: Path) -> np.ndarray:
    listed = _floats(points.find("beamAttenuationFactors"), "beamAttenuationFactors", label, path)
    if listed is not None:
        if listed.size != n:
            raise ParseError(
                f"{file_label(path)}: {label} has {listed.size} attenuation factors for {n} "
                "intensities; the file is damaged."
            )
        return listed
    common = number_or_none(xml_text(points.find("commonBeamAttenuationFactor")))
    return np.full(n, common if common else 1.0)


def _wavelengths(measurement: Element, path: Path) -> dict:
    used = measurement.find("usedWavelength")

    def angstrom(tag: str) -> float | None:
        node = None if used is None else used.find(tag)
        value = number_or_none(xml_text(node))
        if value is not None and (node.get("unit") or "").lower() == "nm":
            value *= 10.0
        return value

    intended = (used.get("intended") if used is not None else "") or ""
    try:
        meta = wavelength_metadata(
            ka1=angstrom("kAlpha1"),
            ka2=angstrom("kAlpha2"),
            ratio=number_or_none(xml_text(used.find("ratioKAlpha2KAlpha1")))
            if used is not None
            else None,
            kbeta=angstrom("kBeta"),
            anode=xml_text(measurement.find("incidentBeamPath/xRayTube/anodeMaterial")),
            ka1_only=intended.replace(" ", "").lower() == "k-alpha1",
        )
    except ParseError as exc:
        raise ParseError(f"{file_label(path)}: {exc}") from None
    meta["wavelength_intended"] = intended or None
    return meta
