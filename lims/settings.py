"""Kiln settings: one module, read from the environment (see README, "Configuration")."""

from __future__ import annotations

import os
from pathlib import Path

from celery.schedules import crontab

from lims.envconfig import (
    ConfigError,
    database_config,
    env_bool,
    env_int,
    env_list,
    env_memory_mb,
    env_path,
    redis_url,
)

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = env_path("KILN_VAR_DIR", BASE_DIR / "var")

DEBUG = env_bool("DEBUG", False)
SECRET_KEY = os.environ.get("SECRET_KEY", "")
if not SECRET_KEY:
    if not DEBUG:
        raise ConfigError("SECRET_KEY: must be set when DEBUG is off (production)")
    SECRET_KEY = "django-insecure-kiln-development-only-key-do-not-use-in-production"

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["127.0.0.1", "localhost"] if DEBUG else [])
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django_htmx",
    "django_filters",
    "rest_framework",
    "rest_framework.authtoken",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "simple_history",
    "lims",
    "synthesis",
    "characterization",
    "characterization.jobs",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "lims.input_guard.InputGuardMiddleware",  # NUL bytes, invalid UTF-8: 400, never a 500
    "lims.middleware.KilnLoginRequiredMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "simple_history.middleware.HistoryRequestMiddleware",
]

ROOT_URLCONF = "lims.urls"
WSGI_APPLICATION = "lims.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "lims.context_processors.navigation",
            ],
        },
    },
]

DATABASES = {
    "default": database_config(
        os.environ.get("DATABASE_URL") or f"sqlite:///{VAR_DIR / 'kiln.sqlite3'}",
        prepared_statements=env_bool("KILN_DB_PREPARED_STATEMENTS", True),
    )
}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "dashboard"
LOGOUT_REDIRECT_URL = "login"

LANGUAGE_CODE = "en-gb"
TIME_ZONE = os.environ.get("TIME_ZONE", "Europe/Berlin")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = VAR_DIR / "static"
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}
WHITENOISE_USE_FINDERS = DEBUG
MEDIA_URL = "media/"
MEDIA_ROOT = env_path("MEDIA_ROOT", VAR_DIR / "media")
KILN_MAX_UPLOAD_MB = env_int("KILN_MAX_UPLOAD_MB", 512)
DATA_UPLOAD_MAX_MEMORY_SIZE = 10 * 1024 * 1024
# Large uploads are spooled to MEDIA_ROOT/tmp/uploads/ (characterization.storage), not to the
# system's temporary folder, where a killed web worker's spool files would stay unseen;
# storage_check sweeps them. (FILE_UPLOAD_TEMP_DIR stays unset: the handler follows MEDIA_ROOT.)
FILE_UPLOAD_HANDLERS = [
    "django.core.files.uploadhandler.MemoryFileUploadHandler",
    "characterization.storage.UploadTempFileHandler",
]
# storage_check removes files without a database row, and what interrupted uploads, parses
# and locks left behind, once they are this old (an upload in progress is never touched).
KILN_STORAGE_GRACE_S = env_int("KILN_STORAGE_GRACE_S", 24 * 3600, minimum=600)

# --- Damaged and hostile files (characterization/parsers/_zip.py) ---------------------------
# A zip-based upload (.ndax, .xlsx) is refused, before anything is unpacked, when its members
# declare more than this in total, or a member (above 1 MB) packs tighter than this ratio.
# Measured: the 1M-row benchmark .ndax unpacks to 23 MB (2.2-3.4:1), a 100k-row Arbin .xlsx
# to 75 MB (5.6:1; 10.8:1 with constant columns); a zip bomb packs ~1000:1.
KILN_UNPACK_MAX_MB = env_int("KILN_UNPACK_MAX_MB", 1024, minimum=1)
KILN_UNPACK_MAX_RATIO = env_int("KILN_UNPACK_MAX_RATIO", 200, minimum=1)
# Each Celery pool process limits its own data segment (RLIMIT_DATA) to this, so a file that
# slips past the checks fails its job with a MemoryError sentence instead of taking the
# machine (lims/celery.py). Measured: reading + analysing the 1M-row benchmark needs 1.15 GB.
KILN_WORKER_MEMORY_MB = env_memory_mb("KILN_WORKER_MEMORY_MB", 4096, floor=512)
# The zip-bomb test's bound on the peak memory (ru_maxrss) of a process that detects and reads
# a bomb: the refusal must cost no more than the imports (~150-250 MB measured).
KILN_PARSE_PEAK_MEMORY_MB = env_int("KILN_PARSE_PEAK_MEMORY_MB", 400, minimum=64)

# --- Celery: Redis when REDIS_URL is set, else kombu's filesystem transport under var/ ---------
REDIS_URL = os.environ.get("REDIS_URL", "")
BROKER_DIR = VAR_DIR / "broker"
if REDIS_URL:
    CELERY_BROKER_URL = redis_url(REDIS_URL)
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "visibility_timeout": env_int("KILN_VISIBILITY_TIMEOUT_S", 3600),
        "socket_connect_timeout": 3,
        "socket_timeout": 10,
    }
else:
    CELERY_BROKER_URL = "filesystem://"
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(BROKER_DIR / "queue"),
        "data_folder_out": str(BROKER_DIR / "queue"),
        "processed_folder": str(BROKER_DIR / "processed"),
        "control_folder": str(BROKER_DIR / "control"),
        "store_processed": False,
    }
CELERY_TASK_DEFAULT_QUEUE = os.environ.get("KILN_CELERY_QUEUE", "kiln")
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_SOFT_TIME_LIMIT = env_int("KILN_TASK_SOFT_TIME_LIMIT_S", 15 * 60)
CELERY_TASK_TIME_LIMIT = env_int("KILN_TASK_TIME_LIMIT_S", 20 * 60)
CELERY_TASK_IGNORE_RESULT = True  # results live in Kiln's own tables, not a result backend
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_BROKER_CONNECTION_TIMEOUT = 3
CELERY_TIMEZONE = TIME_ZONE
# A job whose worker stopped sending progress for this long is taken back (the worker died).
KILN_JOB_STALE_S = env_int("KILN_JOB_STALE_S", CELERY_TASK_TIME_LIMIT + 300)
KILN_JOB_MAX_ATTEMPTS = env_int("KILN_JOB_MAX_ATTEMPTS", 3)
# A job (or a file's inspection) queued this long whose message is no longer in the broker
# (Redis restarted without persistence, the queue was purged) is sent again.
KILN_JOB_LOST_AFTER_S = env_int("KILN_JOB_LOST_AFTER_S", 90, minimum=5)
# Exports and imports larger than this are built on the worker (lims.transfers); their files
# are removed this many days later.
KILN_EXPORT_SYNC_ROWS = env_int("KILN_EXPORT_SYNC_ROWS", 2000, minimum=0)
KILN_IMPORT_SYNC_ROWS = env_int("KILN_IMPORT_SYNC_ROWS", 1000, minimum=0)
KILN_TRANSFER_KEEP_DAYS = env_int("KILN_TRANSFER_KEEP_DAYS", 7, minimum=1)
# Who publishes a lab's .eln archives, under which licence (RO-Crate sdPublisher and license)
KILN_ELN_PUBLISHER = os.environ.get("KILN_ELN_PUBLISHER", "Kiln")
KILN_ELN_PUBLISHER_URL = os.environ.get("KILN_ELN_PUBLISHER_URL", "")
KILN_ELN_LICENSE = os.environ.get("KILN_ELN_LICENSE", "")  # empty: CC BY 4.0
# Plausibility: specific capacities above this are flagged when the active material's formula
# is unknown (with a formula, its theoretical capacity n·F/(3.6·M) is the limit). No cathode
# reaches 500 mAh/g (Li2MnO3: 459); no anode 4200 (Si as Li22Si5).
KILN_CAPACITY_CEILING_MAH_G = {
    "cathode": env_int("KILN_CAPACITY_CEILING_CATHODE_MAH_G", 500, minimum=1),
    "anode": env_int("KILN_CAPACITY_CEILING_ANODE_MAH_G", 4200, minimum=1),
}
# Every minute: re-send jobs the broker never received or lost, take back jobs of dead
# workers. Weekly: check the file store against the database (its result is on the dashboard).
CELERY_BEAT_SCHEDULE = {
    "kiln-jobs-recover": {"task": "characterization.jobs_recover", "schedule": 60.0},
    "kiln-storage-check": {
        "task": "characterization.storage_check",
        "schedule": crontab(day_of_week="sun", hour=3, minute=30),
    },
    "kiln-transfers-sweep": {"task": "lims.transfers_sweep", "schedule": crontab(minute=10)},
}
CELERY_BEAT_SCHEDULE_FILENAME = str(VAR_DIR / "celerybeat-schedule")

# --- API ------------------------------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_RENDERER_CLASSES": [
        "lims.api_renderers.KilnJSONRenderer",  # orjson
        "rest_framework.renderers.BrowsableAPIRenderer",
    ],
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.SessionAuthentication",
        "lims.api_token_auth.ApiTokenAuthentication",  # profile-page tokens: scope, expiry
        "rest_framework.authentication.TokenAuthentication",  # older shell-made keys
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_SCHEMA_CLASS": "lims.api_errors.KilnAutoSchema",  # documents 400/403/404
    "EXCEPTION_HANDLER": "lims.api_errors.exception_handler",
    "DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.LimitOffsetPagination",
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "PAGE_SIZE": 100,
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Kiln API",
    "DESCRIPTION": "Synthesis planning, sample lineage and analyses for battery-materials labs.",
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",  # served from our static files: labs run offline
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    # one name per choice set that several serializers and filters share
    "ENUM_NAME_OVERRIDES": {
        "SampleKindEnum": "lims.models.SampleKind",
        "SampleStatusEnum": "lims.models.SampleStatus",
        "BatchStatusEnum": "synthesis.models.batches.BatchStatus",
        "RecipeKindEnum": "synthesis.models.recipes.RecipeKind",
        "JobStatusEnum": "characterization.jobs.models.JobStatus",
        "CastingMethodEnum": "characterization.models.cells.CastingMethod",
        "ElectrodeRoleEnum": "characterization.models.cells.ElectrodeRole",
        "CellFormatEnum": "characterization.models.cells.CellFormat",
        "MeasurementTypeEnum": "characterization.models.measurements.MeasurementType",
        "ReadStateEnum": "characterization.models.measurements.ReadState",
    },
}

# --- Production hardening (python manage.py check --deploy is clean with DEBUG off) ---------
if not DEBUG:
    SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", True)
    SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 31536000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    SESSION_COOKIE_SECURE = env_bool("SESSION_COOKIE_SECURE", True)
    CSRF_COOKIE_SECURE = env_bool("CSRF_COOKIE_SECURE", True)

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
}
