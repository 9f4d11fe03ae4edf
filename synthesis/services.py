"""Every write of the synthesis app, each in one transaction (keyword-only, <entity>_<action>).

Errors: ``django.core.exceptions.ValidationError`` keyed by form field for bad input,
``PermissionDenied`` for a role that may not do this, ``BatchStateError`` when a batch is not
in a status that allows the action (e.g. someone else completed it a moment ago).
"""

from __future__ import annotations

import datetime
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Max
from django.utils import timezone
from django.utils.text import slugify

from lims import quantities
from lims.models import EdgeRole, Project, SampleCodeCounter, SampleKind
from lims.services import ParentLink, sample_register
from lims.stock_services import stock_draw_check
from lims.validators import raise_problems
from synthesis.chemistry import ChemistryError, check_yield
from synthesis.models import (
    DEFAULT_TOLERANCE_PERCENT,
    TRANSITIONS,
    AmountUnit,
    Batch,
    BatchReagent,
    BatchStatus,
    BatchStepLog,
    Chemical,
    Lot,
    ReagentLine,
    Recipe,
    RecipeStep,
    Series,
    SeriesParameter,
)
from synthesis.planning import PlanInputs, batch_theoretical_yield, plan_batch
from synthesis.recipe_input import RecipeData, check_recipe
from synthesis.validators import normalise_formula

RECIPE_EDITORS_MESSAGE = "Only lab managers edit recipes; ask a lab manager to change this one."
MAX_SERIES = 24


class BatchStateError(ValidationError):
    """The batch is not in a status that allows this (completed or failed already, ...)."""


# --- inventory -----------------------------------------------------------------------------


@transaction.atomic
def chemical_create(
    *,
    user,
    name: str,
    formula: str,
    cas_number: str = "",
    density_g_per_ml: float | None = None,
    default_purity_percent: float = 100.0,
    grade: str = "",
    hazard_notes: str = "",
) -> Chemical:
    chemical = Chemical(
        name=name.strip(),
        formula=formula.strip(),
        cas_number=cas_number.strip(),
        density_g_per_ml=density_g_per_ml,
        default_purity_percent=default_purity_percent,
        grade=grade.strip(),
        hazard_notes=hazard_notes,
        created_by=user,
    )
    chemical.full_clean()  # formula, CAS check digit, purity, the case-insensitive name
    chemical.formula = normalise_formula(chemical.formula)
    chemical.save()
    return chemical


@transaction.atomic
def lot_create(
    *,
    user,
    chemical: Chemical,
    supplier: str,
    lot_number: str,
    amount: float,
    amount_unit: str,
    purity_percent: float | None = None,
    received_on: datetime.date | None = None,
    opened_on: datetime.date | None = None,
    expires_on: datetime.date | None = None,
    location: str = "",
) -> Lot:
    """Receive a container: a Lot plus its REAGENT sample in the registry (a lineage node)."""
    lot = Lot(
        chemical=chemical,
        supplier=supplier.strip(),
        lot_number=lot_number.strip(),
        purity_percent=chemical.default_purity_percent
        if purity_percent is None
        else purity_percent,
        received_on=received_on or timezone.localdate(),
        opened_on=opened_on,
        expires_on=expires_on,
        location=location.strip(),
        amount_left=amount,
        amount_unit=amount_unit,
    )
    lot.full_clean(exclude=["sample"])
    if lot.expires_on and lot.expires_on < lot.received_on:
        raise ValidationError({"expires_on": "The expiry date is before the received date."})
    if lot.opened_on and lot.opened_on < lot.received_on:
        raise ValidationError({"opened_on": "The bottle cannot be opened before it arrived."})
    lot.sample = sample_register(
        kind=SampleKind.REAGENT,
        name=f"{chemical.name} lot {lot.lot_number} ({lot.supplier})",
        owner=user,
        formula=chemical.formula,
        location=lot.location,
    )
    lot.save()
    return lot


# --- recipes -------------------------------------------------------------------------------


def _require_recipe_editor(user) -> None:
    if user is None or not user.has_perm("synthesis.change_recipe"):
        raise PermissionDenied(RECIPE_EDITORS_MESSAGE)


@transaction.atomic
def recipe_create(*, user, data: RecipeData, family: str = "") -> Recipe:
    """Version 1 of a new recipe; ``family`` defaults to a slug of the name."""
    _require_recipe_editor(user)
    data = check_recipe(data)
    family = slugify(family or data.name)[:60]
    if not family:
        raise ValidationError({"name": "The name needs letters or digits."})
    if Recipe.objects.filter(family=family).exists():
        raise ValidationError(
            {"name": f"A recipe family {family!r} exists; revise it for a new version."}
        )
    return _write_recipe(family=family, version=1, data=data, user=user)


@transaction.atomic
def recipe_revise(*, user, recipe: Recipe, data: RecipeData) -> Recipe:
    """Apply ``data`` to ``recipe``: in place while it is the latest version and no batch used
    it, otherwise as version n+1 of the family (lines and steps written afresh)."""
    _require_recipe_editor(user)
    data = check_recipe(data)
    locked = Recipe.objects.select_for_update().get(pk=recipe.pk)  # vs. a batch created meanwhile
    latest = Recipe.objects.filter(family=locked.family).aggregate(v=Max("version"))["v"]
    if locked.batches.exists() or locked.version != latest:
        return _write_recipe(family=locked.family, version=latest + 1, data=data, user=user)
    for name, value in data.header().items():
        setattr(locked, name, value)
    locked.save()
    locked.lines.all().delete()
    locked.steps.all().delete()
    _write_lines_and_steps(locked, data)
    return locked


def _write_recipe(*, family: str, version: int, data: RecipeData, user) -> Recipe:
    header = data.header()
    for key in ("product_formula", "coating_formula"):
        header[key] = normalise_formula(header[key]) if header[key] else ""
    recipe = Recipe.objects.create(family=family, version=version, created_by=user, **header)
    _write_lines_and_steps(recipe, data)
    return recipe


def _write_lines_and_steps(recipe: Recipe, data: RecipeData) -> None:
    for order, line in enumerate(data.lines, start=1):
        ReagentLine.objects.create(
            recipe=recipe,
            order=order,
            role=line.role,
            name=line.name.strip(),
            chemical=line.chemical,
            formula=normalise_formula(line.formula) if line.formula else "",
            purity_percent=line.purity_percent,
            density_g_per_ml=line.density_g_per_ml,
            excess_element=line.excess_element,
            excess_percent=line.excess_percent,
            in_stoichiometry=line.in_stoichiometry,
            fixed_amount=line.fixed_amount,
            fixed_unit=line.fixed_unit,
            notes=line.notes,
        )
    for order, step in enumerate(data.steps, start=1):
        RecipeStep.objects.create(
            recipe=recipe,
            order=order,
            kind=step.kind,
            parameters=step.parameters,
            notes=step.notes,
        )


# --- batches -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Actual:
    """What was weighed for one batch reagent (either or both of mass and volume)."""

    mass_g: float | None = None
    volume_ml: float | None = None
    lot: Lot | None = None


def _plan_error(err: ChemistryError) -> ValidationError:
    return ValidationError({err.field: [err.message]})


def _batch_code_allocate() -> str:
    """SYN-2026-0007: the registry's per-prefix counter, locked while we take a number."""
    year = timezone.localdate().year
    SampleCodeCounter.objects.bulk_create(
        [SampleCodeCounter(prefix="SYN", year=year)], ignore_conflicts=True
    )
    counter = SampleCodeCounter.objects.select_for_update().get(prefix="SYN", year=year)
    counter.last += 1
    counter.save(update_fields=["last"])
    return f"SYN-{year}-{counter.last:04d}"


@transaction.atomic
def batch_create(
    *,
    user,
    recipe: Recipe,
    inputs: PlanInputs,
    tolerance_percent: float = DEFAULT_TOLERANCE_PERCENT,
    notes: str = "",
    series: Series | None = None,
    project: Project | None = None,
) -> Batch:
    """Plan with the chemistry engine and freeze it: JSON plan + one BatchReagent per line."""
    raise_problems([("tolerance_percent", "tolerance_percent", tolerance_percent)])
    recipe = Recipe.objects.select_for_update().get(pk=recipe.pk)  # no in-place edit meanwhile
    try:
        plan = plan_batch(recipe=recipe, inputs=inputs)
    except ChemistryError as err:
        raise _plan_error(err) from None
    batch = Batch.objects.create(
        code=_batch_code_allocate(),
        recipe=recipe,
        series=series,
        operator=user,
        project=project or (inputs.substrate.project if inputs.substrate else None),
        substrate=inputs.substrate,
        target_mass_g=None if plan.is_coating else plan.mass_g,
        substrate_mass_g=plan.mass_g if plan.is_coating else None,
        coating_wt_percent=plan.chemistry.coating_wt_percent if plan.is_coating else None,
        coating_basis=recipe.coating_basis if plan.is_coating else "",
        scale=plan.scale,
        plan=plan.to_dict(),
        calcination_temperature_c=plan.calcination_temperature_c,
        calcination_duration_h=plan.calcination_duration_h,
        tolerance_percent=tolerance_percent,
        notes=notes,
    )
    for order, line in enumerate(plan.lines, start=1):
        BatchReagent.objects.create(
            batch=batch,
            line=line.line,
            order=order,
            lot=line.lot,
            planned_mass_g=line.mass_g or None,
            planned_volume_ml=line.volume_ml or None,
        )
    for step in recipe.steps.order_by("order"):
        BatchStepLog.objects.create(batch=batch, step=step, order=step.order)
    return batch


def _locked(batch: Batch) -> Batch:
    """Re-read the batch under a row lock: a concurrent writer waits, then sees our result."""
    return Batch.objects.select_for_update().select_related("recipe").get(pk=batch.pk)


def _move(batch: Batch, to: str) -> None:
    if to not in TRANSITIONS[batch.status]:
        label = BatchStatus(to).label.lower()
        who = f" by {batch.finished_by.get_username()}" if batch.finished_by else ""
        when = f" at {timezone.localtime(batch.finished_at):%H:%M}" if batch.finished_at else ""
        raise BatchStateError(
            f"{batch.code} is {batch.get_status_display().lower()}{who}{when}; "
            f"it cannot be {label} now.",
            code="batch_state",
        )
    batch.status = to


def _ensure_started(batch: Batch) -> None:
    """Weighing or logging a step on a planned batch means work has started."""
    if batch.status == BatchStatus.PLANNED:
        _move(batch, BatchStatus.IN_PROGRESS)
        batch.started_at = timezone.now()
        batch.save(update_fields=["status", "started_at"])
    elif batch.status != BatchStatus.IN_PROGRESS:
        raise BatchStateError(
            f"{batch.code} is {batch.get_status_display().lower()}; its record is closed.",
            code="batch_state",
        )


@transaction.atomic
def batch_start(*, user, batch: Batch) -> Batch:
    locked = _locked(batch)
    _move(locked, BatchStatus.IN_PROGRESS)
    locked.started_at = timezone.now()
    locked.save(update_fields=["status", "started_at"])
    return locked


def deviation_percent(planned: float | None, actual: float | None) -> float | None:
    """(actual − planned) / planned × 100."""
    if planned is None or actual is None or planned == 0:
        return None
    return (actual - planned) / planned * 100


@transaction.atomic
def batch_record_actuals(
    *, user, batch: Batch, actuals: Mapping[int, Actual]
) -> list[BatchReagent]:
    """Record weighed amounts (keyed by BatchReagent id); returns the rows beyond tolerance."""
    locked = _locked(batch)
    _ensure_started(locked)
    rows = {r.pk: r for r in locked.reagents.select_related("line")}
    errors: dict[str, list[str]] = {}
    flagged = []
    for reagent_id, actual in actuals.items():
        row = rows.get(reagent_id)
        if row is None:
            raise ValidationError({"__all__": [f"Reagent {reagent_id} is not in {locked.code}."]})
        found = quantities.problems(
            [
                (f"mass_{row.pk}", "reagent_mass_g", actual.mass_g, f"mass of {row.line.name}"),
                (
                    f"volume_{row.pk}",
                    "reagent_volume_ml",
                    actual.volume_ml,
                    f"volume of {row.line.name}",
                ),
            ]
        )
        for key, message in found.items():
            errors.setdefault(key, []).append(message)
        if actual.lot is not None and actual.lot.chemical_id != row.line.chemical_id:
            errors.setdefault(f"lot_{row.pk}", []).append(f"Not a lot of {row.line.name}.")
        row.actual_mass_g, row.actual_volume_ml = actual.mass_g, actual.volume_ml
        if actual.lot is not None:
            row.lot = actual.lot
        row.deviation_percent = _row_deviation(row)
        row.flagged = (
            row.deviation_percent is not None
            and abs(row.deviation_percent) > locked.tolerance_percent
        )
        flagged += [row] if row.flagged else []
    if errors:
        raise ValidationError(errors)
    for row in rows.values():
        if row.pk in actuals:
            row.save()
    return flagged


def _row_deviation(row: BatchReagent) -> float | None:
    by_mass = deviation_percent(row.planned_mass_g, row.actual_mass_g)
    return (
        by_mass
        if by_mass is not None
        else deviation_percent(row.planned_volume_ml, row.actual_volume_ml)
    )


STEP_LOG_FIELDS = (
    "done",
    "started_at",
    "ended_at",
    "equipment",
    "actual_temperature_c",
    "rpm",
    "notes",
)


@transaction.atomic
def batch_log_step(*, user, batch: Batch, step_log: BatchStepLog, **changes) -> BatchStepLog:
    """Update the log of one step (any of STEP_LOG_FIELDS); ticking it done stamps the end."""
    unknown = set(changes) - set(STEP_LOG_FIELDS)
    if unknown:
        raise TypeError(f"batch_log_step got unknown fields {sorted(unknown)}")
    locked = _locked(batch)
    _ensure_started(locked)
    log = BatchStepLog.objects.select_for_update().get(pk=step_log.pk, batch=locked)
    for name, value in changes.items():
        setattr(log, name, value)
    if log.done and log.ended_at is None:
        log.ended_at = timezone.now()
    log.done_by = user if log.done else None
    if log.started_at and log.ended_at and log.ended_at < log.started_at:
        raise ValidationError({"ended_at": "The step cannot end before it started."})
    raise_problems(
        [
            (
                "actual_temperature_c",
                "temperature_c",
                log.actual_temperature_c,
                "actual temperature",
            ),
            ("rpm", "rpm", log.rpm),
        ]
    )
    log.save()
    return log


@transaction.atomic
def batch_complete(*, user, batch: Batch, yield_mass_g: float | None = None) -> Batch:
    """Close the batch: register its product sample with lineage edges to the substrate and
    the reagent lots, decrement the lots, all in this one transaction. The substrate mass is
    drawn from the substrate's stock (more than is left is refused); the yield starts the
    product's stock (lims.stock_queries reads it from here).

    The row lock makes a second, simultaneous completion wait and then fail with
    BatchStateError, so lots are decremented exactly once.
    """
    locked = _locked(batch)
    _move(locked, BatchStatus.COMPLETED)
    if yield_mass_g is not None:
        _check_yield(locked, yield_mass_g)
    rows = list(locked.reagents.select_related("line", "lot__chemical", "lot__sample"))
    parents = []
    if locked.substrate is not None:
        substrate_row = next((r for r in rows if r.line.is_substrate), None)
        used = (substrate_row.actual_mass_g if substrate_row else None) or locked.substrate_mass_g
        if used is not None:  # the substrate stays locked until the batch is completed
            stock_draw_check(
                sample=locked.substrate, wanted_g=used, use=locked.code, field="substrate_mass_g"
            )
        parents.append(ParentLink(locked.substrate, EdgeRole.SUBSTRATE, used, "g"))
    for row in sorted((r for r in rows if r.lot_id), key=lambda r: r.lot_id):
        parents.append(_consume_lot(row))
    recipe = locked.recipe
    locked.product = sample_register(
        kind=recipe.product_kind,
        name=f"{recipe.product_name} ({locked.code})",
        owner=locked.operator,
        formula=recipe.product_formula or (locked.substrate.formula if locked.substrate else ""),
        project=locked.project,
        notes=f"Made by batch {locked.code} from {recipe}.",
        parents=parents,
    )
    locked.yield_mass_g = yield_mass_g
    locked.finished_at, locked.finished_by = timezone.now(), user
    locked.save()
    return locked


def _check_yield(batch: Batch, yield_mass_g: float) -> None:
    """Within the yield bounds and at most the theoretical yield of the limiting reagent."""
    raise_problems([("yield_mass_g", "yield_mass_g", yield_mass_g)])
    try:
        theoretical = batch_theoretical_yield(batch)
        if theoretical is not None:
            check_yield(yield_mass_g, theoretical)
    except ChemistryError as err:
        raise ValidationError({"yield_mass_g": [err.message]}) from None


def _consume_lot(row: BatchReagent) -> ParentLink:
    """Take what was weighed (else what was planned) out of the lot, never below zero."""
    lot = Lot.objects.select_for_update().select_related("chemical").get(pk=row.lot_id)
    mass = row.actual_mass_g if row.actual_recorded else row.planned_mass_g
    volume = row.actual_volume_ml if row.actual_recorded else row.planned_volume_ml
    used = lot.amount_in(mass_g=mass, volume_ml=volume) or 0.0
    lot.amount_left = max(lot.amount_left - used, 0.0)
    lot.save(update_fields=["amount_left"])
    if mass is not None:
        return ParentLink(lot.sample, EdgeRole.REAGENT, mass, AmountUnit.GRAM)
    return ParentLink(lot.sample, EdgeRole.REAGENT, volume, AmountUnit.MILLILITRE)


@transaction.atomic
def batch_fail(*, user, batch: Batch, reason: str) -> Batch:
    """Close a planned or running batch as failed; lots are not touched, nothing registered."""
    if not reason.strip():
        raise ValidationError(
            {"reason": "Say what went wrong: the next chemist will want to know."}
        )
    locked = _locked(batch)
    _move(locked, BatchStatus.FAILED)
    locked.failure_reason = reason.strip()
    locked.finished_at, locked.finished_by = timezone.now(), user
    locked.save()
    return locked


# --- series --------------------------------------------------------------------------------


@transaction.atomic
def series_create(
    *,
    user,
    recipe: Recipe,
    parameter: str,
    values: Sequence[float],
    inputs: PlanInputs,
    name: str = "",
    tolerance_percent: float = DEFAULT_TOLERANCE_PERCENT,
    notes: str = "",
) -> Series:
    """One planned batch per value of ``parameter``; all or nothing."""
    _check_series(recipe, parameter, values)
    label = SeriesParameter(parameter).label
    series = Series.objects.create(
        name=name.strip() or f"{recipe.name}: {label} {', '.join(f'{v:g}' for v in values)}",
        recipe=recipe,
        parameter=parameter,
        values=list(values),
        created_by=user,
        notes=notes,
    )
    for value in values:
        try:
            batch_create(
                user=user,
                recipe=recipe,
                inputs=_vary(recipe, inputs, parameter, value),
                tolerance_percent=tolerance_percent,
                notes=notes,
                series=series,
            )
        except ValidationError as err:
            raise _series_error(err, parameter, value) from None
    return series


def _check_series(recipe: Recipe, parameter: str, values: Sequence[float]) -> None:
    if parameter not in SeriesParameter.values:
        raise ValidationError({"parameter": f"Unknown parameter {parameter!r}."})
    if parameter == SeriesParameter.COATING_WT_PERCENT and not recipe.is_coating:
        raise ValidationError({"parameter": f"{recipe} is not a coating; it has no wt% to vary."})
    if parameter == SeriesParameter.CALCINATION_TEMPERATURE_C and not recipe.final_calcination():
        raise ValidationError({"parameter": f"{recipe} has no calcination step."})
    if len(values) < 2:
        raise ValidationError({"values": "A series needs at least two values."})
    if len(values) > MAX_SERIES:
        raise ValidationError({"values": f"At most {MAX_SERIES} batches in one series."})
    if len(set(values)) != len(values):
        raise ValidationError({"values": "Each value once: the batches would be identical."})


def _vary(recipe: Recipe, inputs: PlanInputs, parameter: str, value: float) -> PlanInputs:
    if parameter == SeriesParameter.COATING_WT_PERCENT:
        return replace(inputs, coating_wt_percent=value)
    if parameter == SeriesParameter.CALCINATION_TEMPERATURE_C:
        return replace(inputs, calcination_temperature_c=value)
    if recipe.is_coating:
        return replace(inputs, substrate_mass_g=value)
    return replace(inputs, target_mass_g=value)


def _series_error(err: ValidationError, parameter: str, value: float) -> ValidationError:
    """An error caused by one value is reported on the values field, naming that value."""
    varied = {
        "coating_wt_percent",
        "calcination_temperature_c",
        "substrate_mass_g",
        "target_mass_g",
    }
    if not hasattr(err, "error_dict"):
        return err
    moved: dict[str, list[str]] = {}
    for field, messages in err.message_dict.items():
        if field in varied and _varies(parameter, field):
            moved.setdefault("values", []).extend(f"{value:g}: {m}" for m in messages)
        else:
            moved.setdefault(field, []).extend(messages)
    return ValidationError(moved)


def _varies(parameter: str, field: str) -> bool:
    if parameter == SeriesParameter.MASS_G:
        return field in ("substrate_mass_g", "target_mass_g")
    return field == parameter
