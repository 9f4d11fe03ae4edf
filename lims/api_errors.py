"""API errors as HTTP 400 `{"errors": {"<field>": ["message", ...]}}` (DESIGN.md contract)."""

from __future__ import annotations

from drf_spectacular.openapi import AutoSchema
from drf_spectacular.utils import OpenApiResponse
from rest_framework import exceptions, serializers, status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler


def errors_response(errors: dict[str, list[str]], code: int = 400) -> Response:
    return Response({"errors": errors}, status=code)


def _flatten(detail, prefix: str = "") -> dict[str, list[str]]:
    """DRF's nested error detail -> {"field" or "parent[0].child": [messages]}."""
    if isinstance(detail, dict) and detail and all(isinstance(k, int) for k in detail):
        out = {}  # a list's item errors, keyed by index (DRF 3.18's ListField/ListSerializer)
        for index, value in sorted(detail.items()):
            out.update(_flatten(value, f"{prefix}[{index}]"))
        return out
    if isinstance(detail, dict):
        out: dict[str, list[str]] = {}
        for key, value in detail.items():
            # A nested serializer's own errors belong to the field that holds it.
            if key == "non_field_errors" and prefix:
                name = prefix
            else:
                name = f"{prefix}.{key}" if prefix else str(key)
            out.update(_flatten(value, name))
        return out
    if isinstance(detail, list) and detail and not all(isinstance(d, str) for d in detail):
        out = {}
        for index, value in enumerate(detail):
            if value:
                out.update(_flatten(value, f"{prefix}[{index}]"))
        return out
    messages = detail if isinstance(detail, list) else [detail]
    return {prefix or "non_field_errors": [str(m) for m in messages]}


def exception_handler(exc, context):
    response = drf_exception_handler(exc, context)
    if response is None:
        return None
    if isinstance(exc, exceptions.ValidationError):
        return errors_response(_flatten(exc.detail), status.HTTP_400_BAD_REQUEST)
    if isinstance(exc, exceptions.ParseError):
        return errors_response({"body": [str(exc.detail)]}, status.HTTP_400_BAD_REQUEST)
    detail = response.data.get("detail", "") if isinstance(response.data, dict) else ""
    response.data = {"errors": {"non_field_errors": [str(detail)]}}
    return response


def domain_error_response(exc: ValueError) -> Response:
    """A pure-domain error (ChemistryError, AnalysisError: `.field` + `.message`) as HTTP 400."""
    field = getattr(exc, "field", None) or "non_field_errors"
    return errors_response({field: [getattr(exc, "message", None) or str(exc)]})


# --- the errors in the OpenAPI schema ---------------------------------------------------------


class ErrorsOut(serializers.Serializer):
    """Every API error: the field names (dotted for nested ones, "non_field_errors" for the
    request as a whole) with their messages."""

    errors = serializers.DictField(
        child=serializers.ListField(child=serializers.CharField()),
        help_text='field -> messages, e.g. {"formula": ["unknown element \'Xx\'"]}',
    )


ERROR_RESPONSES = {
    "400": "bad input: each field named with its problem (also a NUL byte or text that is not "
    "valid UTF-8 anywhere in the request)",
    "403": "not signed in (session or `Authorization: Token <key>`), or the role does not allow it",
}
NOT_FOUND = "no record with this code"


class KilnAutoSchema(AutoSchema):
    """drf-spectacular's schema, with the errors every Kiln API operation can answer: 400 and
    403 everywhere, 404 where the path names a record."""

    def _get_response_bodies(self, direction="response"):
        responses = super()._get_response_bodies(direction)
        errors = dict(ERROR_RESPONSES)
        if "{" in self.path:  # a path parameter: the code of a record
            errors["404"] = NOT_FOUND
        for code, description in errors.items():
            if code not in responses:
                response = OpenApiResponse(ErrorsOut, description=description)
                responses[code] = self._get_response_for_code(response, code, direction=direction)
        return responses
