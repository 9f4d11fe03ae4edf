"""/measurements/unplaced/: files the cycler PCs' harvesters sent that Kiln could not place on a
cell (no code in the path, no channel assignment), and assigning one to a cell."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_POST

from characterization import harvest, harvest_queries
from characterization.models import HarvestedFile
from lims import rules
from lims.models import Sample, SampleKind


class AssignForm(forms.Form):
    file = forms.ModelChoiceField(
        queryset=HarvestedFile.objects.filter(measurement__isnull=True),
        error_messages={"invalid_choice": "This file was placed already or does not exist."},
    )
    cell = forms.CharField(label="Cell code", max_length=32)

    def clean_cell(self) -> Sample:
        code = self.cleaned_data["cell"].strip().upper()
        cell = Sample.objects.filter(code=code, kind=SampleKind.CELL).first()
        if cell is None:
            raise ValidationError(f"No cell {code}: give a coin cell's code (CELL-2026-0042).")
        return cell


def _page(request: HttpRequest, form: AssignForm | None = None) -> HttpResponse:
    context = {"files": harvest_queries.unplaced_files(), "form": form}
    return render(request, "characterization/harvest_unplaced.html", context)


@require_GET
def unplaced_index(request: HttpRequest) -> HttpResponse:
    return _page(request)


@rules.guard("create", "characterization.measurement")
@require_POST
def unplaced_assign(request: HttpRequest) -> HttpResponse:
    form = AssignForm(request.POST)
    if form.is_valid():
        try:
            measurement = harvest.harvested_file_assign(
                harvested_file=form.cleaned_data["file"],
                cell=form.cleaned_data["cell"],
                user=request.user,
            )
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            code = measurement.sample.code
            messages.success(request, f"{form.cleaned_data['file']} is now measurement {code}.")
            return redirect("measurements:detail", code=code)
    return _page(request, form)
