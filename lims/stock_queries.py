"""Powder stock read in SQL: `with_stock` annotates any sample queryset with its initial, drawn,
corrected and left grams (correlated subqueries, so a list page costs no query per row); the
draws and corrections of one sample for its page. The arithmetic is lims.stock's, repeated here
in SQL: tests/lims/test_powder_stock.py holds the two to the same numbers."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from functools import cache

from django.db import DEFAULT_DB_ALIAS, connections
from django.db.models import (
    Case,
    F,
    FloatField,
    OuterRef,
    QuerySet,
    Subquery,
    Sum,
    Value,
    When,
)
from django.db.models.expressions import RawSQL
from django.db.models.functions import Coalesce

from lims.models import POWDER_KINDS, Sample, SampleEdge, StockCorrection
from lims.sample_queries import sample_by_code
from lims.stock import GRAMS_PER_UNIT, Stock, grams

ZERO = Value(0.0, output_field=FloatField())


def _sum_per_sample(queryset: QuerySet, key: str, amount) -> Subquery:
    """SUM(amount) of `queryset`'s rows whose `key` is the outer sample (NULL when none)."""
    rows = queryset.filter(**{key: OuterRef("pk")}).order_by().values(key)
    return Subquery(rows.annotate(total=Sum(amount)).values("total")[:1], output_field=FloatField())


def drawn_edges(queryset: QuerySet | None = None) -> QuerySet:
    """Edges that draw on their parent's stock: a mass amount, into a child that is not void
    (a voided electrode or product was a mistake: what it took is back)."""
    queryset = SampleEdge.objects.all() if queryset is None else queryset
    return queryset.filter(
        amount__isnull=False, amount_unit__in=list(GRAMS_PER_UNIT), child__voided_at__isnull=True
    )


def with_stock(queryset: QuerySet[Sample]) -> QuerySet[Sample]:
    """Each sample with stock_initial_g (the batch's yield, else the amount entered; NULL: not
    tracked), stock_drawn_g, stock_corrected_g and stock_left_g (NULL when not tracked)."""
    units = GRAMS_PER_UNIT.items()
    in_grams = Case(
        *(When(amount_unit=unit, then=F("amount") * factor) for unit, factor in units),
        output_field=FloatField(),
    )
    drawn = _sum_per_sample(drawn_edges(), "parent", in_grams)
    corrected = _sum_per_sample(StockCorrection.objects.all(), "sample", F("delta_g"))
    return queryset.annotate(
        stock_initial_g=Coalesce(
            F("produced_by_batch__yield_mass_g"), F("initial_mass_g"), output_field=FloatField()
        ),
        stock_drawn_g=Coalesce(drawn, ZERO),
        stock_corrected_g=Coalesce(corrected, ZERO),
    ).annotate(stock_left_g=F("stock_initial_g") - F("stock_drawn_g") + F("stock_corrected_g"))


def stock_of(sample_id: int) -> Stock:
    """One sample's stock, in one query (read afresh: call it after locking the sample)."""
    initial, drawn, corrected = (
        with_stock(Sample.objects.filter(pk=sample_id))
        .values_list("stock_initial_g", "stock_drawn_g", "stock_corrected_g")
        .get()
    )
    return Stock(initial, drawn, corrected)


# The ids of a page as one parameter: a PostgreSQL array, or a JSON list for SQLite.
_IDS_SQL = {
    "postgresql": "SELECT unnest(%s::bigint[])",
    "sqlite": "SELECT value FROM json_each(%s)",
}
_IDS = "__kiln_sample_ids__"  # stands for the ids while the SQL is built


@cache
def _stocks_sql(vendor: str) -> tuple[str, tuple, int]:
    """with_stock's SQL for a list of sample ids, built by the ORM once per process: its
    expressions cost more to build and compile than the query costs PostgreSQL to run."""
    ids = RawSQL(_IDS_SQL[vendor], [_IDS])
    rows = with_stock(Sample.objects.filter(pk__in=ids)).order_by()
    rows = rows.values_list("pk", "stock_initial_g", "stock_drawn_g", "stock_corrected_g")
    sql, params = rows.query.sql_with_params()
    return sql, tuple(params), params.index(_IDS)


def stocks_of(sample_ids: list[int]) -> dict[int, Stock]:
    """{sample id: its Stock} for a page of samples, in one query (lims.stock's arithmetic,
    as `with_stock` writes it in SQL)."""
    if not sample_ids:
        return {}
    connection = connections[DEFAULT_DB_ALIAS]
    sql, params, slot = _stocks_sql(connection.vendor)
    params = list(params)
    params[slot] = list(sample_ids) if connection.vendor == "postgresql" else json.dumps(sample_ids)
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return {pk: Stock(initial, drawn, corrected)
                for pk, initial, drawn, corrected in cursor.fetchall()}  # fmt: skip


def page_with_stock(samples: list[Sample]) -> list[Sample]:
    """A list page's samples, each powder with `stock_left_g` (None: not tracked), through the
    one compiled query of `stocks_of` (annotating the page's own query cost more to compile)."""
    stocks = stocks_of([s.pk for s in samples if s.kind in POWDER_KINDS])
    for sample in samples:
        stock = stocks.get(sample.pk)
        sample.stock_left_g = stock.left_g if stock is not None else None
    return samples


@dataclass(frozen=True)
class Draw:
    """One use of a powder for its page: what took it, when, how much (grams None: not a
    mass), and whether it counts (a void child gave it back)."""

    child: Sample
    role: str
    at: datetime
    amount: float | None
    unit: str
    grams: float | None
    counted: bool


def draws_of(sample: Sample, lineage) -> list[Draw]:
    """The edges out of `sample` with an amount, oldest first, from its loaded lineage (no
    query: lims.sample_queries.sample_lineage fetched the edges and the children)."""
    edges = [e for e in lineage.edges if e.parent_id == sample.pk and e.amount is not None]
    draws = []
    for edge in sorted(edges, key=lambda e: (e.created_at, e.id)):
        child = lineage.samples[edge.child_id]
        in_grams = grams(edge.amount, edge.amount_unit)
        counted = in_grams is not None and child.voided_at is None
        draws.append(
            Draw(child, edge.get_role_display(), edge.created_at, edge.amount, edge.amount_unit,
                 in_grams, counted)
        )  # fmt: skip
    return draws


@dataclass(frozen=True)
class StockPage:
    stock: Stock
    draws: list[Draw]
    corrections: list[StockCorrection]


def sample_with_stock(code: str) -> Sample | None:
    """The sample page's sample (lims.sample_queries.sample_by_code) with `.stock`: its Stock
    for a powder or a sample with an amount entered (the compiled `stocks_of` query), None for
    the rest (cells, electrodes, measurements: no stock query)."""
    sample = sample_by_code(code)
    if sample is not None:
        tracked = sample.kind in POWDER_KINDS or sample.initial_mass_g is not None
        sample.stock = stocks_of([sample.pk]).get(sample.pk) if tracked else None
    return sample


def stock_page(sample: Sample, lineage) -> StockPage | None:
    """What the sample page shows of a powder's stock (None for what is not a powder and not
    tracked): the stock of `sample_with_stock`, its draws from the loaded lineage, and its
    corrections (one query, only for such a sample)."""
    stock = sample.stock if hasattr(sample, "stock") else stock_of(sample.pk)
    if stock is None or (not stock.tracked and sample.kind not in POWDER_KINDS):
        return None
    corrections = list(sample.stock_corrections.select_related("by").order_by("at", "id"))
    return StockPage(stock, draws_of(sample, lineage), corrections)
