"""Void instead of delete, correct with a reason: the pieces every record-carrying model shares.

A record that carries data (sample, batch, measurement, raw file, analysis job or result) is
never deleted through Kiln: it is voided, that is kept with who voided it, when and why, hidden
from lists unless asked for, and its lineage and audit trail left whole. A correction changes
fields of a record and writes one audit row (django-simple-history) carrying the reason, in
the same transaction as the change.

Models declare the fields with ``voided_at, voided_by, void_reason = void_fields()``, add
``void_constraint("<prefix>")`` to their constraints and keep their history with
``audited_history()`` (a reason is text, not the library's default 100 characters).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models, transaction
from django.utils import timezone
from simple_history.models import HistoricalRecords

from lims import rules

MAX_REASON_CHARS = 2000
VOID_FIELDS = ("voided_at", "voided_by", "void_reason")


def void_fields() -> tuple[models.DateTimeField, models.ForeignKey, models.TextField]:
    """Fresh (voided_at, voided_by, void_reason) fields for one model."""
    return (
        models.DateTimeField("voided at", null=True, blank=True, editable=False, db_index=True),
        models.ForeignKey(
            settings.AUTH_USER_MODEL,
            null=True,
            blank=True,
            editable=False,
            on_delete=models.PROTECT,
            related_name="+",
            verbose_name="voided by",
        ),
        models.TextField("reason it is void", blank=True, editable=False),
    )


def void_constraint(prefix: str) -> models.CheckConstraint:
    """Void means all three of when, who and why; not void means none of them."""
    none = models.Q(voided_at__isnull=True, voided_by__isnull=True, void_reason="")
    every = models.Q(voided_at__isnull=False, voided_by__isnull=False) & ~models.Q(void_reason="")
    return models.CheckConstraint(condition=none | every, name=f"{prefix}_void_all_or_none")


def audited_history(**kwargs) -> HistoricalRecords:
    """HistoricalRecords whose change reason is a text (a correction's "because ...")."""
    return HistoricalRecords(history_change_reason_field=models.TextField(null=True), **kwargs)


LIVE = models.Q(voided_at__isnull=True)


def live(queryset: models.QuerySet, *, include_void: bool = False) -> models.QuerySet:
    """The queryset without void records, unless asked to include them."""
    return queryset if include_void else queryset.filter(LIVE)


def describe(record) -> str:
    """'sample CAT-2026-0001 LMNO', 'batch SYN-2026-0003 NSO coating v1', ... for messages."""
    return f"{record._meta.verbose_name} {record}"


def reason_clean(reason: str | None, *, action: str, record) -> str:
    """The stripped reason, or a ValidationError on "reason" naming the record."""
    text = (reason or "").strip()
    if not text:
        raise ValidationError(
            {"reason": f"Say why you {action} {describe(record)}: the audit trail keeps it."}
        )
    if len(text) > MAX_REASON_CHARS:
        raise ValidationError(
            {"reason": f"Keep the reason under {MAX_REASON_CHARS} characters, got {len(text)}."}
        )
    return text


def save_audited(record, *, user, reason: str, fields: list[str] | None = None) -> None:
    """Save `record` once: one audit row with the user and the reason."""
    record._history_user = user
    record._change_reason = reason
    try:
        record.save(update_fields=fields)
    finally:
        del record._change_reason


@transaction.atomic
def record_void(*, record, user, reason: str):
    """Void `record` (any model with void_fields): kept, marked who/when/why, one audit row.

    Raises PermissionDenied (lims.rules) and ValidationError (no reason, already void)."""
    rules.require(user, "void", record)
    why = reason_clean(reason, action="void", record=record)
    locked = type(record)._default_manager.select_for_update().get(pk=record.pk)
    if locked.voided_at is not None:
        who = locked.voided_by.get_username() if locked.voided_by else "someone"
        raise ValidationError(
            {"reason": f"{describe(locked)} was already voided by {who}: {locked.void_reason}"}
        )
    locked.voided_at, locked.voided_by, locked.void_reason = timezone.now(), user, why
    save_audited(locked, user=user, reason=f"voided: {why}", fields=list(VOID_FIELDS))
    return locked


@dataclass(frozen=True)
class Change:
    """One corrected field: its label and the values before and after."""

    field: str
    label: str
    old: object
    new: object


def changes_between(record, values: Mapping[str, object]) -> list[Change]:
    """The fields of `values` whose new value differs from the record's."""
    found = []
    for name, new in values.items():
        old = getattr(record, name)
        if old != new:
            label = str(record._meta.get_field(name).verbose_name)
            found.append(Change(name, label, old, new))
    return found


def record_correct(
    *, record, user, reason: str, values: Mapping[str, object], owner_record=None
) -> list[Change]:
    """Set `values` on the (locked) record and save it once with the reason, the caller having
    checked the values; ValidationError when nothing would change. Call inside a transaction.

    `owner_record` is what the permission is asked of when it is not the record itself (a
    batch's reagent row is changed by whoever may change the batch)."""
    rules.require(user, "change", owner_record if owner_record is not None else record)
    why = reason_clean(reason, action="correct", record=record)
    changed = changes_between(record, values)
    if not changed:
        raise ValidationError(
            {"__all__": [f"Nothing to correct: {describe(record)} already has these values."]}
        )
    for change in changed:
        setattr(record, change.field, change.new)
    save_audited(record, user=user, reason=why, fields=[c.field for c in changed])
    return changed


def void_along(record, voided, *, user) -> None:
    """Mark `record` void as `voided` is (same who, when and why): the two are one record."""
    for name in VOID_FIELDS:
        setattr(record, name, getattr(voided, name))
    save_audited(
        record, user=user, reason=f"voided: {voided.void_reason}", fields=list(VOID_FIELDS)
    )


def refuse_void(record) -> None:
    """A void record is kept as it was: correcting it is refused."""
    if record.voided_at is not None:
        raise ValidationError(
            {
                "__all__": [
                    f"{describe(record)} is void ({record.void_reason}); it is kept as it was."
                ]
            }
        )
