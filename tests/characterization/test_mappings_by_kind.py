"""Column mappings of every table kind: the pure registry (parsers.mappings_by_kind) reads
generic tables into each kind's table, an instrument keeps one mapping per table kind, and an
EIS upload on a mapped instrument is read through its impedance mapping by the job path."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile

from characterization import services, storage
from characterization.admin import InstrumentMappingForm
from characterization.jobs import cache, inputs, seed
from characterization.jobs.models import JobStatus
from characterization.models import InstrumentMapping, MeasurementType
from characterization.parsers import ParseError, schema
from characterization.parsers.mappings_by_kind import (
    MappingError,
    mapping_of,
    read_mapped_table,
    recognised_format,
    stored_mapping,
)
from tests.characterization.factories import CellFactory
from tests.characterization.test_instrument_mappings import MAPPING as CYCLING_MAPPING
from tests.characterization.test_instrument_mappings import bench_csv
from tests.characterization.test_jobs import run_all
from tests.testdata import testdata_dir

# --- impedance -------------------------------------------------------------------------------

# Three hand-picked points: f (Hz), Re Z (Ω), Im Z (Ω, negative on the arc).
EIS_POINTS = [(10000.0, 10.0, -0.5), (100.0, 35.0, -20.0), (1.0, 60.0, -5.0)]
OHM_MAPPING = {
    "frequency_column": "freq/Hz",
    "z_real_column": "Re(Z)/Ohm",
    "z_imag_column": "-Im(Z)/Ohm",
}
ODD_MAPPING = {
    "frequency_column": "Freq [kHz]",
    "z_real_column": "Zreal [mOhm]",
    "z_imag_column": "Zimag [mOhm]",
    "frequency_unit": "kHz",
    "z_real_unit": "mΩ",
    "z_imag_unit": "mΩ",
    "z_imag_sign": "Im",  # the column holds Im Z itself (negative on the arc)
}


def ohm_csv(points=EIS_POINTS) -> str:
    """Hz and Ω, -Im Z positive on the arc: the usual plotting export."""
    rows = [f"{f:g},{re:g},{-im:g}" for f, re, im in points]
    return "\n".join(["freq/Hz,Re(Z)/Ohm,-Im(Z)/Ohm", *rows]) + "\n"


def odd_csv(points=EIS_POINTS) -> str:
    """The same points in kHz and mΩ, Im Z as it is, semicolons and decimal commas."""
    rows = [f"{f / 1000:g};{re * 1000:g};{im * 1000:g}".replace(".", ",") for f, re, im in points]
    return "\n".join(["Freq [kHz];Zreal [mOhm];Zimag [mOhm]", *rows]) + "\n"


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_an_eis_csv_with_odd_headers_gives_the_table_of_the_ohm_hertz_file(tmp_path):
    odd = read_mapped_table(
        write(tmp_path, "odd.csv", odd_csv()),
        "impedance",
        mapping_of("impedance", ODD_MAPPING, name="bench FRA"),
    )
    plain = read_mapped_table(
        write(tmp_path, "plain.csv", ohm_csv()),
        "impedance",
        mapping_of("impedance", OHM_MAPPING, name="plain"),
    )
    assert list(odd.table.columns) == list(schema.IMPEDANCE_COLUMNS)
    # 0,01 kHz -> 10 Hz ... ; 35000 mΩ -> 35 Ω; Zimag -20000 mΩ (Im) -> -20 Ω
    assert odd.table["freq_hz"].tolist() == pytest.approx([10000.0, 100.0, 1.0])
    assert odd.table["z_real_ohm"].tolist() == pytest.approx([10.0, 35.0, 60.0])
    assert odd.table["z_imag_ohm"].tolist() == pytest.approx([-0.5, -20.0, -5.0])
    assert odd.table["cycle"].tolist() == [1, 1, 1]
    pd.testing.assert_frame_equal(odd.table, plain.table)
    assert odd.format == "mapped_impedance" and odd.metadata["mapping"] == "bench FRA"
    assert odd.metadata["format_name"] == "a generic table through the column mapping “bench FRA”"


# --- potential steps, ion current, thermal, diffraction ----------------------------------------


def pitt_csv() -> str:
    """Three 5-record potential steps (3.90, 3.95, 4.00 V) in min, mV and µA, the bench's
    oxidation current negative, its own step numbers from 7."""
    lines = ["Zeit [min],E [mV],I [uA],Schritt"]
    for step, mv in enumerate((3900.0, 3950.0, 4000.0)):
        for k in range(5):
            t_min = (step * 5 + k) * 0.5
            lines.append(f"{t_min:g},{mv:g},{-200.0 / (k + 1):g},{step + 7}")
    return "\n".join(lines) + "\n"


STEP_MAPPING = {
    "time_column": "Zeit [min]",
    "potential_column": "E [mV]",
    "current_column": "I [uA]",
    "time_unit": "min",
    "potential_unit": "mV",
    "current_unit": "uA",
    "oxidation_current": "negative",
    "step_column": "schritt",  # matched ignoring case
}


def test_a_generic_pitt_table_reads_through_its_step_mapping(tmp_path):
    parsed = read_mapped_table(
        write(tmp_path, "pitt.csv", pitt_csv()),
        "potential_steps",
        mapping_of("potential_steps", STEP_MAPPING, name="bench PITT"),
    )
    table = parsed.table
    assert list(table.columns)[:4] == list(schema.POTENTIAL_STEPS_COLUMNS)
    assert table["step"].tolist() == [0] * 5 + [1] * 5 + [2] * 5
    assert table["time_s"].iloc[1] == pytest.approx(30.0)  # 0.5 min
    assert table.groupby("step")["potential_v"].first().tolist() == pytest.approx([3.9, 3.95, 4.0])
    assert table["current_a"].iloc[0] == pytest.approx(2.0e-4)  # -200 µA, oxidation negative
    assert parsed.format == "mapped" and parsed.metadata["mapping"] == "bench PITT"


HIDEN = """"Experiment was started",06/04/2022,23:59:58
"Scans",1
"Time","ms","mass 32","mass 44",
"23:59:58",0,1.0E-10,2.0E-11,
"23:59:59",1000,1.5E-10,2.5E-11,
"00:00:00",2000,2.0E-10,3.0E-11,
"00:00:01",3000,2.5E-10,3.5E-11,
"""
HIDEN_MAPPING = {
    "time_column": "ms",
    "time_unit": "ms",
    "signal_unit": "A",
    "channels": [{"column": "mass 32", "mz": 32, "label": "O2"}, {"column": "mass 44", "mz": 44}],
}


def test_a_hiden_style_csv_reads_through_its_mapping_and_counts_as_generic(tmp_path):
    path = write(tmp_path, "hpr.csv", HIDEN)
    assert recognised_format(path, "ion_current") is None  # read only through a mapping
    parsed = read_mapped_table(
        path, "ion_current", mapping_of("ion_current", HIDEN_MAPPING, name="HPR-20")
    )
    table = parsed.table
    assert list(table.columns) == list(schema.ION_CURRENT_COLUMNS)
    o2 = table[table["channel"] == "mass 32"]
    assert o2["time_s"].tolist() == [0.0, 1.0, 2.0, 3.0]
    assert o2["signal"].tolist() == pytest.approx([1e-10, 1.5e-10, 2e-10, 2.5e-10])
    assert set(table["mz"]) == {32.0, 44.0} and set(table["unit"]) == {"A"}
    assert parsed.format == "hiden_csv"


def test_a_generic_dsc_csv_reads_through_a_thermal_mapping(tmp_path):
    """Twelve rows: minutes, kelvin, mW/mg with exotherms down (decimal commas)."""
    rows = [f"{k};{300 + 10 * k};{0.5 - 0.1 * k:.1f}".replace(".", ",") for k in range(12)]
    text = "\n".join(["Zeit/min;Temp./K;DSC/(mW/mg)", *rows]) + "\n"
    mapping = mapping_of(
        "thermal",
        {
            "time_column": "Zeit/min",
            "time_unit": "min",
            "temperature_column": "Temp./K",
            "temperature_unit": "K",
            "heat_flow_column": "DSC/(mW/mg)",
            "heat_flow_unit": "mW/mg",
            "sample_mass_mg": 4.0,
            "exotherm": "down",
        },
        name="STA 449",
    )
    parsed = read_mapped_table(write(tmp_path, "dsc.csv", text), "thermal", mapping)
    table = parsed.table
    assert table["time_s"].iloc[:3].tolist() == pytest.approx([0.0, 60.0, 120.0])
    assert table["temperature_c"].iloc[:2].tolist() == pytest.approx([26.85, 36.85])
    # 0.5 mW/mg x 4 mg = 2 mW recorded exotherm-down -> -2 mW; -0.6 mW/mg -> +2.4 mW
    assert table["heat_flow_mw"].iloc[0] == pytest.approx(-2.0)
    assert table["heat_flow_mw"].iloc[11] == pytest.approx(2.4)
    assert parsed.format == "thermal_csv"


def test_a_diffraction_csv_with_2theta_second_reads_through_its_mapping(tmp_path):
    rows = [f"{100 + 10 * k};{10 + 0.02 * k:.2f}".replace(".", ",") for k in range(6)]
    path = write(tmp_path, "xrd.csv", "\n".join(["Counts;Winkel", *rows]) + "\n")
    assert recognised_format(path, "diffraction") is None  # 2θ is not the first column
    mapping = mapping_of(
        "diffraction",
        {"two_theta_column": "Winkel", "intensity_column": "counts", "intensity_unit": "counts"},
        name="Bruker CSV",
    )
    parsed = read_mapped_table(path, "diffraction", mapping)
    table = parsed.table
    assert list(table.columns) == list(schema.DIFFRACTION_COLUMNS)
    assert table["two_theta_deg"].tolist() == pytest.approx(
        [10.0, 10.02, 10.04, 10.06, 10.08, 10.1]
    )
    assert table["intensity"].tolist() == [100.0, 110.0, 120.0, 130.0, 140.0, 150.0]
    assert table["intensity_esd"].iloc[0] == pytest.approx(10.0)  # √100 counts
    assert parsed.format == "mapped_diffraction" and parsed.metadata["intensity_unit"] == "counts"


def test_a_file_without_a_mapped_column_names_it(tmp_path):
    path = write(tmp_path, "plain.csv", ohm_csv())
    with pytest.raises(ParseError, match="no column 'Freq \\[kHz\\]' named in mapping 'bench'"):
        read_mapped_table(path, "impedance", mapping_of("impedance", ODD_MAPPING, name="bench"))


@pytest.mark.parametrize(
    ("kind", "data", "message"),
    [
        ("impedance", {**ODD_MAPPING, "frequency_unit": "GHz"}, "frequency_unit must be one of"),
        ("impedance", {"frequency_column": "f", "z_real_column": "r"}, "z_imag_column is required"),
        ("impedance", CYCLING_MAPPING, "unknown mapping keys: capacity_column"),
        ("potential_steps", {**STEP_MAPPING, "current_unit": "kA"}, "current_unit must be one of"),
        ("thermal", {"temperature_column": 5, "heat_flow_column": "HF"}, "temperature_column must"),
        ("ion_current", {**HIDEN_MAPPING, "channels": "mass 32"}, "channels must be a list"),
        ("diffraction", {"two_theta_column": "x", "intensity_column": "X"}, "its own column"),
        ("diffraction", ["two_theta"], "the mapping must be a JSON object"),
    ],
)
def test_a_bad_mapping_is_refused_naming_the_key(kind, data, message):
    with pytest.raises(MappingError, match=message):
        mapping_of(kind, data, name="m")


def test_the_stored_json_has_every_key_and_no_name():
    stored = stored_mapping("thermal", {"temperature_column": "T", "heat_flow_column": "HF",
                                        "time_column": "t"}, name="m")  # fmt: skip
    assert "name" not in stored and stored["exotherm"] == "up" and stored["header_row"] is None
    assert mapping_of("thermal", stored, name="m").name == "m"


# --- the model: one mapping per instrument and table kind -------------------------------------


def save(name: str, instrument: str, table_kind: str, mapping: dict) -> InstrumentMapping:
    saved = InstrumentMapping(
        name=name, instrument=instrument, table_kind=table_kind, mapping=mapping
    )
    saved.full_clean()
    saved.save()
    return saved


@pytest.mark.django_db
def test_a_bad_mapping_is_refused_on_the_mapping_field_naming_the_key():
    bad = InstrumentMapping(
        name="FRA",
        instrument="Bench",
        table_kind="impedance",
        mapping={**ODD_MAPPING, "z_imag_sign": "+"},
    )
    with pytest.raises(ValidationError) as error:
        bad.full_clean()
    message = error.value.message_dict["mapping"][0]
    assert message.startswith("z_imag_sign must be one of -Im, Im, not '+'")
    assert "table kind: impedance" in message


@pytest.mark.django_db
def test_an_instrument_has_one_mapping_per_table_kind():
    cycling = save("Bench cycling", "Bench 3", "cycling", CYCLING_MAPPING)
    impedance = save("Bench EIS", "bench 3", "impedance", ODD_MAPPING)
    assert InstrumentMapping.for_instrument(" BENCH 3 ") == cycling
    assert InstrumentMapping.for_instrument("Bench 3", "impedance") == impedance
    assert InstrumentMapping.for_instrument("Bench 3", "thermal") is None
    again = InstrumentMapping(
        name="Bench EIS 2", instrument="BENCH 3", table_kind="impedance", mapping=OHM_MAPPING
    )
    with pytest.raises(ValidationError, match="already has a column mapping for this table kind"):
        again.full_clean()


@pytest.mark.django_db
def test_a_cycling_snapshot_names_no_kind_and_another_kind_names_its_own():
    cycling = save("Bench cycling", "Bench 3", "cycling", CYCLING_MAPPING)
    impedance = save("Bench EIS", "Bench 3", "impedance", ODD_MAPPING)
    assert set(cycling.snapshot()) == {"name", "instrument", "mapping"}  # cache keys as before
    assert impedance.snapshot()["table_kind"] == "impedance"
    assert impedance.snapshot()["mapping"]["z_imag_sign"] == "Im"


@pytest.mark.django_db
def test_the_admin_form_saves_a_mapping_of_another_kind_from_its_json():
    data = {
        "name": "Bench EIS",
        "instrument": "Bench 3",
        "table_kind": "impedance",
        "description": "",
        "time_unit": "s",
        "current_unit": "A",
        "charge_current": "positive",
        "capacity_unit": "Ah",
        "capacity_restarts": "step",
        "energy_unit": "Wh",
        "header_row": "0",
    }  # fmt: skip (the cycling selects as posted)
    wrong = InstrumentMappingForm(
        data={**data, "other_mapping": json.dumps({"z_real_column": "r"})}
    )
    assert not wrong.is_valid()
    assert "frequency_column is required" in str(wrong.errors["other_mapping"])
    form = InstrumentMappingForm(data={**data, "other_mapping": json.dumps(ODD_MAPPING)})
    assert form.is_valid(), form.errors
    saved = form.save()
    assert (saved.table_kind, saved.mapping["frequency_unit"]) == ("impedance", "kHz")
    assert InstrumentMappingForm(instance=saved).fields["other_mapping"].initial == saved.mapping


@pytest.mark.django_db
def test_the_admin_lists_and_filters_mappings_by_table_kind(admin_client):
    save("Bench cycling", "Bench 3", "cycling", CYCLING_MAPPING)
    save("Bench EIS", "Bench 3", "impedance", ODD_MAPPING)
    url = "/admin/characterization/instrumentmapping/"
    page = admin_client.get(url, {"table_kind__exact": "impedance"}).content.decode()
    assert "Bench EIS" in page and "Bench cycling" not in page
    change = InstrumentMapping.objects.get(name="Bench EIS").pk
    page = admin_client.get(f"{url}{change}/change/").content.decode()
    assert "Zreal [mOhm]" in page  # the JSON of the mapping
    cycling = InstrumentMapping.objects.get(name="Bench cycling").pk
    page = admin_client.get(f"{url}{cycling}/change/").content.decode()
    assert 'value="Q (Ah)"' in page and "null</textarea>" not in page


# --- the job path: an EIS upload on an instrument with an impedance mapping ---------------------


@pytest.fixture
def no_broker(monkeypatch):
    """The jobs are run here, in process: nothing is sent."""
    for task in ("analysis_job_run", "raw_file_inspect"):
        monkeypatch.setattr(f"characterization.jobs.tasks.{task}.apply_async", lambda *a, **k: 0)


def randles_points() -> list[tuple[float, float, float]]:
    """R0 = 10 Ω + (R1 = 50 Ω ‖ CPE Q = 1e-5, α = 0.9) + Warburg σ = 5, 100 kHz to 0.1 Hz."""
    freq = np.logspace(5, -1, 31)
    w = 2 * np.pi * freq
    z = 10 + 1 / (1 / 50 + 1e-5 * (1j * w) ** 0.9) + 5 * (1 - 1j) / np.sqrt(w)
    return [(float(f), float(v.real), float(v.imag)) for f, v in zip(freq, z, strict=True)]


def eis_upload(instrument: str, name: str, content: bytes):
    return services.measurement_record(
        subject=CellFactory().sample,
        measurement_type=MeasurementType.EIS,
        operator=None,
        instrument=instrument,
        uploads=[SimpleUploadedFile(name, content, content_type="text/csv")],
    ).measurement


@pytest.mark.django_db
def test_an_eis_upload_on_a_mapped_instrument_is_read_through_its_impedance_mapping(no_broker):
    seed.analysis_definitions_seed()
    save("Bench cycling", "FRA 2", "cycling", CYCLING_MAPPING)  # another kind: not used
    save("FRA 2 export", "FRA 2", "impedance", ODD_MAPPING)
    points = randles_points()
    measurement = eis_upload("fra 2", "spectrum.csv", odd_csv(points).encode())
    raw = measurement.files.get().raw_file
    job = measurement.analysis_jobs.get(kind="eis_fit")
    assert job.column_mapping["name"] == "FRA 2 export"
    assert job.column_mapping["table_kind"] == "impedance"

    table, from_cache = cache.normalised_table(
        raw, table_kind="impedance", column_mapping=job.column_mapping
    )
    assert not from_cache and list(table.columns) == list(schema.IMPEDANCE_COLUMNS)
    assert len(table) == 31
    assert table["freq_hz"].iloc[0] == pytest.approx(1e5)
    assert table["z_real_ohm"].tolist() == pytest.approx([p[1] for p in points], rel=1e-5)
    assert table["z_imag_ohm"].tolist() == pytest.approx([p[2] for p in points], rel=1e-5)
    path = cache.parquet_path(raw.sha256, job.column_mapping, "impedance")
    assert path.is_file() and ".impedance." in path.name and ".m" in path.name

    assert run_all(measurement) == {"eis_fit": "succeeded"}
    job.refresh_from_db()
    assert job.status == JobStatus.SUCCEEDED
    summary = job.result.summary  # the circuit the kHz/mΩ file was written from
    assert summary["r_ct_ohm"] == pytest.approx(50.0, rel=1e-3)
    assert summary["parameters"]["R0"]["value"] == pytest.approx(10.0, rel=1e-3)
    raw.refresh_from_db()
    assert raw.detected_format == "mapped_impedance"  # read through the mapping: said so
    assert inputs.column_mapping_of(measurement, raw, "impedance") == job.column_mapping


@pytest.mark.django_db
def test_a_snapshot_of_another_kind_is_not_used_for_the_table(no_broker):
    save("FRA 2 export", "FRA 2", "impedance", ODD_MAPPING)
    measurement = eis_upload("FRA 2", "spectrum.csv", odd_csv().encode())
    raw = measurement.files.get().raw_file
    snapshot = inputs.column_mapping_of(measurement, raw, "impedance")
    assert inputs.column_mapping_of(measurement, raw, "cycling") == {}
    with pytest.raises(ParseError):  # read as cycling, without the impedance mapping
        cache.normalised_table(raw, table_kind="cycling", column_mapping=snapshot)


@pytest.mark.django_db
@pytest.mark.testdata("impedance")
def test_a_recognised_impedance_export_keeps_its_own_reader_on_a_mapped_instrument(no_broker):
    save("FRA 2 export", "FRA 2", "impedance", ODD_MAPPING)
    content = (testdata_dir("impedance") / "chinstruments_impedancepy.txt").read_bytes()
    measurement = eis_upload("FRA 2", "chi.txt", content)
    raw = measurement.files.get().raw_file
    assert recognised_format(storage.raw_path(raw.sha256), "impedance") == "chi_txt"
    assert inputs.column_mapping_of(measurement, raw, "impedance") == {}


@pytest.mark.django_db
def test_a_cycling_table_read_through_its_mapping_is_read_through_it_again(no_broker):
    seed.analysis_definitions_seed()
    save("Bench cycling", "Bench 3", "cycling", CYCLING_MAPPING)
    measurement = services.measurement_record(
        subject=CellFactory().sample,
        measurement_type="cycling",
        operator=None,
        instrument="Bench 3",
        uploads=[SimpleUploadedFile("cell-07.csv", bench_csv())],
    ).measurement
    run_all(measurement)
    raw = measurement.files.get().raw_file
    raw.refresh_from_db()
    assert raw.detected_format == "mapped"
    assert inputs.column_mapping_of(measurement, raw)["name"] == "Bench cycling"
    assert inputs.cycling_files(measurement) == [raw]
