"""Battery Data Format (BDF): Kiln's cycling table exported in BDF columns and units, read back
as a cycler format (detected from its content, analysed like any cycler file), and downloaded
from the measurement page."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from characterization.jobs import run, seed
from characterization.parsers import ParseError, detect_format, read_cycler_file
from characterization.parsers.bdf import from_bdf, since_test_start, to_bdf
from characterization.parsers.cycles import cycle_capacities
from characterization.parsers.schema import COLUMNS
from tests.characterization.factories import CellFactory
from tests.characterization.test_jobs import NW4, cycler_upload, record
from tests.lims.factories import UserFactory

from .parser_reference import cycler_data_dir

# The quantities of the published specification (battery-data-format-ontology 1.0.0,
# docs/pages/specification.rst): preferred label -> unit. Step Type is a label without a unit.
PUBLISHED = {
    "Test Time / s": "s",
    "Voltage / V": "V",
    "Current / A": "A",
    "Cycle Count / 1": "1",
    "Step Count / 1": "1",
    "Step Type": None,
    "Charging Capacity / Ah": "Ah",
    "Discharging Capacity / Ah": "Ah",
    "Net Capacity / Ah": "Ah",
    "Charging Energy / Wh": "Wh",
    "Discharging Energy / Wh": "Wh",
}
REQUIRED = ["Test Time / s", "Voltage / V", "Current / A"]
ROUND_TRIP_FILES = (  # real Neware and BioLogic files
    "neware_navani_test.ndax",
    "neware_btsda_export_uio.csv",
    "biologic_navani_gcpl_5cycles.mpr",
    "biologic_yadg_gcpl_4p6V.mpr",
)


def kiln_table() -> pd.DataFrame:
    """One cycle worked by hand: a charge at 1.5 mA to 2.0 mAh, a rest, a discharge at 1.5 mA
    to 2.0 mAh (Kiln: mA and mAh, > 0 charging, capacities counted within each half cycle)."""
    return pd.DataFrame(
        {
            "time_s": [0.0, 2400.0, 4800.0, 4900.0, 7300.0, 9700.0],
            "cycle": [1] * 6,
            "half_cycle": [1, 1, 1, 1, 2, 2],
            "instrument_cycle": [1] * 6,
            "step": [1, 1, 1, 2, 3, 3],
            "step_type": ["charge", "charge", "charge", "rest", "discharge", "discharge"],
            "direction": ["charge", "charge", "charge", "rest", "discharge", "discharge"],
            "current_ma": [1.5, 1.5, 1.5, 0.0, -1.5, -1.5],
            "voltage_v": [3.5, 3.8, 4.1, 4.0, 3.6, 3.0],
            "charge_capacity_mah": [0.0, 1.0, 2.0, 0.0, 0.0, 0.0],
            "discharge_capacity_mah": [0.0, 0.0, 0.0, 0.0, 1.0, 2.0],
            "charge_energy_mwh": [np.nan] * 6,
            "discharge_energy_mwh": [np.nan] * 6,
        }
    )


def assert_same_table(expected: pd.DataFrame, got: pd.DataFrame) -> None:
    assert list(got.columns) == list(COLUMNS) and len(got) == len(expected)
    for column in COLUMNS:
        a, b = expected[column], got[column]
        if column in ("step_type", "direction"):
            assert (a.astype(str).to_numpy() == b.astype(str).to_numpy()).all(), column
        else:
            np.testing.assert_allclose(
                b.to_numpy(dtype=float), a.to_numpy(dtype=float), rtol=1e-9, atol=1e-12,
                err_msg=column,
            )  # fmt: skip


def write(frame: pd.DataFrame, path: Path) -> Path:
    if path.suffix == ".parquet":
        frame.to_parquet(path, index=False)
    else:
        frame.to_csv(path, index=False)
    return path


# --- Kiln -> BDF, worked by hand ---------------------------------------------------------------


def test_milliamps_and_milliamp_hours_become_amps_and_amp_hours_with_charge_positive():
    bdf = to_bdf(kiln_table())
    assert list(bdf.columns) == [
        "Test Time / s",
        "Voltage / V",
        "Current / A",
        "Cycle Count / 1",
        "Step Count / 1",
        "Step Type",
        "Charging Capacity / Ah",
        "Discharging Capacity / Ah",
    ]  # no energies: the file had none
    assert bdf["Current / A"].tolist() == pytest.approx([0.0015] * 3 + [0.0, -0.0015, -0.0015])
    # BDF counts from the test's start and holds the value through rests and discharges
    charged = [0.0, 0.001, 0.002, 0.002, 0.002, 0.002]
    assert bdf["Charging Capacity / Ah"].tolist() == pytest.approx(charged)
    discharged = [0.0, 0.0, 0.0, 0.0, 0.001, 0.002]
    assert bdf["Discharging Capacity / Ah"].tolist() == pytest.approx(discharged)
    assert bdf["Step Count / 1"].tolist() == [1, 1, 1, 2, 3, 3]


def test_a_second_charge_counts_on_from_the_first():
    half = np.array([1, 1, 2, 2, 3, 3])  # charge 2.0, discharge 1.8, charge 1.7 mAh
    charge = pd.Series([1.0, 2.0, 0.0, 0.0, 0.9, 1.7])
    assert since_test_start(half, charge).tolist() == pytest.approx([1, 2, 2, 2, 2.9, 3.7])


def test_a_file_without_an_instrument_cycle_index_has_no_cycle_count():
    table = kiln_table().assign(instrument_cycle=-1)
    assert "Cycle Count / 1" not in to_bdf(table).columns


def test_the_export_uses_only_the_published_labels_and_units():
    bdf = to_bdf(kiln_table().assign(charge_energy_mwh=1.0, discharge_energy_mwh=0.0))
    assert set(bdf.columns) <= set(PUBLISHED)
    assert bdf.columns[:3].tolist() == REQUIRED
    for label in bdf.columns:
        assert (label.partition(" / ")[2] or None) == PUBLISHED[label]


# --- BDF -> Kiln --------------------------------------------------------------------------------


def test_units_in_the_header_are_converted_and_a_charge_is_counted_from_the_current():
    """No capacity columns: Q = ∫|I|dt, 1.5 mA for 1 h = 1.5 mAh each way."""
    frame = pd.DataFrame(
        {
            "Test Time / min": [0.0, 30.0, 60.0, 90.0, 120.0],
            "Voltage / mV": [3500.0, 3800.0, 4100.0, 3700.0, 3200.0],
            "Current / mA": [1.5, 1.5, 1.5, -1.5, -1.5],
        }
    )
    table = from_bdf(frame)
    assert table["time_s"].tolist() == [0.0, 1800.0, 3600.0, 5400.0, 7200.0]
    assert table["voltage_v"].tolist() == pytest.approx([3.5, 3.8, 4.1, 3.7, 3.2])
    assert table["current_ma"].tolist() == pytest.approx([1.5, 1.5, 1.5, -1.5, -1.5])
    (cycle,) = cycle_capacities(table).to_dict(orient="records")
    assert (cycle["charge_capacity_mah"], cycle["discharge_capacity_mah"]) == pytest.approx(
        (1.5, 1.5)
    )


def test_a_bdf_csv_without_a_required_column_is_refused_naming_it(tmp_path):
    frame = to_bdf(kiln_table()).drop(columns=["Current / A"])
    path = write(frame, tmp_path / "cell.bdf.csv")
    assert detect_format(path) == "bdf_csv"  # it is BDF, only incomplete
    with pytest.raises(ParseError, match=r"cell\.bdf\.csv: .*'Current / A'"):
        read_cycler_file(path)


def test_a_unit_kiln_does_not_know_is_refused_naming_the_column():
    frame = to_bdf(kiln_table()).rename(columns={"Current / A": "Current / furlong"})
    with pytest.raises(ParseError, match="'Current / furlong'"):
        from_bdf(frame)


def test_a_parquet_table_without_bdf_columns_is_not_a_cycler_file(tmp_path):
    path = write(pd.DataFrame({"a": [1.0], "b": [2.0]}), tmp_path / "table.parquet")
    with pytest.raises(ParseError, match="without the Battery Data Format columns"):
        detect_format(path)


# --- round trips on real files ------------------------------------------------------------------


@pytest.mark.testdata("cyclers")
@pytest.mark.parametrize("suffix", [".bdf.csv", ".bdf.parquet"])
@pytest.mark.parametrize("name", ROUND_TRIP_FILES)
def test_a_real_file_survives_the_round_trip_through_bdf(name, suffix, tmp_path):
    original = read_cycler_file(cycler_data_dir() / name).table
    path = write(to_bdf(original), tmp_path / f"upload{suffix}")
    parsed = read_cycler_file(path)  # detected from the content, read like any cycler file
    assert parsed.format == ("bdf_csv" if suffix.endswith("csv") else "bdf_parquet")
    assert_same_table(original, parsed.table)


@pytest.mark.testdata("cyclers")
def test_the_export_passes_the_batterydf_validator(tmp_path):
    import bdf  # batterydf, a requirement: the check runs, never skips

    table = read_cycler_file(cycler_data_dir() / "neware_navani_test.ndax").table
    for suffix in (".bdf.csv", ".bdf.parquet"):
        report = bdf.validate(str(write(to_bdf(table), tmp_path / f"x{suffix}")))
        assert report["ok"] and report["missing"] == []
        # Step Type is a term of the ontology 1.0.0 that batterydf 0.1.0 does not list yet
        assert report["extras"] == ["Step Type"]
        assert set(report["required"]) == set(REQUIRED)


# --- the cycler format in Kiln ------------------------------------------------------------------


@pytest.fixture
def no_broker(monkeypatch):
    """The jobs are run here, in process: nothing is sent."""
    for task in ("analysis_job_run", "raw_file_inspect"):
        monkeypatch.setattr(f"characterization.jobs.tasks.{task}.apply_async", lambda *a, **k: 0)


def summary_job(measurement):
    job = measurement.analysis_jobs.get(kind="cycling_summary")
    assert run.analysis_job_run(job_id=job.pk, worker="w") == "succeeded"
    job.refresh_from_db()
    return job


def bdf_upload(name: str, *, as_name: str) -> SimpleUploadedFile:
    table = read_cycler_file(cycler_data_dir() / name).table
    return SimpleUploadedFile(as_name, to_bdf(table).to_csv(index=False).encode())


@pytest.mark.testdata("cyclers")
@pytest.mark.django_db
def test_an_uploaded_bdf_file_is_analysed_with_the_capacities_of_the_original(no_broker):
    seed.analysis_definitions_seed()
    cell = CellFactory()
    original = summary_job(record(cell.sample, cycler_upload(NW4)))
    exported = summary_job(record(cell.sample, bdf_upload(NW4, as_name="nw4 export.txt")))
    assert exported.raw_file.detected_format == "bdf_csv"
    cycles = {row["cycle"]: row for row in exported.result.summary["cycles"]}
    expected = original.result.summary["cycles"]
    assert len(cycles) == len(expected) == 160
    for row in expected:
        for field in ("charge_capacity_mah", "discharge_capacity_mah", "coulombic_efficiency"):
            assert cycles[row["cycle"]][field] == pytest.approx(row[field], rel=1e-6)


@pytest.mark.testdata("cyclers")
@pytest.mark.django_db
def test_a_viewer_downloads_the_bdf_csv_and_a_user_without_a_role_is_refused(client, no_broker):
    measurement = record(CellFactory().sample, cycler_upload("neware_navani_test.ndax"))
    raw = measurement.raw_files.get()
    args = [measurement.sample.code, raw.sha256]
    client.force_login(UserFactory(username="vera", groups=["viewer"]))
    response = client.get(reverse("measurements:bdf-csv", args=args))
    assert response.status_code == 200 and response["Content-Type"] == "text/csv"
    assert 'filename="' in response["Content-Disposition"]
    assert response["Content-Disposition"].endswith('neware_navani_test.bdf.csv"')
    body = response.content.decode()
    assert body.split("\n", 1)[0].startswith("Test Time / s,Voltage / V,Current / A,")
    downloaded = pd.read_csv(io.StringIO(body))
    assert len(downloaded) == len(read_cycler_file(cycler_data_dir() / raw.original_name).table)
    cycles = client.get(reverse("measurements:bdf-cycles-parquet", args=args))
    assert cycles.status_code == 200
    per_cycle = pd.read_parquet(io.BytesIO(cycles.content))
    assert {"cycle", "charge_capacity_mah", "complete"} <= set(per_cycle.columns)
    page = client.get(reverse("measurements:detail", args=[measurement.sample.code]))
    assert reverse("measurements:bdf-parquet", args=args) in page.content.decode()

    client.force_login(UserFactory(username="nobody"))
    assert client.get(reverse("measurements:bdf-csv", args=args)).status_code == 403


@pytest.mark.django_db
def test_a_file_of_another_measurement_is_not_found(client, no_broker):
    one = record(CellFactory().sample, SimpleUploadedFile("a.csv", b"x,y\n1,2\n"))
    other = record(CellFactory().sample, SimpleUploadedFile("b.csv", b"x,y\n3,4\n"))
    client.force_login(UserFactory(username="vera", groups=["viewer"]))
    sha = other.raw_files.get().sha256
    url = reverse("measurements:bdf-csv", args=[one.sample.code, sha])
    assert client.get(url).status_code == 404
