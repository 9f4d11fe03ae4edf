"""Diffraction readers: the shared real files (counts compared with the file text at stated
rows, and with fairmat-readers-xrd where it reads them right), synthetic files written here
for the variants no shared file has (XRDML 2.1 with raw counts, attenuation and several
scans; .xy/.xye/.csv spellings; a multi-scan .ras; .rasx without a byte-order mark; a
two-scan .brml; Bruker RAW v4 with 4- and 8-byte records), and one test per way a file can be
wrong. No database needed."""

from __future__ import annotations

import io
import math
import struct
import zipfile
from pathlib import Path

import numpy as np
import pytest

from characterization.parsers._zip import UnpackLimits
from characterization.parsers.diffraction import (
    DIFFRACTION_COLUMNS,
    detect_diffraction_format,
    read_diffraction_file,
    recognise_diffraction,
)
from characterization.parsers.errors import ParseError
from tests.testdata import testdata_dir

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")


def _shared(name: str) -> Path:
    return testdata_dir("diffraction") / name


# ---------------------------------------------------------------- real files


@pytest.mark.testdata("diffraction")
def test_xrdml_15_counts_match_the_file_text():
    table, meta = read_diffraction_file(_shared("panalytical_xrdml15_datalab.xrdml"))
    assert tuple(table.columns) == DIFFRACTION_COLUMNS
    assert meta["format"] == "panalytical_xrdml" and meta["schema_version"] == "1.5"
    assert len(table) == 7181 and meta["scan_count"] == 1
    # <intensities unit="counts">1678 1648 1730 ...; last value 113
    assert table["intensity"].iloc[:3].tolist() == [1678.0, 1648.0, 1730.0]
    assert table["intensity"].iloc[-1] == 113.0
    # startPosition 5.00835563, endPosition 124.99526689, 7181 points evenly spaced
    assert table["two_theta_deg"].iloc[0] == 5.00835563
    assert table["two_theta_deg"].iloc[-1] == pytest.approx(124.99526689, abs=1e-9)
    assert table["intensity_esd"].iloc[0] == pytest.approx(math.sqrt(1678))
    assert meta["wavelength_ka1_a"] == 1.540598 and meta["wavelength_ka2_a"] == 1.544426
    assert meta["ka2_ka1_ratio"] == 0.5 and meta["anode"] == "Cu"
    assert meta["intensity_unit"] == "counts" and meta["counting_time_s"] == [62.23]


@pytest.mark.testdata("diffraction")
def test_ras_counts_match_the_file_text():
    table, meta = read_diffraction_file(_shared("rigaku_ras_pyscattdata_tio2.ras"))
    assert meta["format"] == "rigaku_ras" and len(table) == 4251  # *MEAS_DATA_COUNT 4251
    # rows 1-3 after *RAS_INT_START: "5.000 398.000 1.000", "5.020 379.000 1.000", "5.040 402..."
    assert table[["two_theta_deg", "intensity"]].iloc[:3].to_numpy().tolist() == [
        [5.0, 398.0],
        [5.02, 379.0],
        [5.04, 402.0],
    ]
    assert table[["two_theta_deg", "intensity"]].iloc[-1].tolist() == [90.0, 67.0]
    assert meta["wavelength_ka1_a"] == 1.540593 and meta["wavelength_ka2_a"] == 1.544414
    assert meta["ka2_ka1_ratio"] is None  # .ras does not state it
    assert meta["sample"] == "TiO2-1-6h" and meta["scan_axis"] == "TwoThetaTheta"
    # continuous 5 deg/min, step 0.02: 0.24 s per step
    assert meta["counting_time_s"] == [pytest.approx(0.24)]


@pytest.mark.testdata("diffraction")
def test_rasx_counts_match_the_profile_text():
    table, meta = read_diffraction_file(_shared("rigaku_rasx_fairmat_powder.rasx"))
    assert meta["format"] == "rigaku_rasx" and len(table) == 2726  # DataCount 2726
    # Profile0.txt: "10.0000\t170.55354309082\t1", "10.0400\t170.541732788086\t1"
    assert table["intensity"].iloc[0] == 170.55354309082
    assert table["intensity"].iloc[1] == 170.541732788086
    assert table["two_theta_deg"].iloc[-1] == 119.0
    # WaveType Ka1 (Ge(220)x2 monochromator): no Kα2 in the pattern
    assert meta["radiation"] == "K-Alpha 1" and meta["ka2_ka1_ratio"] == 0.0
    assert meta["wavelength_ka1_a"] == 1.540593 and meta["wavelength_ka2_a"] is None


@pytest.mark.testdata("diffraction")
def test_brml_counts_match_the_datum_rows():
    table, meta = read_diffraction_file(_shared("bruker_brml_datalab_tiof.brml"))
    assert meta["format"] == "bruker_brml" and len(table) == 2469  # MeasurementPoints
    # <Datum>124.8,1,9.998839261,4.999419631,4471</Datum> ... 60.012776015,...,692
    assert table[["two_theta_deg", "intensity"]].iloc[0].tolist() == [9.998839261, 4471.0]
    assert table[["two_theta_deg", "intensity"]].iloc[-1].tolist() == [60.012776015, 692.0]
    assert meta["wavelength_ka1_a"] == 1.5406 and meta["ka2_ka1_ratio"] == 0.5
    assert meta["sample"] == "TiOF 18F.2" and meta["anode"] == "Cu"
    assert meta["absorption_factor_applied"] is False


@pytest.mark.testdata("diffraction")
@pytest.mark.parametrize(
    ("name", "reader", "tolerance"),
    [
        ("panalytical_xrdml15_datalab.xrdml", "read_panalytical_xrdml", 0.0),
        ("rigaku_rasx_fairmat_powder.rasx", "read_rigaku_rasx", 0.0),
        # fairmat rebuilds 2θ from start/stop/count; the Datum rows hold it to 9 decimals
        ("bruker_brml_datalab_tiof.brml", "read_bruker_brml", 1e-9),
    ],
)
def test_fairmat_reads_the_same_numbers_from_the_shared_files(name, reader, tolerance):
    fairmat = pytest.importorskip("fairmat_readers_xrd")
    theirs = getattr(fairmat, reader)(str(_shared(name)))
    table, _ = read_diffraction_file(_shared(name))
    x = np.asarray(theirs["2Theta"].magnitude, dtype=float)
    y = np.asarray(theirs["intensity"].magnitude, dtype=float)
    assert np.abs(x - table["two_theta_deg"].to_numpy()).max() <= tolerance
    assert np.array_equal(y, table["intensity"].to_numpy())


@pytest.mark.testdata("diffraction")
@pytest.mark.parametrize(
    ("name", "fmt"),
    [
        ("panalytical_xrdml15_datalab.xrdml", "panalytical_xrdml"),
        ("rigaku_ras_pyscattdata_tio2.ras", "rigaku_ras"),
        ("rigaku_rasx_fairmat_powder.rasx", "rigaku_rasx"),
        ("bruker_brml_datalab_tiof.brml", "bruker_brml"),
    ],
)
def test_shared_files_are_recognised_from_their_content(name, fmt, tmp_path):
    renamed = tmp_path / "upload.bin"
    renamed.write_bytes(_shared(name).read_bytes())
    assert detect_diffraction_format(renamed) == fmt
    assert recognise_diffraction(_shared(name).read_bytes()[:8192]) == fmt


# ---------------------------------------------------------------- synthetic XRDML 2.x


def write_xrdml(
    path: Path,
    scans: list[dict],
    *,
    version: str = "2.1",
    intended: str = "K-Alpha",
    ka2: str = "1.5444260",
) -> Path:
    """An XRDML file of schema `version` (synthetic): each scan dict gives counts and either
    start/end or listed 2θ, optional attenuation (list) and element ('counts' in 2.x)."""
    body = []
    for scan in scans:
        if "list" in scan:
            positions = f"<listPositions>{' '.join(map(str, scan['list']))}</listPositions>"
        elif "common" in scan:
            positions = f"<commonPosition>{scan['common']}</commonPosition>"
        else:
            positions = (
                f"<startPosition>{scan['start']}</startPosition>"
                f"<endPosition>{scan['end']}</endPosition>"
            )
        attenuation = ""
        if "attenuation" in scan:
            values = " ".join(map(str, scan["attenuation"]))
            attenuation = f"<beamAttenuationFactors>{values}</beamAttenuationFactors>"
        element = scan.get("element", "counts")
        unit = scan.get("unit", "counts")
        counts = " ".join(str(c) for c in scan["counts"])
        body.append(
            f'<scan appendNumber="0" mode="Continuous" scanAxis="{scan.get("axis", "Gonio")}" '
            'status="Completed"><header><startTimeStamp>2024-05-01T10:00:00+02:00'
            "</startTimeStamp></header><dataPoints>"
            f'<positions axis="2Theta" unit="deg">{positions}</positions>'
            '<positions axis="Omega" unit="deg"><startPosition>5</startPosition>'
            "<endPosition>40</endPosition></positions>"
            f'{attenuation}<commonCountingTime unit="seconds">0.5</commonCountingTime>'
            f'<{element} unit="{unit}">{counts}</{element}></dataPoints></scan>'
        )
    path.write_text(
        '<?xml version="1.0" encoding="UTF-8"?>\r\n'
        f'<xrdMeasurements xmlns="http://www.xrdml.com/XRDMeasurement/{version}" '
        'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" status="Completed">'
        '<sample type="To be analyzed"><id>LMNO-7</id><name>LMNO-7</name></sample>'
        '<xrdMeasurement measurementType="Scan" status="Completed">'
        f'<usedWavelength intended="{intended}">'
        '<kAlpha1 unit="Angstrom">1.5405980</kAlpha1>'
        f'<kAlpha2 unit="Angstrom">{ka2}</kAlpha2>'
        '<kBeta unit="Angstrom">1.3922500</kBeta>'
        "<ratioKAlpha2KAlpha1>0.5000</ratioKAlpha2KAlpha1></usedWavelength>"
        "<incidentBeamPath><xRayTube><anodeMaterial>Cu</anodeMaterial></xRayTube>"
        "</incidentBeamPath>" + "".join(body) + "</xrdMeasurement></xrdMeasurements>",
        encoding="utf-8",
    )
    return path


def test_xrdml_21_raw_counts_are_multiplied_by_the_attenuation(tmp_path):
    counts = [100, 120, 5000, 130, 110, 90]
    factors = [1, 1, 80.5, 1, 1, 1]
    path = write_xrdml(
        tmp_path / "a.xrdml",
        [{"start": 18.0, "end": 18.5, "counts": counts, "attenuation": factors}],
    )
    table, meta = read_diffraction_file(path)
    assert meta["schema_version"] == "2.1" and meta["sample"] == "LMNO-7"
    assert table["intensity"].tolist() == [100, 120, 402500.0, 130, 110, 90]
    # σ = √(counts registered) × factor = √5000 × 80.5
    assert table["intensity_esd"].iloc[2] == pytest.approx(math.sqrt(5000) * 80.5)
    assert table["two_theta_deg"].tolist() == pytest.approx(np.linspace(18, 18.5, 6).tolist())


def test_xrdml_21_single_scan_agrees_with_fairmat(tmp_path):
    fairmat = pytest.importorskip("fairmat_readers_xrd")
    counts = [100, 120, 5000, 130, 110, 90]
    path = write_xrdml(
        tmp_path / "a.xrdml",
        [{"start": 18.0, "end": 18.5, "counts": counts, "attenuation": [1, 1, 80.5, 1, 1, 1]}],
    )
    theirs = fairmat.read_panalytical_xrdml(str(path))
    table, _ = read_diffraction_file(path)
    assert np.allclose(theirs["intensity"].magnitude, table["intensity"])
    assert np.allclose(theirs["2Theta"].magnitude, table["two_theta_deg"])


def test_xrdml_series_of_scans_become_scans_of_the_table(tmp_path):
    """fairmat stops on this ('multiline' is not implemented); Kiln keeps every scan."""
    scans = [{"start": 10, "end": 46, "counts": [10 + n, 20, 30, 20, 10, 5]} for n in range(4)]
    table, meta = read_diffraction_file(write_xrdml(tmp_path / "series.xrdml", scans))
    assert meta["scan_count"] == 4 and table["scan"].unique().tolist() == [0, 1, 2, 3]
    assert table.groupby("scan")["intensity"].first().tolist() == [10, 11, 12, 13]


def test_xrdml_listed_positions_and_kalpha1_only(tmp_path):
    path = write_xrdml(
        tmp_path / "l.xrdml",
        [{"list": [20.0, 20.1, 20.25, 20.3, 20.5], "counts": [1, 2, 3, 4, 5]}],
        intended="K-Alpha 1",
        version="2.0",
    )
    table, meta = read_diffraction_file(path)
    assert table["two_theta_deg"].tolist() == [20.0, 20.1, 20.25, 20.3, 20.5]
    assert meta["ka2_ka1_ratio"] == 0.0 and meta["wavelength_ka2_a"] is None


def test_xrdml_cps_and_15_intensities_are_kept_as_written(tmp_path):
    path = write_xrdml(
        tmp_path / "c.xrdml",
        [
            {
                "start": 20,
                "end": 21,
                "counts": [1.5, 2.5, 3.5, 2.5, 1.5],
                "element": "intensities",
                "unit": "cps",
            }
        ],
        version="1.5",
    )
    table, meta = read_diffraction_file(path)
    assert meta["intensity_unit"] == "cps"
    assert table["intensity"].tolist() == [1.5, 2.5, 3.5, 2.5, 1.5]
    # cps with 0.5 s per step: σ = √(I·t)/t
    assert table["intensity_esd"].iloc[0] == pytest.approx(math.sqrt(1.5 * 0.5) / 0.5)


def test_xrdml_descending_scan_is_turned_round(tmp_path):
    path = write_xrdml(tmp_path / "d.xrdml", [{"start": 30, "end": 20, "counts": [1, 2, 3, 4, 5]}])
    table, meta = read_diffraction_file(path)
    assert table["two_theta_deg"].tolist() == [20, 22.5, 25, 27.5, 30]
    assert table["intensity"].tolist() == [5, 4, 3, 2, 1]
    assert meta["reversed_scans"] == [0]


# ---------------------------------------------------------------- synthetic text patterns


def test_xy_with_comments_header_and_crlf(tmp_path):
    path = tmp_path / "p.xy"
    path.write_bytes(
        b"# exported by EVA\r\n# wavelength 1.5406\r\nAngle Counts\r\n"
        b"10.00 120\r\n10.02 130\r\n10.04 125\r\n10.06 128\r\n10.08 131\r\n10.10 129\r\n"
    )
    table, meta = read_diffraction_file(path)
    assert meta["format"] == "xy" and meta["intensity_unit"] == "counts"
    assert table["intensity"].tolist() == [120, 130, 125, 128, 131, 129]
    assert table["intensity_esd"].iloc[0] == pytest.approx(math.sqrt(120))


def test_decimal_comma_tab_separated_latin1(tmp_path):
    path = tmp_path / "p.txt"
    lines = ["2Theta (\u00b0)\tIntensity (cps)"] + [
        f"{18 + 0.02 * i:.2f}\t{100 + i},5".replace(".", ",") for i in range(12)
    ]
    path.write_bytes("\r\n".join(lines).encode("latin-1"))
    table, meta = read_diffraction_file(path)
    assert meta["decimal_separator"] == "," and meta["intensity_unit"] == "cps"
    assert table["two_theta_deg"].iloc[1] == pytest.approx(18.02)
    assert table["intensity"].iloc[1] == 101.5


def test_csv_with_header_and_xye_esd(tmp_path):
    csv = tmp_path / "p.csv"
    csv.write_text(
        "2Theta,Counts,ESD\n"
        + "".join(f"{20 + i * 0.05:.2f},{400 + i},{20 + i}\n" for i in range(12))
    )
    table, meta = read_diffraction_file(csv)
    assert table["intensity_esd"].tolist() == [20 + i for i in range(12)]
    assert meta["intensity_esd_source"] == "file"
    xye = tmp_path / "p.xye"
    xye.write_text("".join(f"{20 + i * 0.05:.2f} {400 + i} 3.0\n" for i in range(12)))
    table, _ = read_diffraction_file(xye)
    assert (table["intensity_esd"] == 3.0).all()


def test_wide_csv_is_an_in_situ_series(tmp_path):
    path = tmp_path / "series.csv"
    rows = "".join(f"{10 + 0.1 * i:.1f};{i};{2 * i};{3 * i}\n" for i in range(12))
    path.write_text("two_theta;scan_1;scan_2;scan_3\n" + rows)
    table, meta = read_diffraction_file(path)
    assert meta["scan_count"] == 3 and meta["intensity_unit"] == "arbitrary"
    assert table.loc[table["scan"] == 2, "intensity"].iloc[5] == 15.0
    assert table["intensity_esd"].isna().all()


# ---------------------------------------------------------------- synthetic .ras / .rasx


def ras_scan(rows: list[tuple], *, unit="counts", count=None, axis="TwoThetaTheta") -> str:
    lines = [
        "*RAS_HEADER_START",
        '*FILE_SAMPLE "LMNO in situ"',
        '*HW_XG_TARGET_NAME "Cu"',
        '*HW_XG_WAVE_LENGTH_ALPHA1 "1.540593"',
        '*HW_XG_WAVE_LENGTH_ALPHA2 "1.544414"',
        f'*MEAS_SCAN_AXIS_X_INTERNAL "{axis}"',
        '*MEAS_SCAN_MODE "STEP"',
        '*MEAS_SCAN_SPEED "2.0"',
        '*MEAS_SCAN_STEP "0.02"',
        f'*MEAS_SCAN_UNIT_Y "{unit}"',
        f'*MEAS_DATA_COUNT "{len(rows) if count is None else count}"',
        "*RAS_HEADER_END",
        "*RAS_INT_START",
    ]
    lines += [" ".join(f"{v:.4f}" for v in row) for row in rows]
    return "\r\n".join(lines + ["*RAS_INT_END"])


def _rows(n=8, start=18.0, factor=1.0, base=100):
    return [(start + 0.02 * i, base + i, factor) for i in range(n)]


def test_multi_scan_ras_with_attenuator(tmp_path):
    path = tmp_path / "series.ras"
    text = "*RAS_DATA_START\r\n" + ras_scan(_rows()) + "\r\n" + ras_scan(_rows(factor=10.0))
    path.write_bytes((text + "\r\n*RAS_DATA_END\r\n").encode("cp932"))
    table, meta = read_diffraction_file(path)
    assert meta["scan_count"] == 2 and meta["sample"] == "LMNO in situ"
    second = table[table["scan"] == 1]
    assert second["intensity"].iloc[0] == 1000.0  # 100 counts × attenuator 10
    assert second["intensity_esd"].iloc[0] == pytest.approx(10 * math.sqrt(100))
    assert meta["counting_time_s"] == [2.0, 2.0]  # step mode: the speed is s per step


def _rasx(path: Path, profile: bytes, *, wave="Ka", count=None, axis="TwoTheta") -> Path:
    rows = profile.decode("utf-8-sig").strip().splitlines()
    conditions = (
        '<?xml version="1.0" encoding="utf-8"?><MeasurementConditions>'
        "<GeneralInformation><SampleName>NSO</SampleName><SystemName>SmartLab</SystemName>"
        "</GeneralInformation><HWConfigurations><XrayGenerator><TargetName>Cu</TargetName>"
        f"<WaveType>{wave}</WaveType><WavelengthKalpha1>1.540593</WavelengthKalpha1>"
        "<WavelengthKalpha2>1.544414</WavelengthKalpha2></XrayGenerator></HWConfigurations>"
        f"<ScanInformation><AxisName>{axis}</AxisName><Mode>CONTINUOUS</Mode><Step>0.02</Step>"
        "<Speed>1</Speed><SpeedUnit>deg/min</SpeedUnit><IntensityUnit>counts</IntensityUnit>"
        f"<DataCount>{len(rows) if count is None else count}</DataCount></ScanInformation>"
        "</MeasurementConditions>"
    )
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("Data0/Profile0.txt", profile)
        archive.writestr("Data0/MesurementConditions0.xml", conditions)
        archive.writestr("root.xml", "<Root/>")
    return path


def test_rasx_without_byte_order_mark_keeps_its_first_row(tmp_path):
    """fairmat skips 3 bytes of every profile, BOM or not; Kiln reads '18.0000' whole."""
    profile = "".join(f"{18 + 0.02 * i:.4f}\t{100 + i}\t1\r\n" for i in range(8)).encode()
    table, meta = read_diffraction_file(_rasx(tmp_path / "x.rasx", profile))
    assert table["two_theta_deg"].iloc[0] == 18.0 and table["intensity"].iloc[0] == 100.0
    assert meta["sample"] == "NSO" and meta["ka2_ka1_ratio"] is None
    assert meta["counting_time_s"] == [pytest.approx(1.2)]  # 0.02° at 1°/min


# ---------------------------------------------------------------- synthetic .brml


def _brml(path: Path, scans: list[list[tuple]], *, declared=None) -> Path:
    names = [f"Experiment0/RawData{i}.xml" for i in range(len(scans))]
    container = (
        '<?xml version="1.0"?><DataContainer><RawDataReferenceList>'
        + "".join(f"<string>{n}</string>" for n in names)
        + '</RawDataReferenceList><MeasurementInfo SampleName="LSO" /></DataContainer>'
    )
    xsi = 'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"'
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("Experiment0/DataContainer.xml", container)
        for name, rows in zip(names, scans, strict=True):
            data = "".join(f"<Datum>1,{f},{t},{t / 2},{c}</Datum>" for t, c, f in rows)
            raw = (
                f'<?xml version="1.0"?><RawData {xsi}><DataRoutes><DataRoute RouteFlag="Measured">'
                '<ScanInformation ScanName="LockedCoupled"><MeasurementPoints>'
                f"{len(rows) if declared is None else declared}</MeasurementPoints>"
                "<TimePerStep>0.5</TimePerStep></ScanInformation>"
                f"{data}<DataViews>"
                + _view("Fixed", 0, 'LogicName="MeasuredTime"')
                + _view("Fixed", 1, 'LogicName="AbsorptionFactor"')
                + '<RawDataView xsi:type="VaryingRawDataView" Start="2" Length="2"><Varying>'
                '<FieldDefinitions FieldName="TwoTheta"/><FieldDefinitions FieldName="Theta"/>'
                "</Varying></RawDataView>"
                '<RawDataView xsi:type="RecordedRawDataView" Start="4" Length="1"><Recording>'
                '<Unit Base="Counts"/></Recording></RawDataView></DataViews></DataRoute>'
                "</DataRoutes>"
                '<FixedInformation><Tube><WaveLengthAlpha1 Unit="Å" Value="1.5406"/>'
                '<WaveLengthAlpha2 Unit="Å" Value="1.54439"/><WaveLengthRatio Value="0.5"/>'
                "<TubeMaterial>Cu</TubeMaterial></Tube></FixedInformation></RawData>"
            )
            archive.writestr(name, raw)
    return path


def _view(kind: str, start: int, extra: str) -> str:
    return f'<RawDataView xsi:type="{kind}RawDataView" Start="{start}" Length="1" {extra}/>'


def test_two_scan_brml_with_an_absorber(tmp_path):
    first = [(20 + 0.1 * i, 50 + i, 1) for i in range(6)]
    second = [(20 + 0.1 * i, 50 + i, 1 if i != 2 else 12.5) for i in range(6)]
    table, meta = read_diffraction_file(_brml(tmp_path / "s.brml", [first, second]))
    assert meta["scan_count"] == 2 and meta["sample"] == "LSO"
    assert table.loc[table["scan"] == 1, "intensity"].iloc[2] == 52 * 12.5
    assert meta["absorption_factor_applied"] is True


# ---------------------------------------------------------------- synthetic RAW v4


def write_raw4(path: Path, ranges: list[dict], *, truncate: int = 0) -> Path:
    """A Bruker RAW v4 file laid out as the reader's doc describes (synthetic)."""
    out = bytearray(b"RAW4.00\x00" + b"\x00" * 4 + b"05/01/2024\x00\x00" + b"10:00:00\x00\x00")
    out += b"\x00" * (61 - len(out))
    sample = b"LMNO-7".ljust(40, b"\x00")
    out += struct.pack("<II", 10, 36 + len(sample)) + b"\x00" * 4 + b"SAMPLEID".ljust(24, b"\x00")
    out += sample
    tube = bytearray(struct.pack("<II", 30, 128)) + b"\x00" * 64
    tube += struct.pack("<5d", 1.54184, 1.5406, 1.54439, 1.39222, 0.5) + b"\x00" * 4 + b"Cu\x00\x00"
    out += tube.ljust(128, b"\x00")
    for spec in ranges:
        drives = b""
        for name, position in spec.get(
            "drives", {"2Theta": spec["start"], "Theta": spec["start"] / 2}
        ).items():
            record = (
                struct.pack("<III", 50, 64, 1) + name.encode().ljust(24, b"\x00") + b"\x00" * 20
            )
            drives += record + struct.pack("<d", position)
        header = bytearray(160)
        struct.pack_into("<I", header, 0, 0)
        header[32 : 32 + 24] = spec.get("type", "Locked Coupled").encode().ljust(24, b"\x00")
        struct.pack_into("<ddI", header, 72, spec["start"], spec["step"], len(spec["counts"]))
        struct.pack_into("<II", header, 136, spec.get("datum", 4), len(drives))
        data = b"".join(
            struct.pack("<f", c) + b"\x01\x00\x00\x00" * (spec.get("datum", 4) // 4 - 1)
            for c in spec["counts"]
        )
        out += bytes(header) + drives + data
    path.write_bytes(bytes(out[: len(out) - truncate]))
    return path


def test_raw4_ranges_with_4_and_8_byte_records(tmp_path):
    path = write_raw4(
        tmp_path / "p.raw",
        [
            {"start": 10.0, "step": 0.02, "counts": [10, 11, 12, 13, 14, 15]},
            {"start": 10.0, "step": 0.02, "counts": [20, 21, 22, 23, 24, 25], "datum": 8},
        ],
    )
    table, meta = read_diffraction_file(path)
    assert meta["format"] == "bruker_raw4" and meta["scan_count"] == 2
    assert table.loc[table["scan"] == 1, "intensity"].tolist() == [20, 21, 22, 23, 24, 25]
    assert table["two_theta_deg"].iloc[5] == pytest.approx(10.1)
    assert meta["sample"] == "LMNO-7" and meta["wavelength_ka1_a"] == 1.5406
    assert meta["anode"] == "Cu" and meta["intensity_unit"] == "counts"


def test_raw4_rocking_curve_and_truncation_are_refused(tmp_path):
    spec = {"start": 10.0, "step": 0.02, "counts": [1, 2, 3, 4, 5, 6]}
    with pytest.raises(ParseError, match="'Rocking Curve' scan, not a powder 2θ scan"):
        read_diffraction_file(write_raw4(tmp_path / "r.raw", [dict(spec, type="Rocking Curve")]))
    with pytest.raises(ParseError, match="truncated"):
        read_diffraction_file(write_raw4(tmp_path / "t.raw", [spec], truncate=10))
    with pytest.raises(ParseError, match="cannot tell which axis"):
        read_diffraction_file(write_raw4(tmp_path / "a.raw", [dict(spec, drives={"2Theta": 20.0})]))


# ---------------------------------------------------------------- what can be wrong


def _xy(tmp_path, text: str, name="bad.xy") -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def _steady(n=12):
    return "".join(f"{20 + 0.02 * i:.2f} {100 + i}\n" for i in range(n))


@pytest.mark.parametrize(
    ("make", "words"),
    [
        (lambda p: _xy(p, _steady(6) + "20.05 90\n20.30 80\n" + _steady(4)), "not monotonic"),
        (lambda p: _xy(p, _steady().replace(" 105", " -3")), "negative intensity -3"),
        (lambda p: _xy(p, _steady(6) + "20.2 abc\n" + _steady(6)), "line 7"),
        (lambda p: _xy(p, ""), "empty"),
        (lambda p: _xy(p, "Sample LMNO\nno numbers here\n"), "not a diffraction file"),
        (
            lambda p: write_xrdml(p / "n.xrdml", [{"list": [10, 11, 12], "counts": [1, 2, 3, 4]}]),
            "lists 3 2θ positions for 4",
        ),
        (
            lambda p: write_xrdml(
                p / "r.xrdml", [{"common": 30.0, "counts": [1, 2, 3, 4, 5], "axis": "Omega"}]
            ),
            "not a powder 2θ scan",
        ),
        (
            lambda p: write_xrdml(
                p / "a.xrdml", [{"start": 1, "end": 2, "counts": [1] * 6, "attenuation": [1] * 5}]
            ),
            "5 attenuation factors for 6",
        ),
        (
            lambda p: _cut(write_xrdml(p / "c.xrdml", [{"start": 1, "end": 9, "counts": [1] * 9}])),
            "XML breaks",
        ),
        (lambda p: _ras(p, ras_scan(_rows(), count=9)), "declares 9 points"),
        (lambda p: _ras(p, ras_scan(_rows()).replace("*RAS_INT_END", "")), "no *RAS_INT_END"),
        (lambda p: _ras(p, ras_scan(_rows(), axis="Omega")), "scans 'Omega', not 2θ"),
        (lambda p: _ras(p, ras_scan(_rows(base=-200))), "negative intensity"),
        (lambda p: _ras(p, ras_scan(_rows(), unit="furlongs")), "unit 'furlongs'"),
        (lambda p: _cut(_rasx(p / "c.rasx", _steady().encode())), "damaged or truncated"),
        (lambda p: _rasx(p / "n.rasx", _steady().encode(), count=99), "declares 99 points"),
        (
            lambda p: _brml(p / "d.brml", [[(20 + 0.1 * i, 5, 1) for i in range(6)]], declared=8),
            "8 measured steps",
        ),
        (lambda p: _brml(p / "f.brml", [[(20.0, 5 + i, 1) for i in range(6)]]), "does not move 2θ"),
    ],
)
def test_damaged_or_unexpected_files_raise_a_sentence(tmp_path, make, words):
    path = make(tmp_path)
    with pytest.raises(ParseError) as err:
        read_diffraction_file(path)
    message = str(err.value)
    assert message.startswith(path.name) and words in message


def _ras(tmp_path: Path, scan: str) -> Path:
    path = tmp_path / "bad.ras"
    path.write_text("*RAS_DATA_START\n" + scan + "\n*RAS_DATA_END\n")
    return path


def _cut(path: Path) -> Path:
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    return path


def test_a_zip_bomb_rasx_is_refused_before_it_unpacks(tmp_path):
    path = tmp_path / "bomb.rasx"
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("Data0/Profile0.txt", b"0" * (4 << 20))
        archive.writestr("Data0/MesurementConditions0.xml", "<MeasurementConditions/>")
    path.write_bytes(buffer.getvalue())
    with pytest.raises(ParseError, match="times its packed size"):
        read_diffraction_file(path, limits=UnpackLimits(max_ratio=50))


def test_entities_in_xml_are_not_expanded(tmp_path):
    path = tmp_path / "e.xrdml"
    path.write_text(
        '<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaa">]>'
        '<xrdMeasurements xmlns="http://www.xrdml.com/XRDMeasurement/2.1">&a;</xrdMeasurements>'
    )
    with pytest.raises(ParseError, match="entities"):
        read_diffraction_file(path)


def test_unknown_format_name_is_refused(tmp_path):
    with pytest.raises(ParseError, match="unknown format"):
        read_diffraction_file(_xy(tmp_path, _steady()), fmt="jcamp")


def test_recognition_of_heads():
    assert recognise_diffraction(b"RAW4.00\x00" + b"\x00" * 100) == "bruker_raw4"
    assert recognise_diffraction(b"*RAS_DATA_START\r\n*RAS_HEADER_START\r\n") == "rigaku_ras"
    assert recognise_diffraction(_steady().encode()) == "xy"
    # a cycler export (time first, many columns) and impedance text are not diffraction
    assert recognise_diffraction(b"Time,Voltage,Current\n0,3.1,0.1\n1,3.2,0.1\n") is None
    assert recognise_diffraction(b"".join(b"%d %d\n" % (i * i, i) for i in range(20))) is None
