"""Every command the README shows runs as shown from a checkout after `make run`.

`make run`'s setup (scripts/run-dev.sh --setup-only: the development .env, migrations, demo
data) runs in a subprocess against a temporary .env and var/ folder, with an environment as
bare as a new user's shell; then each `manage.py` line of each ```sh block of the README runs
the same way and must succeed. Blocks that start servers, run the whole suite or need docker
are named and skipped; lines that need the running server (curl) are skipped.
"""

from __future__ import annotations

import json
import os
import re
import sqlite3
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest
from django.conf import settings

ROOT = Path(settings.BASE_DIR)
BLOCK = re.compile(r"^(?P<indent>[ \t]*)```sh\n(?P<body>.*?)^(?P=indent)```", re.M | re.S)
# A block with one of these starts a server or the test suite, or needs docker: not run here.
NOT_RUN = ("make run", "make test", "gunicorn", "celery -A", "runserver", "docker")
KEPT = ("PATH", "HOME", "LANG", "LC_ALL", "TMPDIR")  # all a new user's shell is taken to have


@dataclass(frozen=True)
class Block:
    line: int  # in README.md
    commands: tuple[str, ...]

    @property
    def runnable(self) -> bool:
        return not any(word in command for command in self.commands for word in NOT_RUN)


def readme_blocks() -> list[Block]:
    text = (ROOT / "README.md").read_text()
    blocks = []
    for match in BLOCK.finditer(text):
        lines = [line.strip() for line in match["body"].splitlines()]
        commands, current = [], ""
        for line in lines:  # join continuation lines
            current += line[:-1] + " " if line.endswith("\\") else line
            if not line.endswith("\\") and current:
                commands.append(current)
                current = ""
        blocks.append(Block(text[: match.start()].count("\n") + 1, tuple(commands)))
    return blocks


def bare_env(tmp: Path, **extra: str) -> dict[str, str]:
    """A new user's shell: none of the test run's settings, the .env and var/ in `tmp`."""
    env = {name: os.environ[name] for name in KEPT if name in os.environ}
    return {**env, "KILN_ENV_FILE": str(tmp / ".env"), "KILN_VAR_DIR": str(tmp / "var"), **extra}


def sh(command: str, env: dict[str, str], timeout: int = 600) -> subprocess.CompletedProcess:
    return subprocess.run(
        ["bash", "-euo", "pipefail", "-c", command],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


@pytest.fixture(scope="module")
def after_make_run(tmp_path_factory) -> Path:
    """A temporary .env and var/ as `make run` leaves them (its servers not started)."""
    tmp = tmp_path_factory.mktemp("fresh-checkout")
    result = sh("bash scripts/run-dev.sh --setup-only", bare_env(tmp))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "demo login (chemist): chemist / kiln-chemist" in result.stdout
    return tmp


def test_the_readme_has_runnable_blocks_and_names_the_others():
    blocks = readme_blocks()
    skipped = {b.commands[0] for b in blocks if not b.runnable}
    assert skipped == {
        "make run",
        "make test",
        "DATABASE_URL=postgres://postgres@127.0.0.1:5432/test REDIS_URL=redis://127.0.0.1:6379/1 "
        "make test",
        "export DATABASE_URL=postgres://kiln:secret@db.lab:5432/kiln",  # a lab server's
    }
    runnable = [c for b in blocks if b.runnable for c in b.commands if "manage.py" in c]
    assert any("drf_create_token chemist" in c for c in runnable)
    assert any("analyze_cycling" in c for c in runnable)


def test_make_run_writes_a_development_env_once_and_keeps_it(after_make_run):
    env_file = after_make_run / ".env"
    values = dict(
        line.split("=", 1)
        for line in env_file.read_text().splitlines()
        if line and not line.startswith("#")
    )
    assert values["DEBUG"] == "1"
    assert len(values["SECRET_KEY"]) >= 50
    assert env_file.stat().st_mode & 0o077 == 0  # the key is the user's alone
    again = sh("bash scripts/run-dev.sh --setup-only", bare_env(after_make_run))
    assert again.returncode == 0, again.stderr
    assert "Wrote" not in again.stdout
    assert (
        dict(
            line.split("=", 1)
            for line in env_file.read_text().splitlines()
            if line and not line.startswith("#")
        )
        == values
    )


def test_every_manage_py_line_of_the_readme_runs_as_written(after_make_run):
    env = bare_env(after_make_run)
    ran = []
    for block in readme_blocks():
        if not block.runnable:
            continue
        for command in block.commands:
            if "manage.py" not in command:
                continue  # curl: needs the server `make run` starts
            result = sh(command, env)
            assert result.returncode == 0, f"README line {block.line}: {command}\n{result.stderr}"
            ran.append((command, result.stdout))
    outputs = dict(ran)
    token_line = next(c for c in outputs if "drf_create_token chemist" in c)
    assert "Generated token" in outputs[token_line]
    with sqlite3.connect(after_make_run / "var" / "kiln.sqlite3") as db:
        tokens = db.execute(
            "SELECT count(*) FROM authtoken_token t JOIN auth_user u ON u.id = t.user_id "
            "WHERE u.username = 'chemist'"
        ).fetchone()[0]
    assert tokens == 1
    cycling_line = next(c for c in outputs if "analyze_cycling" in c)
    report = json.loads(outputs[cycling_line])
    assert [c["cycle"] for c in report["cycles"]] == [1, 2, 3, 4]
    assert report["fade"]["fade_mv_per_cycle"] == pytest.approx(20.0)


def test_without_the_env_file_the_same_command_stops_at_the_secret_key(after_make_run):
    """What a new user hit before `make run` wrote the .env."""
    env = bare_env(after_make_run, KILN_ENV_FILE="")
    result = sh(".venv/bin/python manage.py drf_create_token chemist", env)
    assert result.returncode == 2
    assert "SECRET_KEY: must be set when DEBUG is off" in result.stderr


def test_the_environment_wins_over_the_env_file(after_make_run):
    env = bare_env(after_make_run, DEBUG="0")
    show = "from django.conf import settings as s; print(s.DEBUG, s.SECRET_KEY)"
    result = sh(f".venv/bin/python manage.py shell -c '{show}'", env)
    assert result.returncode == 0, result.stderr
    debug, secret = result.stdout.splitlines()[-1].split()
    assert debug == "False"  # the shell's DEBUG=0, not the .env's DEBUG=1
    assert f"SECRET_KEY={secret}" in (after_make_run / ".env").read_text()  # the rest from .env
