"""Neware .nda (legacy binary) and .ndax (BTS 8 zip) files.

Read with fastnda (fast, polars based); NewareNDA is the fallback for a file fastnda cannot
read. The two agree to float32 precision on every fixture (tests cross-check them).

Rules (units: mA, V, mAh, mWh, s):
- Cycle labels are fastnda/NewareNDA's cycle_mode "chg": a new cycle starts at a charge step
  that follows a discharge, so a leading discharge is cycle 1 (the instrument-style count).
- Neware's capacity and energy restart at every step, so a cycle's charge is the SUM of its
  charge steps' maxima (CC_Chg + CV_Chg ...), built here as a cumulative-within-cycle column.
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
from .detect import NEWARE_NDA
from .errors import ParseError, file_label

_REST_NAMES = ("Rest", "Pause", "OCV")


def read_neware_binary(path: str | Path, fmt: str) -> tuple[pd.DataFrame, dict]:
    """Normalised table and metadata for a Neware .nda (`fmt` NEWARE_NDA) or .ndax file."""
    path = Path(path)
    suffix = ".nda" if fmt == NEWARE_NDA else ".ndax"
    with _named_with_suffix(path, suffix) as named:
        try:
            return _via_fastnda(named)
        # Any failure inside a binary reader (EOFError, struct.error, KeyError, ...) means a
        # file it cannot decode; the second reader gets its chance before we give up.
        except Exception as first:  # noqa: BLE001
            try:
                return _via_newarenda(named)
            except Exception as second:  # noqa: BLE001
                raise ParseError(
                    f"{file_label(path)}: a Neware {suffix} file that cannot be read; it may be "
                    f"truncated or damaged (fastnda: {first}; NewareNDA: {second})."
                ) from second


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

    raw = fastnda.read(path, cycle_mode="chg")
    capacity = raw["capacity_mAh"].to_numpy().astype(float)
    energy = raw["energy_mWh"].to_numpy().astype(float)
    table = _normalise(
        time_s=raw["total_time_s"].to_numpy(),
        cycle=raw["cycle_count"].to_numpy(),
        step=raw["step_count"].to_numpy(),
        names=raw["step_type"],
        current_ma=raw["current_mA"].to_numpy(),
        voltage_v=raw["voltage_V"].to_numpy(),
        # fastnda signs capacity and energy: + while charging, - while discharging.
        running=(capacity.clip(min=0), (-capacity).clip(min=0)),
        running_energy=(energy.clip(min=0), (-energy).clip(min=0)),
    )
    start = raw["unix_time_s"][0] if "unix_time_s" in raw.columns and len(raw) else None
    return table, _metadata("fastnda", start, raw.columns)


def _via_newarenda(path: Path) -> tuple[pd.DataFrame, dict]:
    import NewareNDA

    raw = NewareNDA.read(str(path), cycle_mode="chg", log_level="ERROR")
    stamps = pd.to_datetime(raw["Timestamp"])
    table = _normalise(
        # NewareNDA's "Time" restarts every step (as fastnda's total time, the step times
        # are chained; the wall clock has only 1 s resolution in .nda files).
        time_s=_table.cumulative_in_cycle(
            np.zeros(len(raw)), raw["Step"].to_numpy(), raw["Time"].to_numpy(dtype=float)
        ),
        cycle=raw["Cycle"].to_numpy(),
        step=raw["Step"].to_numpy(),
        names=raw["Status"].astype(str).to_numpy(),
        current_ma=raw["Current(mA)"].to_numpy(),
        voltage_v=raw["Voltage"].to_numpy(),
        running=(raw["Charge_Capacity(mAh)"].to_numpy(), raw["Discharge_Capacity(mAh)"].to_numpy()),
        running_energy=(
            raw["Charge_Energy(mWh)"].to_numpy(),
            raw["Discharge_Energy(mWh)"].to_numpy(),
        ),
    )
    start = stamps.iloc[0].timestamp() if len(stamps) else None
    return table, _metadata("NewareNDA", start, raw.columns)


def _normalise(
    *,
    time_s: np.ndarray,
    cycle: np.ndarray,
    step: np.ndarray,
    names,
    current_ma: np.ndarray,
    voltage_v: np.ndarray,
    running: tuple[np.ndarray, np.ndarray],
    running_energy: tuple[np.ndarray, np.ndarray],
) -> pd.DataFrame:
    """Per-step running values (restarting each step) -> cumulative-within-cycle table."""
    kinds = _step_kinds(names)
    charge, discharge, charge_e, discharge_e = _table.cumulative_in_cycle_many(
        cycle, step, *running, *running_energy
    )
    return _table.build_table(
        time_s=time_s,
        cycle=cycle,
        step=step,
        step_type=kinds,
        current_ma=current_ma,
        voltage_v=voltage_v,
        charge_mah=charge,
        discharge_mah=discharge,
        charge_mwh=charge_e,
        discharge_mwh=discharge_e,
    )


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
        "cycle_rule": "Neware cycle_mode 'chg' (fastnda/NewareNDA)",
    }
