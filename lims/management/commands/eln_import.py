"""manage.py eln_import PATH [--dry-run] [--user USERNAME]: bring back an .eln Kiln exported.

Samples keep their codes; an archive whose codes exist here, or one Kiln did not write, is
refused with one line and exit status 1, nothing written (lims.eln_import).
"""

from __future__ import annotations

from pathlib import Path

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from lims.eln_import import ElnImportError, eln_import


class Command(BaseCommand):
    help = "Import an .eln archive exported by Kiln: samples, lineage, raw files, results."

    def add_arguments(self, parser) -> None:
        parser.add_argument("path", type=Path)
        parser.add_argument("--dry-run", action="store_true", help="check and roll back")
        parser.add_argument("--user", default="", help="who imports (recorded on raw files)")

    def handle(self, *args, path: Path, dry_run: bool, user: str, **options) -> None:
        importer = None
        if user:
            importer = get_user_model().objects.filter(username=user).first()
            if importer is None:
                raise CommandError(f"--user: no user named {user!r}")
        try:
            report = eln_import(path=path, user=importer, dry_run=dry_run)
        except ElnImportError as exc:
            raise CommandError(str(exc)) from None
        for line in report.lines():
            self.stdout.write(line)
