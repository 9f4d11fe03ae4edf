"""What a job computes: everything that decides its numbers (JobSpec) and their hash, the cache
key under which its result is stored once and reused."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from django.conf import settings

from characterization.analysis import registry
from characterization.jobs.companions import CONTEXT_KEY as COMPANIONS_KEY
from characterization.jobs.companions import companions_for
from characterization.jobs.definitions import kind_of
from characterization.models import CoinCell, Measurement, RawFile
from characterization.parsers.reader import PARSER_VERSION
from lims.lineage import ancestor_depths
from lims.models import Sample

_CONTEXT_KEYS = (
    "electrode",
    "formula",
    "one_c_ma_per_g",
    "capacity_ceiling_mah_g",
    "particle_d50_um",
    "sample_mass_mg",
)


@dataclass(frozen=True)
class JobSpec:
    """Everything that decides a job's numbers, and its hash."""

    kind: str
    kind_version: int
    parser_version: str
    parameters: dict
    input_checksums: list[str]
    active_mass_mg: float | None
    column_mapping: dict = field(default_factory=dict)  # InstrumentMapping.snapshot(), or {}
    cell_context: dict = field(default_factory=dict)  # cell_context_of(), or {}

    @property
    def cache_key(self) -> str:
        return cache_key_for(**spec_inputs(self))

    def analysis_context(
        self, progress, file_metadata: Mapping | None = None, companions: Mapping | None = None
    ) -> registry.AnalysisContext:
        """The context the analysis runs with: the cell as it was when the job was queued,
        what the file's reader found besides the table and the companion files' tables."""
        context = dict(self.cell_context)
        window = context.pop("voltage_window_v", None)
        return registry.AnalysisContext(
            active_mass_mg=self.active_mass_mg,
            progress=progress,
            voltage_window_v=tuple(window) if window else None,
            file_metadata=dict(file_metadata or {}),
            companions=dict(companions or {}),
            **{k: v for k, v in context.items() if k in _CONTEXT_KEYS},
        )


def cache_key_for(
    *,
    kind: str,
    kind_version: int,
    parser_version: str,
    parameters: Mapping,
    input_checksums: Sequence[str],
    active_mass_mg: float | None,
    column_mapping: Mapping | None = None,
    cell_context: Mapping | None = None,
) -> str:
    """SHA-256 of the canonical JSON of the inputs (sorted keys, no spaces, no NaN); the
    column mapping and the cell context enter only when there is one."""
    document = {
        "kind": kind,
        "kind_version": int(kind_version),
        "parser_version": str(parser_version),
        "parameters": dict(parameters),
        "inputs": list(input_checksums),
        "active_mass_mg": None if active_mass_mg is None else float(active_mass_mg),
    }
    if column_mapping:
        document["column_mapping"] = dict(column_mapping)
    if cell_context:
        document["cell_context"] = dict(cell_context)
    canonical = json.dumps(document, sort_keys=True, separators=(",", ":"), allow_nan=False)
    return hashlib.sha256(canonical.encode("ascii")).hexdigest()


def spec_inputs(spec: JobSpec) -> dict:
    """What decides a result's numbers, as stored on both the job and the result row."""
    return {
        "kind": spec.kind,
        "kind_version": spec.kind_version,
        "parser_version": spec.parser_version,
        "parameters": spec.parameters,
        "input_checksums": spec.input_checksums,
        "active_mass_mg": spec.active_mass_mg,
        "column_mapping": spec.column_mapping,
        "cell_context": spec.cell_context,
    }


def spec_fields(spec: JobSpec) -> dict:
    """The job row's fields for the spec: its inputs and its cache key."""
    return {**spec_inputs(spec), "cache_key": spec.cache_key}


def job_spec(
    *,
    definition,
    raw_file: RawFile,
    active_mass_mg: float | None,
    column_mapping: dict | None = None,
    cell_context: dict | None = None,
    parameters: Mapping | None = None,
    measurement: Measurement | None = None,
) -> JobSpec:
    """The spec of a definition on a file, with this process' kind and parser versions;
    `parameters` (checked against the kind) replace the definition's for this run. With the
    measurement, the companion files the kind reads (jobs.companions) are chosen and recorded
    in the cell context and the input checksums."""
    kind = kind_of(definition.kind)
    chosen = (
        definition.parameters if parameters is None else {**definition.parameters, **parameters}
    )
    cleaned = kind.clean_parameters(chosen)
    context = dict(cell_context or {})
    checksums = [raw_file.sha256]
    if measurement is not None and kind.companions:
        found = companions_for(kind, measurement, raw_file, cleaned)
        if found:
            context[COMPANIONS_KEY] = found
            checksums += [info["sha256"] for info in found.values()]
    return JobSpec(
        kind=kind.key,
        kind_version=kind.version,
        parser_version=PARSER_VERSION,
        parameters=cleaned,
        input_checksums=checksums,
        active_mass_mg=active_mass_mg,
        column_mapping=dict(column_mapping or {}),
        cell_context=context,
    )


def active_mass_of(measurement: Measurement) -> float | None:
    """The active mass (mg) of the coin cell measured, None for a powder or other sample."""
    cell = CoinCell.objects.filter(sample_id=measurement.subject_id).only("active_mass_mg").first()
    return cell.active_mass_mg if cell else None


def cell_facts_of(measurement: Measurement) -> tuple[float | None, dict]:
    """(active_mass_of, cell_context_of) of the measurement from one read of its coin cell:
    for queueing several jobs of one measurement at once."""
    cell = _coin_cell_of(measurement)
    return (cell.active_mass_mg if cell else None), _cell_context(measurement, cell)


def _coin_cell_of(measurement: Measurement) -> CoinCell | None:
    return (
        CoinCell.objects.select_related("electrode__active_material")
        .filter(sample_id=measurement.subject_id)
        .first()
    )


def cell_context_of(measurement: Measurement) -> dict:
    """What Kiln knows of the measured cell, besides its active mass, that decides the numbers
    or their plausibility checks (part of the cache key): the measurement's declared voltage
    window and sample mass; for a coin cell its electrode role, its 1C, the D50 recorded on its
    electrode, the formula of its active material (the powder's, else the nearest ancestor's)
    and the lab's capacity ceiling for its role."""
    return _cell_context(measurement, _coin_cell_of(measurement))


def _cell_context(measurement: Measurement, cell: CoinCell | None) -> dict:
    context: dict = {}
    window = (measurement.conditions or {}).get("voltage_window_v")
    if isinstance(window, list | tuple) and len(window) == 2 and any(v is not None for v in window):
        context["voltage_window_v"] = [None if v is None else float(v) for v in window]
    mass = (measurement.conditions or {}).get("sample_mass_mg")
    if isinstance(mass, int | float) and not isinstance(mass, bool):
        context["sample_mass_mg"] = float(mass)
    if cell is None:
        return context
    if cell.electrode.particle_d50_um is not None:
        context["particle_d50_um"] = float(cell.electrode.particle_d50_um)
    context["electrode"] = cell.electrode_role
    context["one_c_ma_per_g"] = float(cell.one_c_ma_per_g)
    formula = active_material_formula(cell)
    if formula:
        context["formula"] = formula
    context["capacity_ceiling_mah_g"] = float(
        settings.KILN_CAPACITY_CEILING_MAH_G[cell.electrode_role]
    )
    return context


def active_material_formula(cell: CoinCell) -> str:
    """The formula of the cell's active material: its powder's, else (a coated powder whose
    product has none) the nearest ancestor's that has one; "" when none is recorded."""
    powder = cell.electrode.active_material
    if powder.formula:
        return powder.formula
    depths = ancestor_depths(powder.pk)
    with_formula = Sample.objects.filter(pk__in=list(depths)).exclude(formula="")
    nearest = min(with_formula, key=lambda s: depths[s.pk], default=None)
    return nearest.formula if nearest else ""
