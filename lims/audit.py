"""The audit trail (django-simple-history) read as rows a person can follow: who, when, what,
and why ("changed yield (g) from 50 to 0.5 because typed in grams, weighed 0.50 g")."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from itertools import groupby

from django.core.exceptions import FieldDoesNotExist
from django.utils import timezone

from lims.quantities import format_number

SKIP_FIELDS = {"history_id", "history_date", "history_change_reason", "history_type"}
VOID_FIELDS = {"voided_at", "voided_by", "void_reason"}
VOIDED_PREFIX = "voided: "


@dataclass(frozen=True)
class AuditRow:
    when: datetime
    who: str
    action: str  # created, changed, voided, deleted
    changes: list[tuple[str, str, str]]  # (field label, old, new)
    reason: str = ""
    record: str = ""  # which record of a page's trail ("" for the page's own record)


def audit_rows(instance, limit: int = 50) -> list[AuditRow]:
    """Newest first; each change is compared with the record before it (one query)."""
    records = list(
        instance.history.select_related("history_user").order_by("-history_date", "-history_id")[
            : limit + 1
        ]
    )
    rows = []
    for newer, older in zip(records, records[1:] + [None], strict=False):
        if len(rows) == limit:
            break
        rows.append(_row(newer, older))
    return rows


def history_rows(
    history, *, label: Callable[[object], str] = lambda record: "", limit: int = 200
) -> list[AuditRow]:
    """Rows of several records of one model from one history queryset (one query), each
    compared with the same record's row before it; newest first."""
    records = history.select_related("history_user").order_by("id", "-history_date", "-history_id")
    rows = []
    for _, group in groupby(records, key=lambda r: r.id):
        versions = list(group)
        for newer, older in zip(versions, versions[1:] + [None], strict=False):
            rows.append(_row(newer, older, name=label(newer)))
    return merged(rows, limit=limit)


def merged(*row_lists: Iterable[AuditRow], limit: int = 200) -> list[AuditRow]:
    """Rows of several records as one trail, newest first."""
    rows = [row for rows in row_lists for row in rows]
    return sorted(rows, key=lambda row: row.when, reverse=True)[:limit]


def _row(version, previous, *, name: str = "") -> AuditRow:
    who = version.history_user.get_username() if version.history_user else "system"
    action = {"+": "created", "-": "deleted"}.get(version.history_type, "changed")
    reason = version.history_change_reason or ""
    changes = []
    if version.history_type == "~" and previous is not None:
        delta = version.diff_against(previous)
        if getattr(version, "voided_at", None) and not getattr(previous, "voided_at", None):
            action, reason = "voided", reason.removeprefix(VOIDED_PREFIX)
        changes = [
            (
                _label(version, c.field),
                _shown(version, c.field, c.old),
                _shown(version, c.field, c.new),
            )
            for c in delta.changes
            if c.field not in VOID_FIELDS
        ]
    return AuditRow(version.history_date, who, action, changes, reason, name)


def _label(version, field: str) -> str:
    try:
        return str(version.instance_type._meta.get_field(field).verbose_name)
    except FieldDoesNotExist:  # a field the model no longer has
        return field


def _shown(version, field: str, value) -> str:
    """A value as a person reads it: numbers without float noise, local minutes, the related
    record's name instead of its id."""
    if value is None:
        return ""
    try:
        model_field = version.instance_type._meta.get_field(field)
    except FieldDoesNotExist:
        model_field = None
    if model_field is not None and model_field.is_relation:
        related = model_field.related_model._default_manager.filter(pk=value).first()
        return str(related) if related is not None else str(value)
    if isinstance(value, float):
        return format_number(float(f"{value:.6g}"))  # six significant digits, as typed
    if isinstance(value, datetime):
        value = timezone.localtime(value) if timezone.is_aware(value) else value
        return value.strftime("%Y-%m-%d %H:%M")
    return str(value)
