"""The development .env (lims.dotenv): what it reads, and that the environment always wins."""

from __future__ import annotations

import pytest

from lims import dotenv
from lims.envconfig import ConfigError


def test_assignments_comments_quotes_and_export_are_read():
    text = "# written by make run\n\nDEBUG=1\nexport SECRET_KEY=\"a b=c\"\nNAME = 'x'\n"
    assert dotenv.parse(text) == {"DEBUG": "1", "SECRET_KEY": "a b=c", "NAME": "x"}


def test_a_line_that_is_not_an_assignment_names_the_file_and_the_line():
    with pytest.raises(ConfigError, match=r"^/x/.env, line 2: expected NAME=value, got 'DEBUG'"):
        dotenv.parse("DEBUG=1\nDEBUG\n", source="/x/.env")


def test_variables_of_the_environment_are_never_overridden(tmp_path):
    env_file = tmp_path / ".env"
    env_file.write_text("DEBUG=1\nSECRET_KEY=from-the-file\n")
    environ = {"DEBUG": "0"}
    assert dotenv.load(env_file, environ) == ["SECRET_KEY"]
    assert environ == {"DEBUG": "0", "SECRET_KEY": "from-the-file"}


def test_a_missing_file_sets_nothing(tmp_path):
    environ: dict[str, str] = {}
    assert dotenv.load(tmp_path / ".env", environ) == []
    assert environ == {}


def test_kiln_env_file_names_the_file_and_empty_means_none(tmp_path):
    env_file = tmp_path / "dev.env"
    env_file.write_text("SECRET_KEY=k\n")
    named = {"KILN_ENV_FILE": str(env_file)}
    assert dotenv.load_checkout_env(named) == ["SECRET_KEY"]
    assert dotenv.load_checkout_env({"KILN_ENV_FILE": ""}) == []


def test_a_test_run_never_reads_a_developers_env_file(tmp_path):
    env_file = tmp_path / "dev.env"
    env_file.write_text("SECRET_KEY=k\n")
    environ = {"KILN_ENV_FILE": str(env_file), "PYTEST_VERSION": "9.2.0"}
    assert dotenv.load_checkout_env(environ) == []
    assert "SECRET_KEY" not in environ
