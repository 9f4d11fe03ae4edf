"""A chemist logs in through a real browser and sees the dashboard."""

from __future__ import annotations

import pytest

from tests.fixtures.browser import log_in
from tests.lims.factories import PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.usefixtures("transactional_db")]


def test_a_chemist_logs_in_and_sees_the_dashboard(page, chemist):
    page.goto("/samples/")
    assert "/accounts/login/" in page.url  # sent to log in first
    log_in(page, "chen", PASSWORD)
    page.wait_for_url("**/samples/")
    page.get_by_role("link", name="Kiln").click()
    heading = page.get_by_role("heading", level=1)
    assert heading.inner_text().startswith("Good ")
    assert "Ada" in heading.inner_text()
    assert page.get_by_role("link", name="Measurements").is_visible()
    assert page.locator(".kiln-status").get_by_text("Database").is_visible()
