"""Every write of the characterization app: electrodes, coin cells, measurements, raw files.

Keyword-only `<entity>_<action>` functions, each in one transaction. Bad input raises
django.core.exceptions.ValidationError with a dict keyed by the input's name (rows of a
batch as ``discs[2].disc_mass_mg``), so forms and the API can show it next to the field.
"""

from __future__ import annotations

import datetime
import mimetypes
import os
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import partial

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from characterization import ndax_checks, storage
from characterization.analysis.electrode import (
    LAB_ONE_C_MA_PER_G,
    disc_metrics,
    slurry_quantities,
)
from characterization.analysis.errors import AnalysisError
from characterization.analysis.structure import (
    Reading,
    RefinedNumber,
    layered_metrics,
    reading_of,
)
from characterization.jobs.cache import unpack_limits
from characterization.jobs.enqueue import jobs_create_for_measurement
from characterization.jobs.sending import raw_file_inspect_send
from characterization.models import (
    CastingMethod,
    CellFormat,
    CoinCell,
    Electrode,
    ElectrodeRole,
    Measurement,
    MeasurementFile,
    MeasurementType,
    OriginSetting,
    RawFile,
    RefinementResult,
    default_drying_steps,
)
from characterization.parsers.verdict import verdict_of_head
from lims import quantities
from lims.models import EdgeRole, Project, Sample, SampleKind
from lims.services import ParentLink, lineage_link, sample_register
from lims.stock_services import stock_draw_check

ELECTRODE_SOURCE_KINDS = (SampleKind.CATHODE,)
MAX_CELLS_PER_BATCH = 48


def _fail(errors: Mapping[str, str | list[str]]) -> None:
    if errors:
        raise ValidationError(
            {field: msg if isinstance(msg, list) else [msg] for field, msg in errors.items()}
        )


def _check_positive(errors: dict, field: str, value, label: str, *, optional: bool = False):
    if value is None:
        if not optional:
            errors[field] = f"{label} is required"
    elif value <= 0:
        errors[field] = f"{label} must be greater than 0, got {value:g}"


# --- electrodes -------------------------------------------------------------------------------


def drying_steps_clean(steps: Iterable[Mapping] | None) -> list[dict]:
    """[{temperature_c, duration_h (or None), vacuum}] checked; None gives the lab default."""
    if steps is None:
        return default_drying_steps()
    cleaned = []
    for index, step in enumerate(steps):
        temperature = _as_number(step.get("temperature_c"))
        duration = _as_number(step.get("duration_h"))
        where, which = f"drying_steps[{index}]", f"drying step {index + 1}"
        if temperature is None:
            _fail({where: f"{which}: give a temperature (°C)"})
        _fail(
            quantities.problems(
                [
                    (where, "drying_temperature_c", temperature, f"{which}: the temperature"),
                    (where, "duration_h", duration, f"{which}: the time"),
                ]
            )
        )
        cleaned.append(
            {
                "temperature_c": float(temperature),
                "duration_h": None if duration is None else float(duration),
                "vacuum": bool(step.get("vacuum", False)),
            }
        )
    return cleaned


def _as_number(value):
    """A number typed as text ('80') as a float; anything else unchanged for the bounds to judge."""
    if isinstance(value, str):
        try:
            return float(value)
        except ValueError:
            return value
    return value


@transaction.atomic
def electrode_build(
    *,
    active_material: Sample,
    made_by,
    active_mass_g: float,
    solid_content_percent: float,
    casting_thickness_um: float,
    ratio: Sequence[float] = (80.0, 10.0, 10.0),
    casting_method: str = CastingMethod.BLADE_GAP,
    name: str = "",
    carbon_name: str = "carbon black",
    carbon_lot=None,
    binder_name: str = "PVDF",
    binder_lot=None,
    solvent: str = "NMP",
    current_collector: str = "Al foil",
    collector_thickness_um: float | None = None,
    particle_d50_um: float | None = None,
    drying_steps: Iterable[Mapping] | None = None,
    disc_diameter_mm: float = 12.0,
    foil_disc_mass_mg: float | None = None,
    one_c_ma_per_g: float | None = None,
    made_on: datetime.date | None = None,
    project: Project | None = None,
    location: str = "",
    notes: str = "",
) -> Electrode:
    """Register an electrode sheet (sample kind electrode) cast from a cathode powder.

    The slurry is computed from the wanted active mass, the ratio and the solid content
    (analysis.electrode.slurry_quantities); lineage: powder -> electrode (active material,
    amount = active mass in g), and carbon/binder lot samples -> electrode (component). The
    active mass is drawn from the powder's stock: more than is left is refused (lims.stock).
    """
    errors: dict[str, str] = {}
    if active_material.kind not in ELECTRODE_SOURCE_KINDS:
        errors["active_material"] = (
            f"{active_material.code} is a {active_material.get_kind_display().lower()}, "
            "not a cathode powder"
        )
    _check_positive(errors, "casting_thickness_um", casting_thickness_um, "casting thickness")
    _check_positive(errors, "disc_diameter_mm", disc_diameter_mm, "disc diameter")
    names = ("active material", "carbon", "binder")
    for field, message in quantities.problems(
        [
            ("active_mass_g", "slurry_active_mass_g", active_mass_g),
            ("solid_content_percent", "solid_content_percent", solid_content_percent),
            ("casting_thickness_um", "casting_thickness_um", casting_thickness_um),
            ("disc_diameter_mm", "disc_diameter_mm", disc_diameter_mm),
            ("foil_disc_mass_mg", "foil_disc_mass_mg", foil_disc_mass_mg),
            ("collector_thickness_um", "collector_thickness_um", collector_thickness_um),
            ("particle_d50_um", "particle_d50_um", particle_d50_um),
            ("one_c_ma_per_g", "one_c_ma_per_g", one_c_ma_per_g),
            *(
                ("ratio", "ratio_percent", part, f"{name} part of the ratio")
                for part, name in zip(ratio, names, strict=False)
            ),
        ]
    ).items():
        errors.setdefault(field, message)
    if casting_method not in CastingMethod.values:
        errors["casting_method"] = f"unknown casting method {casting_method!r}"
    try:
        slurry = slurry_quantities(
            active_mass_g=active_mass_g,
            ratio=tuple(ratio),
            solid_content_percent=solid_content_percent,
        )
    except AnalysisError as exc:
        errors[exc.field] = exc.message
    _fail(errors)
    steps = drying_steps_clean(drying_steps)
    stock_draw_check(  # locks the powder until this commits: no two draws on the same grams
        sample=active_material, wanted_g=slurry.active_mass_g, use="this electrode",
        field="active_mass_g",
    )  # fmt: skip
    sample = sample_register(
        kind=SampleKind.ELECTRODE,
        name=name.strip() or f"{active_material.name} electrode",
        owner=made_by,
        project=project or active_material.project,
        location=location,
        notes=notes,
        parents=[ParentLink(active_material, EdgeRole.ACTIVE_MATERIAL, slurry.active_mass_g, "g")],
    )
    electrode = Electrode.objects.create(
        sample=sample,
        active_material=active_material,
        carbon_name=carbon_name.strip() or _lot_name(carbon_lot) or "carbon black",
        binder_name=binder_name.strip() or _lot_name(binder_lot) or "PVDF",
        solvent=solvent.strip() or "NMP",
        ratio_active_percent=float(ratio[0]),
        ratio_carbon_percent=float(ratio[1]),
        ratio_binder_percent=float(ratio[2]),
        active_mass_g=slurry.active_mass_g,
        solid_content_percent=float(solid_content_percent),
        carbon_mass_g=slurry.carbon_mass_g,
        binder_mass_g=slurry.binder_mass_g,
        solvent_mass_g=slurry.solvent_mass_g,
        current_collector=current_collector.strip() or "Al foil",
        collector_thickness_um=collector_thickness_um,
        particle_d50_um=particle_d50_um,
        casting_method=casting_method,
        casting_thickness_um=casting_thickness_um,
        drying_steps=steps,
        disc_diameter_mm=disc_diameter_mm,
        foil_disc_mass_mg=foil_disc_mass_mg,
        one_c_ma_per_g=one_c_ma_per_g or _default_one_c(active_material),
        made_by=made_by,
        made_on=made_on or timezone.localdate(),
        carbon_lot=carbon_lot,
        binder_lot=binder_lot,
    )
    _link_lot(carbon_lot, electrode, slurry.carbon_mass_g)
    _link_lot(binder_lot, electrode, slurry.binder_mass_g)
    return electrode


def _default_one_c(powder: Sample) -> float:
    """1C of the newest electrode of the same powder, else the lab's 250 mA/g."""
    previous = Electrode.objects.filter(active_material=powder).order_by("-id").first()
    return previous.one_c_ma_per_g if previous else LAB_ONE_C_MA_PER_G


def _lot_name(lot) -> str:
    return lot.chemical.name if lot is not None else ""


def _link_lot(lot, electrode: Electrode, mass_g: float) -> None:
    """Lineage lot sample -> electrode, so a cell's ancestry names its carbon and binder."""
    if lot is not None:
        lineage_link(
            parent=lot.sample,
            child=electrode.sample,
            role=EdgeRole.COMPONENT,
            amount=mass_g,
            amount_unit="g",
        )


# --- coin cells -------------------------------------------------------------------------------


@dataclass(frozen=True)
class DiscRow:
    """One disc of a batch of cells: its weighed mass, and its foil mass if not the sheet's."""

    disc_mass_mg: float
    foil_disc_mass_mg: float | None = None


@transaction.atomic
def cell_build_batch(
    *,
    electrode: Electrode,
    discs: Sequence[DiscRow],
    built_by,
    foil_disc_mass_mg: float | None = None,
    cell_format: str = CellFormat.CR2025,
    counter_electrode: str = "Li metal",
    separator: str = "Celgard 2400",
    electrolyte_name: str = "1 M LiPF6 in EC:DMC (1:1 v/v)",
    electrolyte_volume_ul: float = 60.0,
    glovebox_o2_ppm: float | None = None,
    glovebox_h2o_ppm: float | None = None,
    one_c_ma_per_g: float | None = None,
    electrode_role: str = ElectrodeRole.CATHODE,
    built_on: datetime.date | None = None,
    location: str = "",
    notes: str = "",
) -> list[CoinCell]:
    """Build one coin cell per disc from one electrode sheet; all or nothing.

    `electrode_role` is the working electrode of the half-cell (a cathode charges first, an
    anode lithiates first): it decides how the analyses pair charge and discharge.

    Each cell stores its inputs and disc_metrics' area, active mass and loading, and is
    registered as a sample of kind cell with the edge electrode -> cell (component, disc mg).
    A bad row (e.g. a disc not heavier than its foil) fails the whole batch, named by index.
    """
    cells = cell_batch_plan(
        electrode=electrode, discs=discs, built_by=built_by,
        foil_disc_mass_mg=foil_disc_mass_mg, cell_format=cell_format,
        counter_electrode=counter_electrode, separator=separator,
        electrolyte_name=electrolyte_name, electrolyte_volume_ul=electrolyte_volume_ul,
        glovebox_o2_ppm=glovebox_o2_ppm, glovebox_h2o_ppm=glovebox_h2o_ppm,
        one_c_ma_per_g=one_c_ma_per_g, electrode_role=electrode_role, built_on=built_on,
    )  # fmt: skip
    first_number = electrode.cells.count() + 1
    for offset, cell in enumerate(cells):
        cell.sample = sample_register(
            kind=SampleKind.CELL,
            name=f"{electrode.sample.name} – cell {first_number + offset}",
            owner=built_by,
            project=electrode.sample.project,
            location=location,
            notes=notes,
            parents=[ParentLink(electrode.sample, EdgeRole.COMPONENT, cell.disc_mass_mg, "mg")],
        )
        cell.save()
    return cells


def cell_batch_plan(
    *,
    electrode: Electrode,
    discs: Sequence[DiscRow],
    built_by,
    foil_disc_mass_mg: float | None = None,
    cell_format: str = CellFormat.CR2025,
    counter_electrode: str = "Li metal",
    separator: str = "Celgard 2400",
    electrolyte_name: str = "1 M LiPF6 in EC:DMC (1:1 v/v)",
    electrolyte_volume_ul: float = 60.0,
    glovebox_o2_ppm: float | None = None,
    glovebox_h2o_ppm: float | None = None,
    one_c_ma_per_g: float | None = None,
    electrode_role: str = ElectrodeRole.CATHODE,
    built_on: datetime.date | None = None,
) -> list[CoinCell]:
    """The cells cell_build_batch builds, checked and computed but unsaved and without their
    sample (no query): a ValidationError names a bad disc by index. The sample import saves
    many of them in bulk (characterization.cell_import)."""
    foil_default = (
        foil_disc_mass_mg if foil_disc_mass_mg is not None else electrode.foil_disc_mass_mg
    )
    one_c = one_c_ma_per_g if one_c_ma_per_g is not None else electrode.one_c_ma_per_g
    errors = _shared_cell_errors(
        discs=discs,
        cell_format=cell_format,
        electrolyte_volume_ul=electrolyte_volume_ul,
        glovebox_o2_ppm=glovebox_o2_ppm,
        glovebox_h2o_ppm=glovebox_h2o_ppm,
        one_c_ma_per_g=one_c,
    )
    if electrode_role not in ElectrodeRole.values:
        errors["electrode_role"] = "choose the working electrode: cathode or anode"
    diameter = electrode.disc_diameter_mm  # a sheet saved before the bounds existed
    errors.update(
        quantities.problems(
            [("disc_diameter_mm", "disc_diameter_mm", diameter, "sheet disc diameter")]
        )
    )
    metrics = []
    for index, row in enumerate(discs):
        foil = row.foil_disc_mass_mg if row.foil_disc_mass_mg is not None else foil_default
        if foil is None:
            errors[f"discs[{index}].foil_disc_mass_mg"] = (
                "give the bare foil disc mass (for this disc or for the whole batch)"
            )
            continue
        found = quantities.problems(
            [
                (f"discs[{index}].disc_mass_mg", "disc_mass_mg", row.disc_mass_mg),
                (f"discs[{index}].foil_disc_mass_mg", "foil_disc_mass_mg", foil),
            ]
        )
        if found:
            errors.update(found)
            continue
        try:
            metrics.append(
                (row, foil, _disc_metrics(electrode, row.disc_mass_mg, foil, one_c or 1.0))
            )
        except AnalysisError as exc:
            errors[f"discs[{index}].{exc.field}"] = exc.message
    _fail(errors)
    shared = {
        "cell_format": cell_format,
        "counter_electrode": counter_electrode.strip() or "Li metal",
        "separator": separator.strip(),
        "electrolyte_name": electrolyte_name.strip(),
        "electrolyte_volume_ul": electrolyte_volume_ul,
        "glovebox_o2_ppm": glovebox_o2_ppm,
        "glovebox_h2o_ppm": glovebox_h2o_ppm,
        "one_c_ma_per_g": one_c,
        "electrode_role": electrode_role,
        "built_by": built_by,
        "built_on": built_on or timezone.localdate(),
    }
    return [
        CoinCell(
            electrode=electrode,
            disc_diameter_mm=electrode.disc_diameter_mm,
            disc_mass_mg=row.disc_mass_mg,
            foil_disc_mass_mg=foil,
            active_fraction=electrode.active_fraction,
            disc_area_cm2=metric.disc_area_cm2,
            active_mass_mg=metric.active_mass_mg,
            areal_loading_mg_per_cm2=metric.areal_loading_mg_per_cm2,
            **shared,
        )
        for row, foil, metric in metrics
    ]


def cell_build(*, electrode: Electrode, disc_mass_mg: float, built_by, **shared) -> CoinCell:
    """One coin cell: cell_build_batch with a single disc (same shared arguments)."""
    return cell_build_batch(
        electrode=electrode, discs=[DiscRow(disc_mass_mg)], built_by=built_by, **shared
    )[0]


def _disc_metrics(electrode: Electrode, disc_mass_mg, foil_mg, one_c):
    return disc_metrics(
        disc_diameter_mm=electrode.disc_diameter_mm,
        disc_mass_mg=disc_mass_mg,
        foil_disc_mass_mg=foil_mg,
        active_fraction=electrode.active_fraction,
        one_c_ma_per_g=one_c,
        c_rates=(),
    )


def _shared_cell_errors(
    *,
    discs,
    cell_format,
    electrolyte_volume_ul,
    glovebox_o2_ppm,
    glovebox_h2o_ppm,
    one_c_ma_per_g,
) -> dict[str, str]:
    errors: dict[str, str] = {}
    if not discs:
        errors["discs"] = "enter the mass of at least one disc"
    elif len(discs) > MAX_CELLS_PER_BATCH:
        errors["discs"] = f"at most {MAX_CELLS_PER_BATCH} cells in one batch"
    if cell_format not in CellFormat.values:
        errors["cell_format"] = f"unknown cell format {cell_format!r}"
    if electrolyte_volume_ul is None:
        errors["electrolyte_volume_ul"] = "give the electrolyte volume (µL)"
    _check_positive(errors, "one_c_ma_per_g", one_c_ma_per_g, "1C")
    found = quantities.problems(
        [
            ("electrolyte_volume_ul", "electrolyte_volume_ul", electrolyte_volume_ul),
            ("glovebox_o2_ppm", "glovebox_o2_ppm", glovebox_o2_ppm),
            ("glovebox_h2o_ppm", "glovebox_h2o_ppm", glovebox_h2o_ppm),
            ("one_c_ma_per_g", "one_c_ma_per_g", one_c_ma_per_g),
        ]
    )
    return found | errors


# --- raw files and measurements --------------------------------------------------------------


@dataclass(frozen=True)
class FileOutcome:
    """What happened to one uploaded file."""

    raw_file: RawFile
    uploaded_name: str
    stored: bool  # a new RawFile (new content)
    linked: bool  # newly attached to the measurement

    @property
    def message(self) -> str:
        raw = self.raw_file
        ident = f"sha256 {raw.short_sha}…, {raw.size_bytes:,} bytes"
        if self.stored:
            return f"{self.uploaded_name}: stored ({ident})."
        where = "and already attached to this measurement" if not self.linked else "attached"
        return f"{self.uploaded_name}: already stored as {raw.original_name} ({ident}); {where}."


def _upload_errors(uploads: Sequence) -> dict[str, str]:
    """Refuse empty and over-limit uploads before anything is written."""
    for upload in uploads:
        name = os.path.basename(upload.name or "file")
        if not upload.size:
            return {"files": f"{name} is empty: nothing was saved."}
        if upload.size > storage.max_upload_bytes():
            return {
                "files": f"{name} is larger than the upload limit of "
                f"{settings.KILN_MAX_UPLOAD_MB} MB: nothing was saved."
            }
    return {}


@transaction.atomic
def raw_file_store(*, upload, uploaded_by) -> tuple[RawFile, bool]:
    """Store an uploaded file by content; (RawFile, True) if new, the existing row otherwise.
    The stored name lives and dies with the row: a rollback removes a name this call gave."""
    _fail(_upload_errors([upload]))
    name = os.path.basename(upload.name or "file")[:255]
    try:
        staged = storage.stage(upload.chunks(), name=name)
    except storage.StorageError as exc:
        _fail({exc.field: exc.message})
    try:
        return _raw_file_row(staged, name=name, upload=upload, uploaded_by=uploaded_by)
    except storage.StorageError as exc:
        _fail({exc.field: exc.message})
    finally:
        staged.discard()  # its content is under its final name (or kept for the commit)


def _raw_file_row(staged: storage.Staged, *, name: str, upload, uploaded_by):
    existing = RawFile.objects.filter(sha256=staged.sha256).first()
    if existing is not None:
        storage.publish(staged)  # the same bytes again (and a lost file is stored anew)
        return existing, False
    content_type = getattr(upload, "content_type", "") or mimetypes.guess_type(name)[0] or ""
    verdict = _first_verdict(staged.path)
    try:
        with transaction.atomic():  # a concurrent upload of the same bytes may win the insert
            raw = RawFile.objects.create(
                sha256=staged.sha256,
                size_bytes=staged.size_bytes,
                original_name=name,
                content_type=content_type[:120],
                detected_format=verdict.format,
                read_state=verdict.state,
                read_message=verdict.message[:2000],
                instrument_metadata=ndax_checks.metadata_for_stored(staged.path, verdict.format),
                uploaded_by=uploaded_by,
            )
    except IntegrityError:
        storage.publish(staged)
        return RawFile.objects.get(sha256=staged.sha256), False
    storage.keep_with_transaction(staged)
    transaction.on_commit(partial(_inspect, raw.pk), robust=True)
    return raw, True


def _first_verdict(path):
    """What the file's first bytes say (format detection reads a bounded amount): the
    worker's inspection (jobs.inspection.raw_file_inspect) then reads the whole file."""

    return verdict_of_head(path, limits=unpack_limits())


def _inspect(raw_id: int) -> None:
    raw_file_inspect_send(raw_id)


@transaction.atomic
def measurement_files_attach(
    *, measurement: Measurement, uploads: Sequence, added_by
) -> list[FileOutcome]:
    """Store each upload once by content and attach it to the measurement (once)."""
    if not uploads:
        _fail({"files": "choose at least one file"})
    _fail(_upload_errors(uploads))
    outcomes = []
    for upload in uploads:
        raw, stored = raw_file_store(upload=upload, uploaded_by=added_by)
        _, linked = MeasurementFile.objects.get_or_create(
            measurement=measurement, raw_file=raw, defaults={"added_by": added_by}
        )
        outcomes.append(FileOutcome(raw, os.path.basename(upload.name or "file"), stored, linked))
    _start_analyses(measurement, added_by)
    return outcomes


def _start_analyses(measurement: Measurement, user) -> None:
    """The automatic analyses of the new files, sent to the workers after commit."""
    jobs_create_for_measurement(measurement=measurement, user=user)


@dataclass(frozen=True)
class MeasurementRecorded:
    measurement: Measurement
    files: list[FileOutcome]


@transaction.atomic
def measurement_record(
    *,
    subject: Sample,
    measurement_type: str,
    operator,
    instrument: str = "",
    conditions: Mapping | None = None,
    measured_at: datetime.datetime | None = None,
    notes: str = "",
    uploads: Sequence = (),
) -> MeasurementRecorded:
    """Register a measurement of `subject` (sample kind measurement, edge measured_on) with
    its raw files; an empty or too large file refuses the whole measurement."""
    errors: dict[str, str] = {}
    if subject.kind == SampleKind.MEASUREMENT:
        errors["subject"] = f"{subject.code} is itself a measurement"
    if measurement_type not in MeasurementType.values:
        errors["measurement_type"] = f"unknown measurement type {measurement_type!r}"
    if conditions is not None and not isinstance(conditions, Mapping):
        errors["conditions"] = "conditions must be a mapping of names to values"
    elif conditions:
        errors.update(quantities.condition_problems(conditions))
    if measured_at is not None and timezone.is_naive(measured_at):
        errors["measured_at"] = "give the measurement time with its time zone"
    errors.update(_upload_errors(uploads))
    _fail(errors)
    label = MeasurementType(measurement_type).label
    sample = sample_register(
        kind=SampleKind.MEASUREMENT,
        name=f"{label} of {subject.code}",
        owner=operator,
        project=subject.project,
        notes=notes,
        parents=[ParentLink(subject, EdgeRole.MEASURED_ON)],
    )
    measurement = Measurement.objects.create(
        sample=sample,
        subject=subject,
        measurement_type=measurement_type,
        instrument=instrument.strip(),
        conditions=dict(conditions or {}),
        operator=operator,
        measured_at=measured_at or timezone.now(),
    )
    files = (  # attaching starts the automatic analyses of the cycler files
        measurement_files_attach(measurement=measurement, uploads=uploads, added_by=operator)
        if uploads
        else []
    )
    return MeasurementRecorded(measurement, files)


# --- refinement results ----------------------------------------------------------------------


_REFINED = {  # field -> (bound, label); a, c, V and z(O) may carry esds: 2.8589(1)
    "a_angstrom": ("lattice_a_angstrom", "lattice parameter a"),
    "c_angstrom": ("lattice_c_angstrom", "lattice parameter c"),
    "volume_angstrom3": ("cell_volume_angstrom3", "cell volume"),
    "z_oxygen": ("z_oxygen", "oxygen z"),
}


@transaction.atomic
def refinement_record(
    *,
    measurement: Measurement,
    origin: str,
    a_angstrom: RefinedNumber,
    c_angstrom: RefinedNumber,
    z_oxygen: RefinedNumber,
    entered_by,
    volume_angstrom3: RefinedNumber | None = None,
    rwp_percent: float | None = None,
    occupancies: Mapping[str, float] | None = None,
    phase: str = "R-3m layered",
) -> RefinementResult:
    """Store entered Rietveld results with S(MO2), I(LiO2), V, the TM–O and Li–O bond lengths
    and the warnings derived for the chosen origin setting (analysis.structure.layered_metrics).

    a, c, V and z(O) may be typed with esds ('2.8589(1)'); value and esd are stored apart, and
    the volume check uses them (or the rounding of the typed digits)."""
    values = refinement_values(
        measurement=measurement,
        origin=origin,
        a_angstrom=a_angstrom,
        c_angstrom=c_angstrom,
        z_oxygen=z_oxygen,
        volume_angstrom3=volume_angstrom3,
        rwp_percent=rwp_percent,
        occupancies=occupancies,
        phase=phase,
    )
    return RefinementResult.objects.create(measurement=measurement, entered_by=entered_by, **values)


def refinement_values(
    *,
    measurement: Measurement,
    origin: str,
    a_angstrom: RefinedNumber,
    c_angstrom: RefinedNumber,
    z_oxygen: RefinedNumber,
    volume_angstrom3: RefinedNumber | None = None,
    rwp_percent: float | None = None,
    occupancies: Mapping[str, float] | None = None,
    phase: str = "R-3m layered",
) -> dict:
    """The checked fields of a refinement result, typed and derived (ValidationError naming the
    field otherwise): what refinement_record stores and a correction writes."""
    errors: dict[str, str | list[str]] = {}
    if not measurement.is_refinement:
        errors["measurement"] = (
            f"{measurement.sample.code} is a {measurement.get_measurement_type_display()} "
            "measurement; refinement results belong to a Rietveld refinement"
        )
    if origin not in OriginSetting.values:
        errors["origin"] = "choose the origin setting: transition metal or lithium at 3a"
    typed = {"a_angstrom": a_angstrom, "c_angstrom": c_angstrom, "z_oxygen": z_oxygen}
    readings = _refined_readings({**typed, "volume_angstrom3": volume_angstrom3}, errors)
    errors.update(quantities.problems([("rwp_percent", "rwp_percent", rwp_percent)]))
    occupancy_map = dict(occupancies or {})
    bad = quantities.problems(
        (site, "occupancy", value, f"occupancy of {site}") for site, value in occupancy_map.items()
    )
    if bad:
        errors["occupancies"] = list(bad.values())
    _fail(errors)
    a, c, z = readings["a_angstrom"], readings["c_angstrom"], readings["z_oxygen"]
    volume = readings["volume_angstrom3"]
    try:
        metrics = layered_metrics(
            a_angstrom=a, c_angstrom=c, z_oxygen=z, origin=origin, volume_angstrom3=volume
        )
    except AnalysisError as exc:
        _fail({exc.field: exc.message})
    return {
        "phase": phase.strip() or "R-3m layered",
        "origin": origin,
        "a_angstrom": a.value,
        "a_esd_angstrom": a.esd,
        "c_angstrom": c.value,
        "c_esd_angstrom": c.esd,
        "volume_angstrom3": volume.value if volume else None,
        "volume_esd_angstrom3": volume.esd if volume else None,
        "z_oxygen": z.value,
        "z_oxygen_esd": z.esd,
        "rwp_percent": rwp_percent,
        "occupancies": {site: float(v) for site, v in occupancy_map.items()},
        "slab_thickness_angstrom": metrics.slab_thickness_angstrom,
        "interslab_spacing_angstrom": metrics.interslab_spacing_angstrom,
        "cell_volume_angstrom3": metrics.cell_volume_angstrom3,
        "tm_o_bond_angstrom": metrics.tm_o_bond_angstrom,
        "li_o_bond_angstrom": metrics.li_o_bond_angstrom,
        "warnings": list(metrics.warnings),
    }


def _refined_readings(values: Mapping[str, object], errors: dict) -> dict[str, Reading | None]:
    """Each refined number as a Reading (value, esd) within its bounds; problems into errors."""
    readings: dict[str, Reading | None] = {}
    for field, value in values.items():
        key, label = _REFINED[field]
        readings[field] = None
        if value is None or value == "":
            if field != "volume_angstrom3":
                errors[field] = f"give {label}"
            continue
        try:
            reading = reading_of(value, field=field, label=label)
        except AnalysisError as exc:
            errors[field] = exc.message
            continue
        message = quantities.problem(key, reading.value, label=label)
        if message is not None:
            errors[field] = message
        readings[field] = reading
    return readings
