"""HTTP API of the electrode and structure arithmetic (contract routes)."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from characterization.analysis.electrode import PROTOCOL_C_RATES, disc_metrics
from characterization.analysis.errors import AnalysisError
from characterization.analysis.structure import layered_metrics
from lims.api_errors import domain_error_response


class DiscMetricsIn(serializers.Serializer):
    disc_diameter_mm = serializers.FloatField()
    disc_mass_mg = serializers.FloatField()
    foil_disc_mass_mg = serializers.FloatField()
    active_fraction = serializers.FloatField(help_text="0.8 for 80 %")
    one_c_ma_per_g = serializers.FloatField(required=False, default=250.0)
    c_rates = serializers.ListField(
        child=serializers.FloatField(), required=False, default=list(PROTOCOL_C_RATES)
    )


class LayeredMetricsIn(serializers.Serializer):
    a_angstrom = serializers.FloatField()
    c_angstrom = serializers.FloatField()
    z_oxygen = serializers.FloatField()
    origin = serializers.ChoiceField(choices=["transition_metal", "lithium"])
    volume_angstrom3 = serializers.FloatField(required=False, allow_null=True, default=None)


class DiscMetricsView(APIView):
    @extend_schema(request=DiscMetricsIn, responses=dict)
    def post(self, request: Request) -> Response:
        return _compute(DiscMetricsIn, request, disc_metrics)


class LayeredMetricsView(APIView):
    @extend_schema(request=LayeredMetricsIn, responses=dict)
    def post(self, request: Request) -> Response:
        return _compute(LayeredMetricsIn, request, layered_metrics)


def _compute(serializer_class, request: Request, function) -> Response:
    serializer = serializer_class(data=request.data)
    serializer.is_valid(raise_exception=True)  # -> 400 {"errors": {...}} via lims.api_errors
    try:
        result = function(**serializer.validated_data)
    except AnalysisError as exc:
        return domain_error_response(exc)
    return Response(result.to_dict())
