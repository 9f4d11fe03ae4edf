"""The lab managers' page of everyone's API tokens (issue 11): who holds which key, filtered by
user, scope and state, with a revoke that stops the key at once; nobody else sees it."""

from __future__ import annotations

import datetime

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from lims.token_models import ApiToken, TokenScope
from lims.token_services import api_token_create
from tests.lims.factories import UserFactory

pytestmark = pytest.mark.django_db


def token(user, name: str, scope: str = TokenScope.WRITE) -> tuple[ApiToken, str]:
    return api_token_create(user=user, name=name, scope=scope, expires_at=None)


def signed_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def listed(response) -> list[str]:
    """The token names in the page's table, in order."""
    html = response.content.decode()
    table = html.split('data-testid="lab-token-list"', 1)[1].split("</table>", 1)[0]
    return [row.split("<td>", 3)[2].split("</td>")[0] for row in table.split("<tr>")[2:]
            if "<td>" in row and "No tokens" not in row]  # fmt: skip


@pytest.fixture
def tokens(chemist):
    otto = UserFactory(username="otto", groups=["chemist"])
    pc, _ = token(chemist, "Neware PC 3", TokenScope.UPLOAD)
    notebook, _ = token(chemist, "notebook", TokenScope.READ)
    old, _ = token(otto, "old laptop")
    ApiToken.objects.filter(pk=old.pk).update(revoked_at=timezone.now())
    soon, _ = token(otto, "expired script", TokenScope.READ)
    past = timezone.now() - datetime.timedelta(days=1)
    ApiToken.objects.filter(pk=soon.pk).update(created_at=past - datetime.timedelta(days=2),
                                               expires_at=past)  # fmt: skip
    return {"pc": pc, "notebook": notebook, "old": old, "soon": soon}


def test_a_lab_manager_sees_everyones_tokens_newest_first(manager, tokens):
    page = signed_in(manager).get(reverse("lab-tokens"))

    assert page.status_code == 200
    names = listed(page)
    assert sorted(names) == ["Neware PC 3", "expired script", "notebook", "old laptop"]
    html = page.content.decode()
    assert "chen" in html and "otto" in html
    assert tokens["pc"].prefix in html  # the key's start, never the key
    assert names.index("old laptop") < names.index("notebook")  # newest first


@pytest.mark.parametrize(
    "query, expected",
    [
        ({"user": "ott"}, ["expired script", "old laptop"]),
        ({"scope": "upload"}, ["Neware PC 3"]),
        ({"state": "revoked"}, ["old laptop"]),
        ({"state": "expired"}, ["expired script"]),
        ({"state": "active"}, ["Neware PC 3", "notebook"]),
        ({"state": "active", "user": "chen", "scope": "read"}, ["notebook"]),
        ({"state": "nonsense"}, ["Neware PC 3", "expired script", "notebook", "old laptop"]),
    ],
)
def test_the_list_filters_by_user_scope_and_state(manager, tokens, query, expected):
    assert sorted(listed(signed_in(manager).get(reverse("lab-tokens"), query))) == expected


def test_a_chemist_may_not_see_other_peoples_tokens(chemist, tokens):
    page = signed_in(chemist).get(reverse("lab-tokens"))

    assert page.status_code == 403
    assert "Neware PC 3" not in page.content.decode()
    profile = signed_in(chemist).get(reverse("profile")).content.decode()
    assert reverse("lab-tokens") not in profile  # not offered either


def test_revoking_from_the_lab_list_stops_the_key_and_comes_back_to_the_list(manager, chemist):
    pc, key = token(chemist, "Neware PC 3", TokenScope.UPLOAD)
    assert Client(HTTP_AUTHORIZATION=f"Token {key}").get("/api/v1/harvest/files/" + "0" * 64
                                                          ).status_code == 404  # fmt: skip
    assert reverse("lab-tokens") in signed_in(manager).get(reverse("profile")).content.decode()

    response = signed_in(manager).post(reverse("token-revoke"), {"token": pc.pk, "back": "lab"})

    assert response.status_code == 302
    assert response.url == reverse("lab-tokens")
    pc.refresh_from_db()
    assert pc.revoked_at is not None
    assert pc.history.first().history_user == manager
    refused = Client(HTTP_AUTHORIZATION=f"Token {key}").get("/api/v1/harvest/files/" + "0" * 64)
    assert refused.status_code == 401
