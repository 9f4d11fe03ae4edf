"""Kiln's project package and core app: settings, URLs, the Celery app, the sample registry."""

from lims.celery import app as celery_app

__all__ = ["celery_app"]
