"""API tokens (issue 11): made and revoked on the profile page, scoped (read, write,
upload-only), optionally expiring; a token never does more than its user's role."""

from __future__ import annotations

import datetime
import hashlib
import re

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import get_resolver, reverse
from django.utils import timezone

from characterization.models import MeasurementFile
from lims.api_permissions import READ_ONLY, UPLOAD_ONLY_SENTENCE, RulesPermission
from lims.token_models import ApiToken, TokenScope
from lims.token_services import api_token_create
from tests.characterization.factories import MeasurementFactory, upload
from tests.lims.factories import UserFactory

pytestmark = pytest.mark.django_db

DISC = {"disc_diameter_mm": 12, "disc_mass_mg": 12.0, "foil_disc_mass_mg": 4.0,
        "active_fraction": 0.8}  # fmt: skip
KEY = re.compile(r"kiln_[A-Za-z0-9_-]{40}")


@pytest.fixture
def viewer(db):
    return UserFactory(username="vera", groups=["viewer"])


def make_token(user, scope: str = TokenScope.WRITE, **fields) -> tuple[ApiToken, str]:
    return api_token_create(user=user, name="bench PC", scope=scope, expires_at=None, **fields)


def api(key: str, keyword: str = "Token") -> Client:
    return Client(HTTP_AUTHORIZATION=f"{keyword} {key}")


def signed_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def errors(response) -> list[str]:
    return response.json()["errors"]["non_field_errors"]


def files_url(measurement) -> str:
    return reverse("api:measurement-files", args=[measurement.sample.code])


# --- the profile page -------------------------------------------------------------------------


def test_a_token_made_on_the_profile_page_shows_its_key_once_and_stores_only_its_hash(chemist):
    page = signed_in(chemist)

    response = page.post(
        reverse("token-create"), {"name": "Arbin PC", "scope": "upload", "expires_on": ""}
    )

    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]
    keys = KEY.findall(response.content.decode())
    assert len(set(keys)) == 1
    key = keys[0]
    token = ApiToken.objects.get()
    assert (token.user, token.name, token.scope, token.expires_at) == (
        chemist, "Arbin PC", "upload", None
    )  # fmt: skip
    assert token.key_hash == hashlib.sha256(key.encode()).hexdigest()
    assert token.prefix == key[:12]
    assert key not in {str(value) for value in ApiToken.objects.values().get().values()}
    listed = page.get(reverse("profile")).content.decode()
    assert "Arbin PC" in listed and token.prefix in listed and key not in listed
    assert all(f'<option value="{scope}"' in listed for scope in TokenScope.values)


def test_the_expiry_date_makes_the_token_stop_at_the_start_of_that_day(chemist):
    day = timezone.localdate() + datetime.timedelta(days=30)

    signed_in(chemist).post(
        reverse("token-create"), {"name": "a", "scope": "read", "expires_on": day.isoformat()}
    )

    expires = timezone.localtime(ApiToken.objects.get().expires_at)
    assert (expires.date(), expires.time()) == (day, datetime.time.min)


@pytest.mark.parametrize(
    ("fields", "field", "message"),
    [
        ({"name": ""}, "name", "Name: give the token a name"),
        ({"name": "x" * 81}, "name", "Name: at most 80 characters."),
        ({"scope": "admin"}, "scope", "Scope: choose read, write or upload-only."),
        ({"expires_on": "soon"}, "expires_on", "Expiry date: give a date as YYYY-MM-DD."),
        ({"expires_on": "today"}, "expires_on", "Expiry date: must be after today."),
        ({"expires_on": "366"}, "expires_on", "Expiry date: at most one year ahead"),
    ],
)
def test_a_bad_token_form_names_the_field_and_saves_nothing(chemist, fields, field, message):
    today = timezone.localdate()
    days = {"today": today, "366": today + datetime.timedelta(days=366)}
    if fields.get("expires_on") in days:
        fields = {"expires_on": days[fields["expires_on"]].isoformat()}
    data = {"name": "Arbin PC", "scope": "read", "expires_on": "", **fields}

    response = signed_in(chemist).post(reverse("token-create"), data)

    assert response.status_code == 400
    assert message in response.context["token_form"].errors[field][0]
    assert message.split("(")[0] in response.content.decode().replace("&#x27;", "'")
    assert not ApiToken.objects.exists()


def test_a_year_ahead_is_the_longest_expiry(chemist):
    day = timezone.localdate() + datetime.timedelta(days=365)
    data = {"name": "a", "scope": "read", "expires_on": day.isoformat()}

    assert signed_in(chemist).post(reverse("token-create"), data).status_code == 200
    assert ApiToken.objects.count() == 1


def test_the_owner_revokes_their_token_and_its_key_stops_working(viewer):
    token, key = make_token(viewer, TokenScope.READ)
    assert api(key).get("/api/v1/samples/").status_code == 200

    response = signed_in(viewer).post(reverse("token-revoke"), {"token": token.pk})

    assert response.status_code == 302
    token.refresh_from_db()
    assert token.revoked_at is not None
    refused = api(key).get("/api/v1/samples/")
    assert refused.status_code == 401
    assert errors(refused)[0].startswith("This API token was revoked on ")


def test_another_user_cannot_revoke_my_token_and_nothing_changes(chemist):
    token, key = make_token(chemist)
    otto = UserFactory(username="otto", groups=["chemist"])

    response = signed_in(otto).post(reverse("token-revoke"), {"token": token.pk})

    assert response.status_code == 403
    assert "belongs to chen; only they or a lab manager may change it" in response.content.decode()
    token.refresh_from_db()
    assert token.revoked_at is None
    assert api(key).get("/api/v1/samples/").status_code == 200


def test_a_lab_manager_revokes_anyones_token(chemist, manager):
    token, _ = make_token(chemist)

    assert signed_in(manager).post(reverse("token-revoke"), {"token": token.pk}).status_code == 302
    token.refresh_from_db()
    assert token.revoked_at is not None
    assert token.history.first().history_user == manager  # the audit trail says who


def test_a_user_without_a_role_is_offered_no_tokens_and_may_make_none(db):
    nadia = signed_in(UserFactory(username="nadia"))

    assert "API tokens" not in nadia.get(reverse("profile")).content.decode()
    response = nadia.post(reverse("token-create"), {"name": "a", "scope": "read"})
    assert response.status_code == 403
    assert not ApiToken.objects.exists()


# --- authentication -------------------------------------------------------------------------


def test_a_read_token_reads_and_is_refused_a_post_with_a_sentence(chemist):
    _, key = make_token(chemist, TokenScope.READ)

    assert api(key).get("/api/v1/samples/").status_code == 200
    assert api(key, "Bearer").get("/api/v1/samples/").status_code == 200
    refused = api(key).post("/api/v1/cells/disc-metrics", DISC, content_type="application/json")

    assert refused.status_code == 403
    assert errors(refused) == [READ_ONLY]


def test_a_write_token_does_what_the_role_allows(chemist):
    measurement = MeasurementFactory(operator=chemist)
    _, key = make_token(chemist, TokenScope.WRITE)

    computed = api(key).post("/api/v1/cells/disc-metrics", DISC, content_type="application/json")
    uploaded = api(key).post(files_url(measurement), {"files": [upload("more.csv", b"t,v\n0,3\n")]})

    assert computed.status_code == 200
    assert uploaded.status_code == 201, uploaded.content
    assert uploaded.json()["files"][0]["name"] == "more.csv"
    assert MeasurementFile.objects.filter(measurement=measurement).count() == 1


def test_a_viewer_with_a_write_token_still_cannot_write(chemist, viewer):
    measurement = MeasurementFactory(operator=chemist)
    _, key = make_token(viewer, TokenScope.WRITE)

    response = api(key).post(files_url(measurement), {"files": [upload()]})

    assert response.status_code == 403
    assert errors(response) == ["Your role (viewer) reads records but does not change them."]
    assert not MeasurementFile.objects.filter(measurement=measurement).exists()


def test_an_upload_token_adds_files_to_a_measurement_and_nothing_else(chemist):
    measurement = MeasurementFactory(operator=chemist)
    _, key = make_token(chemist, TokenScope.UPLOAD)

    added = api(key).post(files_url(measurement), {"files": [upload(), upload("b.csv", b"x")]})
    listing = api(key).get("/api/v1/samples/")
    compute = api(key).post("/api/v1/cells/disc-metrics", DISC, content_type="application/json")
    unknown = api(key).post(reverse("api:measurement-files", args=["MEAS-0000"]))

    assert added.status_code == 201, added.content
    assert [f["linked"] for f in added.json()["files"]] == [True, True]
    assert MeasurementFile.objects.filter(measurement=measurement).count() == 2
    for refused in (listing, compute):
        assert refused.status_code == 403
        assert errors(refused) == [UPLOAD_ONLY_SENTENCE]
    assert unknown.status_code == 404


def test_an_upload_token_adds_files_only_where_its_user_may(chemist):
    theirs = MeasurementFactory(operator=UserFactory(username="otto", groups=["chemist"]))
    _, key = make_token(chemist, TokenScope.UPLOAD)

    response = api(key).post(files_url(theirs), {"files": [upload()]})

    assert response.status_code == 403
    assert "belongs to otto" in errors(response)[0]
    assert not MeasurementFile.objects.filter(measurement=theirs).exists()


def test_an_expired_token_is_refused_with_401_and_a_sentence(chemist):
    token, key = make_token(chemist)
    ApiToken.objects.filter(pk=token.pk).update(
        created_at=timezone.now() - datetime.timedelta(days=2),
        expires_at=timezone.now() - datetime.timedelta(days=1),
    )

    response = api(key).get("/api/v1/samples/")

    assert response.status_code == 401
    assert errors(response)[0].startswith("This API token expired on ")
    assert errors(response)[0].endswith("Create a new one on your profile page.")
    assert response["WWW-Authenticate"]


@pytest.mark.parametrize(
    ("header", "message"),
    [
        ("Bearer kiln_" + "x" * 40, "This API token is not known"),
        ("Token kiln_a b", "Authorization header: give 'Token <key>' or 'Bearer <key>'"),
    ],
)
def test_an_unknown_or_malformed_key_is_refused_with_401(db, header, message):
    response = Client(HTTP_AUTHORIZATION=header).get("/api/v1/samples/")

    assert response.status_code == 401
    assert errors(response)[0].startswith(message)


def test_last_used_is_recorded_at_most_once_a_minute(chemist):
    token, key = make_token(chemist, TokenScope.READ)
    assert token.last_used_at is None

    api(key).get("/api/v1/samples/")
    token.refresh_from_db()
    first = token.last_used_at
    api(key).get("/api/v1/samples/")
    token.refresh_from_db()

    assert first is not None and token.last_used_at == first
    earlier = first - datetime.timedelta(minutes=2)
    ApiToken.objects.filter(pk=token.pk).update(last_used_at=earlier)
    api(key).get("/api/v1/samples/")
    token.refresh_from_db()
    assert token.last_used_at > first


def test_shell_made_drf_tokens_still_work(chemist):
    from rest_framework.authtoken.models import Token

    key = Token.objects.create(user=chemist).key

    assert api(key).get("/api/v1/samples/").status_code == 200


def test_every_api_view_asks_the_rules_so_that_scopes_apply():
    resolver = get_resolver()
    views = [p.callback for p in resolver.namespace_dict["api"][1].url_patterns]
    assert views and all(RulesPermission in v.cls.permission_classes for v in views)


# --- the index ----------------------------------------------------------------------------------


def test_the_api_root_lists_its_resources_with_absolute_urls(viewer):
    response = signed_in(viewer).get("/api/v1/")

    assert response.status_code == 200
    body = response.json()
    assert body["resources"]["sample-list"] == "http://testserver/api/v1/samples/"
    assert body["resources"]["sample-lineage"] == "http://testserver/api/v1/samples/{code}/lineage"
    assert (
        body["resources"]["measurement-files"]
        == "http://testserver/api/v1/measurements/{code}/files"
    )
    assert "root" not in body["resources"]
    assert (body["schema"], body["docs"]) == (
        "http://testserver/api/schema/", "http://testserver/api/docs/"
    )  # fmt: skip


def test_the_api_root_refuses_anonymous_and_users_without_a_role(db):
    assert Client().get("/api/v1/").status_code in (401, 403)
    assert signed_in(UserFactory(username="nadia")).get("/api/v1/").status_code == 403


def test_the_token_brings_its_users_role_in_the_same_query(chemist, viewer):
    """One query finds the key, its user and the user's role groups; the page then asks only
    for its rows (no cell is tracked stock: no stock query)."""
    _, key = make_token(viewer, TokenScope.WRITE)
    client = api(key)
    client.get("/api/v1/samples/?kind=cell")  # the token's last use is written once a minute
    with CaptureQueriesContext(connection) as queries:
        assert client.get("/api/v1/samples/?kind=cell").status_code == 200
    sql = [q["sql"] for q in queries.captured_queries]
    assert len(sql) == 2, sql
    assert "lims_apitoken" in sql[0] and "auth_user_groups" in sql[0]
    refused = client.post("/api/v1/samples/register/", {})  # a write token, but a viewer's
    assert refused.status_code == 403 and "viewer" in errors(refused)[0].lower()


def test_the_compiled_token_lookup_reads_what_the_orm_reads(chemist):
    """The lookup's SQL is compiled once per process: run with another key it finds that key's
    row, as the ORM's own query does, and leaves the cached parameters as they were."""
    from lims.api_token_auth import _compiled, _lookup, _row, token_with_user
    from lims.token_models import key_hash

    mine, key = make_token(chemist, TokenScope.READ)
    _, other_key = make_token(UserFactory(username="otto", groups=["viewer"]), TokenScope.WRITE)
    cached = list(_compiled("default")[1])

    for k in (key, other_key, "kiln_" + "x" * 40):
        assert _row("default", key_hash(k)) == _lookup("default", key_hash(k)).first()
    assert _compiled("default")[1] == cached
    token = token_with_user(key)
    assert token.pk == mine.pk and token.user.pk == chemist.pk
    assert token.user._kiln_groups == {"chemist"}
