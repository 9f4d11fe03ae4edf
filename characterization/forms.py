"""Forms of the characterization pages: they parse input; the services judge it."""

from __future__ import annotations

import json

from django import forms
from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils import timezone

from characterization import queries
from characterization.analysis.electrode import LAB_ONE_C_MA_PER_G
from characterization.analysis.errors import AnalysisError
from characterization.analysis.structure import Reading, parse_reading
from characterization.models import (
    CastingMethod,
    CellFormat,
    ElectrodeRole,
    MeasurementType,
    OriginSetting,
)
from characterization.services import MAX_CELLS_PER_BATCH, DiscRow
from lims import quantities
from lims.models import Sample
from lims.validators import bounded
from synthesis.models import Lot

DRYING_ROWS = 3


def _date_input() -> forms.DateInput:
    """An <input type=date>: it only shows an initial value in ISO format."""
    return forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


DATETIME_LOCAL = "%Y-%m-%dT%H:%M"


class KilnFormMixin:
    """Marks fields with errors aria-invalid (Pico colours them) and maps service errors."""

    #: service argument -> form field, where their names differ
    error_fields: dict[str, str] = {}

    def add_error(self, field, error):
        super().add_error(field, error)
        names = [field] if field else []
        if isinstance(error, ValidationError) and hasattr(error, "error_dict"):
            names = list(error.error_dict)
        for name in names:
            if name in self.fields:
                self.fields[name].widget.attrs["aria-invalid"] = "true"

    def add_service_errors(self, exc: ValidationError) -> None:
        """Show a service's ValidationError next to the fields it names."""
        for key, messages in exc.message_dict.items():
            field = self.error_fields.get(key, key)
            for message in messages:
                self.add_error(field if field in self.fields else None, message)


def _number(label: str, *, required: bool = True, bound: str = "", step="any", **kwargs):
    """A number field held to the bounds of ``bound`` (a key of lims.quantities.BOUNDS)."""
    validators = [bounded(bound, kwargs.pop("bound_label", None))] if bound else []
    return forms.FloatField(
        label=label,
        required=required,
        validators=validators,
        widget=forms.NumberInput(attrs={"step": step}),
        **kwargs,
    )


class SampleCodeField(forms.CharField):
    """A sample chosen by its code (CAT-2026-0042), from a queryset."""

    def __init__(self, *, queryset_fn, **kwargs):
        self.queryset_fn = queryset_fn
        super().__init__(max_length=32, **kwargs)

    def clean(self, value):
        code = super().clean(value).strip().upper()
        if not code:
            return None
        sample = self.queryset_fn().filter(code=code).first()
        if sample is None:
            raise ValidationError(f"no sample with the code {code}")
        return sample


class ElectrodeForm(KilnFormMixin, forms.Form):
    active_material = forms.ModelChoiceField(
        label="Active material (cathode powder)",
        queryset=Sample.objects.none(),
        to_field_name="code",
        empty_label="— choose a powder —",
    )
    name = forms.CharField(max_length=200, required=False, help_text="Blank: “<powder> electrode”.")
    ratio_active_percent = _number(
        "Active material (mass %)",
        initial=80,
        bound="ratio_percent",
        bound_label="active material part of the ratio",
    )
    ratio_carbon_percent = _number(
        "Carbon (mass %)", initial=10, bound="ratio_percent", bound_label="carbon part"
    )
    ratio_binder_percent = _number(
        "Binder (mass %)", initial=10, bound="ratio_percent", bound_label="binder part"
    )
    active_mass_g = _number("Active material used (g)", bound="slurry_active_mass_g")
    solid_content_percent = _number(
        "Solid content (mass %)", initial=40, bound="solid_content_percent"
    )
    carbon_name = forms.CharField(label="Conductive carbon", max_length=120, initial="carbon black")
    carbon_lot = forms.ModelChoiceField(
        label="Carbon lot", queryset=Lot.objects.none(), required=False, empty_label="— none —"
    )
    binder_name = forms.CharField(label="Binder", max_length=120, initial="PVDF")
    binder_lot = forms.ModelChoiceField(
        label="Binder lot", queryset=Lot.objects.none(), required=False, empty_label="— none —"
    )
    solvent = forms.CharField(max_length=60, initial="NMP")
    current_collector = forms.CharField(max_length=60, initial="Al foil")
    collector_thickness_um = _number(
        "Collector thickness (µm)", required=False, initial=16, bound="collector_thickness_um"
    )
    particle_d50_um = _number(
        "Active particle size D50 (µm)",
        required=False,
        help_text="Optional; PITT takes half of it as the diffusion length.",
        bound="particle_d50_um",
    )
    casting_method = forms.ChoiceField(choices=CastingMethod.choices)
    casting_thickness_um = _number(
        "Blade gap / wet thickness (µm)", initial=200, bound="casting_thickness_um"
    )
    disc_diameter_mm = _number("Disc diameter (mm)", initial=12, bound="disc_diameter_mm")
    foil_disc_mass_mg = _number(
        "Bare foil disc mass (mg)",
        required=False,
        help_text="The usual one for this sheet.",
        bound="foil_disc_mass_mg",
    )
    one_c_ma_per_g = _number("1C (mA/g)", initial=LAB_ONE_C_MA_PER_G, bound="one_c_ma_per_g")
    made_on = forms.DateField(widget=_date_input())
    notes = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}), required=False)

    error_fields = {"ratio": "ratio_active_percent"}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["active_material"].queryset = queries.cathode_powders()
        self.fields["carbon_lot"].queryset = queries.inventory_lots()
        self.fields["binder_lot"].queryset = queries.inventory_lots()
        self.fields["made_on"].initial = timezone.localdate()
        defaults = [(80.0, None, False), (120.0, 12.0, True), (None, None, False)]
        for index in range(DRYING_ROWS):
            temperature, hours, vacuum = defaults[index]
            which = f"drying step {index + 1}"
            self.fields[f"drying_{index}_temperature_c"] = _number(
                "°C",
                required=False,
                initial=temperature,
                bound="drying_temperature_c",
                bound_label=f"{which}: the temperature",
            )
            self.fields[f"drying_{index}_duration_h"] = _number(
                "hours",
                required=False,
                initial=hours,
                bound="duration_h",
                bound_label=f"{which}: the time",
            )
            self.fields[f"drying_{index}_vacuum"] = forms.BooleanField(
                label="vacuum", required=False, initial=vacuum
            )

    def drying_rows(self) -> list[tuple]:
        """(temperature, hours, vacuum) bound fields per drying step, for the template."""
        return [
            (
                self[f"drying_{i}_temperature_c"],
                self[f"drying_{i}_duration_h"],
                self[f"drying_{i}_vacuum"],
            )
            for i in range(DRYING_ROWS)
        ]

    def service_kwargs(self) -> dict:
        data = dict(self.cleaned_data)
        data["ratio"] = (
            data.pop("ratio_active_percent"),
            data.pop("ratio_carbon_percent"),
            data.pop("ratio_binder_percent"),
        )
        steps = []
        for index in range(DRYING_ROWS):
            temperature = data.pop(f"drying_{index}_temperature_c")
            hours = data.pop(f"drying_{index}_duration_h")
            vacuum = data.pop(f"drying_{index}_vacuum")
            if temperature is not None:
                steps.append({"temperature_c": temperature, "duration_h": hours, "vacuum": vacuum})
        data["drying_steps"] = steps
        return data


class CellBatchForm(KilnFormMixin, forms.Form):
    """The fields a batch of cells from one electrode sheet shares."""

    cell_format = forms.ChoiceField(label="Format", choices=CellFormat.choices, initial="2025")
    foil_disc_mass_mg = _number(
        "Bare foil disc mass (mg)",
        required=False,
        help_text="For every disc unless a row gives its own.",
        bound="foil_disc_mass_mg",
    )
    counter_electrode = forms.CharField(max_length=80, initial="Li metal")
    separator = forms.CharField(max_length=80, initial="Celgard 2400")
    electrolyte_name = forms.CharField(
        label="Electrolyte", max_length=120, initial="1 M LiPF6 in EC:DMC (1:1 v/v)"
    )
    electrolyte_volume_ul = _number("Electrolyte (µL)", initial=60, bound="electrolyte_volume_ul")
    glovebox_o2_ppm = _number("Glove-box O₂ (ppm)", required=False, bound="glovebox_o2_ppm")
    glovebox_h2o_ppm = _number("Glove-box H₂O (ppm)", required=False, bound="glovebox_h2o_ppm")
    one_c_ma_per_g = _number("1C (mA/g)", bound="one_c_ma_per_g")
    electrode_role = forms.TypedChoiceField(
        label="Working electrode",
        choices=ElectrodeRole.choices,
        initial=ElectrodeRole.CATHODE,
        required=False,
        empty_value=ElectrodeRole.CATHODE,
        help_text="A cathode half-cell charges first; an anode half-cell lithiates first.",
    )
    built_on = forms.DateField(label="Built on", widget=_date_input())
    notes = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}), required=False)

    def __init__(self, *args, electrode, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["foil_disc_mass_mg"].initial = electrode.foil_disc_mass_mg
        self.fields["one_c_ma_per_g"].initial = electrode.one_c_ma_per_g
        self.fields["built_on"].initial = timezone.localdate()


class DiscRowForm(KilnFormMixin, forms.Form):
    disc_mass_mg = _number("Disc mass (mg)", required=False, step="0.001", bound="disc_mass_mg")
    foil_disc_mass_mg = _number(
        "Own foil mass (mg)", required=False, step="0.001", bound="foil_disc_mass_mg"
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        suffix = (self.prefix or "").rsplit("-", 1)[-1]
        which = f"cell {int(suffix) + 1}" if suffix.isdigit() else "new cell"
        for name, field in self.fields.items():
            field.widget.attrs["aria-label"] = f"{field.label}, {which}"
            if name == "disc_mass_mg":
                field.widget.attrs["inputmode"] = "decimal"


DiscRowFormSet = forms.formset_factory(
    DiscRowForm, extra=0, max_num=MAX_CELLS_PER_BATCH, validate_max=True
)


def disc_rows_formset(data=None, *, rows: int = 4):
    """`rows` empty disc rows (unbound), or the posted rows."""
    if data is not None:
        return DiscRowFormSet(data, prefix="discs")
    return DiscRowFormSet(prefix="discs", initial=[{}] * max(1, min(rows, MAX_CELLS_PER_BATCH)))


def disc_rows(formset) -> tuple[list[DiscRow], list[int]]:
    """The filled rows as DiscRow, and the index of the form each came from."""
    rows, indices = [], []
    for index, form in enumerate(formset.forms):
        mass = form.cleaned_data.get("disc_mass_mg")
        foil = form.cleaned_data.get("foil_disc_mass_mg")
        if mass is None and foil is None:
            continue
        if mass is None:
            form.add_error("disc_mass_mg", "enter the disc mass (or clear the row)")
            continue
        rows.append(DiscRow(mass, foil))
        indices.append(index)
    return rows, indices


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    def __init__(self, *args, **kwargs):
        kwargs.setdefault("widget", MultipleFileInput())
        super().__init__(*args, **kwargs)

    def clean(self, data, initial=None):
        files = list(data) if isinstance(data, list | tuple) else [data] if data else []
        for upload in files:
            if upload is not None and not getattr(upload, "size", 1):
                raise ValidationError(f"{upload.name} is empty: nothing was saved.")
        if not files:
            return [super().clean(None, initial)] if self.required else []
        return [super(MultipleFileField, self).clean(upload, initial) for upload in files]


def _key_value_lines(text: str, *, number: bool) -> dict:
    """'name: value' (or 'name = value') per line -> dict; values as floats when `number`."""
    out: dict = {}
    for line_no, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line:
            continue
        sep = ":" if ":" in line else "=" if "=" in line else None
        if sep is None:
            raise ValidationError(f"line {line_no}: write “name: value”")
        key, value = (part.strip() for part in line.split(sep, 1))
        if not key or not value:
            raise ValidationError(f"line {line_no}: write “name: value”")
        if number:
            try:
                out[key] = float(value)
            except ValueError as exc:
                raise ValidationError(f"line {line_no}: {value!r} is not a number") from exc
        else:
            out[key] = _scalar(value)
    return out


def _scalar(value: str):
    try:
        return json.loads(value)
    except ValueError:
        return value


class MeasurementForm(KilnFormMixin, forms.Form):
    subject = SampleCodeField(
        label="Sample measured (code)", queryset_fn=queries.measurable_samples
    )
    measurement_type = forms.ChoiceField(label="Type", choices=MeasurementType.choices)
    instrument = forms.CharField(max_length=120, required=False)
    measured_at = forms.DateTimeField(
        label="Measured at",
        input_formats=[DATETIME_LOCAL, "%Y-%m-%d %H:%M", "%Y-%m-%d %H:%M:%S"],
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format=DATETIME_LOCAL),
    )
    voltage_min_v = _number(
        "Lower voltage (V)", required=False, bound="cell_voltage_v", bound_label="lower voltage"
    )
    voltage_max_v = _number(
        "Upper voltage (V)", required=False, bound="cell_voltage_v", bound_label="upper voltage"
    )
    c_rates = forms.CharField(
        label="C-rates", required=False, help_text="Comma-separated, e.g. 0.05, 0.1, 0.2"
    )
    temperature_c = _number("Temperature (°C)", required=False, bound="temperature_c")
    sample_mass_mg = _number(
        "Sample mass (mg)",
        required=False,
        help_text="DSC/TGA: the mass in the pan.",
        bound="sample_mass_mg",
    )
    other_conditions = forms.CharField(
        label="Other conditions",
        required=False,
        widget=forms.Textarea(attrs={"rows": 2, "placeholder": "2θ range: 10–80°\nscan: 1°/min"}),
        help_text="One “name: value” per line.",
    )
    notes = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}), required=False)
    files = MultipleFileField(label="Raw files", required=False)

    error_fields = {"conditions": "other_conditions"}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["measured_at"].initial = timezone.localtime().replace(second=0, microsecond=0)
        self.fields["files"].help_text = _files_help()

    def clean_c_rates(self) -> list[float]:
        text = self.cleaned_data["c_rates"].replace(";", ",")
        rates = []
        for part in filter(None, (p.strip().upper().removesuffix("C") for p in text.split(","))):
            try:
                rates.append(float(part))
            except ValueError as exc:
                raise ValidationError(f"{part!r} is not a C-rate") from exc
        found = quantities.problems(("c_rates", "c_rate", rate) for rate in rates)
        if found:
            raise ValidationError(found["c_rates"])
        return rates

    def clean_other_conditions(self) -> dict:
        return _key_value_lines(self.cleaned_data["other_conditions"], number=False)

    def clean(self):
        data = super().clean()
        low, high = data.get("voltage_min_v"), data.get("voltage_max_v")
        for field, message in quantities.window_problems(low, high).items():
            if field not in self.errors:
                self.add_error(field, message)
        return data

    def conditions(self) -> dict:
        data = self.cleaned_data
        out: dict = {}
        if data.get("voltage_min_v") is not None or data.get("voltage_max_v") is not None:
            out["voltage_window_v"] = [data.get("voltage_min_v"), data.get("voltage_max_v")]
        if data.get("c_rates"):
            out["c_rates"] = data["c_rates"]
        if data.get("temperature_c") is not None:
            out["temperature_c"] = data["temperature_c"]
        if data.get("sample_mass_mg") is not None:
            out["sample_mass_mg"] = data["sample_mass_mg"]
        out.update(data.get("other_conditions") or {})
        return out


class FilesForm(KilnFormMixin, forms.Form):
    files = MultipleFileField(label="Add raw files")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["files"].help_text = _files_help()


def _files_help() -> str:
    return (
        f"Up to {settings.KILN_MAX_UPLOAD_MB} MB each; the same content uploaded again is "
        "recognised, never stored twice."
    )


class RefinedNumberField(forms.CharField):
    """A refined number typed with or without its esd ('2.8589(1)', '2.8589') -> Reading."""

    def __init__(self, label: str, bound: str, example: str, *, required: bool = True):
        self.bound = bound
        super().__init__(
            label=label,
            required=required,
            max_length=40,
            help_text=f"esd in brackets allowed, e.g. {example}",
            widget=forms.TextInput(attrs={"inputmode": "decimal", "placeholder": example}),
        )

    def clean(self, value) -> Reading | None:
        text = super().clean(value).strip()
        if not text:
            return None
        label = quantities.bound(self.bound).label
        try:
            reading = parse_reading(text, field=self.bound, label=label)
        except AnalysisError as exc:
            raise ValidationError(exc.message) from None
        message = quantities.problem(self.bound, reading.value)
        if message is not None:
            raise ValidationError(message)
        return reading


class RefinementForm(KilnFormMixin, forms.Form):
    phase = forms.CharField(max_length=80, initial="R-3m layered")
    origin = forms.ChoiceField(
        label="Origin setting",
        choices=OriginSetting.choices,
        initial=OriginSetting.TRANSITION_METAL,
        widget=forms.RadioSelect,
    )
    a_angstrom = RefinedNumberField("a (Å)", "lattice_a_angstrom", "2.8589(1)")
    c_angstrom = RefinedNumberField("c (Å)", "lattice_c_angstrom", "14.2561(12)")
    volume_angstrom3 = RefinedNumberField(
        "V (Å³), as refined", "cell_volume_angstrom3", "100.911(3)", required=False
    )
    z_oxygen = RefinedNumberField("z(O)", "z_oxygen", "0.2582(3)")
    rwp_percent = _number("Rwp (%)", required=False, step="0.01", bound="rwp_percent")
    occupancies = forms.CharField(
        required=False,
        widget=forms.Textarea(attrs={"rows": 3, "placeholder": "Li 3b: 0.96\nNi 3b: 0.04"}),
        help_text="One “site: occupancy” per line.",
    )

    def clean_occupancies(self) -> dict:
        occupancies = _key_value_lines(self.cleaned_data["occupancies"], number=True)
        found = quantities.problems(
            (site, "occupancy", value, f"occupancy of {site}")
            for site, value in occupancies.items()
        )
        if found:
            raise ValidationError(list(found.values()))
        return occupancies


class CellFilterForm(forms.Form):
    q = forms.CharField(label="Search", required=False)
    cell_format = forms.ChoiceField(
        label="Format", required=False, choices=[("", "any format"), *CellFormat.choices]
    )
    builder = forms.ModelChoiceField(
        label="Builder", queryset=None, required=False, empty_label="anyone"
    )
    built_from = forms.DateField(label="Built from", required=False, widget=_date_input())
    built_to = forms.DateField(label="to", required=False, widget=_date_input())
    void = forms.BooleanField(label="Show void cells", required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["builder"].queryset = queries.cell_builders()

    def filters(self) -> queries.CellFilters:
        data = self.cleaned_data if self.is_valid() else {}
        builder = data.get("builder")
        return queries.CellFilters(
            q=(data.get("q") or "").strip(),
            cell_format=data.get("cell_format") or "",
            builder=builder.pk if builder else None,
            built_from=data.get("built_from"),
            built_to=data.get("built_to"),
            void=bool(data.get("void")),
        )


class MeasurementFilterForm(forms.Form):
    q = forms.CharField(label="Search", required=False)
    measurement_type = forms.ChoiceField(
        label="Type", required=False, choices=[("", "any type"), *MeasurementType.choices]
    )
    operator = forms.ModelChoiceField(
        label="Operator", queryset=None, required=False, empty_label="anyone"
    )
    void = forms.BooleanField(label="Show void measurements", required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["operator"].queryset = queries.measurement_operators()

    def filters(self) -> queries.MeasurementFilters:
        data = self.cleaned_data if self.is_valid() else {}
        operator = data.get("operator")
        return queries.MeasurementFilters(
            q=(data.get("q") or "").strip(),
            measurement_type=data.get("measurement_type") or "",
            operator=operator.pk if operator else None,
            void=bool(data.get("void")),
        )


class SlurryPreviewForm(forms.Form):
    """The slurry inputs of ElectrodeForm, for the live quantities beside it."""

    ratio_active_percent = forms.FloatField()
    ratio_carbon_percent = forms.FloatField()
    ratio_binder_percent = forms.FloatField()
    active_mass_g = forms.FloatField()
    solid_content_percent = forms.FloatField()
