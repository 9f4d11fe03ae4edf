"""`{% harvest_live measurement %}`: "live: last updated 10 minutes ago" on the measurement page
while a cycler PC's harvester keeps sending new versions of its file (within the last 24 h)."""

from __future__ import annotations

from django import template

from characterization import harvest_queries

register = template.Library()


@register.inclusion_tag("characterization/_harvest_live.html")
def harvest_live(measurement) -> dict:
    return {"live": harvest_queries.live_state(measurement)}
