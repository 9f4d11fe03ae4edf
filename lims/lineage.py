"""Ancestors and descendants to any depth in one recursive SQL query (PostgreSQL and SQLite)."""

from __future__ import annotations

from django.db import connection
from django.db.models.expressions import RawSQL

from lims.models import SampleEdge

_EDGES = SampleEdge._meta.db_table

# Walks edges from a start node; UNION (not UNION ALL) stops on shared ancestors in a DAG.
_WALK = """
WITH RECURSIVE walk(id, depth) AS (
    SELECT CAST(%s AS BIGINT), 0
    UNION
    SELECT e.{next}, w.depth + 1 FROM {edges} e JOIN walk w ON e.{this} = w.id
    WHERE w.depth < %s
)
SELECT id, MIN(depth) FROM walk WHERE depth > 0 GROUP BY id
"""
MAX_DEPTH = 64


def ancestor_depths(sample_id: int) -> dict[int, int]:
    """{ancestor id: shortest number of edges up to it}."""
    return _walk(sample_id, this="child_id", next="parent_id")


def descendant_depths(sample_id: int) -> dict[int, int]:
    """{descendant id: shortest number of edges down to it}."""
    return _walk(sample_id, this="parent_id", next="child_id")


def _walk(sample_id: int, *, this: str, next: str) -> dict[int, int]:
    sql = _WALK.format(edges=_EDGES, this=this, next=next)
    with connection.cursor() as cursor:
        cursor.execute(sql, [sample_id, MAX_DEPTH])
        return {row[0]: row[1] for row in cursor.fetchall()}


_WALK_MANY = """
WITH RECURSIVE walk(id) AS (
    {seed}
    UNION
    SELECT e.{next} FROM {edges} e JOIN walk w ON e.{this} = w.id
)
SELECT id FROM walk
"""


def descendants_subquery(seed_queryset) -> RawSQL:
    """The ids of `seed_queryset`'s samples and everything below them, as a subquery for
    `filter(pk__in=...)`: the walk runs inside the list's own query, so a filter matching
    thousands of samples sends no id list back and forth."""
    seed_sql, params = seed_queryset.order_by().values("pk").query.sql_with_params()
    sql = _WALK_MANY.format(seed=seed_sql, edges=_EDGES, this="parent_id", next="child_id")
    return RawSQL(sql, params)


def descendants_of_queryset(seed_queryset, include_seed: bool = True) -> set[int]:
    """Ids of every sample below any sample of `seed_queryset` (a queryset of Sample), in one
    query: the seed's own SQL starts the recursive walk."""
    walk = descendants_subquery(seed_queryset)
    with connection.cursor() as cursor:
        cursor.execute(walk.sql, walk.params)
        ids = {row[0] for row in cursor.fetchall()}
    if not include_seed:
        ids -= set(seed_queryset.values_list("pk", flat=True))
    return ids
