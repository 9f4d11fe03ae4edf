"""The harvester's API (harvester/kiln_harvest.py), open to upload-only tokens:

POST /api/v1/harvest/files        one file from a cycler PC, placed by characterization.harvest
GET  /api/v1/harvest/files/<sha>  200 when Kiln has that content (as a version of ?source=&path=
                                  when given), else 404: asked before uploading
"""

from __future__ import annotations

from django.core.exceptions import ValidationError
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers, status
from rest_framework.exceptions import NotFound
from rest_framework.parsers import MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from characterization import harvest, harvest_paths, harvest_queries
from characterization.storage import is_sha256
from lims import rules
from lims.api_errors import errors_response
from lims.api_permissions import RulesPermission


class HarvestIn(serializers.Serializer):
    file = serializers.FileField(help_text="the file's content, as it is on the PC now")
    source = serializers.CharField(max_length=120, help_text="the harvester's name (its PC)")
    path = serializers.CharField(max_length=500, help_text="relative to the watched folder")
    channel = serializers.CharField(
        max_length=60, required=False, allow_blank=True, default="", help_text='"unit3-ch5"'
    )
    sha256 = serializers.RegexField(
        r"^[0-9a-fA-F]{64}$", help_text="the SHA-256 the harvester computed (checked)"
    )
    size = serializers.IntegerField(min_value=1, help_text="bytes (checked)")
    mtime = serializers.FloatField(
        required=False, allow_null=True, default=None, help_text="seconds since 1970 (PC clock)"
    )


class HarvestOut(serializers.Serializer):
    status = serializers.ChoiceField(["stored", "duplicate", "unplaced"])
    measurement = serializers.CharField(allow_null=True, help_text="its code, once placed")
    sha256 = serializers.CharField()
    version = serializers.IntegerField(help_text="1 for the file's first content, then 2, ...")


class KnownOut(serializers.Serializer):
    sha256 = serializers.CharField()
    size_bytes = serializers.IntegerField()
    version = serializers.IntegerField(allow_null=True, help_text="as a version of ?path=")
    measurement = serializers.CharField(allow_null=True)


def _code(measurement) -> str | None:
    return measurement.sample.code if measurement is not None else None


class HarvestFilesView(APIView):
    permission_classes = [RulesPermission]
    parser_classes = [MultiPartParser]
    kiln_rule = rules.Rule("create", "characterization.measurement")

    @extend_schema(
        summary="Send a file from a cycler PC",
        request={"multipart/form-data": HarvestIn},
        responses={201: HarvestOut, 200: HarvestOut},
    )
    def post(self, request: Request) -> Response:
        """201 stored (a new version, placed or unplaced); 200 duplicate (nothing new)."""
        form = HarvestIn(data=request.data)
        form.is_valid(raise_exception=True)
        data = form.validated_data
        received = harvest.Received(
            source=data["source"],
            path=data["path"],
            channel=data["channel"].strip(),
            sha256=data["sha256"],
            size_bytes=data["size"],
            mtime=data["mtime"],
        )
        try:
            outcome = harvest.harvest_file_receive(
                upload=data["file"], received=received, user=request.user
            )
        except ValidationError as exc:
            return errors_response(exc.message_dict)
        body = HarvestOut(
            {
                "status": outcome.status,
                "measurement": _code(outcome.measurement),
                "sha256": outcome.sha256,
                "version": outcome.version,
            }
        ).data
        duplicate = outcome.status == harvest.HarvestStatus.DUPLICATE
        return Response(body, status=status.HTTP_200_OK if duplicate else status.HTTP_201_CREATED)


class HarvestFileView(APIView):
    permission_classes = [RulesPermission]

    @extend_schema(
        summary="Does Kiln have this content?",
        parameters=[
            OpenApiParameter("source", str, description="with path: as a version of that file"),
            OpenApiParameter("path", str, description="relative to the watched folder"),
        ],
        responses={200: KnownOut},
    )
    def get(self, request: Request, sha256: str) -> Response:
        source = request.query_params.get("source", "").strip()
        path = request.query_params.get("path", "")
        found = None
        if is_sha256(sha256.lower()):
            found = harvest_queries.known_content(sha256, source=source, path=_clean(path))
        if found is None:
            raise NotFound(f"Kiln has no content with SHA-256 {sha256[:64]}" + _of(source, path))
        raw, version = found
        harvested = version.harvested_file if version else None
        return Response(
            KnownOut(
                {
                    "sha256": raw.sha256,
                    "size_bytes": raw.size_bytes,
                    "version": version.version if version else None,
                    "measurement": _code(harvested.measurement) if harvested else None,
                }
            ).data
        )


def _clean(path: str) -> str:
    try:
        return harvest_paths.path_clean(path) if path else ""
    except harvest_paths.HarvestPathError:
        return path


def _of(source: str, path: str) -> str:
    return f" from {source}: {path[:500]}" if source or path else ""
