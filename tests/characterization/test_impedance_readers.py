"""Impedance text readers: real shared files, synthetic files of every format, damaged input.

Real files (../shared/testdata/impedance/, see its SOURCES.md): the Autolab Z60W and CH
Instruments exports of ECSHackWeek/impedance.py and a RelaxIS 3.0 export of hybrid-drt. Their
numbers below were read by hand from the files; impedance.py's own readers
(impedance.preprocessing, MIT) are an independent check where it reads the layout.

Synthetic files (made here, no public file of that format is shared): ZPlotW .z, ZPLOT2
ASCII, VersaStudio .par, PARSTAT, PowerSuite, NOVA ASCII, RelaxIS with two spectra and any
CSV through a mapping. Each is written in the layout of the public example named in its
reader's module doc, from impedances computed here for a known circuit (L0-R0-p(R1,CPE1)-W1,
see circuit_z), with the variants other labs produce (CRLF, cp1252 bytes, decimal commas,
other column orders and units, extra header lines), and read back: the round trip must give
the circuit's Z to the printed precision.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from characterization.parsers import ParseError
from characterization.parsers.biologic import EIS_COLUMNS
from characterization.parsers.gamry import recognise_impedance_text
from characterization.parsers.impedance_rows import EIS_COLUMNS as ROWS_EIS_COLUMNS
from characterization.parsers.impedance_text import (
    FORMATS,
    ImpedanceColumnMapping,
    ImpedanceMappingError,
    read_impedance_text,
    read_mapped_impedance,
    recognise_impedance_format,
)
from tests.testdata import testdata_dir

# ---------------------------------------------------------------- a known circuit

FREQ_HZ = np.logspace(6, -2, 57)  # 1 MHz .. 10 mHz, 7 points per decade


def circuit_z(freq_hz: np.ndarray) -> np.ndarray:
    """L0 = 1e-7 H, R0 = 10 Ω, R1 = 50 Ω ∥ CPE (Q = 1e-5, α = 0.9), Warburg σ = 5 Ω s^-1/2:
    inductive above ~20 kHz, so -Im Z crosses zero at high frequency."""
    w = 2 * np.pi * freq_hz
    cpe = 1 / (1e-5 * (1j * w) ** 0.9)
    return 1j * w * 1e-7 + 10 + 1 / (1 / 50 + 1 / cpe) + 5 * (1 - 1j) / np.sqrt(w)


Z = circuit_z(FREQ_HZ)


def write(tmp_path: Path, text: str, name: str, *, newline="\n", encoding="utf-8") -> Path:
    path = tmp_path / name
    path.write_bytes(text.replace("\n", newline).encode(encoding))
    return path


def assert_round_trip(table: pd.DataFrame, freq=FREQ_HZ, z=Z, rtol=1e-8) -> None:
    assert list(table.columns) == list(EIS_COLUMNS)
    np.testing.assert_allclose(table["freq_hz"], freq, rtol=rtol)
    np.testing.assert_allclose(table["z_real_ohm"], z.real, rtol=rtol, atol=1e-12)
    np.testing.assert_allclose(table["z_imag_ohm"], z.imag, rtol=rtol, atol=1e-12)


def comma(text: str) -> str:
    return text.replace(".", ",")


# ---------------------------------------------------------------- synthetic writers


def z60w(freq=FREQ_HZ, z=Z, column_line=True) -> str:
    head = '\ufeff"Z60W Data File: Version 1.1"\n' + '""\n' * 7 + "0,2,0,1,0.01,1000000\n"
    head += f"{len(freq)}\n"
    if column_line:
        head += (
            "\"  Freq (Hz)    Ampl     Bias   Time(Sec)   Z'(a)    Z''(b)    GD   Err   Range\"\n"
        )
    rows = "".join(
        f"{f:.10g},0,0,0,{c.real:.12g},{c.imag:.12g},0,0,0\n" for f, c in zip(freq, z, strict=True)
    )
    return head + rows


def zplotw(freq=FREQ_HZ, z=Z) -> str:
    head = (
        '"ZPlotW Data File: Version 3.2c"\n"Raw Data"\n"Sweep Frequency: Control Voltage"\n'
        "Date: 12-17-2019    Time: 16:24:35\nLi-rich cathode, cell 7, 25 C\n"
        '"Open Circuit Potential (V):  3.512 "\n"Frequency"\n0,3,0,1,1000000,0.01\n'
        f"{len(freq) + 3}\n"
        "\"  Freq(Hz)    Ampl     Bias   Time(Sec)   Z'(a)    Z''(b)    GD   Err   Range\"\n"
    )
    rows = "".join(
        f"{f:.9E}, 1.0000E-02, 0.0000E+00, {2.5 + i:.6E}, {c.real:.12E}, {c.imag:.12E}, "
        "0.0000E+00, 0, 5\n"
        for i, (f, c) in enumerate(zip(freq, z, strict=True))
    )
    return head + rows


def zplot2(freq=FREQ_HZ, z=Z) -> str:
    head = (
        "ZPLOT2 ASCII\n  Measured Data, ZPlot:       3.2c\n"
        "  Experiment Type:            Sweep Frequency, Control Voltage\n"
        "  Date:                       10-12-2018\n  Begin User Comments:        0\n"
        "  End User Comments:          0\n  Null Configuration:         0,3,0,1,300000,1\n"
        f"  Data Points:                {len(freq)}\n"
        "  Freq(Hz)\tAmpl\tBias\tTime(Sec)\tZ'(a)\tZ''(b)\tGD\tErr\tRange\nEnd Comments\n"
    )
    rows = "".join(
        f"{f:.9E}\t1.0000E-02\t0.0000E+00\t{3 + i:.6E}\t{c.real:.12E}\t{c.imag:.12E}\t0\t0\t4\n"
        for i, (f, c) in enumerate(zip(freq, z, strict=True))
    )
    return head + rows


def chi(freq=FREQ_HZ, z=Z, imag_header='Z"/ohm') -> str:
    head = (
        "Feb. 20, 2020   15:55:08\nA.C. Impedance\nFile: c:\\data\\cell7.bin\n"
        "Data Source:  Experiment\nInstrument Model:  CHI660E\nHeader: \nNote: \n\n"
        "Init E (V) = 0\nHigh Frequency (Hz) = 1e+6\nLow Frequency (Hz) = 0.01\n"
        "Amplitude (V) = 0.005\n\n"
        f"Freq/Hz, Z'/ohm, {imag_header}, Z/ohm, Phase/deg\n\n"
    )
    sign = -1 if imag_header.startswith("-") else 1
    rows = "".join(
        f"{f:.9e}, {c.real:.12e}, {sign * c.imag:.12e}, {abs(c):.4e}, "
        f"{math.degrees(np.angle(c)):.1f}\n"
        for f, c in zip(freq, z, strict=True)
    )
    return head + rows


def versastudio(spectra) -> str:
    definition = (
        "Definition=Segment #, Point #, E(V), I(A), Elapsed Time(s), ADC Sync Input(V), "
        "Current Range, Status, E Applied(V), Frequency(Hz), E Real, E Imag, I Real, I Imag, "
        "Z Real, Z Imag, E2 Status, E2(V), E2 Real, E2 Imag, Z2 Real, Z2 Imag, ActionId, "
        "AC Amplitude, 0\n"
    )
    text = (
        "<Application>\nName=VersaStudio\nVersion=2.52.3.0\n</Application>\n\n"
        "<Instrument>\nType=VersaSTAT4\nSN=16334007\n</Instrument>\n\n"
        "<Experiment>\nTimeAcquired=9:40:30 AM\nDateAcquired=Thursday, July 19, 2018\n"
        "</Experiment>\n\n<Action0>\nSegments=0\nName=Common\n</Action0>\n\n"
        "<Action1>\nSegments=1\nName=Potentiostatic EIS\n"
        "Comment=ラボのコメント\n</Action1>\n\n"
    )
    number = 1
    for freq, z in spectra:
        rows = "".join(
            f"0,{i},0,-3.28E-06,{1.5 + i:.3f},-0.0024,5,53,0,{f:.10g},0.01,0.01,0.001,0.001,"
            f"{c.real:.12g},{c.imag:.12g},0,0,0,0,0,0,21,0.02\n"
            for i, (f, c) in enumerate(zip(freq, z, strict=True))
        )
        text += f"<Segment{number}>\nType=2\nVersion=3\n{definition}{rows}</Segment{number}>\n\n"
        number += 1
        ocp = "Definition=Segment #, Point #, E(V), I(A), Elapsed Time(s)\n0,0,3.5,0,1\n"
        text += f"<Segment{number}>\nType=1\n{ocp}</Segment{number}>\n\n"
        number += 1
    return text + "<Graph1>\nAnalysis=0\n</Graph1>\n"


PARSTAT_HEAD = (
    "Potential (V)\tCurrent (A)\tElapsed Time (s)\tFrequency (Hz)\tZre (ohms)\tZim (ohms)\t"
    "|Vac| (V)\t|Iac| (A)\t\n"
)


def parstat(spectra, dc_rows=3) -> str:
    dc = "".join(f"3.49\t-0.1499\t{10 * i}\t0\t0\t0\t0\t0\t\n" for i in range(dc_rows))
    text = PARSTAT_HEAD + dc
    for freq, z in spectra:
        text += "".join(
            f"3.50\t0.0245\t{7639 + i}\t{f:.12g}\t{c.real:.12g}\t{c.imag:.12g}\t0.0002\t0.009\t\n"
            for i, (f, c) in enumerate(zip(freq, z, strict=True))
        )
        text += dc
    return text


def powersuite(freq=FREQ_HZ, z=Z) -> str:
    rows = "".join(
        f"{f:.10g}\t {c.real:.12g}\t {c.imag:.12g}\n" for f, c in zip(freq, z, strict=True)
    )
    return "Frequency\t Zre\t Zimg\n" + rows


def nova(spectra, *, decimal=".", unit="Ω", minus=True, separator=";") -> str:
    imag = "-Z''" if minus else "Z''"
    columns = ["Index", "Frequency (Hz)", f"Z' ({unit})", f"{imag} ({unit})", f"Z ({unit})"]
    columns += ["-Phase (°)", "Time (s)"]
    scale = {"Ω": 1.0, "mΩ": 1e3, "kΩ": 1e-3}[unit]
    lines = [separator.join(columns)]
    time = 0.0
    for freq, z in spectra:
        for i, (f, c) in enumerate(zip(freq, z, strict=True), start=1):
            time += 1.25
            im = -c.imag if minus else c.imag
            cells = [str(i), f"{f:.10g}", f"{c.real * scale:.12g}", f"{im * scale:.12g}"]
            cells += [f"{abs(c) * scale:.6g}", f"{-math.degrees(np.angle(c)):.4f}", f"{time:.3f}"]
            lines.append(separator.join(cells))
    text = "\n".join(lines) + "\n"
    return text.replace(".", ",") if decimal == "," else text


def relaxis(spectra, imag="Data: Z''") -> str:
    text = (
        "RelaxIS 3.0 Spectrum export\nDate: 12/16/2025 2:29:15 PM\n"
        f"Data: Frequency\tData: Z'\t{imag}\tData: |Z|\tData: Theta (Z)\n"
    )
    sign = -1 if "-" in imag else 1
    for number, (freq, z) in enumerate(spectra, start=1):
        text += (
            f"DC=0.1, TM={20 + number}, J=0, FV2=1\tModel: Unassigned\t(WE/RE) cell_{number}\t\t\n"
        )
        order = np.argsort(freq)  # RelaxIS lists ascending frequencies
        text += "".join(
            f"{float(freq[i])!r}\t{float(z[i].real)!r}\t{float(sign * z[i].imag)!r}\t"
            f"{float(abs(z[i]))!r}\t{math.degrees(np.angle(z[i]))!r}\n"
            for i in order
        )
    return text


# ---------------------------------------------------------------- real shared files


@pytest.mark.testdata("impedance")
def test_the_autolab_z60w_file_is_read_as_impedance_py_reads_it() -> None:
    from impedance.preprocessing import readFile

    path = testdata_dir("impedance") / "autolab_z60w_impedancepy.txt"
    table, meta = read_impedance_text(path)
    assert meta["format"] == "zview_z60w" and meta["points_announced"] == 41
    assert len(table) == 41 and meta["reading_notes"] == []
    first = table.iloc[0]  # the file's row "10000,0,0,0,0.013785863964281,0.007191946305823,..."
    assert (first.freq_hz, first.z_real_ohm, first.z_imag_ohm) == (
        10000.0,
        0.013785863964281,
        0.007191946305823,
    )
    assert table["time_s"].isna().all()  # Time(Sec) is 0 throughout: not recorded
    f, z = readFile(str(path), instrument="autolab")
    np.testing.assert_array_equal(table["freq_hz"], f)
    np.testing.assert_array_equal(table["z_real_ohm"] + 1j * table["z_imag_ohm"], z)


@pytest.mark.testdata("impedance")
def test_the_ch_instruments_file_is_read_with_its_header() -> None:
    from impedance.preprocessing import readFile

    path = testdata_dir("impedance") / "chinstruments_impedancepy.txt"
    table, meta = read_impedance_text(path)
    assert meta["format"] == "chi_txt" and meta["instrument"] == "CHI660E"
    assert meta["header"]["Amplitude (V)"] == "0.025"
    assert len(table) == 73
    last = table.iloc[-1]  # "1.000e-1, 5.685e+3, -1.586e+4, 1.685e+4, -70.3"
    assert (last.freq_hz, last.z_real_ohm, last.z_imag_ohm) == (0.1, 5685.0, -15860.0)
    f, z = readFile(str(path), instrument="chinstruments")
    np.testing.assert_array_equal(table["freq_hz"], f)
    np.testing.assert_array_equal(table["z_real_ohm"] + 1j * table["z_imag_ohm"], z)


@pytest.mark.testdata("impedance")
def test_the_relaxis_export_is_read_as_one_spectrum() -> None:
    path = testdata_dir("impedance") / "relaxis_hybriddrt_lpscl.txt"
    table, meta = read_impedance_text(path)
    # 83 lines: 3 header lines, the spectrum's parameter line and 79 points (SOURCES.md's
    # "80 rows" counts the parameter line).
    assert meta["format"] == "relaxis_txt" and len(table) == 79
    assert meta["reading_notes"] == []  # no line break at the end, but the last line is whole
    assert set(table["cycle"]) == {1}
    assert meta["spectra"][0][0] == "DC=-0.080042, TM=33.741076, J=-5E-6, FV2=1"
    first, last = table.iloc[0], table.iloc[-1]
    assert (first.freq_hz, first.z_real_ohm, first.z_imag_ohm) == (
        0.10002180933952332,
        1799427.625,
        -8093785.5,
    )
    assert last.freq_hz == 7000018.5 and last.z_imag_ohm == -290.92037963867188


@pytest.mark.testdata("impedance")
def test_every_shared_impedance_file_kiln_used_to_name_is_now_read() -> None:
    for path in sorted(testdata_dir("impedance").iterdir()):
        head = path.read_bytes()[:8192]
        assert recognise_impedance_text(head.decode("latin-1")) is not None
        assert recognise_impedance_format(head) in FORMATS
        table, _ = read_impedance_text(path)
        assert (table["freq_hz"] > 0).all()


# ---------------------------------------------------------------- synthetic round trips


@pytest.mark.parametrize(
    ("name", "text", "fmt"),
    [
        ("z60w.txt", z60w(), "zview_z60w"),
        ("z60w_no_columns.txt", z60w(column_line=False), "zview_z60w"),
        ("cell.z", zplotw(), "zplot_z"),
        ("cell_zplot2.z", zplot2(), "zplot_z"),
        ("chi.txt", chi(), "chi_txt"),
        ("chi_two_apostrophes.txt", chi(imag_header="Z''/ohm"), "chi_txt"),
        ("chi_minus.txt", chi(imag_header='-Z"/ohm'), "chi_txt"),
        ("powersuite.txt", powersuite(), "powersuite_txt"),
        ("nova.txt", nova([(FREQ_HZ, Z)]), "nova_ascii"),
        ("nova_plain_imag.txt", nova([(FREQ_HZ, Z)], minus=False), "nova_ascii"),
        ("nova_tab.txt", nova([(FREQ_HZ, Z)], separator="\t"), "nova_ascii"),
        ("nova_tab_de.txt", nova([(FREQ_HZ, Z)], separator="\t", decimal=","), "nova_ascii"),
        ("powersuite_de.txt", comma(powersuite()), "powersuite_txt"),
        ("cell_zplot2_de.z", comma(zplot2()), "zplot_z"),
    ],
)
@pytest.mark.parametrize("variant", ["lf", "crlf-cp1252"])
def test_synthetic_files_give_back_the_circuit_impedance(tmp_path, name, text, fmt, variant):
    newline, encoding = ("\n", "utf-8") if variant == "lf" else ("\r\n", "cp1252")
    if encoding == "cp1252":
        text = text.replace("\ufeff", "").replace("Ω", "Ohm")
    path = write(tmp_path, text, name, newline=newline, encoding=encoding)
    table, meta = read_impedance_text(path)
    assert meta["format"] == fmt and meta["source_library"] == "kiln"
    assert meta["units_seen"]["frequency"].startswith("Hz")
    assert_round_trip(table)


def test_zplot_times_are_kept_when_recorded(tmp_path):
    table, meta = read_impedance_text(write(tmp_path, zplotw(), "cell.z"))
    assert table["time_s"].iloc[:3].tolist() == [2.5, 3.5, 4.5]
    assert meta["units_seen"]["time"] == "s"
    # The header announces 3 more points than the file holds: a sweep stopped early.
    assert [n["code"] for n in meta["reading_notes"]] == ["points_not_as_announced"]
    assert table.attrs["kiln"]["reading_notes"] == meta["reading_notes"]


def test_impedance_py_reads_the_synthetic_files_as_kiln_does(tmp_path):
    from impedance.preprocessing import readFile

    cases = {
        "autolab": z60w(),
        "zplot": zplot2(),
        "chinstruments": chi(),
        "powersuite": powersuite(),
        "parstat": parstat([(FREQ_HZ, Z)], dc_rows=3),
        "versastudio": versastudio([(FREQ_HZ, Z)]),
    }
    for instrument, text in cases.items():
        path = write(tmp_path, text.replace("\ufeff", ""), f"{instrument}.txt")
        table, _ = read_impedance_text(path)
        f, z = readFile(str(path), instrument=instrument)
        np.testing.assert_allclose(table["freq_hz"], f, rtol=1e-12, err_msg=instrument)
        np.testing.assert_allclose(table["z_imag_ohm"], z.imag, rtol=1e-12, err_msg=instrument)


def test_versastudio_reads_each_impedance_segment_as_a_spectrum(tmp_path):
    second = circuit_z(FREQ_HZ[:20]) * 1.5
    path = write(tmp_path, versastudio([(FREQ_HZ, Z), (FREQ_HZ[:20], second)]), "cell.par")
    table, meta = read_impedance_text(path)
    assert meta["format"] == "versastudio_par" and meta["segments"] == ["Segment1", "Segment3"]
    assert meta["instrument"] == "VersaSTAT4" and meta["software_version"] == "2.52.3.0"
    assert_round_trip(table[table.cycle == 1])
    assert_round_trip(table[table.cycle == 2], FREQ_HZ[:20], second)
    assert table["time_s"].iloc[1] == 2.5


def test_parstat_leaves_out_dc_records_and_splits_spectra_between_them(tmp_path):
    half = FREQ_HZ[:30]
    path = write(tmp_path, parstat([(FREQ_HZ, Z), (half, Z[:30])], dc_rows=4), "parstat.txt")
    table, meta = read_impedance_text(path)
    assert meta["format"] == "parstat_txt" and meta["dc_records"] == 12
    assert [n["code"] for n in meta["reading_notes"]] == ["dc_records_left_out"]
    assert_round_trip(table[table.cycle == 1])
    assert_round_trip(table[table.cycle == 2], half, Z[:30])
    assert table["time_s"].iloc[0] == 7639


def test_parstat_columns_are_found_by_name_in_any_order(tmp_path):
    text = "Zim (ohms)\tFrequency (Hz)\tZre (ohms)\n" + "".join(
        f"{c.imag:.12g}\t{f:.12g}\t{c.real:.12g}\n" for f, c in zip(FREQ_HZ, Z, strict=True)
    )
    table, _ = read_impedance_text(write(tmp_path, comma(text), "parstat_de.txt"))
    assert_round_trip(table)


def test_an_empty_parstat_cell_does_not_shift_the_columns(tmp_path):
    # impedance.py's readParstat splits on any whitespace: this row comes out as f = 5 Hz,
    # Z = -2 + 0.01j (every column shifted by the empty Current cell), and the 0 Hz row with
    # an impedance is dropped without a word. Kiln reads the row and refuses the 0 Hz one.
    head = "Potential (V)\tCurrent (A)\tElapsed Time (s)\tFrequency (Hz)\tZre (ohms)\t"
    head += "Zim (ohms)\t|Vac| (V)\n"
    rows = "3.5\t\t10\t1000\t5.0\t-2.0\t0.01\n3.5\t0.1\t11\t100\t6.0\t-3.0\t0.01\n"
    table, _ = read_impedance_text(write(tmp_path, head + rows, "parstat.txt"))
    assert table[["freq_hz", "z_real_ohm", "z_imag_ohm"]].values.tolist() == [
        [1000.0, 5.0, -2.0],
        [100.0, 6.0, -3.0],
    ]
    zero = head + rows + "3.5\t0.1\t12\t0\t7.0\t-4.0\t0.01\n"
    assert "line 4: the frequency 0 Hz" in read_error(tmp_path, zero, "parstat.txt")


def test_nova_with_decimal_commas_milliohms_and_two_measurements(tmp_path):
    later = Z * 2
    text = nova([(FREQ_HZ, Z), (FREQ_HZ, later)], decimal=",", unit="mΩ")
    table, meta = read_impedance_text(write(tmp_path, text, "nova_export.txt"))
    assert meta["decimal_separator"] == "," and meta["units_seen"]["impedance"] == "mΩ"
    assert_round_trip(table[table.cycle == 1])
    assert_round_trip(table[table.cycle == 2], FREQ_HZ, later)
    assert table["time_s"].iloc[-1] == pytest.approx(1.25 * 2 * len(FREQ_HZ))


def test_a_utf16_export_is_recognised_and_read(tmp_path):
    path = write(tmp_path, nova([(FREQ_HZ, Z)], decimal=","), "nova.txt", encoding="utf-16")
    assert recognise_impedance_format(path.read_bytes()[:8192]) == "nova_ascii"
    table, meta = read_impedance_text(path)
    assert meta["encoding"] == "utf-16"
    assert_round_trip(table)


def test_nova_omega_read_back_as_latin1_is_still_ohm(tmp_path):
    text = nova([(FREQ_HZ, Z)]).replace("Ω", "Î©")  # UTF-8 Ω bytes decoded as Latin-1
    table, _ = read_impedance_text(write(tmp_path, text, "nova.txt", encoding="cp1252"))
    assert_round_trip(table)


def test_nova_question_mark_unit_is_read_as_ohm_and_said(tmp_path):
    text = nova([(FREQ_HZ, Z)]).replace("Ω", "?")
    table, meta = read_impedance_text(write(tmp_path, text, "nova.txt"))
    assert_round_trip(table)
    assert [n["code"] for n in meta["reading_notes"]] == ["unit_assumed"]


def test_relaxis_with_two_spectra_and_negated_imaginary_column(tmp_path):
    later = Z * 0.8
    text = relaxis([(FREQ_HZ, Z), (FREQ_HZ, later)], imag="Data: -Z''")
    table, meta = read_impedance_text(write(tmp_path, text, "relaxis.txt", newline="\r\n"))
    assert len(meta["spectra"]) == 2 and meta["spectra"][1][0].startswith("DC=0.1, TM=22")
    first = table[table.cycle == 1].sort_values("freq_hz", ascending=False)
    assert_round_trip(first, rtol=1e-15)
    second = table[table.cycle == 2].sort_values("freq_hz", ascending=False)
    assert_round_trip(second, FREQ_HZ, later, rtol=1e-15)


@pytest.mark.parametrize(
    ("mapping", "scale_f", "scale_z", "sign", "sep", "decimal"),
    [
        (dict(frequency_unit="kHz", z_real_unit="mΩ", z_imag_unit="mΩ"), 1e-3, 1e3, -1, ",", "."),
        (dict(z_imag_sign="Im", z_real_unit="kohm", z_imag_unit="kohm"), 1, 1e-3, 1, ";", ","),
        (dict(frequency_unit="MHz"), 1e-6, 1, -1, "\t", "."),
    ],
)
def test_any_csv_is_read_through_its_column_mapping(
    tmp_path, mapping, scale_f, scale_z, sign, sep, decimal
):
    lines = ["# exported by the lab's script", sep.join(["t", "-Z'' / x", "Z' / x", "f"])]
    for i, (f, c) in enumerate(zip(FREQ_HZ, Z, strict=True)):
        cells = [f"{i * 2.0}", f"{sign * c.imag * scale_z:.12g}", f"{c.real * scale_z:.12g}"]
        lines.append(sep.join([*cells, f"{f * scale_f:.12g}"]))
    text = "\n".join(lines) + "\n"
    text = text.replace(".", ",") if decimal == "," else text
    columns = dict(frequency_column="f", z_real_column="Z' / x", z_imag_column="-z'' / X")
    columns.update(time_column="t", time_unit="min", header_row=1)
    rule = ImpedanceColumnMapping(name="lab script", **columns, **mapping)
    table, meta = read_mapped_impedance(write(tmp_path, text, "export.csv"), rule)
    assert meta["format"] == "mapped_impedance" and meta["mapping"] == "lab script"
    assert_round_trip(table)
    assert table["time_s"].iloc[1] == 120.0


# ---------------------------------------------------------------- recognition


@pytest.mark.parametrize(
    ("text", "fmt"),
    [
        (z60w(), "zview_z60w"),
        (zplotw(), "zplot_z"),
        (zplot2(), "zplot_z"),
        (chi(), "chi_txt"),
        (versastudio([(FREQ_HZ, Z)]), "versastudio_par"),
        (parstat([(FREQ_HZ, Z)]), "parstat_txt"),
        (powersuite(), "powersuite_txt"),
        (nova([(FREQ_HZ, Z)]), "nova_ascii"),
        (relaxis([(FREQ_HZ, Z)]), "relaxis_txt"),
    ],
)
def test_each_format_is_recognised_from_its_head_and_agrees_with_gamrys_rule(text, fmt):
    head = text.encode("utf-8")[:8192]
    assert recognise_impedance_format(head) == fmt
    assert recognise_impedance_format(head.decode("latin-1")) == fmt
    assert recognise_impedance_text(head.decode("latin-1")) is not None


@pytest.mark.parametrize(
    "head",
    [
        b"EXPLAIN\r\nTAG\tEISPOT\r\nTITLE\tLABEL\tPotentiostatic EIS\tTest\r\n",
        b"EC-Lab ASCII FILE\nNb header lines : 61\n\nPotentio Electrochemical Impedance\n",
        b"Today's Date\t12/16/2019\nDate of Test:\t12/16/2019\nFilename:\tx.034\n",
        b"DataPoint,Cycle Index,Step Index,Time(h:min:s.ms),Voltage(V),Current(A)\n",
        b"<Application>\nName=VersaStudio\n</Application>\n<Action1>\nName=Cyclic Voltammetry\n",
        b"Frequency\tZre\n1\t2\n",
        b"",
    ],
)
def test_other_files_are_not_recognised_as_impedance_text(head):
    assert recognise_impedance_format(head) is None


# ---------------------------------------------------------------- damaged or impossible input


def read_error(tmp_path, text: str, name="cell7_eis.txt", **how) -> str:
    with pytest.raises(ParseError) as caught:
        read_impedance_text(write(tmp_path, text, name, **how))
    message = str(caught.value)
    assert message.startswith(name)
    return message


def test_a_damaged_line_inside_the_table_is_an_error_naming_the_line(tmp_path):
    lines = chi().splitlines()
    lines[20] = lines[20].replace("e", "x", 1)  # line 21: a flipped character
    assert "line 21 cannot be read" in read_error(tmp_path, "\n".join(lines) + "\n")


def test_a_short_line_inside_the_table_is_damage_not_dropped(tmp_path):
    lines = parstat([(FREQ_HZ, Z)]).splitlines()
    lines[10] = "\t".join(lines[10].split("\t")[:4])
    assert "line 11 cannot be read" in read_error(tmp_path, "\n".join(lines) + "\n")


def test_a_last_line_cut_while_writing_is_dropped_and_said(tmp_path):
    text = nova([(FREQ_HZ, Z)])
    cut = text[: text.rstrip("\n").rfind(";")]  # no line break after the cut line
    table, meta = read_impedance_text(write(tmp_path, cut, "nova.txt"))
    assert len(table) == len(FREQ_HZ) - 1
    assert [n["code"] for n in meta["reading_notes"]] == ["file_truncated"]


@pytest.mark.parametrize(
    ("text", "name"),
    [
        (powersuite(), "powersuite.txt"),  # last cell Zimg "-0.29..." cut to "-0.2"
        (chi(), "chi.txt"),  # cut inside the |Z| column: Z' and Z" still read
    ],
)
def test_a_last_line_cut_where_it_still_reads_is_dropped_too(tmp_path, text, name):
    body = text.rstrip("\n")
    cut = body[: body.rfind("\t") + 6] if name.startswith("power") else body[: body.rfind(",")]
    table, meta = read_impedance_text(write(tmp_path, cut, name))
    assert len(table) == len(FREQ_HZ) - 1
    assert [n["code"] for n in meta["reading_notes"]] == ["file_truncated"]
    assert_round_trip(table, FREQ_HZ[:-1], Z[:-1])


def test_a_short_last_line_followed_by_a_line_break_is_damage(tmp_path):
    text = nova([(FREQ_HZ, Z)])
    cut = text[: text.rstrip("\n").rfind(";")] + "\n"
    assert f"line {len(FREQ_HZ) + 1} cannot be read" in read_error(tmp_path, cut)


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (lambda c: c.replace(f"{Z[5].real:.12g}", "NaN"), "line 7: the impedance is not a finite"),
        (lambda c: c.replace(f"{FREQ_HZ[5]:.10g},", "-1,"), "line 7: the frequency -1 Hz"),
        (lambda c: c.replace(f"{FREQ_HZ[5]:.10g},", "0,"), "line 7: the frequency 0 Hz"),
    ],
)
def test_impossible_values_are_refused_by_line(tmp_path, change, expected):
    text = "f,re,mim\n" + "".join(
        f"{f:.10g},{c.real:.12g},{-c.imag:.12g}\n" for f, c in zip(FREQ_HZ, Z, strict=True)
    )
    rule = ImpedanceColumnMapping(
        "m", frequency_column="f", z_real_column="re", z_imag_column="mim"
    )
    path = write(tmp_path, change(text), "cell7.csv")
    with pytest.raises(ParseError, match=expected):
        read_mapped_impedance(path, rule)


def test_a_file_whose_frequencies_are_all_equal_is_refused(tmp_path):
    message = read_error(tmp_path, powersuite(np.full(20, 1000.0), Z[:20]))
    assert "every point of the file is at 1000 Hz (20 point(s))" in message


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (nova([(FREQ_HZ, Z)]).replace("Frequency (Hz)", "Frequency (rad/s)"), "'rad/s'"),
        (nova([(FREQ_HZ, Z)]).replace("Ω", "GΩ"), "'GΩ', a unit Kiln does not read"),
        (chi().replace("Z'/ohm", "Z'/S"), "'S', a unit Kiln does not read"),
    ],
)
def test_a_unit_kiln_does_not_know_is_refused(tmp_path, text, expected):
    assert expected in read_error(tmp_path, text)


def test_mixed_decimal_marks_are_damage(tmp_path):
    text = nova([(FREQ_HZ, Z)], decimal=",").splitlines()
    text[5] = text[5].replace(",", ".", 1)
    assert "line 6 cannot be read" in read_error(tmp_path, "\n".join(text) + "\n")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", "the file is empty"),
        ("\n\n  \n", "the file is empty"),
        ("hello\nworld\n", "not an impedance text export Kiln reads"),
        (chi().replace('Z"/ohm', "Q/ohm"), "has no Z' or Z\" column"),
        (z60w().replace("0,2,0,1,0.01,1000000\n", ""), "without its sweep descriptor"),
        (z60w().replace("Time(Sec)   Z'(a)", "Z'(a)   Time(Sec)"), "unexpected column line"),
        (zplot2().replace("End Comments\n", ""), "without its 'End Comments' line"),
        (versastudio([]), "without an impedance segment"),
        (PARSTAT_HEAD + "3.49\t-0.15\t0\t0\t5\t1\t0\t0\t\n", "the frequency 0 Hz"),
        (relaxis([(FREQ_HZ, Z)]).replace("Data: Z''", "Data: Y''"), "no Data: Frequency"),
        (z60w(column_line=True).split('"  Freq')[0], "holds no measured point"),
    ],
)
def test_each_kind_of_unreadable_file_gives_a_sentence(tmp_path, text, expected):
    assert expected in read_error(tmp_path, text)


def test_a_binary_file_is_refused(tmp_path):
    path = tmp_path / "cell7.mpr"
    path.write_bytes(b"BIO-LOGIC MODULAR FILE\x1a\x00\x00\x00\x00\x01")
    with pytest.raises(ParseError, match="not an impedance text export"):
        read_impedance_text(path)
    with pytest.raises(ParseError, match="a binary file"):
        read_impedance_text(path, "chi_txt")


def test_an_unknown_format_name_is_refused(tmp_path):
    with pytest.raises(ParseError, match="unknown impedance format 'zahner'"):
        read_impedance_text(write(tmp_path, chi(), "x.txt"), "zahner")


# ---------------------------------------------------------------- the column mapping


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        (dict(frequency_unit="mHz"), "frequency_unit must be one of Hz, kHz, MHz"),
        (dict(z_real_unit="Ohms"), "z_real_unit must be one of"),
        (dict(z_imag_sign="+Im"), "z_imag_sign must be one of -Im, Im"),
        (dict(z_imag_column=" "), "z_imag_column is required"),
        (dict(z_imag_column="F"), "each quantity needs its own column"),
        (dict(header_row=-1), "header_row must be 0 or more"),
        (dict(header_row=True), "header_row must be a whole number"),
    ],
)
def test_a_mapping_that_cannot_work_is_refused(changes, expected):
    fields = dict(name="m", frequency_column="f", z_real_column="re", z_imag_column="im")
    with pytest.raises(ImpedanceMappingError, match=expected):
        ImpedanceColumnMapping(**{**fields, **changes})


def test_a_mapping_round_trips_through_its_stored_json():
    rule = ImpedanceColumnMapping("m", "f", "re", "im", frequency_unit="kHz", z_imag_sign="Im")
    assert ImpedanceColumnMapping.from_dict(rule.to_dict(), name="m") == rule
    with pytest.raises(ImpedanceMappingError, match="unknown mapping keys: colour"):
        ImpedanceColumnMapping.from_dict({**rule.to_dict(), "colour": "red"}, name="m")


def test_a_file_without_the_mapped_column_says_which(tmp_path):
    rule = ImpedanceColumnMapping("lab", "Frequency", "Zre", "Zim")
    path = write(tmp_path, "freq,Zre,Zim\n1,2,3\n10,2,3\n", "cell.csv")
    with pytest.raises(ParseError, match="no column 'Frequency' named in mapping 'lab'"):
        read_mapped_impedance(path, rule)


def test_the_readers_eis_columns_are_biologics():
    assert ROWS_EIS_COLUMNS == EIS_COLUMNS


def test_two_lines_run_together_are_damage(tmp_path):
    lines = chi().splitlines()
    lines[20:22] = [lines[20] + ", " + lines[21]]
    assert "line 21 cannot be read" in read_error(tmp_path, "\n".join(lines) + "\n")


@pytest.mark.parametrize(
    "text",
    [z60w(), zplot2(), chi(), versastudio([(FREQ_HZ, Z)]), parstat([(FREQ_HZ, Z)]),
     nova([(FREQ_HZ, Z)], decimal=","), relaxis([(FREQ_HZ, Z), (FREQ_HZ, Z)])],
)  # fmt: skip
def test_cut_or_corrupted_files_give_a_table_or_a_parse_error(tmp_path, text):
    """Files cut anywhere or with random bytes changed (seeded): never another exception."""
    rng = np.random.default_rng(10)
    data = text.encode("utf-8")
    for trial in range(40):
        damaged = bytearray(data[: rng.integers(1, len(data))] if trial % 2 else data)
        if trial % 2 == 0:
            for at in rng.integers(0, len(damaged), size=2):
                damaged[at] = int(rng.integers(0, 256))
        path = tmp_path / "damaged.txt"
        path.write_bytes(bytes(damaged))
        try:
            table, _ = read_impedance_text(path)
        except ParseError:
            continue
        assert (table["freq_hz"] > 0).all() and np.isfinite(table["z_real_ohm"]).all()
