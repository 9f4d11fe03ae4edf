"""NETZSCH Proteus binary measurement files (.ngb-ss3 sample, .ngb-ds3 sample + correction), read
through pyngb (MIT, github.com/GraysonBellamy/pyngb). STA files carry DSC and TG together.

Rules (checked on GraysonBellamy/pyngb tests/test_files/01_Messung_Probe_G_300_Grad_Ar.ngb-ds3,
an STA 449 F3 file):
- the container is a zip of binary streams; its directory and members are checked against
  Kiln's unpack limits (_zip.verify_archive) before pyngb unpacks it;
- a sample + correction file (.ngb-ds3) embeds the correction (baseline) run it was measured
  against; Kiln reads pyngb's run="corrected" (the correction subtracted, aligned on sample
  temperature), which is what Proteus displays. A sample-only file (.ngb-ss3) is read as is.
  A correction-only file (.ngb-bs3) is not a sample measurement (ParseError);
- columns: pyngb's time (s), sample_temperature (°C), dsc_signal, mass (TG, mg); units come
  from pyngb's column metadata and are converted (time min/h, K, W, W/g ...);
- a dsc_signal in µV is the raw thermocouple voltage: it is converted to mW with the file's
  sensitivity calibration (pyngb.api.analysis.apply_dsc_calibration: P2..P5, z = (T − P0)/P1).
  Where the calibration is not valid (sensitivity ≤ 0.01 µV/mW, outside its temperature range)
  pyngb gives NaN, and a warning says how many points; no calibration at all is a ParseError;
- sign: NETZSCH records endothermic effects negative (pyngb documents that Proteus stores the
  peak areas of endothermic calibration standards negative; on the real file, the drying of
  the paper sample shows as a negative signal), i.e. exotherm positive: kept as is;
- the sample mass is metadata["sample_mass"] (mg); TG is `mass` (mg), given relative to its
  first point.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd

from ._zip import damaged_message, open_archive, verify_archive
from .errors import ParseError, file_label
from .thermal_table import (
    heat_flow_to_mw,
    seconds_per,
    temperature_to_c,
    thermal_table,
    unit_key,
    warning,
)

NETZSCH_NGB = "netzsch_ngb"
_STREAM = "Streams/stream_1.table"
_META_KEYS = {
    "instrument": "instrument",
    "sample_name": "sample_name",
    "sample_id": "sample_id",
    "material": "material",
    "operator": "operator",
    "project": "project",
    "date_performed": "date_performed",
    "crucible_type": "crucible_type",
    "comment": "comment",
    "application_version": "application_version",
    "correction_file": "correction_file_path",
}


def looks_like_ngb(path: str | Path) -> bool:
    """True for a zip archive holding NETZSCH's Streams/stream_1.table (any .ngb-* file)."""
    try:
        with Path(path).open("rb") as fh:
            if fh.read(4) != b"PK\x03\x04":
                return False
        with open_archive(path) as archive:
            return _STREAM in archive.namelist()
    except (OSError, ParseError):
        return False


def read_netzsch_ngb(path: str | Path) -> tuple[pd.DataFrame, dict]:
    """The thermal table and metadata of a NETZSCH .ngb-ss3/.ngb-ds3 file (module doc)."""
    from pyngb import read_ngb, read_ngb_metadata  # slow import (~1 s): only when needed

    path = Path(path)
    names = _verified(path)
    if _STREAM not in names:
        raise ParseError(f"{file_label(path)}: a zip archive, but not a NETZSCH NGB file.")
    info = read_ngb_metadata(path)
    kind = info.get("measurement_type", "sample")
    if kind == "correction":
        raise ParseError(
            f"{file_label(path)}: a NETZSCH correction (baseline) run, not a sample "
            "measurement; upload the sample file (.ngb-ss3 or .ngb-ds3)."
        )
    run = "corrected" if kind == "sample_correction" else "sample"
    arrow = read_ngb(path, run=run)
    columns = set(arrow.column_names)
    _require(columns, path)
    units = {name: _units(arrow, name) for name in arrow.column_names}
    file_meta = json.loads(arrow.schema.metadata[b"file_metadata"])
    mass_mg = _sample_mass(file_meta)
    arrow, dsc_unit, warnings = _calibrated(arrow, units["dsc_signal"], path)
    frame = arrow.to_pandas()
    heat_flow = heat_flow_to_mw(
        frame["dsc_signal"].to_numpy(dtype=float), dsc_unit, mass_mg, path, "the DSC signal"
    )
    tg = None
    if "mass" in columns and unit_key(units["mass"]) == "mg":
        tg = frame["mass"].to_numpy(dtype=float)
    table = thermal_table(
        path,
        time_s=frame["time"].to_numpy(dtype=float) * seconds_per(units["time"], path, "time"),
        temperature_c=temperature_to_c(
            frame["sample_temperature"].to_numpy(dtype=float),
            units["sample_temperature"],
            path,
            "the sample temperature",
        ),
        heat_flow_mw=heat_flow,
        sample_mass_mg=mass_mg,
        mass_change_mg=tg,
        warnings=warnings,
    )
    meta = {
        "source_library": "pyngb",
        "source_version": _pyngb_version(),
        "format": NETZSCH_NGB,
        "measurement": "sta" if "mass" in columns else "dsc",
        **{key: file_meta.get(name) for key, name in _META_KEYS.items()},
        "measurement_type": kind,
        "run": run,
        "sample_mass_mg": mass_mg,
        "exotherm_direction_declared": None,
        "exotherm_direction_used": "up",
        "heat_flow_sign": "as in the file: NETZSCH records endothermic effects negative",
        "units_seen": {
            "time": units["time"],
            "temperature": units["sample_temperature"],
            "heat_flow": units["dsc_signal"],
            **({"tg": units["mass"]} if tg is not None else {}),
        },
        "dsc_calibration_applied": dsc_unit != units["dsc_signal"],
        "columns_in_file": list(arrow.column_names),
        "temperature_program": file_meta.get("temperature_program"),
        "warnings": warnings,
    }
    return table, meta


def _verified(path: Path) -> list[str]:
    """The archive's member names after Kiln's unpack checks, with NETZSCH's words for a file
    that is not a zip or is damaged."""
    try:
        with path.open("rb") as fh:
            is_zip = fh.read(4) == b"PK\x03\x04"
    except OSError as exc:
        raise ParseError(f"{file_label(path)}: cannot be opened ({exc.strerror}).") from exc
    if not is_zip:
        raise ParseError(f"{file_label(path)}: not a NETZSCH .ngb file (those are zip containers).")
    try:
        return verify_archive(path)
    except ParseError as exc:
        if str(exc) != damaged_message(path):
            raise  # over Kiln's unpack limits: that message says so
        raise ParseError(
            f"{file_label(path)}: a NETZSCH .ngb file that is damaged or truncated; upload the "
            "complete file again."
        ) from exc


def _require(columns: set[str], path: Path) -> None:
    name = file_label(path)
    if "dsc_signal" not in columns:
        what = "a dilatometer file" if "length_change" in columns else "a file without DSC"
        raise ParseError(
            f"{name}: {what} (its signals: {', '.join(sorted(columns))}); a DSC analysis "
            "needs a DSC signal."
        )
    missing = [c for c in ("time", "sample_temperature") if c not in columns]
    if missing:
        raise ParseError(f"{name}: the file has no {' or '.join(missing)} signal.")


def _units(arrow, name: str) -> str:
    meta = arrow.schema.field(name).metadata or {}
    return meta.get(b"units", b"").decode("utf-8", errors="replace")


def _sample_mass(file_meta: dict) -> float | None:
    value = file_meta.get("sample_mass")
    try:
        mass = float(value)
    except (TypeError, ValueError):
        return None
    return mass if np.isfinite(mass) and mass > 0 else None


def _calibrated(arrow, unit: str, path: Path):
    """(table, unit of its dsc_signal, warnings): µV converted to mW with the file's
    sensitivity calibration, other units left for heat_flow_to_mw."""
    if unit_key(unit) != "uv":
        return arrow, unit, []
    from pyngb.api.analysis import apply_dsc_calibration

    raw = arrow.column("dsc_signal").to_numpy()
    try:
        arrow = apply_dsc_calibration(arrow)
    except (ValueError, KeyError) as exc:
        raise ParseError(
            f"{file_label(path)}: the DSC signal is a raw thermocouple voltage (µV) and the "
            f"file holds no usable sensitivity calibration to give it in mW ({exc})."
        ) from exc
    lost = int((np.isfinite(raw) & ~np.isfinite(arrow.column("dsc_signal").to_numpy())).sum())
    warnings = []
    if lost:
        warnings.append(
            warning(
                "calibration_range",
                f"{lost} point(s) lie outside the temperature range of the file's DSC "
                "sensitivity calibration; their heat flow is left empty.",
            )
        )
    return arrow, "mW", warnings


def _pyngb_version() -> str | None:
    try:
        from importlib.metadata import version

        return version("pyngb")
    except Exception:  # noqa: BLE001 - a version is only informative
        return None
