"""python manage.py analyze PATH --kind KIND [--param NAME=VALUE ...] [--active-mass-mg M]
[--electrode cathode|anode] [--format FMT] --json

Runs any registered analysis kind on one file, as a worker would, and prints
{"kind", "version", "format", "summary", "warnings"}. An unreadable file, an unknown kind or a
bad parameter exits 2 with one line."""

from __future__ import annotations

import json
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from characterization.analysis import registry
from characterization.analysis.errors import AnalysisError
from characterization.parsers import ParseError
from characterization.parsers.schema import ELECTRODES
from characterization.parsers.tables import read_table


class Command(BaseCommand):
    help = (
        "Run a registered analysis kind on a file and print its summary and warnings as JSON. "
        "An unreadable file or a bad parameter exits 2 with one line."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("path")
        parser.add_argument("--kind", required=True, help="an analysis kind (see --list)")
        parser.add_argument(
            "--param",
            action="append",
            default=[],
            metavar="NAME=VALUE",
            help="a parameter of the kind (repeatable; a list as 1,2,3)",
        )
        parser.add_argument("--active-mass-mg", type=float, default=None)
        parser.add_argument("--electrode", default="cathode", choices=ELECTRODES)
        parser.add_argument("--format", default="auto", help="the file's format (default: detect)")
        parser.add_argument("--json", action="store_true", help="print JSON (the default)")

    def handle(self, *args, path: str, kind: str, **options) -> None:
        name = Path(path).name
        try:
            analysis = registry.get_kind(kind)
            params = analysis.clean_parameters(_params(options["param"]))
            parsed = read_table(path, analysis.table_kind, fmt=options["format"])
            context = registry.AnalysisContext(
                active_mass_mg=_mass(options["active_mass_mg"], analysis),
                electrode=options["electrode"],
                file_metadata=parsed.metadata,
            )
            output = analysis.run(parsed.table, params, context)
        except ParseError as exc:  # its message starts with the file name
            raise CommandError(_one_line(str(exc)), returncode=2) from None
        except AnalysisError as exc:
            raise CommandError(_one_line(f"{name}: {exc.field}: {exc}"), returncode=2) from None
        report = {
            "kind": analysis.key,
            "version": analysis.version,
            "format": parsed.format,
            "summary": output.summary,
            "warnings": output.warnings,
        }
        self.stdout.write(json.dumps(report, indent=2, default=_jsonable, allow_nan=False))


def _params(pairs: list[str]) -> dict[str, str]:
    params = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key.strip():
            raise AnalysisError("param", f"--param {pair!r}: expected NAME=VALUE")
        params[key.strip()] = value.strip()
    return params


def _mass(mass: float | None, analysis) -> float | None:
    if mass is not None and not 0 < mass <= 1000:
        raise AnalysisError("active_mass_mg", "--active-mass-mg must be > 0 and ≤ 1000 mg")
    if mass is None and analysis.needs_active_mass:
        raise AnalysisError("active_mass_mg", f"{analysis.title} needs --active-mass-mg")
    return mass


def _jsonable(value):
    """numpy scalars and the like; NaN never reaches JSON (the analyses give None)."""
    if hasattr(value, "item"):
        return value.item()
    raise TypeError(f"{type(value).__name__} is not JSON")


def _one_line(text: str) -> str:
    return " ".join(text.split())
