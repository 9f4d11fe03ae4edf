"""Everyone's API tokens, for lab managers: who holds which key, what it may do, when it was
last used, and a revoke button (the same revoke as on the profile page; rules decide per token).

Reading the list is a lab manager's (tokens are people's credentials: rules.MANAGER_READ)."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from lims import rules
from lims.token_queries import TokenFilters, lab_tokens

SHOWN = 500  # a lab has tens of tokens; more than this is said, never cut silently


@rules.guard("read", "auth.user")
def token_list_all(request: HttpRequest) -> HttpResponse:
    filters = TokenFilters.from_query(request.GET)
    rows = list(lab_tokens(filters)[: SHOWN + 1])
    context = {
        "tokens": rows[:SHOWN],
        "more": len(rows) > SHOWN,
        "shown": SHOWN,
        "filters": filters,
        "states": ("active", "expired", "revoked"),
    }
    return render(request, "lims/lab_tokens.html", context)
