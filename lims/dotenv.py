"""The development `.env` that `make run` writes (DEBUG=1, a generated SECRET_KEY), read by the
entry points (manage.py, the Celery app, wsgi) so that the README's commands work from a
checkout outside `make`.

Variables already in the environment always win: a server's real configuration is never
overridden. KILN_ENV_FILE names another file (empty: none). A pytest run never reads it, nor do
the processes it starts: tests see only the environment they set. Lines are `NAME=value`
(optionally `export NAME=value`, the value optionally in quotes); blank lines and `#` comments
are skipped; nothing is expanded.
"""

from __future__ import annotations

import os
import re
from collections.abc import MutableMapping
from pathlib import Path

from lims.envconfig import ConfigError

CHECKOUT_ENV = Path(__file__).resolve().parent.parent / ".env"
LINE = re.compile(r"^(?:export\s+)?(?P<name>[A-Za-z_][A-Za-z0-9_]*)\s*=\s*(?P<value>.*)$")


def parse(text: str, source: str = ".env") -> dict[str, str]:
    """NAME -> value of each assignment; a line that is not one is a ConfigError naming it."""
    values: dict[str, str] = {}
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        match = LINE.match(line)
        if match is None:
            raise ConfigError(f"{source}, line {number}: expected NAME=value, got {line!r}")
        value = match["value"].strip()
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "\"'":
            value = value[1:-1]
        values[match["name"]] = value
    return values


def load(path: Path, environ: MutableMapping[str, str] = os.environ) -> list[str]:
    """Set the file's variables that the environment does not have; the names set. A missing
    file sets nothing."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return []
    loaded = []
    for name, value in parse(text, source=str(path)).items():
        if name not in environ:
            environ[name] = value
            loaded.append(name)
    return loaded


def load_checkout_env(environ: MutableMapping[str, str] = os.environ) -> list[str]:
    """The checkout's .env (or KILN_ENV_FILE's), unless this is a test run."""
    if "PYTEST_VERSION" in environ:
        return []
    name = environ.get("KILN_ENV_FILE")
    if name == "":
        return []
    return load(Path(name).expanduser() if name else CHECKOUT_ENV, environ)
