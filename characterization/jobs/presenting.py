"""A result as a page shows it: its figures in reading order, its summary as labelled rows,
its provenance, and the window of a voltage fade."""

from __future__ import annotations

import json
from dataclasses import dataclass

from characterization.jobs.definitions import title_of
from characterization.jobs.models import AnalysisJob

# Figures a result page draws first, in this order; any others follow.
FIGURE_ORDER = ("capacity", "mean_voltage", "dqdv", "rate")


@dataclass(frozen=True)
class Figure:
    dom_id: str
    name: str
    figure: dict

    @property
    def data_id(self) -> str:
        return f"{self.dom_id}-data"


def figures_of(job: AnalysisJob) -> list[Figure]:
    """The result's plotly figures in reading order, each with a page-unique element id."""
    if job.result is None:
        return []
    figures = job.result.figures or {}
    names = [n for n in FIGURE_ORDER if n in figures] + sorted(
        n for n in figures if n not in FIGURE_ORDER
    )
    return [Figure(f"fig-{job.pk}-{name}", name, figures[name]) for name in names]


def summary_rows(job: AnalysisJob) -> list[tuple[str, str]]:
    """The result summary as (label, text) pairs: scalars and short lists of cycle numbers;
    a small mapping of scalars (a lattice, a gas's amounts) one row per entry ("Lattice · a
    (Å)"); long lists and nested data left to the tables."""
    if job.result is None:
        return []
    return _rows(job.result.summary or {})


def _rows(summary: dict, prefix: str = "") -> list[tuple[str, str]]:
    rows = []
    for key, value in summary.items():
        if _small_mapping(value):
            rows += _rows(value, f"{prefix}{_label(key)} · ")
            continue
        if prefix:
            rows += [(prefix + label, text) for label, text in _rows({key: value})]
        elif _short_int_list(value):
            rows.append((_label(key), ", ".join(map(str, value)) or "none"))
        elif isinstance(value, (list, dict)):
            rows.append((_label(key), f"{len(value)} row(s): see the tables and plots"))
        elif key.endswith("efficiency") and isinstance(value, float):
            rows.append((_label(key), f"{100 * value:.2f} %"))
        else:
            rows.append((_label(key), _text(value)))
    return rows


def _small_mapping(value) -> bool:
    """A dict of at most 8 scalars or such dicts (a lattice, the gases' amounts)."""
    return (
        isinstance(value, dict)
        and 0 < len(value) <= 8
        and all(
            v is None or isinstance(v, (int, float, str, bool)) or _small_mapping(v)
            for v in value.values()
        )
    )


# Unit suffixes of Kiln's field names (longest first) and how a person writes them.
UNIT_SUFFIXES = (
    ("_cm2_per_s", "cm²/s"),
    ("_j_per_g", "J/g"),
    ("_micromol_per_mg", "µmol/mg"),
    ("_micromol", "µmol"),
    ("_angstrom", "Å"),
    ("_ohm", "Ω"),
    ("_deg", "°"),
    ("_um", "µm"),
    ("_k_per_min", "K/min"),
    ("_mv_per_cycle", "mV/cycle"),
    ("_mah_per_v", "mAh/V"),
    ("_ma_per_g", "mA/g"),
    ("_mah_g", "mAh/g"),
    ("_mwh_g", "mWh/g"),
    ("_mah", "mAh"),
    ("_mwh", "mWh"),
    ("_mv", "mV"),
    ("_ma", "mA"),
    ("_mg", "mg"),
    ("_v", "V"),
    ("_c", "°C"),
    ("_s", "s"),
    ("_percent", "%"),
)
# Whole keys a suffix would misread, and keys with a unit of their own.
LABELS = {
    "micromol": "Amount (µmol)",
    "micromol_per_mg": "Per active mass (µmol/mg)",
    "rate_c": "C-rate",
    "r_s_ohm": "R_s (Ω)",
    "r_ct_ohm": "R_ct (Ω)",
    "i003_i104": "I(003)/I(104)",
    "a_angstrom": "a (Å)",
    "c_angstrom": "c (Å)",
    "a_esd_angstrom": "esd of a (Å)",
    "c_esd_angstrom": "esd of c (Å)",
}


def _label(key: str) -> str:
    """ "discharge_capacity_mah_g" -> "Discharge capacity (mAh/g)"."""
    if key in LABELS:
        return LABELS[key]
    for suffix, unit in UNIT_SUFFIXES:
        if key.endswith(suffix):
            return f"{key[: -len(suffix)].replace('_', ' ').capitalize()} ({unit})"
    return key.replace("_", " ").capitalize()


def _short_int_list(value) -> bool:
    return (
        isinstance(value, list)
        and len(value) <= 12
        and all(isinstance(v, int) and not isinstance(v, bool) for v in value)
    )


def _text(value) -> str:
    if value is None:
        return "–"
    if isinstance(value, float):
        return f"{value:.6g}"
    return str(value)


def provenance(job: AnalysisJob) -> list[tuple[str, str]]:
    kind_title = title_of(job.kind)
    mass = "none" if job.active_mass_mg is None else f"{job.active_mass_mg:.4f} mg"
    mapping = job.column_mapping or {}
    file_format = "generic table" if mapping else (job.raw_file.detected_format or "?")
    rows = [
        ("Input file", f"{job.raw_file.original_name} ({file_format})"),
        ("Input SHA-256", ", ".join(job.input_checksums)),
        ("Analysis", f"{kind_title} ({job.kind}), version {job.kind_version or '?'}"),
        ("Parser version", job.parser_version or "?"),
        ("Parameters", json.dumps(job.parameters, sort_keys=True)),
        ("Active mass", mass),
        ("Cell", _cell_context_text(job.cell_context or {})),
        ("Cache key", job.cache_key or "–"),
    ]
    if mapping:
        name, instrument = mapping.get("name", "?"), mapping.get("instrument", "?")
        rows.insert(2, ("Column mapping", f"{name} (instrument {instrument})"))
    return rows


def _cell_context_text(context: dict) -> str:
    """ "cathode half-cell · Li1.2Mn0.6Ni0.2O2 · 1C = 250 mA/g · window 2–4.8 V"."""
    parts = []
    if context.get("electrode"):
        parts.append(f"{context['electrode']} half-cell")
    if context.get("formula"):
        parts.append(context["formula"])
    if context.get("one_c_ma_per_g"):
        parts.append(f"1C = {context['one_c_ma_per_g']:g} mA/g")
    window = context.get("voltage_window_v")
    if window:
        low, high = ("–" if v is None else f"{v:g}" for v in window)
        parts.append(f"declared window {low}–{high} V")
    if context.get("capacity_ceiling_mah_g") and not context.get("formula"):
        parts.append(f"capacity ceiling {context['capacity_ceiling_mah_g']:g} mAh/g")
    return " · ".join(parts) or "nothing known beyond the file"


@dataclass(frozen=True)
class FadeWindow:
    """How a voltage-fade result was computed, in words."""

    first_cycle: int
    last_cycle: int
    chosen: bool
    formation_cycles: list[int]
    sign: str
    fade_mv_per_cycle: float | None
    fitted_fade_mv_per_cycle: float | None

    @property
    def formation_text(self) -> str:
        return ", ".join(map(str, self.formation_cycles))


def fade_window(job: AnalysisJob) -> FadeWindow | None:
    """The window, sign and excluded formation cycles of a voltage-fade result (None for other
    analyses and for a fade that could not be computed: its warning says why)."""
    if job.kind != "voltage_fade" or job.result is None:
        return None
    summary = job.result.summary or {}
    if summary.get("first_cycle") is None or summary.get("last_cycle") is None:
        return None
    return FadeWindow(
        first_cycle=int(summary["first_cycle"]),
        last_cycle=int(summary["last_cycle"]),
        chosen=summary.get("window") == "chosen",
        formation_cycles=[int(c) for c in summary.get("formation_cycles") or []],
        sign=str(summary.get("sign") or "positive = the mean discharge voltage falls"),
        fade_mv_per_cycle=summary.get("fade_mv_per_cycle"),
        fitted_fade_mv_per_cycle=summary.get("fitted_fade_mv_per_cycle"),
    )
