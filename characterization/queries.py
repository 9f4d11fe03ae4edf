"""Reads of the characterization app, shared by the pages, the admin and (later) the API."""

from __future__ import annotations

import datetime
from dataclasses import dataclass

from django.contrib.auth import get_user_model
from django.db.models import Count, Prefetch, Q, QuerySet

from characterization.analysis.electrode import PROTOCOL_C_RATES, slurry_quantities
from characterization.analysis.errors import AnalysisError
from characterization.models import (
    CoinCell,
    Electrode,
    Measurement,
    MeasurementFile,
    RawFile,
)
from lims.models import Sample, SampleKind
from lims.voiding import live
from synthesis.models import Lot

LIST_LIMIT = 200


def electrodes() -> QuerySet[Electrode]:
    return Electrode.objects.select_related("sample", "active_material", "made_by")


def cells() -> QuerySet[CoinCell]:
    return CoinCell.objects.select_related(
        "sample", "electrode__sample", "electrode__active_material", "built_by"
    )


def measurements() -> QuerySet[Measurement]:
    return Measurement.objects.select_related("sample", "subject", "operator").annotate(
        file_count=Count("files")
    )


def cathode_powders() -> QuerySet[Sample]:
    return Sample.objects.filter(kind=SampleKind.CATHODE).order_by("-created_at", "-id")


def inventory_lots():
    """Lots of the synthesis inventory, for the carbon and binder choices."""
    return Lot.objects.select_related("chemical").order_by("chemical__name", "lot_number")


def measurable_samples() -> QuerySet[Sample]:
    return Sample.objects.exclude(kind=SampleKind.MEASUREMENT)


def cell_builders():
    return (
        get_user_model().objects.filter(cells_built__isnull=False).distinct().order_by("username")
    )


@dataclass(frozen=True)
class CellFilters:
    q: str = ""
    cell_format: str = ""
    builder: int | None = None
    built_from: datetime.date | None = None
    built_to: datetime.date | None = None
    void: bool = False  # list void cells (and sheets) too


def electrodes_for_index(*, q: str = "", void: bool = False) -> QuerySet[Electrode]:
    rows = electrodes().annotate(cell_count=Count("cells"))
    if not void:
        rows = rows.filter(sample__voided_at__isnull=True)
    if q:
        rows = rows.filter(
            Q(sample__code__icontains=q)
            | Q(sample__name__icontains=q)
            | Q(active_material__code__icontains=q)
            | Q(active_material__name__icontains=q)
        )
    return rows[:LIST_LIMIT]


def cells_for_index(filters: CellFilters) -> QuerySet[CoinCell]:
    rows = cells() if filters.void else cells().filter(sample__voided_at__isnull=True)
    if filters.q:
        q = filters.q
        rows = rows.filter(
            Q(sample__code__icontains=q)
            | Q(sample__name__icontains=q)
            | Q(electrode__sample__code__icontains=q)
            | Q(electrode__active_material__code__icontains=q)
            | Q(electrode__active_material__name__icontains=q)
        )
    if filters.cell_format:
        rows = rows.filter(cell_format=filters.cell_format)
    if filters.builder:
        rows = rows.filter(built_by_id=filters.builder)
    if filters.built_from:
        rows = rows.filter(built_on__gte=filters.built_from)
    if filters.built_to:
        rows = rows.filter(built_on__lte=filters.built_to)
    return rows[:LIST_LIMIT]


def electrode_detail(code: str) -> Electrode:
    """The electrode with its cells (raises Electrode.DoesNotExist)."""
    cell_rows = CoinCell.objects.select_related("sample", "built_by").order_by("id")
    return (
        electrodes().prefetch_related(Prefetch("cells", queryset=cell_rows)).get(sample__code=code)
    )


def slurry_rows(electrode: Electrode) -> list[dict]:
    """The slurry table: component, mass %, mass to weigh (g)."""
    return [
        {
            "component": f"Active material ({electrode.active_material.code})",
            "percent": electrode.ratio_active_percent,
            "mass_g": electrode.active_mass_g,
        },
        {
            "component": electrode.carbon_name,
            "percent": electrode.ratio_carbon_percent,
            "mass_g": electrode.carbon_mass_g,
        },
        {
            "component": electrode.binder_name,
            "percent": electrode.ratio_binder_percent,
            "mass_g": electrode.binder_mass_g,
        },
        {
            "component": f"{electrode.solvent} (solvent)",
            "percent": None,
            "mass_g": electrode.solvent_mass_g,
        },
    ]


def cell_detail(code: str) -> CoinCell:
    """The cell with its electrode and powder (raises CoinCell.DoesNotExist)."""
    return cells().get(sample__code=code)


def c_rate_table(cell: CoinCell) -> list[dict]:
    """One row per protocol C-rate: the rate, its label and the current (mA)."""
    currents = cell.c_rate_currents_ma(PROTOCOL_C_RATES)
    return [
        {"rate": rate, "label": label, "current_ma": current}
        for rate, (label, current) in zip(PROTOCOL_C_RATES, currents.items(), strict=True)
    ]


def measurements_of(sample: Sample, *, include_void: bool = False) -> QuerySet[Measurement]:
    rows = live(measurements(), include_void=include_void).filter(subject=sample)
    return rows.prefetch_related(_file_links())


def _file_links() -> Prefetch:
    return Prefetch("files", queryset=MeasurementFile.objects.select_related("raw_file"))


@dataclass(frozen=True)
class MeasurementFilters:
    q: str = ""
    measurement_type: str = ""
    operator: int | None = None
    void: bool = False  # list void measurements too


def measurements_for_index(filters: MeasurementFilters) -> QuerySet[Measurement]:
    rows = live(measurements(), include_void=filters.void)
    if filters.q:
        q = filters.q
        rows = rows.filter(
            Q(sample__code__icontains=q)
            | Q(subject__code__icontains=q)
            | Q(subject__name__icontains=q)
            | Q(instrument__icontains=q)
        )
    if filters.measurement_type:
        rows = rows.filter(measurement_type=filters.measurement_type)
    if filters.operator:
        rows = rows.filter(operator_id=filters.operator)
    return rows[:LIST_LIMIT]


def measurement_operators():
    return (
        get_user_model()
        .objects.filter(measurements_run__isnull=False)
        .distinct()
        .order_by("username")
    )


def measurement_detail(code: str) -> Measurement:
    """The measurement with its files and refinement results (raises DoesNotExist)."""
    return measurements().prefetch_related(_file_links(), "refinements").get(sample__code=code)


def cell_of(sample: Sample) -> CoinCell | None:
    """The coin cell a sample is, if it is one (for links from a measurement)."""
    return CoinCell.objects.filter(sample=sample).select_related("electrode__sample").first()


def raw_file(sha256: str) -> RawFile:
    return RawFile.objects.get(sha256=sha256)


def slurry_preview(
    *, ratio_active_percent, ratio_carbon_percent, ratio_binder_percent, **kwargs
) -> dict:
    """{"slurry": SlurryQuantities} or {"error": message}; nothing is saved."""
    try:
        ratio = (ratio_active_percent, ratio_carbon_percent, ratio_binder_percent)
        return {"slurry": slurry_quantities(ratio=ratio, **kwargs)}
    except AnalysisError as exc:
        return {"error": exc.message}


CONDITION_LABELS = {
    "voltage_window_v": ("Voltage window (V)", " – "),
    "c_rates": ("C-rates", ", "),
    "temperature_c": ("Temperature (°C)", ", "),
}


def condition_rows(measurement: Measurement) -> list[tuple[str, str]]:
    """(label, text) per recorded condition, lists joined for reading."""
    rows = []
    for key, value in (measurement.conditions or {}).items():
        label, joiner = CONDITION_LABELS.get(key, (key, ", "))
        if isinstance(value, list | tuple):
            text = joiner.join("…" if v is None else f"{v:g}" if isinstance(v, float) else str(v)
                               for v in value)  # fmt: skip
        else:
            text = f"{value:g}" if isinstance(value, float) else str(value)
        rows.append((label, text))
    return rows
