"""Bulk import (with dry run) and export of samples in the same CSV/Excel columns. Large
files and lists go to the worker (lims.transfers): the request only saves and queues them."""

from __future__ import annotations

from collections.abc import Iterator

from django import forms
from django.conf import settings
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_http_methods

from lims import downloads, rules, sample_import, tabular, transfers
from lims.models import Sample


class SampleImportForm(forms.Form):
    file = forms.FileField(help_text="CSV or Excel (.xlsx) with the columns of a sample export")
    mode = forms.ChoiceField(
        choices=[("skip", "skip rows whose code exists"), ("update", "update them"),
                 ("fail", "refuse the file")],
        initial="skip", label="Rows that already exist",
    )  # fmt: skip
    dry_run = forms.BooleanField(required=False, initial=True, label="Dry run: check, save nothing")

    def clean_file(self):
        """The rows of a small file; a large one's bytes, read on the worker."""
        upload = self.cleaned_data["file"]
        if upload.size > settings.KILN_MAX_UPLOAD_MB * 1024 * 1024:
            raise forms.ValidationError(f"the file is over {settings.KILN_MAX_UPLOAD_MB} MB")
        data = upload.read()
        if tabular.count_rows(data) > transfers.import_sync_rows():
            return data
        try:
            return tabular.read_table(data)
        except tabular.TableError as exc:
            raise forms.ValidationError(str(exc)) from None


@rules.guard("create", "lims.sample")
@require_http_methods(["GET", "POST"])
def sample_import_view(request: HttpRequest) -> HttpResponse:
    form = SampleImportForm(request.POST or None, request.FILES or None)
    report = None
    if request.method == "POST" and form.is_valid():
        table, options = form.cleaned_data["file"], {
            "mode": form.cleaned_data["mode"], "dry_run": form.cleaned_data["dry_run"],
            "user": request.user,
        }  # fmt: skip
        if isinstance(table, bytes):  # a large file: imported on the worker, its page polls
            name = request.FILES["file"].name
            transfer = transfers.import_start(data=table, name=name, **options)
            return redirect("transfers:detail", pk=transfer.pk)
        report = sample_import.samples_import(rows=table, **options)
    context = {
        "form": form, "report": report, "columns": sample_import.columns(),
        "sync_rows": transfers.import_sync_rows(),
    }  # fmt: skip
    return render(request, "lims/sample_import.html", context)


@require_GET
def sample_export_view(request: HttpRequest, fmt: str) -> HttpResponse:
    """The sample list as filtered on the page, in the import columns. A long list is offered as
    a CSV or Excel file the worker writes (lims.transfers); Parquet is streamed in the request,
    the samples read a chunk at a time."""
    downloads.fmt_or_404(fmt)
    filters = {k: request.GET.get(k, "").strip() for k in transfers.SAMPLE_FILTERS}
    qs = transfers.samples_for_export(filters)
    count = qs.count()
    small = count <= transfers.export_sync_rows()
    if not small and fmt in transfers.FORMATS:
        context = {"count": count, "filters": filters, "fmt": fmt}
        return render(request, "lims/transfer_samples_offer.html", context)
    rows = sample_import.export_rows(qs) if small else _chunked_rows(qs)
    stem = downloads.stamped("samples")
    return downloads.table_response(
        fmt, sample_import.columns(), rows, stem=stem, title="samples", stream=not small
    )


def _chunked_rows(qs: QuerySet[Sample]) -> Iterator[list[str]]:
    pks = list(qs.values_list("pk", flat=True))
    for start in range(0, len(pks), transfers.CHUNK_ROWS):
        chunk = Sample.objects.filter(pk__in=pks[start : start + transfers.CHUNK_ROWS])
        yield from sample_import.export_rows(chunk.order_by("code"))
