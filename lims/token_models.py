"""API tokens a user makes and revokes on their profile page (imported by lims.models).

The key (`kiln_` + 40 URL-safe characters) is shown once, at creation; the database keeps only
its SHA-256 and a short prefix to tell tokens apart in a list. A token never does more than
its user's role allows; its scope narrows that further (lims.api_permissions)."""

from __future__ import annotations

import datetime
import hashlib

from django.conf import settings
from django.db import models
from django.utils import timezone
from simple_history.models import HistoricalRecords

KEY_PREFIX = "kiln_"
SHOWN_CHARS = 12  # "kiln_" + 7 characters: enough to recognise a token, far too few to guess
MAX_LIFETIME = datetime.timedelta(days=365)


def key_hash(key: str) -> str:
    """The SHA-256 (hex) of a key: what is stored, and what a request is looked up by."""
    return hashlib.sha256(key.encode()).hexdigest()


class TokenScope(models.TextChoices):
    READ = "read", "Read"
    WRITE = "write", "Write"
    UPLOAD = "upload", "Upload-only"


class ApiToken(models.Model):
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_tokens"
    )
    name = models.CharField(max_length=80)
    scope = models.CharField(max_length=8, choices=TokenScope.choices)
    key_hash = models.CharField(max_length=64, unique=True, editable=False)
    prefix = models.CharField(max_length=SHOWN_CHARS, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField(null=True, blank=True)
    last_used_at = models.DateTimeField(null=True, blank=True, editable=False)
    revoked_at = models.DateTimeField(null=True, blank=True, editable=False)
    # who made and who revoked it; uses are counted by an UPDATE, which writes no history
    history = HistoricalRecords(excluded_fields=["key_hash", "last_used_at"])

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = "token"
        constraints = [
            models.CheckConstraint(
                condition=models.Q(scope__in=TokenScope.values), name="apitoken_scope_known"
            ),
            models.CheckConstraint(
                condition=models.Q(expires_at__isnull=True)
                | models.Q(expires_at__gt=models.F("created_at")),
                name="apitoken_expires_after_creation",
            ),
        ]

    def __str__(self) -> str:
        return f"“{self.name}” ({self.prefix}…)"

    def refusal(self, now: datetime.datetime) -> str:
        """Why the token may not be used at `now` ('' when it may)."""
        if self.revoked_at is not None:
            return f"This API token was revoked on {_utc(self.revoked_at)}."
        if self.expires_at is not None and self.expires_at <= now:
            return f"This API token expired on {_utc(self.expires_at)}."
        if not self.user.is_active:
            return "The account this API token belongs to is inactive."
        return ""

    @property
    def state(self) -> str:
        """'active', 'revoked' or 'expired' (the list on the profile page)."""
        if self.revoked_at is not None:
            return "revoked"
        if self.expires_at is not None and self.expires_at <= timezone.now():
            return "expired"
        return "active"


def _utc(moment: datetime.datetime) -> str:
    return f"{moment.astimezone(datetime.UTC):%Y-%m-%d %H:%M} UTC"
