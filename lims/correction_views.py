"""Correction and void pages of samples, and the two helpers every app's pages share: parse a
form with a reason, call one service, redirect to the record with a message."""

from __future__ import annotations

from collections.abc import Callable

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods

from lims import corrections, rules, stock_services
from lims.correction_forms import (
    SampleCorrectionForm,
    StockCorrectionForm,
    VoidForm,
    add_service_errors,
    changed_values,
)
from lims.sample_queries import sample_by_code
from lims.stock import grams_text
from lims.stock_queries import stock_of
from lims.voiding import describe

SAMPLE = {"code": "code"}


def record_form(
    request: HttpRequest,
    form,
    *,
    record,
    url: str,
    title: str,
    submit: str,
    intro: str = "",
    danger: bool = False,
    status: int = 200,
) -> HttpResponse:
    """The page of a correction or void form of `record` (whose own page is `url`)."""
    context = {
        "form": form,
        "title": title,
        "submit": submit,
        "intro": intro,
        "danger": danger,
        "record_url": url,
        "record_label": getattr(record, "code", None) or str(record),
    }
    return render(request, "lims/record_form.html", context, status=status)


def void_page(request: HttpRequest, *, record, url: str, void: Callable, **service_kwargs):
    """GET: the void form; POST: `void(user=..., reason=..., **service_kwargs)` then back to
    the record's page, which shows the void banner."""
    form = VoidForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            void(user=request.user, reason=form.cleaned_data["reason"], **service_kwargs)
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, f"{_sentence(describe(record))} is void; it is kept.")
            return redirect(url)
    intro = (
        f"{_sentence(describe(record))} will be kept with its lineage and history, marked void "
        "with your name and reason, and left out of lists unless they are asked to show void "
        "records. Nothing is deleted."
    )
    return record_form(
        request,
        form,
        record=record,
        url=url,
        title="Void",
        submit="Void it",
        intro=intro,
        danger=True,
        status=400 if form.errors else 200,
    )


def _sentence(text: str) -> str:
    return text[:1].upper() + text[1:]


def _sample(code: str):
    sample = sample_by_code(code)
    if sample is None:
        raise Http404(f"No sample {code}")
    return sample


@rules.guard("change", "lims.sample", lookup=SAMPLE)
@require_http_methods(["GET", "POST"])
def sample_correct(request: HttpRequest, code: str) -> HttpResponse:
    sample = _sample(code)
    url = f"/samples/{sample.code}/"
    initial = {name: getattr(sample, name) for name in corrections.SAMPLE_FIELDS}
    form = SampleCorrectionForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            changes = corrections.sample_correct(
                sample=sample,
                user=request.user,
                reason=form.cleaned_data["reason"],
                **changed_values(form, corrections.SAMPLE_FIELDS),
            )
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            what = ", ".join(change.label for change in changes)
            messages.success(request, f"{sample.code}: {what} corrected.")
            return redirect(url)
    return record_form(
        request,
        form,
        record=sample,
        url=url,
        title="Correct",
        submit="Save the correction",
        status=400 if form.errors else 200,
    )


@rules.guard("void", "lims.sample", lookup=SAMPLE)
@require_http_methods(["GET", "POST"])
def sample_void(request: HttpRequest, code: str) -> HttpResponse:
    sample = _sample(code)
    return void_page(
        request,
        record=sample,
        url=f"/samples/{sample.code}/",
        void=corrections.sample_void,
        sample=sample,
    )


@rules.guard("change", "lims.sample", lookup=SAMPLE)
@require_http_methods(["GET", "POST"])
def sample_stock_correct(request: HttpRequest, code: str) -> HttpResponse:
    """Add a signed amount to a powder's stock, with a reason (its owner or a lab manager)."""
    sample = _sample(code)
    url = f"/samples/{sample.code}/"
    form = StockCorrectionForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            correction = stock_services.stock_correct(
                sample=sample,
                user=request.user,
                delta_g=form.cleaned_data["delta_g"],
                reason=form.cleaned_data["reason"],
            )
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            change = grams_text(correction.delta_g)
            messages.success(request, f"{sample.code}: stock corrected by {change}.")
            return redirect(url)
    stock = stock_of(sample.pk)
    now = f"has {stock.summary()}" if stock.tracked else "has no recorded amount"
    intro = (
        f"{sample.code} {now}. The change is added to what is left and kept with your name "
        "and reason; a wrong correction is undone by another one."
    )
    return record_form(
        request,
        form,
        record=sample,
        url=url,
        title="Correct the stock",
        submit="Save the correction",
        intro=intro,
        status=400 if form.errors else 200,
    )
