"""Sample registry pages: the list with filters and the sample page with its lineage."""

from __future__ import annotations

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from lims import panels, transfer_views
from lims.audit import AuditRow, audit_rows, merged
from lims.graph_layout import NODE_H, NODE_W, layered_layout
from lims.keyset import keyset_page
from lims.models import POWDER_KINDS, SampleKind, SampleStatus
from lims.sample_queries import MAX_GRAPH_NODES, sample_by_code, sample_lineage, samples_list
from lims.stock import grams_text
from lims.stock_queries import StockPage, page_with_stock, sample_with_stock, stock_page

PAGE_SIZE = 50


@require_GET
def sample_list(request: HttpRequest) -> HttpResponse:
    keys = ("kind", "status", "q", "ancestor", "void")
    params = {k: request.GET.get(k, "").strip() for k in keys}
    ancestor = sample_by_code(params["ancestor"]) if params["ancestor"] else None
    qs = samples_list(
        kind=params["kind"], status=params["status"], search=params["q"], ancestor=ancestor,
        include_void=params["void"] == "1",
    )  # fmt: skip
    page = keyset_page(qs, request.GET, size=PAGE_SIZE)
    page_with_stock(page.object_list)
    context = {
        "page": page,
        "params": params,
        "ancestor": ancestor,
        "unknown_ancestor": bool(params["ancestor"]) and ancestor is None,
        "kinds": SampleKind.choices,
        "statuses": SampleStatus.choices,
        "powder_kinds": [str(kind) for kind in POWDER_KINDS],
    }
    template = "lims/_sample_rows.html" if request.htmx else "lims/sample_list.html"
    return render(request, template, context)


@require_GET
def sample_detail(request: HttpRequest, code: str) -> HttpResponse:
    sample = sample_with_stock(code)
    if sample is None:
        raise Http404(f"No sample {code}")
    lineage = sample_lineage(sample)
    stock = stock_page(sample, lineage)
    context = {
        "sample": sample,
        "lineage": lineage,
        "graph": _graph(lineage),
        "panels": panels.panels_for(sample, lineage),
        "stock": stock,
        "history": merged(audit_rows(sample), _stock_rows(stock)),
    }
    return render(request, "lims/sample_detail.html", context)


def _stock_rows(stock: StockPage | None) -> list[AuditRow]:
    """Stock corrections as rows of the sample's trail (each is its own audit row too)."""
    if stock is None:
        return []
    return [
        AuditRow(c.at, c.by.get_username(), f"stock corrected by {grams_text(c.delta_g)}", [],
                 c.reason)
        for c in stock.corrections
    ]  # fmt: skip


def _graph(lineage) -> dict | None:
    """SVG geometry of the lineage, or None when it is too large to draw legibly."""
    if len(lineage.generations) > MAX_GRAPH_NODES:
        return None
    layout = layered_layout(
        lineage.generations,
        [(e.parent_id, e.child_id) for e in lineage.edges],
        {pk: s.code for pk, s in lineage.samples.items()},
    )
    nodes = [
        {"sample": lineage.samples[n.key], "x": n.x, "y": n.y, "text_x": n.x + 8,
         "code_y": n.y + 19, "name_y": n.y + 36, "focus": n.key == lineage.focus.pk}
        for n in layout.nodes.values()
    ]  # fmt: skip
    return {"nodes": nodes, "edges": layout.edges, "width": layout.width,
            "height": layout.height, "node_w": NODE_W, "node_h": NODE_H}  # fmt: skip


@require_GET
def sample_eln_export(request: HttpRequest, code: str) -> HttpResponse:
    """The sample with its lineage, records and raw files as an .eln archive: offered here,
    built on the worker (lims.transfer_views)."""
    return transfer_views.eln_offer(request, code)
