"""Forms of the synthesis pages. Values are checked here for the message on the field; the
services check again, and their ValidationErrors are put back on the fields (apply_errors)."""

from __future__ import annotations

import re

from django import forms
from django.core.exceptions import ValidationError

from lims.models import Sample
from lims.validators import bounded, check_form_fields
from synthesis import queries
from synthesis.chemistry import ChemistryError
from synthesis.models import (
    DEFAULT_TOLERANCE_PERCENT,
    BatchReagent,
    BatchStatus,
    BatchStepLog,
    Chemical,
    Lot,
    Recipe,
    SeriesParameter,
)
from synthesis.planning import BatchPlan, PlanInputs, plan_batch
from synthesis.services import STEP_LOG_FIELDS, Actual

DATE = forms.DateInput(attrs={"type": "date"})
DATETIME = forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M")


def apply_errors(form: forms.Form, err: ValidationError) -> None:
    """Put a service's ValidationError on the form's fields (unknown keys: on the form)."""
    if not hasattr(err, "error_dict"):
        form.add_error(None, err)
        return
    for key, messages in err.message_dict.items():
        form.add_error(key if key in form.fields else None, messages)


def _positive(form: forms.Form, name: str, label: str) -> None:
    value = form.cleaned_data.get(name)
    if value is not None and value <= 0:
        form.add_error(name, f"{label} must be greater than 0, got {value:g}.")


# --- inventory -----------------------------------------------------------------------------


class ChemicalForm(forms.ModelForm):
    class Meta:
        model = Chemical
        fields = [
            "name",
            "formula",
            "cas_number",
            "density_g_per_ml",
            "default_purity_percent",
            "grade",
            "hazard_notes",
        ]
        widgets = {"hazard_notes": forms.Textarea(attrs={"rows": 2})}


class LotChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, lot: Lot) -> str:
        label = f"{lot.supplier} {lot.lot_number} · {lot.purity_percent:g} % · "
        label += f"{lot.amount_left:.4g} {lot.amount_unit} left"
        if lot.expires_on:
            label += f" · exp. {lot.expires_on:%Y-%m-%d}"
            label += " (EXPIRED)" if lot.is_expired() else ""
        return label


class LotForm(forms.ModelForm):
    purity_percent = forms.FloatField(
        label="Purity (%)", required=False, help_text="Leave empty for the chemical's default."
    )
    amount_left = forms.FloatField(label="Amount received")

    class Meta:
        model = Lot
        fields = [
            "chemical",
            "supplier",
            "lot_number",
            "purity_percent",
            "amount_left",
            "amount_unit",
            "received_on",
            "opened_on",
            "expires_on",
            "location",
        ]
        widgets = {"received_on": DATE, "opened_on": DATE, "expires_on": DATE}

    def clean(self):
        data = super().clean()
        _positive(self, "amount_left", "The amount")
        unit = "lot_amount_ml" if data.get("amount_unit") == "mL" else "lot_amount_g"
        check_form_fields(
            self,
            [
                ("purity_percent", "purity_percent", data.get("purity_percent")),
                ("amount_left", unit, data.get("amount_left")),
            ],
        )
        return data

    def _post_clean(self) -> None:
        """The service validates the Lot (it needs its registry sample first)."""


# --- planning ------------------------------------------------------------------------------


class SubstrateField(forms.ModelChoiceField):
    def label_from_instance(self, sample: Sample) -> str:
        formula = f" — {sample.formula}" if sample.formula else " — no formula"
        return f"{sample.code} {sample.name}{formula}"


class BatchPlanForm(forms.Form):
    """Plan one batch of a recipe version; ``plan`` holds the quantities once valid."""

    def __init__(self, *args, recipe: Recipe, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.recipe = recipe
        self.lines = queries.recipe_lines(recipe)
        self.plan: BatchPlan | None = None
        self._add_size_fields()
        calcine = recipe.final_calcination()
        if calcine is not None:
            self.fields["calcination_temperature_c"] = forms.FloatField(
                label="Final calcination (°C)",
                required=False,
                initial=calcine.parameters.get("temperature_c"),
                validators=[bounded("calcination_temperature_c")],
            )
        self.fields["tolerance_percent"] = forms.FloatField(
            label="Deviation tolerance (%)",
            initial=DEFAULT_TOLERANCE_PERCENT,
            validators=[bounded("tolerance_percent")],
        )
        defaults = queries.default_lots(recipe)
        for line in self.lines:
            if line.chemical_id:
                self.fields[f"lot_{line.pk}"] = LotChoiceField(
                    queryset=queries.usable_lots(line.chemical_id),
                    required=False,
                    label=f"Lot of {line.name}",
                    initial=defaults.get(line.pk),
                    empty_label="— no lot recorded —",
                )
        self.fields["notes"] = forms.CharField(required=False, widget=forms.Textarea({"rows": 2}))

    def _add_size_fields(self) -> None:
        recipe = self.recipe
        if recipe.is_coating:
            self.fields["substrate"] = SubstrateField(
                queryset=queries.substrate_samples(),
                label="Substrate sample",
                empty_label="— choose the powder to coat —",
                error_messages={"required": "Choose the substrate sample to coat."},
            )
            self.fields["substrate_mass_g"] = forms.FloatField(
                label="Substrate mass (g)",
                widget=forms.NumberInput({"step": "any"}),
                error_messages={"required": "Enter the substrate mass (g)."},
                validators=[bounded("batch_mass_g", "substrate mass")],
            )
            self.fields["coating_wt_percent"] = forms.FloatField(
                label=f"Coating wt% ({recipe.get_coating_basis_display()})",
                initial=recipe.default_coating_wt_percent,
                widget=forms.NumberInput({"step": "any"}),
                error_messages={"required": "Enter the coating wt%."},
                validators=[bounded("coating_wt_percent")],
            )
        else:
            self.fields["target_mass_g"] = forms.FloatField(
                label=f"Mass of {recipe.product_formula} to make (g)",
                widget=forms.NumberInput({"step": "any"}),
                error_messages={"required": "Enter the mass of product to make (g)."},
                validators=[bounded("batch_mass_g", "target mass")],
            )

    def lot_fields(self):
        return [self[name] for name in self.fields if name.startswith("lot_")]

    def size_fields(self):
        names = (
            "substrate",
            "substrate_mass_g",
            "coating_wt_percent",
            "target_mass_g",
            "calcination_temperature_c",
            "tolerance_percent",
        )
        return [self[name] for name in names if name in self.fields]

    def inputs(self) -> PlanInputs:
        data = self.cleaned_data
        lots = {line.pk: data.get(f"lot_{line.pk}") for line in self.lines if line.chemical_id}
        return PlanInputs(
            target_mass_g=data.get("target_mass_g"),
            substrate=data.get("substrate"),
            substrate_mass_g=data.get("substrate_mass_g"),
            coating_wt_percent=data.get("coating_wt_percent"),
            calcination_temperature_c=data.get("calcination_temperature_c"),
            lots={k: v for k, v in lots.items() if v is not None},
        )

    def clean(self):
        data = super().clean()
        if not self.errors:
            self._plan()
        return data

    def _plan(self) -> None:
        try:
            self.plan = plan_batch(recipe=self.recipe, inputs=self.inputs())
        except ChemistryError as err:
            self.add_error(err.field if err.field in self.fields else None, err.message)


def parse_values(text: str) -> list[float]:
    """'0.5, 1, 2; 3' -> [0.5, 1.0, 2.0, 3.0]."""
    parts = [p for p in re.split(r"[,;\s]+", text.strip()) if p]
    values = []
    for part in parts:
        try:
            values.append(float(part))
        except ValueError:
            raise ValidationError(
                f"{part!r} is not a number; separate values with commas."
            ) from None
    return values


class SeriesForm(BatchPlanForm):
    """A plan form plus the parameter to vary and its values (one batch per value)."""

    def __init__(self, *args, recipe: Recipe, **kwargs) -> None:
        super().__init__(*args, recipe=recipe, **kwargs)
        choices = [
            (p.value, p.label)
            for p in SeriesParameter
            if p != SeriesParameter.COATING_WT_PERCENT or recipe.is_coating
        ]
        if recipe.final_calcination() is None:
            choices = [c for c in choices if c[0] != SeriesParameter.CALCINATION_TEMPERATURE_C]
        self.fields["parameter"] = forms.ChoiceField(choices=choices, label="Vary")
        self.fields["values"] = forms.CharField(
            label="Values",
            help_text="Comma-separated, e.g. 0.5, 1, 2, 3 or 650, 700, 750.",
            error_messages={"required": "List the values, e.g. 0.5, 1, 2, 3."},
        )
        self.fields["name"] = forms.CharField(required=False, label="Series name")
        self.order_fields(["parameter", "values", "name"])

    def clean_values(self) -> list[float]:
        return parse_values(self.cleaned_data["values"])

    def _plan(self) -> None:
        """Each value is planned by the service; the base inputs need not be complete here."""


# --- logging -------------------------------------------------------------------------------


class ActualsForm(forms.Form):
    """Weighed mass (g) and/or volume (mL) per reagent, and the lot actually used."""

    def __init__(self, *args, reagents: list[BatchReagent], **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.reagents = reagents
        for r in reagents:
            if r.planned_mass_g is not None or r.planned_volume_ml is None:
                self.fields[f"mass_{r.pk}"] = forms.FloatField(
                    required=False,
                    initial=r.actual_mass_g,
                    label=f"{r.line.name} (g)",
                    widget=forms.NumberInput({"step": "any", "placeholder": _ph(r.planned_mass_g)}),
                )
            if r.planned_volume_ml is not None:
                self.fields[f"volume_{r.pk}"] = forms.FloatField(
                    required=False,
                    initial=r.actual_volume_ml,
                    label=f"{r.line.name} (mL)",
                    widget=forms.NumberInput(
                        {"step": "any", "placeholder": _ph(r.planned_volume_ml)}
                    ),
                )
            if r.line.chemical_id:
                self.fields[f"lot_{r.pk}"] = LotChoiceField(
                    queryset=Lot.objects.filter(chemical_id=r.line.chemical_id),
                    required=False,
                    initial=r.lot_id,
                    label=f"Lot of {r.line.name}",
                    empty_label="— none —",
                )

    def rows(self):
        """(reagent, mass field, volume field, lot field) for the template."""
        get = self.fields.get
        return [
            (
                r,
                get(f"mass_{r.pk}") and self[f"mass_{r.pk}"],
                get(f"volume_{r.pk}") and self[f"volume_{r.pk}"],
                get(f"lot_{r.pk}") and self[f"lot_{r.pk}"],
            )
            for r in self.reagents
        ]

    def clean(self):
        data = super().clean()
        for r in self.reagents:
            check_form_fields(
                self,
                [
                    (
                        f"mass_{r.pk}",
                        "reagent_mass_g",
                        data.get(f"mass_{r.pk}"),
                        f"mass of {r.line.name}",
                    ),
                    (
                        f"volume_{r.pk}",
                        "reagent_volume_ml",
                        data.get(f"volume_{r.pk}"),
                        f"volume of {r.line.name}",
                    ),
                ],
            )
        return data

    def actuals(self) -> dict[int, Actual]:
        data = self.cleaned_data
        result = {}
        for r in self.reagents:
            mass, volume = data.get(f"mass_{r.pk}"), data.get(f"volume_{r.pk}")
            lot = data.get(f"lot_{r.pk}")
            if mass is not None or volume is not None or (lot and lot.pk != r.lot_id):
                result[r.pk] = Actual(mass_g=mass, volume_ml=volume, lot=lot)
        return result


def _ph(value: float | None) -> str:
    return f"{value:.4g}" if value is not None else ""


class StepLogForm(forms.ModelForm):
    class Meta:
        model = BatchStepLog
        fields = list(STEP_LOG_FIELDS)
        widgets = {
            "started_at": DATETIME,
            "ended_at": DATETIME,
            "notes": forms.Textarea({"rows": 1}),
        }
        labels = {"actual_temperature_c": "Actual temperature (°C)", "rpm": "Actual rpm"}

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        for name in ("started_at", "ended_at"):
            self.fields[name].input_formats = ["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M"]
        self.fields["actual_temperature_c"].validators.append(
            bounded("temperature_c", "actual temperature")
        )
        self.fields["rpm"].validators.append(bounded("rpm"))

    def _post_clean(self) -> None:
        """The service saves and validates; the form only parses."""


class CompleteForm(forms.Form):
    """The yield; the service also holds it to the theoretical yield of the batch."""

    yield_mass_g = forms.FloatField(
        label="Yield (g)",
        required=False,
        widget=forms.NumberInput({"step": "any"}),
        validators=[bounded("yield_mass_g")],
    )


class FailForm(forms.Form):
    reason = forms.CharField(
        widget=forms.Textarea({"rows": 2}), error_messages={"required": "Say what went wrong."}
    )


class BatchFilterForm(forms.Form):
    q = forms.CharField(required=False, label="Search")
    status = forms.ChoiceField(required=False, choices=[("", "any status"), *BatchStatus.choices])
    family = forms.ChoiceField(required=False, label="Recipe")
    operator = forms.ChoiceField(required=False)
    calcination_min_c = forms.FloatField(required=False, label="Calcined from (°C)")
    calcination_max_c = forms.FloatField(required=False, label="to (°C)")
    created_from = forms.DateField(required=False, label="Planned from", widget=DATE)
    created_to = forms.DateField(required=False, label="to", widget=DATE)
    void = forms.BooleanField(required=False, label="Show void batches")

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["family"].choices = [("", "any recipe")] + [
            (r.family, r.name) for r in queries.latest_recipes()
        ]
        self.fields["operator"].choices = [("", "anyone")] + [
            (u.pk, u.get_full_name() or u.get_username()) for u in queries.batch_operators()
        ]

    def filters(self) -> queries.BatchFilters:
        data = self.cleaned_data if self.is_valid() else {}
        operator = data.get("operator")
        return queries.BatchFilters(
            status=data.get("status", ""),
            family=data.get("family", ""),
            operator=int(operator) if operator else None,
            calcination_min_c=data.get("calcination_min_c"),
            calcination_max_c=data.get("calcination_max_c"),
            created_from=data.get("created_from"),
            created_to=data.get("created_to"),
            q=data.get("q", "").strip(),
            void=bool(data.get("void")),
        )


def lot_create_kwargs(data: dict) -> dict:
    """synthesis.services.lot_create's arguments from a lot form's cleaned data (the web form
    and the admin share it)."""
    return {
        "chemical": data["chemical"],
        "supplier": data["supplier"],
        "lot_number": data["lot_number"],
        "amount": data["amount_left"],
        "amount_unit": data["amount_unit"],
        "purity_percent": data["purity_percent"],
        "received_on": data["received_on"],
        "opened_on": data.get("opened_on"),
        "expires_on": data.get("expires_on"),
        "location": data.get("location", ""),
    }
