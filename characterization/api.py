"""HTTP API of the electrode and structure arithmetic (contract routes).

Typed quantities are held to the bounds of lims.quantities before the arithmetic runs; a
number out of bounds is HTTP 400 ``{"errors": {"<field>": ["message"]}}``. Refined numbers
(a, c, V, z) may be JSON numbers or text with an esd, "2.8589(1)".
"""

from __future__ import annotations

from drf_spectacular.utils import extend_schema, extend_schema_field
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from characterization.analysis.electrode import PROTOCOL_C_RATES, disc_metrics
from characterization.analysis.errors import AnalysisError
from characterization.analysis.structure import Reading, layered_metrics, reading_of
from lims import quantities
from lims.api_errors import domain_error_response, errors_response
from lims.api_permissions import COMPUTE, RulesPermission
from lims.validators import bounded


class DiscMetricsIn(serializers.Serializer):
    disc_diameter_mm = serializers.FloatField(validators=[bounded("disc_diameter_mm")])
    disc_mass_mg = serializers.FloatField(validators=[bounded("disc_mass_mg")])
    foil_disc_mass_mg = serializers.FloatField(validators=[bounded("foil_disc_mass_mg")])
    active_fraction = serializers.FloatField(
        help_text="0.8 for 80 %", validators=[bounded("active_fraction")]
    )
    one_c_ma_per_g = serializers.FloatField(
        required=False, default=250.0, validators=[bounded("one_c_ma_per_g")]
    )
    # each rate is checked in _rate_problems, named as the arithmetic names it: c_rates[1]
    c_rates = serializers.ListField(
        child=serializers.FloatField(), required=False, default=list(PROTOCOL_C_RATES)
    )


@extend_schema_field({"oneOf": [{"type": "number"}, {"type": "string", "example": "2.8589(1)"}]})
class RefinedNumberIn(serializers.Field):
    """A JSON number, or text with an esd ("2.8589(1)"), held to the bounds of ``bound``."""

    def __init__(self, bound: str, **kwargs) -> None:
        self.bound = bound
        super().__init__(**kwargs)

    def to_internal_value(self, data) -> Reading:
        label = quantities.bound(self.bound).label
        try:
            reading = reading_of(data, field=self.field_name, label=label)
        except AnalysisError as exc:
            raise serializers.ValidationError(exc.message) from None
        message = quantities.problem(self.bound, reading.value)
        if message is not None:
            raise serializers.ValidationError(message)
        return reading

    def to_representation(self, value) -> str:
        return str(value)


class LayeredMetricsIn(serializers.Serializer):
    a_angstrom = RefinedNumberIn("lattice_a_angstrom")
    c_angstrom = RefinedNumberIn("lattice_c_angstrom")
    z_oxygen = RefinedNumberIn("z_oxygen")
    origin = serializers.ChoiceField(choices=["transition_metal", "lithium"])
    volume_angstrom3 = RefinedNumberIn(
        "cell_volume_angstrom3", required=False, allow_null=True, default=None
    )


class DiscMetricsView(APIView):
    permission_classes = [RulesPermission]
    kiln_rule = COMPUTE

    @extend_schema(request=DiscMetricsIn, responses=dict)
    def post(self, request: Request) -> Response:
        return _compute(DiscMetricsIn, request, disc_metrics)


class LayeredMetricsView(APIView):
    permission_classes = [RulesPermission]
    kiln_rule = COMPUTE

    @extend_schema(request=LayeredMetricsIn, responses=dict)
    def post(self, request: Request) -> Response:
        return _compute(LayeredMetricsIn, request, layered_metrics)


def _compute(serializer_class, request: Request, function) -> Response:
    serializer = serializer_class(data=request.data)
    serializer.is_valid(raise_exception=True)  # -> 400 {"errors": {...}} via lims.api_errors
    found = _rate_problems(serializer.validated_data.get("c_rates"))
    if found:
        return errors_response({field: [message] for field, message in found.items()})
    try:
        result = function(**serializer.validated_data)
    except AnalysisError as exc:
        return domain_error_response(exc)
    return Response(result.to_dict())


def _rate_problems(rates) -> dict[str, str]:
    if rates is None:
        return {}
    return quantities.problems((f"c_rates[{i}]", "c_rate", rate) for i, rate in enumerate(rates))
