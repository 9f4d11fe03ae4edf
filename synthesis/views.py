"""Synthesis pages. Each view parses a form, calls one service, renders or redirects;
htmx requests get a partial."""

from __future__ import annotations

import re

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from lims import rules
from synthesis import queries, services
from synthesis.chemistry import ChemistryError, TheoreticalYield
from synthesis.forms import (
    ActualsForm,
    BatchFilterForm,
    BatchPlanForm,
    ChemicalForm,
    CompleteForm,
    FailForm,
    LotForm,
    SeriesForm,
    StepLogForm,
    apply_errors,
    lot_create_kwargs,
)
from synthesis.models import Batch, BatchStepLog, Chemical, Recipe, Series
from synthesis.planning import batch_theoretical_yield
from synthesis.recipe_forms import RecipeEditor, StepForm
from synthesis.services import BatchStateError

PAGE_SIZE = 50


# Who may do what is lims.rules' decision: each writing view declares its rule with
# rules.guard (403 with a sentence); the record in the URL is checked before the view runs.
BATCH = {"pk": "pk"}


# --- index and recipes ---------------------------------------------------------------------


@require_GET
def index(request: HttpRequest) -> HttpResponse:
    filters = BatchFilterForm(request.GET or None)
    page = Paginator(queries.batch_list(filters.filters()), PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    context = {
        "filters": filters,
        "page": page,
        "status_counts": queries.status_counts(),
        "recipes": queries.latest_recipes(),
        "query": _query_without_page(request),
    }
    template = "synthesis/_batch_table.html" if request.htmx else "synthesis/index.html"
    return render(request, template, context)


def _query_without_page(request: HttpRequest) -> str:
    query = request.GET.copy()
    query.pop("page", None)
    return query.urlencode()


@require_GET
def recipe_detail(request: HttpRequest, pk: int) -> HttpResponse:
    recipe = get_object_or_404(Recipe.objects.select_related("created_by"), pk=pk)
    versions = queries.recipe_versions(recipe)
    context = {
        "recipe": recipe,
        "lines": queries.recipe_lines(recipe),
        "steps": recipe.steps.order_by("order"),
        "versions": versions,
        "latest": max(v.version for v in versions),
        "used": recipe.batches.exists(),
        "can_edit": rules.allowed(request.user, "change", recipe),
    }
    return render(request, "synthesis/recipe_detail.html", context)


@rules.guard("create", "synthesis.recipe")
@require_http_methods(["GET", "POST"])
def recipe_new(request: HttpRequest) -> HttpResponse:
    return _recipe_editor(request, None)


@rules.guard("change", "synthesis.recipe", lookup={"pk": "pk"})
@require_http_methods(["GET", "POST"])
def recipe_edit(request: HttpRequest, pk: int) -> HttpResponse:
    return _recipe_editor(request, get_object_or_404(Recipe, pk=pk))


def _recipe_editor(request: HttpRequest, recipe: Recipe | None) -> HttpResponse:
    add = request.POST.get("add", "") if request.method == "POST" else ""
    add = add if add in ("lines", "steps") else ""
    editor = RecipeEditor(
        request.POST if request.method == "POST" else None, recipe=recipe, add=add
    )
    if request.method == "POST" and not add and editor.is_valid():
        try:
            if recipe is None:
                saved = services.recipe_create(user=request.user, data=editor.data())
            else:
                saved = services.recipe_revise(user=request.user, recipe=recipe, data=editor.data())
        except ValidationError as err:
            editor.apply_errors(err)
        else:
            if recipe is not None and saved.pk != recipe.pk:
                messages.success(request, f"{recipe} is used by batches, so this is {saved}.")
            else:
                messages.success(request, f"Saved {saved}.")
            return redirect("synthesis:recipe_detail", pk=saved.pk)
    used = recipe is not None and recipe.batches.exists()
    failed = request.method == "POST" and not add
    context = {"editor": editor, "recipe": recipe, "used": used, "failed": failed}
    return render(request, "synthesis/recipe_edit.html", context)


_STEP_PREFIX = re.compile(r"^steps-\d+$")


@rules.guard("create", "synthesis.recipe")
@require_GET
def step_fields(request: HttpRequest) -> HttpResponse:
    """htmx: the parameter inputs of the step kind just chosen in the recipe editor."""
    prefix = request.GET.get("prefix", "")
    if not _STEP_PREFIX.match(prefix):
        raise Http404("unknown step row")
    form = StepForm(prefix=prefix, initial={"kind": request.GET.get(f"{prefix}-kind", "")})
    return render(request, "synthesis/_step_params.html", {"step": form})


# --- planning ------------------------------------------------------------------------------


@require_GET
def batch_new(request: HttpRequest) -> HttpResponse:
    return render(request, "synthesis/batch_new.html", {"recipes": queries.latest_recipes()})


@rules.guard("create", "synthesis.batch")
@require_http_methods(["GET", "POST"])
def batch_plan(request: HttpRequest, pk: int) -> HttpResponse:
    recipe = get_object_or_404(Recipe, pk=pk)
    form = BatchPlanForm(request.POST or None, recipe=recipe)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            batch = services.batch_create(
                user=request.user,
                recipe=recipe,
                inputs=form.inputs(),
                tolerance_percent=data["tolerance_percent"],
                notes=data["notes"],
            )
        except ValidationError as err:
            apply_errors(form, err)
        else:
            messages.success(request, f"Planned {batch.code}; quantities are frozen.")
            return redirect("synthesis:batch_detail", pk=batch.pk)
    return render(request, "synthesis/batch_plan.html", _plan_context(recipe, form))


def _plan_context(recipe: Recipe, form: BatchPlanForm) -> dict:
    if not form.is_bound:
        form.plan = _initial_plan(form)
    return {"recipe": recipe, "form": form, "latest": queries.latest_version(recipe)}


def _initial_plan(form: BatchPlanForm):
    """Show the quantities for the recipe's reference mass before anything is typed."""
    recipe = form.recipe
    if recipe.is_coating:
        return None
    probe = BatchPlanForm(
        {
            "target_mass_g": recipe.reference_mass_g,
            "tolerance_percent": 2,
            **{
                name: (f.initial.pk if f.initial else "")
                for name, f in form.fields.items()
                if name.startswith("lot_")
            },
        },
        recipe=recipe,
    )
    return probe.plan if probe.is_valid() else None


@rules.guard("create", "synthesis.batch")
@require_POST
def batch_quantities(request: HttpRequest, pk: int) -> HttpResponse:
    """htmx: the quantities table for what is typed so far (nothing saved)."""
    recipe = get_object_or_404(Recipe, pk=pk)
    form = BatchPlanForm(request.POST, recipe=recipe)
    form.is_valid()
    return render(request, "synthesis/_quantities.html", {"form": form, "recipe": recipe})


@rules.guard("create", "synthesis.series")
@require_http_methods(["GET", "POST"])
def series_plan(request: HttpRequest, pk: int) -> HttpResponse:
    recipe = get_object_or_404(Recipe, pk=pk)
    form = SeriesForm(request.POST or None, recipe=recipe)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            series = services.series_create(
                user=request.user,
                recipe=recipe,
                parameter=data["parameter"],
                values=data["values"],
                inputs=form.inputs(),
                name=data["name"],
                tolerance_percent=data["tolerance_percent"],
                notes=data["notes"],
            )
        except ValidationError as err:
            apply_errors(form, err)
        else:
            messages.success(request, f"Planned {series.batches.count()} batches.")
            return redirect("synthesis:series_detail", pk=series.pk)
    return render(request, "synthesis/series_plan.html", {"recipe": recipe, "form": form})


@require_GET
def series_detail(request: HttpRequest, pk: int) -> HttpResponse:
    series = get_object_or_404(Series.objects.select_related("recipe", "created_by"), pk=pk)
    batches = queries.series_batches(series)
    context = {
        "series": series,
        "batches": batches,
        "weighing": queries.series_weighing_list(batches),
    }
    return render(request, "synthesis/series_detail.html", context)


# --- batches -------------------------------------------------------------------------------


def _batch_context(batch: Batch, **forms) -> dict:
    reagents = queries.batch_reagents(batch)
    return {
        "batch": batch,
        "reagents": reagents,
        "inputs": queries.planned_lines(batch),
        "logs": [
            (log, StepLogForm(instance=log, prefix=f"log-{log.pk}"))
            for log in queries.batch_step_logs(batch)
        ],
        "actuals_form": forms.get("actuals") or ActualsForm(reagents=reagents),
        "complete_form": forms.get("complete") or CompleteForm(),
        "fail_form": forms.get("fail") or FailForm(),
        "flagged": [r for r in reagents if r.flagged],
        "plan_warnings": [w for line in batch.plan.get("lines", []) for w in line["warnings"]],
        "missing_actuals": [
            r
            for r in reagents
            if r.planned_mass_g and not r.actual_recorded and r.line.in_stoichiometry
        ],
        **_theoretical(batch),
    }


def _theoretical(batch: Batch) -> dict:
    """The limiting reagent's theoretical yield and the yield as a percentage of it (None for a
    plan it cannot be read from)."""
    try:
        theoretical: TheoreticalYield | None = batch_theoretical_yield(batch)
    except ChemistryError:
        theoretical = None
    percent = None
    if theoretical is not None and theoretical.mass_g and batch.yield_mass_g is not None:
        percent = 100 * batch.yield_mass_g / theoretical.mass_g
    return {"theoretical": theoretical, "theoretical_percent": percent}


@require_GET
def batch_detail(request: HttpRequest, pk: int) -> HttpResponse:
    batch = get_object_or_404(queries.batches_for_page(), pk=pk)
    return render(request, "synthesis/batch_detail.html", _batch_context(batch))


def _closed(request: HttpRequest, batch: Batch, err: BatchStateError) -> HttpResponse:
    messages.error(request, err.messages[0])
    return redirect("synthesis:batch_detail", pk=batch.pk)


def _rerender(request: HttpRequest, batch: Batch, **forms) -> HttpResponse:
    context = _batch_context(get_object_or_404(queries.batches_for_page(), pk=batch.pk), **forms)
    return render(request, "synthesis/batch_detail.html", context, status=400)


@rules.guard("change", "synthesis.batch", lookup=BATCH)
@require_POST
def batch_start(request: HttpRequest, pk: int) -> HttpResponse:
    batch = get_object_or_404(Batch, pk=pk)
    try:
        services.batch_start(user=request.user, batch=batch)
    except BatchStateError as err:
        return _closed(request, batch, err)
    return redirect("synthesis:batch_detail", pk=batch.pk)


@rules.guard("change", "synthesis.batch", lookup=BATCH)
@require_POST
def batch_actuals(request: HttpRequest, pk: int) -> HttpResponse:
    batch = get_object_or_404(Batch, pk=pk)
    form = ActualsForm(request.POST, reagents=queries.batch_reagents(batch))
    if not form.is_valid():
        return _rerender(request, batch, actuals=form)
    try:
        flagged = services.batch_record_actuals(
            user=request.user, batch=batch, actuals=form.actuals()
        )
    except BatchStateError as err:
        return _closed(request, batch, err)
    except ValidationError as err:
        apply_errors(form, err)
        return _rerender(request, batch, actuals=form)
    if flagged:
        names = ", ".join(f"{r.line.name} ({r.deviation_percent:+.1f} %)" for r in flagged)
        messages.warning(request, f"Beyond the ±{batch.tolerance_percent:g} % tolerance: {names}.")
    else:
        messages.success(request, "Actual amounts recorded.")
    return redirect("synthesis:batch_detail", pk=batch.pk)


@rules.guard("change", "synthesis.batch", lookup=BATCH)
@require_POST
def batch_step(request: HttpRequest, pk: int, log_pk: int) -> HttpResponse:
    """Tick a step (htmx, just ``done``) or save its full log (form with prefix log-<id>)."""
    batch = get_object_or_404(Batch, pk=pk)
    log = get_object_or_404(BatchStepLog, pk=log_pk, batch=batch)
    if request.POST.get("quick"):
        changes = {"done": request.POST.get("done") == "on"}
    else:
        form = StepLogForm(request.POST, instance=log, prefix=f"log-{log.pk}")
        if not form.is_valid():
            messages.error(
                request,
                f"Step {log.order}: "
                + " ".join(f"{k}: {' '.join(v)}" for k, v in form.errors.items()),
            )
            return redirect("synthesis:batch_detail", pk=batch.pk)
        changes = {name: form.cleaned_data[name] for name in form.Meta.fields}
    try:
        log = services.batch_log_step(user=request.user, batch=batch, step_log=log, **changes)
    except BatchStateError as err:
        return _closed(request, batch, err)
    except ValidationError as err:
        messages.error(request, f"Step {log.order}: {' '.join(err.messages)}")
        return redirect("synthesis:batch_detail", pk=batch.pk)
    if request.htmx:
        batch.refresh_from_db()
        context = {
            "batch": batch,
            "log": log,
            "form": StepLogForm(instance=log, prefix=f"log-{log.pk}"),
            "oob_status": True,
        }
        return render(request, "synthesis/_step_row.html", context)
    messages.success(request, f"Step {log.order} saved.")
    return redirect("synthesis:batch_detail", pk=batch.pk)


@rules.guard("change", "synthesis.batch", lookup=BATCH)
@require_POST
def batch_complete(request: HttpRequest, pk: int) -> HttpResponse:
    batch = get_object_or_404(Batch, pk=pk)
    form = CompleteForm(request.POST)
    if not form.is_valid():
        return _rerender(request, batch, complete=form)
    try:
        batch = services.batch_complete(
            user=request.user, batch=batch, yield_mass_g=form.cleaned_data["yield_mass_g"]
        )
    except BatchStateError as err:
        return _closed(request, batch, err)
    except ValidationError as err:
        apply_errors(form, err)
        return _rerender(request, batch, complete=form)
    messages.success(
        request, f"{batch.code} completed: product registered as {batch.product.code}."
    )
    return redirect("synthesis:batch_detail", pk=batch.pk)


@rules.guard("change", "synthesis.batch", lookup=BATCH)
@require_POST
def batch_fail(request: HttpRequest, pk: int) -> HttpResponse:
    batch = get_object_or_404(Batch, pk=pk)
    form = FailForm(request.POST)
    if not form.is_valid():
        return _rerender(request, batch, fail=form)
    try:
        services.batch_fail(user=request.user, batch=batch, reason=form.cleaned_data["reason"])
    except BatchStateError as err:
        return _closed(request, batch, err)
    messages.warning(request, f"{batch.code} marked as failed.")
    return redirect("synthesis:batch_detail", pk=batch.pk)


@require_GET
def batch_sheet(request: HttpRequest, pk: int) -> HttpResponse:
    batch = get_object_or_404(queries.batches_for_page(), pk=pk)
    return render(request, "synthesis/batch_sheet.html", _batch_context(batch))


# --- inventory -----------------------------------------------------------------------------


@require_GET
def chemical_list(request: HttpRequest) -> HttpResponse:
    return render(request, "synthesis/chemical_list.html", {"chemicals": queries.chemical_list()})


@rules.guard("create", "synthesis.chemical")
@require_http_methods(["GET", "POST"])
def chemical_new(request: HttpRequest) -> HttpResponse:
    form = ChemicalForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            chemical = services.chemical_create(user=request.user, **form.cleaned_data)
        except ValidationError as err:
            apply_errors(form, err)
        else:
            messages.success(request, f"Added {chemical}. Now receive a lot of it.")
            return redirect(f"{reverse('synthesis:lot_new')}?chemical={chemical.pk}")
    return render(request, "synthesis/chemical_form.html", {"form": form})


@require_GET
def lot_list(request: HttpRequest) -> HttpResponse:
    chemical_id = request.GET.get("chemical", "").strip()
    chemical = Chemical.objects.filter(pk=chemical_id).first() if chemical_id.isdigit() else None
    lots = queries.lot_list(
        chemical_id=chemical.pk if chemical else None, include_empty=bool(request.GET.get("empty"))
    )
    return render(request, "synthesis/lot_list.html", {"lots": lots, "chemical": chemical})


@rules.guard("create", "synthesis.lot")
@require_http_methods(["GET", "POST"])
def lot_new(request: HttpRequest) -> HttpResponse:
    initial = {"chemical": request.GET.get("chemical")}
    form = LotForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            lot = services.lot_create(user=request.user, **lot_create_kwargs(data))
        except ValidationError as err:
            apply_errors(form, err)
        else:
            messages.success(request, f"Received {lot}; registered as {lot.sample.code}.")
            return redirect(f"{reverse('synthesis:lot_list')}?chemical={lot.chemical_id}")
    return render(request, "synthesis/lot_form.html", {"form": form})
