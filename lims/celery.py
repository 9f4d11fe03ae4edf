"""The Celery app. Configuration comes from Django settings (CELERY_* names)."""

from __future__ import annotations

import os
import resource
import sys

from celery import Celery
from celery.signals import worker_process_init

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "lims.settings")

try:  # a bad environment is one line naming the variable, also for `celery -A lims worker`
    from lims.dotenv import load_checkout_env

    load_checkout_env()  # the development .env of `make run`; the environment wins
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


def limit_memory(limit_mb: int) -> None:
    """Cap this process's data segment at `limit_mb` (0: no cap); an allocation beyond it
    raises MemoryError, which the parsers and the job layer report as a sentence.

    RLIMIT_DATA, not RLIMIT_AS: the address space also counts reservations that use no memory
    (glibc reserves 64 MB per thread arena, polars starts a thread per core), so an AS limit
    would depend on the machine's core count; the data limit counts what is written to.
    Rust code (fastnda's polars, calamine) cannot raise MemoryError: it aborts the process,
    the job's delivery is lost and the job is retried, then failed (KILN_JOB_MAX_ATTEMPTS).
    """
    if limit_mb <= 0:
        return
    _soft, hard = resource.getrlimit(resource.RLIMIT_DATA)
    wanted = limit_mb << 20
    if hard != resource.RLIM_INFINITY:
        wanted = min(wanted, hard)
    resource.setrlimit(resource.RLIMIT_DATA, (wanted, hard))


@worker_process_init.connect
def _limit_pool_process_memory(**_kwargs) -> None:
    """Every prefork pool process (the ones that run jobs), not the worker's main process."""
    limit_memory(settings.KILN_WORKER_MEMORY_MB)
