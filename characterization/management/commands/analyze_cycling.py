"""python manage.py analyze_cycling PATH --active-mass-mg M --json [--electrode cathode|anode]
[--first-cycle N] [--last-cycle N] [--formula FORMULA] [--voltage-window LOW HIGH]"""

from __future__ import annotations

import json
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from characterization.analysis.errors import AnalysisError
from characterization.analysis.report import cycling_report
from characterization.parsers import FORMATS, ParseError, read_cycler_file
from characterization.parsers.schema import ELECTRODES


class Command(BaseCommand):
    help = (
        "Parse a cycler file and print its per-cycle summary, voltage fade and plausibility "
        "warnings as JSON. An unreadable file exits 2 with one line."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("path")
        parser.add_argument("--active-mass-mg", type=float, required=True)
        parser.add_argument("--format", default="auto", choices=["auto", *FORMATS])
        parser.add_argument(
            "--electrode",
            default="cathode",
            choices=ELECTRODES,
            help="working electrode of the half-cell: a cathode charges first, an anode "
            "lithiates (discharges) first (default cathode)",
        )
        parser.add_argument("--first-cycle", type=int, default=None, help="fade window start")
        parser.add_argument("--last-cycle", type=int, default=None, help="fade window end")
        parser.add_argument(
            "--formula", default=None, help="active material, for its theoretical capacity"
        )
        parser.add_argument(
            "--voltage-window",
            type=float,
            nargs=2,
            metavar=("LOW_V", "HIGH_V"),
            default=None,
            help="the test's declared voltage window",
        )
        parser.add_argument("--json", action="store_true", help="print JSON (the default)")

    def handle(self, *args, path: str, format: str, **options) -> None:
        name = Path(path).name
        try:
            parsed = read_cycler_file(path, fmt=format)
            report = cycling_report(
                parsed.table,
                active_mass_mg=options["active_mass_mg"],
                electrode=options["electrode"],
                first_cycle=options["first_cycle"],
                last_cycle=options["last_cycle"],
                formula=options["formula"],
                voltage_window_v=options["voltage_window"],
            )
        except ParseError as exc:  # its message starts with the file name
            raise CommandError(_one_line(str(exc)), returncode=2) from None
        except AnalysisError as exc:
            raise CommandError(_one_line(f"{name}: {exc}"), returncode=2) from None
        self.stdout.write(json.dumps({"format": parsed.format, **report}, indent=2))


def _one_line(text: str) -> str:
    """The contract promises one line: a library's multi-line detail is joined."""
    return " ".join(text.split())
