"""Column mappings saved per instrument: validation, and an upload of a generic table to a
measurement on that instrument getting jobs that parse it through the mapping (in process)."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile

from characterization import services
from characterization.admin import InstrumentMappingForm
from characterization.jobs import inputs, presenting, queries, seed
from characterization.jobs.models import JobStatus
from characterization.models import InstrumentMapping
from tests.characterization.factories import CellFactory
from tests.characterization.synthetic import linear_cycling_table
from tests.characterization.test_jobs import run_all

pytestmark = pytest.mark.django_db


@pytest.fixture
def definitions(db):
    seed.analysis_definitions_seed()


@pytest.fixture
def sent(monkeypatch):
    """Job ids handed to the broker (faked: the jobs run in this process)."""
    ids: list[int] = []
    monkeypatch.setattr(
        "characterization.jobs.tasks.analysis_job_run.apply_async",
        lambda args, **kwargs: ids.append(args[0]),
    )
    return ids


MAPPING = {
    "time_column": "Time (min)",
    "time_unit": "min",
    "voltage_column": "U (V)",
    "current_column": "I (A)",
    "current_unit": "A",
    "cycle_column": "Cycle",
    "step_column": "Step",
    "capacity_column": "Q (Ah)",
    "capacity_unit": "Ah",
    "capacity_restarts": "step",
}


def bench_csv() -> bytes:
    """Three cycles (2.0 mAh charge, 1.8 mAh discharge) as the bench writes them: minutes,
    amperes and one capacity column in Ah that restarts at every step."""
    table = linear_cycling_table(3, charge_capacity_mah=2.0, discharge_capacity_mah=1.8, points=51)
    lines = ["Time (min),U (V),I (A),Cycle,Step,Q (Ah)"]
    for row in table.itertuples():
        capacity_ah = (row.charge_capacity_mah + row.discharge_capacity_mah) / 1000
        lines.append(
            f"{row.time_s / 60:.6f},{row.voltage_v:.5f},{row.current_ma / 1000:.7f},"
            f"{row.cycle},{row.step},{capacity_ah:.9f}"
        )
    return ("\n".join(lines) + "\n").encode()


def save_mapping(**changes) -> InstrumentMapping:
    mapping = InstrumentMapping(name="Bench 3 export", instrument="bench 3", mapping=MAPPING)
    for key, value in changes.items():
        setattr(mapping, key, value)
    mapping.full_clean()
    mapping.save()
    return mapping


def test_a_mapping_is_validated_by_building_the_parser_mapping():
    bad = InstrumentMapping(
        name="Broken", instrument="X", mapping={**MAPPING, "capacity_restarts": "weekly"}
    )
    with pytest.raises(ValidationError) as error:
        bad.full_clean()
    assert (
        "capacity_restarts must be one of step, cycle, never"
        in error.value.message_dict["mapping"][0]
    )


def test_an_instrument_has_one_mapping_whatever_the_case():
    save_mapping()
    other = InstrumentMapping(name="Other", instrument="  BENCH 3 ", mapping=MAPPING)
    with pytest.raises(ValidationError, match="already has a column mapping"):
        other.full_clean()


def test_the_admin_form_builds_the_mapping_from_its_fields():
    data = {
        "name": "Bench 3 export",
        "instrument": "Bench 3",
        "description": "",
        **MAPPING,
        "charge_current": "positive",
        "energy_unit": "Wh",
        "header_row": "0",
    }
    form = InstrumentMappingForm(data=data)
    assert form.is_valid(), form.errors
    saved = form.save()
    assert saved.mapping["capacity_column"] == "Q (Ah)"
    assert saved.mapping["header_row"] == 0
    wrong = InstrumentMappingForm(data={**data, "name": "B", "instrument": "B", "step_column": ""})
    assert not wrong.is_valid()
    assert "needs the step_column" in str(wrong.errors)


def test_a_generic_table_on_a_mapped_instrument_gets_jobs_that_read_it(definitions, sent):
    save_mapping()
    cell = CellFactory()
    measurement = services.measurement_record(
        subject=cell.sample,
        measurement_type="cycling",
        operator=None,
        instrument="Bench 3",
        uploads=[SimpleUploadedFile("cell-07.csv", bench_csv(), content_type="text/csv")],
    ).measurement
    raw = measurement.files.get().raw_file
    assert raw.detected_format == ""
    outcomes = run_all(measurement)
    assert outcomes == {kind: "succeeded" for kind in outcomes} and "cycling_summary" in outcomes
    job = measurement.analysis_jobs.get(kind="cycling_summary")
    assert job.status == JobStatus.SUCCEEDED
    assert job.column_mapping["name"] == "Bench 3 export"
    assert job.result.column_mapping == job.column_mapping
    assert ("Column mapping", "Bench 3 export (instrument bench 3)") in presenting.provenance(job)
    cycles = job.result.summary["cycles"]
    assert [c["cycle"] for c in cycles] == [1, 2, 3]
    assert [c["charge_capacity_mah"] for c in cycles] == pytest.approx([2.0] * 3)
    assert [c["discharge_capacity_mah"] for c in cycles] == pytest.approx([1.8] * 3)
    table = queries.cached_table(raw, measurement)
    assert table is not None and len(table) > 0


def test_a_file_of_the_wrong_format_for_the_mapping_fails_its_job_clearly(definitions, sent):
    save_mapping()
    measurement = services.measurement_record(
        subject=CellFactory().sample,
        measurement_type="cycling",
        operator=None,
        instrument="bench 3",
        uploads=[SimpleUploadedFile("notes.csv", b"time,voltage\n0,3.2\n1,3.3\n")],
    ).measurement
    run_all(measurement)
    job = measurement.analysis_jobs.get(kind="cycling_summary")
    assert job.status == JobStatus.FAILED
    assert job.error.startswith(
        "notes.csv: the file has no column 'Time (min)' named in mapping 'Bench 3 export'"
    )


def test_without_a_mapping_the_same_table_starts_no_analysis(definitions, sent):
    measurement = services.measurement_record(
        subject=CellFactory().sample,
        measurement_type="cycling",
        operator=None,
        instrument="Bench 4",
        uploads=[SimpleUploadedFile("cell-07.csv", bench_csv())],
    ).measurement
    assert not measurement.analysis_jobs.exists()
    assert inputs.cycling_files(measurement) == []


def test_a_lab_manager_saves_a_mapping_in_the_admin(admin_client, admin_user):
    assert admin_client.get("/admin/characterization/instrumentmapping/add/").status_code == 200
    response = admin_client.post(
        "/admin/characterization/instrumentmapping/add/",
        {
            "name": "Bench 3 export",
            "instrument": "Bench 3",
            "description": "",
            **MAPPING,
            "charge_current": "positive",
            "energy_unit": "Wh",
            "header_row": "0",
        },
    )
    assert response.status_code == 302
    saved = InstrumentMapping.objects.get()
    assert (saved.created_by, saved.mapping["time_unit"]) == (admin_user, "min")
    change = f"/admin/characterization/instrumentmapping/{saved.pk}/change/"
    assert 'value="Q (Ah)"' in admin_client.get(change).content.decode()


def test_the_admin_add_form_starts_with_empty_required_columns_not_a_placeholder(client, manager):
    manager.is_staff = True
    manager.save()
    client.force_login(manager)
    page = client.get(
        "/admin/characterization/instrumentmapping/add/?instrument=Maccor%20MIMS"
    ).content.decode()
    assert "_MISSING_TYPE" not in page and "MISSING" not in page
