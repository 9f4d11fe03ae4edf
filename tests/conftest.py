"""Shared fixtures. Service tests skip without services; KILN_REQUIRE_SERVICES=1 makes them fail.
Tests marked testdata("cyclers", ...) skip without the shared instrument files (KILN_TESTDATA,
see tests/testdata.py); KILN_REQUIRE_TESTDATA=1 makes them fail."""

from __future__ import annotations

import os
import tempfile
import uuid

import pytest

from tests.testdata import KINDS, require_testdata


def _isolate_celery() -> None:
    """Tests send to a queue of their own (a test worker never takes a developer's real jobs,
    a developer's worker never takes the tests'), and, without Redis, to a temporary folder.

    pytest-django has loaded the settings before this module, so the Celery app is changed
    directly; nothing has been sent yet, so its queues are built from these values."""
    from lims.celery import app

    queue = f"kiln-test-{uuid.uuid4().hex[:8]}"
    os.environ["KILN_CELERY_QUEUE"] = queue  # for worker subprocesses
    app.conf.task_default_queue = queue
    if app.conf.broker_url.startswith("filesystem://"):
        folder = tempfile.mkdtemp(prefix="kiln-test-broker-")
        app.conf.broker_transport_options = {
            "data_folder_in": folder, "data_folder_out": folder,
            "processed_folder": folder, "control_folder": folder, "store_processed": False,
        }  # fmt: skip


_isolate_celery()

REQUIRE_SERVICES = os.environ.get("KILN_REQUIRE_SERVICES") == "1"
CHROMIUM = "/usr/bin/chromium"

pytest_plugins = ["tests.fixtures.worker", "tests.fixtures.browser"]


def pytest_configure(config):
    config.addinivalue_line(
        "markers",
        "testdata(*kinds): needs the shared instrument files (KILN_TESTDATA/<kind>/, kinds: "
        f"{', '.join(KINDS)}); skipped without them unless KILN_REQUIRE_TESTDATA=1",
    )


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item):
    """Before any fixture (database, browser, worker) is set up: a test marked testdata skips,
    or fails under KILN_REQUIRE_TESTDATA=1, when a folder it needs is missing."""
    markers = list(item.iter_markers("testdata"))
    if any(not marker.args for marker in markers):
        pytest.fail('name what it needs: @pytest.mark.testdata("cyclers")', pytrace=False)
    if markers:
        require_testdata(*dict.fromkeys(kind for marker in markers for kind in marker.args))


def missing_service(reason: str) -> None:
    """Skip on a laptop without the service; fail in CI, where the service must be there."""
    if REQUIRE_SERVICES:
        pytest.fail(f"required service missing: {reason}", pytrace=False)
    pytest.skip(reason)


def service_problems() -> list[str]:
    from django.conf import settings
    from django.db import connection

    from lims import health

    problems = []
    if connection.vendor != "postgresql":
        problems.append(f"DATABASE_URL is not PostgreSQL (got {connection.vendor})")
    if not settings.CELERY_BROKER_URL.startswith("redis"):
        problems.append("REDIS_URL is not set")
    elif not health.broker_state()["ok"]:
        problems.append(f"Redis is not reachable at {settings.CELERY_BROKER_URL}")
    return problems


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    """PBKDF2 costs ~0.3 s per test user; the login tests still check real password checks."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def _media_root(settings, tmp_path):
    """Raw files and results that tests store go to a temporary folder, never var/media."""
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


@pytest.fixture(autouse=True)
def _require_marked_services(request):
    if request.node.get_closest_marker("services"):
        problems = service_problems()
        if problems:
            missing_service("; ".join(problems))
    if request.node.get_closest_marker("browser") and not os.path.exists(CHROMIUM):
        missing_service(f"{CHROMIUM} is not installed (apt-get install chromium)")


@pytest.fixture
def chemist(db):
    from tests.lims.factories import UserFactory

    return UserFactory(username="chen", groups=["chemist"])


@pytest.fixture
def manager(db):
    from tests.lims.factories import UserFactory

    return UserFactory(username="maria", groups=["lab-manager"])
