"""`{% job_badge job %}` and `{% job_progress job %}`: a job's status badge and its progress
or outcome, as the job lists, the measurement's analyses and the job page show them. Tags, not
included templates: two includes per row of the 50-row job list were its dearest nodes."""

from __future__ import annotations

from django import template
from django.template.defaultfilters import floatformat
from django.utils.html import format_html
from django.utils.safestring import SafeString, mark_safe
from django.utils.text import Truncator

register = template.Library()

ERROR_CHARS = 220  # a failed job's message in a list; the job page shows all of it


@register.simple_tag
def job_badge(job) -> SafeString:
    return format_html(
        '<span class="kiln-badge kiln-job-{}" data-testid="job-status" data-status="{}">{}</span>',
        job.status, job.status, job.get_status_display(),
    )  # fmt: skip


@register.simple_tag
def job_progress(job) -> SafeString:
    if job.is_active:
        message = format_html(" · {}", job.progress_message) if job.progress_message else ""
        return format_html(
            '<div class="kiln-progress"><progress value="{}" max="100" aria-label="progress of '
            'job {}"></progress><small>{} %{}</small></div>',
            job.progress_percent, job.pk, job.progress_percent, message,
        )  # fmt: skip
    if job.status == "failed":
        return format_html(
            '<span class="kiln-job-error">{}</span>', Truncator(job.error).chars(ERROR_CHARS)
        )
    if job.status == "succeeded":
        if job.reused:
            return mark_safe("<small>reused an identical earlier result</small>")
        took = "" if job.duration_s is None else f" in {floatformat(job.duration_s, 1)} s"
        return format_html("<small>done{}</small>", took)
    return format_html("<small>{}</small>", job.progress_message)
