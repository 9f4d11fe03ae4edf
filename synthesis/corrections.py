"""Corrections and voids of batches, each in one transaction with the reason in its audit rows.

A completed (or failed) batch's record is closed, but an honest mistake in it can be corrected
by its operator or a lab manager: what was weighed, the yield (held to the bounds and to the
theoretical yield of what was weighed, as at completion) and the notes. A corrected amount of
a completed batch also corrects what was taken out of its lot and the amount on the lineage
edge into the product, with the same reason. A batch is never deleted: it is voided.
The yield is the product's stock and a substrate mass a draw on the substrate's (lims.stock):
neither may be corrected to leave a powder below zero.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from django.core.exceptions import ValidationError
from django.db import transaction

from lims import quantities, rules
from lims.models import EdgeRole, SampleEdge
from lims.stock import grams
from lims.stock_queries import drawn_edges
from lims.stock_services import stock_draw_check, stock_initial_check
from lims.voiding import (
    Change,
    reason_clean,
    record_correct,
    record_void,
    refuse_void,
    save_audited,
)
from synthesis.models import AmountUnit, Batch, BatchReagent, BatchStatus, Lot
from synthesis.services import Actual, _check_yield, _row_deviation

CLOSED = (BatchStatus.COMPLETED, BatchStatus.FAILED)


@dataclass(frozen=True)
class BatchCorrected:
    batch: Batch
    changes: list[Change] = field(default_factory=list)  # of the batch row
    reagents: dict[str, list[Change]] = field(default_factory=dict)  # reagent name -> changes

    def summary(self) -> str:
        """'yield (g) from 50 to 0.5; Li2CO3: actual mass (g) from 1.2 to 1.1'."""
        parts = [f"{c.label} from {c.old} to {c.new}" for c in self.changes]
        for name, changes in self.reagents.items():
            parts += [f"{name}: {c.label} from {c.old} to {c.new}" for c in changes]
        return "; ".join(parts)


_UNCHANGED = object()


@transaction.atomic
def batch_correct(
    *,
    batch: Batch,
    user,
    reason: str,
    yield_mass_g=_UNCHANGED,
    notes=_UNCHANGED,
    actuals: Mapping[int, Actual] | None = None,
) -> BatchCorrected:
    """Correct a batch with a reason: the notes (any batch), and on a completed or failed batch
    what was weighed (``actuals`` keyed by BatchReagent id) and, once completed, the yield.

    All or nothing: a yield above the theoretical yield of the corrected amounts refuses the
    whole correction, and no audit row is written."""
    locked = Batch.objects.select_for_update(of=("self",)).select_related("recipe").get(pk=batch.pk)
    rules.require(user, "change", locked)
    refuse_void(locked)
    why = reason_clean(reason, action="correct", record=locked)
    reagents = _correct_actuals(locked, user=user, reason=why, actuals=actuals or {})
    values = {} if notes is _UNCHANGED else {"notes": (notes or "").strip()}
    if yield_mass_g is not _UNCHANGED:
        if locked.status != BatchStatus.COMPLETED:
            raise ValidationError(
                {"yield_mass_g": f"{locked.code} is not completed: it has no yield to correct."}
            )
        if yield_mass_g is None:
            raise ValidationError({"yield_mass_g": "Give the yield (g)."})
        values["yield_mass_g"] = float(yield_mass_g)
    if values.get("yield_mass_g", locked.yield_mass_g) == locked.yield_mass_g:
        values.pop("yield_mass_g", None)  # as recorded: not a correction of the yield
    new_yield = values.get("yield_mass_g", locked.yield_mass_g)
    if new_yield is not None and ("yield_mass_g" in values or reagents):
        _check_yield(locked, new_yield)  # against the theoretical yield of the amounts now
    if "yield_mass_g" in values and locked.product_id is not None:
        stock_initial_check(  # the yield is the product's stock: not below what was drawn
            sample=locked.product, initial_g=new_yield, what="a yield", field="yield_mass_g"
        )
    changes = []
    if _differs(locked, values) or not reagents:
        changes = record_correct(record=locked, user=user, reason=why, values=values)
    return BatchCorrected(locked, changes, reagents)


def _differs(batch: Batch, values: Mapping[str, object]) -> bool:
    return any(getattr(batch, name) != value for name, value in values.items())


def _correct_actuals(
    batch: Batch, *, user, reason: str, actuals: Mapping[int, Actual]
) -> dict[str, list[Change]]:
    """Write the corrected amounts (saved before the yield check, which reads them: a refusal
    rolls the whole transaction back)."""
    if not actuals:
        return {}
    if batch.status not in CLOSED:
        raise ValidationError(
            {"__all__": [f"{batch.code} is still open: record the amounts in its weighing table."]}
        )
    locked = batch.reagents.select_for_update(of=("self",)).select_related("line", "lot")
    rows = {r.pk: r for r in locked}
    _check_amounts(batch, rows, actuals)
    corrected: dict[str, list[Change]] = {}
    for reagent_id, actual in actuals.items():
        row = rows[reagent_id]
        before = (row.actual_mass_g, row.actual_volume_ml, row.actual_recorded)
        values = {"actual_mass_g": actual.mass_g, "actual_volume_ml": actual.volume_ml}
        if all(getattr(row, name) == value for name, value in values.items()):
            continue
        changes = record_correct(
            record=row, user=user, reason=reason, values=values, owner_record=batch
        )
        row.deviation_percent = _row_deviation(row)
        row.flagged = (
            row.deviation_percent is not None
            and abs(row.deviation_percent) > batch.tolerance_percent
        )
        BatchReagent.objects.filter(pk=row.pk).update(
            deviation_percent=row.deviation_percent, flagged=row.flagged
        )  # derived from the amounts: the audit row above holds the change
        if batch.status == BatchStatus.COMPLETED:
            _correct_consumption(batch, row, before, user=user, reason=reason)
        corrected[row.line.name] = changes
    return corrected


def _check_amounts(batch: Batch, rows: dict, actuals: Mapping[int, Actual]) -> None:
    errors: dict[str, list[str]] = {}
    for reagent_id, actual in actuals.items():
        row = rows.get(reagent_id)
        if row is None:
            raise ValidationError({"__all__": [f"Reagent {reagent_id} is not in {batch.code}."]})
        if actual.mass_g is None and actual.volume_ml is None:
            errors.setdefault(f"mass_{row.pk}", []).append(
                f"Give the mass or the volume of {row.line.name} that was weighed."
            )
        found = quantities.problems(
            [
                (f"mass_{row.pk}", "reagent_mass_g", actual.mass_g, f"mass of {row.line.name}"),
                (f"volume_{row.pk}", "reagent_volume_ml", actual.volume_ml,
                 f"volume of {row.line.name}"),
            ]
        )  # fmt: skip
        for key, message in found.items():
            errors.setdefault(key, []).append(message)
    if errors:
        raise ValidationError(errors)


def _correct_consumption(batch: Batch, row: BatchReagent, before: tuple, *, user, reason) -> None:
    """Give back to the lot what the old amount took and take the new one (never below zero),
    and put the new amount on the lineage edge into the product."""
    old_mass, old_volume, old_recorded = before
    if row.lot_id is not None:
        lot = (
            Lot.objects.select_for_update(of=("self",))
            .select_related("chemical", "sample")
            .get(pk=row.lot_id)
        )
        old_used = _used(lot, row, old_mass, old_volume, old_recorded)
        new_used = _used(lot, row, row.actual_mass_g, row.actual_volume_ml, row.actual_recorded)
        lot.amount_left = max(lot.amount_left + old_used - new_used, 0.0)
        save_audited(lot, user=user, reason=f"{batch.code} corrected: {reason}",
                     fields=["amount_left"])  # fmt: skip
        amount, unit = _edge_amount(row)
        _edge_set(lot.sample_id, batch, EdgeRole.REAGENT, amount, unit, user=user, reason=reason)
    elif row.line.is_substrate and batch.substrate_id is not None and row.actual_mass_g:
        _substrate_redraw(batch, row)
        _edge_set(batch.substrate_id, batch, EdgeRole.SUBSTRATE, row.actual_mass_g, "g",
                  user=user, reason=reason)  # fmt: skip


def _substrate_redraw(batch: Batch, row: BatchReagent) -> None:
    """A corrected substrate mass draws what it adds to its edge into the product from the
    substrate's stock: more than is left is refused."""
    edges = SampleEdge.objects.filter(
        parent_id=batch.substrate_id, child_id=batch.product_id, role=EdgeRole.SUBSTRATE
    )
    taken_g = sum(grams(e.amount, e.amount_unit) or 0.0 for e in drawn_edges(edges))
    if row.actual_mass_g > taken_g:
        stock_draw_check(
            sample=batch.substrate, wanted_g=row.actual_mass_g - taken_g,
            use=f"{batch.code} as corrected", field=f"mass_{row.pk}", more=True,
        )  # fmt: skip


def _used(lot: Lot, row: BatchReagent, mass, volume, recorded: bool) -> float:
    """What completion took from the lot: the weighed amount, else the planned one."""
    if not recorded:
        mass, volume = row.planned_mass_g, row.planned_volume_ml
    return lot.amount_in(mass_g=mass, volume_ml=volume) or 0.0


def _edge_amount(row: BatchReagent) -> tuple[float | None, str]:
    if row.actual_mass_g is not None:
        return row.actual_mass_g, AmountUnit.GRAM
    if row.actual_volume_ml is not None:
        return row.actual_volume_ml, AmountUnit.MILLILITRE
    if row.planned_mass_g is not None:
        return row.planned_mass_g, AmountUnit.GRAM
    return row.planned_volume_ml, AmountUnit.MILLILITRE


def _edge_set(parent_id, batch: Batch, role: str, amount, unit: str, *, user, reason) -> None:
    edge = SampleEdge.objects.filter(parent_id=parent_id, child_id=batch.product_id, role=role)
    edge = edge.first()
    if edge is not None and (edge.amount, edge.amount_unit) != (amount, unit):
        edge.amount, edge.amount_unit = amount, unit
        save_audited(edge, user=user, reason=f"{batch.code} corrected: {reason}",
                     fields=["amount", "amount_unit"])  # fmt: skip


@transaction.atomic
def batch_void(*, batch: Batch, user, reason: str) -> Batch:
    """Void a batch: kept with its reagents, steps and lineage; its product sample stays (its
    page says the batch that made it is void)."""
    return record_void(record=batch, user=user, reason=reason)
