"""Potential-step files (chronoamperometry, PITT): one table of current against time, with the
potential step each record belongs to. Pure Python, no Django.

read_potential_step_file(path, fmt="auto") -> (table, metadata). The table's columns (COLUMNS):
- time_s: time as the instrument recorded it (s; not reset per step);
- potential_v: measured working-electrode potential (BioLogic Ewe, Autolab WE(1).Potential);
- current_a: current in A, with the instrument's sign, which for BioLogic, Autolab and a
  mapping with oxidation_current="positive" is IUPAC's: > 0 is oxidation (anodic), i.e. the
  charge (delithiation) of a cathode;
- step: 0-based index of the potential step, in file order;
- set_potential_v: the potential the instrument was told to hold (BioLogic control/V,
  Autolab "Potential applied"), NaN when the file does not record it.

Formats (recognised from content, never from the extension; `recognise(head_text)` for text):
- "biologic_mpt" / "biologic_mpr": EC-Lab CA, PITT or Modulo Bat files (potentiostatic records,
  mode 2; records of other modes of an MB file are left out and counted in the metadata);
  potential_steps_biologic.py.
- "autolab_txt": Metrohm Autolab NOVA ASCII exports; potential_steps_autolab.py.
- "mapped": any delimited table or .xlsx read through a StepColumnMapping;
  potential_steps_mapped.py.

Steps come from the file's own step markers where it has them (BioLogic's sequence number
Ns, a mapped step column), else from changes of the set potential, else from jumps of the
measured potential of at least `min_step_mv` (see split_levels).

Refused with ParseError (a sentence starting with the file name): an empty, unrecognised or
damaged file, a data line cut short at the end (the file was copied while the instrument was
still writing it), a missing (NaN) time, potential or current, time going backwards, a file
holding no potential step (no potentiostatic record, or no current at all), and a sweep (the
potential changes at almost every record: voltammetry).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from .detect import BIOLOGIC_MPR, BIOLOGIC_MPT
from .errors import ParseError, file_label
from .reader import guarded

COLUMNS: tuple[str, ...] = ("time_s", "potential_v", "current_a", "step", "set_potential_v")
AUTOLAB_TXT = "autolab_txt"
MAPPED = "mapped"
FORMATS: tuple[str, ...] = (BIOLOGIC_MPT, BIOLOGIC_MPR, AUTOLAB_TXT, MAPPED)
_FORMAT_NAMES = {
    BIOLOGIC_MPT: "a BioLogic .mpt text export",
    BIOLOGIC_MPR: "a BioLogic .mpr file",
    AUTOLAB_TXT: "an Autolab NOVA text export",
    MAPPED: "a table for its column mapping",
}
CURRENT_SIGN = "as recorded: > 0 is oxidation (anodic), the charge of a cathode"
DEFAULT_MIN_STEP_MV = 5.0
MIN_STEP_MV_BOUNDS = (0.5, 1000.0)
SET_POTENTIAL_RESOLUTION_V = 1e-4  # set values are digital: any change beyond this is a step
_MIN_LEVEL_POINTS = 3  # a shorter run between two jumps is a transient, merged forward
_HEAD_BYTES = 8192


def read_potential_step_file(
    path: str | Path,
    fmt: str = "auto",
    *,
    mapping=None,
    min_step_mv: float = DEFAULT_MIN_STEP_MV,
) -> tuple[pd.DataFrame, dict]:
    """The potential-step table (COLUMNS) and metadata of a file (see the module doc).

    fmt is "auto" (BioLogic or Autolab, judged from the content), one of FORMATS, or "mapped"
    with `mapping` (a StepColumnMapping; giving a mapping implies "mapped"). min_step_mv is
    the smallest jump of the measured potential that starts a new step, used only when the
    file has no step markers or set potential (0.5-1000 mV). Metadata: format,
    source_library, source_version, technique, units_seen, current_sign, step_rule, steps,
    rows, start_time_local, plus format-specific keys.
    """
    path = Path(path)
    _check_min_step(path, min_step_mv)
    if mapping is None and fmt == MAPPED:
        raise ParseError(f"{file_label(path)}: reading a generic table needs a column mapping.")
    if mapping is None and fmt not in ("auto", *FORMATS):
        raise ParseError(
            f"{file_label(path)}: unknown potential-step format {fmt!r}; one of "
            f"auto, {', '.join(FORMATS)}."
        )
    if mapping is not None:
        fmt = MAPPED
    elif fmt == "auto":
        fmt = detect_potential_step_format(path)
    return guarded(path, _FORMAT_NAMES[fmt], lambda: _read(path, fmt, mapping, min_step_mv))


def _read(path: Path, fmt: str, mapping, min_step_mv: float) -> tuple[pd.DataFrame, dict]:
    from . import potential_steps_autolab, potential_steps_biologic, potential_steps_mapped

    if fmt == MAPPED:
        return potential_steps_mapped.read(path, mapping, min_step_mv=min_step_mv)
    if fmt == AUTOLAB_TXT:
        return potential_steps_autolab.read(path, min_step_mv=min_step_mv)
    return potential_steps_biologic.read(path, fmt, min_step_mv=min_step_mv)


def detect_potential_step_format(path: str | Path) -> str:
    """BIOLOGIC_MPR, BIOLOGIC_MPT or AUTOLAB_TXT from the file's first bytes, else ParseError
    (a generic table needs its column mapping)."""
    path = Path(path)
    try:
        with path.open("rb") as fh:
            head = fh.read(_HEAD_BYTES)
    except OSError as exc:
        raise ParseError(f"{file_label(path)}: cannot be opened ({exc.strerror}).") from exc
    if not head:
        raise ParseError(f"{file_label(path)}: the file is empty.")
    if head.startswith(b"BIO-LOGIC MODULAR FILE"):
        return BIOLOGIC_MPR
    found = recognise(decode(head))
    if found:
        return found
    raise ParseError(
        f"{file_label(path)}: not a potential-step file Kiln recognises (BioLogic .mpr/.mpt, "
        "Autolab NOVA text export); a generic table is read with a column mapping."
    )


def recognise(head_text: str) -> str | None:
    """The text format of a file head (decoded text of its first KB), or None."""
    from .potential_steps_autolab import recognise_autolab
    from .potential_steps_biologic import recognise_biologic_mpt

    return recognise_biologic_mpt(head_text) or recognise_autolab(head_text)


def decode(raw: bytes) -> str:
    """Text of a file: UTF-16 when it has that byte-order mark (Excel's "Unicode text"), UTF-8
    (BOM or not) when valid, else Latin-1 (never fails; EC-Lab and Windows exports)."""
    if raw.startswith((b"\xff\xfe", b"\xfe\xff")):
        return raw.decode("utf-16", errors="replace")
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        return raw.decode("latin-1")


# ---------------------------------------------------------------- steps


def split_levels(values: np.ndarray, min_jump: float) -> np.ndarray:
    """0-based step ids from a potential that sits on levels and jumps between them.

    A record starts a new run when it lies at least min_jump/2 from the running mean of the
    current run (so noise must stay below half the smallest step). A run shorter than 3
    records (the potentiostat settling, a spike) joins the run after it, and neighbouring
    runs whose means differ by less than min_jump/2 are one step (a spike inside a level)."""
    values = np.asarray(values, dtype=float)
    if len(values) == 0:
        return np.zeros(0, dtype=np.int64)
    starts = _run_starts(values, min_jump / 2.0)
    ends = [*starts[1:], len(values)]
    kept: list[int] = []
    pending: int | None = None
    for start, end in zip(starts, ends, strict=True):
        if end - start >= _MIN_LEVEL_POINTS:
            kept.append(start if pending is None else pending)
            pending = None
        elif pending is None:
            pending = start
    kept = [0, *kept[1:]]  # records before the first long run belong to it
    merged, bounds = [0], [*kept, len(values)]
    for start, end in zip(bounds[1:-1], bounds[2:], strict=True):
        if abs(values[start:end].mean() - values[merged[-1] : start].mean()) >= min_jump / 2.0:
            merged.append(start)
    marks = np.zeros(len(values), dtype=np.int64)
    marks[merged[1:]] = 1
    return np.cumsum(marks)


def _run_starts(values: np.ndarray, half: float) -> list[int]:
    """Indices where a record lies >= half from the mean of the run before it (a run starts
    there). Sequential by nature; each run's end is searched in numpy chunks that double in
    size, with running means from one cumulative sum, so a long file costs O(records)."""
    n, total = len(values), np.concatenate([[0.0], np.cumsum(values)])
    starts, start = [0], 0
    while start < n - 1:
        low, size, found = start + 1, 64, None
        while low < n and found is None:
            high = min(n, low + size)
            j = np.arange(low, high)
            means = (total[j] - total[start]) / (j - start)
            hits = np.flatnonzero(np.abs(values[low:high] - means) >= half)
            found = low + int(hits[0]) if len(hits) else None
            low, size = high, size * 2
        if found is None:
            break
        starts.append(found)
        start = found
    return starts


def ids_from_boundaries(boundary: np.ndarray) -> np.ndarray:
    """0-based step ids from a mask of the records that start a new step."""
    marks = np.asarray(boundary, dtype=bool).copy()
    if len(marks):
        marks[0] = False
    return np.cumsum(marks).astype(np.int64)


def changes(values: np.ndarray, tolerance: float = 0.0) -> np.ndarray:
    """Mask of the records whose value differs from the record before by more than tolerance."""
    values = np.asarray(values)
    mask = np.zeros(len(values), dtype=bool)
    if values.dtype.kind == "f":
        mask[1:] = np.abs(np.diff(values)) > tolerance
    else:
        mask[1:] = values[1:] != values[:-1]
    return mask


# ---------------------------------------------------------------- the common table


def finish(
    path: Path,
    *,
    time_s: np.ndarray,
    potential_v: np.ndarray,
    current_a: np.ndarray,
    set_potential_v: np.ndarray | None,
    step: np.ndarray | None,
    step_rule: str,
    min_step_mv: float,
    meta: dict,
) -> tuple[pd.DataFrame, dict]:
    """Check the quantities, assign steps (given, else from the set potential, else from the
    measured potential) and build the table and metadata."""
    label = file_label(path)
    time_s, potential_v, current_a = (
        np.asarray(a, dtype=float) for a in (time_s, potential_v, current_a)
    )
    if len(time_s) == 0:
        raise ParseError(f"{label}: the file holds no data records, so no potential step.")
    for name, values in (("time", time_s), ("potential", potential_v), ("current", current_a)):
        bad = np.flatnonzero(~np.isfinite(values))
        if len(bad):
            raise ParseError(
                f"{label}: data record {bad[0] + 1} has no {name} value (NaN or empty); "
                f"the export is damaged or incomplete ({len(bad)} such record(s))."
            )
    back = np.flatnonzero(np.diff(time_s) < 0)
    if len(back):
        i = back[0] + 1
        raise ParseError(
            f"{label}: time goes backwards at data record {i + 1} ({time_s[i - 1]:g} s, then "
            f"{time_s[i]:g} s): records out of order, or several files joined."
        )
    if not np.any(current_a != 0):
        raise ParseError(f"{label}: the current is zero throughout: no potential step recorded.")
    set_v = (
        np.full(len(time_s), np.nan)
        if set_potential_v is None
        else np.asarray(set_potential_v, dtype=float)
    )
    if step is None and np.isfinite(set_v).all():
        step = ids_from_boundaries(changes(set_v, SET_POTENTIAL_RESOLUTION_V))
        step_rule = "changes of the set potential"
    if step is None:
        step = split_levels(potential_v, min_step_mv / 1000.0)
        step_rule = f"jumps of the measured potential of at least {min_step_mv:g} mV"
    step = np.asarray(step, dtype=np.int64)
    if step[-1] > 0 and np.median(np.bincount(step)) < _MIN_LEVEL_POINTS:
        raise ParseError(
            f"{label}: the potential changes at almost every record ({step[-1] + 1} steps in "
            f"{len(step)} records): a sweep (voltammetry), not potential steps."
        )
    table = pd.DataFrame(
        {
            "time_s": time_s,
            "potential_v": potential_v,
            "current_a": current_a,
            "step": step,
            "set_potential_v": set_v,
        }
    )
    meta = {
        **meta,
        "current_sign": CURRENT_SIGN,
        "step_rule": step_rule,
        "steps": int(table["step"].max()) + 1,
        "rows": len(table),
    }
    return table[list(COLUMNS)], meta


def cut_last_line(path: Path) -> ParseError:
    return ParseError(
        f"{file_label(path)}: the last data line is cut short; the file was probably copied "
        "while the instrument was still writing it. Export or copy it again once it is complete."
    )


def _check_min_step(path: Path, min_step_mv: float) -> None:
    """The reader's one parameter; refused as ParseError so a caller has one error type."""
    low, high = MIN_STEP_MV_BOUNDS
    number = not isinstance(min_step_mv, bool) and isinstance(min_step_mv, (int, float))
    if not number or not low <= float(min_step_mv) <= high:
        raise ParseError(
            f"{file_label(path)}: min_step_mv (the smallest potential jump that starts a new "
            f"step) must be a number between {low:g} and {high:g} mV, not {min_step_mv!r}."
        )
