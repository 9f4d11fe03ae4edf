"""Pages of exports and imports run on the worker (lims.transfers): the offer (what will be
built, and how big), the start (POST, answered at once), the page that polls the progress
like a job's and offers the download, and the download itself (streamed from disk)."""

from __future__ import annotations

from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_GET, require_POST

from lims import exports, rules, transfers
from lims.models import Transfer, TransferKind
from lims.sample_queries import sample_by_code, sample_lineage

TRANSFER = {"pk": "pk"}


def eln_offer(request: HttpRequest, code: str) -> HttpResponse:
    """What the .eln archive of a sample will hold, and the button that has it built."""
    sample = _sample_or_404(code)
    crate = exports.eln_samples(sample_lineage(sample))
    files = [f for s in crate for f in s.files]
    earlier = Transfer.objects.filter(
        kind=TransferKind.ELN, params__sample=sample.code, requested_by=request.user
    )[:5]
    context = {
        "sample": sample,
        "sample_count": len(crate),
        "file_count": len(files),
        "size_bytes": sum(f.size for f in files),
        "earlier": earlier,
    }
    return render(request, "lims/transfer_eln_offer.html", context)


@rules.guard("run", "lims.transfer")
@require_POST
def eln_start(request: HttpRequest, code: str) -> HttpResponse:
    transfer = transfers.eln_start(sample=_sample_or_404(code), user=request.user)
    return redirect("transfers:detail", pk=transfer.pk)


@rules.guard("run", "lims.transfer")
@require_POST
def samples_start(request: HttpRequest, fmt: str) -> HttpResponse:
    if fmt not in transfers.FORMATS:
        raise Http404(f"no export format {fmt!r}")
    filters = {k: request.POST.get(k, "").strip() for k in transfers.SAMPLE_FILTERS}
    transfer = transfers.samples_export_start(filters=filters, fmt=fmt, user=request.user)
    return redirect("transfers:detail", pk=transfer.pk)


@require_GET
def transfer_list(request: HttpRequest) -> HttpResponse:
    """Your exports and imports of the last weeks."""
    rows = Transfer.objects.filter(requested_by=request.user)[:50]
    context = {"transfers": rows, "keep_days": transfers.keep_days()}
    return render(request, "lims/transfer_list.html", context)


@rules.guard("read", "lims.transfer", lookup=TRANSFER)
@require_GET
def transfer_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """The transfer's progress (polled by htmx while it runs), then its download or report."""
    transfer = get_object_or_404(Transfer.objects.select_related("requested_by"), pk=pk)
    context = {
        "transfer": transfer,
        "ready": transfers.file_of(transfer) is not None,
        "report": transfers.import_report(transfer),
    }
    if request.htmx and request.GET.get("poll"):
        return render(request, "lims/_transfer_status.html", context)
    return render(request, "lims/transfer_detail.html", context)


@rules.guard("read", "lims.transfer", lookup=TRANSFER)
@require_GET
def transfer_download(request: HttpRequest, pk: int) -> FileResponse:
    transfer = get_object_or_404(Transfer, pk=pk)
    path = transfers.file_of(transfer)
    if path is None:
        raise Http404(f"export {pk} has no file (yet, or any more)")
    return FileResponse(
        path.open("rb"), as_attachment=True, filename=transfer.file_name,
        content_type=transfers.content_type(transfer),
    )  # fmt: skip


def _sample_or_404(code: str):
    sample = sample_by_code(code)
    if sample is None:
        raise Http404(f"No sample {code}")
    return sample
