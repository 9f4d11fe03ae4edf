"""Refuse input Kiln cannot store, search for or send back: NUL bytes and text that is not
valid Unicode (invalid UTF-8 percent-escapes, lone surrogates), before any view runs.

PostgreSQL text cannot hold NUL (psycopg raises DataError: a 500 on any search or lookup), and
a lone surrogate cannot be encoded for the database or the response. The middleware checks the
path (for NUL: Django keeps invalid UTF-8 there as text, "%FF", which finds nothing: a 404), the
query string, form fields (names and values) and JSON bodies (strings and keys); the API answers
400 ``{"errors": {"<field>": ["message"]}}``, pages a message page with status 400.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from urllib.parse import unquote_to_bytes

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render

NUL = "contains a NUL byte (\\x00), which Kiln cannot store or search for"
NOT_UTF8 = "is not valid UTF-8 text"
SURROGATE = "contains a lone surrogate (\\ud800-\\udfff), which is not valid Unicode text"
FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")


def text_problem(text: str) -> str | None:
    """Why `text` cannot be used (a sentence ending without a full stop), or None."""
    if "\x00" in text:
        return NUL
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return SURROGATE
    return None


def raw_pairs_problem(raw: str, what: str = "parameter") -> tuple[str, str] | None:
    """(field, sentence) for the first bad `name=value` of a query string or urlencoded body.

    Checked on the raw bytes: Django decodes invalid UTF-8 to U+FFFD without a word."""
    for part in raw.split("&"):
        raw_name, _, raw_value = part.partition("=")
        name, name_problem = _decoded(raw_name)
        name = shown(name)
        if name_problem:
            return name, f"The name of the {what} “{name}” {name_problem}."
        _value, value_problem = _decoded(raw_value)
        if value_problem:
            return name, f"The {what} “{name}” {value_problem}."
    return None


def shown(name: str) -> str:
    """A name that may hold NUL or surrogates, escaped for a message."""
    return name.encode("utf-8", "backslashreplace").decode("utf-8").replace("\x00", "\\x00")


def _decoded(raw: str) -> tuple[str, str | None]:
    """A percent-encoded part of a query string as text, with its problem."""
    return _text(unquote_to_bytes(raw.replace("+", " ").encode("latin-1", "replace")))


def _text(data: bytes) -> tuple[str, str | None]:
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        return data.decode("utf-8", "replace"), NOT_UTF8
    return text, text_problem(text)


def json_problem(value, field: str = "") -> tuple[str, str] | None:
    """(field, sentence) for the first bad string or key in a parsed JSON document; fields are
    named as the API's errors name them: "precursors[0].formula"."""
    for name, text in _json_strings(value, field):
        if found := text_problem(text):
            name = shown(name) or "body"
            return name, f"The field “{name}” {found}."
    return None


def _json_strings(value, field: str) -> Iterator[tuple[str, str]]:
    if isinstance(value, str):
        yield field, value
    elif isinstance(value, dict):
        for key, item in value.items():
            yield field, key
            yield from _json_strings(item, f"{field}.{key}" if field else key)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _json_strings(item, f"{field}[{index}]")


def request_problem(request: HttpRequest) -> tuple[str, str] | None:
    """(field, sentence) for the first part of the request Kiln cannot use, or None."""
    # Django has re-escaped invalid UTF-8 in the path already ("%FF" stays text: a 404)
    if found := text_problem(request.path_info):
        return "path", f"The address {found}."
    if found := raw_pairs_problem(request.META.get("QUERY_STRING", "")):
        return found
    if request.method in ("GET", "HEAD", "OPTIONS"):
        return None
    content_type = request.content_type or ""
    if content_type == "application/json" or content_type.endswith("+json"):
        return _json_body_problem(request)
    if content_type == FORM_TYPES[0]:
        return raw_pairs_problem(request.body.decode("latin-1"), "field")
    if content_type == FORM_TYPES[1]:
        for name, values in request.POST.lists():
            for text in (name, *values):
                if found := text_problem(text):
                    return shown(name), f"The field “{shown(name)}” {found}."
    return None


def _json_body_problem(request: HttpRequest) -> tuple[str, str] | None:
    try:
        return json_problem(json.loads(request.body))
    except ValueError:
        return None  # not JSON at all: the API's parser says so (400 "body")
    except RecursionError:  # the parser would fail the same way, with a 500
        return "body", "The body is nested too deeply to read."


def refusal(request: HttpRequest, field: str, sentence: str) -> HttpResponse:
    """400: JSON errors for the API, a message page for everything else."""
    if request.path_info.startswith("/api/"):
        return JsonResponse({"errors": {field: [sentence]}}, status=400)
    context = {
        "title": "Kiln cannot read this request",
        "empty_text": f"{sentence} Remove it and try again.",
    }
    return render(request, "lims/section.html", context, status=400)


class InputGuardMiddleware:
    """Answers 400 before any view sees input it cannot store or search for."""

    def __init__(self, get_response) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        found = request_problem(request)
        if found is not None:
            return refusal(request, *found)
        return self.get_response(request)
