"""Exports and imports on the worker, so that no web request builds a large file or runs a
large import: a Transfer row says who asked, how far it got and where its file is; its page
polls it (like a job's) and offers the download once it is ready.

Web side: `transfer_start` saves the row (and an import's uploaded file) and sends the task on
commit. Worker side: `transfer_run` claims the row, streams the file to
MEDIA_ROOT/transfers/<id>/<name>.part (rows in chunks, archive members copied from the stored
files), renames it when complete, and records the outcome; an import records its report.
Small exports and imports (at most KILN_EXPORT_SYNC_ROWS / KILN_IMPORT_SYNC_ROWS rows) are still
answered in the request.
"""

from __future__ import annotations

import contextlib
import logging
import os
import re
import shutil
import threading
import time
from collections.abc import Callable, Iterator
from datetime import timedelta
from functools import partial
from pathlib import Path
from types import SimpleNamespace

from celery.exceptions import SoftTimeLimitExceeded
from django.apps import apps
from django.conf import settings
from django.contrib import admin
from django.core.exceptions import ObjectDoesNotExist, PermissionDenied, ValidationError
from django.db import DatabaseError, connection, transaction
from django.db.models import Q, QuerySet
from django.utils import timezone
from simple_history.models import HistoricalRecords

from lims import exports, rules, sample_import, tabular
from lims.models import Sample, Transfer, TransferKind, TransferStatus
from lims.rocrate import CrateError
from lims.sample_queries import sample_by_code, sample_lineage, samples_list

logger = logging.getLogger(__name__)

TRANSFERS_DIR = "transfers"
CHUNK_ROWS = 1000
SEND_RETRY_POLICY = {"max_retries": 2, "interval_start": 0, "interval_step": 0.3}
QUEUED_MESSAGE = "waiting for a worker"
BROKER_DOWN = (
    "The worker's message broker could not be reached, so nothing was started. "
    "Try again in a minute; if it keeps failing, ask a lab manager to check the worker."
)
LOST = "No worker finished it (a worker stopped, or the broker lost the message); start it again."
TIME_LIMIT = "It took longer than the worker's time limit ({seconds} s); ask a lab manager."
FORMATS = ("csv", "xlsx")
SAMPLE_FILTERS = ("kind", "status", "q", "ancestor", "void")  # the sample list's filters
CONTENT_TYPES = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "eln": "application/vnd.eln+zip",
}
Progress = Callable[[int, int, str], None]  # (done, in all, what is being done)


def export_sync_rows() -> int:
    """Exports up to this many rows are answered in the request; larger ones go to the worker."""
    return settings.KILN_EXPORT_SYNC_ROWS


def import_sync_rows() -> int:
    return settings.KILN_IMPORT_SYNC_ROWS


def keep_days() -> int:
    """A finished transfer's file is removed this many days after it was made."""
    return settings.KILN_TRANSFER_KEEP_DAYS


# --- web side ---------------------------------------------------------------------------------


def transfer_start(
    *, kind: str, user, title: str, file_name: str, params: dict, source: bytes | None = None
) -> Transfer:
    """Queue a transfer and, once its row is committed, save its file (an import's upload)
    under MEDIA_ROOT/transfers/<id>/ and send it to the worker: no file without a row.
    PermissionDenied with a sentence for a user who may not send work."""
    rules.require(user, "run", "lims.transfer")
    with transaction.atomic():
        transfer = Transfer.objects.create(
            kind=kind, requested_by=user, title=title[:200], file_name=_safe_name(file_name),
            params=params, progress_message=QUEUED_MESSAGE,
        )  # fmt: skip
        if source is not None:
            transfer.params = {**params, "source": _relative(folder(transfer) / "source")}
            transfer.save(update_fields=["params"])
        transaction.on_commit(partial(_save_and_send, transfer.pk, source), robust=True)
    return transfer


def _save_and_send(transfer_id: int, source: bytes | None) -> None:
    if source is not None:
        path = Path(settings.MEDIA_ROOT) / TRANSFERS_DIR / str(transfer_id) / "source"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(source)
    transfer_send(transfer_id)


def eln_start(*, sample: Sample, user) -> Transfer:
    return transfer_start(
        kind=TransferKind.ELN, user=user, title=f"{sample.code} with its lineage (.eln)",
        file_name=f"{sample.code}.eln", params={"sample": sample.code},
    )  # fmt: skip


def samples_export_start(*, filters: dict[str, str], fmt: str, user) -> Transfer:
    stamp = timezone.localtime().strftime("%Y%m%d-%H%M")
    shown = ", ".join(f"{k} {v}" for k, v in filters.items() if v) or "all"
    return transfer_start(
        kind=TransferKind.SAMPLES, user=user, title=f"Samples ({shown}) as {fmt.upper()}",
        file_name=f"kiln-samples-{stamp}.{fmt}", params={"filters": filters, "fmt": fmt},
    )  # fmt: skip


def admin_export_start(*, model, pks: list[int], fmt: str, user) -> Transfer:
    meta, stamp = model._meta, timezone.localtime().strftime("%Y%m%d-%H%M")
    return transfer_start(
        kind=TransferKind.ADMIN, user=user,
        title=f"{len(pks):,} {meta.verbose_name_plural} as {fmt.upper()}",
        file_name=f"kiln-{meta.model_name}-{stamp}.{fmt}",
        params={"model": meta.label_lower, "pks": pks, "fmt": fmt},
    )  # fmt: skip


def import_start(*, data: bytes, name: str, mode: str, dry_run: bool, user) -> Transfer:
    what = "Dry run of the import" if dry_run else "Import"
    return transfer_start(
        kind=TransferKind.IMPORT, user=user, title=f"{what} of {name}", file_name="",
        params={"mode": mode, "dry_run": dry_run, "name": name}, source=data,
    )  # fmt: skip


def transfer_send(transfer_id: int) -> bool:
    """Send the task; never raises. With the broker down the transfer fails with a sentence."""
    from lims.tasks import transfer_run as task

    try:
        task.apply_async(args=[transfer_id], retry=True, retry_policy=SEND_RETRY_POLICY)
    except Exception as exc:  # any broker failure: say so on the transfer's page
        logger.warning("transfer %s: could not reach the broker: %s", transfer_id, exc)
        Transfer.objects.filter(pk=transfer_id, status=TransferStatus.QUEUED).update(
            status=TransferStatus.FAILED, error=BROKER_DOWN, finished_at=timezone.now()
        )
        return False
    Transfer.objects.filter(pk=transfer_id).update(sent_at=timezone.now())
    return True


def samples_for_export(filters: dict[str, str]) -> QuerySet[Sample]:
    """The sample list as filtered on its page, in code order (the export's rows)."""
    code = filters.get("ancestor", "")
    ancestor = sample_by_code(code) if code else None
    return samples_list(
        kind=filters.get("kind", ""), status=filters.get("status", ""),
        search=filters.get("q", ""), ancestor=ancestor, include_void=filters.get("void") == "1",
    ).order_by("code")  # fmt: skip


def file_of(transfer: Transfer) -> Path | None:
    """The finished file of an export, None when there is none (not ready, failed, removed)."""
    if transfer.status != TransferStatus.SUCCEEDED or not transfer.file_path:
        return None
    path = Path(settings.MEDIA_ROOT) / transfer.file_path
    return path if path.is_file() else None


def content_type(transfer: Transfer) -> str:
    return CONTENT_TYPES.get(transfer.file_name.rpartition(".")[2], "application/octet-stream")


def import_report(transfer: Transfer) -> sample_import.ImportReport | None:
    """An import's report as saved by the worker."""
    data = transfer.result or {}
    if transfer.kind != TransferKind.IMPORT or "dry_run" not in data:
        return None
    pairs = {k: [tuple(p) for p in data.get(k, [])] for k in ("errors", "notes")}
    lists = {k: data.get(k, []) for k in ("created", "updated", "unchanged", "skipped")}
    return sample_import.ImportReport(dry_run=data["dry_run"], **lists, **pairs)


# --- worker side ------------------------------------------------------------------------------


def transfer_run(*, transfer_id: int, worker: str, redelivered: bool = False) -> str:
    """Claim the transfer (a redelivered message may take over a run whose worker died), build
    its file or run its import, and record the outcome; never leaves a partial file."""
    claimable = Q(status=TransferStatus.QUEUED)
    if redelivered:
        claimable |= Q(status=TransferStatus.RUNNING)
    claimed = Transfer.objects.filter(claimable, pk=transfer_id).update(
        status=TransferStatus.RUNNING, worker=worker[:200], started_at=timezone.now(),
        progress_percent=0, progress_message="started",
    )  # fmt: skip
    if not claimed:
        return "not claimed"
    transfer = Transfer.objects.select_related("requested_by").get(pk=transfer_id)
    try:
        with _acting_as(transfer.requested_by):
            fields = BUILDERS[transfer.kind](transfer, ProgressWriter(transfer.pk))
    except Exception as exc:  # every failure becomes a sentence on the transfer's page
        _fail(transfer, exc)
        return "failed"
    Transfer.objects.filter(pk=transfer.pk).update(
        status=TransferStatus.SUCCEEDED, progress_percent=100, progress_message="done",
        finished_at=timezone.now(), **fields,
    )  # fmt: skip
    return "succeeded"


@contextlib.contextmanager
def _acting_as(user) -> Iterator[None]:
    """Audit rows written on the worker (an import's) name who asked: there is no request
    for django-simple-history's middleware to take the user from."""
    context = HistoricalRecords.context
    previous = getattr(context, "request", None)
    context.request = SimpleNamespace(user=user)
    try:
        yield
    finally:
        if previous is None:
            del context.request
        else:
            context.request = previous


def _fail(transfer: Transfer, exc: Exception) -> None:
    if isinstance(exc, ValidationError):
        sentence = "; ".join(exc.messages)
    elif isinstance(exc, (PermissionDenied, CrateError, tabular.TableError)):
        sentence = str(exc)
    elif isinstance(exc, ObjectDoesNotExist):
        sentence = f"what was asked for no longer exists ({exc})"
    elif isinstance(exc, SoftTimeLimitExceeded):
        sentence = TIME_LIMIT.format(seconds=settings.CELERY_TASK_SOFT_TIME_LIMIT)
    else:
        logger.exception("transfer %s failed", transfer.pk)
        sentence = f"unexpected error: {type(exc).__name__}: {exc}"
    partial_file = _output(transfer)
    partial_file.with_name(partial_file.name + ".part").unlink(missing_ok=True)
    Transfer.objects.filter(pk=transfer.pk).update(
        status=TransferStatus.FAILED, error=sentence, finished_at=timezone.now()
    )


def _build_eln(transfer: Transfer, progress: Progress) -> dict:
    sample = Sample.objects.get(code=transfer.params["sample"])
    lineage = sample_lineage(sample)
    progress(0, 1, f"collecting the files of {len(lineage.samples)} samples")
    author = transfer.requested_by.get_username()
    with _writing(transfer) as path:
        exports.eln_write(
            path, lineage, author, lambda done, total: progress(done, total, "copying raw files")
        )
    return _finished_file(transfer)


def _build_samples(transfer: Transfer, progress: Progress) -> dict:
    pks = list(samples_for_export(transfer.params["filters"]).values_list("pk", flat=True))

    def rows() -> Iterator[list[str]]:
        for start in range(0, len(pks), CHUNK_ROWS):
            chunk = Sample.objects.filter(pk__in=pks[start : start + CHUNK_ROWS]).order_by("code")
            yield from sample_import.export_rows(chunk)
            progress(min(start + CHUNK_ROWS, len(pks)), len(pks), "writing rows")

    _write_table(transfer, sample_import.columns(), rows(), title="samples")
    return _finished_file(transfer)


def _build_admin(transfer: Transfer, progress: Progress) -> dict:
    from lims.admin_tools import export_columns, export_value

    model = apps.get_model(transfer.params["model"])
    modeladmin = admin.site._registry[model]
    columns, pks = export_columns(modeladmin), transfer.params["pks"]
    related = modeladmin.list_select_related

    def rows() -> Iterator[list[object]]:
        for start in range(0, len(pks), CHUNK_ROWS):
            queryset = model._default_manager.filter(pk__in=pks[start : start + CHUNK_ROWS])
            if related:
                queryset = queryset.select_related(*([] if related is True else related))
            by_pk = queryset.in_bulk()
            for pk in pks[start : start + CHUNK_ROWS]:
                if pk in by_pk:
                    yield [export_value(modeladmin, by_pk[pk], c) for c in columns]
            progress(min(start + CHUNK_ROWS, len(pks)), len(pks), "writing rows")

    _write_table(transfer, columns, rows(), title=model._meta.model_name)
    return _finished_file(transfer)


def _run_import(transfer: Transfer, progress: Progress) -> dict:
    """Read the uploaded file and import it; the file is removed afterwards either way."""
    params = transfer.params
    source = Path(settings.MEDIA_ROOT) / params["source"]
    progress(0, 1, f"reading {params['name']}")
    try:
        rows = tabular.read_table(source.read_bytes())
        report = sample_import.samples_import(
            rows=rows, mode=params["mode"], dry_run=params["dry_run"],
            user=transfer.requested_by, progress=progress,
        )  # fmt: skip
    finally:
        source.unlink(missing_ok=True)
    return {"result": report_json(report)}


BUILDERS: dict[str, Callable[[Transfer, Progress], dict]] = {
    TransferKind.ELN: _build_eln,
    TransferKind.SAMPLES: _build_samples,
    TransferKind.ADMIN: _build_admin,
    TransferKind.IMPORT: _run_import,
}


def report_json(report: sample_import.ImportReport) -> dict:
    names = ("dry_run", "created", "updated", "unchanged", "skipped", "errors", "notes")
    return {name: getattr(report, name, []) for name in names}


def _write_table(transfer: Transfer, header, rows, *, title: str) -> None:
    with _writing(transfer) as path:
        if transfer.file_name.endswith(".xlsx"):
            tabular.write_workbook(str(path), [(title, header, rows)])
        else:
            with path.open("wb") as out:
                tabular.write_csv_to(out, header, rows)


@contextlib.contextmanager
def _writing(transfer: Transfer) -> Iterator[Path]:
    """A .part file beside the final one, renamed into place only when complete."""
    final = _output(transfer)
    final.parent.mkdir(parents=True, exist_ok=True)
    part = final.with_name(final.name + ".part")
    try:
        yield part
    except BaseException:
        part.unlink(missing_ok=True)
        raise
    os.replace(part, final)


def _finished_file(transfer: Transfer) -> dict:
    path = _output(transfer)
    return {"file_path": _relative(path), "size_bytes": path.stat().st_size}


def folder(transfer: Transfer) -> Path:
    return Path(settings.MEDIA_ROOT) / TRANSFERS_DIR / str(transfer.pk)


def _output(transfer: Transfer) -> Path:
    return folder(transfer) / (transfer.file_name or "output")


def _relative(path: Path) -> str:
    return path.relative_to(Path(settings.MEDIA_ROOT)).as_posix()


def _safe_name(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", name).strip("._")[:200]


class ProgressWriter:
    """progress(done, in all, message) -> the transfer's percent and message, at most about once
    a second. Inside a transaction (an import saving its rows) it writes through a connection
    of its own, so the page sees it before the transaction ends; SQLite allows one writer at a
    time, so there it waits for the end."""

    def __init__(self, transfer_id: int, interval_s: float = 1.0):
        self.transfer_id, self.interval_s = transfer_id, interval_s
        self._last, self._percent = 0.0, -1

    def __call__(self, done: int, total: int, message: str = "") -> None:
        percent = min(99, int(100 * done / total)) if total else 0
        now = time.monotonic()
        if percent == self._percent or now - self._last < self.interval_s:
            return
        self._last, self._percent = now, percent
        fields = {"progress_percent": percent, "progress_message": message[:200]}
        if not connection.in_atomic_block:
            Transfer.objects.filter(pk=self.transfer_id).update(**fields)
        elif connection.vendor == "postgresql":
            writer = threading.Thread(target=self._write_aside, args=(fields,))
            writer.start()
            writer.join()

    def _write_aside(self, fields: dict) -> None:
        try:
            with transaction.atomic(), connection.cursor() as cursor:
                cursor.execute("SET LOCAL lock_timeout = '1s'")
                Transfer.objects.filter(pk=self.transfer_id).update(**fields)
        except DatabaseError:  # the row is locked by the import's own transaction (a test)
            pass
        finally:
            connection.close()


# --- housekeeping -----------------------------------------------------------------------------


def transfers_sweep(*, now=None) -> dict[str, int]:
    """Hourly (beat): remove the files of transfers finished more than keep_days() ago (the
    rows stay, saying so), and fail the ones no worker will finish (it died past the task's
    time limit, or the broker lost the message), so their pages stop waiting."""
    now = now or timezone.now()
    old = Transfer.objects.filter(finished_at__lt=now - timedelta(days=keep_days()))
    pks = list(old.exclude(file_path="").values_list("pk", flat=True))
    for pk in pks:
        shutil.rmtree(Path(settings.MEDIA_ROOT) / TRANSFERS_DIR / str(pk), ignore_errors=True)
    Transfer.objects.filter(pk__in=pks).update(
        file_path="", progress_message=f"file removed {keep_days()} days after it was made"
    )
    limit = timedelta(seconds=settings.CELERY_TASK_TIME_LIMIT + 300)
    lost = Transfer.objects.filter(
        Q(status=TransferStatus.RUNNING, started_at__lt=now - limit)
        | Q(status=TransferStatus.QUEUED, created_at__lt=now - limit)
    ).update(status=TransferStatus.FAILED, error=LOST, finished_at=now)
    return {"removed": len(pks), "lost": lost}
