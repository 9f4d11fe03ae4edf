"""Batches through /api/v1/: the list (filters, a cursor), one batch, and planning one with the
plan page's form and service (synthesis.forms.BatchPlanForm, services.batch_create), so the
quantities and the refusals are the page's. The actions on a batch: synthesis.api_batch_actions.
"""

from __future__ import annotations

import re

import django_filters
from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from drf_spectacular.utils import extend_schema
from rest_framework import generics, serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from lims import rules
from lims.api_errors import errors_response
from lims.api_pagination import KilnCursorPagination
from lims.api_permissions import RulesPermission
from lims.models import Sample
from lims.voiding import live
from synthesis import queries, services
from synthesis.api_batch_out import BatchOut, BatchSummaryOut, batch_out, batch_summary
from synthesis.api_common import form_errors, service_errors, validated, with_initial
from synthesis.forms import BatchPlanForm
from synthesis.models import Batch, BatchStatus, Recipe

# --- the list -----------------------------------------------------------------------------------


class BatchFilter(django_filters.FilterSet):
    status = django_filters.ChoiceFilter(choices=BatchStatus.choices)
    recipe = django_filters.NumberFilter(field_name="recipe_id", help_text="a recipe version's id")
    family = django_filters.CharFilter(field_name="recipe__family", help_text="any version")
    owner = django_filters.CharFilter(
        field_name="operator__username", help_text="the username of who planned it"
    )
    product = django_filters.CharFilter(
        field_name="product__code", lookup_expr="iexact", help_text="the product's sample code"
    )
    substrate = django_filters.CharFilter(field_name="substrate__code", lookup_expr="iexact")
    q = django_filters.CharFilter(method="_search", help_text="code, notes, product or recipe")
    planned_from = django_filters.DateFilter(field_name="created_at__date", lookup_expr="gte")
    planned_to = django_filters.DateFilter(field_name="created_at__date", lookup_expr="lte")
    started_from = django_filters.DateFilter(field_name="started_at__date", lookup_expr="gte")
    started_to = django_filters.DateFilter(field_name="started_at__date", lookup_expr="lte")
    completed_from = django_filters.DateFilter(method="_completed_from")
    completed_to = django_filters.DateFilter(method="_completed_to")
    calcination_min_c = django_filters.NumberFilter(
        field_name="calcination_temperature_c", lookup_expr="gte"
    )
    calcination_max_c = django_filters.NumberFilter(
        field_name="calcination_temperature_c", lookup_expr="lte"
    )
    void = django_filters.BooleanFilter(
        method="_void", help_text="true: void batches too (kept, not listed by default)"
    )

    class Meta:
        model = Batch
        fields = []

    def _search(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        found = queries.batch_list(queries.BatchFilters(q=value.strip(), void=True))
        return queryset.filter(pk__in=found.values("pk"))

    def _completed_from(self, queryset: QuerySet, name: str, value) -> QuerySet:
        return queryset.filter(status=BatchStatus.COMPLETED, finished_at__date__gte=value)

    def _completed_to(self, queryset: QuerySet, name: str, value) -> QuerySet:
        return queryset.filter(status=BatchStatus.COMPLETED, finished_at__date__lte=value)

    def _void(self, queryset: QuerySet, name: str, value: bool) -> QuerySet:
        return queryset  # read in filter_queryset

    def filter_queryset(self, queryset: QuerySet) -> QuerySet:
        queryset = super().filter_queryset(queryset)
        return live(queryset, include_void=bool(self.form.cleaned_data.get("void")))


class BatchList(generics.ListAPIView):
    """Batches, newest first (a cursor: `next` and `previous` links, `?limit=` per page)."""

    permission_classes = [RulesPermission]
    serializer_class = BatchSummaryOut
    filterset_class = BatchFilter
    pagination_class = KilnCursorPagination

    def get_queryset(self) -> QuerySet[Batch]:
        return queries.batches_for_page().select_related("project")

    def list(self, request: Request, *args, **kwargs) -> Response:
        queryset = self.filter_queryset(self.get_queryset())
        page = self.paginate_queryset(queryset)
        return self.get_paginated_response([batch_summary(b) for b in page])


class BatchDetail(APIView):
    permission_classes = [RulesPermission]
    kiln_rule = rules.Rule("read", "synthesis.batch", {"code": "code"})  # names the record

    @extend_schema(responses=BatchOut)
    def get(self, request: Request, code: str) -> Response:
        return Response(batch_out(self.kiln_rule.target({"code": code})))


# --- planning -----------------------------------------------------------------------------------


class BatchPlanIn(serializers.Serializer):
    """What the plan page asks; a field left out takes the value the page prefills (the
    recipe's coating wt% and calcination, a 2 % tolerance, the first lot to expire per line)."""

    recipe = serializers.IntegerField(help_text="the recipe version's id")
    target_mass_g = serializers.FloatField(
        required=False, allow_null=True, help_text="product to make (g); not for a coating"
    )
    substrate = serializers.CharField(
        required=False, allow_null=True, help_text="a coating's substrate: its sample code"
    )
    substrate_mass_g = serializers.FloatField(required=False, allow_null=True)
    coating_wt_percent = serializers.FloatField(required=False, allow_null=True)
    calcination_temperature_c = serializers.FloatField(required=False, allow_null=True)
    tolerance_percent = serializers.FloatField(required=False, allow_null=True)
    lots = serializers.DictField(
        child=serializers.IntegerField(allow_null=True),
        required=False,
        help_text='recipe line id -> lot id ({"12": 3}); null: no lot recorded for that line',
    )
    notes = serializers.CharField(required=False, allow_blank=True)


_LOT_FIELD = re.compile(r"^lot_(\d+)$")


def _api_name(key: str) -> str:
    """The plan form's lot_<line id> is the body's lots.<line id>."""
    match = _LOT_FIELD.match(key)
    return f"lots.{match.group(1)}" if match else key


def _plan_form(data: dict) -> tuple[BatchPlanForm | None, Response | None]:
    """The plan page's form bound to the body (omitted fields as the page prefills them)."""
    recipe = Recipe.objects.filter(pk=data.pop("recipe")).first()
    if recipe is None:
        return None, errors_response({"recipe": ["No recipe has this id."]})
    body = {k: v for k, v in data.items() if k != "lots"}
    if body.get("substrate"):
        substrate = Sample.objects.filter(code=body["substrate"]).first()
        if substrate is None:
            return None, errors_response({"substrate": [f"No sample has the code "
                                                        f"{body['substrate']!r}."]})  # fmt: skip
        body["substrate"] = substrate
    prefilled = BatchPlanForm(recipe=recipe)
    for line_id, lot_id in data.get("lots", {}).items():
        if f"lot_{line_id}" not in prefilled.fields:
            message = f"{recipe} has no line {line_id} that takes a lot of a chemical."
            return None, errors_response({f"lots.{line_id}": [message]})
        body[f"lot_{line_id}"] = lot_id
    form = BatchPlanForm(with_initial(prefilled, body), recipe=recipe)
    return form, None if form.is_valid() else form_errors(form, _api_name)


class BatchPlanView(APIView):
    """The plan page's "Plan batch": the quantities are computed and frozen, the batch is
    yours (its operator)."""

    permission_classes = [RulesPermission]
    kiln_rule = rules.Rule("create", "synthesis.batch")

    @extend_schema(summary="Plan a batch", request=BatchPlanIn, responses={201: BatchOut})
    def post(self, request: Request) -> Response:
        form, refusal = _plan_form(validated(BatchPlanIn, request))
        if refusal is not None:
            return refusal
        try:
            batch = services.batch_create(
                user=request.user,
                recipe=form.recipe,
                inputs=form.inputs(),
                tolerance_percent=form.cleaned_data["tolerance_percent"],
                notes=form.cleaned_data["notes"],
            )
        except ValidationError as exc:
            return service_errors(exc, _api_name)
        return Response(batch_out(batch), status=status.HTTP_201_CREATED)


class PlanPreviewOut(serializers.Serializer):
    plan = serializers.DictField(help_text="as the batch would freeze it (`lines`: quantities)")
    warnings = serializers.ListField(child=serializers.CharField())


class BatchPreviewView(APIView):
    """The plan page's live quantities table: the same calculation, nothing saved."""

    permission_classes = [RulesPermission]
    kiln_rule = rules.Rule("create", "synthesis.batch")

    @extend_schema(summary="Preview a plan", request=BatchPlanIn, responses=PlanPreviewOut)
    def post(self, request: Request) -> Response:
        form, refusal = _plan_form(validated(BatchPlanIn, request))
        if refusal is not None:
            return refusal
        plan = form.plan
        return Response(PlanPreviewOut({"plan": plan.to_dict(), "warnings": plan.warnings}).data)
