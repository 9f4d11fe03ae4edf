"""The recipe editor: a header form, a formset of reagent lines and one of typed steps."""

from __future__ import annotations

from typing import Any

from django import forms
from django.core.exceptions import ValidationError

from synthesis.models import ReagentLine, Recipe
from synthesis.recipe_input import HEADER_FIELDS, LineData, RecipeData, StepData
from synthesis.steps import STEP_CHOICES, STEP_KINDS, Param, StepParameterError, clean_parameter

PARAM_PREFIX = "p_"


class RecipeForm(forms.ModelForm):
    class Meta:
        model = Recipe
        fields = list(HEADER_FIELDS)
        widgets = {"notes": forms.Textarea({"rows": 2})}

    def _post_clean(self) -> None:
        """recipe_input.check_recipe validates the whole recipe (lines and steps too)."""


class LineForm(forms.ModelForm):
    class Meta:
        model = ReagentLine
        fields = [
            "role",
            "name",
            "chemical",
            "formula",
            "purity_percent",
            "density_g_per_ml",
            "excess_element",
            "excess_percent",
            "in_stoichiometry",
            "fixed_amount",
            "fixed_unit",
            "notes",
        ]
        labels = {
            "in_stoichiometry": "in balance",
            "excess_element": "excess of",
            "purity_percent": "purity %",
            "density_g_per_ml": "g/mL",
            "excess_percent": "excess %",
            "fixed_amount": "fixed amount",
        }

    def _post_clean(self) -> None:
        pass

    def line_data(self) -> LineData:
        data = self.cleaned_data
        return LineData(
            **{name: data.get(name) for name in self.Meta.fields}
            | {k: data.get(k) or "" for k in ("formula", "excess_element", "fixed_unit", "notes")}
        )


def _param_field(kind_label: str, param: Param) -> forms.Field:
    unit = f" ({param.unit})" if param.unit else ""
    common: dict[str, Any] = {
        "label": f"{param.label}{unit}",
        "required": param.required and param.type != "bool",
        "error_messages": {"required": f"{kind_label} needs {param.label.lower()}{unit}."},
    }
    if param.type == "float":
        return forms.FloatField(widget=forms.NumberInput({"step": "any"}), **common)
    if param.type == "int":
        return forms.IntegerField(**common)
    if param.type == "choice":
        return forms.ChoiceField(choices=[("", "—"), *[(c, c) for c in param.choices]], **common)
    if param.type == "bool":
        return forms.BooleanField(**common)
    return forms.CharField(widget=forms.TextInput({"placeholder": param.example}), **common)


class StepForm(forms.Form):
    """A step whose parameter fields are those of its kind (``p_temperature_c``, ...)."""

    kind = forms.ChoiceField(choices=[("", "— step —"), *STEP_CHOICES])
    notes = forms.CharField(required=False, label="Instructions")

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        key = self.data.get(self.add_prefix("kind")) if self.is_bound else self.initial.get("kind")
        self.step_kind = STEP_KINDS.get(key or "")
        if self.step_kind is not None:
            for param in self.step_kind.params:
                field = _param_field(self.step_kind.label, param)
                self.fields[PARAM_PREFIX + param.name] = field

    @classmethod
    def initial_for(cls, kind: str, parameters: dict[str, Any], notes: str) -> dict[str, Any]:
        return {"kind": kind, "notes": notes} | {
            PARAM_PREFIX + name: value for name, value in parameters.items()
        }

    def param_fields(self):
        return [self[name] for name in self.fields if name.startswith(PARAM_PREFIX)]

    def clean(self):
        """Check every parameter, so all the bad ones are marked at once."""
        data = super().clean()
        if self.step_kind is None:
            return data
        self.parameters = {}
        for param in self.step_kind.params:
            name = PARAM_PREFIX + param.name
            if name in self.errors:
                continue
            try:
                value = clean_parameter(self.step_kind, param, data.get(name))
            except StepParameterError as err:
                self.add_error(name, err.message)
            else:
                if value is not None:
                    self.parameters[param.name] = value
        return data

    def step_data(self) -> StepData:
        return StepData(self.cleaned_data["kind"], self.parameters, self.cleaned_data["notes"])


LineFormSet = forms.formset_factory(LineForm, extra=1, can_delete=True)
StepFormSet = forms.formset_factory(StepForm, extra=1, can_delete=True)


class RecipeEditor:
    """The three parts of the editor, bound together; ``data()`` gives the RecipeData."""

    def __init__(self, post=None, *, recipe: Recipe | None = None, add: str = "") -> None:
        if post is not None and add:
            post = post.copy()
            key = f"{add}-TOTAL_FORMS"
            count = post.get(key, "0")
            post[key] = str(int(count) + 1) if count.isdigit() else count
        self.form = RecipeForm(post, instance=recipe)
        lines, steps = self._initial(recipe) if recipe else ([], [])
        self.lines = LineFormSet(post, prefix="lines", initial=lines)
        self.steps = StepFormSet(post, prefix="steps", initial=steps)

    @staticmethod
    def _initial(recipe: Recipe):
        lines = [
            {name: getattr(line, name) for name in LineForm.Meta.fields}
            for line in recipe.lines.order_by("order")
        ]
        steps = [
            StepForm.initial_for(s.kind, s.parameters, s.notes)
            for s in recipe.steps.order_by("order")
        ]
        return lines, steps

    def is_valid(self) -> bool:
        return all([self.form.is_valid(), self.lines.is_valid(), self.steps.is_valid()])

    def _kept(self, formset):
        """Saved rows stay even when untouched; a blank extra row is skipped."""
        initial = formset.initial_form_count()
        return [
            f
            for i, f in enumerate(formset.forms)
            if (i < initial or f.has_changed()) and not self._deleted(f)
        ]

    @staticmethod
    def _deleted(form) -> bool:
        return bool(form.cleaned_data.get("DELETE")) if hasattr(form, "cleaned_data") else False

    def data(self) -> RecipeData:
        header = {name: self.form.cleaned_data.get(name) for name in HEADER_FIELDS}
        for name in ("product_formula", "coating_formula", "notes", "volatile_elements"):
            header[name] = header[name] or ""
        return RecipeData(
            **header,
            lines=tuple(f.line_data() for f in self._kept(self.lines)),
            steps=tuple(f.step_data() for f in self._kept(self.steps)),
        )

    def apply_errors(self, err: ValidationError) -> None:
        """Keys from recipe_input: 'lines-<i>-<field>', 'steps-<i>-<param>', header fields."""
        if not hasattr(err, "error_dict"):
            self.form.add_error(None, err)
            return
        kept = {"lines": self._kept(self.lines), "steps": self._kept(self.steps)}
        for key, messages in err.message_dict.items():
            part, _, rest = key.partition("-")
            if part in kept and rest:
                index, _, field = rest.partition("-")
                form = kept[part][int(index)]
                name = field if field in form.fields else PARAM_PREFIX + field
                form.add_error(name if name in form.fields else None, messages)
            else:
                self.form.add_error(key if key in self.form.fields else None, messages)
