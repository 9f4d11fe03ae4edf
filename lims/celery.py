"""The Celery app. Configuration comes from Django settings (CELERY_* names)."""

from __future__ import annotations

import os
import sys

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "lims.settings")

try:  # a bad environment is one line naming the variable, also for `celery -A lims worker`
    import lims.settings  # noqa: F401
except Exception as exc:  # ConfigError; imported lazily to keep this module light
    if type(exc).__name__ != "ConfigError":
        raise
    sys.stderr.write(f"Kiln configuration error: {exc}\n")
    sys.exit(2)

from django.conf import settings  # noqa: E402

if settings.CELERY_BROKER_URL.startswith("filesystem://"):  # the quickstart's serverless broker
    for folder in ("data_folder_in", "processed_folder", "control_folder"):
        os.makedirs(settings.CELERY_BROKER_TRANSPORT_OPTIONS[folder], exist_ok=True)

app = Celery("kiln")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
