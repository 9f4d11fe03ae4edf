"""Chemical inventory: chemicals and the lots (bottles) received of them."""

from __future__ import annotations

import datetime

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models.functions import Lower
from django.utils import timezone
from simple_history.models import HistoricalRecords

from lims import quantities
from lims.validators import bound_q
from lims.voiding import audited_history
from synthesis.chemistry import parse_formula
from synthesis.validators import (
    validate_cas_number,
    validate_density_g_per_ml,
    validate_formula,
    validate_not_negative,
    validate_purity_percent,
)

PURITY_OK = models.Q(default_purity_percent__gt=0) & models.Q(default_purity_percent__lte=100)


class AmountUnit(models.TextChoices):
    GRAM = "g", "g"
    MILLILITRE = "mL", "mL"


class Chemical(models.Model):
    """A substance the lab buys: the formula is what the stoichiometry weighs."""

    name = models.CharField(max_length=200)
    formula = models.CharField(max_length=120, validators=[validate_formula])
    cas_number = models.CharField(
        "CAS number", max_length=14, blank=True, validators=[validate_cas_number]
    )
    density_g_per_ml = models.FloatField(
        "density (g/mL)",
        null=True,
        blank=True,
        validators=[validate_density_g_per_ml],
        help_text="Liquids only: Kiln then gives a volume to pipette.",
    )
    default_purity_percent = models.FloatField(
        "default purity (%)", default=100.0, validators=[validate_purity_percent]
    )
    grade = models.CharField(max_length=80, blank=True, help_text="e.g. ACS reagent, 99.9 %")
    hazard_notes = models.TextField(blank=True, help_text="GHS pictograms, H/P statements")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT
    )
    created_at = models.DateTimeField(auto_now_add=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(Lower("name"), name="chemical_name_unique_ci"),
            models.CheckConstraint(condition=~models.Q(formula=""), name="chemical_formula_set"),
            models.CheckConstraint(condition=PURITY_OK, name="chemical_purity_range"),
            models.CheckConstraint(
                condition=bound_q("density_g_per_ml", "density_g_per_ml"),
                name="chemical_density_range",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.formula})" if self.name != self.formula else self.name

    @property
    def molar_mass_g_per_mol(self) -> float:
        return parse_formula(self.formula).molar_mass_g_per_mol

    @property
    def is_liquid(self) -> bool:
        return self.density_g_per_ml is not None


class Lot(models.Model):
    """One received container; its REAGENT sample makes it a node of the lineage graph."""

    chemical = models.ForeignKey(Chemical, on_delete=models.PROTECT, related_name="lots")
    supplier = models.CharField(max_length=120)
    lot_number = models.CharField(max_length=80)
    purity_percent = models.FloatField("purity (%)", validators=[validate_purity_percent])
    received_on = models.DateField(default=datetime.date.today)
    opened_on = models.DateField(null=True, blank=True)
    expires_on = models.DateField(null=True, blank=True)
    location = models.CharField(max_length=120, blank=True)
    amount_left = models.FloatField(validators=[validate_not_negative])
    amount_unit = models.CharField(max_length=4, choices=AmountUnit.choices)
    sample = models.OneToOneField("lims.Sample", on_delete=models.PROTECT, related_name="lot")
    created_at = models.DateTimeField(auto_now_add=True)
    history = audited_history()

    class Meta:
        ordering = ["chemical__name", "expires_on", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["chemical", "supplier", "lot_number"], name="lot_unique_per_supplier"
            ),
            models.CheckConstraint(
                condition=models.Q(purity_percent__gt=0) & models.Q(purity_percent__lte=100),
                name="lot_purity_range",
            ),
            models.CheckConstraint(  # g and mL share the numbers: 0 to 100 kg or 100 L
                condition=bound_q("amount_left", "lot_amount_g", null=False),
                name="lot_amount_range",
            ),
            models.CheckConstraint(
                condition=models.Q(amount_unit__in=AmountUnit.values), name="lot_unit_known"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.chemical.name} · {self.supplier} {self.lot_number}"

    def clean(self) -> None:
        """The amount within the bounds of its unit (grams or millilitres)."""
        key = "lot_amount_ml" if self.amount_unit == AmountUnit.MILLILITRE else "lot_amount_g"
        if self.amount_left is not None and not isinstance(self.amount_left, str):
            message = quantities.problem(key, self.amount_left)
            if message is not None:
                raise ValidationError({"amount_left": message})

    def is_expired(self, on: datetime.date | None = None) -> bool:
        return self.expires_on is not None and self.expires_on < (on or timezone.localdate())

    def amount_in(self, *, mass_g: float | None, volume_ml: float | None) -> float | None:
        """A consumption in this lot's unit (mass ↔ volume through the chemical's density)."""
        density = self.chemical.density_g_per_ml
        if self.amount_unit == AmountUnit.GRAM:
            if mass_g is not None:
                return mass_g
            return volume_ml * density if volume_ml is not None and density else None
        if volume_ml is not None:
            return volume_ml
        return mass_g / density if mass_g is not None and density else None
