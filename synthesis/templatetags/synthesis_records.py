"""`{% batch_trail batch as history %}`: a batch's audit trail with its reagent rows' (what was
weighed, corrected with a reason), newest first (three queries)."""

from __future__ import annotations

from django import template

from lims.audit import AuditRow, audit_rows, history_rows, merged
from lims.sample_queries import void_ancestors
from synthesis.models import BatchReagent

register = template.Library()


@register.simple_tag
def batch_trail(batch) -> list[AuditRow]:
    names = dict(batch.reagents.values_list("pk", "line__name"))
    reagents = history_rows(
        BatchReagent.history.filter(batch_id=batch.pk),
        label=lambda version: names.get(version.id, "reagent"),
    )
    changed = [row for row in reagents if row.action != "created"]  # planned with the batch
    return merged(audit_rows(batch), changed)


@register.simple_tag
def batch_void_inputs(batch) -> list:
    """The void samples the batch was made from: its substrate or the substrate's ancestors."""
    substrate = batch.substrate
    if substrate is None:
        return []
    found = [substrate] if substrate.voided_at is not None else []
    return found + void_ancestors(substrate)
