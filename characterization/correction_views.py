"""Correction and void pages of cells, measurements, refinements, raw files, jobs and results,
and the one-click re-run of the analyses a correction left outdated."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.urls import reverse
from django.views.decorators.http import require_http_methods, require_POST

from characterization import corrections, queries
from characterization.correction_forms import (
    CellCorrectionForm,
    MeasurementCorrectionForm,
    RefinementCorrectionForm,
)
from characterization.jobs.models import AnalysisJob
from characterization.jobs.queries import broker_note
from characterization.models import (
    CoinCell,
    Measurement,
    RawFile,
    RefinementResult,
)
from lims import rules
from lims.correction_views import record_form, void_page
from lims.corrections import sample_void

BY_CODE = {"sample__code": "code"}
BY_PK = {"pk": "pk"}
SAVE = "Save the correction"


def _get(fetch, key, model):
    try:
        return fetch(key)
    except model.DoesNotExist as exc:
        raise Http404(f"no {model._meta.verbose_name} {key}") from exc


def _status(form) -> int:
    return 400 if form.errors else 200


# --- cells ------------------------------------------------------------------------------------


@rules.guard("change", "characterization.coincell", lookup=BY_CODE)
@require_http_methods(["GET", "POST"])
def cell_correct(request: HttpRequest, code: str) -> HttpResponse:
    cell = _get(queries.cell_detail, code, CoinCell)
    url = reverse("cells:cell", args=[code])
    form = CellCorrectionForm(request.POST or None, initial=CellCorrectionForm.initial_of(cell))
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            done = corrections.cell_correct(
                cell=cell,
                user=request.user,
                reason=data["reason"],
                disc_mass_mg=data["disc_mass_mg"],
                foil_disc_mass_mg=data["foil_disc_mass_mg"],
            )
        except ValidationError as exc:
            form.add_service_errors(exc)
        else:
            changed = ", ".join(f"{c.label} {c.old:g} → {c.new:g}" for c in done.changes)
            messages.success(request, f"{code} corrected: {changed}.")
            if done.outdated:
                messages.warning(
                    request,
                    f"{len(done.outdated)} analysis result(s) used the old active mass: "
                    "re-run them from this page.",
                )
            return redirect(url)
    intro = (
        "A corrected disc or foil mass recomputes the active mass, the loading and the currents; "
        "the analyses that used the old active mass are then marked outdated until re-run."
    )
    return record_form(
        request,
        form,
        record=cell.sample,
        url=url,
        title="Correct the disc",
        intro=intro,
        submit=SAVE,
        status=_status(form),
    )


@rules.guard("void", "characterization.coincell", lookup=BY_CODE)
@require_http_methods(["GET", "POST"])
def cell_void(request: HttpRequest, code: str) -> HttpResponse:
    cell = _get(queries.cell_detail, code, CoinCell)
    url = reverse("cells:cell", args=[code])
    return void_page(request, record=cell.sample, url=url, void=sample_void, sample=cell.sample)


@rules.guard("run", "characterization.coincell", lookup=BY_CODE)
@require_POST
def cell_rerun_outdated(request: HttpRequest, code: str) -> HttpResponse:
    cell = _get(queries.cell_detail, code, CoinCell)
    measurements = Measurement.objects.filter(subject=cell.sample, voided_at__isnull=True)
    _rerun(request, measurements)
    return redirect(reverse("cells:cell", args=[code]) + "#outdated")


def _rerun(request: HttpRequest, measurements) -> None:
    jobs = corrections.analyses_rerun_outdated(measurements=measurements, user=request.user)
    reused = sum(1 for job in jobs if job.reused)
    messages.success(
        request,
        f"{len(jobs)} analysis(es) re-run with today's inputs"
        + (f" ({reused} reused a stored result)." if reused else "."),
    )
    if note := broker_note(jobs):  # the broker is down: they wait for it
        messages.warning(request, note)


# --- measurements and refinements -------------------------------------------------------------


@rules.guard("change", "characterization.measurement", lookup=BY_CODE)
@require_http_methods(["GET", "POST"])
def measurement_correct(request: HttpRequest, code: str) -> HttpResponse:
    measurement = _get(queries.measurement_detail, code, Measurement)
    url = reverse("measurements:detail", args=[code])
    initial = MeasurementCorrectionForm.initial_of(measurement)
    form = MeasurementCorrectionForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            changes = corrections.measurement_correct(
                measurement=measurement,
                user=request.user,
                reason=data["reason"],
                conditions=form.conditions(),
                instrument=data["instrument"],
                notes=data["notes"],
            )
        except ValidationError as exc:
            form.add_service_errors(exc)
        else:
            what = ", ".join(change.label for change in changes)
            messages.success(request, f"{code}: {what} corrected.")
            return redirect(url)
    return record_form(
        request,
        form,
        record=measurement.sample,
        url=url,
        title="Correct the measurement",
        submit=SAVE,
        status=_status(form),
    )


@rules.guard("void", "characterization.measurement", lookup=BY_CODE)
@require_http_methods(["GET", "POST"])
def measurement_void(request: HttpRequest, code: str) -> HttpResponse:
    measurement = _get(queries.measurement_detail, code, Measurement)
    url = reverse("measurements:detail", args=[code])
    return void_page(
        request,
        record=measurement,
        url=url,
        void=corrections.measurement_void,
        measurement=measurement,
    )


@rules.guard("run", "characterization.measurement", lookup=BY_CODE)
@require_POST
def measurement_rerun_outdated(request: HttpRequest, code: str) -> HttpResponse:
    measurement = _get(queries.measurement_detail, code, Measurement)
    _rerun(request, [measurement])
    return redirect(reverse("measurements:detail", args=[code]) + "#outdated")


@rules.guard("change", "characterization.refinementresult", lookup=BY_PK)
@require_http_methods(["GET", "POST"])
def refinement_correct(request: HttpRequest, code: str, pk: int) -> HttpResponse:
    result = get_object_or_404(
        RefinementResult.objects.select_related("measurement__sample"),
        pk=pk,
        measurement__sample__code=code,
    )
    url = reverse("measurements:detail", args=[code]) + "#refinement"
    form = RefinementCorrectionForm(
        request.POST or None, initial=RefinementCorrectionForm.initial_of(result)
    )
    if request.method == "POST" and form.is_valid():
        typed = {k: v for k, v in form.cleaned_data.items() if k != "reason"}
        try:
            changes = corrections.refinement_correct(
                refinement=result, user=request.user, reason=form.cleaned_data["reason"], **typed
            )
        except ValidationError as exc:
            form.add_service_errors(exc)
        else:
            what = ", ".join(change.label for change in changes)
            messages.success(request, f"Refinement of {code} corrected: {what}.")
            return redirect(url)
    return record_form(
        request,
        form,
        record=result.measurement.sample,
        url=url,
        title=f"Correct the refinement “{result.phase}”",
        submit=SAVE,
        status=_status(form),
    )


# --- raw files, jobs and results --------------------------------------------------------------


@rules.guard("void", "characterization.rawfile", lookup={"sha256": "sha256"})
@require_http_methods(["GET", "POST"])
def raw_file_void(request: HttpRequest, code: str, sha256: str) -> HttpResponse:
    raw = get_object_or_404(RawFile, sha256=sha256, links__measurement__sample__code=code)
    url = reverse("measurements:detail", args=[code]) + "#files"
    return void_page(request, record=raw, url=url, void=corrections.raw_file_void, raw_file=raw)


@rules.guard("void", "jobs.analysisjob", lookup=BY_PK)
@require_http_methods(["GET", "POST"])
def job_void(request: HttpRequest, pk: int) -> HttpResponse:
    job = get_object_or_404(AnalysisJob, pk=pk)
    url = reverse("jobs:detail", args=[pk])
    return void_page(request, record=job, url=url, void=corrections.analysis_job_void, job=job)


@rules.guard("void", "jobs.analysisresult", lookup={"jobs": "pk"})
@require_http_methods(["GET", "POST"])
def result_void(request: HttpRequest, pk: int) -> HttpResponse:
    job = get_object_or_404(AnalysisJob.objects.select_related("result"), pk=pk)
    if job.result is None:
        raise Http404(f"job {pk} has no result")
    url = reverse("jobs:detail", args=[pk])
    return void_page(
        request,
        record=job.result,
        url=url,
        void=corrections.analysis_result_void,
        result=job.result,
    )
