"""python manage.py storage_check [--repair] [--json]: the file store against the database."""

from __future__ import annotations

import json
import sys

from django.conf import settings
from django.core.management.base import BaseCommand
from django.utils import timezone

from characterization.storage_check import KINDS, StorageReport, storage_check_run

HEADINGS = {
    "missing": "Missing (rows whose file is gone)",
    "corrupt": "Corrupt (no longer the stored content)",
    "orphan": "Orphans (files no row names)",
    "leftover": "Leftovers of interrupted uploads, parses and locks",
}


class Command(BaseCommand):
    help = (
        "Re-hash every stored raw file and result table and compare the file store with the "
        "database: missing files, corrupt files, orphans (files without a row) and leftovers. "
        "--repair removes orphans and leftovers older than KILN_STORAGE_GRACE_S; missing or "
        "corrupt files are reported for restoring from the backup. Exits 1 while something "
        "needs the lab manager."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument(
            "--repair", action="store_true", help="remove stale orphans and leftovers"
        )
        parser.add_argument(
            "--json", action="store_true", dest="as_json", help="print the report as JSON"
        )

    def handle(self, *args, repair: bool, as_json: bool, **options) -> None:
        report = storage_check_run(repair=repair)
        if as_json:
            self.stdout.write(_json(report))
        else:
            self.stdout.write(_text(report))
        if report.open_problems:
            sys.exit(1)


def _json(report: StorageReport) -> str:
    return json.dumps(report.as_dict(), indent=2)


def _text(report: StorageReport) -> str:
    when = timezone.localtime(report.checked_at).strftime("%Y-%m-%d %H:%M")
    mode = "repair" if report.repair else "report only"
    lines = [
        f"Storage check of {settings.MEDIA_ROOT} at {when} ({mode}):",
        f"{report.files_checked:,} files ({report.bytes_checked / 1e9:.2f} GB) re-hashed "
        f"in {report.seconds:.1f} s.",
    ]
    for kind in KINDS:
        findings = report.of(kind)
        if not findings:
            continue
        lines.append(f"{HEADINGS[kind]}: {len(findings)}")
        for finding in findings:
            done = f" [{finding.action}]" if finding.action else ""
            lines.append(f"  {finding.message}{done}")
    problems = len(report.open_problems)
    lines.append(
        f"{problems} problem(s) need the lab manager." if problems else "Everything matches."
    )
    return "\n".join(lines)
