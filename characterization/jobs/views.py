"""Pages of the Jobs section: the job list, a job's page, cancelling and re-running, and the
comparison of cells. Parse the request, call one service or query, render; htmx polls only
while a job is queued or running."""

from __future__ import annotations

import re

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_GET, require_POST

from characterization.jobs import compare as comparing
from characterization.jobs import enqueue, presenting, queries, result_warnings
from characterization.jobs.forms import JobFilterForm
from characterization.jobs.models import AnalysisJob
from characterization.models import CoinCell
from lims import rules
from lims.models import Sample, SampleKind

JOB = {"pk": "pk"}


@require_GET
def jobs_index(request: HttpRequest) -> HttpResponse:
    form = JobFilterForm(request.GET or None)
    page = queries.jobs_for_index(form.filters(), request.GET)
    context = {
        "filter_form": form,
        "page": page,
        "jobs": page.object_list,
        "active": queries.any_active(page.object_list),
        "counts": queries.status_counts(),
        "poll_url": request.get_full_path(),
    }
    if request.htmx:
        return render(request, "characterization/jobs/_jobs_table.html", context)
    return render(request, "characterization/jobs/index.html", context)


def job_or_404(pk: int, fetch=queries.job_detail) -> AnalysisJob:
    try:
        return fetch(pk)
    except AnalysisJob.DoesNotExist as exc:
        raise Http404(f"no analysis job {pk}") from exc


@require_GET
def job_detail(request: HttpRequest, pk: int) -> HttpResponse:
    if request.htmx and request.GET.get("poll"):
        job = job_or_404(pk, queries.job_status)
        response = render(request, "characterization/jobs/_job_status.html", {"job": job})
        if not job.is_active:
            response["HX-Refresh"] = "true"  # finished: reload once to draw the results
        return response
    job = job_or_404(pk)
    context = {
        "job": job,
        "figures": presenting.figures_of(job),
        "summary": presenting.summary_rows(job),
        "provenance": presenting.provenance(job),
        "tables": job.result.artifacts if job.result else [],
        "cell": CoinCell.objects.filter(sample=job.measurement.subject).first(),
        "warnings": result_warnings.result_warnings(job),
        "fade": presenting.fade_window(job),
    }
    return render(request, "characterization/jobs/detail.html", context)


def _back(request: HttpRequest, default: str) -> HttpResponse:
    target = request.POST.get("next", "")
    if not url_has_allowed_host_and_scheme(target, {request.get_host()}):
        target = default
    return redirect(target or default)


@rules.guard("run", "jobs.analysisjob", lookup=JOB)
@require_POST
def job_cancel(request: HttpRequest, pk: int) -> HttpResponse:
    job = job_or_404(pk)
    if enqueue.job_cancel(job=job, user=request.user):
        messages.success(request, f"Job {job.pk} cancelled.")
    else:
        messages.info(request, f"Job {job.pk} had already finished; nothing to cancel.")
    return _back(request, reverse("jobs:detail", args=[job.pk]))


@rules.guard("run", "jobs.analysisjob", lookup=JOB)
@require_POST
def job_rerun(request: HttpRequest, pk: int) -> HttpResponse:
    job = job_or_404(pk)
    new = enqueue.job_rerun(job=job, user=request.user)
    if new.pk == job.pk:
        messages.info(request, f"Job {job.pk} is still {job.get_status_display().lower()}.")
    elif new.reused:
        messages.info(request, f"Job {new.pk}: identical inputs, the stored result was reused.")
    elif note := queries.broker_note([new]):
        messages.warning(request, f"Job {new.pk}: {note}")
    else:
        messages.success(request, f"Job {new.pk} queued.")
    return redirect("jobs:detail", pk=new.pk)


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
    candidates = comparing.cells_with_results()
    context = {
        "cell_choices": candidates,
        "powder_choices": comparing.powders_with_results(candidates),
        "chosen_cells": {s.code for s in cells},
        "chosen_groups": {s.code for s in groups},
        "flagged_choices": comparing.flagged_cell_ids(c.sample_id for c in candidates),
        "group_codes": " ".join(s.code for s in groups),
        "include_flagged": include_flagged,
        "comparison": (
            comparing.compare(cells=cells, groups=groups, include_flagged=include_flagged)
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
