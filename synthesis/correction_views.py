"""Correction and void pages of a batch (lims.correction_views renders them)."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.urls import reverse
from django.views.decorators.http import require_http_methods

from lims import rules
from lims.correction_forms import add_service_errors
from lims.correction_views import record_form, void_page
from synthesis import corrections, queries
from synthesis.correction_forms import BatchCorrectionForm

BATCH = {"pk": "pk"}
_INTRO = (
    "Change what was recorded wrongly and say why: the batch's audit trail keeps the old and "
    "the new values with your reason. A corrected amount also corrects what was taken from its "
    "lot; the yield stays within the theoretical yield of what was weighed."
)


@rules.guard("change", "synthesis.batch", lookup=BATCH)
@require_http_methods(["GET", "POST"])
def batch_correct(request: HttpRequest, pk: int) -> HttpResponse:
    batch = get_object_or_404(queries.batches_for_page(), pk=pk)
    url = reverse("synthesis:batch_detail", args=[batch.pk])
    form = BatchCorrectionForm(
        request.POST or None, batch=batch, reagents=queries.batch_reagents(batch)
    )
    if request.method == "POST" and form.is_valid():
        try:
            done = corrections.batch_correct(
                batch=batch, user=request.user, **form.service_kwargs()
            )
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, f"{batch.code} corrected: {done.summary()}.")
            return redirect(url)
    return record_form(
        request,
        form,
        record=batch,
        url=url,
        title="Correct",
        intro=_INTRO,
        submit="Save the correction",
        status=400 if form.errors else 200,
    )


@rules.guard("void", "synthesis.batch", lookup=BATCH)
@require_http_methods(["GET", "POST"])
def batch_void(request: HttpRequest, pk: int) -> HttpResponse:
    batch = get_object_or_404(queries.batches_for_page(), pk=pk)
    url = reverse("synthesis:batch_detail", args=[batch.pk])
    return void_page(request, record=batch, url=url, void=corrections.batch_void, batch=batch)
