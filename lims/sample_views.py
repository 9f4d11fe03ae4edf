"""Sample registry pages: the list with filters and the sample page with its lineage."""

from __future__ import annotations

from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from lims import panels, transfer_views
from lims.audit import audit_rows
from lims.graph_layout import NODE_H, NODE_W, layered_layout
from lims.models import SampleKind, SampleStatus
from lims.sample_queries import MAX_GRAPH_NODES, sample_by_code, sample_lineage, samples_list


@require_GET
def sample_list(request: HttpRequest) -> HttpResponse:
    keys = ("kind", "status", "q", "ancestor", "void")
    params = {k: request.GET.get(k, "").strip() for k in keys}
    ancestor = sample_by_code(params["ancestor"]) if params["ancestor"] else None
    qs = samples_list(
        kind=params["kind"], status=params["status"], search=params["q"], ancestor=ancestor,
        include_void=params["void"] == "1",
    )  # fmt: skip
    page = Paginator(qs, 50).get_page(request.GET.get("page"))
    context = {
        "page": page,
        "params": params,
        "ancestor": ancestor,
        "unknown_ancestor": bool(params["ancestor"]) and ancestor is None,
        "kinds": SampleKind.choices,
        "statuses": SampleStatus.choices,
    }
    template = "lims/_sample_rows.html" if request.htmx else "lims/sample_list.html"
    return render(request, template, context)


@require_GET
def sample_detail(request: HttpRequest, code: str) -> HttpResponse:
    sample = sample_by_code(code)
    if sample is None:
        raise Http404(f"No sample {code}")
    lineage = sample_lineage(sample)
    context = {
        "sample": sample,
        "lineage": lineage,
        "graph": _graph(lineage),
        "panels": panels.panels_for(sample, lineage),
        "history": audit_rows(sample),
    }
    return render(request, "lims/sample_detail.html", context)


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
