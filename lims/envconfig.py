"""Typed readers for Kiln's environment variables.

Each reader fails with `ConfigError("<VARIABLE>: <problem>")` so that a bad deployment is one
clear line, not a traceback. No Django settings are read here: settings.py calls these.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from urllib.parse import urlsplit

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

TRUE_WORDS = {"1", "true", "yes", "on"}
FALSE_WORDS = {"0", "false", "no", "off", ""}
DATABASE_SCHEMES = {"postgres", "postgresql", "pgsql", "sqlite"}
REDIS_SCHEMES = {"redis", "rediss"}


class ConfigError(ImproperlyConfigured):
    """A variable of the environment is missing or malformed; the message names it."""


def env_bool(name: str, default: bool, environ: Mapping[str, str] = os.environ) -> bool:
    raw = environ.get(name)
    if raw is None:
        return default
    word = raw.strip().lower()
    if word in TRUE_WORDS:
        return True
    if word in FALSE_WORDS:
        return False
    raise ConfigError(f"{name}: expected true/false (1/0), got {raw!r}")


def env_list(name: str, default: list[str], environ: Mapping[str, str] = os.environ) -> list[str]:
    raw = environ.get(name)
    if raw is None:
        return default
    return [item.strip() for item in raw.split(",") if item.strip()]


def env_int(
    name: str,
    default: int,
    environ: Mapping[str, str] = os.environ,
    *,
    minimum: int | None = None,
) -> int:
    raw = environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ConfigError(f"{name}: expected a whole number, got {raw!r}") from None
    if minimum is not None and value < minimum:
        raise ConfigError(f"{name}: expected a whole number of at least {minimum}, got {raw!r}")
    return value


def env_memory_mb(
    name: str, default: int, environ: Mapping[str, str] = os.environ, *, floor: int
) -> int:
    """A memory limit in MB: 0 means none; otherwise at least `floor`, below which a Kiln
    process cannot even start (Django, pandas and numpy take ~150 MB)."""
    value = env_int(name, default, environ, minimum=0)
    if 0 < value < floor:
        raise ConfigError(f"{name}: expected 0 (no limit) or at least {floor} MB, got {value}")
    return value


def env_path(name: str, default: Path, environ: Mapping[str, str] = os.environ) -> Path:
    raw = environ.get(name)
    return Path(raw).expanduser().resolve() if raw else default


PREPARE_THRESHOLD = 2  # a statement run twice on a connection is prepared (psycopg: 5)


def database_config(url: str, *, prepared_statements: bool = True) -> dict:
    """Django DATABASES['default'] from a DATABASE_URL (postgres://... or sqlite:///path).

    PostgreSQL binds parameters server-side and prepares repeated statements, so a page's
    queries are parsed and analysed once per connection (lims.db plans each run for its
    parameters: a generic plan can be a thousand times slower for a selective search).
    `prepared_statements=False` (KILN_DB_PREPARED_STATEMENTS=0) keeps Django's client-side
    binding, for a connection pooler in transaction mode (pgbouncer): the session setting
    that keeps plans custom would not follow the statements from one server to another."""
    scheme = urlsplit(url).scheme
    if scheme not in DATABASE_SCHEMES:
        raise ConfigError(
            f"DATABASE_URL: unsupported scheme {scheme!r} in {_redact(url)!r}; "
            "use postgres://user@host:5432/name or sqlite:///path/to/file.sqlite3"
        )
    try:
        config = dj_database_url.parse(url, conn_max_age=60, conn_health_checks=True)
    except ValueError as exc:
        raise ConfigError(f"DATABASE_URL: cannot parse {_redact(url)!r}: {exc}") from None
    if not config.get("NAME"):
        raise ConfigError(f"DATABASE_URL: no database name in {_redact(url)!r}")
    if scheme != "sqlite":
        config.setdefault("OPTIONS", {})["connect_timeout"] = 5
        if prepared_statements:
            config["OPTIONS"].update(server_side_binding=True, prepare_threshold=PREPARE_THRESHOLD)
        config["ENGINE"] = "lims.db"  # PostgreSQL, health-checked after idling (lims/db/base.py)
    return config


def redis_url(url: str) -> str:
    """Validate a REDIS_URL (redis://host:port/db)."""
    parts = urlsplit(url)
    if parts.scheme not in REDIS_SCHEMES:
        raise ConfigError(
            f"REDIS_URL: unsupported scheme {parts.scheme!r} in {_redact(url)!r}; "
            "use redis://host:6379/0"
        )
    try:
        parts.port  # noqa: B018 - raises ValueError on a non-numeric port
    except ValueError:
        raise ConfigError(f"REDIS_URL: the port in {_redact(url)!r} is not a number") from None
    if not parts.hostname:
        raise ConfigError(f"REDIS_URL: no host in {_redact(url)!r}")
    db = parts.path.lstrip("/")
    if db and not db.isdigit():
        raise ConfigError(f"REDIS_URL: database {db!r} is not a number in {_redact(url)!r}")
    return url


def _redact(url: str) -> str:
    """The URL without its password, so that error lines can be logged safely."""
    parts = urlsplit(url)
    if parts.password:
        return url.replace(f":{parts.password}@", ":***@")
    return url
