"""{% downloads "namespace:name" [args...] %}: a list's CSV, Excel and Parquet links (rendered by
templates/_downloads.html), carrying the page's current filters (its query without `page`).

In an htmx answer that redraws only the list (filters changed), the links are sent again
out-of-band (`oob=True`), so that they always download what the list now shows.
"""

from __future__ import annotations

from django import template
from django.http import QueryDict
from django.urls import reverse

from lims.downloads import FORMATS
from lims.keyset import CURSOR_PARAMS

register = template.Library()


@register.inclusion_tag("_downloads.html", takes_context=True)
def downloads(context, view_name: str, *args, query: str | None = None, oob: bool = False,
              label: str = "", key: str = "") -> dict:  # fmt: skip
    request = context.get("request")
    params = QueryDict(query, mutable=True) if query is not None else _page_query(request)
    for name in CURSOR_PARAMS:  # a download has every matching row, not one page
        params.pop(name, None)
    suffix = f"?{params.urlencode()}" if params else ""
    links = [
        {"fmt": fmt, "label": name, "href": reverse(view_name, args=[*args, fmt]) + suffix}
        for fmt, (name, _content_type) in FORMATS.items()
    ]
    dom_id = "kiln-downloads-" + (key or view_name.replace(":", "-"))
    return {"links": links, "oob": oob, "label": label, "dom_id": dom_id}


def _page_query(request) -> QueryDict:
    return request.GET.copy() if request is not None else QueryDict(mutable=True)
