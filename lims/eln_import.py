"""Import an .eln archive that Kiln exported (`manage.py eln_import`): the samples come back with
their codes, lineage edges (roles, amounts), measurements with their conditions and raw files
(stored by content: the same SHA-256), and analysis results with their tables, in one
transaction.

Refused with a sentence, nothing written: an archive Kiln did not write (no #kiln
SoftwareApplication of the format lims.rocrate writes); a file whose bytes or size differ from
what the metadata records; any sample code that exists here already. Codes never change and
never repeat, so an archive is imported once: we refuse rather than give new codes, which would
break every label and notebook that cites the old ones. The imported codes advance the
registry's counters, so a new sample never takes one of them.

Not recreated as records: batches, lots, electrodes and cells (their numbers stay in the
archive's PropertyValues and plan files). A powder's stock comes back the same: its starting
grams become the sample's entered amount (the batch that gave the yield is not recreated), its
corrections are added again with who, when and why. People: an owner or operator is the user
with that username when there is one, else nobody (the report names the missing usernames).
"""

from __future__ import annotations

import json
import re
import zipfile
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path, PurePosixPath
from urllib.parse import unquote

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import transaction

from characterization import storage
from characterization.jobs.models import AnalysisDefinition, AnalysisJob, AnalysisResult, JobStatus
from characterization.models import Measurement, MeasurementFile, RawFile
from characterization.services import raw_file_store
from lims.eln_checks import CHUNK, eln_problems
from lims.eln_content import ANALYSIS_PAYLOAD
from lims.models import Project, Sample, SampleCodeCounter, SampleEdge, StockCorrection
from lims.rocrate import KILN_FORMAT, METADATA, crate_nodes, made_by_kiln, refs, unflatten

CODE = re.compile(r"^([A-Z]+)-(\d{4})-(\d+)$")
MAX_METADATA_BYTES = 64 << 20


class ElnImportError(ValueError):
    """The archive cannot be imported; the message says why (nothing was written)."""


@dataclass
class ImportReport:
    samples: list[str] = field(default_factory=list)
    edges: int = 0
    raw_files: int = 0
    results: int = 0
    jobs: int = 0
    unknown_users: set[str] = field(default_factory=set)
    notes: list[str] = field(default_factory=list)
    dry_run: bool = False

    def lines(self) -> list[str]:
        verb = "would import" if self.dry_run else "imported"
        lines = [
            f"{verb} {len(self.samples)} samples, {self.edges} lineage edges, "
            f"{self.raw_files} raw files, {self.results} analysis results ({self.jobs} jobs)"
        ]
        if self.unknown_users:
            names = ", ".join(sorted(self.unknown_users))
            lines.append(f"no user here named {names}: those samples have no owner")
        return lines + self.notes


@dataclass
class _Sample:
    """One Dataset of the archive, as Kiln wrote it."""

    code: str
    node: dict
    values: dict
    units: dict
    files: list[dict]


def eln_import(*, path: Path, user=None, dry_run: bool = False) -> ImportReport:
    """Import the archive at `path` (see the module's docstring); ElnImportError if refused.
    A dry run does all of it and rolls back."""
    try:
        zf = zipfile.ZipFile(path)
    except (OSError, zipfile.BadZipFile) as exc:
        raise ElnImportError(f"{path}: not a readable .eln (ZIP) archive ({exc})") from None
    with zf:
        root, document = _read(zf, path)
        samples = _samples(document)
        _refuse_clashes(samples)
        problems = eln_problems(path)
        if problems:
            raise ElnImportError(f"{path}: the archive is damaged: {problems[0]}")
        with transaction.atomic():
            report = _write(zf, root, document, samples, user, dry_run=dry_run)
            transaction.set_rollback(dry_run)
    return report


def _read(zf: zipfile.ZipFile, path: Path) -> tuple[str, dict]:
    names = [n for n in zf.namelist() if PurePosixPath(n).name == METADATA]
    roots = [n for n in names if len(PurePosixPath(n).parts) == 2]
    if len(roots) != 1:
        raise ElnImportError(f"{path}: no {METADATA} in a single root folder: not an .eln")
    if zf.getinfo(roots[0]).file_size > MAX_METADATA_BYTES:
        raise ElnImportError(f"{path}: its {METADATA} is larger than Kiln reads")
    too_large = [i.filename for i in zf.infolist() if i.file_size > storage.max_upload_bytes()]
    if too_large:
        raise ElnImportError(
            f"{path}: {too_large[0]} unpacks beyond the upload limit of "
            f"{settings.KILN_MAX_UPLOAD_MB} MB"
        )
    try:
        document = json.loads(zf.read(roots[0]))
    except ValueError as exc:
        raise ElnImportError(f"{path}: {METADATA} is not valid JSON ({exc})") from None
    if not isinstance(document, dict) or not made_by_kiln(document):
        raise ElnImportError(
            f"{path} was not exported by Kiln, or by a Kiln older than format {KILN_FORMAT} (its "
            f"{METADATA} has no such export record); Kiln imports only the .eln archives it wrote"
        )
    return PurePosixPath(roots[0]).parts[0], document


def _samples(document: dict) -> list[_Sample]:
    nodes = crate_nodes(document)
    found = []
    for dataset_id in refs(nodes.get("./", {}).get("hasPart")):
        node = nodes.get(dataset_id, {})
        if node.get("@type") != "Dataset" or not isinstance(node.get("identifier"), str):
            continue
        values = [nodes.get(i, {}) for i in refs(node.get("variableMeasured"))]
        found.append(
            _Sample(
                code=node["identifier"], node=node,
                values={v["propertyID"]: v.get("value") for v in values if "propertyID" in v},
                units={v["propertyID"]: v.get("unitText", "") for v in values if "propertyID" in v},
                files=[nodes[i] for i in refs(node.get("hasPart")) if i in nodes],
            )
        )  # fmt: skip
    return found


def _refuse_clashes(samples: list[_Sample]) -> None:
    codes = [s.code for s in samples]
    clashing = sorted(Sample.objects.filter(code__in=codes).values_list("code", flat=True))
    if clashing:
        shown = ", ".join(clashing[:10]) + (" …" if len(clashing) > 10 else "")
        raise ElnImportError(
            f"{len(clashing)} of its {len(codes)} samples exist here already ({shown}); "
            "codes never repeat, so nothing was imported"
        )


# --- writing ------------------------------------------------------------------------------------


def _write(
    zf: zipfile.ZipFile, root: str, document: dict, samples: list[_Sample], user, *, dry_run: bool
) -> ImportReport:
    report = ImportReport(dry_run=dry_run)
    users = _users(document, samples, report)
    created = {s.code: _sample_create(s, users) for s in samples}
    report.samples = list(created)
    for sample in samples:
        report.edges += _edges(sample, created, report)
    _advance_counters(list(created))
    for sample in samples:
        _stock(sample, created[sample.code], users, user, report)
    for sample in samples:
        if sample.values.get("measurement.type"):
            _measurement(zf, root, sample, created, users, user, report, dry_run=dry_run)
    return report


def _users(document: dict, samples: list[_Sample], report: ImportReport) -> dict:
    """username -> user here, for the samples' authors and the measurements' operators."""
    nodes = crate_nodes(document)
    owners = {s.code: _author(nodes, s) for s in samples}
    names = set(owners.values()) | {str(s.values.get("measurement.operator", "")) for s in samples}
    found = {u.get_username(): u for u in get_user_model().objects.filter(username__in=names)}
    report.unknown_users = {n for n in owners.values() if n and n not in found}
    return {"by_name": found, "owners": owners}


def _author(nodes: dict[str, dict], sample: _Sample) -> str:
    author = next(iter(refs(sample.node.get("author"))), "")
    return str(nodes.get(author, {}).get("identifier", ""))


def _sample_create(sample: _Sample, users: dict) -> Sample:
    v, node = sample.values, sample.node
    owner = users["by_name"].get(users["owners"][sample.code])
    project = (
        Project.objects.filter(code=v.get("project", "")).first() if v.get("project") else None
    )
    row = Sample.objects.create(
        code=sample.code, kind=v["kind"], name=node.get("name", sample.code),
        formula=v.get("formula", ""), status=v.get("status", "active"),
        location=v.get("location", ""), owner=owner, project=project, notes=node.get("text", ""),
    )  # fmt: skip
    changes = {"created_at": datetime.fromisoformat(node["dateCreated"])}
    if v.get("void.at"):
        changes |= {
            "voided_at": datetime.fromisoformat(v["void.at"]), "void_reason": v["void.reason"],
            "voided_by": users["by_name"].get(v.get("void.by", "")) or owner,
        }  # fmt: skip
    Sample.objects.filter(pk=row.pk).update(**changes)
    row.refresh_from_db()
    return row


def _edges(sample: _Sample, created: dict[str, Sample], report: ImportReport) -> int:
    links = unflatten(sample.values, "lineage")
    links = links if isinstance(links, list) else list(links.values())
    count = 0
    for i, link in enumerate(links):
        parent = created.get(link["parent"]) or Sample.objects.filter(code=link["parent"]).first()
        if parent is None:
            report.notes.append(f"{sample.code}: parent {link['parent']} is in neither place")
            continue
        SampleEdge.objects.create(
            parent=parent, child=created[sample.code], role=link.get("role", "derived_from"),
            amount=link.get("amount"), amount_unit=sample.units.get(f"lineage.{i}.amount", ""),
        )  # fmt: skip
        count += 1
    return count


def _stock(sample: _Sample, row: Sample, users: dict, user, report: ImportReport) -> None:
    initial = sample.values.get("stock.initial_g")
    if initial is None:
        return
    Sample.objects.filter(pk=row.pk).update(initial_mass_g=initial)
    corrections = unflatten(sample.values, "stock.corrections")
    for c in corrections if isinstance(corrections, list) else list(corrections.values()):
        by = users["by_name"].get(c.get("by", "")) or user
        if by is None:
            report.notes.append(f"{sample.code}: a stock correction by {c.get('by')} left out "
                                "(no such user here, and no importing user)")  # fmt: skip
            continue
        StockCorrection.objects.create(
            sample=row, delta_g=c["delta_g"], reason=c["reason"], by=by,
            at=datetime.fromisoformat(c["at"]),
        )  # fmt: skip


def _advance_counters(codes: list[str]) -> None:
    """Each counter at least at the highest imported number of its prefix and year."""
    highest: dict[tuple[str, int], int] = {}
    for code in codes:
        match = CODE.match(code)
        if match:
            key = (match[1], int(match[2]))
            highest[key] = max(highest.get(key, 0), int(match[3]))
    for (prefix, year), last in highest.items():
        SampleCodeCounter.objects.bulk_create(
            [SampleCodeCounter(prefix=prefix, year=year)], ignore_conflicts=True
        )
        counter = SampleCodeCounter.objects.select_for_update().get(prefix=prefix, year=year)
        if counter.last < last:
            counter.last = last
            counter.save(update_fields=["last"])


# --- measurements, raw files, results ----------------------------------------------------------


def _measurement(
    zf: zipfile.ZipFile,
    root: str,
    sample: _Sample,
    created: dict[str, Sample],
    users: dict,
    user,
    report: ImportReport,
    *,
    dry_run: bool,
) -> None:
    v = sample.values
    subject = created.get(v.get("measurement.subject")) or Sample.objects.get(
        code=v["measurement.subject"]
    )
    measurement = Measurement.objects.create(
        sample=created[sample.code], subject=subject, measurement_type=v["measurement.type"],
        instrument=v.get("measurement.instrument", ""), conditions=unflatten(v, "conditions"),
        operator=users["by_name"].get(v.get("measurement.operator", "")),
        measured_at=datetime.fromisoformat(v["measurement.measured_at"]),
    )  # fmt: skip
    payloads = [_payload(zf, root, f) for f in sample.files]
    payloads = [p for p in payloads if p is not None]
    derived = {a.get("file") for p in payloads for a in p["artifacts"]}
    derived |= {p["_name"] for p in payloads}
    raws = {}
    for node in sample.files:
        if node["name"] not in derived:
            raws[node["sha256"]] = _raw_file(zf, root, node, measurement, user)
            report.raw_files += 1
    for payload in payloads:
        _result(zf, root, payload, measurement, raws, user, report, dry_run=dry_run)


class _Member:
    """A zip member as raw_file_store takes an upload (name, size, content_type, chunks)."""

    def __init__(self, zf: zipfile.ZipFile, member: str, node: dict) -> None:
        self.zf, self.member = zf, member
        self.name, self.size = node["name"], int(node["contentSize"])
        self.content_type = node.get("encodingFormat", "")

    def chunks(self, chunk_size: int = CHUNK):
        with self.zf.open(self.member) as stream:
            while chunk := stream.read(chunk_size):
                yield chunk


def _member(root: str, node: dict) -> str:
    return f"{root}/{unquote(node['@id'].removeprefix('./'))}"


def _raw_file(
    zf: zipfile.ZipFile, root: str, node: dict, measurement: Measurement, user
) -> RawFile:
    raw, _ = raw_file_store(upload=_Member(zf, _member(root, node), node), uploaded_by=user)
    MeasurementFile.objects.get_or_create(
        measurement=measurement, raw_file=raw, defaults={"added_by": user}
    )
    return raw


def _payload(zf: zipfile.ZipFile, root: str, node: dict) -> dict | None:
    """An analysis result's JSON file (None for any other file)."""
    if node.get("encodingFormat") != "application/json" or int(node["contentSize"]) > (64 << 20):
        return None
    try:
        payload = json.loads(zf.read(_member(root, node)))
    except ValueError:
        return None
    if not isinstance(payload, dict) or payload.get("format") != ANALYSIS_PAYLOAD:
        return None
    return {**payload, "_name": node["name"], "_folder": PurePosixPath(_member(root, node)).parent}


RESULT_FIELDS = (
    "kind", "kind_version", "parser_version", "parameters", "input_checksums",
    "active_mass_mg", "column_mapping", "cell_context", "summary", "figures", "warnings",
)  # fmt: skip


def _result(
    zf: zipfile.ZipFile,
    root: str,
    payload: dict,
    measurement: Measurement,
    raws: dict[str, RawFile],
    user,
    report: ImportReport,
    *,
    dry_run: bool,
) -> None:
    artifacts = [
        {k: a[k] for k in ("name", "path", "sha256", "size")} for a in payload["artifacts"]
    ]
    result, made = AnalysisResult.objects.get_or_create(
        cache_key=payload["cache_key"],
        defaults={**{k: payload[k] for k in RESULT_FIELDS}, "artifacts": artifacts},
    )
    if made:
        AnalysisResult.objects.filter(pk=result.pk).update(
            created_at=datetime.fromisoformat(payload["created_at"])
        )
        result.refresh_from_db()
        report.results += 1
        if not dry_run:
            _restore_artifacts(zf, payload)
    raw = raws.get(payload["raw_file_sha256"])
    definition = _definition(payload)
    if raw is None or definition is None:
        report.notes.append(f"{measurement.sample.code}: {payload['kind']} kept without its job")
        return
    AnalysisJob.objects.create(
        definition=definition, measurement=measurement, raw_file=raw, result=result,
        status=JobStatus.SUCCEEDED, progress_percent=100, progress_message="imported (.eln)",
        cache_key=result.cache_key, created_by=user, finished_at=result.created_at,
        **{k: payload[k] for k in RESULT_FIELDS[:8]},
    )  # fmt: skip
    report.jobs += 1


def _definition(payload: dict) -> AnalysisDefinition | None:
    by_name = AnalysisDefinition.objects.filter(name=payload["definition"]).first()
    return by_name or AnalysisDefinition.objects.filter(kind=payload["kind"]).first()


def _restore_artifacts(zf: zipfile.ZipFile, payload: dict) -> None:
    """The result's tables back under MEDIA_ROOT/results/<cache key>/ (checked by eln_problems:
    their bytes match the sha256 the archive records)."""
    media = Path(settings.MEDIA_ROOT)
    for artifact in payload["artifacts"]:
        target = PurePosixPath(artifact["path"])
        if not artifact.get("file") or target.parts[:2] != ("results", payload["cache_key"]):
            continue
        path = media / target
        if path.exists() or ".." in target.parts:
            continue
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(zf.read(f"{payload['_folder']}/{artifact['file']}"))
