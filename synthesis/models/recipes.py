"""Versioned recipes: reagent lines and ordered steps with typed parameters."""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from simple_history.models import HistoricalRecords

from lims import quantities
from lims.models import SampleKind
from lims.validators import bound_q, bounded
from synthesis.steps import STEP_CHOICES, describe, step_kind
from synthesis.validators import (
    validate_density_g_per_ml,
    validate_formula,
    validate_purity_percent,
    validate_wt_percent,
)


class RecipeKind(models.TextChoices):
    SOLID_STATE = "solid_state", "Solid-state"
    SOL_GEL = "sol_gel", "Sol-gel"
    CO_PRECIPITATION = "co_precipitation", "Co-precipitation"
    COATING = "coating", "Coating"
    OTHER = "other", "Other"


class CoatingBasis(models.TextChoices):
    SUBSTRATE = "substrate", "coating / substrate"
    TOTAL = "total", "coating / (substrate + coating)"


class LineRole(models.TextChoices):
    SUBSTRATE = "substrate", "Substrate"
    SI_SOURCE = "si_source", "Si source"
    NA_SOURCE = "na_source", "Na source"
    LI_SOURCE = "li_source", "Li source"
    MN_SOURCE = "mn_source", "Mn source"
    NI_SOURCE = "ni_source", "Ni source"
    PRECURSOR = "precursor", "Precursor"
    SOLVENT = "solvent", "Solvent"
    OTHER = "other", "Other"


class Recipe(models.Model):
    """One version of a recipe. Versions of the same recipe share ``family``.

    Immutable once a batch uses it: ``synthesis.services.recipe_revise`` then writes version n+1.
    """

    family = models.SlugField(max_length=60, help_text="Groups the versions of one recipe.")
    version = models.PositiveIntegerField(default=1)
    name = models.CharField(max_length=200)
    kind = models.CharField(max_length=20, choices=RecipeKind.choices)
    product_name = models.CharField(max_length=200)
    product_formula = models.CharField(
        max_length=120,
        blank=True,
        validators=[validate_formula],
        help_text="The target of the stoichiometry (not needed for coatings).",
    )
    product_kind = models.CharField(
        max_length=20, choices=SampleKind.choices, default=SampleKind.CATHODE
    )
    coating_formula = models.CharField(max_length=120, blank=True, validators=[validate_formula])
    default_coating_wt_percent = models.FloatField(
        "default coating wt%", null=True, blank=True, validators=[validate_wt_percent]
    )
    coating_basis = models.CharField(
        max_length=10, choices=CoatingBasis.choices, default=CoatingBasis.SUBSTRATE
    )
    reference_mass_g = models.FloatField(
        "reference mass (g)",
        default=1.0,
        validators=[bounded("batch_mass_g", "reference mass")],
        help_text="The product (or substrate) mass the fixed solvent amounts are written for.",
    )
    volatile_elements = models.CharField(
        max_length=40,
        default="O,H,C,N",
        help_text="Elements that leave on calcination and are not balanced.",
    )
    notes = models.TextField(blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT
    )
    created_at = models.DateTimeField(auto_now_add=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ["name", "-version"]
        constraints = [
            models.UniqueConstraint(fields=["family", "version"], name="recipe_family_version"),
            models.CheckConstraint(condition=models.Q(version__gte=1), name="recipe_version_1"),
            models.CheckConstraint(
                condition=models.Q(kind__in=RecipeKind.values), name="recipe_kind_known"
            ),
            models.CheckConstraint(
                condition=~models.Q(kind=RecipeKind.COATING) | ~models.Q(coating_formula=""),
                name="recipe_coating_has_formula",
            ),
            models.CheckConstraint(
                condition=models.Q(kind=RecipeKind.COATING) | ~models.Q(product_formula=""),
                name="recipe_product_has_formula",
            ),
            models.CheckConstraint(
                condition=models.Q(default_coating_wt_percent__isnull=True)
                | (
                    models.Q(default_coating_wt_percent__gt=0)
                    & models.Q(default_coating_wt_percent__lt=100)
                ),
                name="recipe_wt_percent_range",
            ),
            models.CheckConstraint(
                condition=bound_q("reference_mass_g", "batch_mass_g", null=False),
                name="recipe_reference_mass_range",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} v{self.version}"

    @property
    def is_coating(self) -> bool:
        return self.kind == RecipeKind.COATING

    @property
    def volatile_set(self) -> frozenset[str]:
        return frozenset(el.strip() for el in self.volatile_elements.split(",") if el.strip())

    def final_calcination(self) -> RecipeStep | None:
        """The last calcine step: the one that sets the phase, shown as 'the' calcination."""
        calcines = [s for s in self.steps.all() if s.kind == "calcine"]
        return calcines[-1] if calcines else None


class ReagentLine(models.Model):
    """A reagent of a recipe. Lines in the stoichiometry are sized by the element balance;
    the others (solvents) carry a fixed amount per ``Recipe.reference_mass_g``."""

    recipe = models.ForeignKey(Recipe, on_delete=models.CASCADE, related_name="lines")
    order = models.PositiveSmallIntegerField()
    role = models.CharField(max_length=12, choices=LineRole.choices)
    name = models.CharField(max_length=120)
    chemical = models.ForeignKey(
        "synthesis.Chemical", null=True, blank=True, on_delete=models.PROTECT, related_name="lines"
    )
    formula = models.CharField(max_length=120, blank=True, validators=[validate_formula])
    purity_percent = models.FloatField(
        "purity (%)", null=True, blank=True, validators=[validate_purity_percent]
    )
    density_g_per_ml = models.FloatField(
        "density (g/mL)", null=True, blank=True, validators=[validate_density_g_per_ml]
    )
    excess_element = models.CharField(max_length=3, blank=True)
    excess_percent = models.FloatField(
        "excess (%)", null=True, blank=True, validators=[bounded("excess_percent")]
    )
    in_stoichiometry = models.BooleanField(default=True)
    fixed_amount = models.FloatField(null=True, blank=True)
    fixed_unit = models.CharField(max_length=4, blank=True, choices=[("g", "g"), ("mL", "mL")])
    notes = models.CharField(max_length=200, blank=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ["recipe", "order"]
        constraints = [
            models.UniqueConstraint(fields=["recipe", "order"], name="line_order_unique"),
            models.CheckConstraint(
                condition=models.Q(role__in=LineRole.values), name="line_role_known"
            ),
            models.CheckConstraint(
                condition=models.Q(purity_percent__isnull=True)
                | (models.Q(purity_percent__gt=0) & models.Q(purity_percent__lte=100)),
                name="line_purity_range",
            ),
            models.CheckConstraint(
                condition=models.Q(excess_percent__isnull=True)
                | (models.Q(excess_percent__gte=0) & models.Q(excess_percent__lte=100)),
                name="line_excess_range",
            ),
            models.CheckConstraint(  # g and mL share the numbers: up to 100 kg or 100 L
                condition=bound_q("fixed_amount", "reagent_mass_g"),
                name="line_fixed_amount_range",
            ),
            models.CheckConstraint(
                condition=bound_q("density_g_per_ml", "density_g_per_ml"),
                name="line_density_range",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.get_role_display()})"

    def clean(self) -> None:
        """A fixed amount within the bounds of its unit (grams or millilitres)."""
        message = fixed_amount_problem(self.fixed_amount, self.fixed_unit)
        if message is not None:
            raise ValidationError({"fixed_amount": message})

    @property
    def is_substrate(self) -> bool:
        return self.role == LineRole.SUBSTRATE

    @property
    def effective_formula(self) -> str:
        return self.formula or (self.chemical.formula if self.chemical else "")

    @property
    def effective_purity_percent(self) -> float:
        if self.purity_percent is not None:
            return self.purity_percent
        return self.chemical.default_purity_percent if self.chemical else 100.0

    @property
    def effective_density_g_per_ml(self) -> float | None:
        if self.density_g_per_ml is not None:
            return self.density_g_per_ml
        return self.chemical.density_g_per_ml if self.chemical else None


def fixed_amount_problem(amount: float | None, unit: str) -> str | None:
    """A solvent's fixed amount: > 0 and at most 100 kg (g) or 100 L (mL)."""
    if amount is None:
        return None
    key = "reagent_volume_ml" if unit == "mL" else "reagent_mass_g"
    return quantities.problem(key, amount, label="fixed amount")


class RecipeStep(models.Model):
    """An ordered step; ``parameters`` follow the schema of its kind in synthesis.steps."""

    recipe = models.ForeignKey(Recipe, on_delete=models.CASCADE, related_name="steps")
    order = models.PositiveSmallIntegerField()
    kind = models.CharField(max_length=20, choices=STEP_CHOICES)
    parameters = models.JSONField(default=dict, blank=True)
    notes = models.CharField(max_length=300, blank=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ["recipe", "order"]
        constraints = [
            models.UniqueConstraint(fields=["recipe", "order"], name="step_order_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.order}. {self.summary}"

    @property
    def summary(self) -> str:
        return describe(self.kind, self.parameters)

    @property
    def kind_label(self) -> str:
        return step_kind(self.kind).label
