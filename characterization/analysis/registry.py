"""Registered analysis kinds: code in the repository, chosen and parametrised from the database.

An AnalysisKind has a key, a code version (bump it when the numbers it gives change), a
parameter schema, the table kind it reads (parsers.schema.TABLE_KINDS: a cycling analysis is
given cycling tables, an impedance analysis impedance tables) and a `run(table, params,
context)` that returns an AnalysisOutput: a JSON summary, tables (written as CSV artefacts) and
plotly figures (JSON, drawn by the vendored plotly.js). Parameters are validated here so that a
bad definition never reaches a worker.

This module knows no kind itself: the shipped ones (analysis/kinds.py, BUILTIN_KINDS) are
registered by the jobs app when Django starts (characterization.jobs.apps), a new one by adding
it to BUILTIN_KINDS.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

import pandas as pd

from characterization.analysis.errors import AnalysisError
from characterization.parsers.schema import TABLE_KINDS


@dataclass(frozen=True)
class Param:
    name: str
    label: str
    type: str  # "float", "int", "floats", "text" (then `choices` may list the allowed values)
    default: object = None  # None: optional with no value
    minimum: float | None = None
    maximum: float | None = None
    choices: tuple[str, ...] = ()

    def clean(self, value: object) -> object:
        field_name = f"parameters.{self.name}"
        if value is None or value == "":
            return self.default
        if self.type == "text":
            return self._text(value, field_name)
        if self.type == "floats":
            values = value if isinstance(value, (list, tuple)) else str(value).split(",")
            return [self._number(v, field_name) for v in values]
        number = self._number(value, field_name)
        if self.type == "int":
            if not float(number).is_integer():
                raise AnalysisError(field_name, f"{self.label} must be a whole number")
            return int(number)
        return number

    def _text(self, value: object, field_name: str) -> str:
        text = str(value).strip()
        if self.choices and text not in self.choices:
            raise AnalysisError(
                field_name, f"{self.label} must be one of {', '.join(self.choices)}"
            )
        if len(text) > 200:
            raise AnalysisError(field_name, f"{self.label} must be at most 200 characters")
        return text

    def _number(self, value: object, field_name: str) -> float:
        try:
            number = float(value)  # type: ignore[arg-type]
        except (TypeError, ValueError):
            raise AnalysisError(field_name, f"{self.label} must be a number") from None
        if not math.isfinite(number):
            raise AnalysisError(field_name, f"{self.label} must be a finite number")
        if self.minimum is not None and number < self.minimum:
            raise AnalysisError(field_name, f"{self.label} must be ≥ {self.minimum:g}")
        if self.maximum is not None and number > self.maximum:
            raise AnalysisError(field_name, f"{self.label} must be ≤ {self.maximum:g}")
        return number


@dataclass(frozen=True)
class AnalysisContext:
    """What a run needs besides the table: what Kiln knows of the cell (active mass, the
    working electrode's role, its active material's formula, its 1C, the measurement's
    declared voltage window, the lab's capacity ceiling), what the file's reader found besides
    the table (`file_metadata`: ParsedFile.metadata, e.g. a DSC file's sample mass) and a
    progress callback."""

    active_mass_mg: float | None
    progress: Callable[[int, str], None] = lambda percent, message: None
    electrode: str = "cathode"
    formula: str | None = None
    one_c_ma_per_g: float | None = None
    voltage_window_v: tuple[float | None, float | None] | None = None
    capacity_ceiling_mah_g: float | None = None
    particle_d50_um: float | None = None
    sample_mass_mg: float | None = None  # the measurement's (DSC/TGA: the mass in the pan)
    file_metadata: Mapping[str, object] = field(default_factory=dict)
    # Other files the kind reads beside its own (AnalysisKind.companions): name -> Companion
    companions: Mapping[str, Companion] = field(default_factory=dict)


@dataclass(frozen=True)
class Companion:
    """Another file an analysis reads beside its own (the cell's cycling file for DEMS, the
    reference pattern for XRD): its table, its reader's metadata and where it came from."""

    table: pd.DataFrame
    metadata: Mapping[str, object] = field(default_factory=dict)
    label: str = ""  # "<file name> (<measurement code>)", for the summary's provenance


@dataclass(frozen=True)
class AnalysisOutput:
    """summary: JSON; tables: written as CSV; figures: plotly; warnings: plausibility.
    ResultWarning dicts ({code, message, cycles, severity}) stored with the result."""

    summary: dict
    tables: dict[str, pd.DataFrame] = field(default_factory=dict)
    figures: dict[str, dict] = field(default_factory=dict)  # name -> {"data": [...], "layout"}
    warnings: list[dict] = field(default_factory=list)


@dataclass(frozen=True)
class AnalysisKind:
    key: str
    version: int
    title: str
    params: tuple[Param, ...]
    run: Callable[[pd.DataFrame, dict, AnalysisContext], AnalysisOutput]
    needs_active_mass: bool = True
    measurement_types: tuple[str, ...] = ("cycling",)  # run automatically for these by default
    table_kind: str = "cycling"  # the table it reads (parsers.schema.TABLE_KINDS)
    # Other files it reads when Kiln finds them (jobs.companions): (name, table kind) pairs
    companions: tuple[tuple[str, str], ...] = ()

    def clean_parameters(self, raw: Mapping[str, object] | None) -> dict:
        raw = dict(raw or {})
        unknown = sorted(set(raw) - {p.name for p in self.params})
        if unknown:
            raise AnalysisError("parameters", f"{self.title} has no parameter {unknown[0]!r}")
        return {p.name: p.clean(raw.get(p.name)) for p in self.params}


_KINDS: dict[str, AnalysisKind] = {}


def register(kind: AnalysisKind) -> AnalysisKind:
    """Make `kind` known by its key (again: the same key replaces it)."""
    if kind.table_kind not in TABLE_KINDS:
        known = ", ".join(TABLE_KINDS)
        raise ValueError(f"{kind.key} reads an unknown table kind {kind.table_kind!r}: {known}")
    _KINDS[kind.key] = kind
    return kind


def get_kind(key: str) -> AnalysisKind:
    try:
        return _KINDS[key]
    except KeyError:
        known = ", ".join(sorted(_KINDS))
        raise AnalysisError("kind", f"unknown analysis {key!r}; known: {known}") from None


def kinds() -> dict[str, AnalysisKind]:
    """Every registered kind by key."""
    return dict(_KINDS)


def line_figure(
    title: str,
    x_title: str,
    y_title: str,
    series: Sequence[tuple[str, Sequence, Sequence]],
    mode: str = "lines+markers",
) -> dict:
    """A plotly figure dict of named (x, y) series."""
    data = [
        {
            "type": "scatter",
            "mode": mode,
            "name": name,
            "x": list(map(_json, x)),
            "y": list(map(_json, y)),
        }
        for name, x, y in series
    ]
    layout = {
        "title": {"text": title},
        "xaxis": {"title": {"text": x_title}},
        "yaxis": {"title": {"text": y_title}},
        "margin": {"t": 48, "r": 16},
        "legend": {"orientation": "h"},
    }
    return {"data": data, "layout": layout}


def _json(value):
    if isinstance(value, str):
        return value
    value = float(value)
    return None if math.isnan(value) or math.isinf(value) else round(value, 6)
