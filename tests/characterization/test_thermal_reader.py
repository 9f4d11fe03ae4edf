"""Thermal (DSC/STA) readers: TA Universal Analysis text, NETZSCH .ngb (pyngb), mapped CSV.

Real files (shared testdata thermal/, see its SOURCES.md): the TA export of eicosane
(PPeitsch/pkynetics, MIT) and the NETZSCH STA 449 F3 .ngb-ds3 (GraysonBellamy/pyngb, MIT).
Numbers checked against the real files were read by hand from the file's text (TA) or
recomputed here from pyngb's raw µV signal with the calibration formula (NETZSCH).

Synthetic files (made in this module, marked SYNTHETIC): TA exports in other signal orders and
units, Exotherm Down, no Exotherm line, CRLF, decimal commas, cp437/UTF-8 degree signs, MDSC
signal sets, and every damaged variant; CSV exports for the column mapping.
"""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

import numpy as np
import pytest

from characterization.parsers.errors import ParseError
from characterization.parsers.thermal import (
    NETZSCH_NGB,
    TA_UNIVERSAL_TEXT,
    THERMAL_CSV,
    ThermalColumnMap,
    ThermalMappingError,
    looks_like,
    read_thermal_file,
    recognise,
)
from tests.testdata import testdata_dir

TA_FILE = "ta_universal_analysis_pkynetics.txt"
NGB_FILE = "netzsch_sta_pyngb_probe_g.ngb-ds3"


def ta_text(
    signals: list[str],
    rows: list[list[float]] | list[str],
    *,
    exotherm: str | None = "Up",
    size: str | None = "5.00000\tmg",
    nsig: int | None = None,
    start_of_data: bool = True,
) -> str:
    """SYNTHETIC: a Universal Analysis export laid out like the real pkynetics file."""
    head = [
        "CLOSED",
        "Version\t0.4",
        "Run\t1",
        "Instrument\tQ2000 V24.11 Build 124",
        "Module\tDSC Standard Cell RC",
        "Sample\tsynthetic",
    ]
    if size is not None:
        head.append(f"Size\t{size}")
    head += ["Method\tRamp"]
    if exotherm is not None:
        head.append(f"Exotherm\t{exotherm}")
    head.append(f"Nsig\t{len(signals) if nsig is None else nsig}")
    head += [f"Sig{i}\t{s}" for i, s in enumerate(signals, start=1)]
    head += ["Date\t01-Feb-24", "Time\t10:00"]
    if start_of_data:
        head.append("StartOfData")
    body = [r if isinstance(r, str) else "\t".join(f"{v:.6f}" for v in r) for r in rows]
    return "\n".join(head + body) + "\n"


def write(tmp_path: Path, name: str, text: str, encoding: str = "latin-1", newline="\n") -> Path:
    path = tmp_path / name
    path.write_bytes(text.replace("\n", newline).encode(encoding))
    return path


def ramp_rows(n: int = 40) -> list[list[float]]:
    """time (min), temperature (°C), heat flow (mW): 10 K/min from 30 °C, HF = 1 + 0.01 T."""
    return [[i * 0.1, 30.0 + i, 1.0 + 0.01 * (30.0 + i)] for i in range(n)]


# ---------------------------------------------------------------- real files


@pytest.mark.testdata("thermal")
def test_ta_real_file_first_and_last_rows_match_the_text():
    path = testdata_dir("thermal") / TA_FILE
    assert looks_like(path) == TA_UNIVERSAL_TEXT
    table, meta = read_thermal_file(path)
    # File text: rows 1-2 and the last are '-1.000000 ...' markers; the first data row is
    # "187.9960\t-21.18184\t-10.46185", the last "370.9860\t-20.73705\t-10.24684".
    first, last = table.iloc[0], table.iloc[-1]
    assert first["time_s"] == pytest.approx(187.9960 * 60)
    assert first["temperature_c"] == pytest.approx(-21.18184)
    assert first["heat_flow_mw"] == pytest.approx(-10.46185)  # Exotherm Up: kept as is
    assert last["time_s"] == pytest.approx(370.9860 * 60)
    assert last["heat_flow_mw"] == pytest.approx(-10.24684)
    assert first["heat_flow_w_per_g"] == pytest.approx(-10.46185 / 9.0)
    # 19,004 rows after StartOfData, 4 of them markers; pkynetics also returns 19,000 points.
    assert len(table) == 19_000
    assert meta["marker_rows_dropped"] == 4
    assert meta["sample_mass_mg"] == 9.0
    assert meta["exotherm_direction_declared"] == "up"
    assert meta["instrument"].split() == ["2920", "MDSC", "V2.6A"]
    assert meta["units_seen"] == {"time": "min", "temperature": "°C", "heat_flow": "mW"}
    assert meta["encoding"] == "latin-1"
    assert meta["warnings"] == []
    assert list(table.columns) == ["time_s", "temperature_c", "heat_flow_mw", "heat_flow_w_per_g"]


@pytest.mark.testdata("thermal")
def test_netzsch_real_file_gives_calibrated_corrected_dsc_and_tg():
    import pyngb

    path = testdata_dir("thermal") / NGB_FILE
    assert looks_like(path) == NETZSCH_NGB
    table, meta = read_thermal_file(path)
    assert len(table) == 5801  # SOURCES.md: pyngb gives 5,801 rows
    assert meta["run"] == "corrected" and meta["measurement_type"] == "sample_correction"
    assert meta["sample_mass_mg"] == pytest.approx(10.848)
    assert meta["units_seen"]["heat_flow"] == "µV" and meta["dsc_calibration_applied"]
    assert meta["instrument"] == "STA449F3A-0042-M"
    # Recompute mW by hand from the raw corrected µV and the file's sensitivity constants.
    raw = pyngb.read_ngb(path, run="corrected").to_pandas()
    c = json.loads(pyngb.read_ngb(path).schema.metadata[b"file_metadata"])["calibration_constants"]
    for row in (0, 1000, 3000):
        z = (raw["sample_temperature"][row] - c["p0"]) / c["p1"]
        sensitivity = (c["p2"] + c["p3"] * z + c["p4"] * z**2 + c["p5"] * z**3) * np.exp(-(z**2))
        expected = raw["dsc_signal"][row] / sensitivity
        assert table["heat_flow_mw"][row] == pytest.approx(expected, rel=1e-6)
    assert table["time_s"][1] == pytest.approx(0.6)
    assert table["temperature_c"][0] == pytest.approx(34.886, abs=1e-3)
    assert table["mass_change_mg"][0] == 0.0
    assert table["mass_change_mg"].iloc[-1] == pytest.approx(
        raw["mass"].iloc[-1] - raw["mass"][0], abs=1e-9
    )
    # the paper dries on heating to 105 °C: an endotherm, so negative in Kiln's convention
    assert table["heat_flow_mw"][300] < -1.0


# ---------------------------------------------------------------- TA variants (SYNTHETIC)


def test_ta_signals_in_another_order_and_units_are_converted(tmp_path):
    rows = [[25.0 + i, 1.5 + 0.001 * i, i * 6.0] for i in range(30)]  # T, W/g, time (s)
    text = ta_text(
        ["Temperature (\xb0C)", "Heat Flow (W/g)", "Time (s)"],
        rows,
        exotherm="Down",
        size="2.50000\tmg",
    )
    table, meta = read_thermal_file(write(tmp_path, "a.txt", text, "cp1252", "\r\n"))
    assert table["time_s"][3] == pytest.approx(18.0)
    assert table["temperature_c"][3] == pytest.approx(28.0)
    # W/g × 2.5 mg = mW, negated because the file declares Exotherm Down
    assert table["heat_flow_mw"][3] == pytest.approx(-(1.503 * 2.5))
    assert table["heat_flow_w_per_g"][3] == pytest.approx(-1.503)
    assert meta["exotherm_direction_declared"] == "down"
    assert meta["heat_flow_sign"].startswith("negated")
    assert meta["columns_used"] == {"temperature": "Sig1", "heat_flow": "Sig2", "time": "Sig3"}


def test_ta_decimal_comma_and_code_page_437_degree_sign(tmp_path):
    rows = ["\t".join(f"{v:.4f}".replace(".", ",") for v in r) for r in ramp_rows()]
    text = ta_text(["Time (min)", "Temperature (\xf8C)", "Heat Flow (mW)"], rows, size="5,0\tmg")
    table, meta = read_thermal_file(write(tmp_path, "b.txt", text))
    assert meta["decimal_separator"] == ","
    assert meta["units_seen"]["temperature"] == "°C"
    assert meta["sample_mass_mg"] == 5.0
    assert table["heat_flow_mw"][2] == pytest.approx(1.32)
    assert table["time_s"][2] == pytest.approx(12.0)


def test_ta_utf8_with_bom_kelvin_and_watts(tmp_path):
    rows = [[i * 0.1, 303.15 + i, 0.001 * (i + 1)] for i in range(20)]
    text = "\ufeff" + ta_text(["Time (min)", "Temperature (K)", "Heat Flow (W)"], rows)
    table, meta = read_thermal_file(write(tmp_path, "c.txt", text, "utf-8"))
    assert meta["encoding"] == "utf-8"
    assert table["temperature_c"][0] == pytest.approx(30.0)
    assert table["heat_flow_mw"][1] == pytest.approx(2.0)


def test_ta_mdsc_signals_pick_total_heat_flow_and_sample_temperature(tmp_path):
    signals = [
        "Modulated Temperature (\xb0C)",
        "Rev Heat Flow (mW)",
        "Time (min)",
        "Heat Flow (mW)",
        "Nonrev Heat Flow (mW)",
        "Temperature (\xb0C)",
        "Weight (mg)",
    ]
    rows = [[99.0, -7.0, i * 0.1, 1.0 + i, 8.0, 30.0 + i, 5.0 - 0.01 * i] for i in range(20)]
    table, meta = read_thermal_file(write(tmp_path, "d.txt", ta_text(signals, rows)))
    assert meta["columns_used"] == {
        "time": "Sig3",
        "temperature": "Sig6",
        "heat_flow": "Sig4",
        "weight": "Sig7",
    }
    assert table["heat_flow_mw"][4] == pytest.approx(5.0)
    assert table["mass_change_mg"][4] == pytest.approx(-0.04)


def test_ta_without_exotherm_line_assumes_up_and_says_so(tmp_path):
    text = ta_text(
        ["Time (min)", "Temperature (\xb0C)", "Heat Flow (mW)"], ramp_rows(), exotherm=None
    )
    table, meta = read_thermal_file(write(tmp_path, "e.txt", text))
    assert meta["exotherm_direction_declared"] is None
    assert meta["exotherm_direction_used"] == "up"
    codes = [w["code"] for w in meta["warnings"]]
    assert codes == ["exotherm_direction_assumed"]
    assert table.attrs["kiln"]["warnings"] == meta["warnings"]
    assert table["heat_flow_mw"][0] == pytest.approx(1.3)


def test_ta_without_size_line_has_no_mass_and_no_specific_column(tmp_path):
    text = ta_text(["Time (min)", "Temperature (\xb0C)", "Heat Flow (mW)"], ramp_rows(), size=None)
    table, meta = read_thermal_file(write(tmp_path, "f.txt", text))
    assert meta["sample_mass_mg"] is None
    assert "heat_flow_w_per_g" not in table.columns


def test_ta_marker_rows_are_dropped(tmp_path):
    rows = [[-1.0, 70.0, 0.0], *ramp_rows(), [-1.0, 30.0, 0.0]]
    table, meta = read_thermal_file(
        write(
            tmp_path, "g.txt", ta_text(["Time (min)", "Temperature (°C)", "Heat Flow (mW)"], rows)
        )
    )
    assert meta["marker_rows_dropped"] == 2
    assert len(table) == 40 and table["time_s"].min() == 0.0


def test_ta_cut_last_line_is_dropped_with_a_warning(tmp_path):
    text = ta_text(["Time (min)", "Temperature (°C)", "Heat Flow (mW)"], ramp_rows())
    text += "4.000000\t70.0"  # cut while written
    table, meta = read_thermal_file(write(tmp_path, "h.txt", text))
    assert len(table) == 40
    assert meta["cut_last_line_dropped"] is True
    assert [w["code"] for w in meta["warnings"]] == ["file_truncated"]


# ---------------------------------------------------------------- damaged TA (SYNTHETIC)

SIGNALS = ["Time (min)", "Temperature (°C)", "Heat Flow (mW)"]


@pytest.mark.parametrize(
    "text, message",
    [
        ("", "empty"),
        (ta_text(SIGNALS, ramp_rows(), start_of_data=False), "StartOfData"),
        (ta_text(SIGNALS, []), "no data rows"),
        (ta_text(SIGNALS, ramp_rows()[:5]), "at least 10"),
        (ta_text(SIGNALS, [*ramp_rows()[:20], "1.0\tabc\t2.0", *ramp_rows()[20:]]), "line 37"),
        (ta_text(SIGNALS, [[i * 0.1, 30 + i, float("nan")] for i in range(20)]), "heat flow"),
        (ta_text(["Time (min)", "Temperature (°C)", "Heat Flow (W/g)"], ramp_rows(), size=None),
         "no sample mass"),
        (ta_text(["Time (min)", "Temperature (°C)", "Weight (mg)"], ramp_rows()), "TGA"),
        (ta_text(SIGNALS, ramp_rows(), nsig=4), "Nsig"),
        (ta_text(["Time (min)", "Temperature (°F)", "Heat Flow (mW)"], ramp_rows()), "°F"),
        (ta_text(["Time (min)", "Temperature (°C)", "Heat Flow (cal/s)"], ramp_rows()), "cal/s"),
        (ta_text(SIGNALS, ramp_rows(), size="heavy\tmg"), "Size"),
    ],
)  # fmt: skip
def test_damaged_ta_exports_raise_parse_error_naming_the_file(tmp_path, text, message):
    path = write(tmp_path, "broken.txt", text) if text else tmp_path / "broken.txt"
    if not text:
        path.write_bytes(b"")
    with pytest.raises(ParseError) as info:
        read_thermal_file(path, fmt=TA_UNIVERSAL_TEXT)
    assert str(info.value).startswith("broken.txt: ")
    assert message in str(info.value)


# ---------------------------------------------------------------- recognition


def test_recognise_reads_only_ta_heads():
    assert recognise(ta_text(SIGNALS, ramp_rows())[:2000]) == TA_UNIVERSAL_TEXT
    assert recognise("EXPLAIN\nTAG\tEISPOT\n") is None
    assert recognise("Time;Temperature;Heat Flow\n1;2;3\n") is None
    assert recognise("") is None


def test_looks_like_refuses_other_zips_and_text(tmp_path):
    other = tmp_path / "x.zip"
    with zipfile.ZipFile(other, "w") as archive:
        archive.writestr("xl/workbook.xml", "<workbook/>")
    assert looks_like(other) is None
    csv_file = write(tmp_path, "y.csv", "Temperature;Heat Flow\n1;2\n")
    assert looks_like(csv_file) is None
    assert looks_like(tmp_path / "missing.txt") is None
    with pytest.raises(ParseError, match="not a thermal file Kiln recognises"):
        read_thermal_file(csv_file)


@pytest.mark.testdata("thermal")
def test_truncated_netzsch_file_raises_parse_error(tmp_path):
    data = (testdata_dir("thermal") / NGB_FILE).read_bytes()
    cut = tmp_path / "cut.ngb-ds3"
    cut.write_bytes(data[: len(data) // 2])
    with pytest.raises(ParseError, match="^cut.ngb-ds3: a NETZSCH .ngb file that is damaged"):
        read_thermal_file(cut, fmt=NETZSCH_NGB)


def test_netzsch_format_on_a_text_file_raises_parse_error(tmp_path):
    path = write(tmp_path, "t.ngb-ss3", ta_text(SIGNALS, ramp_rows()))
    with pytest.raises(ParseError, match="^t.ngb-ss3: not a NETZSCH .ngb file"):
        read_thermal_file(path, fmt=NETZSCH_NGB)


def test_zip_with_netzsch_stream_but_garbage_inside_raises_parse_error(tmp_path):
    path = tmp_path / "flip.ngb-ds3"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("Streams/stream_1.table", b"garbage" * 10)
    assert looks_like(path) == NETZSCH_NGB
    with pytest.raises(ParseError, match="^flip.ngb-ds3: could not be read as a NETZSCH"):
        read_thermal_file(path)


# ---------------------------------------------------------------- mapped CSV (SYNTHETIC)


def csv_text(rows: list[list[float]], *, sep: str = ";", comma: bool = True) -> str:
    lines = [
        "Exported by some software",
        "Sample: x",
        sep.join(["Time", "Temp.", "DSC", "TG"]),
        sep.join(["min", "°C", "W/g", "mg"]),
    ]
    for r in rows:
        cells = [f"{v:.5f}" for v in r]
        lines.append(sep.join(c.replace(".", ",") if comma else c for c in cells))
    return "\n".join(lines) + "\n"


def test_mapped_csv_with_units_line_decimal_comma_and_exotherm_down(tmp_path):
    rows = [[i * 0.1, 30.0 + i, 0.2 + 0.01 * i, 8.0 - 0.1 * i] for i in range(30)]
    path = write(tmp_path, "m.csv", csv_text(rows), "utf-8", "\r\n")
    mapping = ThermalColumnMap(
        temperature_column="Temp.",
        heat_flow_column="DSC",
        time_column="Time",
        time_unit="min",
        temperature_unit="°C",
        heat_flow_unit="W/g",
        exotherm="down",
        sample_mass_mg=4.0,
        mass_column="TG",
        name="lab STA csv",
    )
    table, meta = read_thermal_file(path, mapping=mapping)
    assert meta["format"] == THERMAL_CSV and meta["header_line"] == 3
    assert meta["decimal_separator"] == ","
    assert table["time_s"][5] == pytest.approx(30.0)
    assert table["heat_flow_mw"][5] == pytest.approx(-(0.25 * 4.0))
    assert table["mass_change_mg"][5] == pytest.approx(-0.5)


def test_mapped_csv_without_time_derives_it_from_the_rate(tmp_path):
    text = "T (C),HF (mW)\n" + "\n".join(f"{30 + i},{0.5}" for i in range(20)) + "\n"
    mapping = ThermalColumnMap(
        temperature_column="T (C)", heat_flow_column="HF (mW)", heating_rate_k_per_min=5.0
    )
    table, meta = read_thermal_file(write(tmp_path, "n.csv", text), mapping=mapping)
    assert table["time_s"][10] == pytest.approx(10 / 5.0 * 60)
    assert [w["code"] for w in meta["warnings"]] == ["time_derived"]


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"time_unit": "fortnight"}, "time_unit"),
        ({"heat_flow_unit": "cal/s"}, "heat_flow_unit"),
        ({"temperature_unit": "F"}, "temperature_unit"),
        ({"exotherm": "sideways"}, "exotherm"),
        ({"sample_mass_mg": -1.0}, "sample_mass_mg"),
        ({"sample_mass_mg": float("nan")}, "sample_mass_mg"),
        ({"heat_flow_unit": "W/g"}, "needs sample_mass_mg"),
        ({"heating_rate_k_per_min": 10.0}, "either time_column"),
        ({"time_column": ""}, "either time_column"),
        ({"header_row": -2}, "header_row"),
        ({"temperature_column": " "}, "temperature_column"),
    ],
)
def test_thermal_mapping_refuses_inconsistent_settings(kwargs, message):
    base = {"temperature_column": "T", "heat_flow_column": "HF", "time_column": "t"}
    with pytest.raises(ThermalMappingError, match=message):
        ThermalColumnMap(**{**base, **kwargs})


def test_thermal_mapping_round_trips_through_its_dict():
    mapping = ThermalColumnMap(temperature_column="T", heat_flow_column="HF", time_column="t")
    assert ThermalColumnMap.from_dict(mapping.to_dict()) == mapping
    with pytest.raises(ThermalMappingError, match="unknown"):
        ThermalColumnMap.from_dict({**mapping.to_dict(), "colour": "red"})


@pytest.mark.parametrize(
    "text, message",
    [
        ("a;b\n1;2\n", "no header"),
        ("Time;Temp.;DSC\n" + "1;2;3\n" * 20, "no column 'TG'"),
        ("Time;Temp.;DSC;TG\n" + "1;2;3;4\n" * 12 + "1;x;3;4\n" + "1;2;3;4\n" * 3, "line 14"),
        ("Time;Temp.;DSC;TG\n", "no data rows"),
    ],
)
def test_mapped_csv_that_does_not_fit_raises_parse_error(tmp_path, text, message):
    mapping = ThermalColumnMap(
        temperature_column="Temp.", heat_flow_column="DSC", time_column="Time", mass_column="TG"
    )
    with pytest.raises(ParseError, match=message) as info:
        read_thermal_file(write(tmp_path, "bad.csv", text), mapping=mapping)
    assert str(info.value).startswith("bad.csv: ")


def test_csv_format_without_a_mapping_is_refused(tmp_path):
    path = write(tmp_path, "z.csv", "a,b\n1,2\n")
    with pytest.raises(ParseError, match="needs a column mapping"):
        read_thermal_file(path, fmt=THERMAL_CSV)
