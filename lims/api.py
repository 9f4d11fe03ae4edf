"""Sample registry API: list with lineage-aware filters, one sample, and its lineage graph."""

from __future__ import annotations

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import generics, serializers
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from lims import sample_filters
from lims.api_permissions import RulesPermission
from lims.models import Sample, SampleKind, SampleStatus
from lims.sample_queries import sample_by_code, sample_lineage, samples_list


class SampleOut(serializers.ModelSerializer):
    owner = serializers.CharField(source="owner.username", default=None, allow_null=True)
    project = serializers.CharField(source="project.code", default=None, allow_null=True)
    url = serializers.SerializerMethodField()

    class Meta:
        model = Sample
        fields = ["code", "kind", "name", "formula", "status", "location", "owner", "project",
                  "created_at", "notes", "url", "voided_at", "void_reason"]  # fmt: skip

    def get_url(self, sample: Sample) -> str:
        return f"/samples/{sample.code}/"


def _void_flag(value: str) -> bool:
    flag = VOID_FLAGS.get(value.strip().lower())
    if flag is None:
        raise ValidationError({"void": ["must be true or false"]})
    return flag


def _sample_or_error(code: str, field: str) -> Sample:
    sample = sample_by_code(code)
    if sample is None:
        raise ValidationError({field: [f"no sample has the code {code!r}"]})
    return sample


LIST_PARAMETERS = [
    OpenApiParameter("kind", str, enum=SampleKind.values),
    OpenApiParameter("status", str, enum=SampleStatus.values),
    OpenApiParameter("q", str, description="code, name or formula contains"),
    OpenApiParameter("ancestor", str, description="only samples made from this code"),
    OpenApiParameter("descendant", str, description="only samples this code was made from"),
    OpenApiParameter("void", bool, description="true: list void samples too (kept, not listed)"),
]
VOID_FLAGS = {"true": True, "1": True, "false": False, "0": False, "": False}


class SampleList(generics.ListAPIView):
    permission_classes = [RulesPermission]
    serializer_class = SampleOut

    @extend_schema(parameters=LIST_PARAMETERS)
    def get(self, request: Request, *args, **kwargs) -> Response:
        return super().get(request, *args, **kwargs)

    def get_queryset(self):
        params = self.request.query_params
        for name, choices in (("kind", SampleKind.values), ("status", SampleStatus.values)):
            if params.get(name) and params[name] not in choices:
                raise ValidationError({name: [f"must be one of {', '.join(choices)}"]})
        qs = samples_list(
            kind=params.get("kind", ""),
            status=params.get("status", ""),
            search=params.get("q", ""),
            ancestor=_sample_or_error(params["ancestor"], "ancestor")
            if params.get("ancestor") else None,
            descendant=_sample_or_error(params["descendant"], "descendant")
            if params.get("descendant") else None,
            include_void=_void_flag(params.get("void", "")),
        )  # fmt: skip
        for name, sample_filter in sample_filters.registered().items():
            if params.get(name):
                try:
                    qs = sample_filter.apply(qs, params[name])
                except ValueError as exc:
                    raise ValidationError({name: [str(exc)]}) from None
        return qs


class SampleDetail(generics.RetrieveAPIView):
    permission_classes = [RulesPermission]
    serializer_class = SampleOut

    def get_object(self) -> Sample:
        sample = sample_by_code(self.kwargs["code"])
        if sample is None:
            raise NotFound(f"no sample has the code {self.kwargs['code']!r}")
        return sample


class SampleLineage(APIView):
    permission_classes = [RulesPermission]

    @extend_schema(responses=dict)
    def get(self, request: Request, code: str) -> Response:
        """{"sample", "nodes": [sample + "generation"], "edges": [parent, child, role, ...]}"""
        sample = sample_by_code(code)
        if sample is None:
            raise NotFound(f"no sample has the code {code!r}")
        lineage = sample_lineage(sample)
        codes = {pk: s.code for pk, s in lineage.samples.items()}
        nodes = [
            {**SampleOut(s).data, "generation": lineage.generations[pk]}
            for pk, s in sorted(lineage.samples.items(), key=lambda kv: lineage.generations[kv[0]])
        ]
        edges = [
            {"parent": codes[e.parent_id], "child": codes[e.child_id], "role": e.role,
             "amount": e.amount, "amount_unit": e.amount_unit}
            for e in lineage.edges
        ]  # fmt: skip
        return Response({"sample": sample.code, "nodes": nodes, "edges": edges})
