"""Printable QR labels for vials and cells: scanning a label opens the sample page."""

from __future__ import annotations

import segno
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.http import require_GET

from lims.models import Sample
from lims.sample_queries import sample_by_code, samples_list

MAX_LABELS = 200


@require_GET
def label_sheet(request: HttpRequest) -> HttpResponse:
    """?codes=A,B,... or ?ancestor=CODE&kind=cell: a sheet of labels that prints on A4."""
    codes = [c.strip() for c in request.GET.get("codes", "").split(",") if c.strip()]
    if codes:
        samples = list(Sample.objects.filter(code__in=codes).order_by("code"))
        missing = sorted(set(codes) - {s.code for s in samples})
    else:
        ancestor = sample_by_code(request.GET.get("ancestor", ""))
        samples = list(
            samples_list(kind=request.GET.get("kind", ""), ancestor=ancestor).order_by("code")
        )
        missing = []
    labels = [_label(request, s) for s in samples[:MAX_LABELS]]
    context = {"labels": labels, "missing": missing, "truncated": len(samples) > MAX_LABELS}
    return render(request, "lims/label_sheet.html", context)


def _label(request: HttpRequest, sample: Sample) -> dict:
    url = request.build_absolute_uri(reverse("samples:detail", args=[sample.code]))
    qr = segno.make(url, error="m")
    return {"sample": sample, "url": url, "qr": qr.svg_data_uri(scale=3, border=1)}
