"""Coin cells through the API: list (filters), one cell, ONE call that builds N cells from an
electrode sheet (the electrode page's CellBatchForm, then services.cell_build_batch: all or
nothing, a bad disc named by its index), and the disc correction (corrections.cell_correct)."""

from __future__ import annotations

import django_filters
from django.core.exceptions import ValidationError
from drf_spectacular.utils import extend_schema, extend_schema_field
from rest_framework import generics, serializers, status
from rest_framework.exceptions import NotFound
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from characterization import corrections, forms, queries, services
from characterization.api_common import ListCreateView, LiveFilterSet, given, page_form, sample_of
from characterization.correction_forms import CellCorrectionForm
from characterization.models import CellFormat, CoinCell, Electrode, ElectrodeRole
from lims import rules
from lims.api_permissions import RulesPermission
from lims.api_sample_write import ChangeOut, ReasonIn, changes_data, service_errors, validated
from lims.lineage import descendant_depths


class CoinCellOut(serializers.ModelSerializer):
    code = serializers.CharField(source="sample.code")
    name = serializers.CharField(source="sample.name")
    electrode = serializers.CharField(source="electrode.sample.code")
    powder = serializers.CharField(
        source="electrode.active_material.code", help_text="the electrode's active material"
    )
    built_by = serializers.CharField(source="built_by.username", default=None, allow_null=True)
    notes = serializers.CharField(source="sample.notes")
    voided_at = serializers.DateTimeField(source="sample.voided_at", allow_null=True)
    url = serializers.SerializerMethodField()

    class Meta:
        model = CoinCell
        fields = [
            "code", "name", "electrode", "powder", "cell_format", "electrode_role",
            "disc_diameter_mm", "disc_mass_mg", "foil_disc_mass_mg", "active_fraction",
            "disc_area_cm2", "active_mass_mg", "areal_loading_mg_per_cm2", "one_c_ma_per_g",
            "counter_electrode", "separator", "electrolyte_name", "electrolyte_volume_ul",
            "glovebox_o2_ppm", "glovebox_h2o_ppm", "built_by", "built_on", "created_at",
            "notes", "voided_at", "url",
        ]  # fmt: skip

    def get_url(self, cell: CoinCell) -> str:
        return f"/cells/{cell.sample.code}/"


class CurrentOut(serializers.Serializer):
    rate = serializers.FloatField()
    label = serializers.CharField()
    current_ma = serializers.FloatField()


class CellDetailOut(CoinCellOut):
    currents = serializers.SerializerMethodField(help_text="the protocol C-rates' currents")

    class Meta(CoinCellOut.Meta):
        fields = [*CoinCellOut.Meta.fields, "currents"]

    @extend_schema_field(CurrentOut(many=True))
    def get_currents(self, cell: CoinCell) -> list[dict]:
        return queries.c_rate_table(cell)


# --- build a batch ----------------------------------------------------------------------------


class DiscIn(serializers.Serializer):
    disc_mass_mg = serializers.FloatField(help_text="the weighed disc (electrode + foil)")
    foil_disc_mass_mg = serializers.FloatField(
        required=False, allow_null=True, default=None, help_text="its own bare foil, if not the "
        "batch's",
    )  # fmt: skip


#: the shared fields of the electrode page's cell form (forms.CellBatchForm), same names
BATCH_FIELDS = (
    "cell_format", "foil_disc_mass_mg", "counter_electrode", "separator", "electrolyte_name",
    "electrolyte_volume_ul", "glovebox_o2_ppm", "glovebox_h2o_ppm", "one_c_ma_per_g",
    "electrode_role", "built_on", "notes",
)  # fmt: skip


class CellBatchIn(serializers.Serializer):
    """One cell per disc; absent shared fields take the electrode page's defaults (2025,
    Li metal, Celgard 2400, 60 µL of 1 M LiPF6 in EC:DMC, the sheet's foil mass and 1C)."""

    electrode = serializers.CharField(help_text="the electrode sheet's code")
    discs = DiscIn(many=True, allow_empty=False, max_length=services.MAX_CELLS_PER_BATCH)
    cell_format = serializers.ChoiceField(CellFormat.values, required=False)
    foil_disc_mass_mg = serializers.FloatField(
        required=False, allow_null=True, help_text="for every disc without its own"
    )
    counter_electrode = serializers.CharField(max_length=80, required=False)
    separator = serializers.CharField(max_length=80, required=False)
    electrolyte_name = serializers.CharField(max_length=120, required=False)
    electrolyte_volume_ul = serializers.FloatField(required=False)
    glovebox_o2_ppm = serializers.FloatField(required=False, allow_null=True)
    glovebox_h2o_ppm = serializers.FloatField(required=False, allow_null=True)
    one_c_ma_per_g = serializers.FloatField(required=False)
    electrode_role = serializers.ChoiceField(ElectrodeRole.values, required=False)
    built_on = serializers.DateField(required=False)
    notes = serializers.CharField(required=False, allow_blank=True)


class CellsBuiltOut(serializers.Serializer):
    electrode = serializers.CharField()
    cells = CoinCellOut(many=True)


def _electrode(code: str) -> Electrode:
    sample = sample_of(code, "electrode")
    try:
        return queries.electrodes().get(sample=sample)
    except Electrode.DoesNotExist:
        raise serializers.ValidationError(
            {"electrode": [f"{sample.code} is a {sample.kind}, not an electrode sheet"]}
        ) from None


# --- list, detail, build ----------------------------------------------------------------------


class CellFilter(LiveFilterSet):
    electrode = django_filters.CharFilter(
        field_name="electrode__sample__code", lookup_expr="iexact", label="the sheet's code"
    )
    powder = django_filters.CharFilter(
        method="made_from", label="code of a powder (or any sample) the cell was made from"
    )
    electrolyte = django_filters.CharFilter(
        field_name="electrolyte_name", lookup_expr="icontains", label="electrolyte contains"
    )
    cell_format = django_filters.ChoiceFilter(choices=CellFormat.choices)
    built_by = django_filters.CharFilter(field_name="built_by__username", label="username")
    built_from = django_filters.DateFilter(field_name="built_on", lookup_expr="gte")
    built_to = django_filters.DateFilter(field_name="built_on", lookup_expr="lte")
    void = django_filters.BooleanFilter(method="with_void", label="true: void cells too")

    class Meta:
        model = CoinCell
        fields: list[str] = []

    def made_from(self, queryset, name, value):
        ancestor = sample_of(value, name)
        return queryset.filter(sample_id__in=list(descendant_depths(ancestor.pk)))


class CellList(ListCreateView):
    serializer_class = CoinCellOut
    filterset_class = CellFilter
    kiln_rule = rules.Rule("create", "characterization.coincell")

    def get_queryset(self):
        return queries.cells()

    @extend_schema(
        summary="Build N coin cells from an electrode sheet",
        request=CellBatchIn,
        responses={201: CellsBuiltOut},
    )
    def post(self, request: Request) -> Response:
        """One cell per disc, all or nothing: each cell's active mass is (disc − foil) × the
        sheet's active fraction; a bad disc fails the batch, named discs[i].field."""
        data = validated(CellBatchIn(data=request.data))
        electrode = _electrode(data["electrode"])
        shared = page_form(forms.CellBatchForm, given(data, BATCH_FIELDS), electrode=electrode)
        discs = [services.DiscRow(d["disc_mass_mg"], d["foil_disc_mass_mg"]) for d in data["discs"]]
        try:
            cells = services.cell_build_batch(
                electrode=electrode, discs=discs, built_by=request.user, **shared.cleaned_data
            )
        except ValidationError as exc:
            return service_errors(exc)
        built = queries.cells().filter(pk__in=[cell.pk for cell in cells]).order_by("id")
        body = CellsBuiltOut({"electrode": electrode.sample.code, "cells": built}).data
        return Response(body, status=status.HTTP_201_CREATED)


def _cell(code: str) -> CoinCell:
    try:
        return queries.cell_detail(code)
    except CoinCell.DoesNotExist:
        raise NotFound(f"no coin cell has the code {code!r}") from None


class CellDetail(generics.RetrieveAPIView):
    permission_classes = [RulesPermission]
    serializer_class = CellDetailOut

    def get_object(self) -> CoinCell:
        return _cell(self.kwargs["code"])


# --- correct ----------------------------------------------------------------------------------


class CellCorrectIn(ReasonIn):
    disc_mass_mg = serializers.FloatField(required=False)
    foil_disc_mass_mg = serializers.FloatField(required=False)


class CellCorrectedOut(serializers.Serializer):
    cell = CoinCellOut()
    changes = ChangeOut(many=True)
    outdated = serializers.IntegerField(help_text="analyses that used the old active mass")


class CellCorrectView(APIView):
    permission_classes = [RulesPermission]
    kiln_rule = rules.Rule("change", "characterization.coincell", {"sample__code": "code"})

    @extend_schema(
        summary="Correct a cell's disc or foil mass",
        request=CellCorrectIn,
        responses={200: CellCorrectedOut},
    )
    def post(self, request: Request, code: str) -> Response:
        """The active mass, area and loading are computed again; the analyses that used the
        old active mass are counted as outdated until re-run (the cell's page re-runs them)."""
        cell = self.kiln_rule.target({"code": code})
        self.check_object_permissions(request, cell)
        given_values = validated(CellCorrectIn(data=request.data))
        values = {**CellCorrectionForm.initial_of(cell), **given_values}
        data = page_form(CellCorrectionForm, values).cleaned_data
        try:
            done = corrections.cell_correct(cell=cell, user=request.user, **data)
        except ValidationError as exc:
            return service_errors(exc)
        body = {
            "cell": _cell(code),
            "changes": changes_data(done.changes),
            "outdated": len(done.outdated),
        }
        return Response(CellCorrectedOut(body).data)
