"""{% keyset_pager page "sample" %}: a keyset page's links (lims.keyset), keeping the list's
filters: newest, newer, older, and how many rows match (counted up to a cap)."""

from __future__ import annotations

from django import template
from django.http import QueryDict

register = template.Library()


@register.inclusion_tag("_keyset_pager.html", takes_context=True)
def keyset_pager(context, page, noun: str) -> dict:
    request = context.get("request")
    query = request.GET if request is not None else QueryDict()
    return {
        "page": page,
        "noun": noun,
        "newest": None if page.first else page.url(query),
        "newer": page.url(query, newer=page.newer) if page.newer else None,
        "older": page.url(query, older=page.older) if page.older else None,
    }
