"""BioLogic EC-Lab files: binary .mpr (via datalab-org-galvani, GPL-3) and text .mpt (own reader).

Both are first turned into one frame with EC-Lab's column names ("time/s", "Ewe/V", "I/mA",
"Q charge/discharge/mA.h", "half cycle", "mode", ...), then classified:
- EIS (a "freq/Hz" column): not cycling; `read_biologic_eis` returns EIS_COLUMNS.
- potentiostatic only (no galvanostatic "mode" 1 record; CA, PITT step, CV): not cycling.
- otherwise galvanostatic cycling (GCPL), normalised as below.

Cycling rules (units: mA, V, mAh, s); cycles, direction and capacities are cycle_model's:
- EC-Lab counts half cycles; its "Q charge/discharge/mA.h" restarts at each one (a counter per
  half cycle) and is > 0 in a charge and < 0 in a discharge half cycle: that sign is the step
  type; mode 3 (OCV) records are rest. Without Q, dq per record is an increment counter.
- EC-Lab's "cycle number", where exported, is kept as `instrument_cycle`.
- GCPL files often hold no current column: current is then dq/dt (3600 * dq_mAh / dt_s), the
  mean current over each record interval.
- Energy columns are NaN: GCPL records hold none that resets per half cycle.
"""

from __future__ import annotations

import io
import re
from importlib.metadata import version
from pathlib import Path

import numpy as np
import pandas as pd

from . import _table
from .cycle_model import Counter, Records, normalise
from .detect import BIOLOGIC_MPR
from .errors import NotCyclingFileError, ParseError, file_label
from .schema import IMPEDANCE_COLUMNS

EIS_COLUMNS = IMPEDANCE_COLUMNS  # the impedance table (schema.py)

CYCLING, EIS, POTENTIAL_STEP = "cycling", "eis", "potential_step"
_GALVANOSTATIC, _REST_MODE = 1, 3
_NOT_CYCLING = {
    EIS: "an impedance measurement (EIS/PEIS)",
    POTENTIAL_STEP: "a potentiostatic measurement (chronoamperometry / potential step)",
}


def read_biologic(path: str | Path, fmt: str) -> tuple[pd.DataFrame, dict]:
    """Normalised cycling table and metadata; NotCyclingFileError for EIS or CA files."""
    data, meta = load_biologic(path, fmt)
    if meta["measurement"] != CYCLING:
        raise NotCyclingFileError(
            f"{file_label(path)}: {_NOT_CYCLING[meta['measurement']]}, not a cycling file; "
            "it holds no charge/discharge cycles.",
            kind=meta["measurement"],
        )
    return _cycling_table(data), meta


def read_biologic_eis(path: str | Path, fmt: str) -> tuple[pd.DataFrame, dict]:
    """EIS table (EIS_COLUMNS): z_imag_ohm is Im(Z), negative on a capacitive arc."""
    data, meta = load_biologic(path, fmt)
    if meta["measurement"] != EIS:
        raise ParseError(f"{file_label(path)}: not an impedance (EIS) measurement.")
    table = pd.DataFrame(
        {
            "time_s": data["time/s"].astype(float),
            "freq_hz": data["freq/Hz"].astype(float),
            "z_real_ohm": data["Re(Z)/Ohm"].astype(float),
            "z_imag_ohm": -data["-Im(Z)/Ohm"].astype(float),
            "cycle": data.get("cycle number", pd.Series(1, index=data.index)).astype(np.int64),
        }
    )
    return table[list(EIS_COLUMNS)], meta


def load_biologic(path: str | Path, fmt: str) -> tuple[pd.DataFrame, dict]:
    """EC-Lab-named frame and metadata (measurement kind, source library, units seen)."""
    data, meta = _load_mpr(Path(path)) if fmt == BIOLOGIC_MPR else _load_mpt(Path(path))
    meta["measurement"] = _measurement(data)
    meta["units_seen"] = _units_seen(data.columns)
    if "I/mA" not in data.columns and meta["measurement"] == CYCLING:
        meta["units_seen"]["current"] = "mA (from dq/dt)"
    return data, meta


def _load_mpr(path: Path) -> tuple[pd.DataFrame, dict]:
    from galvani import BioLogic

    try:
        mpr = BioLogic.MPRfile(str(path))
    except MemoryError:  # the worker's memory limit, not a damaged file (reader.guarded)
        raise
    # galvani signals a damaged file with OSError, ValueError, AssertionError or RuntimeError.
    except Exception as exc:  # noqa: BLE001
        raise ParseError(
            f"{file_label(path)}: a BioLogic .mpr file that cannot be read; it may be truncated "
            f"or damaged ({type(exc).__name__}: {str(exc).strip().splitlines()[0]})."
        ) from exc
    data = pd.DataFrame(mpr.data)
    for flag in ("mode", "ox/red"):
        if flag in mpr.flags_dict:
            data[flag] = mpr.get_flag(flag)
    stamp = getattr(mpr, "timestamp", None)
    meta = {
        "source_library": "datalab-org-galvani",
        "source_version": version("datalab-org-galvani"),
        "start_time_local": stamp.isoformat() if stamp else str(mpr.startdate),
    }
    return data, meta


def _load_mpt(path: Path) -> tuple[pd.DataFrame, dict]:
    """EC-Lab text export: line 2 gives the header line count; the last header line names
    the tab-separated columns. Latin-1 (EC-Lab writes µ as 0xB5); decimal comma accepted."""
    lines = path.read_bytes().decode("latin-1").splitlines()
    match = re.match(r"Nb header lines\s*:\s*(\d+)", lines[1]) if len(lines) > 1 else None
    if not match or int(match.group(1)) > len(lines):
        raise ParseError(f"{file_label(path)}: an EC-Lab text file with a damaged header.")
    n_header = int(match.group(1))
    body = "\n".join(lines[n_header - 1 :])
    comma = len(lines) > n_header and "," in lines[n_header] and "." not in lines[n_header]
    data = pd.read_csv(io.StringIO(body), sep="\t", decimal="," if comma else ".")
    data = data.loc[:, [c for c in data.columns if not c.startswith("Unnamed")]]
    data = _drop_cut_last_line(data, path)
    technique = lines[3].strip() if n_header > 3 else ""
    start = next((ln.split(":", 1)[1].strip() for ln in lines if "started on" in ln), None)
    meta = {"source_library": "kiln", "technique": technique, "start_time_local": start}
    return data, meta


def _drop_cut_last_line(data: pd.DataFrame, path: Path) -> pd.DataFrame:
    """A file copied while EC-Lab was writing may end mid-line; any other gap is damage."""
    numeric = data.apply(pd.to_numeric, errors="coerce")
    bad = numeric.isna().any(axis=1).to_numpy()
    if bad[:-1].any() or len(data) == 0:
        raise ParseError(f"{file_label(path)}: an EC-Lab text file with unreadable data lines.")
    out = numeric.iloc[:-1] if bad[-1] else numeric
    out.attrs["cut_last_line"] = bool(bad[-1])  # said in the result's warnings
    return out


_QUANTITIES = {
    "time/s": "time",
    "Ewe/V": "voltage",
    "I/mA": "current",
    "dq/mA.h": "capacity",
    "dQ/C": "capacity",
    "Q charge/discharge/mA.h": "capacity",
    "freq/Hz": "frequency",
    "Re(Z)/Ohm": "impedance",
}


def _units_seen(columns: pd.Index) -> dict[str, str]:
    """quantity -> unit, from the EC-Lab column names ("dq/mA.h" -> capacity: mA.h)."""
    units: dict[str, str] = {}
    for column, quantity in _QUANTITIES.items():
        if column in columns:
            units.setdefault(quantity, column.rsplit("/", 1)[-1])
    return units


def _measurement(data: pd.DataFrame) -> str:
    if "freq/Hz" in data.columns:
        return EIS
    if "mode" in data.columns:
        galvanostatic = (data["mode"] == _GALVANOSTATIC).any()
    else:
        galvanostatic = "control/V/mA" in data.columns or "control/mA" in data.columns
    return CYCLING if galvanostatic else POTENTIAL_STEP


def _cycling_table(data: pd.DataFrame) -> pd.DataFrame:
    time_s = data["time/s"].to_numpy(dtype=float)
    current = _current_ma(data, time_s)
    half = _half_cycles(data, current)
    q_mah = _running_q_mah(data)
    direction = _half_cycle_direction(half, q_mah if q_mah is not None else current)
    rest = data["mode"].to_numpy() == _REST_MODE if "mode" in data.columns else current == 0
    if q_mah is not None:
        counter = Counter(q_mah, segments=half)
    else:
        counter = Counter(_dq_mah(data), kind="increments")
    cycle = data["cycle number"].to_numpy() if "cycle number" in data.columns else None
    return normalise(
        Records(
            time_s=time_s,
            voltage_v=data["Ewe/V"].to_numpy(dtype=float),
            current_ma=current,
            step=_table.run_ids(half, data["Ns"] if "Ns" in data.columns else half, rest),
            step_type=np.where(rest, _table.REST, direction),
            instrument_cycle=None if cycle is None else cycle.astype(np.int64),
            capacity=(counter,),
            notes={"cut_last_line": data.attrs.get("cut_last_line", False)},
        )
    )


def _dq_mah(data: pd.DataFrame) -> np.ndarray | None:
    for column, scale in (("dq/mA.h", 1.0), ("dQ/mA.h", 1.0), ("dQ/C", 1 / 3.6)):
        if column in data.columns:
            return data[column].to_numpy(dtype=float) * scale
    return None


def _current_ma(data: pd.DataFrame, time_s: np.ndarray) -> np.ndarray:
    """I/mA when recorded, else the mean current of each interval, 3600 * dq_mAh / dt_s."""
    if "I/mA" in data.columns:
        return data["I/mA"].to_numpy(dtype=float)
    dq = _dq_mah(data)
    if dq is None:
        raise ParseError("EC-Lab data without a current or charge column; cannot derive current.")
    dt = np.diff(time_s, prepend=time_s[:1])
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(dt > 0, 3600.0 * dq / dt, 0.0)


def _half_cycles(data: pd.DataFrame, current: np.ndarray) -> np.ndarray:
    """EC-Lab's half-cycle counter, or (when not exported) a new one at each current sign
    change, rest rows staying with the half cycle before them."""
    if "half cycle" in data.columns:
        return data["half cycle"].to_numpy(dtype=np.int64)
    sign = pd.Series(np.sign(current)).replace(0.0, np.nan).ffill().fillna(0.0)
    return _table.run_ids(sign.to_numpy())


def _running_q_mah(data: pd.DataFrame) -> np.ndarray | None:
    """EC-Lab's charge passed in the current half cycle, signed (> 0 charging), if exported."""
    if "Q charge/discharge/mA.h" in data.columns:
        return data["Q charge/discharge/mA.h"].to_numpy(dtype=float)
    if _dq_mah(data) is None:
        raise ParseError("EC-Lab data without a capacity column (Q charge/discharge or dq).")
    return None


def _half_cycle_direction(half: np.ndarray, signed: np.ndarray) -> np.ndarray:
    """charge / discharge / rest per row, from the sign of its half cycle's largest |Q| (or,
    without Q, of its largest |I|)."""
    grouped = pd.Series(signed).groupby(half)
    q_max, q_min = grouped.transform("max").to_numpy(), grouped.transform("min").to_numpy()
    kinds = np.where(q_max >= -q_min, _table.CHARGE, _table.DISCHARGE)
    return np.where((q_max <= 0) & (q_min >= 0), _table.REST, kinds).astype(object)
