"""Sample filters that reach across lineage by synthesis: recipe, coating, calcination, batch
and operator (used by the samples API and the admin).

Registered in SynthesisConfig.ready(). A filter keeps the samples made from (descending from,
or being) the product of a matching batch: one query for the batches' products, one recursive
walk down from all of them.
"""

from __future__ import annotations

from django.db.models import QuerySet

from lims import sample_filters
from lims.lineage import descendants_subquery
from lims.models import Sample
from synthesis.models import Batch, Recipe

TEMPERATURE_TOLERANCE_C = 0.5
WT_PERCENT_TOLERANCE = 1e-6


def _made_from_batches(queryset: QuerySet, batches: QuerySet) -> QuerySet:
    products = Sample.objects.filter(pk__in=batches.filter(product__isnull=False).values("product"))
    return queryset.filter(pk__in=descendants_subquery(products))


def _number(value: str, label: str) -> float:
    try:
        return float(value)
    except ValueError:
        raise ValueError(f"{label} must be a number, got {value!r}") from None


def by_recipe(queryset: QuerySet, value: str) -> QuerySet:
    """`value` is a recipe family (all versions) or family@version."""
    family, _, version = value.partition("@")
    batches = Batch.objects.filter(recipe__family=family)
    if version:
        batches = batches.filter(recipe__version=int(_number(version, "recipe version")))
    return _made_from_batches(queryset, batches)


def _near(field: str, value: str, label: str, tolerance: float) -> QuerySet:
    """Batches whose `field` is within `tolerance` of the number in `value`."""
    target = _number(value, label)
    return Batch.objects.filter(
        **{f"{field}__gte": target - tolerance, f"{field}__lte": target + tolerance}
    )


def by_coating(queryset: QuerySet, value: str) -> QuerySet:
    batches = _near("coating_wt_percent", value, "coating wt%", WT_PERCENT_TOLERANCE)
    return _made_from_batches(queryset, batches)


def by_calcination(queryset: QuerySet, value: str) -> QuerySet:
    batches = _near(
        "calcination_temperature_c", value, "calcination temperature", TEMPERATURE_TOLERANCE_C
    )
    return _made_from_batches(queryset, batches)


def by_batch(queryset: QuerySet, value: str) -> QuerySet:
    return _made_from_batches(queryset, Batch.objects.filter(code__iexact=value))


def by_operator(queryset: QuerySet, value: str) -> QuerySet:
    return _made_from_batches(queryset, Batch.objects.filter(operator__username=value))


def _recipe_choices() -> list[tuple[str, str]]:
    families = Recipe.objects.order_by("family", "-version").values_list("family", "name")
    return list(dict(families).items())


def _values(field: str, unit: str):
    def choices() -> list[tuple[str, str]]:
        values = Batch.objects.exclude(**{f"{field}__isnull": True}).values_list(field, flat=True)
        return [(f"{v:g}", f"{v:g} {unit}") for v in sorted(set(values))]

    return choices


def register() -> None:
    for f in (
        sample_filters.SampleFilter("recipe", "made by recipe", by_recipe, _recipe_choices,
                                    "recipe family, or family@version"),
        sample_filters.SampleFilter("coating_wt_percent", "coating wt%", by_coating,
                                    _values("coating_wt_percent", "wt%")),
        sample_filters.SampleFilter("calcination_temperature_c", "calcined at", by_calcination,
                                    _values("calcination_temperature_c", "°C")),
        sample_filters.SampleFilter("batch", "from batch", by_batch, None, "batch code"),
        sample_filters.SampleFilter("operator", "batch operator", by_operator, None, "username"),
    ):  # fmt: skip
        sample_filters.register(f)
