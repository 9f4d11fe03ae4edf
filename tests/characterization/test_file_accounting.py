"""Every file accounted for: what Kiln made of each upload is recorded from its first bytes at
upload, then from a full read in the worker (run in-process here), and every job that parses
it; the cell's own facts (role, 1C, formula, declared window) reach its analyses."""

from __future__ import annotations

import zipfile

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from characterization.jobs import cache, enqueue, inspection, run
from characterization.jobs.models import AnalysisJob
from characterization.models import ReadState
from tests.characterization.factories import CellFactory, ElectrodeFactory, PowderFactory
from tests.characterization.test_jobs import NW4, cycler_upload, definitions, record, run_all, sent
from tests.characterization.test_parsers_gamry import EISPOT

__all__ = ["definitions", "sent"]  # fixtures used below
pytestmark = pytest.mark.django_db


def uploaded(name: str, content: bytes):
    measurement = record(CellFactory().sample, SimpleUploadedFile(name, content))
    return measurement, measurement.files.get().raw_file


def inspect(raw):
    outcome = inspection.raw_file_inspect(raw_id=raw.pk)
    raw.refresh_from_db()
    return outcome


def test_a_file_kiln_does_not_read_says_so_at_upload_and_never_shows_a_bare_dash(sent):
    _, raw = uploaded("notes.csv", b"sample,comment\nA,fine\n")
    assert raw.read_state == ReadState.UNRECOGNISED
    assert raw.read_message.startswith("not a format Kiln reads: ")
    assert "column mapping" in raw.read_message or "Expected a" in raw.read_message
    assert inspect(raw) == "unreadable" and raw.read_state == ReadState.UNRECOGNISED


def test_a_damaged_zip_says_damaged_at_upload(sent):
    _, raw = uploaded("cell.ndax", b"PK\x03\x04" + b"\x00" * 200)
    assert raw.read_state == ReadState.DAMAGED
    assert raw.read_message.startswith("damaged: ")


def test_a_cycler_file_is_recognised_at_upload_and_read_by_the_worker(sent, tmp_path):
    measurement = record(CellFactory().sample, cycler_upload(NW4))
    raw = measurement.files.get().raw_file
    assert raw.read_state == ReadState.RECOGNISED
    assert raw.read_message == "recognised as a Neware .ndax file; not read yet"
    assert inspect(raw) == "read"
    assert raw.read_message == (
        "read as a Neware .ndax file, 18,700 rows, 320 half cycles; direction from the step types"
    )
    assert cache.parquet_path(raw.sha256).is_file()  # the analyses reuse this read


def test_a_gamry_impedance_file_is_read_as_impedance(sent):
    # Before: refused as not a cycler file; stored and then nothing happened ("Format –").
    _, raw = uploaded("cell7_eis.DTA", EISPOT.encode("cp1252"))
    assert (raw.read_state, raw.detected_format) == (ReadState.RECOGNISED, "gamry_dta")
    assert inspect(raw) == "not cycling"
    assert raw.read_state == ReadState.NOT_CYCLING
    assert raw.read_message.startswith("read as a Gamry .DTA file: impedance, ")


def test_an_inspection_never_overwrites_what_a_job_found(definitions, sent):
    measurement = record(CellFactory().sample, cycler_upload(NW4))
    run_all(measurement)
    raw = measurement.files.get().raw_file
    raw.refresh_from_db()
    assert raw.read_state == ReadState.READ
    assert inspect(raw) == "skipped"


def test_a_zip_bomb_upload_is_refused_by_detection_with_its_size(sent, tmp_path, settings):
    settings.KILN_UNPACK_MAX_MB = 8  # the lab's cap, from settings, reaches the upload's check
    bomb = tmp_path / "bomb.ndax"
    with (
        zipfile.ZipFile(bomb, "w", zipfile.ZIP_DEFLATED) as archive,
        archive.open("data.ndc", "w", force_zip64=True) as member,
    ):
        for _ in range(20):  # 20 MB of zeros, 20 kB packed
            member.write(b"\x00" * (1 << 20))
    _, raw = uploaded("bomb.ndax", bomb.read_bytes())
    assert raw.read_state == ReadState.DAMAGED
    assert "unpacks to" in raw.read_message


def test_the_cells_role_1c_formula_and_window_reach_its_analyses(definitions, sent):
    powder = PowderFactory(formula="Li1.2Mn0.6Ni0.2O2")
    cell = CellFactory(electrode=ElectrodeFactory(active_material=powder), one_c_ma_per_g=200.0)
    cell.electrode_role = "anode"
    cell.save()
    measurement = record(cell.sample, cycler_upload(NW4))
    measurement.conditions = {"voltage_window_v": [1.6, 5.0]}
    measurement.save()
    job = AnalysisJob.objects.filter(measurement=measurement, kind="cycling_summary").first()
    job.delete()
    job = enqueue.job_enqueue(
        definition=definitions["cycling_summary"], measurement=measurement, raw_file=job.raw_file
    )
    assert job.cell_context == {
        "electrode": "anode",
        "one_c_ma_per_g": 200.0,
        "formula": "Li1.2Mn0.6Ni0.2O2",
        "voltage_window_v": [1.6, 5.0],
        "capacity_ceiling_mah_g": 4200.0,
    }
    assert run.analysis_job_run(job_id=job.pk, worker="w") == "succeeded"
    job.refresh_from_db()
    assert job.result.summary["electrode"] == "anode"
    assert job.result.cell_context == job.cell_context
    # the declared window is checked: nw4 ran 1.65-5.0 V, inside 1.6-5.0 V
    assert "voltage_outside_window" not in {w["code"] for w in job.result.warnings}


def test_a_narrower_declared_window_flags_the_voltages_outside_it(definitions, sent):
    measurement = record(CellFactory().sample, cycler_upload(NW4))
    measurement.conditions = {"voltage_window_v": [2.0, 4.5]}
    measurement.save()
    AnalysisJob.objects.filter(measurement=measurement).delete()
    raw = measurement.files.get().raw_file
    job = enqueue.job_enqueue(
        definition=definitions["cycling_summary"], measurement=measurement, raw_file=raw
    )
    assert run.analysis_job_run(job_id=job.pk, worker="w") == "succeeded"
    job.refresh_from_db()
    window = next(w for w in job.result.warnings if w["code"] == "voltage_outside_window")
    assert window["severity"] == "flag" and "2 V … 4.5 V" in window["message"]


def test_the_cell_form_records_the_working_electrode_role(client, chemist):
    electrode = ElectrodeFactory()
    client.force_login(chemist)
    code = electrode.sample.code
    response = client.post(
        f"/cells/electrodes/{code}/cells/",
        {
            "cell_format": "2032",
            "foil_disc_mass_mg": "4.0",
            "counter_electrode": "Li metal",
            "separator": "Celgard 2400",
            "electrolyte_name": "LP30",
            "electrolyte_volume_ul": "60",
            "one_c_ma_per_g": "250",
            "electrode_role": "anode",
            "built_on": "2026-12-01",
            "discs-TOTAL_FORMS": "1",
            "discs-INITIAL_FORMS": "0",
            "discs-0-disc_mass_mg": "12.0",
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    cell = electrode.cells.get()
    assert cell.electrode_role == "anode"
    page = client.get(f"/cells/{cell.sample.code}/").content.decode()
    assert "Anode (lithiates first)" in page


@pytest.mark.parametrize(
    ("name", "says"),
    [
        (
            "eis_impedancepy_biologic.mpt",
            "read as a BioLogic .mpt text export: impedance, 43 points",
        ),
        ("biologic_yadg_ca_potential_step.mpt", "a potentiostatic measurement"),
    ],
)
def test_measurements_of_other_kinds_say_what_they_are_even_after_a_cycling_job(
    definitions, sent, name, says
):
    measurement = record(CellFactory().sample, cycler_upload(name))
    raw = measurement.files.get().raw_file
    assert inspect(raw) == "not cycling"
    run_all(measurement)  # the cycling analyses fail on it; they must not overwrite the verdict
    raw.refresh_from_db()
    assert raw.read_state == ReadState.NOT_CYCLING
    assert raw.read_message.startswith(says)
