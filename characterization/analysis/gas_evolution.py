"""Gas evolution from mass spectrometry (DEMS, DOMAIN.md section 3): O2 and CO2 evolved during
cycling, in µmol and µmol per mg of active material. Pure: numpy and pandas, no Django.

Inputs: the long ion-current table of parsers.mass_spec (time_s, channel, mz, signal, unit),
a calibration factor per gas, the active mass, and optionally the cycling table (time_s,
voltage_v and, when present, current_ma or current_a) to align with and plot under.

Time axis. Results are on the cycling file's clock: t = t_MS − offset, where the offset is the
MS time at which the cycling file's t = 0 falls: `time_offset_s`, or cycling_start − ms_start
from the two files' absolute start times (both with a timezone, or both without). With
neither, offset 0 (a Zilien file and its own potentiostat series share one clock).

Per gas (a channel chosen by m/z, default O2 = 32 and CO2 = 44, or by channel name):
    background I_bg(t):  "mean"   the channel's mean over the background window(s);
                         "linear" the line through each of two windows' (mean t, mean I);
    rate(t) [mol/s]   = (I(t) − I_bg(t)) · k, k the calibration factor in mol s⁻¹ per unit of
                        the channel (per A for ion currents, per mbar for partial pressures);
    n [mol]           = ∫ rate dt from t0 to t1, trapezoids over the channel's own points, the
                        values at t0 and t1 interpolated linearly;
    µmol = 10⁶ n;  µmol/mg = µmol / active_mass_mg.

Default windows: background = the `baseline_min` minutes before the cycling starts (the first
row whose |current| exceeds 1 % of the file's largest, or the cycling table's first row when
it has no current), or, without a cycling table, the first `baseline_min` minutes of the MS
record; both cut to where every chosen channel has points. Integration from the end of the
background window to the end of the cycling table (or of the MS record); with a linear
background, between its two windows.

Warnings (code, message, severity): negative_total, below_detection (|n| < 3 δn with
δn = k · SE(background mean) · (t1 − t0)), implausible (> 5 µmol/mg), calibration_unit (a
factor applied per mbar), time_gap, background_window_shortened, voltage_not_covered.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime

import numpy as np
import pandas as pd

from characterization.analysis._checks import number, positive
from characterization.analysis.errors import AnalysisError

VERSION = "1"
DEFAULT_GASES: dict[str, float] = {"O2": 32.0, "CO2": 44.0}
BACKGROUND_METHODS = ("mean", "linear")
MAX_ACTIVE_MASS_MG = 1000.0
MAX_OFFSET_S = 1.0e7  # about 116 days
BASELINE_MIN_RANGE = (0.5, 600.0)
CYCLING_START_FRACTION = 0.01  # |I| above 1 % of the largest marks the start of cycling
MZ_TOLERANCE = 0.05
MIN_POINTS = 3
SHORTENED_FRACTION = 0.9  # a default background window cut below 90 % of its length is said
IMPLAUSIBLE_UMOL_PER_MG = 5.0  # all lattice O of Li1.2Mn0.6Ni0.2O2 is ~23 µmol O2 per mg
MAX_SERIES_POINTS = 4000
_MS_COLUMNS = ("time_s", "channel", "mz", "signal", "unit")
_UNITS = ("A", "mbar")
FLAG, NOTE = "flag", "note"


@dataclass(frozen=True)
class Background:
    """How the background is taken: `method` "mean" or "linear"; `windows_s` on the result's
    time axis ((start, end) pairs; "mean" takes the mean over all its windows, "linear" needs
    exactly two); empty windows mean the default window, `baseline_min` minutes long."""

    method: str = "mean"
    windows_s: tuple[tuple[float, float], ...] = ()
    baseline_min: float = 10.0


@dataclass(frozen=True)
class GasTotal:
    gas: str
    channel: str
    mz: float
    unit: str  # the channel's unit: "A" or "mbar"
    factor: float  # mol s⁻¹ per unit
    micromol: float
    micromol_per_mg: float
    detection_limit_micromol: float  # 3 δn


@dataclass(frozen=True)
class GasEvolution:
    """Totals per gas, the windows and alignment used, plot series and warnings.

    series: {"time_axis": sentence, "gases": {gas: {time_s, signal, background, rate_mol_s,
    voltage_v (None without a cycling table), cumulative_time_s, cumulative_umol,
    cumulative_umol_per_mg}}, "voltage": {time_s, voltage_v} or None}; lists of at most
    MAX_SERIES_POINTS floats (None for NaN), evenly thinned from the full data."""

    gases: dict[str, GasTotal]
    active_mass_mg: float
    background: dict
    integration_window_s: tuple[float, float]
    alignment_offset_s: float
    alignment_source: str
    series: dict = field(repr=False)
    warnings: list[dict] = field(default_factory=list)
    version: str = VERSION

    def as_summary(self) -> dict:
        return {
            "gases": {
                gas: {"micromol": t.micromol, "micromol_per_mg": t.micromol_per_mg}
                for gas, t in self.gases.items()
            },
            "background": dict(self.background),
            "calibration": {
                gas: {
                    "channel": t.channel,
                    "mz": t.mz,
                    "factor": t.factor,
                    "unit": f"mol s-1 per {t.unit}",
                }
                for gas, t in self.gases.items()
            },
            "alignment_offset_s": self.alignment_offset_s,
            "alignment_source": self.alignment_source,
            "integration_window_s": list(self.integration_window_s),
            "active_mass_mg": self.active_mass_mg,
        }


@dataclass(frozen=True)
class _Channel:
    gas: str
    name: str
    mz: float
    unit: str
    factor: float
    t: np.ndarray  # on the result's axis
    y: np.ndarray


def analyse_gas_evolution(
    ms_table: pd.DataFrame,
    *,
    calibration: Mapping[str, object],
    active_mass_mg: float,
    cycling_table: pd.DataFrame | None = None,
    gases: Mapping[str, float | str] | None = None,
    time_offset_s: float | None = None,
    ms_start: datetime | str | None = None,
    cycling_start: datetime | str | None = None,
    background: Background | None = None,
    integrate_s: tuple[float, float] | None = None,
) -> GasEvolution:
    """Evolved amount of each gas (module doc for the formulas and default windows).

    calibration: gas -> k (mol s⁻¹ per unit of its channel: per A for ion currents), or
    {"factor": k, "unit": "A" | "mbar"} to state the unit (checked against the channel's).
    Raises AnalysisError naming the input at fault (calibration, gases, active_mass_mg,
    ms_table, cycling_table, time_offset_s, ms_start, cycling_start, background, integrate_s).
    """
    mass = _active_mass(active_mass_mg)
    wanted = _gases(gases)
    table = _ms_table(ms_table)
    offset, source = _offset(time_offset_s, ms_start, cycling_start)
    cycling = _cycling(cycling_table) if cycling_table is not None else None
    channels = [_channel(table, gas, target, calibration, offset) for gas, target in wanted.items()]
    if cycling is not None:
        _overlap(channels, cycling, offset)
    spec = _background_spec(background)
    warnings: list[dict] = []
    windows, rule = _windows(spec, channels, cycling, warnings)
    t0, t1 = _integration(integrate_s, spec, windows, channels, cycling, offset, warnings)
    totals, per_gas = {}, {}
    for channel in channels:
        totals[channel.gas], per_gas[channel.gas] = _gas(
            channel, spec.method, windows, (t0, t1), mass, cycling, warnings
        )
    series = {
        "time_axis": (
            "seconds on the cycling file's clock (MS time minus the alignment offset)"
            if cycling is not None or offset
            else "seconds from the MS file's start"
        ),
        "gases": per_gas,
        "voltage": _voltage_series(cycling),
    }
    return GasEvolution(
        gases=totals,
        active_mass_mg=mass,
        background={
            "method": spec.method,
            "rule": rule,
            "windows_s": [list(w) for w in windows],
            "detection_limit_micromol": {g: t.detection_limit_micromol for g, t in totals.items()},
        },
        integration_window_s=(t0, t1),
        alignment_offset_s=offset,
        alignment_source=source,
        series=series,
        warnings=warnings,
    )


# --------------------------------------------------------------------------- inputs


def _active_mass(value: object) -> float:
    mass = positive(value, field="active_mass_mg", label="active mass", unit="mg")
    if mass > MAX_ACTIVE_MASS_MG:
        raise AnalysisError(
            "active_mass_mg",
            f"active mass must be ≤ {MAX_ACTIVE_MASS_MG:g} mg (got {mass:g} mg; in g?)",
        )
    return mass


def _gases(gases: Mapping[str, float | str] | None) -> dict[str, float | str]:
    if gases is None:
        return dict(DEFAULT_GASES)
    if not isinstance(gases, Mapping) or not gases:
        raise AnalysisError("gases", "gases must map each gas name to its m/z or channel")
    out: dict[str, float | str] = {}
    for gas, target in gases.items():
        if not isinstance(gas, str) or not gas.strip():
            raise AnalysisError("gases", "each gas needs a name")
        if isinstance(target, str):
            if not target.strip():
                raise AnalysisError("gases", f"the channel for {gas} is empty")
            out[gas] = target
            continue
        mz = number(target, field="gases", label=f"m/z of {gas}")
        if not 0 < mz < 1000:
            raise AnalysisError("gases", f"m/z of {gas} must be between 0 and 1000")
        out[gas] = mz
    if len(out) > 10:
        raise AnalysisError("gases", "at most 10 gases at a time")
    return out


def _ms_table(table: object) -> pd.DataFrame:
    if not isinstance(table, pd.DataFrame):
        raise AnalysisError("ms_table", "expected the ion-current table of a mass-spec file")
    missing = [c for c in _MS_COLUMNS if c not in table.columns]
    if missing:
        raise AnalysisError("ms_table", f"the ion-current table has no column(s) {missing}")
    if table.empty:
        raise AnalysisError("ms_table", "the mass-spec file has no data points")
    for column in ("time_s", "mz", "signal"):
        if not pd.api.types.is_numeric_dtype(table[column]):
            raise AnalysisError("ms_table", f"the ion-current table's {column} is not numeric")
    return table


def _offset(offset: object, ms_start: object, cycling_start: object) -> tuple[float, str]:
    if ms_start is None and cycling_start is None:
        if offset is None:
            return 0.0, "none (MS and cycling clocks taken as the same)"
        value = number(offset, field="time_offset_s", label="time offset")
        if abs(value) > MAX_OFFSET_S:
            raise AnalysisError("time_offset_s", f"time offset must be within ±{MAX_OFFSET_S:g} s")
        return value, "time_offset_s as given"
    if offset is not None:
        raise AnalysisError(
            "time_offset_s", "give either the time offset or the two start times, not both"
        )
    ms = _when(ms_start, "ms_start", "the MS file's start time")
    cyc = _when(cycling_start, "cycling_start", "the cycling file's start time")
    if (ms.tzinfo is None) != (cyc.tzinfo is None):
        raise AnalysisError(
            "cycling_start",
            "one start time has a timezone and the other not; give both in the same zone",
        )
    value = (cyc - ms).total_seconds()
    if abs(value) > MAX_OFFSET_S:
        raise AnalysisError(
            "cycling_start",
            f"the start times are {value / 86400:.1f} days apart; check their dates",
        )
    return value, f"start times: cycling {cyc.isoformat()} − MS {ms.isoformat()}"


def _when(value: object, name: str, label: str) -> datetime:
    if value is None:
        raise AnalysisError(name, f"{label} is missing; alignment by time needs both")
    if isinstance(value, datetime):
        return value
    try:
        return datetime.fromisoformat(str(value).strip())
    except ValueError:
        raise AnalysisError(name, f"{label} must be an ISO date and time") from None


def _cycling(table: object) -> pd.DataFrame:
    if not isinstance(table, pd.DataFrame):
        raise AnalysisError("cycling_table", "expected a cycling table (a pandas DataFrame)")
    missing = [c for c in ("time_s", "voltage_v") if c not in table.columns]
    if missing:
        raise AnalysisError("cycling_table", f"the cycling table has no column(s) {missing}")
    keep = ["time_s", "voltage_v", *(c for c in ("current_ma", "current_a") if c in table)]
    try:
        frame = table[keep].astype(float)
    except (TypeError, ValueError):
        raise AnalysisError(
            "cycling_table", f"the cycling table's {keep} are not all numbers"
        ) from None
    frame = frame[np.isfinite(frame["time_s"]) & np.isfinite(frame["voltage_v"])]
    if len(frame) < 2:
        raise AnalysisError("cycling_table", "the cycling table has fewer than 2 rows")
    back = np.flatnonzero(np.diff(frame["time_s"].to_numpy()) < 0)
    if len(back):
        raise AnalysisError(
            "cycling_table", f"time runs backwards in the cycling table after row {back[0] + 1}"
        )
    return frame.reset_index(drop=True)


def _channel(table, gas, target, calibration, offset) -> _Channel:
    names = table["channel"].astype(str)
    if isinstance(target, str):
        chosen = sorted(set(names[names == target]))
        wanted = f"channel '{target}'"
    else:
        mz = table["mz"].to_numpy(dtype=float)
        chosen = sorted(set(names[np.abs(mz - target) < MZ_TOLERANCE]))
        wanted = f"m/z {target:g}"
    _require_calibration(calibration, gas, chosen, table, wanted)
    if not chosen:
        raise AnalysisError(
            "gases",
            f"the file has no {wanted} channel for {gas} (its channels: {_listing(table)}); "
            f"map {gas} to one of them or leave it out",
        )
    if len(chosen) > 1:
        raise AnalysisError(
            "gases",
            f"several channels at {wanted} ({', '.join(chosen)}); name the channel for {gas}",
        )
    rows = table[names == chosen[0]]
    t = rows["time_s"].to_numpy(dtype=float)
    y = rows["signal"].to_numpy(dtype=float)
    good = np.isfinite(t) & np.isfinite(y)
    t, y = t[good], y[good]
    if len(t) < 2 or np.any(np.diff(t) < 0):
        raise AnalysisError("ms_table", f"channel {chosen[0]} has too few points or unsorted times")
    unit = str(rows["unit"].iloc[0])
    if unit not in _UNITS:
        raise AnalysisError("ms_table", f"channel {chosen[0]} is in '{unit}', not A or mbar")
    mz_value = float(rows["mz"].iloc[0])
    factor = _factor(calibration, gas, chosen[0], mz_value, unit)
    return _Channel(gas, chosen[0], mz_value, unit, factor, t - offset, y)


def _listing(table: pd.DataFrame) -> str:
    pairs = table[["channel", "mz"]].drop_duplicates("channel")
    return ", ".join(
        f"{c} (m/z {m:g})" if math.isfinite(m) else str(c)
        for c, m in zip(pairs["channel"], pairs["mz"], strict=True)
    )


def _require_calibration(
    calibration: object, gas: str, chosen: list[str], table: pd.DataFrame, wanted: str
) -> None:
    """A requested gas without a factor fails on `calibration` first, whatever the file holds
    (the job's sentence names the gas, and its channel when the file has exactly one)."""
    if not isinstance(calibration, Mapping):
        raise AnalysisError("calibration", "calibration must map each gas to its factor")
    if gas in calibration and calibration[gas] is not None:
        return
    where, unit = f"{gas} ({wanted})", "A"
    if len(chosen) == 1:
        row = table[table["channel"].astype(str) == chosen[0]].iloc[0]
        mz, unit = float(row["mz"]), str(row["unit"])
        where = f"{gas} (channel {chosen[0]}, m/z {mz:g})" if math.isfinite(mz) else where
    raise AnalysisError(
        "calibration",
        f"no calibration factor for {where}: give it in mol s⁻¹ per {unit}, "
        f"or leave {gas} out of the gases",
    )


def _factor(calibration: Mapping, gas: str, channel: str, mz: float, unit: str) -> float:
    value = calibration[gas]
    stated = None
    if isinstance(value, Mapping):
        stated = value.get("unit")
        value = value.get("factor")
        if stated not in (None, *_UNITS):
            raise AnalysisError("calibration", f"the unit of the {gas} factor must be A or mbar")
        if stated is not None and stated != unit:
            raise AnalysisError(
                "calibration",
                f"the {gas} factor is per {stated}, but channel {channel} holds {unit}; "
                f"give a factor in mol s⁻¹ per {unit}",
            )
    factor = number(value, field="calibration", label=f"the calibration factor of {gas}")
    if factor <= 0:
        raise AnalysisError("calibration", f"the calibration factor of {gas} must be > 0")
    return factor


# --------------------------------------------------------------------------- windows


def _background_spec(spec: object) -> Background:
    spec = Background() if spec is None else spec
    if not isinstance(spec, Background):
        raise AnalysisError("background", "expected a Background(method, windows_s, ...)")
    if spec.method not in BACKGROUND_METHODS:
        raise AnalysisError("background", f"background method must be one of {BACKGROUND_METHODS}")
    low, high = BASELINE_MIN_RANGE
    minutes = number(spec.baseline_min, field="background", label="baseline length")
    if not low <= minutes <= high:
        raise AnalysisError("background", f"baseline length must be {low:g}–{high:g} min")
    if spec.method == "linear" and len(spec.windows_s) != 2:
        raise AnalysisError(
            "background", "a linear background needs exactly two windows (before and after)"
        )
    return spec


def _pairs(windows: Sequence, field_name: str) -> list[tuple[float, float]]:
    out = []
    for pair in windows:
        if not isinstance(pair, Sequence) or isinstance(pair, str) or len(pair) != 2:
            raise AnalysisError(field_name, "each window is a (start, end) pair in seconds")
        a = number(pair[0], field=field_name, label="window start")
        b = number(pair[1], field=field_name, label="window end")
        if not a < b:
            raise AnalysisError(field_name, f"window {a:g}–{b:g} s must end after it starts")
        out.append((a, b))
    return out


def _coverage(channels: list[_Channel]) -> tuple[float, float]:
    return max(c.t[0] for c in channels), min(c.t[-1] for c in channels)


def _cycling_start(cycling: pd.DataFrame) -> float:
    current = next((cycling[c] for c in ("current_ma", "current_a") if c in cycling), None)
    times = cycling["time_s"].to_numpy()
    if current is None:
        return float(times[0])
    magnitude = np.abs(current.to_numpy(dtype=float))
    peak = np.nanmax(magnitude) if np.isfinite(magnitude).any() else 0.0
    if peak <= 0:
        return float(times[0])
    return float(times[np.argmax(magnitude > CYCLING_START_FRACTION * peak)])


def _windows(spec, channels, cycling, warnings) -> tuple[list[tuple[float, float]], str]:
    if spec.windows_s:
        windows = _pairs(spec.windows_s, "background")
        if spec.method == "linear" and windows[0][1] > windows[1][0]:
            raise AnalysisError("background", "the two windows must not overlap, first first")
        rule = (
            "mean of each channel over the chosen window(s)"
            if spec.method == "mean"
            else "line through each chosen window's mean time and mean signal"
        )
        _enough_points(channels, windows)
        return windows, rule
    first, last = _coverage(channels)
    length = spec.baseline_min * 60.0
    if cycling is not None:
        start = _cycling_start(cycling)
        wanted = (start - length, start)
        rule = f"mean of each channel over the {spec.baseline_min:g} min before cycling starts"
        if start <= first:
            raise AnalysisError(
                "background",
                f"the MS record starts at {first:g} s, not before the cycling starts "
                f"({start:g} s on the cycling clock): no baseline before cycling; choose "
                "background windows",
            )
    else:
        wanted = (first, first + length)
        rule = f"mean of each channel over the first {spec.baseline_min:g} min of the MS record"
    window = (float(max(wanted[0], first)), float(min(wanted[1], last)))
    if window[1] - window[0] < SHORTENED_FRACTION * length:
        warnings.append(
            _warning(
                "background_window_shortened",
                NOTE,
                f"the background window was cut to {window[0]:g}–{window[1]:g} s "
                f"({(window[1] - window[0]) / 60:.1f} of {spec.baseline_min:g} min): the MS "
                "record does not reach further",
            )
        )
    _enough_points(channels, [window])
    return [window], rule


def _enough_points(channels: list[_Channel], windows: list[tuple[float, float]]) -> None:
    for channel in channels:
        for a, b in windows:
            count = int(np.count_nonzero((channel.t >= a) & (channel.t <= b)))
            if count < MIN_POINTS:
                raise AnalysisError(
                    "background",
                    f"the background window {a:g}–{b:g} s holds {count} point(s) of channel "
                    f"{channel.name}; at least {MIN_POINTS} are needed",
                )


def _integration(integrate_s, spec, windows, channels, cycling, offset, warnings):
    first, last = _coverage(channels)
    if integrate_s is not None:
        ((t0, t1),) = _pairs([integrate_s], "integrate_s")
        if t0 < first - 1e-9 or t1 > last + 1e-9:
            raise AnalysisError(
                "integrate_s",
                f"the integration window {t0:g}–{t1:g} s goes beyond the MS record "
                f"({first:g}–{last:g} s on this time axis)",
            )
    elif spec.method == "linear":
        t0, t1 = windows[0][1], windows[1][0]
    else:
        t0 = windows[0][1]
        t1 = last if cycling is None else min(last, float(cycling["time_s"].iloc[-1]))
    if cycling is not None:
        c0, c1 = float(cycling["time_s"].iloc[0]), float(cycling["time_s"].iloc[-1])
        if t0 < c0 - 1e-9 or t1 > c1 + 1e-9:
            warnings.append(
                _warning(
                    "voltage_not_covered",
                    NOTE,
                    f"the integration window {t0:g}–{t1:g} s reaches outside the cycling "
                    f"file ({c0:g}–{c1:g} s): no voltage there",
                )
            )
    if not t0 < t1:
        raise AnalysisError(
            "integrate_s", f"nothing to integrate: the window {t0:g}–{t1:g} s is empty"
        )
    return float(t0), float(t1)


def _overlap(channels: list[_Channel], cycling: pd.DataFrame, offset: float) -> None:
    first, last = _coverage(channels)
    c0, c1 = float(cycling["time_s"].iloc[0]), float(cycling["time_s"].iloc[-1])
    if last < c0 or first > c1:
        raise AnalysisError(
            "time_offset_s",
            f"after alignment (offset {offset:g} s) the MS record ({first:g}–{last:g} s) and "
            f"the cycling file ({c0:g}–{c1:g} s) do not overlap; check the offset or the "
            "start times",
        )


# --------------------------------------------------------------------------- one gas


def _gas(channel, method, windows, span, mass, cycling, warnings) -> tuple[GasTotal, dict]:
    level, se = _background(channel, method, windows)
    t0, t1 = span
    inside = (channel.t > t0) & (channel.t < t1)
    if np.count_nonzero(inside) < MIN_POINTS - 1:
        raise AnalysisError(
            "integrate_s",
            f"the integration window {t0:g}–{t1:g} s holds too few points of {channel.name}",
        )
    tt = np.r_[t0, channel.t[inside], t1]
    yy = np.r_[
        np.interp(t0, channel.t, channel.y), channel.y[inside], np.interp(t1, channel.t, channel.y)
    ]
    rate = (yy - level(tt)) * channel.factor
    cumulative = np.r_[0.0, np.cumsum(0.5 * (rate[1:] + rate[:-1]) * np.diff(tt))]
    micromol = float(cumulative[-1]) * 1e6
    limit = 3.0 * channel.factor * se * (t1 - t0) * 1e6
    total = GasTotal(
        gas=channel.gas,
        channel=channel.name,
        mz=channel.mz,
        unit=channel.unit,
        factor=channel.factor,
        micromol=micromol,
        micromol_per_mg=micromol / mass,
        detection_limit_micromol=float(limit),
    )
    warnings.extend(_checks(total, channel, tt))
    voltage = None
    if cycling is not None:
        ct, cv = cycling["time_s"].to_numpy(), cycling["voltage_v"].to_numpy()
        voltage = _thin(np.interp(channel.t, ct, cv, left=np.nan, right=np.nan))
    series = {
        "time_s": _thin(channel.t),
        "signal": _thin(channel.y),
        "background": _thin(level(channel.t)),
        "rate_mol_s": _thin((channel.y - level(channel.t)) * channel.factor),
        "voltage_v": voltage,
        "cumulative_time_s": _thin(tt),
        "cumulative_umol": _thin(cumulative * 1e6),
        "cumulative_umol_per_mg": _thin(cumulative * 1e6 / mass),
    }
    return total, series


def _background(channel: _Channel, method: str, windows):
    """(I_bg(t) as a function, standard error of the background level)."""
    stats = []
    for a, b in windows:
        sel = (channel.t >= a) & (channel.t <= b)
        values = channel.y[sel]
        se = float(np.std(values, ddof=1) / math.sqrt(len(values)))
        stats.append((float(np.mean(channel.t[sel])), float(np.mean(values)), se, sel))
    if method == "mean":
        union = np.logical_or.reduce([s[3] for s in stats])
        values = channel.y[union]
        level = float(np.mean(values))
        se = float(np.std(values, ddof=1) / math.sqrt(len(values)))
        return (lambda t: np.full(np.shape(t), level)), se
    (ta, ya, sea, _), (tb, yb, seb, _) = stats
    slope = (yb - ya) / (tb - ta)
    return (lambda t: ya + slope * (np.asarray(t) - ta)), max(sea, seb)


def _checks(total: GasTotal, channel: _Channel, tt: np.ndarray) -> list[dict]:
    out = []
    gas = total.gas
    if total.micromol < 0:
        out.append(
            _warning(
                "negative_total",
                FLAG,
                f"{gas}: the total after background subtraction is negative "
                f"({total.micromol:.4g} µmol): the background is above the signal; check "
                "the background window",
            )
        )
    if abs(total.micromol) < total.detection_limit_micromol:
        out.append(
            _warning(
                "below_detection",
                FLAG,
                f"{gas}: {total.micromol:.4g} µmol is within the background's noise "
                f"(3σ of its mean over the window: ±{total.detection_limit_micromol:.3g} µmol)",
            )
        )
    if total.micromol_per_mg > IMPLAUSIBLE_UMOL_PER_MG:
        out.append(
            _warning(
                "implausible",
                FLAG,
                f"{gas}: {total.micromol_per_mg:.3g} µmol/mg is implausibly large (reported "
                "releases are a few tenths of a µmol/mg); check the calibration factor, its "
                "unit and the active mass",
            )
        )
    if channel.unit != "A":
        out.append(
            _warning(
                "calibration_unit",
                NOTE,
                f"{gas}: channel {channel.name} holds partial pressure in {channel.unit}; its "
                f"factor {channel.factor:g} was applied in mol s⁻¹ per {channel.unit}",
            )
        )
    steps = np.diff(tt)
    typical = float(np.median(steps)) if len(steps) else 0.0
    gaps = np.flatnonzero(steps > 10 * typical) if typical > 0 else np.array([], dtype=int)
    if len(gaps):
        out.append(
            _warning(
                "time_gap",
                NOTE,
                f"{gas}: channel {channel.name} has {len(gaps)} gap(s) longer than 10× its "
                f"usual {typical:.3g} s step (first at {tt[gaps[0]]:g} s); the rate is taken "
                "as linear across them",
            )
        )
    return out


# --------------------------------------------------------------------------- series


def _thin(values: np.ndarray) -> list:
    values = np.asarray(values, dtype=float)
    if len(values) > MAX_SERIES_POINTS:
        index = np.unique(np.r_[np.linspace(0, len(values) - 1, MAX_SERIES_POINTS).astype(int)])
        values = values[index]
    return [float(v) if math.isfinite(v) else None for v in values]


def _voltage_series(cycling: pd.DataFrame | None) -> dict | None:
    if cycling is None:
        return None
    return {
        "time_s": _thin(cycling["time_s"].to_numpy()),
        "voltage_v": _thin(cycling["voltage_v"].to_numpy()),
    }


def _warning(code: str, severity: str, message: str) -> dict:
    return {"code": code, "message": message, "cycles": [], "severity": severity}
