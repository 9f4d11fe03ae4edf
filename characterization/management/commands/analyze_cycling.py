"""python manage.py analyze_cycling PATH --active-mass-mg M [--format auto] --json"""

from __future__ import annotations

import json
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from characterization.analysis.errors import AnalysisError
from characterization.analysis.report import cycling_report
from characterization.parsers import FORMATS, ParseError, read_cycler_file


class Command(BaseCommand):
    help = "Parse a cycler file and print its per-cycle summary and voltage fade."

    def add_arguments(self, parser) -> None:
        parser.add_argument("path")
        parser.add_argument("--active-mass-mg", type=float, required=True)
        parser.add_argument("--format", default="auto", choices=["auto", *FORMATS])
        parser.add_argument("--json", action="store_true", help="print JSON (the default)")

    def handle(self, *args, path: str, active_mass_mg: float, format: str, **options) -> None:
        try:
            parsed = read_cycler_file(path, fmt=format)
            report = cycling_report(parsed.table, active_mass_mg=active_mass_mg)
        except ParseError as exc:  # its message starts with the file name
            raise CommandError(str(exc)) from None
        except AnalysisError as exc:
            raise CommandError(f"{Path(path).name}: {exc}") from None
        self.stdout.write(json.dumps({"format": parsed.format, **report}, indent=2))
