"""POST /api/v1/measurements/<code>/files: raw files added to a measurement by a script or an
instrument PC (multipart, field `files`, one or more): what an upload-only token is for.

The same as the measurement page's upload form (services.measurement_files_attach): each file
stored once by its SHA-256, linked once, its analyses sent to the workers after commit."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.parsers import MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from characterization import services
from lims import rules
from lims.api_errors import errors_response
from lims.api_permissions import RulesPermission


class FilesIn(serializers.Serializer):
    files = serializers.ListField(
        child=serializers.FileField(), help_text="one or more raw files (repeat the field)"
    )


class FileOut(serializers.Serializer):
    name = serializers.CharField(help_text="the uploaded file's name")
    sha256 = serializers.CharField()
    size_bytes = serializers.IntegerField()
    stored = serializers.BooleanField(help_text="new content (false: already stored once)")
    linked = serializers.BooleanField(help_text="newly added to this measurement")
    instrument_metadata = serializers.JSONField(
        help_text="what the file says of its test (a Neware .ndax: active mass, channel, start "
        "time, step program, warnings); {} for other files"
    )


class FilesOut(serializers.Serializer):
    measurement = serializers.CharField(help_text="the measurement's code")
    files = FileOut(many=True)


class MeasurementFilesView(APIView):
    permission_classes = [RulesPermission]
    parser_classes = [MultiPartParser]
    kiln_rule = rules.Rule("change", "characterization.measurement", {"sample__code": "code"})

    @extend_schema(
        summary="Add raw files to a measurement",
        request={"multipart/form-data": FilesIn},
        responses={201: FilesOut},
    )
    def post(self, request: Request, code: str) -> Response:
        measurement = self.kiln_rule.target({"code": code})  # 404 for an unknown code
        self.check_object_permissions(request, measurement)  # before the body is read
        try:
            outcomes = services.measurement_files_attach(
                measurement=measurement,
                uploads=request.FILES.getlist("files"),
                added_by=request.user,
            )
        except ValidationError as exc:
            return errors_response(exc.message_dict)
        files = [
            {"name": o.uploaded_name, "sha256": o.raw_file.sha256,
             "size_bytes": o.raw_file.size_bytes, "stored": o.stored, "linked": o.linked,
             "instrument_metadata": o.raw_file.instrument_metadata}
            for o in outcomes
        ]  # fmt: skip
        body = FilesOut({"measurement": code, "files": files}).data
        return Response(body, status=status.HTTP_201_CREATED)
