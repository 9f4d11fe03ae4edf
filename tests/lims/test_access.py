"""Login is required on every page except the login page and /healthz."""

from __future__ import annotations

import pytest
from django.urls import URLPattern, URLResolver, get_resolver

PUBLIC = {"/accounts/login/", "/healthz", "/admin/login/"}


def all_simple_paths(resolver=None, prefix="") -> list[str]:
    """Every URL without parameters that the project routes."""
    paths = []
    for entry in (resolver or get_resolver()).url_patterns:
        route = prefix + str(entry.pattern)
        if "<" in route or "(?P" in route or "^" in route:
            continue
        if isinstance(entry, URLResolver):
            paths += all_simple_paths(entry, route)
        elif isinstance(entry, URLPattern):
            paths.append("/" + route)
    return paths


def test_every_page_but_login_and_healthz_redirects_an_anonymous_visitor(client, db):
    checked = 0
    for path in all_simple_paths():
        if path in PUBLIC or path.startswith("/api/") or path.startswith("/admin/"):
            continue
        response = client.get(path)
        assert response.status_code == 302, path
        assert response["Location"].startswith("/accounts/login/?next="), path
        checked += 1
    assert checked >= 7  # dashboard, worker check and the five sections at least


def test_admin_sends_an_anonymous_visitor_to_a_login_page(client, db):
    response = client.get("/admin/")
    assert response.status_code == 302
    assert "login" in response["Location"]


def test_a_chemist_logs_in_and_sees_the_dashboard_with_navigation(client, chemist):
    response = client.post(
        "/accounts/login/", {"username": "chen", "password": "bench-password-42"}, follow=True
    )
    html = response.content.decode()
    assert response.redirect_chain[-1][0] == "/"
    assert "Good " in html and "Chemist" in html
    for label in ("Samples", "Synthesis", "Cells", "Measurements", "Jobs"):
        assert f">{label}</a>" in html


def test_a_wrong_password_is_refused_with_a_message(client, chemist):
    response = client.post("/accounts/login/", {"username": "chen", "password": "wrong"})
    assert response.status_code == 200
    assert "Please enter a correct username and password" in response.content.decode()
    assert "_auth_user_id" not in client.session


@pytest.mark.parametrize("section", ["samples", "synthesis", "cells", "measurements", "jobs"])
def test_the_current_section_is_marked_in_the_navigation(client, chemist, section):
    client.force_login(chemist)
    html = client.get(f"/{section}/").content.decode()
    assert f'href="/{section}/" aria-current="page"' in html
