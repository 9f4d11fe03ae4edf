"""Core pages: the dashboard, the nav sections' landing pages, /healthz and the worker check."""

from __future__ import annotations

import uuid

from django.contrib.auth.decorators import login_not_required
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods

from lims import queries
from lims.tasks import heartbeat


@login_not_required
@never_cache
@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    """JSON state of the database and the broker; 503 when either is down."""
    state = queries.system_health()
    ok = state["database"]["ok"] and state["broker"]["ok"]
    return JsonResponse({"status": "ok" if ok else "degraded", **state}, status=200 if ok else 503)


def dashboard(request: HttpRequest) -> HttpResponse:
    context = {
        "greeting": _greeting(),
        "role_label": queries.role_label(request.user),
        "cards": queries.dashboard_cards(),
        "health": queries.system_health(),
        "last_heartbeat": queries.last_heartbeat(),
    }
    return render(request, "lims/dashboard.html", context)


@require_http_methods(["GET", "POST"])
def worker_ping(request: HttpRequest) -> HttpResponse:
    """POST enqueues a heartbeat task; GET ?token= polls for the worker's answer (htmx)."""
    if request.method == "POST":
        token = uuid.uuid4().hex
        request.session[f"ping:{token}"] = timezone.now().isoformat()
        heartbeat.delay_on_commit(token)
        return render(request, "lims/_worker_ping.html", {"pending_token": token})
    token = request.GET.get("token", "")
    beat = queries.heartbeat_for(token)
    if beat is None:
        return render(request, "lims/_worker_ping.html", {"pending_token": token})
    sent = request.session.get(f"ping:{token}")
    seconds = (
        (beat.received_at - timezone.datetime.fromisoformat(sent)).total_seconds() if sent else 0
    )
    return render(
        request, "lims/_worker_ping.html", {"heartbeat": beat, "heartbeat_seconds": max(seconds, 0)}
    )


def section(request: HttpRequest, *, title: str, empty_text: str) -> HttpResponse:
    """Landing page of a navigation section whose records arrive with a later capability."""
    return render(request, "lims/section.html", {"title": title, "empty_text": empty_text})


def _greeting() -> str:
    hour = timezone.localtime().hour
    return "morning" if hour < 12 else "afternoon" if hour < 18 else "evening"
