"""Pages of the Jobs section and the analyses part of the measurement page: parse the request,
call one service or query, render. htmx polls only while a job is queued or running."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterator

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import Http404, HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_GET, require_POST

from characterization import job_queries, job_services, profiles
from characterization.forms import KilnFormMixin
from characterization.models import AnalysisJob, CoinCell, JobStatus, Measurement
from lims import rules, tabular
from lims.models import Sample, SampleKind

XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
JOB = {"pk": "pk"}
MEASUREMENT = {"sample__code": "code"}

# --- jobs section -----------------------------------------------------------------------------


class JobFilterForm(forms.Form):
    status = forms.ChoiceField(
        choices=[("", "any status"), *JobStatus.choices], required=False, label="Status"
    )
    q = forms.CharField(
        required=False,
        label="Search",
        widget=forms.TextInput(attrs={"placeholder": "cell, measurement, file or analysis"}),
    )
    void = forms.BooleanField(required=False, label="Show void jobs")

    def filters(self) -> job_queries.JobFilters:
        if not self.is_valid():
            return job_queries.JobFilters()
        return job_queries.JobFilters(
            status=self.cleaned_data["status"],
            q=self.cleaned_data["q"].strip(),
            void=self.cleaned_data["void"],
        )


@require_GET
def jobs_index(request: HttpRequest) -> HttpResponse:
    form = JobFilterForm(request.GET or None)
    rows = job_queries.jobs_for_index(form.filters())
    context = {
        "filter_form": form,
        "jobs": rows,
        "active": job_queries.any_active(rows),
        "counts": job_queries.status_counts(),
        "poll_url": request.get_full_path(),
    }
    if request.htmx:
        return render(request, "characterization/jobs/_jobs_table.html", context)
    return render(request, "characterization/jobs/index.html", context)


def _job_or_404(pk: int, fetch=job_queries.job_detail) -> AnalysisJob:
    try:
        return fetch(pk)
    except AnalysisJob.DoesNotExist as exc:
        raise Http404(f"no analysis job {pk}") from exc


@require_GET
def job_detail(request: HttpRequest, pk: int) -> HttpResponse:
    if request.htmx and request.GET.get("poll"):
        job = _job_or_404(pk, job_queries.job_status)
        response = render(request, "characterization/jobs/_job_status.html", {"job": job})
        if not job.is_active:
            response["HX-Refresh"] = "true"  # finished: reload once to draw the results
        return response
    job = _job_or_404(pk)
    context = {
        "job": job,
        "figures": job_queries.figures_of(job),
        "summary": job_queries.summary_rows(job),
        "provenance": job_queries.provenance(job),
        "tables": job.result.artifacts if job.result else [],
        "cell": CoinCell.objects.filter(sample=job.measurement.subject).first(),
        "warnings": job_queries.result_warnings(job),
        "fade": job_queries.fade_window(job),
    }
    return render(request, "characterization/jobs/detail.html", context)


def _back(request: HttpRequest, default: str) -> HttpResponse:
    target = request.POST.get("next", "")
    if not url_has_allowed_host_and_scheme(target, {request.get_host()}):
        target = default
    return redirect(target or default)


@rules.guard("run", "characterization.analysisjob", lookup=JOB)
@require_POST
def job_cancel(request: HttpRequest, pk: int) -> HttpResponse:
    job = _job_or_404(pk)
    if job_services.job_cancel(job=job, user=request.user):
        messages.success(request, f"Job {job.pk} cancelled.")
    else:
        messages.info(request, f"Job {job.pk} had already finished; nothing to cancel.")
    return _back(request, reverse("jobs:detail", args=[job.pk]))


@rules.guard("run", "characterization.analysisjob", lookup=JOB)
@require_POST
def job_rerun(request: HttpRequest, pk: int) -> HttpResponse:
    job = _job_or_404(pk)
    new = job_services.job_rerun(job=job, user=request.user)
    if new.pk == job.pk:
        messages.info(request, f"Job {job.pk} is still {job.get_status_display().lower()}.")
    elif new.reused:
        messages.info(request, f"Job {new.pk}: identical inputs, the stored result was reused.")
    elif note := job_queries.broker_note([new]):
        messages.warning(request, f"Job {new.pk}: {note}")
    else:
        messages.success(request, f"Job {new.pk} queued.")
    return redirect("jobs:detail", pk=new.pk)


@require_GET
def job_table_download(request: HttpRequest, pk: int, name: str, fmt: str) -> HttpResponse:
    """A result table as the stored CSV, or as an Excel workbook made from it with the
    result's plausibility warnings on a second sheet ("warnings")."""
    job = _job_or_404(pk)
    path = job_queries.artifact_file(job.result, name) if job.result else None
    if path is None:
        raise Http404(f"job {pk} has no table {name}")
    stem = _stem(job, name)
    header, rows = _stored_table(path)
    if fmt == "csv":  # the stored table, streamed, every cell safe to open in a spreadsheet
        response = StreamingHttpResponse(
            tabular.csv_chunks(header, rows, bom=False), content_type="text/csv"
        )
        response["Content-Disposition"] = f'attachment; filename="{stem}.csv"'
        return response
    warning_header, warning_rows = job_queries.warning_table([job])
    out = io.BytesIO()
    tabular.write_workbook(out, [(name, header, rows), ("warnings", warning_header, warning_rows)])
    return _attachment(out.getvalue(), f"{stem}.xlsx", XLSX_TYPE)


def _stored_table(path) -> tuple[list[str], Iterator[list[str]]]:
    """The header of a stored result table and its rows, read as they are consumed."""

    def rows() -> Iterator[list[str]]:
        with path.open(encoding="utf-8", newline="") as source:
            reader = csv.reader(source)
            next(reader, None)
            yield from reader

    with path.open(encoding="utf-8", newline="") as source:
        header = next(csv.reader(source), [])
    return header, rows()


@require_GET
def job_warnings_download(request: HttpRequest, pk: int) -> HttpResponse:
    """The result's plausibility warnings as CSV (one row per warning; cycles space-separated)."""
    job = _job_or_404(pk)
    if job.result is None:
        raise Http404(f"job {pk} has no result")
    header, rows = job_queries.warning_table([job])
    return _attachment(tabular.write_csv(header, rows), f"{_stem(job, 'warnings')}.csv")


def _stem(job: AnalysisJob, name: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", f"{job.measurement.sample.code}_{job.kind}_{name}")


def _attachment(content: bytes, filename: str, content_type: str = "text/csv") -> HttpResponse:
    response = HttpResponse(content, content_type=content_type)
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


# --- the analyses of one measurement (loaded into the measurement page) ------------------------


def _measurement_or_404(code: str) -> Measurement:
    try:
        return job_queries.measurement_by_code(code)
    except Measurement.DoesNotExist as exc:
        raise Http404(f"no measurement {code}") from exc


def _jobs_context(measurement: Measurement) -> dict:
    rows = job_queries.jobs_of_measurement(measurement)
    return {
        "measurement": measurement,
        "jobs": rows,
        "active": job_queries.any_active(rows),
        "finished": sum(1 for job in rows if not job.is_active),
    }


def _results_context(measurement: Measurement) -> dict:
    done = job_queries.latest_results_of_measurement(measurement)
    files = job_queries.results_by_file(done)
    for group in files:
        for result in group.results:
            job = result["job"]
            result.update(
                figures=job_queries.figures_of(job),
                summary=job_queries.summary_rows(job),
                fade=job_queries.fade_window(job),
            )
    return {"measurement": measurement, "result_files": files}


def _analyses_context(measurement: Measurement, **extra) -> dict:
    return {
        **_jobs_context(measurement),
        **_results_context(measurement),
        "definitions": job_queries.runnable_definitions(),
        "files": job_services.cycling_files(measurement),
        "fade_form": FadeWindowForm(),
        "fade_definition": job_queries.fade_definition(),
        **extra,
    }


@require_GET
def measurement_analyses(request: HttpRequest, code: str) -> HttpResponse:
    """Jobs (live), results (plots) and the run form of one measurement."""
    measurement = _measurement_or_404(code)
    return render(
        request,
        "characterization/jobs/_measurement_analyses.html",
        _analyses_context(measurement),
    )


@require_GET
def measurement_files(request: HttpRequest, code: str) -> HttpResponse:
    """The raw-file table with what Kiln made of each file (polled while one is being read)."""
    measurement = _measurement_or_404(code)
    return render(
        request,
        "characterization/jobs/_raw_files.html",
        {"measurement": measurement, "file_rows": job_queries.file_rows(measurement)},
    )


@require_GET
def measurement_warnings_download(request: HttpRequest, code: str) -> HttpResponse:
    """The warnings of the measurement's latest results as CSV."""
    measurement = _measurement_or_404(code)
    done = job_queries.latest_results_of_measurement(measurement)
    header, rows = job_queries.warning_table(done)
    return _attachment(tabular.write_csv(header, rows), f"{code}_warnings.csv")


@require_GET
def cell_warnings_download(request: HttpRequest, code: str) -> HttpResponse:
    """The warnings of the latest results of the cell's measurements as CSV."""
    cell = Sample.objects.filter(code=code, kind=SampleKind.CELL).first()
    if cell is None:
        raise Http404(f"no cell {code}")
    header, rows = job_queries.warning_table(job_queries.latest_results_of_cell(cell))
    return _attachment(tabular.write_csv(header, rows), f"{code}_warnings.csv")


class FadeWindowForm(KilnFormMixin, forms.Form):
    """Voltage fade over cycles first–last; both empty: the default window (from the first
    complete cycle after formation to the last complete one)."""

    first_cycle = forms.IntegerField(
        required=False,
        min_value=0,
        label="First cycle",
        widget=forms.NumberInput(attrs={"placeholder": "default", "step": 1, "min": 0}),
    )
    last_cycle = forms.IntegerField(
        required=False,
        min_value=0,
        label="Last cycle",
        widget=forms.NumberInput(attrs={"placeholder": "default", "step": 1, "min": 0}),
    )

    def clean(self):
        data = super().clean()
        first, last = data.get("first_cycle"), data.get("last_cycle")
        if first is not None and last is not None and first > last:
            self.add_error("last_cycle", f"The last cycle must not come before cycle {first}.")
        return data

    def parameters(self) -> dict:
        return {
            "first_cycle": self.cleaned_data["first_cycle"],
            "last_cycle": self.cleaned_data["last_cycle"],
        }


def _fade_errors(form: FadeWindowForm, exc: ValidationError) -> None:
    """The service names a bad parameter "parameters.first_cycle": show it on that field."""
    for key, errors in exc.message_dict.items():
        name = key.removeprefix("parameters.")
        for message in errors:
            form.add_error(name if name in form.fields else None, message)


def _fade_form(request: HttpRequest, measurement: Measurement, form, status: int = 200):
    context = {
        "measurement": measurement,
        "fade_form": form,
        "fade_definition": job_queries.fade_definition(),
        "files": job_services.cycling_files(measurement),
    }
    template = "characterization/jobs/_fade_form.html"
    if not request.htmx:
        template = "characterization/jobs/fade_form_page.html"  # without JavaScript
    return render(request, template, context, status=status)


@rules.guard("run", "characterization.measurement", lookup=MEASUREMENT)
@require_POST
def measurement_fade(request: HttpRequest, code: str) -> HttpResponse:
    """Queue the voltage fade over a chosen window on every cycler file of the measurement."""
    measurement = _measurement_or_404(code)
    form = FadeWindowForm(request.POST)
    definition = job_queries.fade_definition()
    files = job_services.cycling_files(measurement)
    if definition is None or not files:
        form.add_error(None, "There is no voltage-fade analysis to run on this measurement.")
    if not form.is_valid():
        return _fade_form(request, measurement, form)
    chosen = form.parameters()
    try:
        with transaction.atomic():
            jobs = [
                job_services.job_enqueue(
                    definition=definition,
                    measurement=measurement,
                    raw_file=raw,
                    user=request.user,
                    parameters=chosen,
                )
                for raw in files
            ]
    except ValidationError as exc:
        _fade_errors(form, exc)
        return _fade_form(request, measurement, form)
    notes = _fade_notes(jobs, chosen)
    if note := job_queries.broker_note(jobs):
        notes.append((messages.WARNING, note))
    if not request.htmx:
        for level, text in notes:
            messages.add_message(request, level, text)
        return redirect(reverse("measurements:detail", args=[code]) + "#analyses")
    # The whole analyses part again: its jobs table now polls the queued fade.
    response = render(
        request,
        "characterization/jobs/_measurement_analyses.html",
        _analyses_context(measurement, fade_notes=notes),
    )
    response["HX-Retarget"] = "#analyses"
    response["HX-Reswap"] = "innerHTML"
    return response


def _fade_notes(jobs: list[AnalysisJob], chosen: dict) -> list[tuple[int, str]]:
    """What happened on each file, as (message level, sentence)."""
    first, last = chosen["first_cycle"], chosen["last_cycle"]
    if first is None and last is None:
        window = "the default window"
    else:
        window = f"cycles {'first' if first is None else first}–{'last' if last is None else last}"
    notes = []
    for job in jobs:
        name = job.raw_file.original_name
        asked = {k: job.parameters.get(k) for k in chosen}
        if asked != chosen:  # job_enqueue returned a fade already queued or running
            notes.append(
                (
                    messages.WARNING,
                    f"{name}: a voltage fade (job {job.pk}) is already "
                    f"{job.get_status_display().lower()}; run {window} again when it has "
                    "finished.",
                )
            )
        elif job.reused:
            notes.append((messages.INFO, f"{name}: voltage fade over {window}: stored result."))
        else:
            notes.append((messages.SUCCESS, f"{name}: voltage fade over {window} queued."))
    return notes


@require_GET
def measurement_jobs(request: HttpRequest, code: str) -> HttpResponse:
    """The polled jobs table; tells the results part to reload when a job has finished."""
    measurement = _measurement_or_404(code)
    context = _jobs_context(measurement)
    response = render(request, "characterization/jobs/_measurement_jobs.html", context)
    if request.GET.get("seen", "") != str(context["finished"]):
        response["HX-Trigger"] = "kiln-results-changed"
    return response


@require_GET
def measurement_results(request: HttpRequest, code: str) -> HttpResponse:
    measurement = _measurement_or_404(code)
    return render(
        request,
        "characterization/jobs/_measurement_results.html",
        _results_context(measurement),
    )


@require_GET
def measurement_profiles(request: HttpRequest, code: str) -> HttpResponse:
    """Voltage vs capacity of the cycles asked for (default: 1, 2, 10 and the last)."""
    measurement = _measurement_or_404(code)
    raw = job_queries.cycling_file(measurement, request.GET.get("file", ""))
    if raw is None:
        raise Http404("no such cycler file in this measurement")
    table = job_queries.cached_table(raw, measurement)
    context = {"measurement": measurement, "raw": raw, "cycles_text": "", "error": ""}
    if table is None:
        context["error"] = "The profiles appear once an analysis has read this file."
        if raw.read_state in job_queries.UNREADABLE_STATES:  # they never will: say why
            context["error"] = f"No profiles: {job_queries.read_sentence(raw)}"
        return render(request, "characterization/jobs/_profiles.html", context)
    text = request.GET.get("cycles", "").strip()
    try:
        cycles = profiles.parse_cycles(text) if text else profiles.default_cycles(table)
    except ValueError as exc:
        context.update(error=str(exc), cycles_text=text)
        return render(request, "characterization/jobs/_profiles.html", context)
    mass = job_services.active_mass_of(measurement)
    figure = profiles.voltage_profile_figure(table, cycles, active_mass_mg=mass)
    known = set(table["cycle"].unique().tolist())
    missing = [c for c in cycles if c not in known]
    context.update(
        cycles_text=", ".join(map(str, cycles)),
        figures=[job_queries.Figure(f"profiles-{raw.sha256[:12]}", "profiles", figure)],
        missing=missing,
    )
    return render(request, "characterization/jobs/_profiles.html", context)


@rules.guard("run", "characterization.measurement", lookup=MEASUREMENT)
@require_POST
def measurement_run(request: HttpRequest, code: str) -> HttpResponse:
    measurement = _measurement_or_404(code)
    chosen = request.POST.get("definition", "")  # an id; anything else chooses nothing
    definitions = job_queries.runnable_definitions()
    definition = definitions.filter(pk=chosen).first() if chosen.isdigit() else None
    if definition is None:
        messages.error(request, "Choose an analysis to run.")
    else:
        jobs = job_services.jobs_run_definition(
            definition=definition, measurement=measurement, user=request.user
        )
        if jobs and (note := job_queries.broker_note(jobs)):
            messages.warning(request, f"{definition.name}: {note}")
        elif jobs:
            messages.success(request, f"{definition.name}: {len(jobs)} job(s) started.")
        else:
            messages.error(request, "This measurement has no cycler file to analyse.")
    return redirect(reverse("measurements:detail", args=[code]) + "#analyses")


# --- comparison -------------------------------------------------------------------------------


def _samples(codes: list[str], *, kinds=None) -> list[Sample]:
    wanted = [c.strip() for code in codes for c in re.split(r"[\s,;]+", code) if c.strip()]
    found = Sample.objects.filter(code__in=wanted)
    if kinds:
        found = found.filter(kind__in=kinds)
    by_code = {s.code: s for s in found}
    return [by_code[c] for c in dict.fromkeys(wanted) if c in by_code]


@require_GET
def compare(request: HttpRequest) -> HttpResponse:
    """Overlay cells (one line each) and groups of cells under chosen powders (mean ± sd)."""
    cells = _samples(request.GET.getlist("cells"), kinds=[SampleKind.CELL])
    groups = _samples(request.GET.getlist("groups"))
    include_flagged = request.GET.get("include_flagged", "") in ("1", "on", "true")
    candidates = job_queries.cells_with_results()
    context = {
        "cell_choices": candidates,
        "powder_choices": job_queries.powders_with_results(candidates),
        "chosen_cells": {s.code for s in cells},
        "chosen_groups": {s.code for s in groups},
        "flagged_choices": job_queries.flagged_cell_ids(c.sample_id for c in candidates),
        "group_codes": " ".join(s.code for s in groups),
        "include_flagged": include_flagged,
        "comparison": (
            job_queries.compare(cells=cells, groups=groups, include_flagged=include_flagged)
            if cells or groups
            else None
        ),
        "include_url": _with_include_flagged(request),
    }
    return render(request, "characterization/jobs/compare.html", context)


def _with_include_flagged(request: HttpRequest) -> str:
    query = request.GET.copy()
    query["include_flagged"] = "1"
    return f"{reverse('jobs:compare')}?{query.urlencode()}"
