"""The correction form of a batch: notes; on a closed batch what was weighed; once completed the
yield. Every field starts at the recorded value; only the changed ones are sent, with a reason."""

from __future__ import annotations

from django import forms

from lims.correction_forms import reason_field
from lims.validators import bounded
from synthesis.models import Batch, BatchReagent, BatchStatus
from synthesis.services import Actual

CLOSED = (BatchStatus.COMPLETED, BatchStatus.FAILED)


def _amount(label: str, bound: str, initial) -> forms.FloatField:
    return forms.FloatField(
        label=label,
        required=False,
        initial=initial,
        validators=[bounded(bound)],
        widget=forms.NumberInput({"step": "any"}),
    )


class BatchCorrectionForm(forms.Form):
    def __init__(self, *args, batch: Batch, reagents: list[BatchReagent], **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.batch = batch
        self.reagents = reagents if batch.status in CLOSED else []
        if batch.status == BatchStatus.COMPLETED:
            self.fields["yield_mass_g"] = _amount("Yield (g)", "yield_mass_g", batch.yield_mass_g)
        for r in self.reagents:
            if r.planned_mass_g is not None or r.actual_mass_g is not None:
                self.fields[f"mass_{r.pk}"] = _amount(
                    f"{r.line.name}: actual mass (g)", "reagent_mass_g", r.actual_mass_g
                )
            if r.planned_volume_ml is not None or r.actual_volume_ml is not None:
                self.fields[f"volume_{r.pk}"] = _amount(
                    f"{r.line.name}: actual volume (mL)", "reagent_volume_ml", r.actual_volume_ml
                )
        self.fields["notes"] = forms.CharField(
            widget=forms.Textarea({"rows": 3}), required=False, initial=batch.notes
        )
        self.fields["reason"] = reason_field()

    def _changed(self, name: str) -> bool:
        """Sent (a field left out of the request is left as it is) and different."""
        sent = name in self.fields and self.add_prefix(name) in self.data
        return sent and self.cleaned_data.get(name) != self.fields[name].initial

    def service_kwargs(self) -> dict:
        """batch_correct's arguments: only what differs from the record."""
        kwargs: dict = {"reason": self.cleaned_data["reason"]}
        for name in ("yield_mass_g", "notes"):
            if self._changed(name):
                kwargs[name] = self.cleaned_data[name]
        actuals = {
            r.pk: Actual(
                mass_g=self.cleaned_data.get(f"mass_{r.pk}", r.actual_mass_g),
                volume_ml=self.cleaned_data.get(f"volume_{r.pk}", r.actual_volume_ml),
            )
            for r in self.reagents
            if self._changed(f"mass_{r.pk}") or self._changed(f"volume_{r.pk}")
        }
        if actuals:
            kwargs["actuals"] = actuals
        return kwargs
