"""Every write to API tokens: create (the key returned once), revoke, and record a use."""

from __future__ import annotations

import datetime
import secrets

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from lims import rules
from lims.token_models import KEY_PREFIX, MAX_LIFETIME, SHOWN_CHARS, ApiToken, TokenScope, key_hash

TOUCH_EVERY = datetime.timedelta(minutes=1)  # last_used_at is written at most this often


def expiry_problem(expires_at: datetime.datetime | None, now: datetime.datetime) -> str:
    """'' when an expiry is acceptable (none, or in the future and within a year), else why."""
    if expires_at is None:
        return ""
    if expires_at <= now:
        return "Expiry date: must be in the future."
    if expires_at > now + MAX_LIFETIME:
        return "Expiry date: at most one year from today."
    return ""


@transaction.atomic
def api_token_create(
    *, user, name: str, scope: str, expires_at: datetime.datetime | None
) -> tuple[ApiToken, str]:
    """A new token for `user` and its key (shown once: only its SHA-256 is kept)."""
    errors = {}
    if not name.strip() or len(name) > 80:
        errors["name"] = ["Name: required, at most 80 characters."]
    if scope not in TokenScope.values:
        errors["scope"] = [f"Scope: one of {', '.join(TokenScope.values)}."]
    if problem := expiry_problem(expires_at, timezone.now()):
        errors["expires_at"] = [problem]
    if errors:
        raise ValidationError(errors)
    key = KEY_PREFIX + secrets.token_urlsafe(30)  # 30 bytes: 40 URL-safe characters
    token = ApiToken.objects.create(
        user=user,
        name=name.strip(),
        scope=scope,
        expires_at=expires_at,
        key_hash=key_hash(key),
        prefix=key[:SHOWN_CHARS],
    )
    return token, key


@transaction.atomic
def api_token_revoke(*, token: ApiToken, user) -> ApiToken:
    """Revoke `token` (its owner or a lab manager; PermissionDenied with a sentence otherwise).
    Revoking twice keeps the first time."""
    rules.require(user, "change", token)
    locked = ApiToken.objects.select_for_update().get(pk=token.pk)
    if locked.revoked_at is None:
        locked.revoked_at = timezone.now()
        locked.save(update_fields=["revoked_at"])
    return locked


def api_token_touch(*, token: ApiToken, now: datetime.datetime) -> None:
    """Record a use, at most once a minute: a harvester's every request need not write.
    One conditional UPDATE, so concurrent requests never write twice in the same minute."""
    if token.last_used_at is not None and now - token.last_used_at < TOUCH_EVERY:
        return
    stale = Q(last_used_at__isnull=True) | Q(last_used_at__lte=now - TOUCH_EVERY)
    ApiToken.objects.filter(stale, pk=token.pk).update(last_used_at=now)
    token.last_used_at = now
