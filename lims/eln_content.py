"""What Kiln knows of the samples of an .eln export beyond the registry (lims.exports): how a
powder was made (recipe, frozen plan and what was weighed, conditions), what a reagent lot is,
how electrodes and cells were built, measurements with their conditions, and stored analysis
results with their provenance (kind, version, parameters, input checksum).

Numbers are CrateValues named in the house style (mass_g, temperature_c), so lims.rocrate gives
each its unit. A batch's plan and each analysis result also go in as JSON files (the result's
tables as CSV), so nothing is lost to the flattening; a CreateAction links raw file -> result.
A few queries per kind of record, whatever the number of samples.
"""

from __future__ import annotations

import hashlib
import json
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

from django.conf import settings

from characterization.jobs.models import AnalysisJob, JobStatus
from characterization.models import CoinCell, Electrode, Measurement
from lims.models import Sample, StockCorrection
from lims.rocrate import CrateAction, CrateFile, CrateValue, flatten, safe_name
from lims.stock_queries import with_stock
from synthesis.models import Batch, Lot

ANALYSIS_PAYLOAD = "kiln-analysis-1"  # the "format" key of an analysis result's JSON file
# written by characterization.exports.cell_properties (the first of a name wins)
CELL_SKIP = {"active_mass_mg", "areal_loading_mg_per_cm2", "cell_format"}


@dataclass
class Content:
    values: list[CrateValue] = field(default_factory=list)
    files: list[CrateFile] = field(default_factory=list)
    actions: list[CrateAction] = field(default_factory=list)


def sample_content(sample_ids: list[int]) -> dict[int, Content]:
    """sample id -> what the records of synthesis and characterization say about it."""
    content: dict[int, Content] = defaultdict(Content)
    for gather in (_batches, _lots, _stock, _electrodes, _cells, _measurements, _analyses):
        gather(sample_ids, content)
    return content


def values_of(prefix: str, mapping: dict) -> list[CrateValue]:
    """Flattened values, without empty ones (the consortium warns on empty values)."""
    return [CrateValue(name, value) for name, value in flatten(prefix, mapping) if value != ""]


def json_file(name: str, payload: dict, description: str) -> CrateFile:
    content = json.dumps(payload, indent=2, sort_keys=True, ensure_ascii=False).encode()
    sha = hashlib.sha256(content).hexdigest()
    return CrateFile(name, None, sha, len(content), "application/json", description, content)


def _username(user) -> str:
    return user.get_username() if user is not None else ""


def _iso(moment) -> str:
    return moment.isoformat() if moment is not None else ""


# --- synthesis ----------------------------------------------------------------------------------


def _batches(sample_ids: list[int], content: dict[int, Content]) -> None:
    batches = (
        Batch.objects.filter(product_id__in=sample_ids)
        .select_related("recipe", "operator", "substrate")
        .prefetch_related("reagents__line__chemical", "reagents__lot__sample", "step_logs__step")
    )
    for batch in batches:
        into = content[batch.product_id]
        into.values += values_of("batch", _batch_record(batch))
        into.values += values_of("recipe", _recipe_record(batch.recipe))
        for row in batch.reagents.all():
            into.values += values_of(f"reagents.{row.order}", _reagent_record(row))
        for log in batch.step_logs.all():
            into.values += values_of(f"steps.{log.order}", _step_record(log))
        into.files.append(
            json_file(f"{safe_name(batch.code)}-plan.json", batch.plan,
                      f"The chemistry plan of {batch.code}, frozen when it was planned")
        )  # fmt: skip


def _batch_record(batch: Batch) -> dict:
    return {
        "code": batch.code, "status": batch.status, "operator": _username(batch.operator),
        "substrate": batch.substrate.code if batch.substrate else "",
        "target_mass_g": batch.target_mass_g, "substrate_mass_g": batch.substrate_mass_g,
        "coating_wt_percent": batch.coating_wt_percent, "coating_basis": batch.coating_basis,
        "scale": batch.scale, "tolerance_percent": batch.tolerance_percent,
        "calcination": {"temperature_c": batch.calcination_temperature_c,
                        "duration_h": batch.calcination_duration_h},
        "theoretical_yield_g": batch.theoretical_yield_g, "yield_mass_g": batch.yield_mass_g,
        "yield_percent": batch.yield_percent, "started_at": _iso(batch.started_at),
        "finished_at": _iso(batch.finished_at), "notes": batch.notes,
    }  # fmt: skip


def _recipe_record(recipe) -> dict:
    return {
        "name": recipe.name, "family": recipe.family, "version": recipe.version,
        "kind": recipe.kind, "product_formula": recipe.product_formula,
        "coating_formula": recipe.coating_formula,
    }  # fmt: skip


def _reagent_record(row) -> dict:
    lot = row.lot
    return {
        "name": row.line.name, "role": row.line.role, "formula": row.line.effective_formula,
        "lot": lot.sample.code if lot else "", "lot_number": lot.lot_number if lot else "",
        "planned_mass_g": row.planned_mass_g, "planned_volume_ml": row.planned_volume_ml,
        "actual_mass_g": row.actual_mass_g, "actual_volume_ml": row.actual_volume_ml,
        "deviation_percent": row.deviation_percent, "flagged": row.flagged,
    }  # fmt: skip


def _step_record(log) -> dict:
    return {
        "kind": log.step.kind, "summary": log.step.summary, "parameters": log.step.parameters,
        "done": log.done, "started_at": _iso(log.started_at), "ended_at": _iso(log.ended_at),
        "equipment": log.equipment, "actual_temperature_c": log.actual_temperature_c,
        "rpm": log.rpm, "notes": log.notes,
    }  # fmt: skip


def _lots(sample_ids: list[int], content: dict[int, Content]) -> None:
    for lot in Lot.objects.filter(sample_id__in=sample_ids).select_related("chemical"):
        content[lot.sample_id].values += values_of("lot", {
            "chemical": lot.chemical.name, "formula": lot.chemical.formula,
            "cas_number": lot.chemical.cas_number, "supplier": lot.supplier,
            "lot_number": lot.lot_number, "purity_percent": lot.purity_percent,
            "received_on": _iso(lot.received_on), "expires_on": _iso(lot.expires_on),
            "amount_unit": lot.amount_unit,
        })  # fmt: skip


def _stock(sample_ids: list[int], content: dict[int, Content]) -> None:
    """A tracked powder's stock (grams at the start, drawn, corrected, left) and each correction
    with who, when and why: what lims.eln_import needs to give the same stock back."""
    tracked = with_stock(Sample.objects.filter(pk__in=sample_ids)).filter(
        stock_initial_g__isnull=False
    )
    corrections = defaultdict(list)
    for c in StockCorrection.objects.filter(sample_id__in=sample_ids).select_related("by"):
        corrections[c.sample_id].append(c)
    for row in tracked.values("pk", "stock_initial_g", "stock_drawn_g", "stock_corrected_g",
                              "stock_left_g"):  # fmt: skip
        done = sorted(corrections[row["pk"]], key=lambda c: (c.at, c.id))
        content[row["pk"]].values += values_of("stock", {
            "initial_g": row["stock_initial_g"], "drawn_g": row["stock_drawn_g"],
            "corrected_g": row["stock_corrected_g"], "left_g": row["stock_left_g"],
            "corrections": [{"delta_g": c.delta_g, "reason": c.reason, "by": _username(c.by),
                             "at": _iso(c.at)} for c in done],
        })  # fmt: skip


# --- characterization ---------------------------------------------------------------------------


def _electrodes(sample_ids: list[int], content: dict[int, Content]) -> None:
    rows = Electrode.objects.filter(sample_id__in=sample_ids).select_related(
        "active_material", "made_by"
    )
    for e in rows:
        content[e.sample_id].values += values_of("electrode", {
            "active_material": e.active_material.code, "carbon": e.carbon_name,
            "binder": e.binder_name, "solvent": e.solvent,
            "ratio": {"active_percent": e.ratio_active_percent,
                      "carbon_percent": e.ratio_carbon_percent,
                      "binder_percent": e.ratio_binder_percent},
            "active_mass_g": e.active_mass_g, "carbon_mass_g": e.carbon_mass_g,
            "binder_mass_g": e.binder_mass_g, "solvent_mass_g": e.solvent_mass_g,
            "solid_content_percent": e.solid_content_percent,
            "current_collector": e.current_collector,
            "collector_thickness_um": e.collector_thickness_um,
            "particle_d50_um": e.particle_d50_um, "casting_method": e.casting_method,
            "casting_thickness_um": e.casting_thickness_um, "drying": e.drying_steps,
            "disc_diameter_mm": e.disc_diameter_mm, "foil_disc_mass_mg": e.foil_disc_mass_mg,
            "one_c_ma_per_g": e.one_c_ma_per_g, "made_by": _username(e.made_by),
            "made_on": _iso(e.made_on),
        })  # fmt: skip


def _cells(sample_ids: list[int], content: dict[int, Content]) -> None:
    rows = CoinCell.objects.filter(sample_id__in=sample_ids).select_related(
        "electrode__sample", "built_by"
    )
    for c in rows:
        record = {
            "electrode": c.electrode.sample.code, "disc_diameter_mm": c.disc_diameter_mm,
            "disc_mass_mg": c.disc_mass_mg, "foil_disc_mass_mg": c.foil_disc_mass_mg,
            "active_fraction": c.active_fraction, "disc_area_cm2": c.disc_area_cm2,
            "one_c_ma_per_g": c.one_c_ma_per_g, "electrode_role": c.electrode_role,
            "counter_electrode": c.counter_electrode, "separator": c.separator,
            "electrolyte": c.electrolyte_name, "electrolyte_volume_ul": c.electrolyte_volume_ul,
            "glovebox_o2_ppm": c.glovebox_o2_ppm, "glovebox_h2o_ppm": c.glovebox_h2o_ppm,
            "built_by": _username(c.built_by), "built_on": _iso(c.built_on),
        }  # fmt: skip
        values = values_of("cell", record)
        # the cell's key numbers keep the names the export had (characterization.exports)
        content[c.sample_id].values += [v for v in values if v.name not in CELL_SKIP]


def _measurements(sample_ids: list[int], content: dict[int, Content]) -> None:
    rows = (
        Measurement.objects.filter(sample_id__in=sample_ids)
        .select_related("subject", "operator")
        .prefetch_related("refinements")
    )
    for m in rows:
        into = content[m.sample_id]
        into.values += values_of("measurement", {
            "type": m.measurement_type, "subject": m.subject.code, "instrument": m.instrument,
            "operator": _username(m.operator), "measured_at": _iso(m.measured_at),
        })  # fmt: skip
        into.values += values_of("conditions", m.conditions)
        for i, r in enumerate(m.refinements.all()):
            into.values += values_of(f"refinements.{i}", _refinement_record(r))


def _refinement_record(r) -> dict:
    return {
        "phase": r.phase, "origin": r.origin, "a_angstrom": r.a_angstrom,
        "c_angstrom": r.c_angstrom, "volume_angstrom3": r.volume_angstrom3,
        "z_oxygen": r.z_oxygen, "rwp_percent": r.rwp_percent, "occupancies": r.occupancies,
        "slab_thickness_angstrom": r.slab_thickness_angstrom,
        "interslab_spacing_angstrom": r.interslab_spacing_angstrom,
        "cell_volume_angstrom3": r.cell_volume_angstrom3, "warnings": r.warnings,
    }  # fmt: skip


# --- analysis results ---------------------------------------------------------------------------


def _analyses(sample_ids: list[int], content: dict[int, Content]) -> None:
    """Each stored result of a measurement once: its JSON, its tables, key numbers, and the
    CreateAction raw file -> result."""
    jobs = (
        AnalysisJob.objects.filter(
            measurement__sample_id__in=sample_ids, status=JobStatus.SUCCEEDED,
            voided_at__isnull=True, result__voided_at__isnull=True,
        )
        .select_related("result", "raw_file", "definition", "measurement__sample")
        .order_by("id")
    )  # fmt: skip
    seen: set[tuple[int, int]] = set()
    counts: dict[int, int] = defaultdict(int)
    for job in jobs:
        sample_id = job.measurement.sample_id
        if (sample_id, job.result_id) in seen:
            continue
        seen.add((sample_id, job.result_id))
        _analysis(job, counts[sample_id], content[sample_id])
        counts[sample_id] += 1


def _analysis(job: AnalysisJob, index: int, into: Content) -> None:
    result = job.result
    stem = f"analysis-{safe_name(result.kind)}-{result.cache_key[:12]}"
    tables = _artifact_files(result, stem)
    about = f"{result.kind} v{result.kind_version} of {job.raw_file.original_name}"
    summary = json_file(f"{stem}.json", _result_payload(job, tables), about)
    into.files += [summary, *tables]
    into.values += values_of(f"analyses.{index}", {
        "kind": result.kind, "version": result.kind_version,
        "parser_version": result.parser_version, "definition": job.definition.name,
        "input_sha256": job.raw_file.sha256, "parameters": result.parameters,
        "summary": key_numbers(result.summary),
        "warnings": len(result.warnings or []), "file": summary.name,
    })  # fmt: skip
    into.actions.append(
        CrateAction(
            key=f"{job.measurement.sample.code}-{result.cache_key[:16]}",
            name=f"{result.kind} v{result.kind_version} on {job.raw_file.original_name}",
            software=f"Kiln analysis {result.kind}", version=str(result.kind_version),
            inputs=(job.raw_file.sha256,), outputs=(summary.sha256, *(t.sha256 for t in tables)),
            when=_iso(result.created_at),
        )
    )  # fmt: skip


def key_numbers(summary: dict) -> dict:
    """A summary's scalars, those of its mappings, and the first and last rows of a list of
    rows (per-cycle numbers); the whole of it is in the result's JSON file."""
    numbers = {}
    for key, value in summary.items():
        if isinstance(value, dict):
            numbers[key] = _scalars(value)
        elif isinstance(value, list) and value and all(isinstance(r, dict) for r in value):
            numbers[key] = {"first": _scalars(value[0]), "last": _scalars(value[-1])}
        elif not isinstance(value, list):
            numbers[key] = value
    return numbers


def _scalars(mapping: dict) -> dict:
    return {k: v for k, v in mapping.items() if not isinstance(v, dict | list)}


def _artifact_files(result, stem: str) -> list[CrateFile]:
    """The result's tables still on disk (a missing one is named in the JSON, not copied)."""
    files = []
    for artifact in result.artifacts or []:
        path = Path(settings.MEDIA_ROOT) / artifact["path"]
        if path.is_file():
            name = f"{stem}-{safe_name(artifact['name'])}{path.suffix}"
            files.append(CrateFile(name, path, artifact["sha256"], artifact["size"], "text/csv",
                                   f"Table {artifact['name']!r} of the result"))  # fmt: skip
    return files


def _result_payload(job: AnalysisJob, tables: list[CrateFile]) -> dict:
    """Everything the result row holds, and where its tables are in the archive."""
    r = job.result
    names = {t.sha256: t.name for t in tables}
    return {
        "format": ANALYSIS_PAYLOAD, "definition": job.definition.name, "kind": r.kind,
        "kind_version": r.kind_version, "parser_version": r.parser_version,
        "parameters": r.parameters, "input_checksums": r.input_checksums,
        "raw_file_sha256": job.raw_file.sha256, "active_mass_mg": r.active_mass_mg,
        "column_mapping": r.column_mapping, "cell_context": r.cell_context,
        "summary": r.summary, "figures": r.figures, "warnings": r.warnings,
        "cache_key": r.cache_key, "created_at": _iso(r.created_at),
        "artifacts": [{**a, "file": names.get(a["sha256"], "")} for a in r.artifacts or []],
    }  # fmt: skip
