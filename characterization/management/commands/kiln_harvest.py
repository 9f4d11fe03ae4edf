"""python manage.py kiln_harvest --server URL --token-file PATH --source NAME --watch DIR ...

The cycler PCs' harvester (harvester/kiln_harvest.py, one file, no Django) run from Kiln's own
checkout: the same options, the same code, loaded from its file."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

SCRIPT = Path(settings.BASE_DIR) / "harvester" / "kiln_harvest.py"


def harvester_script() -> ModuleType:
    """harvester/kiln_harvest.py as a module (registered first: its dataclasses need it)."""
    if "kiln_harvest" in sys.modules:
        return sys.modules["kiln_harvest"]
    spec = importlib.util.spec_from_file_location("kiln_harvest", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    sys.modules["kiln_harvest"] = module
    spec.loader.exec_module(module)
    return module


class Command(BaseCommand):
    help = "Watch cycler folders and send new and grown files to Kiln (see harvester/)."

    def run_from_argv(self, argv: list[str]) -> None:
        """The script parses its own options (`manage.py kiln_harvest --help` lists them)."""
        sys.exit(harvester_script().main(argv[2:]))

    def handle(self, *args, **options) -> None:
        raise CommandError("run it from the command line: manage.py kiln_harvest --help")
