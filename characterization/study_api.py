"""GET /api/v1/study/?group=Name:selector&group=... : the study table as JSON, the same as the
page (characterization.study_queries.table_data; rules in characterization.analysis.study)."""

from __future__ import annotations

from drf_spectacular.utils import OpenApiExample, OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from characterization import study_queries
from characterization.analysis import study
from lims.api_errors import errors_response
from lims.api_permissions import RulesPermission


class ResultLinkOut(serializers.Serializer):
    source = serializers.ChoiceField(choices=[study.JOB, study.REFINED])
    id = serializers.IntegerField(help_text="the analysis job's pk, or the refinement's")
    kind = serializers.CharField(help_text="analysis kind, or 'refinement'")
    measurement = serializers.CharField(help_text="the measurement's code")
    url = serializers.CharField(help_text="the result's page")


class ValueOut(serializers.Serializer):
    subject = serializers.CharField(help_text="the measured sample's code")
    value = serializers.FloatField()
    text = serializers.CharField()
    results = ResultLinkOut(many=True)


class CellOut(serializers.Serializer):
    group = serializers.CharField()
    mean = serializers.FloatField(allow_null=True)
    sd = serializers.FloatField(allow_null=True, help_text="sample sd (n − 1); null for n < 2")
    n = serializers.IntegerField()
    min = serializers.FloatField(allow_null=True, help_text="range rows: lowest single value")
    max = serializers.FloatField(allow_null=True, help_text="range rows: highest single value")
    text = serializers.CharField(help_text='"mean ± sd (n)"')
    range_text = serializers.CharField()
    values = ValueOut(many=True)


class RowOut(serializers.Serializer):
    key = serializers.CharField()
    section = serializers.CharField()
    label = serializers.CharField()
    unit = serializers.CharField()
    digits = serializers.IntegerField()
    log_range = serializers.BooleanField()
    range_unit = serializers.CharField()
    cells = CellOut(many=True)


class GroupOut(serializers.Serializer):
    name = serializers.CharField()
    spec = serializers.CharField(help_text="the group as Name:selector, canonical")
    roots = serializers.ListField(child=serializers.CharField())
    members = serializers.DictField(child=serializers.IntegerField(), help_text="kind -> count")
    measured_samples = serializers.IntegerField()


class ReasonOut(serializers.Serializer):
    code = serializers.CharField()
    message = serializers.CharField()


class LeftOutOut(serializers.Serializer):
    group = serializers.CharField()
    subject = serializers.CharField()
    result = ResultLinkOut()
    reasons = ReasonOut(many=True)
    metrics = serializers.ListField(child=serializers.CharField())


class StudyOut(serializers.Serializer):
    version = serializers.CharField()
    groups = GroupOut(many=True)
    rows = RowOut(many=True)
    left_out = LeftOutOut(many=True)


class GroupErrorsOut(serializers.Serializer):
    errors = serializers.DictField(
        child=serializers.ListField(child=serializers.CharField()),
        help_text='{"group": ["one sentence per group that cannot be read or resolved"]}',
    )


GROUP_PARAMETER = OpenApiParameter(
    "group",
    str,
    many=True,
    required=True,
    explode=True,
    description=f"A group, repeated for each column. {study.SYNTAX}",
    examples=[
        OpenApiExample("ancestor sample", value="Pristine:CAT-2026-0001"),
        OpenApiExample("recipe", value="LSO:recipe=5"),
        OpenApiExample("coating", value="NSO:coating=Na2SiO3;calcination_temperature_c=750"),
    ],
)


class StudyView(APIView):
    permission_classes = [RulesPermission]  # GET: a role; the study only reads

    @extend_schema(
        summary="The study table: groups side by side, metric by metric",
        description=(
            "Per metric (row) and group: mean, sample sd and n over the group's measured "
            "samples, each sample's value with the results it was taken from, and the flagged "
            "results left out with their reasons. Rules: characterization.analysis.study."
        ),
        parameters=[GROUP_PARAMETER],
        responses={
            200: StudyOut,
            400: OpenApiResponse(
                GroupErrorsOut,
                description="no group, a group that cannot be read, an unknown sample or "
                "recipe, or a group matching no sample",
            ),
        },
    )
    def get(self, request: Request) -> Response:
        try:
            table = study_queries.study_table(request.query_params.getlist("group"))
        except study.StudyInputError as exc:
            return errors_response({"group": exc.messages})
        return Response(study_queries.table_data(table))
