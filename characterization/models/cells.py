"""Electrode sheets and the coin cells built from their discs (DOMAIN.md section 2).

Each row extends a lims Sample (one-to-one): the sample carries the code, owner and lineage,
the row carries the build record. Inputs and computed values are both stored, so a page shows
what was typed and what Kiln derived from it without recomputing history.
"""

from __future__ import annotations

import datetime

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.db.models.lookups import GreaterThan, Range
from simple_history.models import HistoricalRecords

from characterization.analysis.electrode import (
    LAB_ONE_C_MA_PER_G,
    PROTOCOL_C_RATES,
    disc_metrics,
)
from lims.validators import bound_q, bounded, validate_drying_steps
from lims.voiding import audited_history

#: a ratio "sums to 100" within this many percentage points (floats typed in a form)
RATIO_SUM_TOLERANCE = 0.01


def default_drying_steps() -> list[dict]:
    """The lab's drying: 80 °C (solvent off), then 12 h at 120 °C under vacuum."""
    return [
        {"temperature_c": 80.0, "duration_h": None, "vacuum": False},
        {"temperature_c": 120.0, "duration_h": 12.0, "vacuum": True},
    ]


class CastingMethod(models.TextChoices):
    BLADE_GAP = "blade_gap", "Blade gap"
    WET_THICKNESS = "wet_thickness", "Wet thickness"


class ElectrodeRole(models.TextChoices):
    """The working electrode of a half-cell against Li: it decides which half cycle opens a
    cycle (a cathode charges first, an anode lithiates first) and so the efficiency."""

    CATHODE = "cathode", "Cathode (charges first)"
    ANODE = "anode", "Anode (lithiates first)"


class CellFormat(models.TextChoices):
    CR2016 = "2016", "2016"
    CR2025 = "2025", "2025"
    CR2032 = "2032", "2032"
    OTHER = "other", "Other"


def _positive(field: str) -> Q:
    return Q(**{f"{field}__gt": 0})


class Electrode(models.Model):
    """One cast electrode sheet: slurry, casting, drying and the discs punched from it."""

    sample = models.OneToOneField("lims.Sample", on_delete=models.CASCADE, related_name="electrode")
    active_material = models.ForeignKey(
        "lims.Sample",
        on_delete=models.PROTECT,
        related_name="electrodes_made",
        limit_choices_to={"kind": "cathode"},
        help_text="The cathode powder.",
    )
    carbon_name = models.CharField("conductive carbon", max_length=120, default="carbon black")
    carbon_lot = models.ForeignKey(
        "synthesis.Lot",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name="carbon lot",
    )
    binder_name = models.CharField("binder", max_length=120, default="PVDF")
    binder_lot = models.ForeignKey(
        "synthesis.Lot",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name="binder lot",
    )
    solvent = models.CharField(max_length=60, default="NMP")
    ratio_active_percent = models.FloatField("active material (mass %)", default=80.0)
    ratio_carbon_percent = models.FloatField("carbon (mass %)", default=10.0)
    ratio_binder_percent = models.FloatField("binder (mass %)", default=10.0)
    active_mass_g = models.FloatField("active material used (g)")
    solid_content_percent = models.FloatField("solid content (mass %)")
    carbon_mass_g = models.FloatField("carbon (g)")
    binder_mass_g = models.FloatField("binder (g)")
    solvent_mass_g = models.FloatField("solvent (g)")
    current_collector = models.CharField(max_length=60, default="Al foil")
    collector_thickness_um = models.FloatField(
        "collector thickness (µm)",
        null=True,
        blank=True,
        validators=[bounded("collector_thickness_um")],
    )
    particle_d50_um = models.FloatField(
        "active particle size D50 (µm)",
        null=True,
        blank=True,
        validators=[bounded("particle_d50_um")],
        help_text="The powder's median (secondary) particle diameter; PITT takes half of it "
        "as the diffusion length unless one is given.",
    )
    casting_method = models.CharField(
        max_length=16, choices=CastingMethod.choices, default=CastingMethod.BLADE_GAP
    )
    casting_thickness_um = models.FloatField(
        "blade gap / wet thickness (µm)", validators=[bounded("casting_thickness_um")]
    )
    drying_steps = models.JSONField(
        default=default_drying_steps, blank=True, validators=[validate_drying_steps]
    )
    disc_diameter_mm = models.FloatField(
        "disc diameter (mm)", default=12.0, validators=[bounded("disc_diameter_mm")]
    )
    foil_disc_mass_mg = models.FloatField(
        "bare foil disc mass (mg)",
        null=True,
        blank=True,
        validators=[bounded("foil_disc_mass_mg")],
        help_text="The usual mass of a bare foil disc of this sheet; cells start from it.",
    )
    one_c_ma_per_g = models.FloatField(
        "1C (mA/g)", default=LAB_ONE_C_MA_PER_G, validators=[bounded("one_c_ma_per_g")]
    )
    made_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="electrodes_made",
    )
    made_on = models.DateField(default=datetime.date.today)
    created_at = models.DateTimeField(auto_now_add=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ["-made_on", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Range(
                    F("ratio_active_percent")
                    + F("ratio_carbon_percent")
                    + F("ratio_binder_percent"),
                    (100 - RATIO_SUM_TOLERANCE, 100 + RATIO_SUM_TOLERANCE),
                ),
                name="electrode_ratio_sums_to_100",
            ),
            models.CheckConstraint(
                condition=_positive("ratio_active_percent")
                & Q(ratio_carbon_percent__gte=0)
                & Q(ratio_binder_percent__gte=0),
                name="electrode_ratio_parts_not_negative",
            ),
            models.CheckConstraint(
                condition=Q(solid_content_percent__gt=0) & Q(solid_content_percent__lt=100),
                name="electrode_solid_content_range",
            ),
            models.CheckConstraint(
                condition=bound_q("active_mass_g", "slurry_active_mass_g", null=False),
                name="electrode_active_mass_range",
            ),
            models.CheckConstraint(
                condition=bound_q("casting_thickness_um", "casting_thickness_um", null=False),
                name="electrode_casting_range",
            ),
            models.CheckConstraint(
                condition=bound_q("disc_diameter_mm", "disc_diameter_mm", null=False),
                name="electrode_disc_diameter_range",
            ),
            models.CheckConstraint(
                condition=bound_q("foil_disc_mass_mg", "foil_disc_mass_mg"),
                name="electrode_foil_mass_range",
            ),
            models.CheckConstraint(
                condition=bound_q("collector_thickness_um", "collector_thickness_um"),
                name="electrode_collector_thickness_range",
            ),
            models.CheckConstraint(
                condition=bound_q("particle_d50_um", "particle_d50_um"),
                name="electrode_particle_d50_range",
            ),
            models.CheckConstraint(
                condition=bound_q("one_c_ma_per_g", "one_c_ma_per_g", null=False),
                name="electrode_one_c_range",
            ),
            models.CheckConstraint(
                condition=Q(casting_method__in=CastingMethod.values),
                name="electrode_casting_method_known",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.sample.code} {self.sample.name}"

    @property
    def active_fraction(self) -> float:
        return self.ratio_active_percent / 100.0

    @property
    def ratio_label(self) -> str:
        parts = (self.ratio_active_percent, self.ratio_carbon_percent, self.ratio_binder_percent)
        return " : ".join(f"{p:g}" for p in parts)

    @property
    def solids_mass_g(self) -> float:
        return self.active_mass_g + self.carbon_mass_g + self.binder_mass_g


class CoinCell(models.Model):
    """A coin cell around one disc punched from an electrode sheet."""

    sample = models.OneToOneField("lims.Sample", on_delete=models.CASCADE, related_name="coin_cell")
    electrode = models.ForeignKey(Electrode, on_delete=models.PROTECT, related_name="cells")
    cell_format = models.CharField(
        "format", max_length=8, choices=CellFormat.choices, default=CellFormat.CR2025
    )
    disc_diameter_mm = models.FloatField(
        "disc diameter (mm)", validators=[bounded("disc_diameter_mm")]
    )
    disc_mass_mg = models.FloatField("disc mass (mg)", validators=[bounded("disc_mass_mg")])
    foil_disc_mass_mg = models.FloatField(
        "bare foil disc mass (mg)", validators=[bounded("foil_disc_mass_mg")]
    )
    active_fraction = models.FloatField(help_text="From the electrode ratio: 0.8 for 80 %.")
    one_c_ma_per_g = models.FloatField(
        "1C (mA/g)", default=LAB_ONE_C_MA_PER_G, validators=[bounded("one_c_ma_per_g")]
    )
    electrode_role = models.CharField(
        "working electrode",
        max_length=8,
        choices=ElectrodeRole.choices,
        default=ElectrodeRole.CATHODE,
        help_text="A cathode half-cell charges first; an anode half-cell lithiates first.",
    )
    disc_area_cm2 = models.FloatField("disc area (cm²)")
    active_mass_mg = models.FloatField("active mass (mg)")
    areal_loading_mg_per_cm2 = models.FloatField("areal loading (mg/cm²)")
    counter_electrode = models.CharField(max_length=80, default="Li metal")
    separator = models.CharField(max_length=80, default="Celgard 2400")
    electrolyte_name = models.CharField(
        "electrolyte", max_length=120, default="1 M LiPF6 in EC:DMC (1:1 v/v)"
    )
    electrolyte_volume_ul = models.FloatField(
        "electrolyte volume (µL)", default=60.0, validators=[bounded("electrolyte_volume_ul")]
    )
    glovebox_o2_ppm = models.FloatField(
        "glove-box O2 (ppm)", null=True, blank=True, validators=[bounded("glovebox_o2_ppm")]
    )
    glovebox_h2o_ppm = models.FloatField(
        "glove-box H2O (ppm)", null=True, blank=True, validators=[bounded("glovebox_h2o_ppm")]
    )
    built_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="cells_built",
    )
    built_on = models.DateField(default=datetime.date.today)
    created_at = models.DateTimeField(auto_now_add=True)
    history = audited_history()

    class Meta:
        ordering = ["-built_on", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=GreaterThan(F("disc_mass_mg"), F("foil_disc_mass_mg")),
                name="cell_disc_heavier_than_foil",
            ),
            models.CheckConstraint(
                condition=bound_q("foil_disc_mass_mg", "foil_disc_mass_mg", null=False)
                & bound_q("disc_mass_mg", "disc_mass_mg", null=False),
                name="cell_disc_masses_range",
            ),
            models.CheckConstraint(
                condition=Q(active_fraction__gt=0) & Q(active_fraction__lte=1),
                name="cell_active_fraction_range",
            ),
            models.CheckConstraint(
                condition=bound_q("disc_diameter_mm", "disc_diameter_mm", null=False),
                name="cell_disc_diameter_range",
            ),
            models.CheckConstraint(
                condition=_positive("active_mass_mg"), name="cell_active_mass_positive"
            ),
            models.CheckConstraint(
                condition=bound_q("one_c_ma_per_g", "one_c_ma_per_g", null=False),
                name="cell_one_c_range",
            ),
            models.CheckConstraint(
                condition=Q(electrode_role__in=ElectrodeRole.values), name="cell_role_known"
            ),
            models.CheckConstraint(
                condition=bound_q("electrolyte_volume_ul", "electrolyte_volume_ul", null=False),
                name="cell_electrolyte_range",
            ),
            models.CheckConstraint(
                condition=bound_q("glovebox_o2_ppm", "glovebox_o2_ppm")
                & bound_q("glovebox_h2o_ppm", "glovebox_h2o_ppm"),
                name="cell_glovebox_ppm_range",
            ),
            models.CheckConstraint(
                condition=Q(cell_format__in=CellFormat.values), name="cell_format_known"
            ),
        ]
        indexes = [models.Index(fields=["built_on"])]

    def __str__(self) -> str:
        return f"{self.sample.code} {self.sample.name}"

    def c_rate_currents_ma(self, c_rates=PROTOCOL_C_RATES) -> dict[str, float]:
        """{rate label: current in mA} from the stored inputs (same arithmetic as at build)."""
        return disc_metrics(
            disc_diameter_mm=self.disc_diameter_mm,
            disc_mass_mg=self.disc_mass_mg,
            foil_disc_mass_mg=self.foil_disc_mass_mg,
            active_fraction=self.active_fraction,
            one_c_ma_per_g=self.one_c_ma_per_g,
            c_rates=c_rates,
        ).current_ma
