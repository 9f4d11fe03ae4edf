"""Bulk import of samples from CSV/Excel: a dry run reports every bad row by line number, and
the real run saves all rows or none. The columns are those of the sample export, so a file
Kiln exported imports back unchanged."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db import transaction

from lims.models import EdgeRole, Project, Sample, SampleKind, SampleStatus
from lims.services import ParentLink, lineage_link, sample_register

COLUMNS = ("code", "kind", "name", "formula", "status", "location", "owner", "project",
           "notes", "parents")  # fmt: skip
EDITABLE = ("name", "formula", "status", "location", "owner", "project", "notes")
MODES = ("update", "skip", "fail")


@dataclass(frozen=True)
class KindImporter:
    """Extra columns of one sample kind, registered by the app that owns its records (e.g. the
    disc masses of a coin cell): `create(row, values, user)` builds the record and its sample
    when the row fills any of the columns; `export(sample_ids)` gives their values as text."""

    columns: tuple[str, ...]
    create: Callable[[dict, dict, object], Sample]
    export: Callable[[list[int]], dict[int, dict[str, str]]]


_importers: dict[str, KindImporter] = {}


def register_kind_importer(kind: str, importer: KindImporter) -> None:
    _importers[kind] = importer


def columns() -> tuple[str, ...]:
    """The import/export columns: the registry's, then each kind importer's."""
    extra = [c for importer in _importers.values() for c in importer.columns]
    return COLUMNS + tuple(dict.fromkeys(extra))


@dataclass
class ImportReport:
    dry_run: bool
    created: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    errors: list[tuple[int, str]] = field(default_factory=list)  # (line, message)

    @property
    def ok(self) -> bool:
        return not self.errors


class _Rollback(Exception):
    """Raised inside the transaction to undo a dry run or a run with errors."""


def samples_import(*, rows: list[tuple[int, dict]], mode: str, dry_run: bool, user) -> ImportReport:
    """Import (line, row) pairs; nothing is saved on a dry run or when any row is bad."""
    if mode not in MODES:
        raise ValidationError({"mode": f"choose one of {', '.join(MODES)}"})
    report = ImportReport(dry_run=dry_run)
    if rows and (missing := {"kind", "name"} - set(rows[0][1])):
        report.errors.append((1, f"missing column(s): {', '.join(sorted(missing))}"))
        return report
    try:
        with transaction.atomic():
            for line, row in rows:
                try:
                    with transaction.atomic():
                        _import_row(row, mode, user, report)
                except ValidationError as exc:
                    report.errors.append((line, "; ".join(_messages(exc))))
            if dry_run or report.errors:
                raise _Rollback
    except _Rollback:
        pass
    return report


def _import_row(row: dict, mode: str, user, report: ImportReport) -> None:
    values = _clean(row)
    code = row.get("code", "")
    if not code:
        importer = _importers.get(values["kind"])
        if importer and any(row.get(c) for c in importer.columns):
            sample = importer.create(row, values, user)
        else:
            sample = sample_register(
                owner=values.pop("owner") or user, parents=values.pop("parents"), **values
            )
        report.created.append(sample.code)
        return
    sample = Sample.objects.select_for_update().filter(code=code).first()
    if sample is None:
        raise ValidationError({"code": f"unknown sample code {code!r}"})
    if mode == "skip":
        report.skipped.append(code)
    elif mode == "fail":
        raise ValidationError({"code": f"{code} already exists (mode 'fail')"})
    else:
        _refuse_record_changes(sample, row)
        _update(sample, values, report)


def _refuse_record_changes(sample: Sample, row: dict) -> None:
    """A kind's own record (a cell's disc masses) is built once; import does not rewrite it."""
    importer = _importers.get(sample.kind)
    if importer is None:
        return
    stored = importer.export([sample.pk]).get(sample.pk, {})
    for column in importer.columns:
        if row.get(column) and not _same(row[column], stored.get(column, "")):
            raise ValidationError(
                {
                    column: f"{sample.code} has {stored.get(column) or 'none'}; import does not "
                    "change a built record"
                }  # fmt: skip
            )


def _same(a: str, b: str) -> bool:
    try:
        return float(a) == float(b)
    except ValueError:
        return a.strip() == b.strip()


def _update(sample: Sample, values: dict, report: ImportReport) -> None:
    if values["kind"] != sample.kind:
        raise ValidationError({"kind": f"{sample.code} is a {sample.kind}, not {values['kind']}"})
    changed = [f for f in EDITABLE if getattr(sample, f) != values[f]]
    for name in changed:
        setattr(sample, name, values[name])
    if changed:
        sample.save()
    new_links = [p for p in values["parents"] if not _has_edge(p, sample)]
    for link in new_links:
        lineage_link(parent=link.parent, child=sample, role=link.role)
    (report.updated if changed or new_links else report.unchanged).append(sample.code)


def _has_edge(link: ParentLink, sample: Sample) -> bool:
    return sample.parent_edges.filter(parent=link.parent, role=link.role).exists()


def _clean(row: dict) -> dict:
    kind, status = row.get("kind", "").lower(), (row.get("status") or "active").lower()
    if kind not in SampleKind.values:
        raise ValidationError(
            {"kind": f"unknown kind {kind!r}; use one of {', '.join(SampleKind.values)}"}
        )
    if status not in SampleStatus.values:
        raise ValidationError({"status": f"unknown status {status!r}"})
    if not row.get("name"):
        raise ValidationError({"name": "a sample needs a name"})
    return {
        "kind": kind, "name": row["name"], "formula": row.get("formula", ""), "status": status,
        "location": row.get("location", ""), "notes": row.get("notes", ""),
        "owner": _owner(row.get("owner", "")), "project": _project(row.get("project", "")),
        "parents": _parents(row.get("parents", "")),
    }  # fmt: skip


def _owner(username: str):
    if not username:
        return None
    owner = get_user_model().objects.filter(username=username).first()
    if owner is None:
        raise ValidationError({"owner": f"no user {username!r}"})
    return owner


def _project(code: str) -> Project | None:
    if not code:
        return None
    project = Project.objects.filter(code=code).first()
    if project is None:
        raise ValidationError({"project": f"no project {code!r}"})
    return project


def _parents(text: str) -> list[ParentLink]:
    """'CAT-2026-0001:substrate; RGT-2026-0003:reagent' -> links (role defaults to derived_from)."""
    links = []
    for item in filter(None, (part.strip() for part in text.split(";"))):
        code, _, role = item.partition(":")
        role = role.strip() or EdgeRole.DERIVED_FROM
        if role not in EdgeRole.values:
            raise ValidationError({"parents": f"unknown role {role!r} for {code.strip()}"})
        parent = Sample.objects.filter(code=code.strip()).first()
        if parent is None:
            raise ValidationError({"parents": f"unknown sample code {code.strip()!r}"})
        links.append(ParentLink(parent, role))
    return links


def _messages(exc: ValidationError) -> list[str]:
    if hasattr(exc, "error_dict"):
        return [f"{name}: {m}" for name, errs in exc.message_dict.items() for m in errs]
    return exc.messages


def export_rows(samples) -> list[list[str]]:
    """The import columns for each sample (parents as 'CODE:role; ...')."""
    samples = list(
        samples.select_related("owner", "project").prefetch_related("parent_edges__parent")
    )
    extra_columns = columns()[len(COLUMNS) :]
    extras: dict[int, dict[str, str]] = {}
    for kind, importer in _importers.items():
        extras.update(importer.export([s.pk for s in samples if s.kind == kind]))
    rows = []
    for s in samples:
        parents = "; ".join(f"{e.parent.code}:{e.role}" for e in s.parent_edges.all())
        extra = extras.get(s.pk, {})
        rows.append([s.code, s.kind, s.name, s.formula, s.status, s.location,
                     s.owner.username if s.owner else "", s.project.code if s.project else "",
                     s.notes, parents, *(extra.get(c, "") for c in extra_columns)])  # fmt: skip
    return rows
