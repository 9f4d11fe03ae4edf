"""HTTP API of the chemistry engine: molar masses, precursor plans, coatings (contract routes).

Typed quantities are held to the bounds of lims.quantities before the engine sees them; a
number out of bounds is HTTP 400 ``{"errors": {"<field>": ["message"]}}``.
"""

from __future__ import annotations

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from lims import quantities
from lims.api_errors import domain_error_response, errors_response
from lims.api_permissions import COMPUTE, RulesPermission
from lims.validators import bounded
from synthesis.chemistry import ChemistryError, PrecursorSpec, parse_formula
from synthesis.chemistry import plan_coating as chem_plan_coating
from synthesis.chemistry import plan_precursors as chem_plan_precursors

DEFAULT_VOLATILES = ["O", "H", "C", "N"]


class PrecursorIn(serializers.Serializer):
    formula = serializers.CharField(trim_whitespace=True)
    name = serializers.CharField(required=False, allow_blank=True)
    # bounds: _precursor_problems (keys as the engine names them, "precursors[0].purity_percent")
    purity_percent = serializers.FloatField(required=False, default=100.0)
    density_g_per_ml = serializers.FloatField(required=False, allow_null=True, default=None)

    def to_spec(self, data: dict) -> PrecursorSpec:
        return PrecursorSpec(**{**data, "name": data.get("name") or None})


class CommonPlanIn(serializers.Serializer):
    precursors = PrecursorIn(many=True, allow_empty=False)
    excess_percent = serializers.DictField(
        child=serializers.FloatField(validators=[bounded("excess_percent")]), required=False
    )
    volatile_elements = serializers.ListField(
        child=serializers.CharField(), required=False, default=DEFAULT_VOLATILES
    )


class PlanIn(CommonPlanIn):
    target_formula = serializers.CharField()
    target_mass_g = serializers.FloatField(
        required=False,
        allow_null=True,
        default=None,
        validators=[bounded("batch_mass_g", "target mass")],
    )
    target_amount_mol = serializers.FloatField(required=False, allow_null=True, default=None)


class CoatingIn(CommonPlanIn):
    substrate_formula = serializers.CharField()
    substrate_mass_g = serializers.FloatField(
        validators=[bounded("batch_mass_g", "substrate mass")]
    )
    coating_formula = serializers.CharField()
    coating_wt_percent = serializers.FloatField(validators=[bounded("coating_wt_percent")])
    basis = serializers.ChoiceField(choices=["substrate", "total"], default="substrate")


def _plan_kwargs(data: dict) -> dict:
    return {
        "precursors": [PrecursorIn().to_spec(p) for p in data.pop("precursors")],
        "excess_percent": data.pop("excess_percent", None) or None,
        "volatile_elements": frozenset(data.pop("volatile_elements")),
        **data,
    }


class MolarMassView(APIView):
    permission_classes = [RulesPermission]

    @extend_schema(parameters=[OpenApiParameter("formula", str, required=True)], responses=dict)
    def get(self, request: Request) -> Response:
        text = request.query_params.get("formula", "")
        if not text.strip():
            return errors_response({"formula": ["give a formula, e.g. ?formula=Li2CO3"]})
        try:
            formula = parse_formula(text, field="formula")
        except ChemistryError as exc:
            return domain_error_response(exc)
        return Response(
            {
                "formula": formula.text,
                "molar_mass_g_per_mol": formula.molar_mass_g_per_mol,
                "elements": dict(formula.elements),
            }
        )


class PlanView(APIView):
    permission_classes = [RulesPermission]
    kiln_rule = COMPUTE

    @extend_schema(request=PlanIn, responses=dict)
    def post(self, request: Request) -> Response:
        data = _validated(PlanIn, request)
        if problems := _precursor_problems(data):
            return problems
        try:
            plan = chem_plan_precursors(**_plan_kwargs(data))
        except ChemistryError as exc:
            return domain_error_response(exc)
        # an amount in mol is held to the batch-mass bound through the molar mass
        too_much = quantities.problem(
            "batch_mass_g", plan.target.mass_g, label="target mass (amount × molar mass)"
        )
        if too_much is not None:
            return errors_response({"target_amount_mol": [too_much]})
        return Response(plan.to_dict())


class CoatingView(APIView):
    permission_classes = [RulesPermission]
    kiln_rule = COMPUTE

    @extend_schema(request=CoatingIn, responses=dict)
    def post(self, request: Request) -> Response:
        data = _validated(CoatingIn, request)
        if problems := _precursor_problems(data):
            return problems
        try:
            plan = chem_plan_coating(**_plan_kwargs(data))
        except ChemistryError as exc:
            return domain_error_response(exc)
        return Response(plan.to_dict())


def _precursor_problems(data: dict) -> Response | None:
    """Purity and density of each precursor within bounds, or a 400 naming the entry."""
    found = quantities.problems(
        check
        for i, p in enumerate(data["precursors"])
        for check in (
            (f"precursors[{i}].purity_percent", "purity_percent", p.get("purity_percent")),
            (f"precursors[{i}].density_g_per_ml", "density_g_per_ml", p.get("density_g_per_ml")),
        )
    )
    return errors_response({k: [m] for k, m in found.items()}) if found else None


def _validated(serializer_class, request: Request) -> dict:
    serializer = serializer_class(data=request.data)
    serializer.is_valid(raise_exception=True)  # -> 400 {"errors": {...}} via lims.api_errors
    return dict(serializer.validated_data)
