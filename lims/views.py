"""Core pages: the dashboard, the nav sections' landing pages, /healthz and the worker check."""

from __future__ import annotations

import uuid

from django.contrib.auth.decorators import login_not_required
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods

from characterization import storage_check
from characterization.jobs.sending import SEND_RETRY_POLICY
from lims import queries, rules
from lims.tasks import heartbeat

ROLE_SENTENCES = {
    rules.VIEWER: "Viewer: you read every record and change none.",
    rules.CHEMIST: "Chemist: you create records and change those you own or operate.",
    rules.MANAGER: "Lab manager: you change any record and manage recipes, chemicals, "
    "instruments, analyses and users.",
    rules.NO_ROLE: "No role yet: you see only this page until a lab manager adds you to a group "
    "(viewer, chemist or lab-manager).",
}
BROKER_DOWN_PING = "The job broker is not reachable, so no worker can be asked; try again later"
ROLE_LABELS = {rules.VIEWER: "Viewer", rules.CHEMIST: "Chemist", rules.MANAGER: "Lab manager"}


@login_not_required
@never_cache
@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    """JSON state of the database and the broker; 503 when either is down."""
    state = queries.system_health()
    ok = state["database"]["ok"] and state["broker"]["ok"]
    return JsonResponse({"status": "ok" if ok else "degraded", **state}, status=200 if ok else 503)


@require_GET
def dashboard(request: HttpRequest) -> HttpResponse:
    context = {
        "greeting": _greeting(),
        "role_label": ROLE_LABELS.get(rules.role_of(request.user), "Guest"),
        "cards": queries.dashboard_cards(),
        "health": queries.system_health(),
        "last_heartbeat": queries.last_heartbeat(),
    }
    if rules.role_of(request.user) == rules.MANAGER:  # the file store's weekly check
        context.update(show_storage=True, storage=storage_check.latest_report())
    return render(request, "lims/dashboard.html", context)


@rules.guard("run", "lims.workerping")
@require_http_methods(["GET", "POST"])
def worker_ping(request: HttpRequest) -> HttpResponse:
    """POST enqueues a heartbeat task; GET ?token= polls for the worker's answer (htmx)."""
    if request.method == "POST":
        token = uuid.uuid4().hex
        try:  # nothing to roll back: sent at once, not on commit; a short retry, as for jobs
            heartbeat.apply_async(args=[token], retry=True, retry_policy=SEND_RETRY_POLICY)
        except Exception as exc:  # the broker is down: say so instead of a 500
            reason = (str(exc).splitlines() or [type(exc).__name__])[0]
            context = {"broker_error": f"{BROKER_DOWN_PING} ({reason})."}
            return render(request, "lims/_worker_ping.html", context)
        request.session[f"ping:{token}"] = timezone.now().isoformat()
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


@rules.role_not_required
@require_GET
def profile(request: HttpRequest) -> HttpResponse:
    """Who you are and what your role lets you do (the one page a user without a role sees)."""
    user = request.user
    context = {
        "groups": list(user.groups.order_by("name").values_list("name", flat=True)),
        "role_sentence": ROLE_SENTENCES[rules.role_of(user)],
    }
    return render(request, "lims/profile.html", context)


def section(request: HttpRequest, *, title: str, empty_text: str) -> HttpResponse:
    """Landing page of a navigation section whose records arrive with a later capability."""
    return render(request, "lims/section.html", {"title": title, "empty_text": empty_text})


def _greeting() -> str:
    hour = timezone.localtime().hour
    return "morning" if hour < 12 else "afternoon" if hour < 18 else "evening"
