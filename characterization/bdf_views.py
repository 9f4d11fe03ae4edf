"""Downloads of a measurement file's cycling data in the Battery Data Format (exports_bdf).

Read access as the measurement page (signed in, with a role: lims.middleware), and the file
must belong to the measurement the URL names (the rule's lookup; 404 otherwise)."""

from __future__ import annotations

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404
from django.views.decorators.http import require_GET

from characterization import exports_bdf
from characterization.models import Measurement, RawFile
from lims import rules

MEASUREMENT_FILE = {"sample__code": "code", "raw_files__sha256": "sha256"}


@rules.guard("read", "characterization.measurement", lookup=MEASUREMENT_FILE)
@require_GET
def bdf_download(
    request: HttpRequest, code: str, sha256: str, fmt: str, part: str = "time_series"
) -> HttpResponse:
    """The file's time series in BDF columns, or its per-cycle table, as CSV or Parquet."""
    if fmt not in exports_bdf.FORMATS or part not in exports_bdf.PARTS:
        raise Http404(f"no {part} export as {fmt}")
    measurement = get_object_or_404(Measurement.objects.select_related("sample"), sample__code=code)
    raw = get_object_or_404(RawFile, sha256=sha256, links__measurement=measurement)
    try:
        frame = exports_bdf.export_frame(measurement, raw, part)
    except exports_bdf.ExportError as exc:
        raise Http404(f"{raw.original_name} has no cycling data to export: {exc}") from exc
    response = HttpResponse(
        exports_bdf.serialise(frame, fmt), content_type=exports_bdf.FORMATS[fmt]
    )
    name = exports_bdf.filename(measurement, raw, part, fmt)
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response
