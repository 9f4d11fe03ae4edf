"""Neware .nda (legacy binary) and .ndax (BTS 8 zip) files.

Read with fastnda (fast, polars based); NewareNDA is the fallback for a file fastnda cannot
read. The two agree to float32 precision on every fixture (tests cross-check them).

Rules (units: mA, V, mAh, mWh, s); cycles, direction and capacities are cycle_model's:
- The cycle index is kept as recorded in the file (fastnda cycle_mode "raw", NewareNDA without
  its software cycle number) as `instrument_cycle`.
- Neware's capacity and energy restart at every step (a counter per step: CC_Chg and CV_Chg
  of one charge are summed by the cycle model).
- Step types: names with "DChg" are discharge, other "Chg" names charge, Rest/Pause/OCV rest,
  everything else (pulse, SIM, ...) other.
"""

from __future__ import annotations

import contextlib
import os
import re
import tempfile
from collections.abc import Iterator
from importlib.metadata import version
from pathlib import Path

import numpy as np
import pandas as pd

from . import _table
from ._zip import DEFAULT_LIMITS, UnpackLimits, verify_archive
from .cycle_model import Counter, Records, normalise
from .detect import NEWARE_NDA
from .errors import ParseError, file_label

_REST_NAMES = ("Rest", "Pause", "OCV")


def read_neware_binary(
    path: str | Path, fmt: str, *, limits: UnpackLimits = DEFAULT_LIMITS
) -> tuple[pd.DataFrame, dict]:
    """Normalised table and metadata for a Neware .nda (`fmt` NEWARE_NDA) or .ndax file.

    A .ndax is checked (_zip.verify_archive: sizes within `limits`, CRCs) before fastnda or
    NewareNDA unpack its members into memory."""
    path = Path(path)
    suffix = ".nda" if fmt == NEWARE_NDA else ".ndax"
    if fmt != NEWARE_NDA:
        verify_archive(path, limits)
    with _named_with_suffix(path, suffix) as named:
        try:
            return _via_fastnda(named)
        except MemoryError:  # the worker's memory limit, not a damaged file (reader.guarded)
            raise
        # Any failure inside a binary reader (EOFError, struct.error, KeyError, ...) means a
        # file it cannot decode; the second reader gets its chance before we give up.
        except Exception as first:  # noqa: BLE001
            try:
                return _via_newarenda(named)
            except MemoryError:
                raise
            except Exception as second:  # noqa: BLE001
                raise ParseError(
                    f"{file_label(path)}: a Neware {suffix} file that cannot be read; it may be "
                    f"truncated or damaged (fastnda: {_first_line(first)}; "
                    f"NewareNDA: {_first_line(second)})."
                ) from second


def _first_line(exc: BaseException) -> str:
    """A library's message, first line only (polars adds the failing expression below)."""
    lines = str(exc).strip().splitlines()
    return lines[0][:200] if lines else type(exc).__name__


@contextlib.contextmanager
def _named_with_suffix(path: Path, suffix: str) -> Iterator[Path]:
    """Both libraries pick their decoder by extension; give them one that matches the content."""
    if path.suffix == suffix:  # NewareNDA compares case-sensitively
        yield path
        return
    with tempfile.TemporaryDirectory() as tmp:
        link = Path(tmp) / f"upload{suffix}"
        os.symlink(path.resolve(), link)
        yield link


def _via_fastnda(path: Path) -> tuple[pd.DataFrame, dict]:
    import fastnda

    raw = fastnda.read(path, cycle_mode="raw")
    step = raw["step_count"].to_numpy()
    records = Records(
        time_s=raw["total_time_s"].to_numpy(),
        voltage_v=raw["voltage_V"].to_numpy(),
        current_ma=raw["current_mA"].to_numpy(),
        step=step,
        step_type=_step_kinds(raw["step_type"]),
        instrument_cycle=raw["cycle_count"].to_numpy(),
        # fastnda signs capacity and energy (- while discharging); the counters restart per step
        capacity=(Counter(raw["capacity_mAh"].to_numpy(), segments=step),),
        energy=(Counter(raw["energy_mWh"].to_numpy(), segments=step),),
    )
    start = raw["unix_time_s"][0] if "unix_time_s" in raw.columns and len(raw) else None
    metadata = _metadata("fastnda", start, raw.columns)
    del raw  # the columns not taken above are freed before normalise allocates the table
    return normalise(records), metadata


def _via_newarenda(path: Path) -> tuple[pd.DataFrame, dict]:
    import NewareNDA

    raw = NewareNDA.read(str(path), software_cycle_number=False, log_level="ERROR")
    stamps = pd.to_datetime(raw["Timestamp"])
    step = raw["Step"].to_numpy()
    records = Records(
        # NewareNDA's "Time" restarts every step (as fastnda's total time, the step times are
        # chained; the wall clock has only 1 s resolution in .nda files).
        time_s=_table.chained(step, raw["Time"].to_numpy(dtype=float)),
        voltage_v=raw["Voltage"].to_numpy(),
        current_ma=raw["Current(mA)"].to_numpy(),
        step=step,
        step_type=_step_kinds(raw["Status"].astype(str).to_numpy()),
        instrument_cycle=raw["Cycle"].to_numpy(),
        capacity=(
            Counter(raw["Charge_Capacity(mAh)"].to_numpy(), segments=step),
            Counter(raw["Discharge_Capacity(mAh)"].to_numpy(), segments=step),
        ),
        energy=(
            Counter(raw["Charge_Energy(mWh)"].to_numpy(), segments=step),
            Counter(raw["Discharge_Energy(mWh)"].to_numpy(), segments=step),
        ),
    )
    start = stamps.iloc[0].timestamp() if len(stamps) else None
    return normalise(records), _metadata("NewareNDA", start, raw.columns)


def _step_kinds(names) -> pd.Categorical:
    """Step names (polars from fastnda, or pandas) -> categorical step types, mapping each
    distinct name once instead of building a million Python strings."""
    if hasattr(names, "to_pandas"):
        import polars as pl

        names = names.cast(pl.Categorical).to_pandas()
    names = pd.Categorical(names)
    code_of = np.array(
        [_table.STEP_TYPES.index(neware_step_kind(str(c))) for c in names.categories] + [3],
        dtype=np.int8,
    )  # the extra last entry: a missing name (code -1) is "other"
    return pd.Categorical.from_codes(code_of[names.codes], categories=_table.STEP_TYPES)


def neware_step_kind(name: str) -> str:
    """charge / discharge / rest / other for a Neware step name (CC_Chg, "CC DChg", Rest ...)."""
    if "DChg" in name:
        return _table.DISCHARGE
    if "Chg" in name:
        return _table.CHARGE
    if name in _REST_NAMES:
        return _table.REST
    return _table.OTHER


def _metadata(library: str, start_unix_s: float | None, columns: list[str]) -> dict:
    start = pd.Timestamp(start_unix_s, unit="s", tz="UTC").isoformat() if start_unix_s else None
    return {
        "source_library": library,
        "source_version": version(library),
        "units_seen": {"current": "mA", "voltage": "V", "capacity": "mAh", "energy": "mWh"},
        "start_time_utc": start,
        "aux_columns": [c for c in columns if re.fullmatch(r"aux.*|T\d+", c)],
    }
