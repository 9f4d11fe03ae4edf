"""What the synthesis API modules share: the pages' forms run on an API body (so their rules
cannot diverge from the pages'), their errors and the services' as HTTP 400, and the rule that
names the record in a read-only URL."""

from __future__ import annotations

from collections.abc import Callable, Mapping

from django import forms
from django.core.exceptions import ValidationError
from django.db import models
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response

from lims.api_errors import errors_response

NON_FIELD = "non_field_errors"
Rename = Callable[[str], str]


def _same(key: str) -> str:
    return key


def _key(key: str, rename: Rename) -> str:
    return NON_FIELD if key in ("__all__", None) else rename(key)


def form_errors(form: forms.Form, rename: Rename = _same) -> Response:
    """A form's errors as HTTP 400, each under the API's name of its field."""
    found: dict[str, list[str]] = {}
    for key, messages in form.errors.items():
        found.setdefault(_key(key, rename), []).extend(str(m) for m in messages)
    return errors_response(found)


def service_errors(exc: ValidationError, rename: Rename = _same) -> Response:
    """A service's ValidationError (BatchStateError included) as HTTP 400."""
    if not hasattr(exc, "error_dict"):
        return errors_response({NON_FIELD: [str(m) for m in exc.messages]})
    found: dict[str, list[str]] = {}
    for key, messages in exc.message_dict.items():
        found.setdefault(_key(key, rename), []).extend(messages)
    return errors_response(found)


def form_value(value):
    """A value as a bound form reads it (a record by its pk, nothing as empty)."""
    if isinstance(value, models.Model):
        return value.pk
    return "" if value is None else value


def with_initial(form: forms.Form, data: Mapping[str, object]) -> dict[str, object]:
    """`data` plus the initial value of every field the body leaves out: what a page's form
    posts when the chemist leaves its prefilled fields as they are."""
    filled = {}
    for name, field in form.fields.items():
        initial = form.initial.get(name, field.initial)
        if callable(initial):
            initial = initial()
        if initial is not None:
            filled[name] = form_value(initial)
    return {**filled, **{k: form_value(v) for k, v in data.items()}}


def validated(serializer_class: type[serializers.Serializer], request: Request) -> dict:
    """The body checked for its types (a 400 naming each field otherwise)."""
    serializer = serializer_class(data=request.data)
    serializer.is_valid(raise_exception=True)
    return dict(serializer.validated_data)
