"""The API's orjson renderer writes what DRF's JSONRenderer writes (types orjson does not know
go through DRF's encoder), except that NaN/infinity become null instead of a 500."""

from __future__ import annotations

import datetime as dt
import json
import math
import uuid
from decimal import Decimal

import numpy as np
from django.utils.translation import gettext_lazy
from rest_framework.renderers import JSONRenderer

from lims.api_renderers import KilnJSONRenderer

DATA = {
    "text": "Li₁.₂Mn₀.₆Ni₀.₂O₂ “quoted”",
    "decimal": Decimal("1.25"),
    "lazy": gettext_lazy("Active"),
    "at": dt.datetime(2026, 12, 2, 1, 2, 3, 456789, tzinfo=dt.UTC),
    "day": dt.date(2026, 12, 2),
    "id": uuid.UUID("12345678-1234-5678-1234-567812345678"),
    "numbers": [1, 2.5, True, None],
    "nested": {"a": [{"b": 1}]},
    3: "an int key",
    "array": np.array([1.5, 2.5]),
    "scalar": np.float64(0.992),
}


def test_it_writes_what_drfs_renderer_writes():
    ours = json.loads(KilnJSONRenderer().render(DATA))
    drf = json.loads(JSONRenderer().render(DATA))
    assert ours == drf
    assert ours["at"] == "2026-12-02T01:02:03.456789Z" and ours["3"] == "an int key"


def test_nan_and_infinity_are_null_not_a_server_error():
    body = json.loads(KilnJSONRenderer().render({"x": math.nan, "y": [math.inf, 1.0]}))
    assert body == {"x": None, "y": [None, 1.0]}


def test_indent_asked_in_the_accept_header_is_honoured():
    text = KilnJSONRenderer().render({"a": 1}, "application/json; indent=2", {}).decode()
    assert text == '{\n  "a": 1\n}'


def test_the_api_answers_through_it(client, chemist):
    client.force_login(chemist)
    response = client.get("/api/v1/samples/")
    assert response.status_code == 200 and response["Content-Type"] == "application/json"
    assert isinstance(response.renderer_context["view"].get_renderers()[0], KilnJSONRenderer)
