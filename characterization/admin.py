"""Admin for electrodes, cells, measurements and raw files: search, filters, read-only sums
(analysis definitions, jobs and results: characterization.jobs.admin).

Computed values (slurry masses, active mass, loading, derived refinement numbers) and the
inputs they come from are read-only here: they are written by the services, which keep the two
consistent. Raw files are added through the upload form only (the admin cannot store bytes).
"""

import dataclasses

from django import forms
from django.contrib import admin
from django.core.exceptions import ValidationError
from simple_history.admin import SimpleHistoryAdmin

from characterization.models import (
    ChannelAssignment,
    CoinCell,
    Electrode,
    InstrumentMapping,
    Measurement,
    MeasurementFile,
    RawFile,
    RefinementResult,
)
from characterization.parsers import mapped, mappings_by_kind
from lims.admin_rules import RulesAdminMixin, RulesInlineMixin
from lims.void_admin import VoidFilter, sample_void_filter


@admin.register(Electrode)
class ElectrodeAdmin(RulesAdminMixin, SimpleHistoryAdmin):
    list_display = (
        "code",
        "name",
        "powder",
        "ratio_label",
        "active_mass_g",
        "disc_diameter_mm",
        "made_by",
        "made_on",
    )
    list_filter = (
        sample_void_filter(),
        "made_on",
        "made_by",
        "casting_method",
        "current_collector",
        "solvent",
    )
    search_fields = (
        "sample__code",
        "sample__name",
        "active_material__code",
        "active_material__name",
        "carbon_name",
        "binder_name",
    )
    list_select_related = ("sample", "active_material", "made_by")
    raw_id_fields = ("sample", "active_material", "carbon_lot", "binder_lot")
    readonly_fields = (
        "sample",
        "active_material",
        "ratio_active_percent",
        "ratio_carbon_percent",
        "ratio_binder_percent",
        "active_mass_g",
        "solid_content_percent",
        "carbon_mass_g",
        "binder_mass_g",
        "solvent_mass_g",
        "created_at",
    )
    date_hierarchy = "made_on"

    @admin.display(description="code", ordering="sample__code")
    def code(self, obj: Electrode) -> str:
        return obj.sample.code

    @admin.display(description="name", ordering="sample__name")
    def name(self, obj: Electrode) -> str:
        return obj.sample.name

    @admin.display(description="powder", ordering="active_material__code")
    def powder(self, obj: Electrode) -> str:
        return obj.active_material.code

    @admin.display(description="ratio")
    def ratio_label(self, obj: Electrode) -> str:
        return obj.ratio_label

    def has_add_permission(self, request) -> bool:
        return False  # built through the electrode form, which registers the sample and lineage


@admin.register(CoinCell)
class CoinCellAdmin(RulesAdminMixin, SimpleHistoryAdmin):
    list_display = (
        "code",
        "name",
        "electrode_code",
        "cell_format",
        "electrode_role",
        "active_mass",
        "loading",
        "built_by",
        "built_on",
    )
    list_filter = (
        sample_void_filter(),
        "cell_format",
        "electrode_role",
        "built_by",
        "built_on",
        "counter_electrode",
        "separator",
    )
    search_fields = (
        "sample__code",
        "sample__name",
        "electrode__sample__code",
        "electrode__active_material__code",
        "electrode__active_material__name",
        "electrolyte_name",
    )
    list_select_related = ("sample", "electrode__sample", "built_by")
    raw_id_fields = ("sample", "electrode")
    readonly_fields = (
        "sample",
        "electrode",
        "disc_diameter_mm",
        "disc_mass_mg",
        "foil_disc_mass_mg",
        "active_fraction",
        "one_c_ma_per_g",
        "disc_area_cm2",
        "active_mass_mg",
        "areal_loading_mg_per_cm2",
        "created_at",
    )
    date_hierarchy = "built_on"

    @admin.display(description="code", ordering="sample__code")
    def code(self, obj: CoinCell) -> str:
        return obj.sample.code

    @admin.display(description="name", ordering="sample__name")
    def name(self, obj: CoinCell) -> str:
        return obj.sample.name

    @admin.display(description="electrode", ordering="electrode__sample__code")
    def electrode_code(self, obj: CoinCell) -> str:
        return obj.electrode.sample.code

    @admin.display(description="active mass (mg)", ordering="active_mass_mg")
    def active_mass(self, obj: CoinCell) -> str:
        return f"{obj.active_mass_mg:.3f}"

    @admin.display(description="loading (mg/cm²)", ordering="areal_loading_mg_per_cm2")
    def loading(self, obj: CoinCell) -> str:
        return f"{obj.areal_loading_mg_per_cm2:.3f}"

    def has_add_permission(self, request) -> bool:
        return False  # built on the electrode page, which registers the sample and lineage


class MeasurementFileInline(RulesInlineMixin, admin.TabularInline):
    model = MeasurementFile
    extra = 0
    raw_id_fields = ("raw_file",)
    readonly_fields = ("raw_file", "added_by", "added_at")
    can_delete = False

    def has_add_permission(self, request, obj=None) -> bool:
        return False


class RefinementResultInline(RulesInlineMixin, admin.StackedInline):
    model = RefinementResult
    extra = 0
    readonly_fields = (
        "slab_thickness_angstrom",
        "interslab_spacing_angstrom",
        "cell_volume_angstrom3",
        "warnings",
        "entered_by",
        "entered_at",
    )

    def has_add_permission(self, request, obj=None) -> bool:
        return False  # entered on the measurement page, where Kiln derives the slabs

    def has_change_permission(self, request, obj=None) -> bool:
        return False


@admin.register(Measurement)
class MeasurementAdmin(RulesAdminMixin, SimpleHistoryAdmin):
    list_display = (
        "code",
        "measurement_type",
        "subject_code",
        "instrument",
        "operator",
        "measured_at",
    )
    list_filter = (VoidFilter, "measurement_type", "operator", "measured_at", "instrument")
    search_fields = ("sample__code", "subject__code", "subject__name", "instrument")
    list_select_related = ("sample", "subject", "operator")
    raw_id_fields = ("sample", "subject")
    readonly_fields = ("sample", "subject", "created_at")
    date_hierarchy = "measured_at"
    inlines = [MeasurementFileInline, RefinementResultInline]

    @admin.display(description="code", ordering="sample__code")
    def code(self, obj: Measurement) -> str:
        return obj.sample.code

    @admin.display(description="sample", ordering="subject__code")
    def subject_code(self, obj: Measurement) -> str:
        return obj.subject.code

    def has_add_permission(self, request) -> bool:
        return False  # recorded through the upload form, which registers the sample and files


@admin.register(RawFile)
class RawFileAdmin(RulesAdminMixin, SimpleHistoryAdmin):
    list_display = (
        "original_name",
        "short_sha",
        "size_bytes",
        "detected_format",
        "read_state",
        "content_type",
        "uploaded_by",
        "uploaded_at",
    )
    list_filter = (
        VoidFilter,
        "detected_format",
        "read_state",
        "uploaded_by",
        "uploaded_at",
        "content_type",
    )
    search_fields = ("sha256", "original_name", "links__measurement__sample__code")
    list_select_related = ("uploaded_by",)
    readonly_fields = (
        "sha256",
        "size_bytes",
        "original_name",
        "content_type",
        "detected_format",
        "read_state",
        "read_message",
        "uploaded_by",
        "uploaded_at",
    )
    date_hierarchy = "uploaded_at"

    @admin.display(description="SHA-256", ordering="sha256")
    def short_sha(self, obj: RawFile) -> str:
        return f"{obj.short_sha}…"

    def has_add_permission(self, request) -> bool:
        return False  # bytes arrive through the upload form, which stores them by hash


@admin.register(RefinementResult)
class RefinementResultAdmin(RulesAdminMixin, SimpleHistoryAdmin):
    list_display = (
        "measurement",
        "phase",
        "origin",
        "a_angstrom",
        "c_angstrom",
        "z_oxygen",
        "slab_thickness_angstrom",
        "interslab_spacing_angstrom",
        "rwp_percent",
    )
    list_filter = ("origin", "phase", "entered_at")
    search_fields = ("measurement__sample__code", "measurement__subject__code", "phase")
    list_select_related = ("measurement__sample",)
    readonly_fields = [f.name for f in RefinementResult._meta.fields]

    def has_add_permission(self, request) -> bool:
        return False


def _other_mapping_help() -> str:
    kinds = [k for k in mappings_by_kind.KINDS if k != "cycling"]
    keys = "; ".join(
        f"{k.replace('_', ' ')}: {', '.join(mappings_by_kind.mapping_keys(k))}" for k in kinds
    )
    return (
        f"Keys by table kind ({keys}). Ion current channels are a list of "
        '{"column": ..., "mz": ..., "label": ...}.'
    )


class _JSONOrEmpty(forms.JSONField):
    """An empty box, not "null", when there is no JSON (a cycling mapping's page)."""

    def prepare_value(self, value):
        return "" if value is None else super().prepare_value(value)


class InstrumentMappingForm(forms.ModelForm):
    """A cycling mapping has one field per entry (stored as JSON, checked by the parser); a
    mapping of another table kind is given as JSON (its keys in the help text)."""

    time_column = forms.CharField(label="Time column", required=False)
    time_unit = forms.ChoiceField(
        label="Time unit", choices=[("s", "seconds"), ("min", "minutes"), ("h", "hours")]
    )
    voltage_column = forms.CharField(label="Voltage column (V)", required=False)
    current_column = forms.CharField(label="Current column", required=False)
    current_unit = forms.ChoiceField(label="Current unit", choices=[("A", "A"), ("mA", "mA")])
    charge_current = forms.ChoiceField(
        label="Sign of the current",
        choices=[
            ("positive", "positive while charging"),
            ("negative", "negative while charging"),
        ],
    )
    cycle_column = forms.CharField(
        label="Cycle column",
        required=False,
        help_text="Leave empty to count cycles from 1 in charge → discharge pairs "
        "(a leading partial discharge is cycle 0).",
    )
    step_column = forms.CharField(
        label="Step column",
        required=False,
        help_text="Needed when the capacity restarts at every step.",
    )
    charge_capacity_column = forms.CharField(
        label="Charge capacity column",
        required=False,
        help_text="Give the charge and discharge capacity columns, or one capacity column.",
    )
    discharge_capacity_column = forms.CharField(label="Discharge capacity column", required=False)
    capacity_column = forms.CharField(
        label="Capacity column (one for both directions)",
        required=False,
        help_text="Its direction is taken from the sign of the current.",
    )
    capacity_unit = forms.ChoiceField(label="Capacity unit", choices=[("Ah", "Ah"), ("mAh", "mAh")])
    capacity_restarts = forms.ChoiceField(
        label="The instrument's capacity restarts",
        choices=[
            ("step", "at every step (summed over the cycle's steps)"),
            ("cycle", "when the cycle number advances"),
            ("never", "never (one counter over the whole file)"),
        ],
    )
    charge_energy_column = forms.CharField(label="Charge energy column", required=False)
    discharge_energy_column = forms.CharField(label="Discharge energy column", required=False)
    energy_unit = forms.ChoiceField(label="Energy unit", choices=[("Wh", "Wh"), ("mWh", "mWh")])
    header_row = forms.IntegerField(
        label="Header row",
        min_value=0,
        initial=0,
        help_text="0 when the column names are on the first line; n to skip n lines above them.",
    )
    other_mapping = _JSONOrEmpty(
        label="Mapping (JSON)",
        required=False,
        help_text=_other_mapping_help(),
    )

    class Meta:
        model = InstrumentMapping
        fields = ("name", "instrument", "table_kind", "description")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if "table_kind" in self.fields:  # not on a read-only page
            self.fields["table_kind"].required = False  # a post without it keeps cycling
        stored = self.instance.mapping if self.instance.pk else {}
        if self.instance.pk and self.instance.table_kind != "cycling":
            self.fields["other_mapping"].initial = stored
            stored = {}
        for key in self.mapping_keys():
            default = mapped.ColumnMapping.__dataclass_fields__[key].default
            if default is dataclasses.MISSING:  # a required column: no default to show
                default = None
            self.fields[key].initial = stored.get(key, self.fields[key].initial or default)

    @staticmethod
    def mapping_keys() -> list[str]:
        return [k for k in mapped.ColumnMapping.__dataclass_fields__ if k != "name"]

    def clean(self):
        cleaned = super().clean()
        kind = cleaned.get("table_kind") or self.instance.table_kind or "cycling"
        cleaned["table_kind"] = kind
        if kind == "cycling":
            self._clean_cycling(cleaned)
        else:
            self._clean_other(kind, cleaned)
        return cleaned

    def _clean_cycling(self, cleaned: dict) -> None:
        required = ("time_column", "voltage_column", "current_column")
        missing = [k for k in required if not (cleaned.get(k) or "").strip()]
        for key in missing:  # not required fields: a mapping of another kind leaves them empty
            self.add_error(key, "This field is required for a cycling mapping.")
        entries = {k: cleaned.get(k) for k in self.mapping_keys()}
        if missing or any(v is None for v in entries.values()):
            return  # the field errors already say what is missing
        entries = {k: (v.strip() if isinstance(v, str) else v) for k, v in entries.items()}
        try:
            mapping = mapped.ColumnMapping.from_dict(entries, name=cleaned.get("name") or "?")
        except mapped.MappingError as exc:
            raise ValidationError(str(exc)) from None
        self.instance.mapping = mapping.to_dict()

    def _clean_other(self, kind: str, cleaned: dict) -> None:
        data = cleaned.get("other_mapping")
        if not data:
            keys = ", ".join(mappings_by_kind.mapping_keys(kind))
            self.add_error("other_mapping", f"Give the mapping as a JSON object (keys: {keys}).")
            return
        try:
            stored = mappings_by_kind.stored_mapping(kind, data, name=cleaned.get("name") or "?")
        except mapped.MappingError as exc:
            self.add_error("other_mapping", str(exc))
            return
        self.instance.mapping = stored


@admin.register(InstrumentMapping)
class InstrumentMappingAdmin(RulesAdminMixin, SimpleHistoryAdmin):
    """Column mappings of generic CSV/XLSX exports, one per instrument and table kind: uploads
    to a measurement of that instrument that no reader recognises are read with the mapping
    of the table kind the analysis reads."""

    form = InstrumentMappingForm
    list_display = (
        "name",
        "instrument",
        "table_kind",
        "columns_label",
        "created_by",
        "updated_at",
    )
    list_filter = ("table_kind",)
    search_fields = ("name", "instrument", "description")
    readonly_fields = ("created_by", "created_at", "updated_at")
    fieldsets = (
        (None, {"fields": ("name", "instrument", "table_kind", "description")}),
        (
            "Cycling columns",
            {
                "description": "For a cycling mapping (ignored for the other table kinds).",
                "fields": (
                    ("time_column", "time_unit"),
                    "voltage_column",
                    ("current_column", "current_unit", "charge_current"),
                    "cycle_column",
                    "step_column",
                ),
            },
        ),
        (
            "Cycling capacity and energy",
            {
                "fields": (
                    ("charge_capacity_column", "discharge_capacity_column"),
                    "capacity_column",
                    ("capacity_unit", "capacity_restarts"),
                    ("charge_energy_column", "discharge_energy_column", "energy_unit"),
                )
            },
        ),
        ("Cycling file layout", {"fields": ("header_row",)}),
        (
            "Other table kinds",
            {
                "description": "For an impedance, potential-step, thermal, ion-current or "
                "diffraction mapping: its entries as JSON (the cycling fields are then ignored).",
                "fields": ("other_mapping",),
            },
        ),
        ("Record", {"fields": ("created_by", "created_at", "updated_at")}),
    )

    @admin.display(description="columns")
    def columns_label(self, obj: InstrumentMapping) -> str:
        m = obj.mapping
        if obj.table_kind != "cycling":
            return ", ".join(str(v) for k, v in m.items() if k.endswith("_column") and v)
        columns = m.get("capacity_column") or (
            f"{m.get('charge_capacity_column')} / {m.get('discharge_capacity_column')}"
        )
        return f"{columns} ({m.get('capacity_unit')}, restarts {m.get('capacity_restarts')})"

    def save_model(self, request, obj, form, change):
        if not change:
            obj.created_by = request.user
        super().save_model(request, obj, form, change)


@admin.register(ChannelAssignment)
class ChannelAssignmentAdmin(RulesAdminMixin, SimpleHistoryAdmin):
    """Which cell a cycler channel holds, and when: the harvester places a file whose name
    carries no cell code by its PC (source) and channel at the file's time."""

    list_display = ("source", "channel", "cell", "valid_from", "valid_to", "created_by")
    list_filter = ("source",)
    search_fields = ("source", "channel", "cell__code", "cell__name")
    list_select_related = ("cell", "created_by")
    raw_id_fields = ("cell",)
    readonly_fields = ("created_by", "created_at")
    date_hierarchy = "valid_from"
