"""Measurements on samples, the raw files behind them, and entered refinement results.

A RawFile row is one stored content (content-addressed by SHA-256 under MEDIA_ROOT/raw/, see
characterization.storage); MeasurementFile links it to measurements, so the same bytes
uploaded twice are one file that may belong to several measurements, each at most once.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.db.models.functions import Length
from django.db.models.lookups import Exact
from django.utils import timezone
from simple_history.models import HistoricalRecords

from characterization.analysis.structure import bond_lengths_angstrom, format_with_esd
from lims.validators import bound_q, bounded, validate_conditions
from lims.voiding import audited_history, void_constraint, void_fields


class MeasurementType(models.TextChoices):
    CYCLING = "cycling", "Galvanostatic cycling"
    RATE_TEST = "rate_test", "Rate test"
    EIS = "eis", "EIS"
    PITT = "pitt", "PITT"
    DEMS = "dems", "DEMS"
    DSC = "dsc", "DSC"
    XRD = "xrd", "XRD"
    IN_SITU_XRD = "in_situ_xrd", "In situ XRD"
    RIETVELD = "rietveld", "Rietveld refinement"
    XAS = "xas", "XAS"
    RIXS = "rixs", "RIXS"
    XPS = "xps", "XPS"
    MICROSCOPY = "microscopy", "TEM/SEM images"
    OTHER = "other", "Other"


class OriginSetting(models.TextChoices):
    TRANSITION_METAL = "transition_metal", "Transition metal at 3a (0,0,0)"
    LITHIUM = "lithium", "Lithium at 3a (0,0,0)"


class Measurement(models.Model):
    """One measurement of a sample (a cell or a powder); itself a sample of kind measurement."""

    sample = models.OneToOneField(
        "lims.Sample", on_delete=models.CASCADE, related_name="measurement"
    )
    subject = models.ForeignKey(
        "lims.Sample",
        on_delete=models.PROTECT,
        related_name="measurements",
        help_text="The sample measured (a coin cell, a powder, ...).",
    )
    measurement_type = models.CharField("type", max_length=20, choices=MeasurementType.choices)
    instrument = models.CharField(max_length=120, blank=True)
    conditions = models.JSONField(
        default=dict,
        blank=True,
        validators=[validate_conditions],
        help_text="Voltage window, C-rates, temperature, ...",
    )
    operator = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="measurements_run",
    )
    measured_at = models.DateTimeField(default=timezone.now)
    created_at = models.DateTimeField(auto_now_add=True)
    raw_files = models.ManyToManyField(
        "RawFile", through="MeasurementFile", related_name="measurements"
    )
    voided_at, voided_by, void_reason = void_fields()
    history = audited_history()

    class Meta:
        ordering = ["-measured_at", "-id"]
        indexes = [models.Index(fields=["measurement_type", "-measured_at"])]
        constraints = [
            models.CheckConstraint(
                condition=Q(measurement_type__in=MeasurementType.values),
                name="measurement_type_known",
            ),
            void_constraint("measurement"),
        ]

    def __str__(self) -> str:
        return f"{self.sample.code} {self.get_measurement_type_display()}"

    @property
    def is_refinement(self) -> bool:
        return self.measurement_type == MeasurementType.RIETVELD

    @property
    def is_void(self) -> bool:
        return self.voided_at is not None


class ReadState(models.TextChoices):
    """What Kiln made of a raw file (every file accounted for)."""

    PENDING = "pending", "Not looked at yet"
    RECOGNISED = "recognised", "Recognised"
    READ = "read", "Read"
    NOT_CYCLING = "not_cycling", "Read, not cycling"
    UNRECOGNISED = "unrecognised", "Not a format Kiln reads"
    DAMAGED = "damaged", "Damaged"


class RawFile(models.Model):
    """One stored content, never changed: MEDIA_ROOT/raw/<sha256[:2]>/<sha256>."""

    sha256 = models.CharField("SHA-256", max_length=64, unique=True, editable=False)
    size_bytes = models.BigIntegerField("size (bytes)", editable=False)
    original_name = models.CharField(max_length=255)
    content_type = models.CharField(max_length=120, blank=True)
    detected_format = models.CharField(
        max_length=40, blank=True, help_text="Cycler format recognised from the content."
    )
    read_state = models.CharField(
        max_length=16, choices=ReadState.choices, default=ReadState.PENDING, editable=False
    )
    read_message = models.TextField(
        blank=True, editable=False, help_text="What Kiln made of the file, in a sentence."
    )
    instrument_metadata = models.JSONField(
        default=dict,
        blank=True,
        editable=False,
        help_text="What the file says about its test, read on upload (a Neware .ndax: active "
        "mass, channel, start time, step program; see characterization.ndax_checks); "
        "empty for other files.",
    )
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="raw_files_uploaded",
    )
    uploaded_at = models.DateTimeField(auto_now_add=True)
    voided_at, voided_by, void_reason = void_fields()
    history = audited_history()

    class Meta:
        ordering = ["-uploaded_at", "-id"]
        constraints = [
            models.CheckConstraint(condition=Q(size_bytes__gt=0), name="rawfile_not_empty"),
            models.CheckConstraint(
                condition=Exact(Length("sha256"), 64), name="rawfile_sha256_length"
            ),
            models.CheckConstraint(
                condition=Q(read_state__in=ReadState.values), name="rawfile_read_state_known"
            ),
            void_constraint("rawfile"),
        ]

    def __str__(self) -> str:
        return f"{self.original_name} ({self.sha256[:12]})"

    @property
    def is_void(self) -> bool:
        return self.voided_at is not None

    @property
    def short_sha(self) -> str:
        return self.sha256[:12]

    @property
    def relative_path(self) -> str:
        """Where the content lives under MEDIA_ROOT (see characterization.storage)."""
        return f"raw/{self.sha256[:2]}/{self.sha256}"


class MeasurementFile(models.Model):
    """A raw file attached to a measurement (once per measurement)."""

    measurement = models.ForeignKey(Measurement, on_delete=models.CASCADE, related_name="files")
    raw_file = models.ForeignKey(RawFile, on_delete=models.PROTECT, related_name="links")
    added_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    added_at = models.DateTimeField(auto_now_add=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ["added_at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["measurement", "raw_file"], name="measurement_file_once"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.measurement_id}: {self.raw_file}"


def _null_or_positive(*fields: str) -> Q:
    condition = Q()
    for name in fields:
        condition &= Q(**{f"{name}__isnull": True}) | Q(**{f"{name}__gt": 0})
    return condition


class RefinementResult(models.Model):
    """Numbers entered from an external Rietveld refinement, with what Kiln derives from them."""

    measurement = models.ForeignKey(
        Measurement, on_delete=models.CASCADE, related_name="refinements"
    )
    phase = models.CharField(max_length=80, default="R-3m layered")
    origin = models.CharField("origin setting", max_length=20, choices=OriginSetting.choices)
    a_angstrom = models.FloatField("a (Å)", validators=[bounded("lattice_a_angstrom")])
    a_esd_angstrom = models.FloatField("esd of a (Å)", null=True, blank=True)
    c_angstrom = models.FloatField("c (Å)", validators=[bounded("lattice_c_angstrom")])
    c_esd_angstrom = models.FloatField("esd of c (Å)", null=True, blank=True)
    volume_angstrom3 = models.FloatField(
        "V entered (Å³)", null=True, blank=True, validators=[bounded("cell_volume_angstrom3")]
    )
    volume_esd_angstrom3 = models.FloatField("esd of V entered (Å³)", null=True, blank=True)
    z_oxygen = models.FloatField("z(O)", validators=[bounded("z_oxygen")])
    z_oxygen_esd = models.FloatField("esd of z(O)", null=True, blank=True)
    rwp_percent = models.FloatField(
        "Rwp (%)", null=True, blank=True, validators=[bounded("rwp_percent")]
    )
    occupancies = models.JSONField(default=dict, blank=True)
    slab_thickness_angstrom = models.FloatField("S(MO2) (Å)")
    interslab_spacing_angstrom = models.FloatField("I(LiO2) (Å)")
    cell_volume_angstrom3 = models.FloatField("V = (√3/2)·a²·c (Å³)")
    tm_o_bond_angstrom = models.FloatField("TM–O (Å)", null=True, blank=True)
    li_o_bond_angstrom = models.FloatField("Li–O (Å)", null=True, blank=True)
    warnings = models.JSONField(default=list, blank=True)
    entered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    entered_at = models.DateTimeField(auto_now_add=True)
    history = audited_history()

    class Meta:
        ordering = ["entered_at", "id"]
        constraints = [
            models.CheckConstraint(
                condition=bound_q("a_angstrom", "lattice_a_angstrom", null=False)
                & bound_q("c_angstrom", "lattice_c_angstrom", null=False),
                name="refinement_lattice_range",
            ),
            models.CheckConstraint(
                condition=Q(z_oxygen__gt=0) & Q(z_oxygen__lt=0.5), name="refinement_z_range"
            ),
            models.CheckConstraint(
                condition=bound_q("rwp_percent", "rwp_percent"), name="refinement_rwp_range"
            ),
            models.CheckConstraint(
                condition=bound_q("volume_angstrom3", "cell_volume_angstrom3"),
                name="refinement_volume_range",
            ),
            models.CheckConstraint(
                condition=_null_or_positive(
                    "a_esd_angstrom", "c_esd_angstrom", "volume_esd_angstrom3", "z_oxygen_esd"
                ),
                name="refinement_esd_positive",
            ),
            models.CheckConstraint(
                condition=Q(origin__in=OriginSetting.values), name="refinement_origin_known"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.phase}: a={self.a_angstrom:g} Å, c={self.c_angstrom:g} Å"

    # the numbers as a crystallographer writes them: 2.8589(1)
    @property
    def a_text(self) -> str:
        return format_with_esd(self.a_angstrom, self.a_esd_angstrom)

    @property
    def c_text(self) -> str:
        return format_with_esd(self.c_angstrom, self.c_esd_angstrom)

    @property
    def volume_text(self) -> str:
        if self.volume_angstrom3 is None:
            return ""
        return format_with_esd(self.volume_angstrom3, self.volume_esd_angstrom3)

    @property
    def z_text(self) -> str:
        return format_with_esd(self.z_oxygen, self.z_oxygen_esd)

    @property
    def bond_lengths(self) -> tuple[float, float]:
        """(TM–O, Li–O) in Å as stored, computed for results entered before Kiln stored them."""
        if self.tm_o_bond_angstrom is not None and self.li_o_bond_angstrom is not None:
            return self.tm_o_bond_angstrom, self.li_o_bond_angstrom
        return bond_lengths_angstrom(
            a_angstrom=self.a_angstrom,
            c_angstrom=self.c_angstrom,
            z_oxygen=self.z_oxygen,
            origin=self.origin,
        )
