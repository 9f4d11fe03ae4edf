"""Bulk import of samples from CSV/Excel: a dry run reports every bad row by line number, and
the real run saves all rows or none. The columns are those of the sample export, so a file
Kiln exported imports back unchanged.

Ownership is the application's: a new sample belongs to whoever imports it, and a chemist's
`owner` column is ignored (said in the report); only a lab manager's import sets or changes
owners. Mode update changes only the rows the importer may change (lims.rules); a row that
would change someone else's sample fails the file.

Speed (benchmarks/sample_import.py): the codes, parents, projects and owners the rows name are
looked up in a few bulk queries first (`_Run`), the rows' own samples are locked in bulk, and
new plain samples are written with bulk inserts at the end: their codes in one block per
prefix, their edges and audit rows in bulk. No per-row savepoint: any bad row rolls back the
whole file anyway. A new sample has no descendants, so its parent links cannot close a cycle."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable
from contextvars import ContextVar
from dataclasses import dataclass, field

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db import models, transaction
from simple_history.utils import bulk_create_with_history

from lims import quantities, rules
from lims.models import (
    POWDER_KINDS,
    EdgeRole,
    Project,
    Sample,
    SampleEdge,
    SampleKind,
    SampleStatus,
)
from lims.services import ParentLink, lineage_link, sample_codes_allocate

COLUMNS = ("code", "kind", "name", "formula", "status", "location", "owner", "project",
           "notes", "parents", "amount_g")  # fmt: skip
EDITABLE = ("name", "formula", "status", "location", "owner", "project", "notes")
OWNER_IGNORED = "owner {given!r} ignored: {why}; only a lab manager sets owners"
MODES = ("update", "skip", "fail")
BATCH = 1000  # rows per bulk insert / per IN (...) lookup
# Django's enum .values builds a new list on every call: too slow for 20,000 rows
KINDS, STATUSES = frozenset(SampleKind.values), frozenset(SampleStatus.values)
ROLES = frozenset(EdgeRole.values)
MAX_CHARS = {
    name: Sample._meta.get_field(name).max_length for name in ("name", "formula", "location")
}
Progress = Callable[[int, int, str], None]  # (done, in all, what is being done)


@dataclass
class PlannedSample:
    """A new sample checked in memory and saved in bulk at the end of the import; `records`
    are its kind's own rows (a coin cell), unsaved, given the sample once it has its id."""

    sample: Sample
    parents: list[ParentLink]
    records: list[models.Model] = field(default_factory=list)


@dataclass(frozen=True)
class KindImporter:
    """Extra columns of one sample kind, registered by the app that owns its records (e.g. the
    disc masses of a coin cell): `create(row, values, user)` builds the record and its sample
    when the row fills any of the columns; `export(sample_ids)` gives their values as text.
    `plan([(row, values), ...], user)`, when given, checks many such rows at once without
    saving (a PlannedSample or the ValidationError of each), so the import saves them in bulk."""

    columns: tuple[str, ...]
    create: Callable[[dict, dict, object], Sample]
    export: Callable[[list[int]], dict[int, dict[str, str]]]
    plan: Callable[[list[tuple[dict, dict]], object], list] | None = None


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
    notes: list[tuple[int, str]] = field(default_factory=list)  # (line, what was ignored)

    @property
    def ok(self) -> bool:
        return not self.errors


class _Rollback(Exception):
    """Raised inside the transaction to undo a dry run or a run with errors."""


def samples_import(
    *,
    rows: list[tuple[int, dict]],
    mode: str,
    dry_run: bool,
    user,
    progress: Progress | None = None,
) -> ImportReport:
    """Import (line, row) pairs; nothing is saved on a dry run or when any row is bad.
    `progress(done, in all, message)` hears how far it got (the worker's transfer page).

    PermissionDenied (with a sentence) for a user who may not create samples."""
    rules.require(user, "create", "lims.sample")
    if mode not in MODES:
        raise ValidationError({"mode": f"choose one of {', '.join(MODES)}"})
    report = ImportReport(dry_run=dry_run)
    if rows and (missing := {"kind", "name"} - set(rows[0][1])):
        report.errors.append((1, f"missing column(s): {', '.join(sorted(missing))}"))
        return report
    progress = progress or _quiet
    steps = len(rows) * (1 if dry_run else 2)  # check every row, then save the new ones
    run = _Run(rows, user)
    token = _run.set(run)
    try:
        with transaction.atomic():
            run.lock_own_samples()
            for done, (line, row) in enumerate(rows):
                try:
                    _import_row(line, row, mode, user, report)
                except ValidationError as exc:
                    report.errors.append((line, "; ".join(_messages(exc))))
                progress(done + 1, steps, f"checking row {done + 1:,} of {len(rows):,}")
            run.plan_kinds(report)
            if not report.errors and not dry_run:  # every check is done: nothing can fail here
                run.save_new(report, lambda n: progress(len(rows) + n, steps, "saving"))
            elif not report.errors:  # a dry run allocates no codes
                report.created.extend(f"(new {p.sample.kind})" for p in run.new)
            if dry_run or report.errors:
                raise _Rollback
    except _Rollback:
        pass
    finally:
        _run.reset(token)
    return report


def _quiet(done: int, total: int, message: str) -> None:
    pass


class _Run:
    """One import's lookups, done in bulk before the rows are read (codes, parents, projects,
    owners), and the new plain samples it saves in bulk at the end."""

    def __init__(self, rows: list[tuple[int, dict]], user):
        self.user = user
        own = {row.get("code", "") for _, row in rows} - {""}
        named = {_code_of(item) for _, row in rows for item in _parent_items(row)}
        self.own_codes = sorted(own)
        self.samples: dict[str, Sample] = _in_chunks(
            Sample.objects.all(), "code", sorted(named - own)
        )
        projects = {row.get("project", "") for _, row in rows} - {""}
        self.projects = _in_chunks(Project.objects.all(), "code", sorted(projects))
        usernames = {row.get("owner", "").strip() for _, row in rows} - {""}
        self.users = _in_chunks(get_user_model().objects.all(), "username", sorted(usernames))
        self.edges: set[tuple[int, int, str]] = set()  # (child, parent, role) of own samples
        self.stored: dict[int, dict[str, str]] = {}  # kind importers' values of own samples
        self.new: list[PlannedSample] = []
        self.to_plan: dict[str, list[tuple[int, dict, dict]]] = defaultdict(list)

    def lock_own_samples(self) -> None:
        """In the transaction: the rows' existing samples locked, with their edges and records."""
        locked = Sample.objects.select_for_update(of=("self",)).select_related("owner", "project")
        own = _in_chunks(locked, "code", self.own_codes)
        self.samples.update(own)
        ids = [s.pk for s in own.values()]
        for start in range(0, len(ids), BATCH):
            chunk = ids[start : start + BATCH]
            self.edges.update(
                SampleEdge.objects.filter(child_id__in=chunk).values_list(
                    "child_id", "parent_id", "role"
                )
            )
        for kind, importer in _importers.items():
            of_kind = [s.pk for s in own.values() if s.kind == kind]
            for start in range(0, len(of_kind), BATCH):
                self.stored.update(importer.export(of_kind[start : start + BATCH]))

    def add_new(self, values: dict, owner, parents: list[ParentLink]) -> None:
        if not values["name"].strip():
            raise ValidationError({"name": "a sample needs a name"})
        sample = Sample(owner=owner, **values)
        sample.name = sample.name.strip()
        self.new.append(PlannedSample(sample, parents))

    def plan_kinds(self, report: ImportReport) -> None:
        """Rows of kinds whose importer plans in bulk: checked together, saved with the rest."""
        for kind, items in self.to_plan.items():
            planned = _importers[kind].plan([(row, values) for _, row, values in items], self.user)
            for (line, _, _), outcome in zip(items, planned, strict=True):
                if isinstance(outcome, ValidationError):
                    report.errors.append((line, "; ".join(_messages(outcome))))
                else:
                    self.new.append(outcome)
        report.errors.sort(key=lambda error: error[0])

    def save_new(self, report: ImportReport, progress: Callable[[int], None]) -> None:
        """Codes in one block per prefix, then samples, edges, records and audit rows in bulk."""
        by_kind: dict[str, list[Sample]] = defaultdict(list)
        for planned in self.new:
            by_kind[planned.sample.kind].append(planned.sample)
        for kind, samples in by_kind.items():
            codes = sample_codes_allocate(kind=kind, count=len(samples))
            for sample, code in zip(samples, codes, strict=True):
                sample.code = code
        for start in range(0, len(self.new), BATCH):
            batch = self.new[start : start + BATCH]
            _bulk_create([p.sample for p in batch], self.user)
            _bulk_create([edge for p in batch for edge in _edges(p)], self.user)
            records = [_with_sample(r, p.sample) for p in batch for r in p.records]
            for model in {type(r) for r in records}:
                _bulk_create([r for r in records if type(r) is model], self.user)
            progress(start + len(batch))
        report.created.extend(planned.sample.code for planned in self.new)


_run: ContextVar[_Run] = ContextVar("sample_import_run")


def _edges(planned: PlannedSample) -> list[SampleEdge]:
    links = {(link.parent.pk, link.role): link for link in planned.parents}  # once each
    return [
        SampleEdge(parent=link.parent, child=planned.sample, role=link.role,
                   amount=link.amount, amount_unit=link.amount_unit)
        for link in links.values()
    ]  # fmt: skip


def _with_sample(record: models.Model, sample: Sample) -> models.Model:
    record.sample = sample
    return record


def _bulk_create(objs: list[models.Model], user) -> None:
    """Insert in batches, with their audit rows when the model keeps a history."""
    if not objs:
        return
    model = type(objs[0])
    if getattr(model._meta, "simple_history_manager_attribute", None):
        bulk_create_with_history(objs, model, batch_size=BATCH, default_user=user)
    else:
        model._default_manager.bulk_create(objs, batch_size=BATCH)


def _in_chunks(queryset, field_name: str, values: list[str]) -> dict:
    """{value: record} for the records whose `field_name` is one of `values` (exact match)."""
    found = {}
    for start in range(0, len(values), BATCH):
        chunk = queryset.filter(**{f"{field_name}__in": values[start : start + BATCH]})
        found.update({getattr(record, field_name): record for record in chunk})
    return found


def _parent_items(row: dict) -> Iterable[str]:
    return filter(None, (part.strip() for part in row.get("parents", "").split(";")))


def _code_of(item: str) -> str:
    return item.partition(":")[0].strip()


def _import_row(line: int, row: dict, mode: str, user, report: ImportReport) -> None:
    values = _clean(row)
    code = row.get("code", "")
    if not code:
        values["owner"] = _owner(line, row.get("owner", ""), None, user, report)
        importer = _importers.get(values["kind"])
        if importer and any(row.get(c) for c in importer.columns):
            if importer.plan is not None:  # checked with the kind's other rows, saved in bulk
                _run.get().to_plan[values["kind"]].append((line, row, values))
            else:
                report.created.append(importer.create(row, values, user).code)
        else:  # saved in bulk at the end (_Run.save_new)
            _run.get().add_new(values, values.pop("owner"), values.pop("parents"))
        return
    sample = _run.get().samples.get(code)  # locked by _Run.lock_own_samples
    if sample is None:
        raise ValidationError({"code": f"unknown sample code {code!r}"})
    if mode == "skip":
        report.skipped.append(code)
    elif mode == "fail":
        raise ValidationError({"code": f"{code} already exists (mode 'fail')"})
    else:
        _refuse_record_changes(sample, row)
        _refuse_amount_change(sample, values.pop("initial_mass_g"))
        values["owner"] = _owner(line, row.get("owner", ""), sample, user, report)
        _update(sample, values, user, report)


def _refuse_record_changes(sample: Sample, row: dict) -> None:
    """A kind's own record (a cell's disc masses) is built once; import does not rewrite it."""
    importer = _importers.get(sample.kind)
    if importer is None:
        return
    stored = _run.get().stored.get(sample.pk, {})
    for column in importer.columns:
        if row.get(column) and not _same(row[column], stored.get(column, "")):
            raise ValidationError(
                {
                    column: f"{sample.code} has {stored.get(column) or 'none'}; import does not "
                    "change a built record"
                }  # fmt: skip
            )


def _refuse_amount_change(sample: Sample, amount_g: float | None) -> None:
    """A stock is corrected with a reason on the sample's page, not rewritten by an import."""
    if amount_g is not None and amount_g != sample.initial_mass_g:
        had = "no amount" if sample.initial_mass_g is None else f"{sample.initial_mass_g:g} g"
        raise ValidationError(
            {"amount_g": f"{sample.code} has {had}; import does not change a stock: correct it "
             "on the sample's page, with a reason"}
        )  # fmt: skip


def _amount(text: str, kind: str) -> float | None:
    """The amount_g column: a powder's initial stock in grams (empty: not tracked)."""
    text = (text or "").strip()
    if not text:
        return None
    if kind not in POWDER_KINDS:
        raise ValidationError({"amount_g": "only a powder (precursor, cathode) has a stock"})
    try:
        value = float(text)
    except ValueError:
        raise ValidationError({"amount_g": f"not a number: {text!r}"}) from None
    message = quantities.problem("powder_amount_g", value)
    if message is not None:
        raise ValidationError({"amount_g": message})
    return value


def _same(a: str, b: str) -> bool:
    try:
        return float(a) == float(b)
    except ValueError:
        return a.strip() == b.strip()


def _update(sample: Sample, values: dict, user, report: ImportReport) -> None:
    if values["kind"] != sample.kind:
        raise ValidationError({"kind": f"{sample.code} is a {sample.kind}, not {values['kind']}"})
    changed = [f for f in EDITABLE if getattr(sample, f) != values[f]]
    new_links = [p for p in values["parents"] if not _has_edge(p, sample)]
    if (changed or new_links) and not rules.allowed(user, "change", sample):
        raise ValidationError({"code": rules.refusal(user, "change", sample)})
    for name in changed:
        setattr(sample, name, values[name])
    if changed:
        sample.save()
    for link in new_links:
        lineage_link(parent=link.parent, child=sample, role=link.role)
        _run.get().edges.add((sample.pk, link.parent.pk, link.role))
    (report.updated if changed or new_links else report.unchanged).append(sample.code)


def _has_edge(link: ParentLink, sample: Sample) -> bool:
    return (sample.pk, link.parent.pk, link.role) in _run.get().edges


def _clean(row: dict) -> dict:
    kind, status = row.get("kind", "").lower(), (row.get("status") or "active").lower()
    if kind not in KINDS:
        raise ValidationError(
            {"kind": f"unknown kind {kind!r}; use one of {', '.join(SampleKind.values)}"}
        )
    if status not in STATUSES:
        raise ValidationError({"status": f"unknown status {status!r}"})
    if not row.get("name"):
        raise ValidationError({"name": "a sample needs a name"})
    for name in ("name", "formula", "location"):
        limit = MAX_CHARS[name]
        if len(row.get(name, "")) > limit:
            raise ValidationError({name: f"at most {limit} characters, got {len(row[name])}"})
    return {
        "kind": kind, "name": row["name"], "formula": row.get("formula", ""), "status": status,
        "location": row.get("location", ""), "notes": row.get("notes", ""),
        "project": _project(row.get("project", "")),
        "parents": _parents(row.get("parents", "")),
        "initial_mass_g": _amount(row.get("amount_g", ""), kind),
    }  # fmt: skip


def _owner(line: int, username: str, sample: Sample | None, user, report: ImportReport):
    """Who owns the row's sample: the importer for a new one, the current owner for an existing
    one; a lab manager's `owner` column overrides both. Others' column is ignored, with a note."""
    kept = user if sample is None else sample.owner
    username = username.strip()
    if not username or username == getattr(kept, "username", None):
        return kept
    if rules.role_of(user) != rules.MANAGER:
        why = (
            f"a new sample belongs to whoever imports it ({user.get_username()})"
            if sample is None
            else f"{sample.code} stays {getattr(kept, 'username', None) or 'without an owner'}'s"
        )
        report.notes.append((line, OWNER_IGNORED.format(given=username, why=why)))
        return kept
    owner = _run.get().users.get(username)
    if owner is None:
        raise ValidationError({"owner": f"no user {username!r}"})
    return owner


def _project(code: str) -> Project | None:
    if not code:
        return None
    project = _run.get().projects.get(code)
    if project is None:
        raise ValidationError({"project": f"no project {code!r}"})
    return project


def _parents(text: str) -> list[ParentLink]:
    """'CAT-2026-0001:substrate; RGT-2026-0003:reagent' -> links (role defaults to derived_from)."""
    links = []
    for item in filter(None, (part.strip() for part in text.split(";"))):
        code, _, role = item.partition(":")
        role = role.strip() or EdgeRole.DERIVED_FROM
        if role not in ROLES:
            raise ValidationError({"parents": f"unknown role {role!r} for {code.strip()}"})
        parent = _run.get().samples.get(code.strip())
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
                     s.notes, parents, _amount_text(s.initial_mass_g),
                     *(extra.get(c, "") for c in extra_columns)])  # fmt: skip
    return rows


def _amount_text(amount_g: float | None) -> str:
    return "" if amount_g is None else repr(amount_g)  # repr: reads back as the same float
