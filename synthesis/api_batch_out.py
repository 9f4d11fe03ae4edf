"""A batch as the API answers it: what its page shows (the frozen plan, each reagent's planned
and weighed amounts with the deviation, the step log, the product's code)."""

from __future__ import annotations

from typing import Any

from rest_framework import serializers

from synthesis import queries
from synthesis.chemistry import ChemistryError
from synthesis.models import Batch, BatchReagent, BatchStepLog
from synthesis.planning import batch_theoretical_yield


class LotRef(serializers.Serializer):
    id = serializers.IntegerField()
    code = serializers.CharField(help_text="the lot's sample code")
    supplier = serializers.CharField()
    lot_number = serializers.CharField()
    purity_percent = serializers.FloatField()


class ReagentOut(serializers.Serializer):
    id = serializers.IntegerField(help_text="what POST .../actuals names as `reagent`")
    order = serializers.IntegerField()
    line = serializers.IntegerField(help_text="the recipe line's id")
    name = serializers.CharField()
    role = serializers.CharField()
    formula = serializers.CharField()
    basis = serializers.CharField(help_text="stoichiometry, substrate, fixed or as needed")
    lot = LotRef(allow_null=True)
    molar_mass_g_per_mol = serializers.FloatField(allow_null=True)
    amount_mol = serializers.FloatField(allow_null=True)
    purity_percent = serializers.FloatField(allow_null=True)
    excess_percent = serializers.FloatField(allow_null=True)
    density_g_per_ml = serializers.FloatField(allow_null=True)
    planned_mass_g = serializers.FloatField(allow_null=True)
    planned_volume_ml = serializers.FloatField(allow_null=True)
    actual_mass_g = serializers.FloatField(allow_null=True)
    actual_volume_ml = serializers.FloatField(allow_null=True)
    deviation_percent = serializers.FloatField(
        allow_null=True, help_text="(actual − planned) / planned × 100"
    )
    flagged = serializers.BooleanField(help_text="the deviation is beyond the tolerance")
    warnings = serializers.ListField(child=serializers.CharField())


class StepLogOut(serializers.Serializer):
    order = serializers.IntegerField(help_text="what POST .../steps names as `order`")
    kind = serializers.CharField()
    summary = serializers.CharField(help_text="the recipe step, e.g. calcine 750 °C for 12 h")
    done = serializers.BooleanField()
    started_at = serializers.DateTimeField(allow_null=True)
    ended_at = serializers.DateTimeField(allow_null=True)
    equipment = serializers.CharField(allow_blank=True)
    actual_temperature_c = serializers.FloatField(allow_null=True)
    rpm = serializers.IntegerField(allow_null=True)
    notes = serializers.CharField(allow_blank=True)
    done_by = serializers.CharField(allow_null=True)


class RecipeRef(serializers.Serializer):
    id = serializers.IntegerField()
    family = serializers.CharField()
    version = serializers.IntegerField()
    name = serializers.CharField()


class BatchSummaryOut(serializers.Serializer):
    code = serializers.CharField()
    recipe = RecipeRef()
    status = serializers.CharField()
    operator = serializers.CharField(help_text="who planned it and owns it")
    series = serializers.IntegerField(allow_null=True)
    project = serializers.CharField(allow_null=True)
    substrate = serializers.CharField(allow_null=True, help_text="the substrate's sample code")
    target_mass_g = serializers.FloatField(allow_null=True)
    substrate_mass_g = serializers.FloatField(allow_null=True)
    coating_wt_percent = serializers.FloatField(allow_null=True)
    scale = serializers.FloatField()
    calcination_temperature_c = serializers.FloatField(allow_null=True)
    calcination_duration_h = serializers.FloatField(allow_null=True)
    tolerance_percent = serializers.FloatField()
    product = serializers.CharField(allow_null=True, help_text="the product's sample code")
    yield_mass_g = serializers.FloatField(allow_null=True)
    notes = serializers.CharField(allow_blank=True)
    failure_reason = serializers.CharField(allow_blank=True)
    created_at = serializers.DateTimeField()
    started_at = serializers.DateTimeField(allow_null=True)
    finished_at = serializers.DateTimeField(allow_null=True)
    finished_by = serializers.CharField(allow_null=True)
    voided_at = serializers.DateTimeField(allow_null=True)
    void_reason = serializers.CharField(allow_blank=True)
    url = serializers.CharField(help_text="its page")


class BatchOut(BatchSummaryOut):
    theoretical_yield_g = serializers.FloatField(
        allow_null=True, help_text="what the weighed reagents can give (limiting reagent)"
    )
    theoretical_yield_percent = serializers.FloatField(allow_null=True)
    reagents = ReagentOut(many=True)
    steps = StepLogOut(many=True)
    warnings = serializers.ListField(child=serializers.CharField(), help_text="of the plan")
    plan = serializers.DictField(help_text="the frozen chemistry plan with its inputs")


def _username(user) -> str | None:
    return user.get_username() if user is not None else None


def batch_summary(batch: Batch) -> dict[str, Any]:
    recipe = batch.recipe
    return {
        "code": batch.code,
        "recipe": {"id": recipe.pk, "family": recipe.family, "version": recipe.version,
                   "name": recipe.name},
        "status": batch.status,
        "operator": _username(batch.operator),
        "series": batch.series_id,
        "project": batch.project.code if batch.project_id else None,
        "substrate": batch.substrate.code if batch.substrate_id else None,
        "product": batch.product.code if batch.product_id else None,
        "finished_by": _username(batch.finished_by) if batch.finished_by_id else None,
        "url": f"/synthesis/batches/{batch.pk}/",
        **{name: getattr(batch, name) for name in (
            "target_mass_g", "substrate_mass_g", "coating_wt_percent", "scale",
            "calcination_temperature_c", "calcination_duration_h", "tolerance_percent",
            "yield_mass_g", "notes", "failure_reason", "created_at", "started_at", "finished_at",
            "voided_at", "void_reason")},
    }  # fmt: skip


def _lot(lot) -> dict[str, Any] | None:
    if lot is None:
        return None
    return {"id": lot.pk, "code": lot.sample.code, "supplier": lot.supplier,
            "lot_number": lot.lot_number, "purity_percent": lot.purity_percent}  # fmt: skip


def _reagent(row: BatchReagent, planned: dict[str, Any]) -> dict[str, Any]:
    line = row.line
    return {
        "id": row.pk, "order": row.order, "line": line.pk, "name": line.name, "role": line.role,
        "formula": planned.get("formula") or line.effective_formula,
        "basis": planned.get("basis", ""), "lot": _lot(row.lot),
        **{name: planned.get(name) for name in (
            "molar_mass_g_per_mol", "amount_mol", "purity_percent", "excess_percent",
            "density_g_per_ml")},
        **{name: getattr(row, name) for name in (
            "planned_mass_g", "planned_volume_ml", "actual_mass_g", "actual_volume_ml",
            "deviation_percent", "flagged")},
        "warnings": planned.get("warnings", []),
    }  # fmt: skip


def _step(log: BatchStepLog) -> dict[str, Any]:
    return {
        "order": log.order, "kind": log.step.kind, "summary": log.step.summary,
        "done_by": _username(log.done_by) if log.done_by_id else None,
        **{name: getattr(log, name) for name in (
            "done", "started_at", "ended_at", "equipment", "actual_temperature_c", "rpm",
            "notes")},
    }  # fmt: skip


def _theoretical(batch: Batch) -> tuple[float | None, float | None]:
    """The limiting reagent's theoretical yield and the yield's share of it (the page's)."""
    try:
        theoretical = batch_theoretical_yield(batch)
    except ChemistryError:
        theoretical = None
    mass = theoretical.mass_g if theoretical is not None else None
    share = None
    if mass and batch.yield_mass_g is not None:
        share = 100 * batch.yield_mass_g / mass
    return mass, share


def batch_detail(batch: Batch) -> dict[str, Any]:
    """Everything the batch page shows, as BatchOut describes it."""
    batch = queries.batches_for_page().select_related("project").get(pk=batch.pk)
    planned = queries.planned_lines(batch)
    reagents = queries.batch_reagents(batch)
    mass, share = _theoretical(batch)
    return {
        **batch_summary(batch),
        "theoretical_yield_g": mass,
        "theoretical_yield_percent": share,
        "reagents": [_reagent(r, dict(planned.get(r.line_id, {}))) for r in reagents],
        "steps": [_step(log) for log in queries.batch_step_logs(batch)],
        "warnings": [w for line in batch.plan.get("lines", []) for w in line["warnings"]],
        "plan": batch.plan,
    }


def batch_out(batch: Batch) -> dict[str, Any]:
    return BatchOut(batch_detail(batch)).data
