"""Reads behind the study comparison (page, CSV/Excel export and API): resolve the groups,
fetch their members, measurements, results and refinements in a constant number of queries
whatever the number of groups and samples, and hand them to the pure
characterization.analysis.study (rules in its docstring).

Queries: root samples by code, recipes named by the groups, matching batches (one query for
every group: a boolean column per group), one recursive walk down from all roots
(lims.lineage), the edges below them, the member samples, their measurements, the newest
succeeded results of the study's kinds, the cycles of their cycling summaries, the
refinements: at most ten.

This is the only module of the study that imports the jobs models.
"""

from __future__ import annotations

import functools
import operator
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from django.db import connection
from django.db.models import (
    BooleanField,
    Case,
    ExpressionWrapper,
    F,
    JSONField,
    Q,
    QuerySet,
    When,
    Window,
)
from django.db.models.functions import RowNumber
from django.urls import reverse

from characterization.analysis import study
from characterization.analysis.structure import bond_lengths_angstrom
from characterization.jobs.models import AnalysisJob, AnalysisResult, JobStatus
from characterization.models import Measurement, RefinementResult
from lims.lineage import descendants_of_queryset
from lims.models import EdgeRole, Sample, SampleEdge, SampleKind
from synthesis.lineage_filters import TEMPERATURE_TOLERANCE_C, WT_PERCENT_TOLERANCE
from synthesis.models import Batch, BatchStatus, Recipe, RecipeKind

CHOICES_LIMIT = 200


def _voidable(model) -> bool:
    return any(f.name == "voided_at" for f in model._meta.get_fields())


def not_void(queryset: QuerySet, *relations: str) -> QuerySet:
    """Without voided rows, of the model and of the `relations` named, where records can be
    voided (lims.voiding); a tree without voiding filters nothing."""
    lookups = {}
    if _voidable(queryset.model):
        lookups["voided_at__isnull"] = True
    for relation in relations:
        if _voidable(queryset.model._meta.get_field(relation).related_model):
            lookups[f"{relation}__voided_at__isnull"] = True
    return queryset.filter(**lookups)


# --- groups -> root samples --------------------------------------------------------------------


@dataclass(frozen=True)
class Resolved:
    spec: study.GroupSpec
    roots: dict[int, str]  # root sample id -> code


def resolve(specs: Sequence[study.GroupSpec]) -> list[Resolved]:
    """The root samples of each group; StudyInputError naming each group that names an unknown
    sample or recipe, or that matches no sample."""
    problems: list[str] = []
    codes = {code for spec in specs for code in spec.codes}
    by_code = (
        dict(not_void(Sample.objects.filter(code__in=codes)).values_list("code", "pk"))
        if codes
        else {}
    )
    problems += _unknown_recipes(specs)
    products = _batch_products(specs) if not problems else {}
    resolved = []
    for index, spec in enumerate(specs):
        if spec.codes:
            missing = [c for c in spec.codes if c not in by_code]
            if missing:
                problems.append(f"{spec.name}: no sample has the code {', '.join(missing)}")
            roots = {by_code[c]: c for c in spec.codes if c in by_code}
        else:
            roots = products.get(index, {})
            if not roots and not problems:
                problems.append(f"{spec.name}: no completed batch matches {spec.selector}")
        resolved.append(Resolved(spec, roots))
    if problems:
        raise study.StudyInputError(problems)
    return resolved


def _recipe_term(value: str) -> tuple[int | None, str, int | None]:
    """recipe=5 -> (5, "", None); recipe=lmno@2 -> (None, "lmno", 2); a longer number is a
    family (no id has ten digits, and a database integer would overflow)."""
    if value.isdigit() and len(value) <= 9:
        return int(value), "", None
    family, _, version = value.partition("@")
    return None, family, int(version) if version else None


def _unknown_recipes(specs: Sequence[study.GroupSpec]) -> list[str]:
    wanted = [
        (spec, _recipe_term(value))
        for spec in specs
        for key, value in spec.terms
        if key == "recipe"
    ]
    if not wanted:
        return []
    ids = {pk for _, (pk, _, _) in wanted if pk is not None}
    families = {family for _, (pk, family, _) in wanted if pk is None}
    known = list(
        Recipe.objects.filter(Q(pk__in=ids) | Q(family__in=families)).values_list(
            "pk", "family", "version"
        )
    )
    problems = []
    for spec, (pk, family, version) in wanted:
        if not any(
            (pk is not None and row[0] == pk)
            or (pk is None and row[1] == family and version in (None, row[2]))
            for row in known
        ):
            what = f"id {pk}" if pk is not None else family + (f"@{version}" if version else "")
            problems.append(f"{spec.name}: no recipe {what}")
    return problems


def _term_q(key: str, value: str) -> Q:
    if key == "recipe":
        pk, family, version = _recipe_term(value)
        if pk is not None:
            return Q(recipe_id=pk)
        return Q(recipe__family=family) & (Q(recipe__version=version) if version else Q())
    if key == "coating":  # a coating: a batch of a coating recipe on a substrate sample
        return Q(recipe__kind=RecipeKind.COATING, recipe__coating_formula=value) & Q(
            substrate__isnull=False
        )
    if key in study.NUMERIC_TERMS:
        tolerance = WT_PERCENT_TOLERANCE if key == "coating_wt_percent" else TEMPERATURE_TOLERANCE_C
        number = float(value)
        return Q(**{f"{key}__gte": number - tolerance, f"{key}__lte": number + tolerance})
    if key == "batch":
        return Q(code__iexact=value)
    return Q(operator__username=value)


def _batch_products(specs: Sequence[study.GroupSpec]) -> dict[int, dict[int, str]]:
    """{group index: {product id: code}} of the completed batches matching every term of the
    group, for all groups in one query (a boolean column per group)."""
    conditions = {
        index: functools.reduce(operator.and_, (_term_q(k, v) for k, v in spec.terms))
        for index, spec in enumerate(specs)
        if spec.terms
    }
    if not conditions:
        return {}
    batches = not_void(
        Batch.objects.filter(status=BatchStatus.COMPLETED, product__isnull=False), "product"
    ).filter(functools.reduce(operator.or_, conditions.values()))
    columns = {
        f"g{i}": ExpressionWrapper(q, output_field=BooleanField()) for i, q in conditions.items()
    }
    found: dict[int, dict[int, str]] = {}
    rows = batches.annotate(**columns).values_list("product_id", "product__code", *columns)
    for product_id, code, *matches in rows.order_by("product__code"):
        for index, match in zip(conditions, matches, strict=True):
            if match:
                found.setdefault(index, {})[product_id] = code
    return found


# --- members, measurements, results ------------------------------------------------------------


def study_groups(resolved: Sequence[Resolved]) -> list[study.Group]:
    """The groups with their measured samples, measurements and results (constant queries)."""
    all_roots = {pk for group in resolved for pk in group.roots}
    below = descendants_of_queryset(Sample.objects.filter(pk__in=all_roots))
    edges = (
        SampleEdge.objects.filter(child_id__in=below)
        .exclude(role=EdgeRole.SUBSTRATE)  # a coated product is another material
        .values_list("parent_id", "child_id")
    )
    members = study.members_by_group([list(g.roots) for g in resolved], edges)
    samples = {
        pk: (code, kind)
        for pk, code, kind in not_void(
            Sample.objects.filter(pk__in=set().union(*members))
        ).values_list("pk", "code", "kind")
    }
    measured = _measurements(samples)
    results = _results([m.id for ms in measured.values() for m in ms])
    groups = []
    for group, ids in zip(resolved, members, strict=True):
        subjects = [
            study.Subject(
                code=samples[pk][0],
                kind=samples[pk][1],
                measurements=tuple(measured[pk]),
                results=tuple(r for m in measured[pk] for r in results.get(m.id, ())),
            )
            for pk in sorted(ids, key=lambda pk: samples.get(pk, ("",))[0])
            if pk in measured and pk in samples
        ]
        groups.append(
            study.Group(
                name=group.spec.name,
                selector=group.spec.selector,
                roots=tuple(sorted(group.roots.values())),
                subjects=tuple(subjects),
                members=_counts(samples[pk][1] for pk in ids if pk in samples),
            )
        )
    return groups


def _counts(kinds: Iterable[str]) -> dict[str, int]:
    counts: dict[str, int] = {}
    for kind in kinds:
        if kind != SampleKind.MEASUREMENT:
            counts[kind] = counts.get(kind, 0) + 1
    return counts


def _measurements(samples: dict[int, tuple[str, str]]) -> dict[int, list[study.Measured]]:
    rows = not_void(Measurement.objects.filter(subject_id__in=list(samples))).values_list(
        "pk", "subject_id", "sample__code", "measurement_type", "measured_at"
    )
    found: dict[int, list[study.Measured]] = {}
    for pk, subject_id, code, kind, measured_at in rows.order_by("measured_at", "pk"):
        found.setdefault(subject_id, []).append(study.Measured(pk, code, kind, measured_at))
    return found


def _results(measurement_ids: list[int]) -> dict[int, list[study.Result]]:
    """{measurement id: its newest succeeded, non-void result of each of the study's kinds
    and its refinements}, with summaries and warnings (three queries). Older reruns are not
    fetched: the study reads the newest result of a kind per measurement. A cycling summary
    (hundreds of cycles of twenty columns) comes as its cycles' number, completeness and
    discharge capacity only, taken out of the JSON by the database (`_cycle_rows`)."""
    newest = Window(
        RowNumber(),
        partition_by=[F("measurement_id"), F("kind")],
        order_by=[F("finished_at").desc(nulls_last=True), F("pk").desc()],
    )
    slim = _cycle_rows_sql() is not None
    summary = (
        Case(When(~Q(kind=CYCLING_SUMMARY), then=F("result__summary")), output_field=JSONField())
        if slim
        else F("result__summary")
    )
    jobs = (
        not_void(
            AnalysisJob.objects.filter(
                measurement_id__in=measurement_ids,
                status=JobStatus.SUCCEEDED,
                kind__in=study.RESULT_KINDS,
                result__isnull=False,
            ),
            "result",
        )
        .annotate(newest=newest, summary_data=summary)
        .filter(newest=1)
        .values_list(
            "pk", "kind", "measurement_id", "measurement__sample__code", "finished_at",
            "summary_data", "result__warnings", "result_id",
        )
    )  # fmt: skip
    rows = list(jobs)
    cycles = _cycle_rows([r[-1] for r in rows if r[1] == CYCLING_SUMMARY]) if slim else {}
    found: dict[int, list[study.Result]] = {}
    for pk, kind, mid, code, finished, data, warnings, result_id in rows:
        if kind == CYCLING_SUMMARY and slim:
            data = {"cycles": cycles.get(result_id, [])}
        found.setdefault(mid, []).append(
            study.Result(study.JOB, pk, kind, mid, code, finished, data or {}, warnings or [])
        )
    for row in RefinementResult.objects.filter(measurement_id__in=measurement_ids).values(
        *REFINED_FIELDS, "pk", "measurement_id", "measurement__sample__code", "entered_at"
    ):
        found.setdefault(row["measurement_id"], []).append(_refinement(row))
    return found


CYCLING_SUMMARY = "cycling_summary"
# Each cycle of a cycling summary as (result id, cycle, complete, discharge capacity): all the
# study reads of it (retention), without decoding hundreds of cycles × twenty columns.
_CYCLE_ROWS = {
    "postgresql": """
        SELECT r.id, c.value->>'cycle', c.value->>'complete',
               c.value->>'discharge_capacity_mah_g'
        FROM {table} r CROSS JOIN LATERAL jsonb_array_elements(
            CASE WHEN jsonb_typeof(r.summary->'cycles') = 'array'
                 THEN r.summary->'cycles' ELSE '[]'::jsonb END) c
        WHERE r.id = ANY(%s)""",
    "sqlite": """
        SELECT r.id, json_extract(c.value, '$.cycle'), json_extract(c.value, '$.complete'),
               json_extract(c.value, '$.discharge_capacity_mah_g')
        FROM {table} r, json_each(r.summary, '$.cycles') c
        WHERE json_type(r.summary, '$.cycles') = 'array' AND r.id IN ({marks})""",
}


def _cycle_rows_sql() -> str | None:
    """The cycle extraction for this database (None: read whole summaries)."""
    return _CYCLE_ROWS.get(connection.vendor)


def _cycle_rows(result_ids: list[int]) -> dict[int, list[dict]]:
    """{result id: [{cycle, complete, discharge_capacity_mah_g}]} in one query."""
    if not result_ids:
        return {}
    table = AnalysisResult._meta.db_table
    sql = _cycle_rows_sql().format(table=table, marks=", ".join(["%s"] * len(result_ids)))
    params = [result_ids] if connection.vendor == "postgresql" else result_ids
    found: dict[int, list[dict]] = {}
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        for result_id, cycle, complete, discharge in cursor.fetchall():
            found.setdefault(result_id, []).append(
                {
                    "cycle": _json_number(cycle),
                    "complete": complete in (True, 1, "true"),
                    "discharge_capacity_mah_g": _json_number(discharge),
                }
            )
    return found


def _json_number(value) -> float | int | None:
    """A number as the two databases hand it out of JSON (PostgreSQL: text)."""
    if isinstance(value, str):
        try:
            number = float(value)
        except ValueError:
            return None
        return int(number) if number.is_integer() else number
    return value if isinstance(value, (int, float)) and not isinstance(value, bool) else None


REFINED_FIELDS = (
    "phase", "origin", "a_angstrom", "c_angstrom", "z_oxygen", "slab_thickness_angstrom",
    "interslab_spacing_angstrom", "tm_o_bond_angstrom", "warnings",
)  # fmt: skip


def _refinement(row: dict) -> study.Result:
    summary = {k: row[k] for k in REFINED_FIELDS if k != "warnings"}
    if summary["tm_o_bond_angstrom"] is None:  # entered before Kiln stored the bond lengths
        summary["tm_o_bond_angstrom"] = bond_lengths_angstrom(
            a_angstrom=row["a_angstrom"],
            c_angstrom=row["c_angstrom"],
            z_oxygen=row["z_oxygen"],
            origin=row["origin"],
        )[0]
    return study.Result(
        study.REFINED, row["pk"], study.REFINEMENT_KIND, row["measurement_id"],
        row["measurement__sample__code"], row["entered_at"], summary, row["warnings"] or [],
    )  # fmt: skip


def study_table(texts: Iterable[str]) -> study.StudyTable:
    """The study table of the groups typed as `Name:selector` (StudyInputError when a group
    cannot be read or resolved)."""
    specs = study.parse_groups(texts)
    if not specs:
        raise study.StudyInputError([f"give at least one group: {study.SYNTAX}"])
    return study.study_table(study_groups(resolve(specs)))


# --- as data for the page, the API and the exports ---------------------------------------------


_PLACEHOLDER = "0123456789"


class Links:
    """URLs of the results behind the values: each route reversed once per table."""

    def __init__(self):
        self.job = reverse("jobs:detail", args=[_PLACEHOLDER])
        self.measurement = reverse("measurements:detail", args=[_PLACEHOLDER])

    def __call__(self, result: study.Result) -> dict:
        if result.source == study.JOB:
            url = self.job.replace(_PLACEHOLDER, str(result.id))
        else:
            url = self.measurement.replace(_PLACEHOLDER, result.measurement_code) + "#refinement"
        return {
            "source": result.source,
            "id": result.id,
            "kind": result.kind,
            "measurement": result.measurement_code,
            "url": url,
        }


def table_data(table: study.StudyTable) -> dict:
    """The table as plain data: groups, rows (cells per group, with each sample's value and
    the results behind it) and the flagged results left out."""
    names = [g.name for g in table.groups]
    link = Links()
    return {
        "version": table.version,
        "groups": [
            {
                "name": g.name,
                "spec": f"{g.name}:{g.selector}",
                "roots": list(g.roots),
                "members": dict(g.members),
                "measured_samples": len(g.subjects),
            }
            for g in table.groups
        ],
        "rows": [_row_data(row, names, link) for row in table.rows],
        "left_out": [
            {
                "group": item.group,
                "subject": item.subject,
                "result": link(item.result),
                "reasons": [{"code": r.code, "message": r.message} for r in item.reasons],
                "metrics": list(item.metrics),
            }
            for item in table.left_out
        ],
    }


def _row_data(row: study.Row, names: list[str], link: Links) -> dict:
    metric = row.metric
    return {
        "key": metric.key,
        "section": metric.section,
        "label": metric.label,
        "unit": metric.unit,
        "digits": metric.digits,
        "log_range": metric.log_range,
        "range_unit": metric.range_unit,
        "cells": [
            {
                "group": name,
                "mean": cell.mean,
                "sd": cell.sd,
                "n": cell.n,
                "min": cell.low,
                "max": cell.high,
                "text": study.cell_text(cell, metric.digits),
                "range_text": study.range_text(cell),
                "values": [
                    {
                        "subject": e.subject,
                        "value": e.value,
                        "text": f"{e.value:.{metric.digits}f}",
                        "results": [link(r) for r in e.results],
                    }
                    for e in cell.entries
                ],
            }
            for name, cell in zip(names, row.cells, strict=True)
        ],
    }


# --- the form's choices ------------------------------------------------------------------------


def group_choices() -> dict[str, list[tuple[str, str]]]:
    """Suggestions for the group form: recipes (id, name), coating formulas, cathode powders."""
    recipes = Recipe.objects.order_by("name", "-version").values_list("pk", "name", "version")
    coatings = (
        Recipe.objects.filter(kind=RecipeKind.COATING)
        .order_by("coating_formula")
        .values_list("coating_formula", flat=True)
        .distinct()
    )
    powders = not_void(Sample.objects.filter(kind=SampleKind.CATHODE)).values_list("code", "name")
    return {
        "recipe": [(str(pk), f"{name} v{version}") for pk, name, version in recipes],
        "coating": [(f, f) for f in coatings if f],
        "samples": list(powders.order_by("-created_at")[:CHOICES_LIMIT]),
    }
