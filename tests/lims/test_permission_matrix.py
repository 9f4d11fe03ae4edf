"""The permission matrix (issue 9), generated from the URL conf and the admin registry.

Routes: every route that accepts POST (found by posting to every route as a lab manager: a
GET-only view answers 405) must declare its rule with lims.rules.guard, or be one of PUBLIC;
a new write route without one fails here, named. Each is then posted to as anonymous, a user in
no group, a viewer, another chemist, the chemist who owns the records and a lab manager.

Expected, in the issue's words rather than lims.rules' code:
  anonymous       pages: a redirect to the login page; the API: 401/403
  no group        403 everywhere but the profile (and login/logout)
  viewer          403 on every write (rule "read": computations that store nothing are allowed)
  other chemist   403 on a write to the owner's record (change, void, run); creating is every
                  chemist's; lab-manager-only things (rules.MANAGER_ONLY) refuse every chemist
  owner, manager  not 403 (nor 401/404/405)
A refused request changes nothing in the database. Existence is not hidden: everyone with a
role reads every record, so a refused write answers 403, never 404.

Admin: every registered model (and its inlines) x every role x view/add/change/delete, on the
owner's record; delete is never offered for a record that carries data (rules.KEPT).
"""

from __future__ import annotations

import html
import itertools
from dataclasses import dataclass

import pytest
from django.apps import apps
from django.contrib import admin
from django.db import connection, transaction
from django.test import Client, override_settings
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from characterization.jobs.models import AnalysisJob
from lims import rules
from synthesis.models import Batch, BatchStepLog
from tests.lims.permission_world import ROLES, make_world

pytestmark = pytest.mark.django_db

# Routes that accept POST without a rule: signing in and out.
PUBLIC = {"login", "logout"}
# URL arguments the rule's lookup does not give (world -> kwargs); a route whose arguments are
# neither here nor in its rule's lookup fails, named.
ARGS = {
    "samples:detail": lambda w: {"code": w["lims.sample"].code},
    "samples:eln-export": lambda w: {"code": w["lims.sample"].code},
    "samples:export": lambda w: {"fmt": "csv"},
    "synthesis:batches_export": lambda w: {"fmt": "csv"},
    "synthesis:recipes_export": lambda w: {"fmt": "csv"},
    "synthesis:chemicals_export": lambda w: {"fmt": "csv"},
    "synthesis:lots_export": lambda w: {"fmt": "csv"},
    "cells:export": lambda w: {"fmt": "csv"},
    "cells:electrodes-export": lambda w: {"fmt": "csv"},
    "measurements:export": lambda w: {"fmt": "csv"},
    "measurements:unplaced-export": lambda w: {"fmt": "csv"},
    "jobs:export": lambda w: {"fmt": "csv"},
    "synthesis:recipe_detail": lambda w: {"pk": w["synthesis.recipe"].pk},
    "synthesis:batch_plan": lambda w: {"pk": w["synthesis.recipe"].pk},
    "synthesis:batch_quantities": lambda w: {"pk": w["synthesis.recipe"].pk},
    "synthesis:series_plan": lambda w: {"pk": w["synthesis.recipe"].pk},
    "synthesis:series_detail": lambda w: {"pk": w["synthesis.series"].pk},
    "synthesis:batch_detail": lambda w: {"pk": w["synthesis.batch"].pk},
    "synthesis:batch_sheet": lambda w: {"pk": w["synthesis.batch"].pk},
    **{
        f"synthesis:batch_{name}": lambda w: {"pk": w["synthesis.batch"].pk}
        for name in ("start", "actuals", "complete", "fail", "correct", "void")
    },
    "synthesis:batch_step": lambda w: {
        "pk": w["synthesis.batch"].pk,
        "log_pk": w["synthesis.batch"].step_logs.first().pk,
    },
    "cells:electrode": lambda w: {"code": w["characterization.electrode"].sample.code},
    "cells:electrode-cells": lambda w: {"code": w["characterization.electrode"].sample.code},
    "cells:cell": lambda w: {"code": w["characterization.coincell"].sample.code},
    "cells:impedance": lambda w: {"code": w["characterization.coincell"].sample.code},
    "measurements:raw-file": lambda w: {"sha256": w["characterization.rawfile"].sha256},
    "measurements:detail": lambda w: {"code": _measurement(w)},
    "measurements:refinement-correct": lambda w: {
        "code": w["characterization.refinementresult"].measurement.sample.code
    },
    "measurements:raw-file-void": lambda w: {"code": _measurement(w)},
    "jobs:detail": lambda w: {"pk": w["jobs.analysisjob"].pk},
    "jobs:warnings": lambda w: {"pk": w["jobs.analysisjob"].pk},
    "jobs:table": lambda w: {
        "pk": w["jobs.analysisjob"].pk,
        "name": "cycle_summary",
        "fmt": "csv",
    },
    **{
        f"jobs:{name}": lambda w: {"code": _measurement(w)}
        for name in (
            "measurement",
            "measurement-jobs",
            "measurement-results",
            "measurement-profiles",
            "measurement-files",
            "measurement-warnings",
        )
    },  # fmt: skip
    "jobs:cell-warnings": lambda w: {"code": w["characterization.coincell"].sample.code},
    "api:sample-detail": lambda w: {"code": w["lims.sample"].code},
    "api:sample-lineage": lambda w: {"code": w["lims.sample"].code},
    "api:harvest-file": lambda w: {"sha256": w["characterization.rawfile"].sha256},
    "api:electrode-detail": lambda w: {"code": w["characterization.electrode"].sample.code},
    "api:cell-detail": lambda w: {"code": w["characterization.coincell"].sample.code},
    "api:measurement-detail": lambda w: {"code": _measurement(w)},
    "api:analysis-definition": lambda w: {"pk": w["jobs.analysisdefinition"].pk},
    "api:job": lambda w: {"pk": w["jobs.analysisjob"].pk},
    "api:result": lambda w: {"pk": w["jobs.analysisresult"].pk},
    "api:result-table": lambda w: {
        "pk": w["jobs.analysisresult"].pk,
        "filename": "cycle_summary.csv",
    },
    "api:result-figure": lambda w: {"pk": w["jobs.analysisresult"].pk, "name": "capacity"},
    "api:measurement-result": lambda w: {"code": _measurement(w), "kind": "cycling_summary"},
    "transfers:eln": lambda w: {"code": w["lims.sample"].code},
    "transfers:eln-offer": lambda w: {"code": w["lims.sample"].code},
    "transfers:samples": lambda w: {"fmt": "csv"},
    "study:export": lambda w: {"fmt": "csv"},
}
WRITES = ("create", "change", "void", "run")  # "delete" is the admin's
ON_RECORD = ("change", "void", "run")


def _measurement(world) -> str:
    return world["characterization.measurement"].sample.code


@dataclass(frozen=True)
class Route:
    name: str  # "namespace:name"
    pattern: str
    callback: object
    params: tuple[str, ...]

    @property
    def rule(self) -> rules.Rule | None:
        return rules.rule_of(self.callback)

    @property
    def public(self) -> bool:
        """Login or role not required (the API authenticates itself: never public here)."""
        if hasattr(self.callback, "cls"):
            return False
        login_free = not getattr(self.callback, "login_required", True)
        return login_free or getattr(self.callback, "kiln_role_not_required", False)


def project_routes(resolver=None, prefix: str = "", namespace: str = "") -> list[Route]:
    """Every route of the URL conf but the admin's (the admin has its own matrix below)."""
    found = []
    for entry in (resolver or get_resolver()).url_patterns:
        pattern = prefix + str(entry.pattern)
        if isinstance(entry, URLResolver):
            inner = ":".join(filter(None, [namespace, entry.namespace]))
            if inner != "admin":
                found += project_routes(entry, pattern, inner)
        elif isinstance(entry, URLPattern) and entry.name:
            name = f"{namespace}:{entry.name}" if namespace else entry.name
            params = tuple(entry.pattern.regex.groupindex)
            found.append(Route(name, pattern, entry.callback, params))
    return found


def _value(record, path: str):
    """The value a rule's lookup field path ("sample__code", "jobs") has on a record."""
    value = record
    for part in path.split("__"):
        value = getattr(value, part)
        if hasattr(value, "all") and callable(value.all):  # a related manager: its first row
            value = value.first()
    return getattr(value, "pk", value)


def url_of(route: Route, world) -> tuple[str | None, str]:
    """The route's URL for the world's records, or (None, what is missing)."""
    kwargs = {}
    rule = route.rule
    if rule is not None and rule.lookup:
        record = world.records.get(rule.label)
        if record is None:
            return (
                None,
                f"{route.name}: the world has no {rule.label} (tests/lims/permission_world)",
            )
        kwargs = {arg: _value(record, field) for field, arg in rule.lookup.items()}
    if route.name in ARGS:
        kwargs.update(ARGS[route.name](world))
    missing = sorted(set(route.params) - set(kwargs))
    if missing:
        return None, f"{route.name}: give its URL arguments {missing} in ARGS"
    return reverse(route.name, kwargs=kwargs or None), ""


@pytest.fixture(scope="module")
def _world(django_db_setup, django_db_blocker, tmp_path_factory):
    """Built once for the module inside a transaction rolled back at its end; each test runs
    in a savepoint of it (pytest-django's `db`), so what one test changes the next never sees.
    Nothing is committed, so no analysis is ever sent to a broker."""
    media = override_settings(MEDIA_ROOT=tmp_path_factory.mktemp("media"))
    with media, django_db_blocker.unblock(), transaction.atomic():
        yield make_world()
        transaction.set_rollback(True)


@pytest.fixture
def world(db, _world):
    return _world


def _client(world, role: str) -> Client:
    client = Client()
    if world.users[role] is not None:
        client.force_login(world.users[role])
    return client


def fingerprint() -> tuple:
    """Rows of every model (history rows count every save) and the states .update() moves;
    sessions are left out (signing in the test clients makes them)."""
    tables = [m._meta.db_table for m in apps.get_models() if m._meta.app_label != "sessions"]
    counted = ", ".join(f"(SELECT COUNT(*) FROM {connection.ops.quote_name(t)})" for t in tables)
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {counted}")
        counts = tuple(cursor.fetchone())
    states = (
        tuple(AnalysisJob.objects.order_by("pk").values_list("status", flat=True)),
        tuple(Batch.objects.order_by("pk").values_list("status", flat=True)),
        tuple(BatchStepLog.objects.order_by("pk").values_list("done", flat=True)),
    )
    return counts + states


def denied(role: str, rule: rules.Rule, owners_record: bool) -> bool:
    """The issue's matrix: is `role` refused this rule on the record its URL names (the owner
    chemist's, unless `owners_record` is False: a record nobody owns, such as a shared result)?"""
    if role in ("anonymous", "none"):
        return True
    if role == "manager":
        return False
    if rule.action == "read" and rule.label in rules.MANAGER_READ:
        return True  # people and their keys (everyone's API tokens): lab managers only
    if role == "viewer":
        return rule.action != "read"
    if rule.label in rules.MANAGER_ONLY and rule.action != "read":
        return True  # lab managers' things: every chemist is refused
    on_record = rule.action in ON_RECORD and bool(rule.lookup)
    return on_record and (role == "other" or not owners_record)


def check(route: Route, url: str, role: str, response, expect_denied: bool) -> str:
    """'' when the answer is the expected one, else a line saying what happened."""
    code = response.status_code
    api = url.startswith("/api/")
    if expect_denied and role == "anonymous":
        ok = (
            code in (401, 403)
            if api
            else code == 302 and "/accounts/login/" in response["Location"]
        )
    elif expect_denied:
        sentence = html.escape(rules.refusal(response.wsgi_request.user, "read", "lims.sample"))
        ok = code == 403 and (api or role != "none" or sentence in response.content.decode())
    else:
        ok = code not in (401, 403, 404, 405) and code < 500
    verdict = "refused" if expect_denied else "allowed"
    return "" if ok else f"{route.name} ({url}) as {role}: {code}, expected {verdict}"


def write_route_problems(world, only: set[str] | None = None) -> tuple[list[str], int]:
    """What is wrong with the write routes (every route, or the `only` names), and how many
    were checked."""
    clients = {role: _client(world, role) for role in ROLES}
    problems, checked = [], 0
    for route in project_routes():
        if only is not None and route.name not in only:
            continue
        url, missing = url_of(route, world)
        if url is None:
            problems.append(missing)
            continue
        if route.public:  # a fresh client: logging out is a POST
            if _client(world, "manager").post(url).status_code != 405 and route.name not in PUBLIC:
                problems.append(f"{route.name} ({url}) accepts POST without signing in or a role")
            continue
        by_manager = clients["manager"].post(url)  # first: does it accept POST at all?
        if by_manager.status_code == 405:
            continue
        checked += 1
        problems += _route_problems(route, url, world, clients, by_manager)
    return [p for p in problems if p], checked


def _route_problems(route: Route, url: str, world, clients, by_manager) -> list[str]:
    rule = route.rule
    if rule is None:
        return [f"{route.name} ({url}) accepts POST and declares no rule"]
    problems = []
    if rule.action in ("change", "void") and route.params and not rule.lookup:
        problems.append(f"{route.name}: {rule.action} names a record but its rule no lookup")
    record = world.records.get(rule.label)
    owners = record is not None and rules.owner_of(record) == world.users["owner"]
    refused = [role for role in ROLES if denied(role, rule, owners)]
    before = fingerprint()
    for role in refused:
        problems.append(check(route, url, role, clients[role].post(url), True))
    if fingerprint() != before:
        problems.append(f"{route.name}: a refused request changed the database")
    for role in set(ROLES) - set(refused):
        response = by_manager if role == "manager" else clients[role].post(url)
        problems.append(check(route, url, role, response, False))
    return problems


def test_every_route_that_accepts_post_declares_a_rule_and_applies_it_to_every_role(world):
    problems, checked = write_route_problems(world)
    assert not problems, "\n".join(problems)
    assert checked >= 25  # synthesis, cells, measurements, jobs, import, API computations


def _pattern(name: str) -> URLPattern:
    namespace, _, short = name.rpartition(":")
    resolver = get_resolver()
    if namespace:
        resolver = resolver.namespace_dict[namespace][1]
    return next(p for p in resolver.url_patterns if getattr(p, "name", None) == short)


def test_a_write_route_without_a_rule_fails_the_matrix(world, monkeypatch):
    pattern = _pattern("synthesis:batch_fail")
    monkeypatch.setattr(pattern, "callback", pattern.callback.__wrapped__)  # guard removed

    problems, _ = write_route_problems(world, only={"synthesis:batch_fail"})

    assert problems == [
        f"synthesis:batch_fail (/synthesis/batches/{world['synthesis.batch'].pk}/fail/) "
        "accepts POST and declares no rule"
    ]


def test_a_rule_that_forgets_the_record_fails_the_matrix(world, monkeypatch):
    pattern = _pattern("synthesis:batch_fail")
    unchecked = rules.guard("change", "synthesis.batch")(pattern.callback.__wrapped__)
    monkeypatch.setattr(pattern, "callback", unchecked)

    problems, _ = write_route_problems(world, only={"synthesis:batch_fail"})

    assert problems == ["synthesis:batch_fail: change names a record but its rule no lookup"]


def test_a_user_in_no_group_reads_nothing_but_their_profile(world):
    nobody = _client(world, "none")
    sentence = html.escape(rules.refusal(world.users["none"], "read", "lims.sample"))
    problems, checked = [], 0
    for route in project_routes():
        url, missing = url_of(route, world)
        if url is None:
            problems.append(missing)
            continue
        if route.public or route.name == "profile":
            continue
        response = nobody.get(url)
        body = response.content.decode()
        if response.status_code != 403 or sentence not in body:  # pages and the API alike
            problems.append(f"{route.name} ({url}): {response.status_code}")
        checked += 1
    for path in ("/admin/", "/admin/characterization/coincell/"):
        if nobody.get(path).status_code != 403:
            problems.append(f"{path} answers a user in no group")
    assert not problems, "\n".join(problems)
    assert checked >= 40
    page = nobody.get(reverse("profile")).content.decode()
    assert "nadia" in page and "No role yet" in page


def test_a_viewer_reads_every_page_and_is_refused_every_form_that_writes(world):
    viewer = _client(world, "viewer")
    problems = []
    for route in project_routes():
        url, missing = url_of(route, world)
        if url is None or route.public:
            continue
        rule = route.rule
        response = viewer.get(url)
        api_view = getattr(route.callback, "cls", None)
        if api_view is not None and hasattr(api_view, "get") and rule is not None:
            rule = None if rule.action != "read" else rule  # its GET is a read, its rule POST's
        expect_denied = rule is not None and denied("viewer", rule, owners_record=True)
        if expect_denied != (response.status_code == 403) or response.status_code >= 500:
            problems.append(f"{route.name} ({url}): {response.status_code}")
    assert not problems, "\n".join(problems)


# --- the admin ----------------------------------------------------------------------------------


def _request(rf, user):
    request = rf.get("/admin/")
    request.user = user
    return request


def admin_limits(role: str, label: str, owned: bool) -> dict[str, bool]:
    """The most each role may be offered on the owner's record of `label` (True: may)."""
    if role == "none":
        return dict.fromkeys(("view", "add", "change", "delete"), False)
    view = role == "manager" or label not in rules.MANAGER_READ
    if role == "manager":
        return {"view": True, "add": True, "change": True, "delete": label not in rules.KEPT}
    if role == "viewer":
        return {"view": view, "add": False, "change": False, "delete": False}
    chemist_may = label not in rules.MANAGER_ONLY
    change = chemist_may and (role == "owner" or not owned)
    return {"view": view, "add": chemist_may, "change": change, "delete": False}


def test_the_admin_offers_no_role_more_than_the_rules_on_any_model(world, rf):
    problems, checked = [], 0
    for model, model_admin in admin.site._registry.items():
        label = rules.label_of(model)
        record = world.records.get(label)
        if record is None:
            problems.append(f"{label}: add a record of it to tests/lims/permission_world.py")
            continue
        owned = rules.owner_of(record) == world.users["owner"]
        for role in ROLES[1:]:
            request = _request(rf, world.users[role])
            offered = {
                "view": model_admin.has_view_permission(request, record),
                "add": model_admin.has_add_permission(request),
                "change": model_admin.has_change_permission(request, record),
                "delete": model_admin.has_delete_permission(request, record),
            }
            limits = admin_limits(role, label, owned)
            for action, may in offered.items():
                if may and not limits[action]:
                    problems.append(f"{label} offers {action} to {role}")
            if offered["view"] != limits["view"]:
                problems.append(f"{label}: view for {role} is {offered['view']}")
            for inline in model_admin.get_inline_instances(request, record):
                problems += _inline_problems(label, inline, request, record, role, owned)
            checked += 1
    assert not problems, "\n".join(problems)
    assert checked >= 5 * 20


def _inline_problems(label, inline, request, record, role, owned) -> list[str]:
    inline_label = rules.label_of(inline.model)
    limits = admin_limits(role, inline_label, owned)
    if not rules.allowed(request.user, "change", record):
        limits = {**limits, "add": False, "change": False, "delete": False}
    offered = {
        "add": inline.has_add_permission(request, record),
        "change": inline.has_change_permission(request, record),
        "delete": inline.has_delete_permission(request, record),
    }
    return [
        f"{label}'s inline {inline_label} offers {action} to {role}"
        for action, may in offered.items()
        if may and not limits[action]
    ]


def test_no_one_may_delete_a_record_that_carries_data_in_the_admin(world, rf):
    superuser = type(world.users["manager"]).objects.get(pk=world.users["manager"].pk)
    superuser.is_superuser = True
    request = _request(rf, superuser)
    registered = {rules.label_of(m): a for m, a in admin.site._registry.items()}
    for label in sorted(rules.KEPT & set(registered)):
        model_admin = registered[label]
        assert not model_admin.has_delete_permission(request, world.records.get(label)), label
        assert not model_admin.has_delete_permission(request), label
        assert "delete_selected" not in model_admin.get_actions(request), label


@pytest.mark.parametrize("role", ["viewer", "owner", "manager"])
def test_every_admin_change_page_opens_for_every_role_that_reads(world, role):
    """Read-only forms too (the analysis definition page was a 500 for a chemist)."""
    client = _client(world, role)
    problems = []
    for model in admin.site._registry:
        label = rules.label_of(model)
        record = world.records.get(label)
        if record is None or not rules.allowed(world.users[role], "read", record):
            continue
        meta = model._meta
        urls = [reverse(f"admin:{meta.app_label}_{meta.model_name}_change", args=[record.pk])]
        if role == "viewer":  # the lists once: they do not depend on the role
            urls.append(reverse(f"admin:{meta.app_label}_{meta.model_name}_changelist"))
        for url in urls:
            status = client.get(url).status_code
            if status != 200:
                problems.append(f"{url} as {role}: {status}")
    assert not problems, "\n".join(problems)


def test_the_matrix_covers_every_role_and_action():
    assert set(ROLES) == {"anonymous", "none", "viewer", "owner", "other", "manager"}
    assert {rule for rule in itertools.chain(WRITES, ("read", "delete"))} == set(rules.ACTIONS)
