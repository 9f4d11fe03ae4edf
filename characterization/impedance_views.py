"""A coin cell's impedance (EIS) measurements compared before/after cycling: one Nyquist plot
and one table (characterization.impedance_queries). Reads only; the login and role middleware
refuses a user without a role, as for the cell page."""

from __future__ import annotations

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from characterization import impedance_queries
from characterization.models import CoinCell


@require_GET
def cell_impedance(request: HttpRequest, code: str) -> HttpResponse:
    try:
        page = impedance_queries.cell_impedance(code)
    except CoinCell.DoesNotExist as exc:
        raise Http404(f"no coin cell {code}") from exc
    return render(request, "characterization/cell_impedance.html", {"page": page})
