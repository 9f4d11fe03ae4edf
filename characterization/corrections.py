"""Corrections and voids of cells, measurements, refinements, raw files, jobs and results.

Each is one transaction that writes the change and one audit row per changed record carrying
the reason. A corrected disc mass recomputes the active mass and the loading (the currents
follow from them) with analysis.electrode.disc_metrics, and leaves the analyses that used the
old mass outdated (characterization.jobs.outdated) until they are re-run. Nothing is deleted: raw
files, measurements, jobs and results are voided; the stored bytes are never removed.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.db import transaction

from characterization import services
from characterization.analysis.electrode import disc_metrics
from characterization.analysis.errors import AnalysisError
from characterization.jobs import enqueue, outdated
from characterization.jobs.models import AnalysisJob, AnalysisResult
from characterization.models import (
    CoinCell,
    Measurement,
    RawFile,
    RefinementResult,
)
from lims import quantities, rules
from lims.models import EdgeRole, Sample, SampleEdge
from lims.voiding import (
    Change,
    reason_clean,
    record_correct,
    record_void,
    refuse_void,
    save_audited,
    void_along,
)


def _fail(errors: Mapping[str, str]) -> None:
    if errors:
        raise ValidationError({field: [message] for field, message in errors.items()})


# --- coin cells -------------------------------------------------------------------------------


@dataclass(frozen=True)
class CellCorrected:
    cell: CoinCell
    changes: list[Change]
    outdated: list[outdated.Outdated]  # the analyses to re-run with the new active mass


@transaction.atomic
def cell_correct(
    *,
    cell: CoinCell,
    user,
    reason: str,
    disc_mass_mg: float | None = None,
    foil_disc_mass_mg: float | None = None,
) -> CellCorrected:
    """Correct a cell's disc or bare foil mass: the active mass, area and loading are computed
    again (disc_metrics), the electrode -> cell edge carries the new disc mass, and the
    analyses that used the old active mass are returned as outdated."""
    locked = (
        CoinCell.objects.select_for_update(of=("self",)).select_related("sample").get(pk=cell.pk)
    )
    rules.require(user, "change", locked)
    refuse_void(locked.sample)
    disc = locked.disc_mass_mg if disc_mass_mg is None else disc_mass_mg
    foil = locked.foil_disc_mass_mg if foil_disc_mass_mg is None else foil_disc_mass_mg
    _fail(
        quantities.problems(
            [
                ("disc_mass_mg", "disc_mass_mg", disc),
                ("foil_disc_mass_mg", "foil_disc_mass_mg", foil),
            ]
        )
    )
    try:
        metrics = disc_metrics(
            disc_diameter_mm=locked.disc_diameter_mm,
            disc_mass_mg=disc,
            foil_disc_mass_mg=foil,
            active_fraction=locked.active_fraction,
            one_c_ma_per_g=locked.one_c_ma_per_g,
            c_rates=(),
        )
    except AnalysisError as exc:
        _fail({exc.field: exc.message})
    values = {
        "disc_mass_mg": float(disc),
        "foil_disc_mass_mg": float(foil),
        "disc_area_cm2": metrics.disc_area_cm2,
        "active_mass_mg": metrics.active_mass_mg,
        "areal_loading_mg_per_cm2": metrics.areal_loading_mg_per_cm2,
    }
    changes = record_correct(record=locked, user=user, reason=reason, values=values)
    _disc_edge_set(locked, user=user, reason=reason)
    measurements = Measurement.objects.filter(subject=locked.sample, voided_at__isnull=True)
    return CellCorrected(locked, changes, outdated.outdated_jobs(measurements))


def _disc_edge_set(cell: CoinCell, *, user, reason: str) -> None:
    """The lineage edge sheet -> cell records the disc mass: it follows the correction."""
    edge = SampleEdge.objects.filter(
        parent_id=cell.electrode.sample_id, child_id=cell.sample_id, role=EdgeRole.COMPONENT
    ).first()
    if edge is not None and edge.amount != cell.disc_mass_mg:
        edge.amount = cell.disc_mass_mg
        save_audited(edge, user=user, reason=reason.strip(), fields=["amount"])


# --- measurements and refinements -------------------------------------------------------------


_UNCHANGED = object()


@transaction.atomic
def measurement_correct(
    *,
    measurement: Measurement,
    user,
    reason: str,
    conditions=_UNCHANGED,
    instrument=_UNCHANGED,
    notes=_UNCHANGED,
) -> list[Change]:
    """Correct a measurement's conditions or instrument (its row) and notes (its sample), with
    the reason on each changed record; a corrected voltage window outdates its analyses."""
    locked = (
        Measurement.objects.select_for_update(of=("self",))
        .select_related("sample")
        .get(pk=measurement.pk)
    )
    rules.require(user, "change", locked)
    refuse_void(locked)
    why = reason_clean(reason, action="correct", record=locked)
    values: dict[str, object] = {}
    if conditions is not _UNCHANGED:
        if not isinstance(conditions, Mapping):
            _fail({"conditions": "conditions must be a mapping of names to values"})
        _fail(quantities.condition_problems(conditions))
        values["conditions"] = dict(conditions)
    if instrument is not _UNCHANGED:
        values["instrument"] = (instrument or "").strip()
    changed = _changed(locked, values)
    changes = (
        record_correct(record=locked, user=user, reason=why, values=changed) if changed else []
    )
    if notes is not _UNCHANGED and (notes or "").strip() != locked.sample.notes:
        sample = Sample.objects.select_for_update().get(pk=locked.sample_id)
        changes += record_correct(
            record=sample, user=user, reason=why, values={"notes": (notes or "").strip()},
            owner_record=locked,
        )  # fmt: skip
    if not changes:
        raise ValidationError(
            {"__all__": [f"Nothing to correct: {locked.sample.code} already has these values."]}
        )
    return changes


def _changed(record, values: Mapping[str, object]) -> dict[str, object]:
    return {name: value for name, value in values.items() if getattr(record, name) != value}


@transaction.atomic
def refinement_correct(*, refinement: RefinementResult, user, reason: str, **typed) -> list[Change]:
    """Correct an entered refinement: the typed numbers are checked and the derived values
    (S(MO2), I(LiO2), V, bond lengths, warnings) computed again by the service that stored it.
    ``typed`` are refinement_record's arguments (origin, a_angstrom, c_angstrom, z_oxygen,
    volume_angstrom3, rwp_percent, occupancies, phase)."""
    locked = (
        RefinementResult.objects.select_for_update(of=("self",))
        .select_related("measurement__sample")
        .get(pk=refinement.pk)
    )
    rules.require(user, "change", locked)
    refuse_void(locked.measurement)
    values = services.refinement_values(measurement=locked.measurement, **typed)
    return record_correct(record=locked, user=user, reason=reason, values=values)


# --- voids ------------------------------------------------------------------------------------


@transaction.atomic
def measurement_void(*, measurement: Measurement, user, reason: str) -> Measurement:
    """Void a measurement and its sample (one record in two rows); its files, jobs and
    results are kept as they are."""
    voided = record_void(record=measurement, user=user, reason=reason)
    sample = Sample.objects.select_for_update().get(pk=voided.sample_id)
    if sample.voided_at is None:
        void_along(sample, voided, user=user)
    return voided


@transaction.atomic
def raw_file_void(*, raw_file: RawFile, user, reason: str) -> RawFile:
    """Void a raw file: hidden from the measurements' file lists and not analysed again; its
    bytes stay in storage (Kiln never removes a raw file) and its jobs keep their results."""
    return record_void(record=raw_file, user=user, reason=reason)


@transaction.atomic
def analysis_job_void(*, job: AnalysisJob, user, reason: str) -> AnalysisJob:
    """Void a finished job (cancel a running one first): hidden from the job lists and from
    the latest results; its result stays for the other jobs that share it."""
    if job.is_active:
        raise ValidationError(
            {"reason": f"Job {job.pk} is {job.get_status_display().lower()}: cancel it first."}
        )
    return record_void(record=job, user=user, reason=reason)


@transaction.atomic
def analysis_result_void(*, result: AnalysisResult, user, reason: str) -> AnalysisResult:
    """Void a stored result (lab managers: it is shared by every job with the same inputs);
    the jobs that show it say it is void."""
    return record_void(record=result, user=user, reason=reason)


# --- re-running outdated analyses -------------------------------------------------------------


def analyses_rerun_outdated(*, measurements: Iterable[Measurement], user) -> list[AnalysisJob]:
    """Queue again every outdated analysis of the measurements (job_rerun: with today's active
    mass and conditions); each sent to the workers after its own commit."""
    measurements = list(measurements)
    for measurement in measurements:
        rules.require(user, "run", measurement)
    stale = outdated.outdated_jobs(measurements)
    return [enqueue.job_rerun(job=item.job, user=user) for item in stale]
