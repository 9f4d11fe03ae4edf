"""Analyses in the REST API v1 (issue 11 §1): analysis definitions (read), jobs (list with
filters and a cursor, detail with progress and provenance, re-run, cancel). Results and their
downloads are in api_results.py.

Views are thin: the reads are the jobs pages' (queries.py), re-run and cancel call
enqueue.job_rerun / enqueue.job_cancel, and lims.rules decides who may ("run" on the job, as the
pages' guard: a chemist runs the jobs of measurements they own, a lab manager any)."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import generics, status
from rest_framework.exceptions import NotFound
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from characterization.jobs import enqueue, queries
from characterization.jobs.api_filters import JobFilter
from characterization.jobs.api_out import (
    AnalysisDefinitionOut,
    JobActionOut,
    JobDetailOut,
    JobOut,
    record_id,
)
from characterization.jobs.models import AnalysisDefinition, AnalysisJob
from lims import rules
from lims.api_errors import ErrorsOut, errors_response
from lims.api_pagination import cursor_pagination
from lims.api_permissions import RulesPermission

RUN = rules.Rule("run", "jobs.analysisjob", {"pk": "pk"})  # the jobs pages' guard


class DefinitionList(generics.ListAPIView):
    """The analysis definitions: which analysis, its version, the table it reads, its
    parameters (with their schema and defaults)."""

    permission_classes = [RulesPermission]
    serializer_class = AnalysisDefinitionOut
    queryset = AnalysisDefinition.objects.order_by("name")
    filterset_fields = ["kind", "enabled"]


class DefinitionDetail(generics.RetrieveAPIView):
    permission_classes = [RulesPermission]
    serializer_class = AnalysisDefinitionOut
    queryset = AnalysisDefinition.objects.all()

    def get_object(self) -> AnalysisDefinition:
        pk = record_id(self.kwargs["pk"])
        definition = AnalysisDefinition.objects.filter(pk=pk).first() if pk else None
        if definition is None:
            raise NotFound(f"no analysis definition {self.kwargs['pk']}")
        return definition


class JobList(generics.ListAPIView):
    """Analysis jobs, newest first, with a cursor (`?limit=`, then follow `next`). Void jobs
    and the jobs of void measurements are left out unless `void=true`, as on the jobs page."""

    permission_classes = [RulesPermission]
    serializer_class = JobOut
    filterset_class = JobFilter
    pagination_class = cursor_pagination("-created_at", "-id")

    def get_queryset(self):
        return queries.jobs().defer("result__summary", "result__figures", "result__artifacts")


def job_or_404(pk: int | str) -> AnalysisJob:
    try:
        return queries.job_detail(record_id(pk))
    except AnalysisJob.DoesNotExist:
        raise NotFound(f"no analysis job {pk}") from None


class JobDetail(APIView):
    permission_classes = [RulesPermission]

    @extend_schema(summary="One job: progress, error, provenance", responses=JobDetailOut)
    def get(self, request: Request, pk: str) -> Response:
        job = job_or_404(pk)
        body = JobDetailOut(job, context={"request": request}).data
        if note := queries.broker_note([job]):
            body["progress"]["message"] = f"{body['progress']['message']} ({note})"
        return Response(body)


def _action(request: Request, message: str, job: AnalysisJob, code: int = 200) -> Response:
    fresh = job_or_404(job.pk)
    body = JobActionOut({"message": message, "job": fresh}, context={"request": request}).data
    return Response(body, status=code)


class JobRerun(APIView):
    """POST: run the job's definition again on the same file, with today's code, parameters
    and active mass (enqueue.job_rerun). 201 with the new job; identical inputs reuse the
    stored result (the new job has succeeded at once); 200 with the same job while it is still
    queued or running."""

    permission_classes = [RulesPermission]
    kiln_rule = RUN

    @extend_schema(summary="Re-run a job", request=None,
                   responses={201: JobActionOut, 200: JobActionOut})  # fmt: skip
    def post(self, request: Request, pk: str) -> Response:
        job = job_or_404(pk)
        self.check_object_permissions(request, job)
        try:
            new = enqueue.job_rerun(job=job, user=request.user)
        except ValidationError as exc:
            return errors_response(exc.message_dict)
        if new.pk == job.pk:
            return _action(request, f"Job {job.pk} is still {job.get_status_display().lower()}.",
                           job)  # fmt: skip
        if new.reused:
            message = f"Job {new.pk}: identical inputs, the stored result was reused."
        elif note := queries.broker_note([new]):
            message = f"Job {new.pk}: {note}"
        else:
            message = f"Job {new.pk} queued."
        return _action(request, message, new, status.HTTP_201_CREATED)


class JobCancel(APIView):
    """POST: cancel a queued or running job (enqueue.job_cancel); a running one stops at its
    next progress report and writes nothing. 409 when the job had already finished."""

    permission_classes = [RulesPermission]
    kiln_rule = RUN

    @extend_schema(
        summary="Cancel a job",
        request=None,
        responses={
            200: JobActionOut,
            409: OpenApiResponse(ErrorsOut, description="the job had already finished"),
        },
    )
    def post(self, request: Request, pk: str) -> Response:
        job = job_or_404(pk)
        self.check_object_permissions(request, job)
        if not enqueue.job_cancel(job=job, user=request.user):
            sentence = f"Job {job.pk} had already finished; nothing to cancel."
            return errors_response({"non_field_errors": [sentence]}, status.HTTP_409_CONFLICT)
        return _action(request, f"Job {job.pk} cancelled.", job)
