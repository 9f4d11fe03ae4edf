"""Results in the REST API v1: a result's summary JSON (by id, or the latest in use of one
analysis for a measurement), its tables as CSV, Excel or Parquet (by the URL's extension), and
its figures as the plotly JSON the job page draws.

Every download carries a strong ETag (the result's cache key and void state, and the content's
hash) and `Cache-Control: private, no-cache`; `If-None-Match` with it answers 304. A void result
is still served by its id, flagged (`voided_at`, `void_reason`, and a `Kiln-Void` header on the
files), as its job page still shows it; the latest-result route uses only results in use
(queries.IN_USE), as the measurement page does."""

from __future__ import annotations

import hashlib
import json
import re

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import serializers
from rest_framework.exceptions import NotFound
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from characterization.jobs import api_tables, queries
from characterization.jobs.api_out import absolute, record_id
from characterization.jobs.definitions import title_of
from characterization.jobs.models import AnalysisJob, AnalysisResult, JobStatus
from characterization.jobs.presenting import FIGURE_ORDER
from characterization.models import Measurement
from lims.api_permissions import RulesPermission

NOT_MODIFIED = OpenApiResponse(description="If-None-Match named the current ETag: no body")


class ResultTableOut(serializers.Serializer):
    name = serializers.CharField()
    size = serializers.IntegerField(help_text="the stored CSV's size in bytes")
    sha256 = serializers.CharField(help_text="the stored CSV's SHA-256")
    csv = serializers.URLField()
    xlsx = serializers.URLField()
    parquet = serializers.URLField()


class ResultFigureOut(serializers.Serializer):
    name = serializers.CharField()
    url = serializers.URLField(help_text="the plotly figure ({data, layout}) as JSON")


class ResultOut(serializers.Serializer):
    id = serializers.IntegerField()
    url = serializers.URLField()
    kind = serializers.CharField()
    title = serializers.CharField()
    version = serializers.IntegerField(help_text="the analysis' code version")
    parser_version = serializers.CharField()
    cache_key = serializers.CharField()
    created_at = serializers.DateTimeField()
    input_sha256 = serializers.ListField(child=serializers.CharField())
    parameters = serializers.JSONField()
    active_mass_mg = serializers.FloatField(allow_null=True)
    cell_context = serializers.JSONField()
    summary = serializers.JSONField(help_text="the analysis' summary (keys per kind)")
    warnings = serializers.JSONField(help_text="[{code, message, cycles, severity}], flags first")
    flags = serializers.IntegerField(help_text="warnings that say the numbers may be wrong")
    tables = ResultTableOut(many=True)
    figures = ResultFigureOut(many=True)
    voided_at = serializers.DateTimeField(allow_null=True)
    void_reason = serializers.CharField()
    job = serializers.JSONField(
        allow_null=True,
        help_text="{id, url, measurement, file} of the job it was reached through (the "
        "latest-result route)",
    )


def result_or_404(pk: int | str, *defer: str) -> AnalysisResult:
    number = record_id(pk)
    result = AnalysisResult.objects.defer(*defer).filter(pk=number).first() if number else None
    if result is None:
        raise NotFound(f"no analysis result {pk}")
    return result


def figure_names(result: AnalysisResult) -> list[str]:
    """The figures in the job page's reading order (presenting.figures_of)."""
    figures = result.figures or {}
    return [n for n in FIGURE_ORDER if n in figures] + sorted(
        n for n in figures if n not in FIGURE_ORDER
    )


def result_body(request: Request, result: AnalysisResult, job: AnalysisJob | None = None) -> dict:
    def link(name: str, *args) -> str:
        return absolute(request, name, result.pk, *args)

    tables = [
        {"name": a["name"], "size": a.get("size"), "sha256": a.get("sha256"),
         **{fmt: link("result-table", f"{a['name']}.{fmt}") for fmt in api_tables.FORMATS}}
        for a in result.artifacts or []
    ]  # fmt: skip
    warnings = sorted(result.warnings or [], key=lambda w: w.get("severity") != "flag")
    body = {
        "id": result.pk,
        "url": link("result"),
        "kind": result.kind,
        "title": title_of(result.kind),
        "version": result.kind_version,
        "parser_version": result.parser_version,
        "cache_key": result.cache_key,
        "created_at": result.created_at,
        "input_sha256": result.input_checksums,
        "parameters": result.parameters,
        "active_mass_mg": result.active_mass_mg,
        "cell_context": result.cell_context,
        "summary": result.summary,
        "warnings": warnings,
        "flags": len(result.flags),
        "tables": tables,
        "figures": [{"name": n, "url": link("result-figure", n)} for n in figure_names(result)],
        "voided_at": result.voided_at,
        "void_reason": result.void_reason,
        "job": None,
    }
    if job is not None:
        body["job"] = {"id": job.pk, "url": absolute(request, "job", job.pk),
                       "measurement": job.measurement.sample.code,
                       "file": {"name": job.raw_file.original_name,
                                "sha256": job.raw_file.sha256}}  # fmt: skip
    return ResultOut(body).data


def summary_response(request: Request, result: AnalysisResult, job=None) -> Response:
    body = result_body(request, result, job)
    content = json.dumps(body, sort_keys=True, default=str).encode()
    etag = api_tables.etag_of(result, "summary", hashlib.sha256(content).hexdigest())
    if unchanged := api_tables.not_modified(request, etag):
        return unchanged
    return api_tables.with_cache_headers(Response(body), etag)


def _flagged(response, result: AnalysisResult):
    if result.voided_at:
        response["Kiln-Void"] = re.sub(r"[\r\n]+", " ", result.void_reason or "void")
    return response


class ResultDetail(APIView):
    permission_classes = [RulesPermission]

    @extend_schema(summary="A result's summary, warnings, table and figure URLs",
                   responses={200: ResultOut, 304: NOT_MODIFIED})  # fmt: skip
    def get(self, request: Request, pk: str) -> Response:
        return summary_response(request, result_or_404(pk, "figures"))


class MeasurementResult(APIView):
    """The latest result in use of one analysis (e.g. cycling_summary) for a measurement: its
    newest succeeded job of that analysis whose job, result, file and measurement are not
    void; `?file=<sha256>` chooses among the measurement's files."""

    permission_classes = [RulesPermission]

    @extend_schema(
        summary="The latest result of an analysis for a measurement",
        parameters=[OpenApiParameter("file", str, description="the SHA-256 of one of its files")],
        responses={200: ResultOut, 304: NOT_MODIFIED},
    )
    def get(self, request: Request, code: str, kind: str) -> Response:
        if not Measurement.objects.filter(sample__code=code).exists():
            raise NotFound(f"no measurement has the code {code!r}")
        done = queries.jobs().filter(
            queries.IN_USE, measurement__sample__code=code, kind=kind, status=JobStatus.SUCCEEDED
        )
        if sha256 := request.query_params.get("file", "").strip().lower():
            done = done.filter(raw_file__sha256=sha256)
        job = done.defer("result__figures").order_by("-finished_at", "-id").first()
        if job is None:
            raise NotFound(f"measurement {code} has no result of {kind!r} in use")
        return summary_response(request, job.result, job)


class ResultTable(APIView):
    """A result table by the URL's extension: `.csv` (the stored table, streamed), `.xlsx`
    (numbers as numbers, the warnings on a second sheet) or `.parquet`."""

    permission_classes = [RulesPermission]

    def perform_content_negotiation(self, request, force=False):
        # the extension decides the format; an Accept of text/csv must not make this a 406
        return super().perform_content_negotiation(request, force=True)

    @extend_schema(summary="A result table as CSV, Excel or Parquet",
                   responses={(200, "*/*"): OpenApiTypes.BINARY, 304: NOT_MODIFIED})  # fmt: skip
    def get(self, request: Request, pk: str, filename: str):
        name, _, fmt = filename.rpartition(".")
        if fmt not in api_tables.FORMATS:
            known = ", ".join(f".{f}" for f in api_tables.FORMATS)
            raise NotFound(f"no table format {fmt!r}: end the URL in {known}")
        result = result_or_404(pk, "figures", "summary")
        artifact = result.artifact(name)
        path = queries.artifact_file(result, name)
        if artifact is None or path is None:
            raise NotFound(f"result {pk} has no table {name!r}")
        etag = api_tables.etag_of(result, "table", name, fmt, artifact.get("sha256", ""))
        if unchanged := api_tables.not_modified(request, etag):
            return unchanged
        stem = re.sub(r"[^A-Za-z0-9_.-]+", "_", f"{result.kind}_{name}_{result.cache_key[:12]}")
        response = api_tables.table_response(result, path, name, fmt, stem)
        return _flagged(api_tables.with_cache_headers(response, etag), result)


class ResultFigure(APIView):
    """A figure as the job page draws it: plotly's {data, layout} JSON."""

    permission_classes = [RulesPermission]

    @extend_schema(summary="A result figure as plotly JSON",
                   responses={200: OpenApiTypes.OBJECT, 304: NOT_MODIFIED})  # fmt: skip
    def get(self, request: Request, pk: str, name: str) -> Response:
        result = result_or_404(pk, "summary")
        figure = (result.figures or {}).get(name)
        if figure is None:
            raise NotFound(f"result {pk} has no figure {name!r}")
        content = json.dumps(figure, sort_keys=True).encode()
        etag = api_tables.etag_of(result, "figure", name, hashlib.sha256(content).hexdigest())
        if unchanged := api_tables.not_modified(request, etag):
            return unchanged
        return _flagged(api_tables.with_cache_headers(Response(figure), etag), result)
