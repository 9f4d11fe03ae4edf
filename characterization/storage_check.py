"""Does the file store match the database? `storage_check_run` compares MEDIA_ROOT with the rows.

- missing: a raw file row whose file is gone, a result table an analysis result lists, gone;
- corrupt: a stored file that no longer hashes to its SHA-256 (every file is re-hashed), a
  result table that no longer matches the SHA-256 recorded with it;
- orphan: a file under raw/ that no row names (a web worker killed between storing and
  committing, a row deleted behind Kiln's back), a results folder that no result names;
- leftover: staged uploads, Django's upload spool files, temporary and lock files of the table
  cache and of results, left by interrupted processes.

With `repair`, orphans and leftovers older than KILN_STORAGE_GRACE_S are removed (an orphan's
row is looked up again just before: a file a row points to is never removed). A missing or
corrupt file is only reported, for the lab manager to restore from the backup; rows are never
deleted. A staged copy of a missing file's content (a killed upload whose row committed) is
put back under its name, as uploading the same file again would.

The latest report is kept as JSON under MEDIA_ROOT/var/ (shared by the web and the workers) for
the dashboard; `latest_report` reads it.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import tempfile
import time
from collections import defaultdict
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

from django.conf import settings
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from characterization import storage
from characterization.jobs.cache import PARQUET_DIR
from characterization.jobs.models import AnalysisResult
from characterization.jobs.results import RESULTS_DIR
from characterization.models import MeasurementFile, RawFile

KINDS = ("missing", "corrupt", "orphan", "leftover")
REPORT_PATH = Path("var") / "storage-check.json"  # under MEDIA_ROOT
KEEP_FINDINGS = 200  # per kind in the saved report (the counts are complete)
OVERDUE_DAYS = 8  # beat runs the check weekly


@dataclass
class Finding:
    kind: str  # one of KINDS
    path: str  # relative to MEDIA_ROOT
    message: str
    size_bytes: int | None = None
    stale: bool = False  # an orphan or leftover past the grace period (not in use)
    action: str = ""  # what --repair did: "removed", "restored from a staged copy"; "" nothing

    @property
    def is_open(self) -> bool:
        """Still needs someone: a missing or corrupt file not put back, or a stale orphan or
        leftover not removed (newer ones may be in use)."""
        if self.action:
            return False
        return self.kind in ("missing", "corrupt") or self.stale


@dataclass
class StorageReport:
    checked_at: datetime
    repair: bool
    grace_s: int
    files_checked: int = 0
    bytes_checked: int = 0
    seconds: float = 0.0
    findings: list[Finding] = field(default_factory=list)

    def of(self, kind: str) -> list[Finding]:
        return [f for f in self.findings if f.kind == kind]

    @property
    def open_problems(self) -> list[Finding]:
        return [f for f in self.findings if f.is_open]

    def counts(self) -> dict[str, int]:
        return {kind: len(self.of(kind)) for kind in KINDS}

    def as_dict(self) -> dict:
        kept = [f for kind in KINDS for f in self.of(kind)[:KEEP_FINDINGS]]
        return {
            "checked_at": self.checked_at.isoformat(),
            "repair": self.repair,
            "grace_s": self.grace_s,
            "files_checked": self.files_checked,
            "bytes_checked": self.bytes_checked,
            "seconds": round(self.seconds, 1),
            "counts": self.counts(),
            "removed": sum(f.action == "removed" for f in self.findings),
            "restored": sum(f.action.startswith("restored") for f in self.findings),
            "open_problems": len(self.open_problems),
            "ok": not self.open_problems,
            "findings": [{**asdict(f), "open": f.is_open} for f in kept],
        }


def storage_check_run(*, repair: bool = False, now: datetime | None = None) -> StorageReport:
    """Check every stored file against the database (and repair what may be); the report is
    saved for the dashboard."""
    started = time.monotonic()
    now = now or timezone.now()
    report = StorageReport(checked_at=now, repair=repair, grace_s=settings.KILN_STORAGE_GRACE_S)
    # Rows first, files second: an upload names its file before its row commits (storage.
    # keep_with_transaction), so every row read has its file listed, and a file whose upload
    # is still in its transaction looks like an orphan, a young one, which is kept.
    rows = {sha: (pk, name, size) for pk, sha, name, size in _raw_rows()}
    stored, strays = _stored_files()
    leftovers = _leftover_files()
    _check_raw_files(report, rows, stored, leftovers)
    _check_orphans(report, rows, stored, strays)
    _check_results(report)
    _check_leftovers(report, leftovers)
    report.seconds = time.monotonic() - started
    report_save(report)
    return report


def _raw_rows():
    return RawFile._base_manager.values_list("pk", "sha256", "original_name", "size_bytes")


def _media() -> Path:
    return Path(settings.MEDIA_ROOT)


def _rel(path: Path) -> str:
    return path.relative_to(_media()).as_posix()


def _age_s(path: Path, now: float) -> float:
    return now - path.stat().st_mtime  # written last (a stored file: when it was uploaded)


# --- listing ----------------------------------------------------------------------------------


def _stored_files() -> tuple[dict[str, Path], list[Path]]:
    """{sha256: path} of raw/<xx>/<sha256>, and the other files in raw/'s shard folders."""
    stored, strays = {}, []
    root = storage.raw_root()
    if not root.is_dir():
        return stored, strays
    for shard in sorted(root.iterdir()):
        if not shard.is_dir() or shard.name == storage.STAGING_DIR:
            continue
        for path in sorted(shard.iterdir()):
            if path.name.startswith(".") or not path.is_file():
                continue  # .copy-*: a leftover
            if storage.is_sha256(path.name) and path.name[:2] == shard.name:
                stored[path.name] = path
            else:
                strays.append(path)
    return stored, strays


def _leftover_files() -> list[Path]:
    """Files interrupted work leaves: staged uploads, upload spool files, temporary copies,
    the table cache's and results' temporary and lock files."""
    raw, media = storage.raw_root(), _media()
    found = [
        *_files(storage.staging_root(), "*"),
        *_files(raw, ".upload-*"),  # staged by Kiln before the staging folder
        *_files(raw, "*/.copy-*"),
        *_files(storage.upload_temp_dir(), "*"),
        *_files(media / PARQUET_DIR, ".*.lock"),
        *_files(media / PARQUET_DIR, ".tmp-*"),
        *_files(media / RESULTS_DIR, "*/.tmp-*"),
    ]
    return sorted(set(found))


def _files(folder: Path, pattern: str) -> list[Path]:
    return [p for p in folder.glob(pattern) if p.is_file()] if folder.is_dir() else []


# --- raw files --------------------------------------------------------------------------------


def _check_raw_files(report: StorageReport, rows: dict, stored: dict, leftovers: list) -> None:
    missing = {sha: row for sha, row in rows.items() if sha not in stored}
    if missing:
        _report_missing(report, missing, _staged_copies(leftovers, wanted=set(missing)))
    corrupt = []
    for sha, path in stored.items():
        if sha not in rows:
            continue
        size = path.stat().st_size
        report.files_checked += 1
        report.bytes_checked += size
        actual = storage.file_sha256(path) if size == rows[sha][2] else None
        if actual != sha:
            corrupt.append((sha, path, size, actual))
    where = _measurements_of([rows[sha][0] for sha, *_ in corrupt])
    for sha, path, size, actual in corrupt:
        pk, name, expected = rows[sha]
        reads = f"it now reads as {actual[:12]}…" if actual else f"{size:,} bytes, not {expected:,}"
        message = (
            f"{_describe(sha, pk, name, where)} no longer hashes to its SHA-256 ({reads}): "
            "restore it from the backup"
        )
        report.findings.append(Finding("corrupt", _rel(path), message, size))


def _report_missing(report: StorageReport, missing: dict, copies: dict) -> None:
    where = _measurements_of([row[0] for row in missing.values()])
    for sha, (pk, name, _size) in missing.items():
        what = _describe(sha, pk, name, where)
        finding = Finding("missing", _rel(storage.raw_path(sha)), "")
        if sha in copies and report.repair and _restore(copies[sha]):
            finding.action = "restored from a staged copy"
            finding.message = f"{what} was missing; its content was found staged and put back"
        else:
            finding.message = (
                f"{what} is missing: restore it from the backup (or upload the same file again)"
            )
        report.findings.append(finding)


def _restore(copy: storage.Staged) -> bool:
    try:
        storage.publish(copy)
    except (OSError, storage.StorageError):  # named meanwhile, or not writable: reported
        return False
    return True


def _staged_copies(leftovers: list[Path], *, wanted: set[str]) -> dict[str, storage.Staged]:
    copies = {}
    staging = storage.staging_root()
    for path in leftovers:
        if path.parent != staging:
            continue
        with contextlib.suppress(OSError):
            sha = storage.file_sha256(path)
            if sha in wanted:
                copies[sha] = storage.Staged(sha, path.stat().st_size, path)
    return copies


def _measurements_of(raw_ids: list[int]) -> dict[int, list[str]]:
    codes = defaultdict(list)
    links = MeasurementFile.objects.filter(raw_file_id__in=raw_ids).order_by("measurement_id")
    for raw_id, code in links.values_list("raw_file_id", "measurement__sample__code"):
        codes[raw_id].append(code)
    return codes


def _describe(sha: str, pk: int, name: str, where: dict[int, list[str]]) -> str:
    measurements = ", ".join(where.get(pk, [])) or "no measurement"
    return f"raw file #{pk} “{name}” (sha256 {sha[:12]}…, {measurements})"


def _check_orphans(report: StorageReport, rows: dict, stored: dict, strays: list) -> None:
    now = time.time()
    orphans = [(sha, path) for sha, path in stored.items() if sha not in rows]
    orphans += [(None, path) for path in strays]
    for sha, path in orphans:
        size = path.stat().st_size
        stale = _age_s(path, now) > report.grace_s
        finding = Finding("orphan", _rel(path), "", size, stale)
        if report.repair and stale and _remove_orphan(sha, path):
            finding.action = "removed"
        named = "no raw file row names it" if sha else "not a stored content's name"
        finding.message = f"{_rel(path)} ({size:,} bytes): {named}{_staleness(stale)}"
        report.findings.append(finding)


def _remove_orphan(sha: str | None, path: Path) -> bool:
    if sha is None:
        path.unlink(missing_ok=True)
        return True
    with storage.shard_lock(path.parent):  # a row committed since the listing keeps its file
        if RawFile._base_manager.filter(sha256=sha).exists():
            return False
        path.unlink(missing_ok=True)
    return True


def _staleness(stale: bool) -> str:
    return "" if stale else "; newer than the grace period, may be in use"


# --- results ----------------------------------------------------------------------------------


def _check_results(report: StorageReport) -> None:
    media, now = _media(), time.time()
    keys = set()
    for key, artifacts in AnalysisResult._base_manager.values_list("cache_key", "artifacts"):
        keys.add(key)
        for artifact in artifacts or []:
            _check_artifact(report, media / artifact.get("path", ""), artifact, key)
    root = media / RESULTS_DIR
    for folder in sorted(root.iterdir()) if root.is_dir() else []:
        if not folder.is_dir() or folder.name in keys:
            continue
        stale = _age_s(folder, now) > report.grace_s
        finding = Finding("orphan", _rel(folder), "", stale=stale)
        if report.repair and stale:
            shutil.rmtree(folder, ignore_errors=True)
            finding.action = "removed"
        finding.message = f"{_rel(folder)}/: no analysis result names it{_staleness(stale)}"
        report.findings.append(finding)


def _check_artifact(report: StorageReport, path: Path, artifact: dict, key: str) -> None:
    what = f"result table “{artifact.get('name')}” of result {key[:12]}…"
    if not path.is_file():
        message = f"{what} is missing: restore it from the backup"
        report.findings.append(Finding("missing", artifact.get("path", ""), message))
        return
    report.files_checked += 1
    report.bytes_checked += path.stat().st_size
    if storage.file_sha256(path) != artifact.get("sha256"):
        message = f"{what} no longer matches its recorded SHA-256: restore it from the backup"
        report.findings.append(Finding("corrupt", _rel(path), message, path.stat().st_size))


# --- leftovers --------------------------------------------------------------------------------


def _check_leftovers(report: StorageReport, leftovers: list[Path]) -> None:
    now = time.time()
    for path in leftovers:
        try:
            size, stale = path.stat().st_size, _age_s(path, now) > report.grace_s
        except FileNotFoundError:  # finished and cleaned up meanwhile
            continue
        finding = Finding("leftover", _rel(path), "", size, stale)
        if report.repair and stale:
            path.unlink(missing_ok=True)
            finding.action = "removed"
        finding.message = f"{_rel(path)} ({size:,} bytes): left by interrupted work" + _staleness(
            stale
        )
        report.findings.append(finding)


# --- the saved report -------------------------------------------------------------------------


def report_save(report: StorageReport) -> None:
    final = _media() / REPORT_PATH
    final.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=final.parent, prefix=".tmp-", suffix=".json")
    try:
        with os.fdopen(fd, "w") as out:
            json.dump(report.as_dict(), out, indent=1)
        os.replace(tmp, final)
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)


def latest_report() -> dict | None:
    """The last saved report, with `checked_at` as a datetime and `overdue` when it is older
    than OVERDUE_DAYS (beat is not running); None before the first check."""
    try:
        data = json.loads((_media() / REPORT_PATH).read_text())
        checked_at = parse_datetime(data["checked_at"])
    except (OSError, ValueError, KeyError, TypeError):
        return None
    if checked_at is None:
        return None
    data["checked_at"] = checked_at
    data["overdue"] = timezone.now() - checked_at > timedelta(days=OVERDUE_DAYS)
    data["problems"] = [f for f in data.get("findings", []) if f.get("open")][:10]
    return data
