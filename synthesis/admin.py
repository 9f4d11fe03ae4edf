"""Admin for recipes, batches, chemicals and lots. Writes that have rules go through the
services: lots get their registry sample, used recipes are read-only (an action revises them),
batch status, plan and product are read-only (the batch pages change them)."""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.db.models import Count
from simple_history.admin import SimpleHistoryAdmin

from lims.admin_rules import RulesAdminMixin, RulesInlineMixin
from lims.void_admin import VoidFilter
from synthesis import services
from synthesis.forms import lot_create_kwargs
from synthesis.models import (
    Batch,
    BatchReagent,
    BatchStepLog,
    Chemical,
    Lot,
    ReagentLine,
    Recipe,
    RecipeStep,
    Series,
)
from synthesis.recipe_input import recipe_data_from
from synthesis.steps import StepParameterError, validate_parameters


class RecipeStepForm(forms.ModelForm):
    class Meta:
        model = RecipeStep
        fields = ["order", "kind", "parameters", "notes"]

    def clean(self):
        data = super().clean()
        if data.get("kind") and isinstance(data.get("parameters"), dict):
            try:
                data["parameters"] = validate_parameters(data["kind"], data["parameters"])
            except StepParameterError as err:
                self.add_error("parameters", f"{err.field}: {err.message}")
        return data


class ReagentLineInline(RulesInlineMixin, admin.TabularInline):
    model = ReagentLine
    extra = 0
    autocomplete_fields = ["chemical"]
    fields = [
        "order",
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
    ]


class RecipeStepInline(RulesInlineMixin, admin.TabularInline):
    model = RecipeStep
    form = RecipeStepForm
    extra = 0


class UsedRecipeReadOnly:
    """A recipe used by a batch is frozen; the admin shows it read-only."""

    def has_change_permission(self, request, obj=None) -> bool:
        if obj is not None and obj.batches.exists():
            return False
        return super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None) -> bool:
        if obj is not None and obj.batches.exists():
            return False
        return super().has_delete_permission(request, obj)


class LineInline(UsedRecipeReadOnly, ReagentLineInline):
    def has_add_permission(self, request, obj=None) -> bool:
        return not (obj is not None and obj.batches.exists()) and super().has_add_permission(
            request, obj
        )


class StepInline(UsedRecipeReadOnly, RecipeStepInline):
    def has_add_permission(self, request, obj=None) -> bool:
        return not (obj is not None and obj.batches.exists()) and super().has_add_permission(
            request, obj
        )


@admin.register(Recipe)
class RecipeAdmin(UsedRecipeReadOnly, RulesAdminMixin, SimpleHistoryAdmin):
    list_display = [
        "name",
        "version",
        "kind",
        "product_name",
        "batch_count",
        "created_by",
        "created_at",
    ]
    list_filter = ["kind", "product_kind", "created_by"]
    search_fields = ["name", "family", "product_name", "product_formula", "coating_formula"]
    inlines = [LineInline, StepInline]
    actions = ["new_version"]
    readonly_fields = ["created_by", "created_at"]

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(n_batches=Count("batches"))

    @admin.display(description="batches", ordering="n_batches")
    def batch_count(self, obj: Recipe) -> int:
        return obj.n_batches

    def save_model(self, request, obj: Recipe, form, change) -> None:
        if not change:
            obj.created_by = request.user
        super().save_model(request, obj, form, change)

    @admin.action(description="Copy as a new version (to edit a used recipe)", permissions=("add",))
    def new_version(self, request, queryset) -> None:
        for recipe in queryset:
            try:
                new = services.recipe_revise(
                    user=request.user, recipe=recipe, data=recipe_data_from(recipe)
                )
            except ValidationError as err:
                self.message_user(request, f"{recipe}: {' '.join(err.messages)}", messages.ERROR)
            else:
                self.message_user(request, f"{recipe} → {new}", messages.SUCCESS)


class BatchReagentInline(RulesInlineMixin, admin.TabularInline):
    model = BatchReagent
    extra = 0
    can_delete = False
    fields = [
        "order",
        "line",
        "lot",
        "planned_mass_g",
        "planned_volume_ml",
        "actual_mass_g",
        "actual_volume_ml",
        "deviation_percent",
        "flagged",
    ]
    readonly_fields = fields

    def has_add_permission(self, request, obj=None) -> bool:
        return False


class BatchStepLogInline(RulesInlineMixin, admin.TabularInline):
    model = BatchStepLog
    extra = 0
    can_delete = False
    fields = ["order", "step", *services.STEP_LOG_FIELDS]
    readonly_fields = fields

    def has_add_permission(self, request, obj=None) -> bool:
        return False


class CalcinationFilter(admin.SimpleListFilter):
    """Calcination temperature in the bands a furnace schedule is planned in."""

    title = "calcination temperature"
    parameter_name = "calcination"
    BANDS = {
        "lt600": (None, 600),
        "600-700": (600, 700),
        "700-800": (700, 800),
        "800-900": (800, 900),
        "ge900": (900, None),
    }

    def lookups(self, request, model_admin):
        return [
            ("lt600", "below 600 °C"),
            ("600-700", "600–699 °C"),
            ("700-800", "700–799 °C"),
            ("800-900", "800–899 °C"),
            ("ge900", "900 °C and above"),
        ]

    def queryset(self, request, queryset):
        band = self.BANDS.get(self.value() or "")
        if band is None:
            return queryset
        low, high = band
        if low is not None:
            queryset = queryset.filter(calcination_temperature_c__gte=low)
        if high is not None:
            queryset = queryset.filter(calcination_temperature_c__lt=high)
        return queryset


@admin.register(Batch)
class BatchAdmin(RulesAdminMixin, SimpleHistoryAdmin):
    list_display = [
        "code",
        "recipe",
        "status",
        "operator",
        "calcination",
        "mass_display",
        "product",
        "created_at",
    ]
    list_filter = [
        VoidFilter,
        "status",
        ("recipe", admin.RelatedOnlyFieldListFilter),
        ("operator", admin.RelatedOnlyFieldListFilter),
        CalcinationFilter,
        "created_at",
    ]
    list_select_related = ["recipe", "operator", "product"]
    search_fields = ["code", "recipe__name", "product__code", "substrate__code", "notes"]
    date_hierarchy = "created_at"
    inlines = [BatchReagentInline, BatchStepLogInline]
    readonly_fields = [
        "code",
        "recipe",
        "series",
        "operator",
        "status",
        "substrate",
        "target_mass_g",
        "substrate_mass_g",
        "coating_wt_percent",
        "coating_basis",
        "scale",
        "plan",
        "calcination_temperature_c",
        "calcination_duration_h",
        "tolerance_percent",
        "product",
        "yield_mass_g",
        "created_at",
        "started_at",
        "finished_at",
        "finished_by",
        "failure_reason",
    ]

    def has_add_permission(self, request) -> bool:
        return False  # batches are planned on the synthesis pages (the chemistry runs there)

    @admin.display(description="calcination", ordering="calcination_temperature_c")
    def calcination(self, obj: Batch) -> str:
        if obj.calcination_temperature_c is None:
            return "—"
        return f"{obj.calcination_temperature_c:g} °C / {obj.calcination_duration_h or 0:g} h"

    @admin.display(description="size")
    def mass_display(self, obj: Batch) -> str:
        if obj.substrate_mass_g is not None:
            return f"{obj.coating_wt_percent:g} wt% on {obj.substrate_mass_g:g} g"
        return f"{obj.target_mass_g:g} g"


class LotInline(RulesInlineMixin, admin.TabularInline):
    model = Lot
    extra = 0
    fields = [
        "supplier",
        "lot_number",
        "purity_percent",
        "amount_left",
        "amount_unit",
        "expires_on",
        "sample",
    ]
    readonly_fields = ["sample"]

    def has_add_permission(self, request, obj=None) -> bool:
        return False  # a new lot needs its registry sample: use the Lot admin or the lots page


@admin.register(Chemical)
class ChemicalAdmin(RulesAdminMixin, SimpleHistoryAdmin):
    list_display = [
        "name",
        "formula",
        "cas_number",
        "density_g_per_ml",
        "default_purity_percent",
        "grade",
    ]
    search_fields = ["name", "formula", "cas_number"]
    list_filter = ["grade"]
    inlines = [LotInline]

    def save_model(self, request, obj: Chemical, form, change) -> None:
        if not change:
            obj.created_by = request.user
        super().save_model(request, obj, form, change)


class LotAdminForm(forms.ModelForm):
    class Meta:
        model = Lot
        fields = [
            "chemical",
            "supplier",
            "lot_number",
            "purity_percent",
            "received_on",
            "opened_on",
            "expires_on",
            "location",
            "amount_left",
            "amount_unit",
        ]


@admin.register(Lot)
class LotAdmin(RulesAdminMixin, SimpleHistoryAdmin):
    form = LotAdminForm
    list_display = [
        "chemical",
        "supplier",
        "lot_number",
        "purity_percent",
        "amount_left",
        "amount_unit",
        "expires_on",
        "location",
        "sample",
    ]
    list_filter = [
        ("chemical", admin.RelatedOnlyFieldListFilter),
        "supplier",
        "amount_unit",
        "expires_on",
        "received_on",
    ]
    search_fields = [
        "lot_number",
        "supplier",
        "chemical__name",
        "chemical__formula",
        "chemical__cas_number",
        "sample__code",
    ]
    list_select_related = ["chemical", "sample"]
    autocomplete_fields = ["chemical"]
    readonly_fields = ["sample"]

    def save_model(self, request, obj: Lot, form, change) -> None:
        if change:
            super().save_model(request, obj, form, change)
            return
        data = form.cleaned_data
        saved = services.lot_create(user=request.user, **lot_create_kwargs(data))
        obj.pk, obj.sample = saved.pk, saved.sample
        obj._state.adding = False


@admin.register(Series)
class SeriesAdmin(RulesAdminMixin, SimpleHistoryAdmin):
    list_display = ["name", "recipe", "parameter", "values", "created_by", "created_at"]
    list_filter = ["parameter", ("recipe", admin.RelatedOnlyFieldListFilter)]
    search_fields = ["name", "recipe__name"]
    readonly_fields = ["recipe", "parameter", "values", "created_by", "created_at"]

    def has_add_permission(self, request) -> bool:
        return False
