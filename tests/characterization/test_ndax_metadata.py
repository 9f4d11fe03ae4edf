"""Neware .ndax metadata: read with fastnda's metadata reader, stored per raw file on upload,
checked against the coin cell's active mass and shown on the measurement page."""

from __future__ import annotations

import datetime as dt
import zipfile
from pathlib import Path
from xml.etree import ElementTree

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from characterization import ndax_checks, services
from characterization.models import RawFile
from characterization.parsers.ndax_metadata import NdaxMetadata, read_ndax_metadata
from tests.characterization.factories import CellFactory, MeasurementFactory, upload
from tests.testdata import testdata_dir

NAVANI = "neware_navani_test.ndax"
FASTNDA = "neware_fastnda_nw4-120-1-6-53.ndax"
UNIT27 = "neware_newarenda_unit27_rest_only.ndax"
REAL_FILES = [NAVANI, FASTNDA, UNIT27]
# Neware step type codes of the steps in these files (fastnda.dicts.STEP_TYPE_MAP)
STEP_NAMES = {1: "CC_Chg", 2: "CC_DChg", 3: "CV_Chg", 4: "Rest", 5: "Cycle", 6: "End",
              7: "CCCV_Chg", 20: "CCCV_DChg"}  # fmt: skip


def _real(name: str) -> Path:
    return testdata_dir("cyclers") / name


def _xml(path: Path, member: str) -> ElementTree.Element:
    """A part of the archive read independently of the library (zipfile + ElementTree)."""
    with zipfile.ZipFile(path) as archive:
        return ElementTree.fromstring(archive.read(member).decode("gb18030"))


def _rewritten(source: Path, target: Path, changes: dict[str, bytes | None]) -> Path:
    """A copy of the archive with members replaced (None: left out)."""
    with zipfile.ZipFile(source) as old, zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as new:
        for info in old.infolist():
            if info.filename in changes:
                if changes[info.filename] is not None:
                    new.writestr(info.filename, changes[info.filename])
            else:
                new.writestr(info.filename, old.read(info))
    return target


def _with_active_mass(source: Path, target: Path, mass_ug: int) -> Path:
    """The file as if the step program named an active mass (Head_Info/SCQ, in µg)."""
    with zipfile.ZipFile(source) as archive:
        step = archive.read("Step.xml").decode("gb18030")
    step = step.replace("<Head_Info>", f'<Head_Info>\n      <SCQ Value="{mass_ug}" />', 1)
    return _rewritten(source, target, {"Step.xml": step.encode("gb18030")})


def _ndax_upload(path: Path) -> SimpleUploadedFile:
    return SimpleUploadedFile(path.name, path.read_bytes(), content_type="application/zip")


# --- the pure reader, against the XML read independently ---------------------------------------


@pytest.mark.testdata("cyclers")
@pytest.mark.parametrize("name", REAL_FILES)
def test_the_metadata_agrees_with_the_xml_inside_the_real_files(name):
    path = _real(name)
    metadata = read_ndax_metadata(path)
    info = _xml(path, "TestInfo.xml").find("config/TestInfo")
    steps = list(_xml(path, "Step.xml").find("config/Step_Info"))
    assert metadata.warnings == [] and metadata.reader.startswith("fastnda ")
    assert metadata.channel.device == info.get("DevID")
    assert metadata.channel.channel == info.get("ChlID")
    assert metadata.channel.test_id == info.get("TestID")
    start = dt.datetime.strptime(info.get("StartTime"), "%Y-%m-%d %H:%M:%S")
    assert metadata.start_time.replace(tzinfo=None) == start
    assert metadata.barcode == (info.get("Barcode") or "")
    assert [s.index for s in metadata.step_program] == [int(s.get("Step_ID")) for s in steps]
    assert [s.type for s in metadata.step_program] == [
        STEP_NAMES[int(s.get("Step_Type"))] for s in steps
    ]
    for step, node in zip(metadata.step_program, steps, strict=True):
        main = node.find("Limit/Main")

        def value(tag, main=main):
            found = main.find(tag) if main is not None else None
            return found.get("Value") if found is not None else None

        assert step.current_ma == (float(value("Curr")) if value("Curr") else None)
        assert step.voltage_v == (float(value("Volt")) / 10_000 if value("Volt") else None)
        assert step.stop_voltage_v == (
            float(value("Stop_Volt")) / 10_000 if value("Stop_Volt") else None
        )
        assert step.time_limit_s == (float(value("Time")) / 1000 if value("Time") else None)
    assert metadata.active_mass_mg is None  # none of these files records one
    assert NdaxMetadata.from_json(metadata.to_json()) == metadata


@pytest.mark.testdata("cyclers")
def test_the_navani_file_is_a_rest_a_cccv_charge_and_discharge_started_without_a_zone():
    metadata = read_ndax_metadata(_real(NAVANI))
    program = [(s.label, s.current_ma, s.voltage_v, s.stop_current_ma, s.time_limit_s)
               for s in metadata.step_program]  # fmt: skip
    assert program == [
        ("Rest", None, None, None, 300.0),
        ("CCCV charge", 0.12, 4.4, 0.004, 21600.0),
        ("CCCV discharge", 0.12, 1.5, 0.004, 21600.0),
        ("Rest", None, None, None, 300.0),
        ("End", None, None, None, None),
    ]
    assert metadata.step_program[1].other_limits == {"Cap": "7200000"}  # unit not documented
    assert metadata.step_program[1].end_conditions == [
        "0.004 mA", "21600 s (6 h)", "Cap 7200000 (as recorded)",
    ]  # fmt: skip
    assert metadata.start_time == dt.datetime(2024, 2, 1, 20, 24, 23)  # naive: no zone given
    assert (metadata.channel.label, metadata.step_file) == ("16-1-7", "fs6_cycling.xml")


@pytest.mark.testdata("cyclers")
def test_the_fastnda_file_gives_its_zone_its_display_channel_and_an_edited_program():
    metadata = read_ndax_metadata(_real(FASTNDA))
    zone = dt.timezone(dt.timedelta(hours=2))  # Backup's CreateTime ...+02:00
    assert metadata.start_time == dt.datetime(2025, 4, 7, 12, 44, 13, tzinfo=zone)
    assert metadata.end_time == dt.datetime(2025, 4, 9, 12, 52, 27, tzinfo=zone)
    assert metadata.channel.label == "120-1-6"  # UnitID 0 shown as unit 1, as in the file name
    assert metadata.program_edited  # Step0.xml: the program before the edit
    assert metadata.nominal_capacity_mah == pytest.approx(13932 / 3600)
    assert (metadata.barcode, metadata.remarks, metadata.creator) == (
        "250403_kigr_gen9_06", "250403_kigr_gen9_06", "kigr",
    )  # fmt: skip
    cycle = metadata.step_program[3]
    assert (cycle.type, cycle.cycle_from_step, cycle.cycle_count) == ("Cycle", 1, 15)
    first = metadata.step_program[0]
    assert (first.label, first.current_ma, first.c_rate, first.stop_voltage_v) == (
        "CC charge", 1.94, 0.5, 4.9,
    )  # fmt: skip


@pytest.mark.testdata("cyclers")
def test_an_active_mass_in_the_step_program_is_read_in_mg(tmp_path):
    path = _with_active_mass(_real(NAVANI), tmp_path / "mass.ndax", 12_300)
    assert read_ndax_metadata(path).active_mass_mg == pytest.approx(12.30)


@pytest.mark.testdata("cyclers")
def test_a_damaged_part_gives_none_fields_and_a_warning_and_the_others_are_read(tmp_path):
    path = _rewritten(_real(UNIT27), tmp_path / "bad.ndax", {"TestInfo.xml": b"<root><config ty"})
    metadata = read_ndax_metadata(path)
    assert (metadata.channel, metadata.start_time, metadata.barcode) == (None, None, "")
    assert [s.type for s in metadata.step_program] == ["Rest", "End"]
    assert metadata.remarks == "Unit27_Example_Data_File"
    assert len(metadata.warnings) == 1
    assert metadata.warnings[0].startswith("TestInfo.xml cannot be read (")
    assert metadata.warnings[0].endswith("): no channel, start time or barcode")
    assert metadata.reader.endswith(", by part")


@pytest.mark.testdata("cyclers")
def test_a_missing_part_gives_none_fields_and_a_warning(tmp_path):
    path = _rewritten(_real(NAVANI), tmp_path / "nostep.ndax", {"Step.xml": None})
    metadata = read_ndax_metadata(path)
    assert (metadata.step_program, metadata.active_mass_mg) == (None, None)
    assert metadata.channel.label == "16-1-7"
    assert metadata.warnings == ["the file has no Step.xml: no step program or active mass"]


def test_a_file_that_is_no_zip_gives_a_warning_not_an_exception(tmp_path):
    path = tmp_path / "junk.ndax"
    path.write_bytes(b"PK\x03\x04 not really a zip")
    metadata = read_ndax_metadata(path)
    assert metadata.step_program is None and metadata.channel is None
    assert metadata.warnings and metadata.warnings[0].startswith("the archive cannot be opened")


@pytest.mark.parametrize(
    ("file_mg", "cell_mg", "differs"),
    [
        (10.20, 10.00, False),  # 2 % of 10 mg: 0.20 mg, not more
        (10.21, 10.00, True),
        (1.05, 1.00, False),  # under 2.5 mg the 0.05 mg floor applies (2 % would be 0.02 mg)
        (1.06, 1.00, True),
        (12.30, 10.85, True),
        (None, 10.85, False),
        (12.30, None, False),
    ],
)
def test_the_mass_tolerance_is_2_percent_or_0_05_mg_whichever_is_larger(file_mg, cell_mg, differs):
    assert ndax_checks.mass_differs(file_mg, cell_mg) is differs


# --- stored on upload, shown on the measurement page -------------------------------------------


@pytest.mark.django_db
@pytest.mark.testdata("cyclers")
def test_a_different_active_mass_in_the_file_is_a_warning_on_the_measurement_page(
    client, chemist, tmp_path
):
    cell = CellFactory()  # 12.00 mg disc, 4.00 mg foil, 80 % active: 6.40 mg
    assert cell.active_mass_mg == pytest.approx(6.40)
    path = _with_active_mass(_real(NAVANI), tmp_path / "cell.ndax", 12_300)
    measurement = MeasurementFactory(subject=cell.sample, uploads=[_ndax_upload(path)])
    raw = RawFile.objects.get()
    assert raw.detected_format == "neware_ndax"
    assert raw.instrument_metadata["kind"] == "neware_ndax"
    assert raw.instrument_metadata["active_mass_mg"] == pytest.approx(12.30)
    assert raw.instrument_metadata["channel"]["device"] == "16"
    assert len(raw.instrument_metadata["step_program"]) == 5

    client.force_login(chemist)
    page = client.get(reverse("measurements:detail", args=[measurement.sample.code]))
    html = page.content.decode()
    assert page.status_code == 200
    expected = (
        f"The Neware file says 12.30 mg active mass, cell {cell.sample.code} has 6.40 mg: "
        "capacities per gram use the cell&#x27;s."
    )
    assert expected in html
    assert 'data-testid="ndax-channel">16-1-7' in html
    assert "2024-02-01 20:24:23" in html and "the file gives no time zone" in html
    assert "CCCV charge" in html and "CCCV discharge" in html
    assert "0.004 mA or 21600 s (6 h) or Cap 7200000 (as recorded)" in html
    assert html.count('<tr><td class="num">') == 5  # one row per step


@pytest.mark.django_db
@pytest.mark.testdata("cyclers")
def test_an_active_mass_within_tolerance_gives_no_warning(client, chemist, tmp_path):
    cell = CellFactory()
    path = _with_active_mass(_real(NAVANI), tmp_path / "close.ndax", 6_440)  # +0.04 mg
    measurement = MeasurementFactory(subject=cell.sample, uploads=[_ndax_upload(path)])
    client.force_login(chemist)
    html = client.get(reverse("measurements:detail", args=[measurement.sample.code])).content
    assert b'data-testid="ndax-metadata"' in html
    assert b"ndax-mass-warning" not in html
    assert f"6.44 mg (cell {cell.sample.code}: 6.40 mg)".encode() in html


@pytest.mark.django_db
@pytest.mark.testdata("cyclers")
def test_a_file_with_a_zone_shows_its_own_start_time_and_offset(client, chemist, settings):
    settings.TIME_ZONE = "UTC"
    measurement = MeasurementFactory(uploads=[_ndax_upload(_real(FASTNDA))])
    client.force_login(chemist)
    html = client.get(reverse("measurements:detail", args=[measurement.sample.code])).content
    assert b"2025-04-07 12:44:13 <small>(UTC+0200)</small>" in html
    assert b"edited during the test" in html
    assert b"back to step 1, 15 times" in html


@pytest.mark.django_db
@pytest.mark.testdata("cyclers")
def test_a_damaged_part_still_stores_the_upload_and_the_page_says_what_is_missing(
    client, chemist, tmp_path
):
    measurement = MeasurementFactory(operator=chemist)
    path = _rewritten(_real(UNIT27), tmp_path / "bad.ndax", {"TestInfo.xml": b"<root><config ty"})
    client.force_login(chemist)
    url = reverse("measurements:files", args=[measurement.sample.code])
    response = client.post(url, {"files": [_ndax_upload(path)]})
    assert response.status_code == 302
    raw = RawFile.objects.get()
    assert raw.measurements.get() == measurement
    stored = raw.instrument_metadata
    assert stored["channel"] is None and stored["start_time"] is None
    assert [s["type"] for s in stored["step_program"]] == ["Rest", "End"]
    assert stored["warnings"][0].startswith("TestInfo.xml cannot be read")
    html = client.get(response.url).content.decode()
    assert 'data-testid="ndax-channel">not recorded' in html
    assert "TestInfo.xml cannot be read" in html


@pytest.mark.django_db
@pytest.mark.testdata("cyclers")
def test_a_reader_failure_never_stops_the_upload(monkeypatch):
    def broken(*args, **kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr(ndax_checks, "read_ndax_metadata", broken)
    raw, created = services.raw_file_store(upload=_ndax_upload(_real(NAVANI)), uploaded_by=None)
    raw.refresh_from_db()
    assert created and raw.detected_format == "neware_ndax"
    assert raw.instrument_metadata["kind"] == "neware_ndax"
    assert raw.instrument_metadata["warnings"] == ["the metadata cannot be read (RuntimeError)"]


@pytest.mark.django_db
def test_a_file_that_is_not_ndax_stores_no_metadata(client, chemist):
    measurement = MeasurementFactory(uploads=[upload("cycle.csv")])
    raw = RawFile.objects.get()
    assert raw.instrument_metadata == {}
    client.force_login(chemist)
    html = client.get(reverse("measurements:detail", args=[measurement.sample.code])).content
    assert b"ndax-metadata" not in html
