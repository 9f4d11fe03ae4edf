"""The second file a job reads (jobs.companions), chosen when it is queued and kept in its
cell context and input checksums: a DEMS job aligned to the same cell's cycling file, an XRD
job shifted against a named sample's pattern; and PITT's diffusion length from the D50 on the
cell's electrode. Jobs run in process (no broker)."""

from __future__ import annotations

import datetime

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from characterization.jobs import run, seed
from characterization.jobs.enqueue import job_cancel, job_enqueue
from characterization.jobs.models import AnalysisDefinition, JobStatus
from characterization.jobs.spec import cell_context_of
from tests.characterization.factories import CellFactory, ElectrodeFactory, PowderFactory
from tests.characterization.test_jobs import GCPL_MPR, NW4, cycler_upload, record
from tests.testdata import testdata_dir

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def no_broker(monkeypatch):
    for task in ("analysis_job_run", "raw_file_inspect"):
        monkeypatch.setattr(f"characterization.jobs.tasks.{task}.apply_async", lambda *a, **k: 0)
    seed.analysis_definitions_seed()


def definition(kind: str) -> AnalysisDefinition:
    return AnalysisDefinition.objects.get(kind=kind)


def enqueue(kind: str, measurement, raw, parameters):
    """Queue the kind with these parameters (the upload's automatic job cancelled first)."""
    for active in measurement.analysis_jobs.filter(status=JobStatus.QUEUED):
        job_cancel(job=active)
    return job_enqueue(
        definition=definition(kind), measurement=measurement, raw_file=raw, parameters=parameters
    )


def upload(kind: str, name: str) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, (testdata_dir(kind) / name).read_bytes())


PFEIFFER = "pfeiffer_quadera_datalab_tgams.asc"


def dems_job(measurement):
    return measurement.analysis_jobs.get(definition__kind="gas_evolution")


@pytest.mark.testdata("cyclers", "mass_spec")
def test_a_dems_job_reads_the_same_cells_cycling_file_and_says_why_it_cannot_align():
    cell = CellFactory()
    cycling = record(cell.sample, cycler_upload(NW4))
    other = record(CellFactory().sample, cycler_upload(NW4, as_name="other.ndax"))
    dems = record(cell.sample, upload("mass_spec", PFEIFFER), measurement_type="dems")
    job = dems_job(dems)
    (nw4,) = [link.raw_file for link in cycling.files.all()]
    assert job.cell_context["companions"] == {
        "cycling": {"sha256": nw4.sha256, "file": NW4, "measurement": cycling.sample.code}
    }
    assert job.input_checksums == [job.raw_file.sha256, nw4.sha256]
    assert other.sample.code not in str(job.cell_context)
    # the run loads it: a Neware start time in UTC against the QUADERA PC's local time
    job = enqueue("gas_evolution", dems, job.raw_file, {"o2_factor": 1e-3, "co2_factor": 1e-3})
    assert job.parameters["o2_factor"] == 1e-3
    assert run.analysis_job_run(job_id=job.pk, worker="w") == "failed"
    job.refresh_from_db()
    assert "cycling file's start time has a timezone" in job.error
    assert "time_offset_s" in job.error


@pytest.mark.testdata("mass_spec")
def test_a_dems_job_on_a_cell_without_cycling_records_no_companion():
    dems = record(CellFactory().sample, upload("mass_spec", PFEIFFER), measurement_type="dems")
    job = dems_job(dems)
    assert "companions" not in job.cell_context and len(job.input_checksums) == 1


@pytest.mark.testdata("cyclers", "mass_spec")
def test_the_cycling_measurement_closest_in_time_is_chosen():
    cell = CellFactory()
    now = timezone.now()
    far = record(cell.sample, cycler_upload(NW4, as_name="far.ndax"))
    near = record(cell.sample, cycler_upload(GCPL_MPR))
    far.measured_at = now - datetime.timedelta(days=30)
    near.measured_at = now - datetime.timedelta(hours=2)
    far.save(update_fields=["measured_at"])
    near.save(update_fields=["measured_at"])
    dems = record(cell.sample, upload("mass_spec", PFEIFFER), measurement_type="dems")
    assert dems_job(dems).cell_context["companions"]["cycling"]["measurement"] == near.sample.code


@pytest.mark.testdata("diffraction")
def test_an_xrd_job_shifts_against_the_named_samples_pattern():
    pristine, coated = PowderFactory(), PowderFactory()
    reference = record(pristine, upload("diffraction", "rigaku_ras_pyscattdata_tio2.ras"),
                       measurement_type="xrd")  # fmt: skip
    pattern = record(coated, upload("diffraction", "panalytical_xrdml15_datalab.xrdml"),
                     measurement_type="xrd")  # fmt: skip
    raw = pattern.files.get().raw_file
    # codes match in any case
    job = enqueue("xrd_reflections", pattern, raw, {"reference_sample": pristine.code.lower()})
    ref_raw = reference.files.get().raw_file
    assert job.cell_context["companions"]["reference"]["sha256"] == ref_raw.sha256
    assert job.input_checksums == [raw.sha256, ref_raw.sha256]
    assert run.analysis_job_run(job_id=job.pk, worker="w") == "succeeded"
    job.refresh_from_db()
    summary = job.result.summary
    assert summary["reference"] == f"{ref_raw.original_name} ({reference.sample.code})"
    # neither real pattern is a layered oxide: every shift is missing, and said so
    assert {shift["status"] for shift in summary["shifts"]} == {"missing"}
    assert "shift_unavailable" in {w["code"] for w in job.result.warnings}
    missing = enqueue("xrd_reflections", pattern, raw, {"reference_sample": "PWD-1999-9999"})
    assert missing.status == JobStatus.FAILED
    assert "there is no sample PWD-1999-9999 in Kiln" in missing.error
    bare = PowderFactory()
    no_pattern = enqueue("xrd_reflections", pattern, raw, {"reference_sample": bare.code})
    assert f"{bare.code} has no XRD pattern in Kiln" in no_pattern.error


def test_the_electrodes_d50_enters_the_cells_context_only_when_recorded():
    plain = CellFactory()
    sized = CellFactory(electrode=ElectrodeFactory(particle_d50_um=12.0))
    on_plain = record(plain.sample, measurement_type="pitt")
    on_sized = record(sized.sample, measurement_type="pitt")
    assert "particle_d50_um" not in cell_context_of(on_plain)  # old cache keys unchanged
    assert cell_context_of(on_sized)["particle_d50_um"] == 12.0


def test_a_measurements_sample_mass_is_bounded_and_enters_the_context():
    from characterization.forms import MeasurementForm

    cell = CellFactory()
    base = {
        "subject": cell.sample.code,
        "measurement_type": "dsc",
        "measured_at": "2026-12-01 10:00",
    }
    form = MeasurementForm(data={**base, "sample_mass_mg": "5000"})
    assert not form.is_valid()
    assert "sample mass" in form.errors["sample_mass_mg"][0]
    form = MeasurementForm(data={**base, "sample_mass_mg": "5.2"})
    assert form.is_valid(), form.errors
    assert form.conditions() == {"sample_mass_mg": 5.2}
    measurement = record(PowderFactory(), measurement_type="dsc")
    measurement.conditions = {"sample_mass_mg": 5.2}
    assert cell_context_of(measurement)["sample_mass_mg"] == 5.2


@pytest.mark.testdata("mass_spec")
def test_a_dems_job_names_its_calibration_measurement_and_keeps_its_stated_amounts():
    cell = CellFactory()
    dems = record(cell.sample, upload("mass_spec", PFEIFFER), measurement_type="dems")
    calibration = record(
        PowderFactory(), SimpleUploadedFile("pulse.asc", b"pulse"), measurement_type="dems"
    )
    calibration.conditions = {"o2_injected_umol": "0.05", "temperature_c": 25}
    calibration.save(update_fields=["conditions"])
    raw = dems.files.get().raw_file
    job = enqueue("gas_evolution", dems, raw, {"calibration_measurement": calibration.sample.code})
    recorded = job.cell_context["companions"]["calibration"]
    assert recorded["conditions"] == {"o2_injected_umol": "0.05"}  # only the amounts
    assert recorded["measurement"] == calibration.sample.code
    assert len(job.input_checksums) == 2
    cycling = record(cell.sample, cycler_upload(GCPL_MPR))
    wrong = enqueue("gas_evolution", dems, raw, {"calibration_measurement": cycling.sample.code})
    assert wrong.status == JobStatus.FAILED
    label = cycling.get_measurement_type_display()
    assert f"{cycling.sample.code} is a {label} measurement, not a DEMS calibration" in wrong.error
    unknown = enqueue("gas_evolution", dems, raw, {"calibration_measurement": "MEAS-1999-0001"})
    assert "there is no measurement MEAS-1999-0001 in Kiln" in unknown.error
