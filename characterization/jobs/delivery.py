"""Which of Kiln's messages the job broker still holds, and sending again those it lost.

A queued job (or a file's inspection) whose message is neither waiting in Kiln's queue nor
delivered to a worker was lost by the broker: Redis restarted without persistence, or the
queue was purged. `recovery.jobs_recover` (every minute) sends such work again once it has been
queued for KILN_JOB_LOST_AFTER_S, and the job page says so. The broker is looked at twice,
LOOK_AGAIN_S apart, so that a message a worker is taking at that instant does not look lost;
work sent twice anyway runs once (the job's claim; an inspection skips a file already read).

Redis: the queue's lists (one per priority) and the hash of delivered, unacknowledged messages
(a worker holds those). The filesystem transport: the message files of the queue folder (a
taken message is running, and its job no longer queued). Another transport, or a broker that
does not answer: None, and a job is sent again only after KILN_JOB_STALE_S, as before.
"""

from __future__ import annotations

import base64
import json
import logging
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

from django.conf import settings
from django.utils import timezone

from characterization.jobs.models import AnalysisJob, JobStatus
from characterization.jobs.sending import INSPECT_TASK, JOB_TASK, job_send, raw_file_inspect_send
from characterization.models import RawFile, ReadState
from lims.celery import app

logger = logging.getLogger(__name__)

LOOK_AGAIN_S = 1.0
SENT_AGAIN = "(sent to a worker again"  # marks a file's read message once per re-send
MAX_INSPECTION_RESENDS = 3


@dataclass(frozen=True)
class Holdings:
    """The first argument (job or raw file id) of each Kiln message the broker holds."""

    ids: dict[str, frozenset[int]] = field(default_factory=dict)  # task name -> ids
    restarted_at: datetime | None = None  # Redis: when the broker last started

    def of(self, task: str) -> frozenset[int]:
        return self.ids.get(task, frozenset())


def broker_holdings(queue: str | None = None) -> Holdings | None:
    """What Kiln's queue holds (waiting or delivered), None when it cannot be looked into."""
    queue = queue or app.conf.task_default_queue
    try:
        with app.connection_for_read() as connection:
            connection.ensure_connection(max_retries=1)
            channel = connection.default_channel
            driver = connection.transport.driver_type
            if driver == "redis":
                payloads = list(_redis_payloads(channel, queue))
                restarted_at = _redis_started_at(channel.client)
            elif driver == "filesystem":
                payloads = list(_folder_payloads(Path(channel.data_folder_in), queue))
                restarted_at = None
            else:
                return None
    except Exception as exc:  # broker down or unreadable: recovery falls back to the stale rule
        logger.warning("could not look into the job broker's queue %s: %s", queue, exc)
        return None
    return Holdings(ids=_first_args(payloads), restarted_at=restarted_at)


def _redis_payloads(channel, queue: str) -> Iterator[dict]:
    names = dict.fromkeys(channel._q_for_pri(queue, pri) for pri in channel.priority_steps)
    pipe = channel.client.pipeline()
    for name in names:
        pipe.lrange(name, 0, -1)
    pipe.hvals(channel.unacked_key)
    *waiting, unacked = pipe.execute()
    for items in waiting:
        yield from _loads(items)
    for entry in _loads(unacked):  # [message, exchange, routing key]
        if isinstance(entry, list) and len(entry) == 3 and entry[2] == queue:
            yield entry[0]


def _redis_started_at(client) -> datetime | None:
    try:
        uptime_s = int(client.info("server")["uptime_in_seconds"])
    except Exception:  # an info command refused (a managed Redis): not said
        return None
    return timezone.now() - timedelta(seconds=uptime_s)


def _folder_payloads(folder: Path, queue: str) -> Iterator[dict]:
    for path in folder.iterdir():
        if path.name.partition(".")[2] != f"{queue}.msg":  # kombu's own naming test
            continue
        try:
            yield json.loads(path.read_bytes())
        except (OSError, ValueError):  # taken by a worker meanwhile
            continue


def _loads(items: Iterable) -> Iterator:
    for item in items:
        try:
            yield json.loads(item)
        except ValueError:
            continue


def _first_args(payloads: Iterable) -> dict[str, frozenset[int]]:
    found: dict[str, set[int]] = {JOB_TASK: set(), INSPECT_TASK: set()}
    for payload in payloads:
        if not isinstance(payload, dict):
            continue
        task = (payload.get("headers") or {}).get("task")
        if task in found:
            arg = _first_arg(payload)
            if isinstance(arg, int):
                found[task].add(arg)
    return {task: frozenset(ids) for task, ids in found.items()}


def _first_arg(payload: dict):
    """args[0] of a Celery (protocol 2) message body: [args, kwargs, embed]."""
    body = payload.get("body")
    try:
        if (payload.get("properties") or {}).get("body_encoding") == "base64":
            body = base64.b64decode(body)
        args = json.loads(body)[0]
        return args[0] if args else None
    except (ValueError, TypeError, IndexError, KeyError):
        return None


def confirmed_lost(task: str, ids: Iterable[int]) -> tuple[set[int], Holdings] | None:
    """Of `ids`, those the broker holds no message of `task` for, in two looks LOOK_AGAIN_S
    apart; None when the broker cannot be looked into."""
    first = broker_holdings()
    if first is None:
        return None
    absent = set(ids) - first.of(task)
    if not absent:
        return set(), first
    time.sleep(LOOK_AGAIN_S)
    second = broker_holdings()
    if second is None:
        return None
    return absent - second.of(task), second


# --- analysis jobs ----------------------------------------------------------------------------


def jobs_resend_lost(*, now: datetime) -> list[int]:
    """Send again the queued jobs sent KILN_JOB_LOST_AFTER_S ago or longer whose message the
    broker no longer holds (without a look into the broker: those sent KILN_JOB_STALE_S ago),
    saying so on the job; the ids sent."""
    sent_before = now - timedelta(seconds=settings.KILN_JOB_LOST_AFTER_S)
    suspects = dict(
        AnalysisJob.objects.filter(status=JobStatus.QUEUED, sent_at__lt=sent_before)
        .order_by("id")
        .values_list("pk", "sent_at")[:500]
    )
    if not suspects:
        return []
    looked = confirmed_lost(JOB_TASK, suspects)
    if looked is None:
        stale_before = now - timedelta(seconds=settings.KILN_JOB_STALE_S)
        lost = {pk for pk, sent in suspects.items() if sent < stale_before}
        restarted_at = None
    else:
        lost, holdings = looked
        restarted_at = holdings.restarted_at
    resent = []
    for pk in sorted(lost):
        why = lost_reason(restarted_at, suspects[pk]) if looked else _stale_reason()
        message = f"{why}; sent again at {_clock(now)}"
        # Still queued and not sent since we looked (another sweep may be at it): ours to send.
        mine = AnalysisJob.objects.filter(pk=pk, status=JobStatus.QUEUED, sent_at=suspects[pk])
        if mine.update(progress_message=message[:200], sent_at=now) and job_send(pk):
            resent.append(pk)
    return resent


def lost_reason(restarted_at: datetime | None, sent_at: datetime) -> str:
    """Why a job's message is gone, for the job page."""
    if restarted_at is not None and restarted_at > sent_at:
        return f"the job broker lost this job's message (it restarted at {_clock(restarted_at)})"
    return "the job broker lost this job's message (it was no longer in the queue)"


def _stale_reason() -> str:
    return f"no worker started this job in {settings.KILN_JOB_STALE_S // 60} minutes"


def _clock(moment: datetime) -> str:
    return timezone.localtime(moment).strftime("%H:%M")


# --- inspections of stored files --------------------------------------------------------------


def inspections_resend_lost(*, now: datetime) -> list[int]:
    """Send again the inspections of files still not read KILN_JOB_LOST_AFTER_S after upload
    whose message the broker does not hold (the broker was down at upload, or lost it), at
    most MAX_INSPECTION_RESENDS times a file (an inspection that keeps failing is not sent
    every minute); without a look into the broker, once. The ids sent."""
    unread = RawFile.objects.filter(read_state__in=[ReadState.PENDING, ReadState.RECOGNISED])
    old_enough = unread.filter(
        uploaded_at__lt=now - timedelta(seconds=settings.KILN_JOB_LOST_AFTER_S)
    ).order_by("-uploaded_at")
    waiting = {
        raw.pk: raw.read_message
        for raw in old_enough.only("pk", "read_message")[:500]
        if raw.read_message.count(SENT_AGAIN) < MAX_INSPECTION_RESENDS
    }
    if not waiting:
        return []
    looked = confirmed_lost(INSPECT_TASK, waiting)
    limit = 1 if looked is None else MAX_INSPECTION_RESENDS
    resent = []
    for pk in sorted(set(waiting) if looked is None else looked[0]):
        before = waiting[pk]
        if before.count(SENT_AGAIN) >= limit:
            continue
        marked = f"{before} {SENT_AGAIN} at {_clock(now)}: its message was not in the job broker)"
        # Unchanged since we looked (not read, not marked by another sweep): ours to send.
        if unread.filter(pk=pk, read_message=before).update(read_message=marked.strip()):
            raw_file_inspect_send(pk)
            resent.append(pk)
    return resent
