"""Bulk import (with dry run) and export of samples in the same CSV/Excel columns."""

from __future__ import annotations

from django import forms
from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone

from lims import sample_import, tabular
from lims.sample_queries import sample_by_code, samples_list


class SampleImportForm(forms.Form):
    file = forms.FileField(help_text="CSV or Excel (.xlsx) with the columns of a sample export")
    mode = forms.ChoiceField(
        choices=[("skip", "skip rows whose code exists"), ("update", "update them"),
                 ("fail", "refuse the file")],
        initial="skip", label="Rows that already exist",
    )  # fmt: skip
    dry_run = forms.BooleanField(required=False, initial=True, label="Dry run: check, save nothing")

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if upload.size > settings.KILN_MAX_UPLOAD_MB * 1024 * 1024:
            raise forms.ValidationError(f"the file is over {settings.KILN_MAX_UPLOAD_MB} MB")
        try:
            return tabular.read_table(upload.read())
        except tabular.TableError as exc:
            raise forms.ValidationError(str(exc)) from None


def sample_import_view(request: HttpRequest) -> HttpResponse:
    form = SampleImportForm(request.POST or None, request.FILES or None)
    report = None
    if request.method == "POST" and form.is_valid():
        report = sample_import.samples_import(
            rows=form.cleaned_data["file"], mode=form.cleaned_data["mode"],
            dry_run=form.cleaned_data["dry_run"], user=request.user,
        )  # fmt: skip
    context = {"form": form, "report": report, "columns": sample_import.columns()}
    return render(request, "lims/sample_import.html", context)


def sample_export_view(request: HttpRequest, fmt: str) -> HttpResponse:
    """The sample list as filtered on the page, in the import columns."""
    params = request.GET
    ancestor = sample_by_code(params.get("ancestor", "")) if params.get("ancestor") else None
    qs = samples_list(kind=params.get("kind", ""), status=params.get("status", ""),
                      search=params.get("q", ""), ancestor=ancestor).order_by("code")  # fmt: skip
    rows = sample_import.export_rows(qs)
    stamp = timezone.localtime().strftime("%Y%m%d-%H%M")
    if fmt == "xlsx":
        content = tabular.write_xlsx(sample_import.columns(), rows, title="samples")
        mime = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    else:
        content, mime = tabular.write_csv(sample_import.columns(), rows), "text/csv; charset=utf-8"
    response = HttpResponse(content, content_type=mime)
    response["Content-Disposition"] = f'attachment; filename="kiln-samples-{stamp}.{fmt}"'
    return response
