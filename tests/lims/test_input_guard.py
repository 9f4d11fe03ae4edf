"""Input Kiln cannot store or search for (NUL bytes, invalid UTF-8, lone surrogates) is a 400
with a sentence naming the field, never a 500 (lims.input_guard).

The URL conf is walked: every route gets a NUL byte in each path parameter, in each query
parameter the apps read and in each form field the views read directly. Without the guard
PostgreSQL refuses NUL (psycopg DataError: 500) on 40 routes; SQLite stores it silently.
"""

from __future__ import annotations

import inspect
import json
import re
from dataclasses import dataclass
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import call_command
from django.db import transaction
from django.http import QueryDict
from django.urls import URLPattern, URLResolver, get_resolver

from characterization.models import CoinCell, Electrode, Measurement, RawFile
from lims.models import Sample
from synthesis.models import Chemical

APPS = ("lims", "synthesis", "characterization", "jobs")
# request.POST.get("x"), POST["x"], POST.getlist("x") in a view module
READ_FORM_FIELD = re.compile(r"""\bPOST\s*(?:\.(?:get|getlist)\(|\[)\s*["']([\w-]+)["']""")
ADMIN_PARAMS = ("q", "o", "p", "e", "_changelist_filters")
PROBE = "kiln_probe"
HOLE = re.compile(r"<(?:(?P<conv>\w+):)?(?P<name>\w+)>|\(\?P<(?P<rname>\w+)>(?P<regex>[^)]*)\)")
NUL_SENTENCE = "contains a NUL byte (\\x00), which Kiln cannot store or search for."


@dataclass(frozen=True)
class Route:
    template: str  # "/samples/{code}/"
    params: tuple[tuple[str, str], ...]  # (name, converter or regex)
    pattern: URLPattern

    @property
    def admin(self):
        return getattr(self.pattern.callback, "model_admin", None)


def routes() -> list[Route]:
    found = []

    def walk(patterns, prefix: str, params: tuple) -> None:
        for entry in patterns:
            text, more = _template(str(entry.pattern))
            if isinstance(entry, URLResolver):
                walk(entry.url_patterns, prefix + text, params + more)
            else:
                found.append(Route("/" + prefix + text, params + more, entry))

    walk(get_resolver().url_patterns, "", ())
    return found


def _template(pattern: str) -> tuple[str, tuple]:
    params = []

    def hole(match: re.Match) -> str:
        name = match["name"] or match["rname"]
        params.append((name, match["conv"] or match["regex"] or "str"))
        return "{" + name + "}"

    return HOLE.sub(hole, pattern).lstrip("^").rstrip("$").replace("\\.", "."), tuple(params)


class RecordingQueryDict(QueryDict):
    """request.GET that notes each parameter name a view asks for."""

    asked: set[str] = set()

    def __getitem__(self, key):
        RecordingQueryDict.asked.add(key)
        return super().__getitem__(key)

    def _getlist(self, key, *args, **kwargs):
        RecordingQueryDict.asked.add(key)
        return super()._getlist(key, *args, **kwargs)

    def __contains__(self, key):
        RecordingQueryDict.asked.add(key)
        return super().__contains__(key)


def query_names_read(client, route: Route) -> set[str]:
    """The query parameters the route's view asks for (a probe request with one parameter, so
    that filter forms bound to request.GET read all their fields). The admin's change lists
    take any field of the model as a filter, and a search: those are named, not probed."""
    if route.admin is not None:
        if not (route.pattern.name or "").endswith("_changelist"):
            return set(ADMIN_PARAMS)
        return {*ADMIN_PARAMS, *(f.name for f in route.admin.model._meta.concrete_fields)}
    RecordingQueryDict.asked = set()
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr("django.core.handlers.wsgi.QueryDict", RecordingQueryDict)
        send(client, "get", f"{path_of(route)}?{PROBE}=1")
    return RecordingQueryDict.asked - {PROBE}


def form_fields_read(route: Route) -> set[str]:
    """Form fields the route's view module reads from request.POST itself (not via a form)."""
    view = getattr(route.pattern.callback, "cls", None) or inspect.unwrap(route.pattern.callback)
    source = Path(inspect.getsourcefile(view))
    if not source.is_relative_to(settings.BASE_DIR) or ".venv" in source.parts:
        return set()
    return set(READ_FORM_FIELD.findall(source.read_text()))


def path_of(route: Route, bad: str = "") -> str:
    """A path for the route naming records of the demo data; parameter `bad` gets %00."""
    values = {
        name: "%00" if name == bad else _value(route, name, kind) for name, kind in route.params
    }
    return route.template.format(**values)


def _value(route: Route, name: str, kind: str) -> str:
    first = {
        "code": _code_for(route.template),
        "sha256": RawFile.objects.values_list("sha256", flat=True).first() or "0" * 64,
        "fmt": "csv",
        "name": "summary",
        "url": "nowhere/",
    }
    if name in first:
        return first[name]
    if "|" in kind and "[" not in kind:  # (?P<app_label>auth|lims|...)
        return kind.split("|")[0]
    if name == "object_id" and route.admin is not None:
        pk = route.admin.model.objects.order_by("pk").values_list("pk", flat=True).first()
        return str(pk or 1)
    return "1"


def _code_for(template: str) -> str:
    if template.startswith("/cells/electrodes/"):
        records = Electrode.objects.all()
    elif template.startswith(("/cells/", "/jobs/cell/")):
        records = CoinCell.objects.all()
    elif "measurement" in template:
        records = Measurement.objects.all()
    else:
        return Sample.objects.order_by("id").values_list("code", flat=True).first()
    return records.order_by("pk").first().sample.code


def send(client, method: str, path: str, data: dict | None = None):
    """A request in a savepoint: a query PostgreSQL refused must not end the test's transaction."""
    savepoint = transaction.savepoint()
    response = getattr(client, method)(path, data or {})
    if response.status_code >= 500:
        transaction.savepoint_rollback(savepoint)
    else:
        transaction.savepoint_commit(savepoint)
    return response


@pytest.fixture
def lab(db, manager, client):
    """The demo data, and a lab manager who is also a superuser (every route, the admin too)."""
    with open("/dev/null", "w") as quiet:
        call_command("load_demo", stdout=quiet)
    manager.is_staff = manager.is_superuser = True
    manager.save()
    client.raise_request_exception = False
    client.force_login(manager)
    return client


def report(failures: list[str]) -> str:
    """Server errors first: they are what the guard is for."""
    ordered = sorted(failures, key=lambda line: not line.endswith(": 500"))
    errors = sum(line.endswith(": 500") for line in failures)
    return f"{len(failures)} not refused, {errors} server errors:\n" + "\n".join(ordered)


def _refused(response) -> bool:
    if response.status_code != 400:
        return False
    if response["Content-Type"] == "application/json":
        return any(NUL_SENTENCE in m for ms in response.json()["errors"].values() for m in ms)
    return NUL_SENTENCE in response.content.decode()


def test_a_nul_byte_in_any_path_parameter_is_a_400_with_a_sentence_on_every_route(lab):
    failures = []
    for route in routes():
        for name, _kind in route.params:
            path = path_of(route, bad=name)
            response = send(lab, "get", path)
            if not _refused(response):
                failures.append(f"GET {path}: {response.status_code}")
    assert not failures, report(failures)


def test_a_nul_byte_in_any_query_parameter_is_a_400_with_a_sentence_on_every_route(lab):
    failures, asked = [], {}
    for route in routes():
        asked[route.template] = names = query_names_read(lab, route)
        for name in sorted(names):
            response = send(lab, "get", f"{path_of(route)}?{name}=%00")
            if not _refused(response):
                failures.append(f"GET {path_of(route)}?{name}=%00: {response.status_code}")
    assert not failures, report(failures)
    # the probe sees what the views read (the routes PostgreSQL answered with a 500)
    assert {"q", "kind", "status", "ancestor", "recipe"} <= asked["/api/v1/samples/"]
    assert {"q", "kind", "status", "ancestor"} <= asked["/samples/"]
    assert {"cells", "groups"} <= asked["/jobs/compare/"]
    assert "token" in asked["/worker-ping"]
    assert "chemical" in asked["/synthesis/lots/"]


def test_a_nul_byte_in_a_form_field_a_view_reads_itself_is_a_400_on_every_route(lab):
    failures, read = [], set()
    for route in routes():
        for name in sorted(form_fields_read(route)):
            read.add(name)
            response = send(lab, "post", path_of(route), {name: "1\x00"})
            if not _refused(response):
                failures.append(f"POST {path_of(route)} {name}=1\\x00: {response.status_code}")
    assert not failures, report(failures)
    assert {"definition", "next"} <= read


# --- what the answers say, and that nothing is written ----------------------------------------


def test_the_api_answers_a_nul_in_a_search_with_the_field_and_the_problem(client, chemist):
    client.force_login(chemist)
    response = client.get("/api/v1/samples/?q=%00")
    assert response.status_code == 400
    assert response.json() == {"errors": {"q": [f"The parameter “q” {NUL_SENTENCE}"]}}


def test_a_page_answers_a_nul_in_its_address_with_a_message_page(client, chemist):
    client.force_login(chemist)
    response = client.get("/samples/%00/")
    assert response.status_code == 400
    html = response.content.decode()
    assert f"The address {NUL_SENTENCE} Remove it and try again." in html
    assert "Log out chen" in html  # the page is a Kiln page, with its navigation


@pytest.mark.parametrize(
    ("query", "field", "problem"),
    [
        ("q=%FF", "q", "is not valid UTF-8 text"),
        ("q=%ED%A0%80", "q", "is not valid UTF-8 text"),  # a UTF-8-encoded surrogate
        ("kind=cell&%00=1", "\\x00", "contains a NUL byte"),
    ],
)
def test_undecodable_query_text_is_a_400_naming_the_parameter(
    client, chemist, query, field, problem
):
    client.force_login(chemist)
    response = client.get(f"/api/v1/samples/?{query}")
    assert response.status_code == 400
    [message] = response.json()["errors"][field]
    assert problem in message


def test_an_address_that_is_not_utf8_is_not_found_rather_than_a_500(client, chemist):
    client.force_login(chemist)
    response = client.get("/samples/%FF/")  # Django keeps the bad byte as the text "%FF"
    assert response.status_code == 404


def test_a_lone_surrogate_in_a_json_body_is_a_400_naming_the_nested_field(client, chemist):
    client.force_login(chemist)
    body = '{"target_formula": "LiCoO2", "precursors": [{"formula": "Li2CO3\\ud800"}]}'
    response = client.post("/api/v1/stoichiometry/plan", body, content_type="application/json")
    assert response.status_code == 400
    assert list(response.json()["errors"]) == ["precursors[0].formula"]
    assert "lone surrogate" in response.json()["errors"]["precursors[0].formula"][0]


def test_a_json_body_with_a_nul_is_a_400_and_one_without_passes(client, chemist):
    client.force_login(chemist)
    url = "/api/v1/chemistry/molar-mass"
    bad = client.post(url, json.dumps({"formula": "Li\x00"}), content_type="application/json")
    assert bad.status_code == 400
    assert list(bad.json()["errors"]) == ["formula"]
    assert client.get(url, {"formula": "Li2CO3"}).json()["formula"] == "Li2CO3"


def test_a_nul_in_a_posted_form_is_a_400_and_nothing_is_saved(client, manager):
    client.force_login(manager)
    response = client.post(
        "/synthesis/chemicals/new/",
        {"name": "Lithium carbonate\x00", "formula": "Li2CO3", "purity_percent": "99"},
    )
    assert response.status_code == 400
    assert "The field “name” contains a NUL byte" in response.content.decode()
    assert not Chemical.objects.filter(formula="Li2CO3").exists()


def test_a_nul_in_an_uploaded_forms_field_is_a_400(client, chemist):
    client.force_login(chemist)
    response = client.post("/samples/import/", {"mode": "skip\x00", "dry_run": "1"})
    assert response.status_code == 400
    assert "The field “mode” contains a NUL byte" in response.content.decode()


def test_ordinary_text_passes_untouched(client, chemist):
    client.force_login(chemist)
    assert client.get("/samples/", {"q": "café Li₂CO₃ + 5 %"}).status_code == 200
    assert client.get("/api/v1/samples/", {"q": "Ni0.2"}).status_code == 200


def test_a_json_body_nested_too_deeply_is_a_400_not_a_recursion_error(client, chemist):
    client.force_login(chemist)
    body = "[" * 100_000 + "]" * 100_000
    response = client.post("/api/v1/stoichiometry/plan", body, content_type="application/json")
    assert response.status_code == 400
    assert response.json() == {"errors": {"body": ["The body is nested too deeply to read."]}}
