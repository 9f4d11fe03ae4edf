"""The audit trail (django-simple-history) read as rows a person can follow: who, when, what."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

SKIP_FIELDS = {"history_id", "history_date", "history_change_reason", "history_type"}


@dataclass(frozen=True)
class AuditRow:
    when: datetime
    who: str
    action: str
    changes: list[tuple[str, str, str]]  # (field, old, new)


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


def _row(record, previous) -> AuditRow:
    who = record.history_user.get_username() if record.history_user else "system"
    action = {"+": "created", "-": "deleted"}.get(record.history_type, "changed")
    changes = []
    if record.history_type == "~" and previous is not None:
        delta = record.diff_against(previous)
        changes = [(c.field, _text(c.old), _text(c.new)) for c in delta.changes]
    return AuditRow(record.history_date, who, action, changes)


def _text(value) -> str:
    return "" if value is None else str(value)
