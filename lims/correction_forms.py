"""Forms of corrections and voids: every one asks for a reason (the audit trail keeps it)."""

from __future__ import annotations

from collections.abc import Mapping

from django import forms
from django.core.exceptions import ValidationError

from lims.validators import bounded
from lims.voiding import MAX_REASON_CHARS


def reason_field(label: str = "Reason for the correction") -> forms.CharField:
    return forms.CharField(
        label=label,
        max_length=MAX_REASON_CHARS,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text="Kept in the audit trail beside the change: “changed … because …”.",
    )


class VoidForm(forms.Form):
    reason = reason_field("Why is this record void?")


class SampleCorrectionForm(forms.Form):
    name = forms.CharField(max_length=200)
    location = forms.CharField(max_length=120, required=False)
    notes = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), required=False)
    reason = reason_field()


class StockCorrectionForm(forms.Form):
    delta_g = forms.FloatField(
        label="Change (g)",
        validators=[bounded("stock_correction_g")],
        widget=forms.NumberInput({"step": "any"}),
        help_text="Negative for powder lost or taken (spilled, sent for XRD), positive for "
        "powder found or returned.",
    )
    reason = reason_field("Reason for the stock correction")


def add_service_errors(
    form: forms.Form, exc: ValidationError, fields: Mapping[str, str] | None = None
) -> None:
    """A service's ValidationError next to the fields it names (`fields` renames keys)."""
    messages = exc.message_dict if hasattr(exc, "error_dict") else {"__all__": exc.messages}
    for key, texts in messages.items():
        name = (fields or {}).get(key, key)
        for text in texts:
            form.add_error(name if name in form.fields else None, text)


def changed_values(form: forms.Form, names) -> dict:
    """The cleaned values of `names` that differ from the form's initial ones."""
    return {n: form.cleaned_data[n] for n in names if form.cleaned_data[n] != form.initial.get(n)}
