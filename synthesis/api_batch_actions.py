"""What is done to a batch through /api/v1/batches/<code>/...: start it, record what was weighed,
log its steps, complete it (the yield), fail it, correct it with a reason.

Each is the batch page's button: its form cleans the body (synthesis.forms,
synthesis.correction_forms), its service writes (synthesis.services, synthesis.corrections), and
lims.rules decides who (the batch's operator or a lab manager). A batch in a status that does
not allow the action answers 400 with the page's sentence. Each answers the batch as
GET /api/v1/batches/<code> does."""

from __future__ import annotations

from collections.abc import Callable

from django.core.exceptions import ValidationError
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from lims import rules
from lims.api_errors import errors_response
from lims.api_permissions import RulesPermission
from synthesis import corrections, queries, services
from synthesis.api_batch_out import BatchOut, batch_detail, batch_out
from synthesis.api_common import form_errors, service_errors, validated, with_initial
from synthesis.correction_forms import CLOSED, BatchCorrectionForm
from synthesis.forms import ActualsForm, CompleteForm, FailForm, StepLogForm
from synthesis.models import Batch, BatchReagent, BatchStatus
from synthesis.services import STEP_LOG_FIELDS

CHANGE = rules.Rule("change", "synthesis.batch", {"code": "code"})


class BatchAction(APIView):
    """A write on the batch its URL names: 404 for an unknown code, 403 with the rules'
    sentence for someone who may not change it."""

    permission_classes = [RulesPermission]
    kiln_rule = CHANGE

    def batch(self, request: Request, code: str) -> Batch:
        batch = self.kiln_rule.target({"code": code})
        self.check_object_permissions(request, batch)
        return batch


def _run(service: Callable, rename: Callable[[str], str] = str, **kwargs) -> Response | None:
    """Call the service; its ValidationError (a BatchStateError too) as HTTP 400."""
    try:
        service(**kwargs)
    except ValidationError as exc:
        return service_errors(exc, rename)
    return None


def _renamer(names: dict[str, str]) -> Callable[[str], str]:
    """A form field's name -> the body's (mass_12 -> reagents[0].mass_g)."""
    return lambda key: names.get(key, key)


# --- start, complete, fail ----------------------------------------------------------------------


class BatchStart(BatchAction):
    @extend_schema(summary="Start a planned batch", request=None, responses=BatchOut)
    def post(self, request: Request, code: str) -> Response:
        batch = self.batch(request, code)
        refusal = _run(services.batch_start, user=request.user, batch=batch)
        return refusal or Response(batch_out(batch))


class CompleteIn(serializers.Serializer):
    yield_mass_g = serializers.FloatField(
        required=False, allow_null=True, help_text="what was made (g); at most the theoretical"
    )


class BatchComplete(BatchAction):
    @extend_schema(
        summary="Complete a batch: its product is registered with its lineage",
        request=CompleteIn,
        responses=BatchOut,
    )
    def post(self, request: Request, code: str) -> Response:
        batch = self.batch(request, code)
        form = CompleteForm(with_initial(CompleteForm(), validated(CompleteIn, request)))
        if not form.is_valid():
            return form_errors(form)
        yield_g = form.cleaned_data["yield_mass_g"]
        refusal = _run(
            services.batch_complete, user=request.user, batch=batch, yield_mass_g=yield_g
        )
        return refusal or Response(batch_out(batch))


class FailIn(serializers.Serializer):
    reason = serializers.CharField(required=False, allow_blank=True, help_text="what went wrong")


class BatchFail(BatchAction):
    @extend_schema(summary="Mark a batch as failed", request=FailIn, responses=BatchOut)
    def post(self, request: Request, code: str) -> Response:
        batch = self.batch(request, code)
        form = FailForm(with_initial(FailForm(), validated(FailIn, request)))
        if not form.is_valid():
            return form_errors(form)
        reason = form.cleaned_data["reason"]
        refusal = _run(services.batch_fail, user=request.user, batch=batch, reason=reason)
        return refusal or Response(batch_out(batch))


# --- what was weighed ---------------------------------------------------------------------------


class AmountIn(serializers.Serializer):
    reagent = serializers.IntegerField(help_text="the reagent row's id (GET: `reagents[].id`)")
    mass_g = serializers.FloatField(required=False, allow_null=True)
    volume_ml = serializers.FloatField(required=False, allow_null=True)


class WeighedIn(AmountIn):
    lot = serializers.IntegerField(required=False, allow_null=True, help_text="the lot used")


class ActualsIn(serializers.Serializer):
    """Only the reagents named change; of those, a field left out keeps what was recorded,
    null clears it."""

    reagents = WeighedIn(many=True, allow_empty=False)


# body key -> form field prefix
AMOUNT_FIELDS = {"mass_g": "mass", "volume_ml": "volume", "lot": "lot"}


def _not_weighed(row: BatchReagent, key: str) -> str:
    if key == "lot":
        return f"{row.line.name} is not a chemical with lots."
    if key == "volume_ml":
        return f"{row.line.name} is weighed (g), not measured by volume."
    return f"{row.line.name} is measured by volume (mL): give volume_ml."


def amounts_form(
    fields_of: Callable[[BatchReagent], dict], rows: list[BatchReagent], entries: list[dict]
) -> tuple[dict, dict, dict]:
    """(form data, {form field: body field}, errors) for the body's `entries`, each naming a
    reagent row of the batch once; `fields_of(row)` are the page form's fields of that row."""
    by_id = {r.pk: r for r in rows}
    data, names, errors, seen = {}, {}, {}, set()
    for i, entry in enumerate(entries):
        row, where = by_id.get(entry["reagent"]), f"reagents[{i}]"
        if row is None or row.pk in seen:
            errors[f"{where}.reagent"] = ["Not a reagent of this batch, or named twice."]
            continue
        seen.add(row.pk)
        fields = fields_of(row)
        for key, prefix in AMOUNT_FIELDS.items():
            name = f"{prefix}_{row.pk}"
            names[name] = f"{where}.{key}"
            if key in entry and name not in fields:
                errors[f"{where}.{key}"] = [_not_weighed(row, key)]
            elif key in entry:
                data[name] = entry[key]
    return data, names, errors


class BatchActuals(BatchAction):
    @extend_schema(
        summary="Record what was weighed (the batch starts if it was planned)",
        request=ActualsIn,
        responses=BatchOut,
    )
    def post(self, request: Request, code: str) -> Response:
        batch = self.batch(request, code)
        entries = validated(ActualsIn, request)["reagents"]
        rows = queries.batch_reagents(batch)
        data, names, errors = amounts_form(
            lambda row: ActualsForm(reagents=[row]).fields, rows, entries
        )
        if errors:
            return errors_response(errors)
        named = [r for r in rows if any(e["reagent"] == r.pk for e in entries)]
        form = ActualsForm(with_initial(ActualsForm(reagents=named), data), reagents=named)
        rename = _renamer(names)
        if not form.is_valid():
            return form_errors(form, rename)
        actuals = form.actuals()
        refusal = _run(
            services.batch_record_actuals, rename, user=request.user, batch=batch, actuals=actuals
        )
        return refusal or Response(batch_out(batch))


# --- the step log -------------------------------------------------------------------------------


class StepIn(serializers.Serializer):
    """Only the fields sent change."""

    order = serializers.IntegerField(help_text="the step's number (GET: `steps[].order`)")
    done = serializers.BooleanField(required=False, help_text="done: stamps the end if unset")
    started_at = serializers.DateTimeField(required=False, allow_null=True)
    ended_at = serializers.DateTimeField(required=False, allow_null=True)
    equipment = serializers.CharField(required=False, allow_blank=True, max_length=120)
    actual_temperature_c = serializers.FloatField(required=False, allow_null=True)
    rpm = serializers.IntegerField(required=False, allow_null=True)
    notes = serializers.CharField(required=False, allow_blank=True)


class BatchStep(BatchAction):
    @extend_schema(
        summary="Log a step (the batch starts if it was planned)", request=StepIn,
        responses=BatchOut,
    )  # fmt: skip
    def post(self, request: Request, code: str) -> Response:
        batch = self.batch(request, code)
        data = validated(StepIn, request)
        order = data.pop("order")
        log = batch.step_logs.filter(order=order).first()
        if log is None:
            return errors_response({"order": [f"{batch.code} has no step {order}."]})
        if not data:
            wanted = ", ".join(STEP_LOG_FIELDS)
            return errors_response({"non_field_errors": [f"Give one of {wanted}."]})
        recorded = {name: getattr(log, name) for name in STEP_LOG_FIELDS}
        form = StepLogForm(with_initial(StepLogForm(), {**recorded, **data}), instance=log)
        if not form.is_valid():
            return form_errors(form)
        changes = {name: form.cleaned_data[name] for name in data}
        refusal = _run(
            services.batch_log_step, user=request.user, batch=batch, step_log=log, **changes
        )
        return refusal or Response(batch_out(batch))


# --- corrections --------------------------------------------------------------------------------


class CorrectIn(serializers.Serializer):
    """Only what is sent is corrected: the notes (any batch); on a completed or failed batch
    what was weighed; on a completed one the yield."""

    reason = serializers.CharField(required=False, allow_blank=True, help_text="kept in the audit")
    notes = serializers.CharField(required=False, allow_blank=True)
    yield_mass_g = serializers.FloatField(required=False, allow_null=True)
    reagents = AmountIn(many=True, required=False)


class CorrectionOut(serializers.Serializer):
    summary = serializers.CharField(help_text="what changed, from what to what")
    batch = BatchOut()


class BatchCorrect(BatchAction):
    @extend_schema(
        summary="Correct a batch, with a reason", request=CorrectIn, responses=CorrectionOut
    )
    def post(self, request: Request, code: str) -> Response:
        batch = self.batch(request, code)
        body = validated(CorrectIn, request)
        rows = queries.batch_reagents(batch)
        errors = _uncorrectable(batch, body)
        data, names, found = amounts_form(
            lambda row: BatchCorrectionForm(batch=batch, reagents=[row]).fields,
            rows,
            body.pop("reagents", []),
        )
        if errors or found:
            return errors_response({**found, **errors})
        form = BatchCorrectionForm({**body, **data}, batch=batch, reagents=rows)
        rename = _renamer(names)
        if not form.is_valid():
            return form_errors(form, rename)
        try:
            done = corrections.batch_correct(
                batch=batch, user=request.user, **form.service_kwargs()
            )
        except ValidationError as exc:
            return service_errors(exc, rename)
        body = {"summary": done.summary(), "batch": batch_detail(batch)}
        return Response(CorrectionOut(body).data)


def _uncorrectable(batch: Batch, body: dict) -> dict[str, list[str]]:
    """What the body corrects that this batch's status does not let a correction change."""
    errors = {}
    if "yield_mass_g" in body and batch.status != BatchStatus.COMPLETED:
        errors["yield_mass_g"] = [f"{batch.code} is not completed: it has no yield to correct."]
    if body.get("reagents") and batch.status not in CLOSED:
        errors["reagents"] = [
            f"{batch.code} is still open: record the amounts with POST "
            f"/api/v1/batches/{batch.code}/actuals."
        ]
    return errors
