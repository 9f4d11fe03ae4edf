"""Record chrome shared by every record page: `{% void_ancestors sample as ancestors %}` (the
void samples a record descends from) and `{% sample_trail sample as history %}`; the partials
lims/_void_banner.html and lims/_audit_trail.html render them."""

from __future__ import annotations

from django import template

from lims import sample_queries
from lims.audit import AuditRow, audit_rows
from lims.models import Sample

register = template.Library()


@register.simple_tag
def void_ancestors(sample, lineage=None) -> list[Sample]:
    """The void samples `sample` descends from, nearest first (from its lineage when the page
    has it, else two queries)."""
    if sample is None:
        return []
    if lineage is not None:
        return [s for s in reversed(lineage.ancestors) if s.voided_at is not None]
    return sample_queries.void_ancestors(sample)


@register.simple_tag
def sample_trail(sample) -> list[AuditRow]:
    return audit_rows(sample)
