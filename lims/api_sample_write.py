"""Sample writes through the API (lims.api_urls adds `routes` to v1): register a sample, correct
its fields or its powder stock with a reason, void it with a reason. The same services and rules
as the pages (lims.services.sample_register as a row of the import page, lims.corrections,
lims.stock_services); a service's ValidationError answers 400 naming the field.

Also the pieces the other apps' write views share: `service_errors` (a service's
ValidationError as the API's 400), `ReasonIn` and `ChangeOut`."""

from __future__ import annotations

from collections.abc import Mapping

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.urls import path
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from lims import corrections, rules, stock_services
from lims.api import SampleOut
from lims.api_errors import errors_response
from lims.api_permissions import RulesPermission
from lims.models import POWDER_KINDS, EdgeRole, Project, Sample, SampleKind, SampleStatus
from lims.services import ParentLink, sample_register
from lims.stock import grams_text
from lims.stock_queries import stock_of
from lims.voiding import MAX_REASON_CHARS, Change

#: kinds with their own build record: registered by their own call, never as a bare sample
OWN_SERVICE = {
    SampleKind.ELECTRODE: "POST /api/v1/electrodes/",
    SampleKind.CELL: "POST /api/v1/cells/ (from an electrode)",
    SampleKind.MEASUREMENT: "POST /api/v1/measurements/",
}
SAMPLE = {"code": "code"}  # the sample a URL's <code> names


def service_errors(exc: ValidationError, rename: Mapping[str, str] | None = None) -> Response:
    """A service's ValidationError as HTTP 400, keys renamed to the request's fields ("__all__":
    the request as a whole)."""
    messages = exc.message_dict if hasattr(exc, "error_dict") else {"__all__": exc.messages}
    names = {"__all__": "non_field_errors", **(rename or {})}
    out: dict[str, list[str]] = {}
    for key, texts in messages.items():
        out.setdefault(names.get(key, key), []).extend(texts)
    return errors_response(out)


def validated(serializer: serializers.Serializer) -> dict:
    """The serializer's validated data, else a 400 naming each field as the services name them
    (a list's item as ``discs[1].disc_mass_mg``)."""
    if not serializer.is_valid():
        raise serializers.ValidationError(serializer.errors)
    return dict(serializer.validated_data)


class ReasonIn(serializers.Serializer):
    reason = serializers.CharField(
        max_length=MAX_REASON_CHARS, help_text="why: kept in the audit trail beside the change"
    )


class ChangeOut(serializers.Serializer):
    field = serializers.CharField()
    label = serializers.CharField()
    old = serializers.JSONField(allow_null=True)
    new = serializers.JSONField(allow_null=True)


def changes_data(changes: list[Change]) -> list[dict]:
    return [{"field": c.field, "label": c.label, "old": c.old, "new": c.new} for c in changes]


# --- register ---------------------------------------------------------------------------------


class ParentIn(serializers.Serializer):
    code = serializers.CharField(max_length=32, help_text="the parent sample's code")
    role = serializers.ChoiceField(EdgeRole.values, default=EdgeRole.DERIVED_FROM)


def _max(name: str) -> int:
    return Sample._meta.get_field(name).max_length


class SampleIn(serializers.Serializer):
    kind = serializers.ChoiceField([k for k in SampleKind.values if k not in OWN_SERVICE])
    name = serializers.CharField(max_length=_max("name"))
    formula = serializers.CharField(max_length=_max("formula"), required=False, default="",
                                    allow_blank=True)  # fmt: skip
    status = serializers.ChoiceField(SampleStatus.values, default=SampleStatus.ACTIVE)
    location = serializers.CharField(max_length=_max("location"), required=False, default="",
                                     allow_blank=True)  # fmt: skip
    notes = serializers.CharField(required=False, default="", allow_blank=True)
    project = serializers.CharField(required=False, default="", allow_blank=True,
                                    help_text="a project's code")  # fmt: skip
    parents = ParentIn(many=True, required=False, default=list)
    initial_mass_g = serializers.FloatField(
        required=False, allow_null=True, default=None,
        help_text="a powder's (precursor, cathode) stock before any draw; empty: not tracked",
    )  # fmt: skip
    owner = serializers.CharField(
        required=False, default="", allow_blank=True,
        help_text="username; only a lab manager sets it (else the sample is yours)",
    )  # fmt: skip

    def to_internal_value(self, data):
        kind = data.get("kind") if isinstance(data, Mapping) else None
        if isinstance(kind, str) and kind in OWN_SERVICE:
            raise serializers.ValidationError(
                {"kind": [f"a {kind} is registered with {OWN_SERVICE[kind]}"]}
            )
        return super().to_internal_value(data)


def _register_kwargs(data: dict, user) -> dict:
    """The service's arguments from the checked request, as the import page's row gives them
    (lims.sample_import): codes looked up, the owner the application's."""
    errors: dict[str, str] = {}
    if data["initial_mass_g"] is not None and data["kind"] not in POWDER_KINDS:
        errors["initial_mass_g"] = "only a powder (precursor, cathode) has a stock"
    project = None
    if data["project"]:
        project = Project.objects.filter(code=data["project"]).first()
        if project is None:
            errors["project"] = f"no project {data['project']!r}"
    parents = []
    for index, item in enumerate(data["parents"]):
        parent = Sample.objects.filter(code__iexact=item["code"].strip()).first()
        if parent is None:
            errors[f"parents[{index}].code"] = f"unknown sample code {item['code']!r}"
        else:
            parents.append(ParentLink(parent, item["role"]))
    owner = user
    if data["owner"] and data["owner"] != user.get_username():
        if rules.role_of(user) != rules.MANAGER:
            errors["owner"] = (
                f"a new sample belongs to whoever registers it ({user.get_username()}); "
                "only a lab manager sets owners"
            )
        else:
            owner = get_user_model().objects.filter(username=data["owner"]).first()
            if owner is None:
                errors["owner"] = f"no user {data['owner']!r}"
    if errors:
        raise ValidationError({key: [message] for key, message in errors.items()})
    fields = ("kind", "name", "formula", "status", "location", "notes", "initial_mass_g")
    return {
        **{name: data[name] for name in fields},
        "project": project,
        "parents": parents,
        "owner": owner,
    }


class SampleRegisterView(APIView):
    permission_classes = [RulesPermission]
    kiln_rule = rules.Rule("create", "lims.sample")

    @extend_schema(summary="Register a sample", request=SampleIn, responses={201: SampleOut})
    def post(self, request: Request) -> Response:
        """A plain sample (powder, reagent, other ...) with a fresh code and its parents, as a
        row of the import page registers it; electrodes, cells and measurements have their
        own calls."""
        data = validated(SampleIn(data=request.data))
        try:
            sample = sample_register(**_register_kwargs(data, request.user))
        except ValidationError as exc:
            return service_errors(exc)
        return Response(SampleOut(sample).data, status=status.HTTP_201_CREATED)


# --- correct, void, stock ---------------------------------------------------------------------


class SampleCorrectIn(ReasonIn):
    name = serializers.CharField(max_length=200, required=False)
    location = serializers.CharField(max_length=120, required=False, allow_blank=True)
    notes = serializers.CharField(required=False, allow_blank=True)


class SampleCorrectedOut(serializers.Serializer):
    sample = SampleOut()
    changes = ChangeOut(many=True)


class SampleWriteView(APIView):
    """A write on the sample its URL names: 404 for an unknown code, then the rule on it."""

    permission_classes = [RulesPermission]

    def sample(self, request: Request, code: str) -> Sample:
        sample = self.kiln_rule.target({"code": code})
        self.check_object_permissions(request, sample)
        return sample


class SampleCorrectView(SampleWriteView):
    kiln_rule = rules.Rule("change", "lims.sample", SAMPLE)

    @extend_schema(
        summary="Correct a sample's name, location or notes",
        request=SampleCorrectIn,
        responses={200: SampleCorrectedOut},
    )
    def post(self, request: Request, code: str) -> Response:
        """Only the fields given change; one audit row carries the reason (the code, kind and
        owner never change)."""
        sample = self.sample(request, code)
        values = validated(SampleCorrectIn(data=request.data))
        reason = values.pop("reason")
        try:
            changes = corrections.sample_correct(
                sample=sample, user=request.user, reason=reason, **values
            )
        except ValidationError as exc:
            return service_errors(exc)
        sample.refresh_from_db()
        return Response({"sample": SampleOut(sample).data, "changes": changes_data(changes)})


class SampleVoidView(SampleWriteView):
    kiln_rule = rules.Rule("void", "lims.sample", SAMPLE)

    @extend_schema(summary="Void a sample", request=ReasonIn, responses={200: SampleOut})
    def post(self, request: Request, code: str) -> Response:
        """Kept with its lineage and history, marked void with your name and reason, left out of
        lists; a measurement's sample voids its measurement too. Nothing is deleted."""
        sample = self.sample(request, code)
        data = validated(ReasonIn(data=request.data))
        try:
            voided = corrections.sample_void(
                sample=sample, user=request.user, reason=data["reason"]
            )
        except ValidationError as exc:
            return service_errors(exc)
        return Response(SampleOut(voided).data)


class StockCorrectIn(ReasonIn):
    delta_g = serializers.FloatField(
        help_text="grams, signed: negative for powder lost or taken, positive for powder found"
    )


class StockCorrectedOut(serializers.Serializer):
    sample = serializers.CharField(help_text="the powder's code")
    delta_g = serializers.FloatField()
    reason = serializers.CharField()
    left_g = serializers.FloatField(help_text="what is left after the correction")
    summary = serializers.CharField(help_text="e.g. '3.40 g of 5.00 g left'")


class StockCorrectView(SampleWriteView):
    kiln_rule = rules.Rule("change", "lims.sample", SAMPLE)

    @extend_schema(
        summary="Correct a powder's stock",
        request=StockCorrectIn,
        responses={201: StockCorrectedOut},
    )
    def post(self, request: Request, code: str) -> Response:
        """Add a signed amount to a tracked powder's stock with a reason (its owner or a lab
        manager); never below zero; a wrong correction is undone by another one."""
        sample = self.sample(request, code)
        data = validated(StockCorrectIn(data=request.data))
        try:
            correction = stock_services.stock_correct(sample=sample, user=request.user, **data)
        except ValidationError as exc:
            return service_errors(exc)
        stock = stock_of(sample.pk)
        body = {
            "sample": sample.code,
            "delta_g": correction.delta_g,
            "reason": correction.reason,
            "left_g": stock.left_g,
            "summary": f"{sample.code} corrected by {grams_text(correction.delta_g)}: "
            f"{stock.summary()}",
        }
        return Response(StockCorrectedOut(body).data, status=status.HTTP_201_CREATED)


routes: list = [
    # "samples/register/": a one-segment name would be taken by samples/<code> (the detail)
    path("samples/register/", SampleRegisterView.as_view(), name="sample-register"),
    path("samples/<str:code>/correct", SampleCorrectView.as_view(), name="sample-correct"),
    path("samples/<str:code>/void", SampleVoidView.as_view(), name="sample-void"),
    path("samples/<str:code>/stock", StockCorrectView.as_view(), name="sample-stock-correct"),
]
