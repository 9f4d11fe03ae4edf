"""Reading API tokens: the lab managers' list of everyone's, filtered by user, scope and state."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from django.db.models import Q, QuerySet
from django.utils import timezone

from lims.token_models import ApiToken, TokenScope

STATES = ("active", "expired", "revoked")


@dataclass(frozen=True)
class TokenFilters:
    user: str = ""  # username contains
    scope: str = ""  # one of TokenScope, else ignored
    state: str = ""  # one of STATES, else ignored

    @classmethod
    def from_query(cls, query: Mapping[str, str]) -> TokenFilters:
        scope = query.get("scope", "")
        state = query.get("state", "")
        return cls(
            user=query.get("user", "").strip()[:150],
            scope=scope if scope in TokenScope.values else "",
            state=state if state in STATES else "",
        )


def lab_tokens(filters: TokenFilters) -> QuerySet[ApiToken]:
    """Every user's tokens, newest first, with their user (one query)."""
    now = timezone.now()
    expired = Q(revoked_at__isnull=True, expires_at__lte=now)
    by_state = {
        "revoked": Q(revoked_at__isnull=False),
        "expired": expired,
        "active": Q(revoked_at__isnull=True) & (Q(expires_at__isnull=True) | Q(expires_at__gt=now)),
    }
    tokens = ApiToken.objects.select_related("user").order_by("-created_at", "-id")
    if filters.user:
        tokens = tokens.filter(user__username__icontains=filters.user)
    if filters.scope:
        tokens = tokens.filter(scope=filters.scope)
    if filters.state:
        tokens = tokens.filter(by_state[filters.state])
    return tokens
