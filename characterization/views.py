"""Pages of the Cells and Measurements sections: parse a form, call one service, render."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django_htmx.http import HttpResponseClientRedirect

from characterization import file_states, forms, ndax_checks, queries, services, storage
from characterization.jobs.result_warnings import cell_warnings
from characterization.models import CoinCell, Electrode, Measurement, RawFile
from lims import rules

MEASUREMENT = {"sample__code": "code"}  # the measurement a URL's <code> names


def _redirect(request: HttpRequest, url: str) -> HttpResponse:
    return HttpResponseClientRedirect(url) if request.htmx else redirect(url)


def _get_or_404(fetch, code: str, model):
    try:
        return fetch(code)
    except model.DoesNotExist as exc:
        raise Http404(f"no {model._meta.verbose_name} {code}") from exc


# --- cells section ----------------------------------------------------------------------------


@require_GET
def cells_index(request: HttpRequest) -> HttpResponse:
    filter_form = forms.CellFilterForm(request.GET or None)
    filters = filter_form.filters() if request.GET else queries.CellFilters()
    context = {
        "filter_form": filter_form,
        "electrodes": queries.electrodes_for_index(q=filters.q, void=filters.void),
        "cells": queries.cells_for_index(filters),
    }
    if request.htmx:
        return render(request, "characterization/_cells_tables.html", context)
    return render(request, "characterization/cells_index.html", context)


@rules.guard("create", "characterization.electrode")
@require_http_methods(["GET", "POST"])
def electrode_new(request: HttpRequest) -> HttpResponse:
    if request.method == "GET":
        form = forms.ElectrodeForm(initial={"active_material": request.GET.get("powder", "")})
        return render(request, "characterization/electrode_form.html", {"form": form})
    form = forms.ElectrodeForm(request.POST)
    if form.is_valid():
        try:
            electrode = services.electrode_build(made_by=request.user, **form.service_kwargs())
        except ValidationError as exc:
            form.add_service_errors(exc)
        else:
            messages.success(request, f"Electrode {electrode.sample.code} registered.")
            return redirect("cells:electrode", code=electrode.sample.code)
    return render(request, "characterization/electrode_form.html", {"form": form})


@rules.guard("create", "characterization.electrode")
@require_POST
def slurry_preview(request: HttpRequest) -> HttpResponse:
    """The slurry to weigh for the electrode form's current inputs (htmx partial)."""
    form = forms.SlurryPreviewForm(request.POST)
    context = queries.slurry_preview(**form.cleaned_data) if form.is_valid() else {}
    return render(request, "characterization/_slurry_preview.html", context)


@require_GET
def electrode_detail(request: HttpRequest, code: str) -> HttpResponse:
    electrode = _get_or_404(queries.electrode_detail, code, Electrode)
    rows = _int(request.GET.get("rows"), default=4)
    return render(
        request,
        "characterization/electrode_detail.html",
        _electrode_context(
            electrode,
            batch_form=forms.CellBatchForm(electrode=electrode),
            discs=forms.disc_rows_formset(rows=rows),
        ),
    )


@rules.guard("create", "characterization.coincell")
@require_POST
def electrode_cells_new(request: HttpRequest, code: str) -> HttpResponse:
    """The one form that builds a batch of cells from an electrode sheet."""
    electrode = _get_or_404(queries.electrode_detail, code, Electrode)
    batch_form = forms.CellBatchForm(request.POST, electrode=electrode)
    discs = forms.disc_rows_formset(request.POST)
    valid = [batch_form.is_valid(), discs.is_valid()]  # both, so every row shows its errors
    if all(valid):
        rows, indices = forms.disc_rows(discs)
        if not any(form.errors for form in discs.forms):
            try:
                cells = services.cell_build_batch(
                    electrode=electrode,
                    discs=rows,
                    built_by=request.user,
                    **batch_form.cleaned_data,
                )
            except ValidationError as exc:
                _batch_errors(exc, batch_form, discs, indices)
            else:
                codes = ", ".join(cell.sample.code for cell in cells)
                messages.success(request, f"{len(cells)} cells built: {codes}.")
                return _redirect(request, reverse("cells:electrode", args=[code]))
    context = _electrode_context(electrode, batch_form=batch_form, discs=discs)
    if request.htmx:
        return render(request, "characterization/_cell_batch_form.html", context)
    return render(request, "characterization/electrode_detail.html", context)


def _batch_errors(exc: ValidationError, batch_form, discs, indices: list[int]) -> None:
    """Put a service error on the disc row (``discs[i].field``) or the shared field it names."""
    for key, errors in exc.message_dict.items():
        if key.startswith("discs[") and "]." in key:
            position, field = key[len("discs[") :].split("].", 1)
            row_form = discs.forms[indices[int(position)]]
            for message in errors:
                row_form.add_error(field if field in row_form.fields else None, message)
        else:
            batch_form.add_service_errors(ValidationError({key: errors}))


def _electrode_context(electrode: Electrode, *, batch_form, discs) -> dict:
    return {
        "electrode": electrode,
        "slurry": queries.slurry_rows(electrode),
        "cells": list(electrode.cells.all()),
        "batch_form": batch_form,
        "discs": discs,
    }


@require_GET
def cell_detail(request: HttpRequest, code: str) -> HttpResponse:
    cell = _get_or_404(queries.cell_detail, code, CoinCell)
    measurement_form = forms.MeasurementForm(
        initial={"subject": cell.sample.code, "measurement_type": "cycling"}
    )
    context = {
        "cell": cell,
        "electrode": cell.electrode,
        "powder": cell.electrode.active_material,
        "currents": queries.c_rate_table(cell),
        "measurements": queries.measurements_of(cell.sample),
        "measurement_form": measurement_form,
        "warnings": cell_warnings(cell.sample),
    }
    return render(request, "characterization/cell_detail.html", context)


def _int(value, *, default: int) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        return default


# --- measurements section ---------------------------------------------------------------------


@require_GET
def measurements_index(request: HttpRequest) -> HttpResponse:
    filter_form = forms.MeasurementFilterForm(request.GET or None)
    filters = filter_form.filters() if request.GET else queries.MeasurementFilters()
    context = {
        "filter_form": filter_form,
        "measurements": queries.measurements_for_index(filters),
    }
    if request.htmx:
        return render(request, "characterization/_measurements_table.html", context)
    return render(request, "characterization/measurements_index.html", context)


@rules.guard("create", "characterization.measurement")
@require_http_methods(["GET", "POST"])
def measurement_new(request: HttpRequest) -> HttpResponse:
    if request.method == "GET":
        form = forms.MeasurementForm(initial={"subject": request.GET.get("sample", "")})
        return render(request, "characterization/measurement_form.html", {"form": form})
    form = forms.MeasurementForm(request.POST, request.FILES)
    if form.is_valid():
        data = form.cleaned_data
        try:
            recorded = services.measurement_record(
                subject=data["subject"],
                measurement_type=data["measurement_type"],
                operator=request.user,
                instrument=data["instrument"],
                conditions=form.conditions(),
                measured_at=data["measured_at"],
                notes=data["notes"],
                uploads=data["files"],
            )
        except ValidationError as exc:
            form.add_service_errors(exc)
        else:
            code = recorded.measurement.sample.code
            messages.success(request, f"Measurement {code} recorded.")
            _file_messages(request, recorded.files)
            return redirect("measurements:detail", code=code)
    return render(request, "characterization/measurement_form.html", {"form": form})


def _file_messages(request: HttpRequest, outcomes) -> None:
    for outcome in outcomes:
        level = messages.SUCCESS if outcome.stored else messages.INFO
        messages.add_message(request, level, outcome.message)


@require_GET
def measurement_detail(request: HttpRequest, code: str) -> HttpResponse:
    measurement = _get_or_404(queries.measurement_detail, code, Measurement)
    return render(
        request,
        "characterization/measurement_detail.html",
        _measurement_context(
            measurement, files_form=forms.FilesForm(), refinement_form=forms.RefinementForm()
        ),
    )


def _measurement_context(measurement: Measurement, *, files_form, refinement_form) -> dict:
    cell, file_rows = queries.cell_of(measurement.subject), file_states.file_rows(measurement)
    return {
        "measurement": measurement,
        "cell": cell,
        "conditions": queries.condition_rows(measurement),
        "links": list(measurement.files.all()),
        "file_rows": file_rows,
        "ndax_panels": ndax_checks.ndax_panels(file_rows, cell),
        "refinements": list(measurement.refinements.all()),
        "files_form": files_form,
        "refinement_form": refinement_form,
    }


@rules.guard("change", "characterization.measurement", lookup=MEASUREMENT)
@require_POST
def measurement_files_add(request: HttpRequest, code: str) -> HttpResponse:
    measurement = _get_or_404(queries.measurement_detail, code, Measurement)
    form = forms.FilesForm(request.POST, request.FILES)
    if form.is_valid():
        try:
            outcomes = services.measurement_files_attach(
                measurement=measurement, uploads=form.cleaned_data["files"], added_by=request.user
            )
        except ValidationError as exc:
            form.add_service_errors(exc)
        else:
            _file_messages(request, outcomes)
            return redirect("measurements:detail", code=code)
    context = _measurement_context(
        measurement, files_form=form, refinement_form=forms.RefinementForm()
    )
    return render(request, "characterization/measurement_detail.html", context)


@rules.guard("change", "characterization.measurement", lookup=MEASUREMENT)
@require_POST
def refinement_new(request: HttpRequest, code: str) -> HttpResponse:
    measurement = _get_or_404(queries.measurement_detail, code, Measurement)
    form = forms.RefinementForm(request.POST)
    if form.is_valid():
        try:
            result = services.refinement_record(
                measurement=measurement, entered_by=request.user, **form.cleaned_data
            )
        except ValidationError as exc:
            form.add_service_errors(exc)
        else:
            level = messages.WARNING if result.warnings else messages.SUCCESS
            note = f" with {len(result.warnings)} warning(s)" if result.warnings else ""
            messages.add_message(request, level, f"Refinement result saved{note}.")
            return _redirect(request, reverse("measurements:detail", args=[code]))
    context = _measurement_context(measurement, files_form=forms.FilesForm(), refinement_form=form)
    if request.htmx:
        return render(request, "characterization/_refinement_form.html", context)
    return render(request, "characterization/measurement_detail.html", context)


@require_GET
def raw_file_download(request: HttpRequest, sha256: str) -> FileResponse:
    """The stored bytes, unchanged, under the name they were first uploaded with."""
    raw = _get_or_404(queries.raw_file, sha256, RawFile)
    try:
        handle = storage.open_raw(raw.sha256)
    except FileNotFoundError as exc:
        raise Http404(f"the stored content of {raw.original_name} is missing") from exc
    return FileResponse(
        handle,
        as_attachment=True,
        filename=raw.original_name,
        content_type=raw.content_type or "application/octet-stream",
    )
