"""Chemicals, lots and recipes through /api/v1/: lists with filters, one record, and (for whoever
lims.rules lets add chemicals and lots: lab managers) the pages' "new chemical" and "receive a
lot" through the same forms and services (synthesis.services.chemical_create / lot_create)."""

from __future__ import annotations

import django_filters
from django.core.exceptions import ValidationError
from django.db.models import Max, OuterRef, Q, QuerySet, Subquery
from django.utils import timezone
from drf_spectacular.utils import extend_schema
from rest_framework import generics, serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from lims import rules
from lims.api_permissions import RulesPermission
from synthesis import queries, services
from synthesis.api_common import form_errors, service_errors, validated
from synthesis.forms import ChemicalForm, LotForm, lot_create_kwargs
from synthesis.models import AmountUnit, Chemical, Lot, Recipe, RecipeKind

# --- chemicals ----------------------------------------------------------------------------------


class ChemicalOut(serializers.ModelSerializer):
    molar_mass_g_per_mol = serializers.FloatField(read_only=True)
    lot_count = serializers.IntegerField(read_only=True, help_text="lots with something left")

    class Meta:
        model = Chemical
        fields = ["id", "name", "formula", "molar_mass_g_per_mol", "cas_number",
                  "density_g_per_ml", "default_purity_percent", "grade", "hazard_notes",
                  "lot_count", "created_at"]  # fmt: skip


class ChemicalIn(serializers.Serializer):
    name = serializers.CharField(max_length=200)
    formula = serializers.CharField(max_length=120, help_text="e.g. Li2CO3, Ni(CH3COO)2·4H2O")
    cas_number = serializers.CharField(max_length=14, required=False, allow_blank=True)
    density_g_per_ml = serializers.FloatField(
        required=False, allow_null=True, help_text="liquids only: plans then give a volume"
    )
    default_purity_percent = serializers.FloatField(required=False, default=100.0)
    grade = serializers.CharField(max_length=80, required=False, allow_blank=True)
    hazard_notes = serializers.CharField(required=False, allow_blank=True)


class ChemicalFilter(django_filters.FilterSet):
    name = django_filters.CharFilter(lookup_expr="icontains", help_text="name contains")
    formula = django_filters.CharFilter(lookup_expr="icontains", help_text="formula contains")
    cas_number = django_filters.CharFilter(help_text="exactly this CAS number")
    liquid = django_filters.BooleanFilter(
        field_name="density_g_per_ml", lookup_expr="isnull", exclude=True,
        help_text="true: liquids (with a density); false: solids",
    )  # fmt: skip
    supplier = django_filters.CharFilter(
        method="_supplier", help_text="has a lot from a supplier whose name contains this"
    )

    class Meta:
        model = Chemical
        fields = ["name", "formula", "cas_number", "liquid", "supplier"]

    def _supplier(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        return queryset.filter(lots__supplier__icontains=value).distinct()


def chemicals() -> QuerySet[Chemical]:
    return queries.chemical_list().order_by("name", "id")


class ChemicalList(generics.ListAPIView):
    """The chemical inventory, by name; each with its molar mass and how many lots are left."""

    permission_classes = [RulesPermission]
    serializer_class = ChemicalOut
    filterset_class = ChemicalFilter

    def get_queryset(self) -> QuerySet[Chemical]:
        return chemicals()


class ChemicalDetail(APIView):
    permission_classes = [RulesPermission]
    kiln_rule = rules.Rule("read", "synthesis.chemical", {"pk": "pk"})  # names the record

    @extend_schema(responses=ChemicalOut)
    def get(self, request: Request, pk: str) -> Response:
        chemical = self.kiln_rule.target({"pk": pk})  # 404 for an unknown id
        return Response(ChemicalOut(chemicals().get(pk=chemical.pk)).data)


class ChemicalCreate(APIView):
    """The "new chemical" page: lab managers only (lims.rules: chemicals are theirs)."""

    permission_classes = [RulesPermission]
    kiln_rule = rules.Rule("create", "synthesis.chemical")

    @extend_schema(summary="Add a chemical", request=ChemicalIn, responses={201: ChemicalOut})
    def post(self, request: Request) -> Response:
        form = ChemicalForm(validated(ChemicalIn, request))
        if not form.is_valid():
            return form_errors(form)
        try:
            chemical = services.chemical_create(user=request.user, **form.cleaned_data)
        except ValidationError as exc:
            return service_errors(exc)
        body = ChemicalOut(chemicals().get(pk=chemical.pk)).data
        return Response(body, status=status.HTTP_201_CREATED)


# --- lots ---------------------------------------------------------------------------------------


class ChemicalRef(serializers.ModelSerializer):
    class Meta:
        model = Chemical
        fields = ["id", "name", "formula"]


class LotOut(serializers.ModelSerializer):
    code = serializers.CharField(source="sample.code", help_text="its sample in the registry")
    chemical = ChemicalRef()
    expired = serializers.SerializerMethodField()

    class Meta:
        model = Lot
        fields = ["id", "code", "chemical", "supplier", "lot_number", "purity_percent",
                  "amount_left", "amount_unit", "received_on", "opened_on", "expires_on",
                  "expired", "location", "created_at"]  # fmt: skip

    def get_expired(self, lot: Lot) -> bool:
        return lot.is_expired()


class LotIn(serializers.Serializer):
    chemical = serializers.IntegerField(help_text="the chemical's id")
    supplier = serializers.CharField(max_length=120)
    lot_number = serializers.CharField(max_length=80)
    amount_left = serializers.FloatField(help_text="the amount received, in amount_unit")
    amount_unit = serializers.ChoiceField(choices=AmountUnit.values)
    purity_percent = serializers.FloatField(
        required=False, allow_null=True, help_text="the assay; default: the chemical's"
    )
    received_on = serializers.DateField(required=False, allow_null=True, help_text="default today")
    opened_on = serializers.DateField(required=False, allow_null=True)
    expires_on = serializers.DateField(required=False, allow_null=True)
    location = serializers.CharField(max_length=120, required=False, allow_blank=True)


class LotFilter(django_filters.FilterSet):
    chemical = django_filters.NumberFilter(field_name="chemical_id", help_text="chemical id")
    formula = django_filters.CharFilter(
        field_name="chemical__formula", lookup_expr="icontains", help_text="formula contains"
    )
    supplier = django_filters.CharFilter(lookup_expr="icontains", help_text="supplier contains")
    location = django_filters.CharFilter(lookup_expr="icontains", help_text="location contains")
    expired = django_filters.BooleanFilter(method="_expired", help_text="past its expiry date")
    expires_before = django_filters.DateFilter(field_name="expires_on", lookup_expr="lt")
    amount_left_max = django_filters.NumberFilter(
        field_name="amount_left", lookup_expr="lte", help_text="low stock: at most this much left"
    )
    include_empty = django_filters.BooleanFilter(
        method="_keep", help_text="true: empty lots too (by default only lots with some left)"
    )

    class Meta:
        model = Lot
        fields = ["chemical", "formula", "supplier", "location", "expired", "expires_before",
                  "amount_left_max", "include_empty"]  # fmt: skip

    def _expired(self, queryset: QuerySet, name: str, value: bool) -> QuerySet:
        past = Q(expires_on__lt=timezone.localdate())
        return queryset.filter(past if value else ~past | Q(expires_on=None))

    def _keep(self, queryset: QuerySet, name: str, value: bool) -> QuerySet:
        return queryset  # read in filter_queryset

    def filter_queryset(self, queryset: QuerySet) -> QuerySet:
        queryset = super().filter_queryset(queryset)
        if not self.form.cleaned_data.get("include_empty"):
            queryset = queryset.filter(amount_left__gt=0)  # as the lots page lists them
        return queryset


class LotList(generics.ListAPIView):
    """Lots, by chemical name and first to expire (FEFO)."""

    permission_classes = [RulesPermission]
    serializer_class = LotOut
    filterset_class = LotFilter

    def get_queryset(self) -> QuerySet[Lot]:
        return queries.lot_list(include_empty=True)


class LotDetail(APIView):
    permission_classes = [RulesPermission]
    kiln_rule = rules.Rule("read", "synthesis.lot", {"pk": "pk"})  # names the record

    @extend_schema(responses=LotOut)
    def get(self, request: Request, pk: str) -> Response:
        return Response(LotOut(self.kiln_rule.target({"pk": pk})).data)


class LotCreate(APIView):
    """The "receive a lot" page: the lot and its REAGENT sample in the registry, lab managers
    only (lims.rules: lots are theirs)."""

    permission_classes = [RulesPermission]
    kiln_rule = rules.Rule("create", "synthesis.lot")

    @extend_schema(summary="Receive a lot", request=LotIn, responses={201: LotOut})
    def post(self, request: Request) -> Response:
        data = validated(LotIn, request)
        data["received_on"] = data.get("received_on") or timezone.localdate()
        form = LotForm({k: "" if v is None else v for k, v in data.items()})
        if not form.is_valid():
            return form_errors(form)
        try:
            lot = services.lot_create(user=request.user, **lot_create_kwargs(form.cleaned_data))
        except ValidationError as exc:
            return service_errors(exc)
        return Response(LotOut(lot).data, status=status.HTTP_201_CREATED)


# --- recipes ------------------------------------------------------------------------------------


class LineOut(serializers.Serializer):
    id = serializers.IntegerField()
    order = serializers.IntegerField()
    role = serializers.CharField()
    name = serializers.CharField()
    chemical = serializers.IntegerField(source="chemical_id", allow_null=True)
    formula = serializers.CharField(source="effective_formula")
    purity_percent = serializers.FloatField(source="effective_purity_percent")
    density_g_per_ml = serializers.FloatField(source="effective_density_g_per_ml", allow_null=True)
    excess_element = serializers.CharField()
    excess_percent = serializers.FloatField(allow_null=True)
    in_stoichiometry = serializers.BooleanField()
    fixed_amount = serializers.FloatField(allow_null=True)
    fixed_unit = serializers.CharField()
    notes = serializers.CharField()


class StepOut(serializers.Serializer):
    order = serializers.IntegerField()
    kind = serializers.CharField()
    parameters = serializers.DictField()
    summary = serializers.CharField()
    notes = serializers.CharField()


class RecipeOut(serializers.ModelSerializer):
    created_by = serializers.CharField(source="created_by.username", default=None, allow_null=True)
    lines = LineOut(many=True)
    steps = StepOut(many=True)
    latest_version = serializers.IntegerField(help_text="the newest version of its family")

    class Meta:
        model = Recipe
        fields = ["id", "family", "version", "latest_version", "name", "kind", "product_name",
                  "product_formula", "product_kind", "coating_formula",
                  "default_coating_wt_percent", "coating_basis", "reference_mass_g",
                  "volatile_elements", "notes", "created_by", "created_at", "lines",
                  "steps"]  # fmt: skip


class RecipeFilter(django_filters.FilterSet):
    family = django_filters.CharFilter()
    kind = django_filters.ChoiceFilter(choices=RecipeKind.choices)
    name = django_filters.CharFilter(lookup_expr="icontains", help_text="name contains")
    product_formula = django_filters.CharFilter(lookup_expr="icontains")
    latest = django_filters.BooleanFilter(
        method="_latest", help_text="true: only the newest version of each recipe"
    )

    class Meta:
        model = Recipe
        fields = ["family", "kind", "name", "product_formula", "latest"]

    def _latest(self, queryset: QuerySet, name: str, value: bool) -> QuerySet:
        newest = Q(version=latest_version())
        return queryset.filter(newest if value else ~newest)


def latest_version() -> Subquery:
    newest = Recipe.objects.filter(family=OuterRef("family")).values("family")
    return Subquery(newest.annotate(v=Max("version")).values("v")[:1])


def recipes() -> QuerySet[Recipe]:
    return (
        Recipe.objects.select_related("created_by")
        .prefetch_related("lines__chemical", "steps")
        .annotate(latest_version=latest_version())
        .order_by("name", "-version", "id")
    )


class RecipeList(generics.ListAPIView):
    """Every recipe version with its reagent lines (the ids a plan's `lots` names) and steps."""

    permission_classes = [RulesPermission]
    serializer_class = RecipeOut
    filterset_class = RecipeFilter

    def get_queryset(self) -> QuerySet[Recipe]:
        return recipes()


class RecipeDetail(APIView):
    permission_classes = [RulesPermission]
    kiln_rule = rules.Rule("read", "synthesis.recipe", {"pk": "pk"})  # names the record

    @extend_schema(responses=RecipeOut)
    def get(self, request: Request, pk: str) -> Response:
        recipe = self.kiln_rule.target({"pk": pk})  # 404 for an unknown id
        return Response(RecipeOut(recipes().get(pk=recipe.pk)).data)
