"""What the analyses API answers (characterization.jobs.api): analysis definitions, and jobs
with their progress and provenance. The serializers document the shapes in /api/schema/."""

from __future__ import annotations

from django.urls import reverse
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from characterization.analysis.errors import AnalysisError
from characterization.jobs.definitions import kind_of, title_of
from characterization.jobs.models import AnalysisDefinition, AnalysisJob, JobStatus

MAX_ID = 2**31 - 1  # PostgreSQL's integer


def record_id(text: object) -> int | None:
    """A record id from a URL (routes take text, so that a bad id is the API's JSON 404, not
    Django's HTML one), None when it cannot be one."""
    text = str(text)
    return int(text) if text.isascii() and text.isdigit() and int(text) <= MAX_ID else None


def absolute(request, name: str, *args) -> str:
    """The absolute URL of the API route `name` (the `api:` namespace)."""
    path = reverse(f"api:{name}", args=args)
    return request.build_absolute_uri(path) if request is not None else path


# --- definitions ------------------------------------------------------------------------------


class AnalysisParamOut(serializers.Serializer):
    name = serializers.CharField()
    label = serializers.CharField()
    type = serializers.CharField(help_text='"float", "int", "floats" or "text"')
    default = serializers.JSONField(allow_null=True, help_text="null: optional, no value")
    minimum = serializers.FloatField(allow_null=True)
    maximum = serializers.FloatField(allow_null=True)
    choices = serializers.ListField(child=serializers.CharField())


class AnalysisDefinitionOut(serializers.ModelSerializer):
    url = serializers.SerializerMethodField()
    title = serializers.SerializerMethodField()
    version = serializers.SerializerMethodField(
        help_text="the analysis' code version (null: this Kiln no longer knows the analysis)"
    )
    table_kind = serializers.SerializerMethodField(help_text="the table its analysis reads")
    parameter_schema = serializers.SerializerMethodField()
    defaults = serializers.SerializerMethodField(help_text="each parameter's default value")

    class Meta:
        model = AnalysisDefinition
        fields = ["id", "url", "name", "kind", "title", "version", "table_kind", "parameters",
                  "defaults", "parameter_schema", "auto_run_for", "enabled", "description",
                  "created_at", "updated_at"]  # fmt: skip

    def get_url(self, definition: AnalysisDefinition) -> str:
        return absolute(self.context.get("request"), "analysis-definition", definition.pk)

    def get_title(self, definition: AnalysisDefinition) -> str:
        return title_of(definition.kind)

    def _kind(self, definition: AnalysisDefinition):
        try:
            return kind_of(definition.kind)
        except AnalysisError:
            return None

    def get_version(self, definition: AnalysisDefinition) -> int | None:
        kind = self._kind(definition)
        return kind.version if kind else None

    def get_table_kind(self, definition: AnalysisDefinition) -> str | None:
        kind = self._kind(definition)
        return kind.table_kind if kind else None

    @extend_schema_field(AnalysisParamOut(many=True))
    def get_parameter_schema(self, definition: AnalysisDefinition) -> list[dict]:
        kind = self._kind(definition)
        params = kind.params if kind else ()
        return [
            {"name": p.name, "label": p.label, "type": p.type, "default": p.default,
             "minimum": p.minimum, "maximum": p.maximum, "choices": list(p.choices)}
            for p in params
        ]  # fmt: skip

    @extend_schema_field(serializers.DictField())
    def get_defaults(self, definition: AnalysisDefinition) -> dict:
        kind = self._kind(definition)
        return {p.name: p.default for p in kind.params} if kind else {}


# --- jobs -------------------------------------------------------------------------------------


class JobProgressOut(serializers.Serializer):
    state = serializers.ChoiceField(choices=JobStatus.choices, source="status")
    percent = serializers.IntegerField(source="progress_percent")
    message = serializers.CharField(source="progress_message")
    attempts = serializers.IntegerField()
    worker = serializers.CharField()
    enqueued_at = serializers.DateTimeField()
    started_at = serializers.DateTimeField(allow_null=True)
    heartbeat_at = serializers.DateTimeField(allow_null=True)
    finished_at = serializers.DateTimeField(allow_null=True)
    duration_s = serializers.FloatField(allow_null=True)


class JobFileOut(serializers.Serializer):
    name = serializers.CharField(source="original_name")
    sha256 = serializers.CharField()
    format = serializers.CharField(source="detected_format")
    voided_at = serializers.DateTimeField(allow_null=True)
    void_reason = serializers.CharField()


class JobOut(serializers.ModelSerializer):
    """A job as the jobs list shows it."""

    url = serializers.SerializerMethodField()
    definition = serializers.SerializerMethodField()
    measurement = serializers.CharField(source="measurement.sample.code")
    subject = serializers.CharField(source="measurement.subject.code",
                                    help_text="the measured cell or sample")  # fmt: skip
    file = JobFileOut(source="raw_file")
    progress = JobProgressOut(source="*")
    result = serializers.SerializerMethodField(help_text="the result's URL (null: none yet)")

    class Meta:
        model = AnalysisJob
        fields = ["id", "url", "status", "definition", "kind", "measurement", "subject", "file",
                  "progress", "error", "reused", "result", "created_at", "voided_at",
                  "void_reason"]  # fmt: skip

    def get_url(self, job: AnalysisJob) -> str:
        return absolute(self.context.get("request"), "job", job.pk)

    @extend_schema_field(serializers.DictField())
    def get_definition(self, job: AnalysisJob) -> dict:
        url = absolute(self.context.get("request"), "analysis-definition", job.definition_id)
        return {"id": job.definition_id, "name": job.definition.name, "url": url}

    def get_result(self, job: AnalysisJob) -> str | None:
        if job.result_id is None:
            return None
        return absolute(self.context.get("request"), "result", job.result_id)


class JobProvenanceOut(serializers.Serializer):
    """Everything that decides the numbers; the cache key is the SHA-256 of it."""

    input_sha256 = serializers.ListField(child=serializers.CharField(), source="input_checksums")
    analysis = serializers.SerializerMethodField()
    parser_version = serializers.CharField()
    parameters = serializers.JSONField()
    active_mass_mg = serializers.FloatField(allow_null=True)
    cell_context = serializers.JSONField()
    column_mapping = serializers.JSONField()
    cache_key = serializers.CharField()
    queued_by = serializers.CharField(source="created_by.username", default=None)

    @extend_schema_field(serializers.DictField())
    def get_analysis(self, job: AnalysisJob) -> dict:
        return {"kind": job.kind, "title": title_of(job.kind), "version": job.kind_version}


class JobDetailOut(JobOut):
    """A job as its page shows it: progress, the error sentence, provenance, void notes."""

    provenance = JobProvenanceOut(source="*")
    can_cancel = serializers.BooleanField()
    notes = serializers.SerializerMethodField(help_text="why records it uses are void")
    cancel = serializers.SerializerMethodField()
    rerun = serializers.SerializerMethodField()

    class Meta(JobOut.Meta):
        fields = [*JobOut.Meta.fields, "can_cancel", "provenance", "notes", "cancel", "rerun"]

    def get_cancel(self, job: AnalysisJob) -> str:
        return absolute(self.context.get("request"), "job-cancel", job.pk)

    def get_rerun(self, job: AnalysisJob) -> str:
        return absolute(self.context.get("request"), "job-rerun", job.pk)

    @extend_schema_field(serializers.ListField(child=serializers.CharField()))
    def get_notes(self, job: AnalysisJob) -> list[str]:
        return void_notes(job)


def void_notes(job: AnalysisJob) -> list[str]:
    """The job page's void banners, as sentences."""
    notes = []
    if job.voided_at:
        notes.append(f"Job {job.pk} is void: {job.void_reason}")
    result = job.result
    if result is not None and result.voided_at:
        notes.append(
            f"The result is void: {result.void_reason}. Its numbers are kept; pages and "
            "comparisons no longer use them."
        )
    if job.raw_file.voided_at:
        notes.append(f"The file {job.raw_file.original_name} is void: {job.raw_file.void_reason}")
    if job.measurement.voided_at:
        code = job.measurement.sample.code
        notes.append(f"Measurement {code} is void: {job.measurement.void_reason}")
    return notes


class JobActionOut(serializers.Serializer):
    message = serializers.CharField(help_text="what happened, as the page says it")
    job = JobDetailOut()
