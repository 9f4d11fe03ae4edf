"""BioLogic EC-Lab potential-step files: CA (chronoamperometry), PITT and Modulo Bat (MB)
sequences, as .mpt text exports or .mpr binaries.

Both are loaded by biologic.load_biologic (Kiln's own .mpt reader; datalab-org-galvani for
.mpr), which gives EC-Lab's column names. Then:
- only potentiostatic records (mode 2) are steps; an MB file's rest (mode 3) records are left
  out and counted in metadata["rows_left_out"]. A file with galvanostatic records (mode 1) is
  a cycling file (refused; its CV holds are not PITT steps) unless its technique line says
  Modulo Bat. A file without a mode column is taken as potentiostatic throughout;
- time "time/s"; potential "Ewe/V" (else "Ecell/V"); current "I/mA" or "<I>/mA" (EC-Lab's
  averaged current), also in µA; set potential "control/V" (absent: NaN);
- a new step starts where EC-Lab's sequence number Ns changes, where the set potential
  control/V changes (a loop back to the same Ns with a new potential), or after records of
  another mode were left out. Files without Ns and control/V fall back to jumps of Ewe.

EC-Lab's current is > 0 for oxidation (anodic), the charge of a cathode; it is kept as is.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd

from .biologic import EIS, load_biologic
from .errors import ParseError, file_label
from .potential_steps import (
    SET_POTENTIAL_RESOLUTION_V,
    changes,
    cut_last_line,
    finish,
    ids_from_boundaries,
)
from .potential_steps_text import CURRENT_UNITS, factor

BIOLOGIC_MPT_MAGICS = ("EC-Lab ASCII FILE", "BT-Lab ASCII FILE")
_POTENTIOSTATIC, _GALVANOSTATIC, _REST = 2, 1, 3
_CURRENT = re.compile(r"^<?I>?/(.+)$")
_MODE_NAMES = {_GALVANOSTATIC: "galvanostatic (mode 1)", _REST: "rest / open circuit (mode 3)"}


def recognise_biologic_mpt(head_text: str) -> str | None:
    """ "biologic_mpt" for an EC-Lab/BT-Lab text export (its first line), else None. Any
    technique: which records are potential steps is decided on reading."""
    from .detect import BIOLOGIC_MPT

    first = head_text.lstrip("\ufeff").splitlines()[:1]
    return BIOLOGIC_MPT if first and first[0].startswith(BIOLOGIC_MPT_MAGICS) else None


def read(path: Path, fmt: str, *, min_step_mv: float) -> tuple[pd.DataFrame, dict]:
    data, meta = load_biologic(path, fmt)
    label = file_label(path)
    if data.attrs.get("cut_last_line"):
        raise cut_last_line(path)
    technique = meta.get("technique") or "EC-Lab .mpr (technique not read; mode 2 records)"
    if meta["measurement"] == EIS:
        raise ParseError(f"{label}: an impedance (EIS) measurement, not potential steps.")
    keep, left_out = _potentiostatic_rows(data, technique, label)
    kept = data.loc[keep]
    time_s = kept["time/s"].to_numpy(dtype=float)
    current_column = _current_column(kept, label)
    scale = factor(current_column.split("/", 1)[1], CURRENT_UNITS, current_column, path)
    set_v = kept["control/V"].to_numpy(dtype=float) if "control/V" in kept.columns else None
    meta = {
        "format": fmt,
        "source_library": meta.get("source_library"),
        "source_version": meta.get("source_version"),
        "technique": technique,
        "start_time_local": meta.get("start_time_local"),
        "units_seen": {"time": "s", "potential": "V", "current": current_column.split("/")[1]},
        "rows_left_out": left_out,
    }
    return finish(
        path,
        time_s=time_s,
        potential_v=kept[_potential_column(kept, label)].to_numpy(dtype=float),
        current_a=kept[current_column].to_numpy(dtype=float) * scale,
        set_potential_v=set_v,
        step=_steps(kept, np.flatnonzero(keep), set_v),
        step_rule="EC-Lab's sequence number Ns and changes of the set potential control/V",
        min_step_mv=min_step_mv,
        meta=meta,
    )


def _potentiostatic_rows(
    data: pd.DataFrame, technique: str, label: str
) -> tuple[np.ndarray, dict[str, int]]:
    if "mode" not in data.columns:
        return np.ones(len(data), dtype=bool), {}
    mode = data["mode"].to_numpy()
    keep = mode == _POTENTIOSTATIC
    if not keep.any():
        raise ParseError(
            f"{label}: holds no potentiostatic record (EC-Lab mode 2), so no potential step; "
            "it is a galvanostatic or open-circuit measurement."
        )
    galvanostatic = (mode == _GALVANOSTATIC).any()
    if galvanostatic and "modulo bat" not in technique.lower():
        raise ParseError(
            f"{label}: a galvanostatic cycling file (it has galvanostatic records, EC-Lab "
            "mode 1); its potentiostatic holds are not read as potential steps."
        )
    left = {}
    for value in np.unique(mode[~keep]):
        left[_MODE_NAMES.get(int(value), f"mode {int(value)}")] = int((mode == value).sum())
    return keep, left


def _steps(kept: pd.DataFrame, rows: np.ndarray, set_v: np.ndarray | None) -> np.ndarray | None:
    """Step ids from Ns, the set potential and gaps left by records of other modes; None when
    the file has neither Ns nor control/V (the caller then splits on jumps of Ewe)."""
    if "Ns" not in kept.columns and set_v is None:
        return None
    boundary = changes(rows.astype(float), 1.0)  # a gap: records of another mode were left out
    if "Ns" in kept.columns:
        boundary |= changes(kept["Ns"].to_numpy(dtype=np.int64))
    if set_v is not None:
        boundary |= changes(set_v, SET_POTENTIAL_RESOLUTION_V)
    return ids_from_boundaries(boundary)


def _current_column(data: pd.DataFrame, label: str) -> str:
    for column in data.columns:
        if _CURRENT.match(str(column)):
            return str(column)
    raise ParseError(f"{label}: an EC-Lab file without a current column (I/mA or <I>/mA).")


def _potential_column(data: pd.DataFrame, label: str) -> str:
    for column in ("Ewe/V", "Ecell/V"):
        if column in data.columns:
            return column
    raise ParseError(f"{label}: an EC-Lab file without a potential column (Ewe/V or Ecell/V).")
