"""Electrode sheets through the API: list (filters), one sheet, and register one as the
electrode page does (its ElectrodeForm with the page's defaults, then services.electrode_build:
the slurry computed, the active mass drawn from the powder's stock)."""

from __future__ import annotations

import django_filters
from django.core.exceptions import ValidationError
from django.db.models import Q
from drf_spectacular.utils import extend_schema
from rest_framework import generics, serializers, status
from rest_framework.exceptions import NotFound
from rest_framework.request import Request
from rest_framework.response import Response

from characterization import forms, queries, services
from characterization.api_common import ListCreateView, LiveFilterSet, given, page_form
from characterization.models import CastingMethod, Electrode
from lims import rules
from lims.api_permissions import RulesPermission
from lims.api_sample_write import service_errors, validated
from synthesis.models import Lot


class DryingStepSerializer(serializers.Serializer):
    temperature_c = serializers.FloatField()
    duration_h = serializers.FloatField(required=False, allow_null=True, default=None)
    vacuum = serializers.BooleanField(required=False, default=False)


class ElectrodeOut(serializers.ModelSerializer):
    code = serializers.CharField(source="sample.code")
    name = serializers.CharField(source="sample.name")
    active_material = serializers.CharField(source="active_material.code")
    made_by = serializers.CharField(source="made_by.username", default=None, allow_null=True)
    carbon_lot = serializers.CharField(source="carbon_lot.sample.code", default=None,
                                       allow_null=True)  # fmt: skip
    binder_lot = serializers.CharField(source="binder_lot.sample.code", default=None,
                                       allow_null=True)  # fmt: skip
    drying_steps = DryingStepSerializer(many=True)
    active_fraction = serializers.FloatField()
    notes = serializers.CharField(source="sample.notes")
    voided_at = serializers.DateTimeField(source="sample.voided_at", allow_null=True)
    url = serializers.SerializerMethodField()

    class Meta:
        model = Electrode
        fields = [
            "code", "name", "active_material", "made_by", "made_on", "created_at",
            "ratio_active_percent", "ratio_carbon_percent", "ratio_binder_percent",
            "active_fraction", "active_mass_g", "solid_content_percent", "carbon_mass_g",
            "binder_mass_g", "solvent_mass_g", "carbon_name", "carbon_lot", "binder_name",
            "binder_lot", "solvent", "current_collector", "collector_thickness_um",
            "particle_d50_um", "casting_method", "casting_thickness_um", "drying_steps",
            "disc_diameter_mm", "foil_disc_mass_mg", "one_c_ma_per_g", "notes", "voided_at",
            "url",
        ]  # fmt: skip

    def get_url(self, electrode: Electrode) -> str:
        return f"/cells/electrodes/{electrode.sample.code}/"


class ElectrodeDetailOut(ElectrodeOut):
    cells = serializers.SerializerMethodField()

    class Meta(ElectrodeOut.Meta):
        fields = [*ElectrodeOut.Meta.fields, "cells"]

    def get_cells(self, electrode: Electrode) -> list[str]:
        return [cell.sample.code for cell in electrode.cells.all()]


#: the electrode page's fields (characterization.forms.ElectrodeForm), by the same names
FORM_FIELDS = (
    "name", "ratio_active_percent", "ratio_carbon_percent", "ratio_binder_percent",
    "active_mass_g", "solid_content_percent", "carbon_name", "binder_name", "solvent",
    "current_collector", "collector_thickness_um", "particle_d50_um", "casting_method",
    "casting_thickness_um", "disc_diameter_mm", "foil_disc_mass_mg", "one_c_ma_per_g",
    "made_on", "notes",
)  # fmt: skip


def _number(**kwargs) -> serializers.FloatField:
    return serializers.FloatField(required=False, **kwargs)


class ElectrodeIn(serializers.Serializer):
    """Absent fields take the electrode page's defaults (80:10:10, 40 % solids, carbon black,
    PVDF, NMP, Al foil 16 µm, blade gap 200 µm, 12 mm discs, today, the lab's drying)."""

    active_material = serializers.CharField(help_text="the cathode powder's code")
    active_mass_g = serializers.FloatField(help_text="active material weighed into the slurry")
    name = serializers.CharField(max_length=200, required=False, allow_blank=True,
                                 help_text="blank: '<powder> electrode'")  # fmt: skip
    ratio_active_percent = _number()
    ratio_carbon_percent = _number()
    ratio_binder_percent = _number()
    solid_content_percent = _number()
    carbon_name = serializers.CharField(max_length=120, required=False)
    carbon_lot = serializers.CharField(required=False, allow_null=True,
                                       help_text="the carbon lot's sample code")  # fmt: skip
    binder_name = serializers.CharField(max_length=120, required=False)
    binder_lot = serializers.CharField(required=False, allow_null=True,
                                       help_text="the binder lot's sample code")  # fmt: skip
    solvent = serializers.CharField(max_length=60, required=False)
    current_collector = serializers.CharField(max_length=60, required=False)
    collector_thickness_um = _number(allow_null=True)
    particle_d50_um = _number(allow_null=True)
    casting_method = serializers.ChoiceField(CastingMethod.values, required=False)
    casting_thickness_um = _number()
    disc_diameter_mm = _number()
    foil_disc_mass_mg = _number(allow_null=True, help_text="the usual bare foil disc mass")
    one_c_ma_per_g = _number()
    made_on = serializers.DateField(required=False)
    notes = serializers.CharField(required=False, allow_blank=True)
    drying_steps = DryingStepSerializer(
        many=True, required=False, max_length=forms.DRYING_ROWS,
        help_text="absent: 80 °C, then 12 h at 120 °C under vacuum",
    )  # fmt: skip


def _lot_id(code: str | None, field: str) -> int | None:
    if not code:
        return None
    lot = Lot.objects.filter(sample__code__iexact=code.strip()).first()
    if lot is None:
        raise serializers.ValidationError({field: [f"no lot has the sample code {code!r}"]})
    return lot.pk


def _form_kwargs(data: dict) -> dict:
    """electrode_build's arguments from ElectrodeForm, as the page passes them."""
    values = given(data, FORM_FIELDS)
    values["active_material"] = data["active_material"].strip().upper()
    for field in ("carbon_lot", "binder_lot"):
        values[field] = _lot_id(data.get(field), field)
    form = page_form(_ElectrodeForm, values)  # the page's defaults fill what is absent
    kwargs = form.service_kwargs()
    kwargs["drying_steps"] = data.get("drying_steps")  # None: the lab's drying, as the page's
    return kwargs


class _ElectrodeForm(forms.ElectrodeForm):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["active_material"].error_messages["invalid_choice"] = (
            "no cathode powder has the code %(value)s"
        )


class ElectrodeFilter(LiveFilterSet):
    active_material = django_filters.CharFilter(
        field_name="active_material__code", lookup_expr="iexact", label="the powder's code"
    )
    owner = django_filters.CharFilter(method="owned_by", label="username of who made it")
    made_from = django_filters.DateFilter(field_name="made_on", lookup_expr="gte")
    made_to = django_filters.DateFilter(field_name="made_on", lookup_expr="lte")
    void = django_filters.BooleanFilter(method="with_void", label="true: void sheets too")

    class Meta:
        model = Electrode
        fields: list[str] = []

    def owned_by(self, queryset, name, value):
        return queryset.filter(
            Q(made_by__username=value) | Q(made_by__isnull=True, sample__owner__username=value)
        )


class ElectrodeList(ListCreateView):
    serializer_class = ElectrodeOut
    filterset_class = ElectrodeFilter
    kiln_rule = rules.Rule("create", "characterization.electrode")

    def get_queryset(self):
        return queries.electrodes().select_related("sample", "carbon_lot__sample",
                                                   "binder_lot__sample")  # fmt: skip

    @extend_schema(
        summary="Register an electrode sheet",
        request=ElectrodeIn,
        responses={201: ElectrodeDetailOut},
    )
    def post(self, request: Request) -> Response:
        """As the electrode page: the slurry computed from the active mass, the ratio and the
        solid content; lineage powder -> electrode; the active mass drawn from the powder's
        stock (more than is left is refused)."""
        kwargs = _form_kwargs(validated(ElectrodeIn(data=request.data)))
        try:
            electrode = services.electrode_build(made_by=request.user, **kwargs)
        except ValidationError as exc:
            return service_errors(exc, {"ratio": "ratio_active_percent"})
        body = ElectrodeDetailOut(queries.electrode_detail(electrode.sample.code)).data
        return Response(body, status=status.HTTP_201_CREATED)


class ElectrodeDetail(generics.RetrieveAPIView):
    permission_classes = [RulesPermission]
    serializer_class = ElectrodeDetailOut

    def get_object(self) -> Electrode:
        try:
            return queries.electrode_detail(self.kwargs["code"])
        except Electrode.DoesNotExist:
            raise NotFound(f"no electrode has the code {self.kwargs['code']!r}") from None
