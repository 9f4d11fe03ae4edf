"""Measurements through the API: list (filters), one measurement with its files (SHA-256, size,
harvest version) and the state of its analyses, record one (services.measurement_record, as
the measurement page does; its files then go to POST /api/v1/measurements/<code>/files) and
correct one (corrections.measurement_correct)."""

from __future__ import annotations

import django_filters
from django.core.exceptions import ValidationError
from django.db.models import Count, Exists, OuterRef
from drf_spectacular.utils import extend_schema, extend_schema_field
from rest_framework import generics, serializers, status
from rest_framework.exceptions import NotFound
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from characterization import corrections, file_states, queries, services
from characterization.api_common import ListCreateView, LiveFilterSet, sample_of
from characterization.jobs.models import AnalysisJob, JobStatus
from characterization.models import HarvestVersion, Measurement, MeasurementFile, MeasurementType
from lims import rules
from lims.api_permissions import RulesPermission
from lims.api_sample_write import ChangeOut, ReasonIn, changes_data, service_errors, validated

CONDITIONS_HELP = (
    'e.g. {"voltage_window_v": [2.0, 4.8], "c_rates": [0.1, 0.2], "temperature_c": 25, '
    '"sample_mass_mg": 8.1, "2θ range": "10–80°"}: the known ones are held to their bounds'
)


class MeasurementOut(serializers.ModelSerializer):
    code = serializers.CharField(source="sample.code")
    subject = serializers.CharField(source="subject.code", help_text="the sample measured")
    subject_kind = serializers.CharField(source="subject.kind")
    operator = serializers.CharField(source="operator.username", default=None, allow_null=True)
    conditions = serializers.JSONField()
    notes = serializers.CharField(source="sample.notes")
    file_count = serializers.IntegerField(help_text="raw files attached, void ones too")
    url = serializers.SerializerMethodField()

    class Meta:
        model = Measurement
        fields = ["code", "subject", "subject_kind", "measurement_type", "instrument",
                  "conditions", "operator", "measured_at", "created_at", "notes", "file_count",
                  "voided_at", "void_reason", "url"]  # fmt: skip

    def get_url(self, measurement: Measurement) -> str:
        return f"/measurements/{measurement.sample.code}/"


class MeasurementFileOut(serializers.Serializer):
    name = serializers.CharField(source="raw_file.original_name")
    sha256 = serializers.CharField(source="raw_file.sha256")
    size_bytes = serializers.IntegerField(source="raw_file.size_bytes")
    version = serializers.IntegerField(
        allow_null=True, help_text="its version of a harvested file (1, 2, ...), else null"
    )
    read_state = serializers.CharField(source="raw_file.read_state")
    read = serializers.CharField(help_text="what Kiln made of the file, in a sentence")
    detected_format = serializers.CharField(source="raw_file.detected_format")
    added_at = serializers.DateTimeField()
    void_reason = serializers.CharField(
        source="raw_file.void_reason", help_text="'': in use; else why it is void (superseded)"
    )


JOB_STATES = [str(value) for value in JobStatus.values]


class AnalysesOut(serializers.Serializer):
    """Live analysis jobs of the measurement by status, and how many in all."""

    total = serializers.IntegerField()
    by_status = serializers.DictField(
        child=serializers.IntegerField(), help_text=f"each of {', '.join(JOB_STATES)}"
    )


class MeasurementDetailOut(MeasurementOut):
    files = serializers.SerializerMethodField()
    analyses = serializers.SerializerMethodField()

    class Meta(MeasurementOut.Meta):
        fields = [*MeasurementOut.Meta.fields, "files", "analyses"]

    @extend_schema_field(MeasurementFileOut(many=True))
    def get_files(self, measurement: Measurement) -> list[dict]:
        links = measurement.files.select_related("raw_file").order_by("added_at", "id")
        versions = dict(
            HarvestVersion.objects.filter(harvested_file__measurement=measurement).values_list(
                "raw_file_id", "version"
            )
        )
        return [
            MeasurementFileOut(
                {"raw_file": link.raw_file, "added_at": link.added_at,
                 "version": versions.get(link.raw_file_id),
                 "read": file_states.read_sentence(link.raw_file)}
            ).data
            for link in links
        ]  # fmt: skip

    @extend_schema_field(AnalysesOut)
    def get_analyses(self, measurement: Measurement) -> dict:
        counts = dict(
            AnalysisJob.objects.filter(measurement=measurement, voided_at__isnull=True)
            .values_list("status")
            .annotate(n=Count("id"))
        )
        by_status = {state: counts.get(state, 0) for state in JOB_STATES}
        return {"total": sum(by_status.values()), "by_status": by_status}


# --- list, detail, record ---------------------------------------------------------------------


class MeasurementIn(serializers.Serializer):
    subject = serializers.CharField(help_text="the code of the sample measured")
    measurement_type = serializers.ChoiceField(MeasurementType.values)
    instrument = serializers.CharField(max_length=120, required=False, default="",
                                       allow_blank=True)  # fmt: skip
    measured_at = serializers.DateTimeField(
        required=False, default=None, allow_null=True, help_text="with its time zone; absent: now"
    )
    conditions = serializers.DictField(required=False, default=dict, help_text=CONDITIONS_HELP)
    notes = serializers.CharField(required=False, default="", allow_blank=True)


def condition_errors(exc: ValidationError) -> Response:
    """A condition's problem named under "conditions" (the voltage window's ends: its key)."""
    window = "conditions.voltage_window_v"
    rename = {"voltage_min_v": window, "voltage_max_v": window}
    for key in ("temperature_c", "current_ma", "sample_mass_mg", "c_rates"):
        rename[key] = f"conditions.{key}"
    return service_errors(exc, rename)


class MeasurementFilter(LiveFilterSet):
    void_field = "voided_at"  # a measurement is voided itself
    type = django_filters.ChoiceFilter(
        field_name="measurement_type", choices=MeasurementType.choices
    )
    sample = django_filters.CharFilter(
        field_name="subject__code", lookup_expr="iexact", label="the measured sample's code"
    )
    operator = django_filters.CharFilter(field_name="operator__username", label="username")
    measured_from = django_filters.DateFilter(field_name="measured_at__date", lookup_expr="gte")
    measured_to = django_filters.DateFilter(field_name="measured_at__date", lookup_expr="lte")
    has_files = django_filters.BooleanFilter(
        method="with_files", label="true: with a raw file in use; false: without"
    )

    class Meta:
        model = Measurement
        fields: list[str] = []

    def with_files(self, queryset, name, value):
        live_file = MeasurementFile.objects.filter(
            measurement=OuterRef("pk"), raw_file__voided_at__isnull=True
        )
        return queryset.filter(Exists(live_file) if value else ~Exists(live_file))


class MeasurementList(ListCreateView):
    serializer_class = MeasurementOut
    filterset_class = MeasurementFilter
    kiln_rule = rules.Rule("create", "characterization.measurement")

    def get_queryset(self):
        return queries.measurements()

    @extend_schema(
        summary="Record a measurement",
        request=MeasurementIn,
        responses={201: MeasurementDetailOut},
    )
    def post(self, request: Request) -> Response:
        """A measurement of a sample (itself a sample, measured_on its subject); add its raw
        files with POST /api/v1/measurements/<code>/files (they start its analyses)."""
        data = validated(MeasurementIn(data=request.data))
        subject = sample_of(data.pop("subject"), "subject", queries.measurable_samples())
        try:
            recorded = services.measurement_record(subject=subject, operator=request.user, **data)
        except ValidationError as exc:
            return condition_errors(exc)
        body = MeasurementDetailOut(_measurement(recorded.measurement.sample.code)).data
        return Response(body, status=status.HTTP_201_CREATED)


def _measurement(code: str) -> Measurement:
    try:
        return queries.measurement_detail(code)
    except Measurement.DoesNotExist:
        raise NotFound(f"no measurement has the code {code!r}") from None


class MeasurementDetail(generics.RetrieveAPIView):
    permission_classes = [RulesPermission]
    serializer_class = MeasurementDetailOut

    def get_object(self) -> Measurement:
        return _measurement(self.kwargs["code"])


# --- correct ----------------------------------------------------------------------------------


class MeasurementCorrectIn(ReasonIn):
    conditions = serializers.DictField(
        required=False, help_text="the whole new set (replaces the old one); " + CONDITIONS_HELP
    )
    instrument = serializers.CharField(max_length=120, required=False, allow_blank=True)
    notes = serializers.CharField(required=False, allow_blank=True)


class MeasurementCorrectedOut(serializers.Serializer):
    measurement = MeasurementOut()
    changes = ChangeOut(many=True)


class MeasurementCorrectView(APIView):
    permission_classes = [RulesPermission]
    kiln_rule = rules.Rule("change", "characterization.measurement", {"sample__code": "code"})

    @extend_schema(
        summary="Correct a measurement's conditions, instrument or notes",
        request=MeasurementCorrectIn,
        responses={200: MeasurementCorrectedOut},
    )
    def post(self, request: Request, code: str) -> Response:
        """Only the fields given change, each with the reason in its audit row; a corrected
        voltage window leaves the analyses that used the old one outdated."""
        measurement = self.kiln_rule.target({"code": code})
        self.check_object_permissions(request, measurement)
        values = validated(MeasurementCorrectIn(data=request.data))
        try:
            changes = corrections.measurement_correct(
                measurement=measurement, user=request.user, **values
            )
        except ValidationError as exc:
            return condition_errors(exc)
        body = {"measurement": _measurement(code), "changes": changes_data(changes)}
        return Response(MeasurementCorrectedOut(body).data)
