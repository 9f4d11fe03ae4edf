"""The analyses part of the measurement page (loaded into it): jobs (live), results (plots),
the file table, voltage profiles, and running a definition or a voltage fade over a window."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from characterization import file_states, profiles
from characterization.jobs import enqueue, presenting, queries, result_warnings
from characterization.jobs.definitions import table_kind_of
from characterization.jobs.forms import FadeWindowForm
from characterization.jobs.inputs import cycling_files, files_for
from characterization.jobs.models import AnalysisJob
from characterization.jobs.spec import active_mass_of
from characterization.models import Measurement
from lims import rules

MEASUREMENT = {"sample__code": "code"}


def measurement_or_404(code: str) -> Measurement:
    try:
        return queries.measurement_by_code(code)
    except Measurement.DoesNotExist as exc:
        raise Http404(f"no measurement {code}") from exc


def _jobs_context(measurement: Measurement) -> dict:
    rows = queries.jobs_of_measurement(measurement)
    return {
        "measurement": measurement,
        "jobs": rows,
        "active": queries.any_active(rows),
        "finished": sum(1 for job in rows if not job.is_active),
    }


def _results_context(measurement: Measurement) -> dict:
    done = queries.latest_results_of_measurement(measurement)
    files = result_warnings.results_by_file(done)
    for group in files:
        for result in group.results:
            job = result["job"]
            result.update(
                figures=presenting.figures_of(job),
                summary=presenting.summary_rows(job),
                fade=presenting.fade_window(job),
            )
    return {"measurement": measurement, "result_files": files}


def _analyses_context(measurement: Measurement, **extra) -> dict:
    table_kind = table_kind_of(measurement.measurement_type)
    cycling = table_kind == "cycling"
    return {
        **_jobs_context(measurement),
        **_results_context(measurement),
        "definitions": queries.runnable_definitions(measurement),
        "run_files": files_for(measurement, table_kind) if table_kind else [],
        "cycling": cycling,
        "files": cycling_files(measurement) if cycling else [],  # voltage profiles, fade
        "fade_form": FadeWindowForm(),
        "fade_definition": queries.fade_definition(),
        **extra,
    }


@require_GET
def measurement_analyses(request: HttpRequest, code: str) -> HttpResponse:
    """Jobs (live), results (plots) and the run form of one measurement."""
    measurement = measurement_or_404(code)
    return render(
        request,
        "characterization/jobs/_measurement_analyses.html",
        _analyses_context(measurement),
    )


@require_GET
def measurement_files(request: HttpRequest, code: str) -> HttpResponse:
    """The raw-file table with what Kiln made of each file (polled while one is being read)."""
    measurement = measurement_or_404(code)
    return render(
        request,
        "characterization/jobs/_raw_files.html",
        {"measurement": measurement, "file_rows": file_states.file_rows(measurement)},
    )


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
        "fade_definition": queries.fade_definition(),
        "files": cycling_files(measurement),
    }
    template = "characterization/jobs/_fade_form.html"
    if not request.htmx:
        template = "characterization/jobs/fade_form_page.html"  # without JavaScript
    return render(request, template, context, status=status)


@rules.guard("run", "characterization.measurement", lookup=MEASUREMENT)
@require_POST
def measurement_fade(request: HttpRequest, code: str) -> HttpResponse:
    """Queue the voltage fade over a chosen window on every cycler file of the measurement."""
    measurement = measurement_or_404(code)
    form = FadeWindowForm(request.POST)
    definition = queries.fade_definition()
    files = cycling_files(measurement)
    if definition is None or not files:
        form.add_error(None, "There is no voltage-fade analysis to run on this measurement.")
    if not form.is_valid():
        return _fade_form(request, measurement, form)
    chosen = form.parameters()
    try:
        with transaction.atomic():
            jobs = [
                enqueue.job_enqueue(
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
    if note := queries.broker_note(jobs):
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
    measurement = measurement_or_404(code)
    context = _jobs_context(measurement)
    response = render(request, "characterization/jobs/_measurement_jobs.html", context)
    if request.GET.get("seen", "") != str(context["finished"]):
        response["HX-Trigger"] = "kiln-results-changed"
    return response


@require_GET
def measurement_results(request: HttpRequest, code: str) -> HttpResponse:
    measurement = measurement_or_404(code)
    return render(
        request,
        "characterization/jobs/_measurement_results.html",
        _results_context(measurement),
    )


@require_GET
def measurement_profiles(request: HttpRequest, code: str) -> HttpResponse:
    """Voltage vs capacity of the cycles asked for (default: 1, 2, 10 and the last)."""
    measurement = measurement_or_404(code)
    raw = queries.cycling_file(measurement, request.GET.get("file", ""))
    if raw is None:
        raise Http404("no such cycler file in this measurement")
    table = queries.cached_table(raw, measurement)
    context = {"measurement": measurement, "raw": raw, "cycles_text": "", "error": ""}
    if table is None:
        context["error"] = "The profiles appear once an analysis has read this file."
        if raw.read_state in file_states.UNREADABLE_STATES:  # they never will: say why
            context["error"] = f"No profiles: {file_states.read_sentence(raw)}"
        return render(request, "characterization/jobs/_profiles.html", context)
    text = request.GET.get("cycles", "").strip()
    try:
        cycles = profiles.parse_cycles(text) if text else profiles.default_cycles(table)
    except ValueError as exc:
        context.update(error=str(exc), cycles_text=text)
        return render(request, "characterization/jobs/_profiles.html", context)
    mass = active_mass_of(measurement)
    figure = profiles.voltage_profile_figure(table, cycles, active_mass_mg=mass)
    known = set(table["cycle"].unique().tolist())
    missing = [c for c in cycles if c not in known]
    context.update(
        cycles_text=", ".join(map(str, cycles)),
        figures=[presenting.Figure(f"profiles-{raw.sha256[:12]}", "profiles", figure)],
        missing=missing,
    )
    return render(request, "characterization/jobs/_profiles.html", context)


@rules.guard("run", "characterization.measurement", lookup=MEASUREMENT)
@require_POST
def measurement_run(request: HttpRequest, code: str) -> HttpResponse:
    measurement = measurement_or_404(code)
    chosen = request.POST.get("definition", "")  # an id; anything else chooses nothing
    definitions = queries.runnable_definitions(measurement)
    definition = definitions.filter(pk=chosen).first() if chosen.isdigit() else None
    if definition is None:
        messages.error(request, "Choose an analysis to run.")
    else:
        jobs = enqueue.jobs_run_definition(
            definition=definition, measurement=measurement, user=request.user
        )
        if jobs and (note := queries.broker_note(jobs)):
            messages.warning(request, f"{definition.name}: {note}")
        elif jobs:
            messages.success(request, f"{definition.name}: {len(jobs)} job(s) started.")
        else:
            messages.error(request, "This measurement has no file this analysis reads.")
    return redirect(reverse("measurements:detail", args=[code]) + "#analyses")
