"""Forms of the jobs pages: the job list's filter and the voltage-fade window."""

from __future__ import annotations

from django import forms

from characterization.forms import KilnFormMixin
from characterization.jobs.models import JobStatus
from characterization.jobs.queries import JobFilters


class JobFilterForm(forms.Form):
    status = forms.ChoiceField(
        choices=[("", "any status"), *JobStatus.choices], required=False, label="Status"
    )
    q = forms.CharField(
        required=False,
        label="Search",
        widget=forms.TextInput(attrs={"placeholder": "cell, measurement, file or analysis"}),
    )
    void = forms.BooleanField(required=False, label="Show void jobs")

    def filters(self) -> JobFilters:
        if not self.is_valid():
            return JobFilters()
        return JobFilters(
            status=self.cleaned_data["status"],
            q=self.cleaned_data["q"].strip(),
            void=self.cleaned_data["void"],
        )


class FadeWindowForm(KilnFormMixin, forms.Form):
    """Voltage fade over cycles first–last; both empty: the default window (from the first
    complete cycle after formation to the last complete one)."""

    first_cycle = forms.IntegerField(
        required=False,
        min_value=0,
        label="First cycle",
        widget=forms.NumberInput(attrs={"placeholder": "default", "step": 1, "min": 0}),
    )
    last_cycle = forms.IntegerField(
        required=False,
        min_value=0,
        label="Last cycle",
        widget=forms.NumberInput(attrs={"placeholder": "default", "step": 1, "min": 0}),
    )

    def clean(self):
        data = super().clean()
        first, last = data.get("first_cycle"), data.get("last_cycle")
        if first is not None and last is not None and first > last:
            self.add_error("last_cycle", f"The last cycle must not come before cycle {first}.")
        return data

    def parameters(self) -> dict:
        return {
            "first_cycle": self.cleaned_data["first_cycle"],
            "last_cycle": self.cleaned_data["last_cycle"],
        }
