"""A job's badge and progress (characterization/templatetags/kiln_job_status.py) are the
markup of the included templates they replaced (kept here as the reference), in every state."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
from django.template import Context, Template

from characterization.jobs.models import AnalysisJob, JobStatus

BADGE = '<span class="kiln-badge kiln-job-{{ job.status }}" data-testid="job-status" data-status="{{ job.status }}">{{ job.get_status_display }}</span>'  # noqa: E501
PROGRESS = """{% if job.is_active %}<div class="kiln-progress"><progress value="{{ job.progress_percent }}" max="100" aria-label="progress of job {{ job.pk }}"></progress><small>{{ job.progress_percent }} %{% if job.progress_message %} · {{ job.progress_message }}{% endif %}</small></div>
{% elif job.status == "failed" %}<span class="kiln-job-error">{{ job.error|truncatechars:220 }}</span>
{% elif job.status == "succeeded" %}<small>{% if job.reused %}reused an identical earlier result{% else %}done{% if job.duration_s is not None %} in {{ job.duration_s|floatformat:1 }} s{% endif %}{% endif %}</small>
{% else %}<small>{{ job.progress_message }}</small>{% endif %}"""  # noqa: E501
REFERENCE = Template(BADGE + PROGRESS)
OURS = Template("{% load kiln_job_status %}{% job_badge job %}{% job_progress job %}")

START = datetime(2026, 12, 2, 9, 0, tzinfo=UTC)
STATES = {
    "queued": {"status": JobStatus.QUEUED},
    "running": {"status": JobStatus.RUNNING, "progress_percent": 40,
                "progress_message": 'reading "<cell>.ndax" & co'},
    "failed": {"status": JobStatus.FAILED, "error": "The file <b>x</b> is cut. " * 20},
    "failed short": {"status": JobStatus.FAILED, "error": "cut"},
    "reused": {"status": JobStatus.SUCCEEDED, "reused": True},
    "done": {"status": JobStatus.SUCCEEDED, "started_at": START,
             "finished_at": START + timedelta(seconds=12.34)},
    "done, no times": {"status": JobStatus.SUCCEEDED},
    "cancelled": {"status": JobStatus.CANCELLED, "progress_message": "cancelled by ana"},
}  # fmt: skip


@pytest.mark.parametrize("state", STATES)
def test_badge_and_progress_match_the_included_templates(state):
    job = AnalysisJob(pk=4711, **STATES[state])
    ours, theirs = (t.render(Context({"job": job})) for t in (OURS, REFERENCE))
    assert re.sub(r"\s+", " ", ours).strip() == re.sub(r"\s+", " ", theirs).strip()
    assert "<b>" not in ours and "<cell>" not in ours
