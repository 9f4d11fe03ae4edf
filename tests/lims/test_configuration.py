"""Settings come from the environment; bad values are one line naming the variable."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from lims.envconfig import ConfigError, database_config, env_bool, redis_url

REPO = Path(__file__).resolve().parents[2]


def run_manage(*args: str, **env: str) -> subprocess.CompletedProcess:
    base = {
        k: v
        for k, v in os.environ.items()
        if k not in {"DATABASE_URL", "REDIS_URL", "DEBUG", "DJANGO_ALLOW_ASYNC_UNSAFE"}
    }
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=REPO,
        env={**base, **env},
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_postgres_url_becomes_a_psycopg_database():
    config = database_config("postgres://kiln:pw@db.lab:5433/kiln")
    assert config["ENGINE"] == "lims.db"  # Django's PostgreSQL backend (lims/db/base.py)
    assert (config["HOST"], config["PORT"], config["NAME"]) == ("db.lab", 5433, "kiln")


def test_postgres_prepares_repeated_statements_unless_a_pooler_forbids_it():
    options = database_config("postgres://kiln@db.lab/kiln")["OPTIONS"]
    assert options["server_side_binding"] is True and options["prepare_threshold"] == 2
    plain = database_config("postgres://kiln@db.lab/kiln", prepared_statements=False)["OPTIONS"]
    assert "server_side_binding" not in plain and "prepare_threshold" not in plain
    assert "OPTIONS" not in database_config("sqlite:///tmp/kiln.sqlite3")


def test_unsupported_database_scheme_names_the_variable_and_hides_the_password():
    with pytest.raises(ConfigError) as excinfo:
        database_config("mysql://kiln:secret@db/kiln")
    message = str(excinfo.value)
    assert message.startswith("DATABASE_URL: unsupported scheme 'mysql'")
    assert "secret" not in message


@pytest.mark.parametrize(
    "url, problem",
    [("http://127.0.0.1:6379/0", "unsupported scheme"), ("redis://127.0.0.1:63x9/0", "port"),
     ("redis://127.0.0.1:6379/zero", "database 'zero'")],
)  # fmt: skip
def test_malformed_redis_url_names_the_variable_and_the_problem(url, problem):
    with pytest.raises(ConfigError, match=f"^REDIS_URL: .*{problem}"):
        redis_url(url)


def test_boolean_variables_refuse_words_they_do_not_know():
    assert env_bool("DEBUG", False, {"DEBUG": "yes"}) is True
    with pytest.raises(ConfigError, match="^DEBUG: expected true/false"):
        env_bool("DEBUG", False, {"DEBUG": "maybe"})


@pytest.mark.parametrize(
    "env, expected",
    [
        ({"DEBUG": "1", "DATABASE_URL": "oracle://x/y"}, "DATABASE_URL: unsupported scheme"),
        ({"DEBUG": "1", "REDIS_URL": "redis://:notaport/0"}, "REDIS_URL:"),
        ({"DEBUG": "0"}, "SECRET_KEY: must be set when DEBUG is off"),
    ],
)
def test_manage_py_reports_a_bad_environment_in_one_line_without_traceback(env, expected):
    result = run_manage("check", **env)
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert expected in lines[0]
    assert "Traceback" not in result.stderr


def test_deploy_check_is_clean_with_production_settings(tmp_path):
    result = run_manage(
        "check",
        "--deploy",
        "--fail-level",
        "WARNING",
        DEBUG="0",
        SECRET_KEY="x7#Qm2!vL9pR4tZ8wK1nB6yH3jF5sD0cG-aE_uT" * 2,
        ALLOWED_HOSTS="kiln.lab.example",
        DATABASE_URL=f"sqlite:///{tmp_path / 'deploy.sqlite3'}",
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout
