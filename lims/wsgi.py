"""WSGI entry point (gunicorn lims.wsgi)."""

import os

from django.core.wsgi import get_wsgi_application

from lims.dotenv import load_checkout_env

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "lims.settings")
load_checkout_env()  # the development .env of `make run`; the environment wins
application = get_wsgi_application()
