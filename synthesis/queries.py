"""Reads shared by the synthesis pages, the admin and the API."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from django.db.models import Count, Max, OuterRef, Q, QuerySet, Subquery
from django.utils import timezone

from lims.models import Sample, SampleKind, SampleStatus
from lims.voiding import live
from synthesis.models import (
    Batch,
    BatchReagent,
    BatchStatus,
    Chemical,
    Lot,
    ReagentLine,
    Recipe,
    Series,
)

SUBSTRATE_KINDS = (SampleKind.CATHODE, SampleKind.PRECURSOR, SampleKind.OTHER)


def latest_recipes() -> QuerySet[Recipe]:
    """The newest version of every recipe family, with its batch count and version count."""
    newest = Recipe.objects.filter(family=OuterRef("family")).order_by("-version")
    return (
        Recipe.objects.filter(pk=Subquery(newest.values("pk")[:1]))
        .annotate(
            batch_count=Count("batches", distinct=True),
            versions=Subquery(
                Recipe.objects.filter(family=OuterRef("family"))
                .values("family")
                .annotate(n=Count("pk"))
                .values("n")[:1]
            ),
        )
        .order_by("name")
    )


def recipe_versions(recipe: Recipe) -> QuerySet[Recipe]:
    return (
        Recipe.objects.filter(family=recipe.family)
        .annotate(batch_count=Count("batches"))
        .select_related("created_by")
        .order_by("-version")
    )


def latest_version(recipe: Recipe) -> int:
    return Recipe.objects.filter(family=recipe.family).aggregate(v=Max("version"))["v"]


def recipe_with_parts(pk: int) -> Recipe:
    return Recipe.objects.prefetch_related("steps").get(pk=pk)


def recipe_lines(recipe: Recipe) -> list[ReagentLine]:
    return list(recipe.lines.select_related("chemical").order_by("order"))


def usable_lots(chemical_id: int) -> QuerySet[Lot]:
    """Lots of a chemical with something left, the first to expire first (FEFO)."""
    return (
        Lot.objects.filter(chemical_id=chemical_id, amount_left__gt=0)
        .select_related("chemical")
        .order_by("expires_on", "received_on", "pk")
    )


def default_lots(recipe: Recipe) -> dict[int, Lot]:
    """Suggested lot per line: the first unexpired lot to expire (else the first lot left)."""
    today = timezone.localdate()
    chosen: dict[int, Lot] = {}
    for line in recipe.lines.exclude(chemical=None):
        lots = list(usable_lots(line.chemical_id))
        fresh = [lot for lot in lots if not lot.is_expired(today)]
        if fresh or lots:
            chosen[line.pk] = (fresh or lots)[0]
    return chosen


def substrate_samples() -> QuerySet[Sample]:
    return Sample.objects.filter(kind__in=SUBSTRATE_KINDS, status=SampleStatus.ACTIVE).order_by(
        "-created_at"
    )


@dataclass(frozen=True)
class BatchFilters:
    status: str = ""
    family: str = ""
    operator: int | None = None
    calcination_min_c: float | None = None
    calcination_max_c: float | None = None
    created_from: Any = None
    created_to: Any = None
    q: str = ""
    void: bool = False  # list void batches too


def batch_list(filters: BatchFilters = BatchFilters()) -> QuerySet[Batch]:
    qs = Batch.objects.select_related("recipe", "operator", "product", "substrate", "series")
    qs = live(qs, include_void=filters.void)
    if filters.status:
        qs = qs.filter(status=filters.status)
    if filters.family:
        qs = qs.filter(recipe__family=filters.family)
    if filters.operator:
        qs = qs.filter(operator_id=filters.operator)
    if filters.calcination_min_c is not None:
        qs = qs.filter(calcination_temperature_c__gte=filters.calcination_min_c)
    if filters.calcination_max_c is not None:
        qs = qs.filter(calcination_temperature_c__lte=filters.calcination_max_c)
    if filters.created_from:
        qs = qs.filter(created_at__date__gte=filters.created_from)
    if filters.created_to:
        qs = qs.filter(created_at__date__lte=filters.created_to)
    if filters.q:
        qs = qs.filter(
            Q(code__icontains=filters.q)
            | Q(notes__icontains=filters.q)
            | Q(product__code__icontains=filters.q)
            | Q(recipe__name__icontains=filters.q)
        )
    return qs.order_by("-created_at", "-id")


def batch_operators():
    from django.contrib.auth import get_user_model

    ids = Batch.objects.values("operator_id").distinct()
    return get_user_model().objects.filter(pk__in=ids).order_by("first_name", "username")


def status_counts() -> list[tuple[str, str, int]]:
    """(status, label, number of batches) for every status, zeros included."""
    batches = Batch.objects.filter(voided_at__isnull=True)
    counts = dict(batches.values_list("status").annotate(n=Count("pk")))
    return [(value, label, counts.get(value, 0)) for value, label in BatchStatus.choices]


def batches_for_page() -> QuerySet[Batch]:
    return Batch.objects.select_related(
        "recipe", "operator", "product", "substrate", "series", "finished_by"
    )


def batch_reagents(batch: Batch) -> list[BatchReagent]:
    return list(batch.reagents.select_related("line__chemical", "lot__chemical").order_by("order"))


def batch_step_logs(batch: Batch):
    return list(batch.step_logs.select_related("step", "done_by").order_by("order"))


def planned_lines(batch: Batch) -> dict[int, Mapping[str, Any]]:
    """The frozen inputs behind each planned number, by ReagentLine id."""
    return {row["line_id"]: row for row in batch.plan.get("lines", [])}


def chemical_list() -> QuerySet[Chemical]:
    return Chemical.objects.annotate(
        lot_count=Count("lots", filter=Q(lots__amount_left__gt=0))
    ).order_by("name")


def lot_list(*, chemical_id: int | None = None, include_empty: bool = False) -> QuerySet[Lot]:
    qs = Lot.objects.select_related("chemical", "sample")
    if chemical_id:
        qs = qs.filter(chemical_id=chemical_id)
    if not include_empty:
        qs = qs.filter(amount_left__gt=0)
    return qs.order_by("chemical__name", "expires_on", "pk")


@dataclass
class WeighingRow:
    """One reagent line across the batches of a series, with the total to set out."""

    name: str
    formula: str
    role: str
    unit: str  # "g" or "mL"
    amounts: list[float | None] = field(default_factory=list)

    @property
    def total(self) -> float:
        return sum(a for a in self.amounts if a is not None)


def series_batches(series: Series) -> list[Batch]:
    return list(series.batches.select_related("recipe", "substrate").order_by("pk"))


def series_weighing_list(batches: list[Batch]) -> list[WeighingRow]:
    """Per line: each batch's planned amount (mass for solids, volume for liquids)."""
    rows: dict[int, WeighingRow] = {}
    for index, batch in enumerate(batches):
        for reagent in batch.reagents.select_related("line__chemical").order_by("order"):
            line = reagent.line
            if line.pk not in rows:
                unit = "mL" if reagent.planned_volume_ml is not None else "g"
                rows[line.pk] = WeighingRow(
                    line.name, line.effective_formula, line.get_role_display(), unit
                )
            row = rows[line.pk]
            row.amounts += [None] * (index - len(row.amounts))
            row.amounts.append(
                reagent.planned_volume_ml if row.unit == "mL" else reagent.planned_mass_g
            )
    for row in rows.values():
        row.amounts += [None] * (len(batches) - len(row.amounts))
    return list(rows.values())
