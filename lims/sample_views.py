"""Sample registry pages: the list with filters and the sample page with its lineage."""

from __future__ import annotations

from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render

from lims import exports, panels
from lims.audit import audit_rows
from lims.graph_layout import NODE_H, NODE_W, layered_layout
from lims.models import SampleKind, SampleStatus
from lims.sample_queries import MAX_GRAPH_NODES, sample_by_code, sample_lineage, samples_list


def sample_list(request: HttpRequest) -> HttpResponse:
    params = {k: request.GET.get(k, "").strip() for k in ("kind", "status", "q", "ancestor")}
    ancestor = sample_by_code(params["ancestor"]) if params["ancestor"] else None
    qs = samples_list(
        kind=params["kind"], status=params["status"], search=params["q"], ancestor=ancestor
    )
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


def sample_eln_export(request: HttpRequest, code: str) -> HttpResponse:
    """Download the sample with its lineage, records and raw files as an .eln archive."""
    sample = sample_by_code(code)
    if sample is None:
        raise Http404(f"No sample {code}")
    response = HttpResponse(content_type="application/vnd.eln+zip")
    response["Content-Disposition"] = f'attachment; filename="{sample.code}.eln"'
    exports.eln_write(response, sample_lineage(sample), author=request.user.get_username())
    return response
