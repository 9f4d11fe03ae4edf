"""Forms of the API tokens on the profile page: each message names its field."""

from __future__ import annotations

import datetime

from django import forms
from django.utils import timezone

from lims.token_models import MAX_LIFETIME, TokenScope


def expiry_moment(day: datetime.date) -> datetime.datetime:
    """A token 'expiring on' a date stops working at the start of that day, lab time."""
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time.min))


class TokenCreateForm(forms.Form):
    name = forms.CharField(
        max_length=80,
        error_messages={
            "required": "Name: give the token a name (what or where it is used).",
            "max_length": "Name: at most 80 characters.",
        },
    )
    scope = forms.ChoiceField(
        choices=TokenScope.choices,
        error_messages={
            "required": "Scope: choose read, write or upload-only.",
            "invalid_choice": "Scope: choose read, write or upload-only.",
        },
    )
    expires_on = forms.DateField(
        required=False,
        error_messages={"invalid": "Expiry date: give a date as YYYY-MM-DD."},
    )

    def clean_name(self) -> str:
        name = self.cleaned_data["name"].strip()
        if not name:
            raise forms.ValidationError(self.fields["name"].error_messages["required"])
        return name

    def clean_expires_on(self) -> datetime.date | None:
        day = self.cleaned_data["expires_on"]
        today = timezone.localdate()
        if day is not None and day <= today:
            raise forms.ValidationError("Expiry date: must be after today.")
        if day is not None and day > today + MAX_LIFETIME:
            raise forms.ValidationError(
                f"Expiry date: at most one year ahead ({today + MAX_LIFETIME:%Y-%m-%d})."
            )
        return day

    @property
    def expires_at(self) -> datetime.datetime | None:
        day = self.cleaned_data.get("expires_on")
        return expiry_moment(day) if day else None


class TokenRevokeForm(forms.Form):
    token = forms.IntegerField(
        min_value=1,
        error_messages={
            "required": "Token: say which token to revoke.",
            "invalid": "Token: say which token to revoke.",
            "min_value": "Token: say which token to revoke.",
        },
    )
    # "lab": the revoke came from the lab managers' list of everyone's tokens, go back there
    back = forms.CharField(required=False)
