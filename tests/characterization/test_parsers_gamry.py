"""Gamry .DTA impedance files are read; other impedance text exports are recognised by name.

Excerpts below come from public files (MIT licence, like Kiln), quoted unchanged except where a
comment says what was left out:
- EISPOT: ECSHackWeek/impedance.py data/exampleDataGamry.DTA (commit 9dab304a). OCVCURVE
  cut to its first 3 of 387 rows, ZCURVE to rows Pt 0-5 and 66-71 of 0-71.
- EISPOT stopped early: bcliang/gamry-parser tests/test_data/eispot_data_curveaborted.dta
  (commit 1dcd7a83), complete.
- CHRONOA: bcliang/gamry-parser tests/chronoa_data.dta (commit edb95cdf), first 7 header
  lines, the CURVE header and its first 2 of 10 rows.
- ZPlot .z, VersaStudio .par, PARSTAT and PowerSuite heads: impedance.py data/ (commits
  9dab304a, 6384fc72, 2a8c931f, 1055f343); the .par head leaves out its Comment line.
The decimal-comma variant is made here from the EISPOT excerpt, with the layout of a real
decimal-comma export (vyrjana/pyimpspec tests/data.dta: commas in QUANT values and table cells,
tab separation unchanged). Numbers checked below were read by hand from the excerpts.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from characterization.parsers import NotCyclingFileError, ParseError
from characterization.parsers.biologic import EIS_COLUMNS
from characterization.parsers.gamry import (
    NotImpedanceFileError,
    gamry_technique,
    looks_like_gamry_dta,
    read_gamry_dta,
    recognise_impedance_text,
    refuse_gamry_as_cycling,
)
from tests.testdata import testdata_dir

from .parser_reference import cycler_data_dir

EISPOT = """EXPLAIN
TAG\tEISPOT
TITLE\tLABEL\tPotentiostatic EIS\tTest &Identifier
DATE\tLABEL\t4/23/2018\tDate
TIME\tLABEL\t16:43:15\tTime
NOTES\tNOTES\t2\t&Notes...
\t-50mV +5.66X10^-4 D8
\t
PSTAT\tPSTAT\tREF3000-34128\tPotentiostat
VDC\tPOTEN\t-5.00000E-002\tT\tDC &Voltage (V)
FREQINIT\tQUANT\t2.00000E+005\tInitial Fre&q. (Hz)
FREQFINAL\tQUANT\t2.00000E-002\tFinal Fre&q. (Hz)
PTSPERDEC\tQUANT\t1.00000E+001\tPoints/&decade
VAC\tQUANT\t1.00000E+001\tAC &Voltage (mV rms)
AREA\tQUANT\t1.00000E+000\t&Area (cm^2)
CONDIT\tTWOPARAM\tF\t1.50000E+001\t0.00000E+000\tConditionin&g\tTime(s)\tE(V)
DELAY\tTWOPARAM\tT\t1.00000E+002\t0.00000E+000\tInit. De&lay\tTime(s)\tStab.(mV/s)
SPEED\tSELECTOR\t1\t&Optimize for:
ZGUESS\tQUANT\t1.00000E+002\tE&stimated Z (ohms)
OCVCURVE\tTABLE\t387
\tPt\tT\tVf\tVm\tAch\tOver\tTemp
\t#\ts\tV vs. Ref.\tV\tV\tbits\tdeg C
\t0\t0.258333\t-3.46699E-001\t-3.46699E-001\t-5.59133E-004\t..........a\t-327.67
\t1\t0.516667\t-3.46692E-001\t-3.46356E-001\t-5.72667E-004\t..........a\t-327.67
\t2\t0.775\t-3.46652E-001\t-3.46047E-001\t-5.67000E-004\t..........a\t-327.67
EOC\tQUANT\t-0.2919803\tOpen Circuit (V)
PSTATMODEL\tIQUANT\t5\tPstat Model
PSTATSECTION\tLABEL\tREF3000-34128\tPstat Section
PSTATSERIALNO\tLABEL\t34128\tPstat Serial Number
CTRLMODE\tIQUANT\t1\tControl Mode
FRAMEWORKVERSION\tQUANT\t7.05\tFramework Version
INSTRUMENTVERSION\tLABEL\t4.21\tInstrument Version
COMPLIANCEVOLTAGE\tIQUANT\t1\tCompliance Voltage
ZCURVE\tTABLE
\tPt\tTime\tFreq\tZreal\tZimag\tZsig\tZmod\tZphz\tIdc\tVdc\tIERange
\t#\ts\tHz\tohm\tohm\tV\tohm\t\u00b0\tA\tV\t#
\t0\t1\t200015.6\t825.8584\t-1367.239\t1\t1597.306\t-58.86662\t-5.89286E-006\t-0.3413299\t9
\t1\t3\t158953.1\t1100.361\t-1502.195\t1\t1862.091\t-53.77713\t-3.687873E-006\t-0.3415995\t9
\t2\t5\t126234.4\t1401.721\t-1621.813\t1\t2143.618\t-49.16337\t-3.64071E-006\t-0.3411014\t8
\t3\t7\t100265.6\t1739.625\t-1672.93\t1\t2413.502\t-43.88036\t-3.393947E-006\t-0.3410123\t8
\t4\t8\t79640.63\t2087.403\t-1668.395\t1\t2672.226\t-38.63424\t-3.259263E-006\t-0.3411529\t8
\t5\t9\t63328.12\t2422.298\t-1620.144\t1\t2914.171\t-33.77643\t-3.164519E-006\t-0.3410966\t8
\t66\t357\t0.0502412\t11628.01\t-4477.789\t1\t12460.38\t-21.06103\t-2.219482E-006\t-0.34119\t7
\t67\t418\t0.0399276\t12514.52\t-4931.03\t1\t13450.96\t-21.50567\t-2.219679E-006\t-0.3411894\t7
\t68\t494\t0.0317152\t13482.75\t-5301.367\t1\t14487.55\t-21.46456\t-2.214189E-006\t-0.3411872\t7
\t69\t590\t0.0251881\t14713.85\t-5703.416\t1\t15780.57\t-21.18744\t-2.215432E-006\t-0.3411895\t7
\t70\t710\t0.0200064\t15701.81\t-6161.72\t1\t16867.53\t-21.42609\t-2.226001E-006\t-0.3411875\t7
\t71\t861\t0.0158898\t17007.49\t-6635.557\t1\t18256.1\t-21.31349\t-2.233894E-006\t-0.3411888\t7
"""

EISPOT_ABORTED = """EXPLAIN
TAG\tEISPOT
TITLE\tLABEL\tPotentiostatic EIS\tTest &Identifier
DATE\tLABEL\t5/11/2016\tDate
TIME\tLABEL\t17:47:03\tTime

PSTAT\tPSTAT\tIn the hood\tPotentiostat
VDC\tPOTEN\t1.30000E+000\tF\tDC &Voltage (V)
FREQINIT\tQUANT\t1.00000E+005\tInitial Fre&q. (Hz)
FREQFINAL\tQUANT\t1.00000E+000\tFinal Fre&q. (Hz)
PTSPERDEC\tQUANT\t1.00000E+001\tPoints/&decade
VAC\tQUANT\t1.00000E+001\tAC &Voltage (mV rms)
AREA\tQUANT\t1.00000E+000\t&Area (cm^2)
CONDIT\tTWOPARAM\tF\t1.50000E+001\t0.00000E+000\tConditionin&g\tTime(s)\tE(V)
DELAY\tTWOPARAM\tF\t1.00000E+002\t0.00000E+000\tInit. De&lay\tTime(s)\tStab.(mV/s)
SPEED\tSELECTOR\t1\t&Optimize for:
ZGUESS\tQUANT\t2.00000E+002\tE&stimated Z (ohms)
EOC\tQUANT\t0.1358522\tOpen Circuit (V)
ZCURVE\tTABLE
\tPt\tTime\tFreq\tZreal\tZimag\tZsig\tZmod\tZphz\tIdc\tVdc\tIERange
\t#\ts\tHz\tohm\tohm\tV\tohm\t\u00b0\tA\tV\t#
\t0\t1\t10000\t224.6075\t-3.767681\t1\t224.6391\t-0.961018\t2.402966E-006\t1.299216\t10
\t1\t3\t5000\t224.712\t-4.283262\t1\t224.7528\t-1.091989\t1.847788E-006\t1.299205\t10
\t2\t4\t1000\t225.1894\t-4.847088\t1\t225.2416\t-1.233072\t1.641699E-006\t1.299213\t10
\t3\t5\t500.1\t225.5566\t-5.513721\t1\t225.624\t-1.400314\t1.570993E-006\t1.299209\t10
\t4\t6\t100\t226.2954\t-6.136346\t1\t226.3786\t-1.553282\t1.454366E-006\t1.299218\t10
EXPERIMENTABORTED\tTOGGLE\tT\tExperiment Aborted
"""

CHRONOA = """EXPLAIN
TAG\tCHRONOA
TITLE\tLABEL\tExperiment-Title\tTest &Identifier
DATE\tLABEL\t3/10/2019\tDate
TIME\tLABEL\t12:00:00\tTime
NOTES\tNOTES\t1\t&Notes...
\t
CURVE\tTABLE\t5258
\tPt\tT\tVf\tIm\tVu\tSig\tAch\tIERange\tOver
\t#\ts\tV vs. Ref.\tA\tV\tV\tV\t#\tbits
\t0\t0\t-5.40379E-004\t-2.34197E-008\t0.00000E+000\t0.00000E+000\t-6.66902E-004\t6\t...........
\t1\t30\t4.99669E-001\t1.40441E-008\t0.00000E+000\t5.00000E-001\t-6.64236E-004\t6\t...........
"""

ZPLOT2_HEAD = """ZPLOT2 ASCII
  Measured Data, ZPlot:       3.2c
  Experiment Type:            Sweep Frequency, Control Voltage
  Date:                       10-12-2018
  Time:                       11:04:34
"""

ZPLOTW_HEAD = """"ZPlotW Data File: Version 3.2c"
"Raw Data"
"Sweep Frequency: Control Voltage"
Date: 12-17-2019    Time: 16:24:35
"""

VERSASTUDIO_HEAD = """<Application>
Name=VersaStudio
Version=2.52.3.0
</Application>

<Action1>
Cell to Use=External
End Frequency (Hz)=0.001
Start Frequency (Hz)=100000
Segments=1
ParentNode=Common
Name=Potentiostatic EIS
</Action1>

<Segment1>
Type=2
Version=3
Definition=Segment #, Point #, E(V), I(A), Elapsed Time(s), ADC Sync Input(V), Current Range, \
Status, E Applied(V), Frequency(Hz), E Real, E Imag, I Real, I Imag, Z Real, Z Imag, E2 Status, \
E2(V), E2 Real, E2 Imag, Z2 Real, Z2 Imag, ActionId, AC Amplitude, 0
"""

PARSTAT_HEAD = (
    "Potential (V)\tCurrent (A)\tElapsed Time (s)\tFrequency (Hz)\tZre (ohms)\tZim (ohms)\t"
    "|Vac| (V)\t|Iac| (A)\t\n3.49322700500488\t-0.149962306022644\t10\t0\t0\t0\t0\t0\t\n"
)

POWERSUITE_HEAD = "Frequency\t Zre\t Zimg\n0.1\t 423929.46\t -49014.063\n"

# The NOVA 2.1.3 column line as the R function openEIS() matches it (an R package of EIS
# readers in the public code index); the two data rows are made up for the test.
NOVA_EXPORT = (
    "Index;Frequency (Hz);Z' (\u03a9);-Z'' (\u03a9);Z (\u03a9);-Phase (\u00b0);Time (s)\n"
    "1;100000,0;10,12;0,53;10,13;3,0;0,5\n2;79432,8;10,20;0,61;10,22;3,4;0,9\n"
)


def write_dta(tmp_path: Path, text: str, name: str = "cell7_eis.DTA", **how: str) -> Path:
    """The text as Gamry writes it on Windows: CRLF line ends, cp1252 bytes."""
    path = tmp_path / name
    newline = how.get("newline", "\r\n")
    path.write_bytes(text.replace("\n", newline).encode(how.get("encoding", "cp1252")))
    return path


def decimal_comma(text: str) -> str:
    """The same file as a European-locale Windows PC writes it."""
    return re.sub(r"(?<=\d)\.(?=\d)", ",", text)


def head_text(data: bytes) -> str:
    return data[:8192].decode("latin-1")


def impedance_dir() -> Path:
    return testdata_dir("impedance")


# ---------------------------------------------------------------- recognising a DTA


def test_an_explain_tag_head_is_a_gamry_dta() -> None:
    assert looks_like_gamry_dta(EISPOT.encode("cp1252")[:4096])
    assert looks_like_gamry_dta(b"\xef\xbb\xbfEXPLAIN\r\nTAG\tCV\r\n")


@pytest.mark.parametrize(
    "head",
    [
        b"EXPLAIN\nTITLE\tLABEL\tno tag line\tTest\n",
        b"EC-Lab ASCII FILE\nNb header lines : 61\n",
        b"ZPLOT2 ASCII\n",
        b"",
    ],
)
def test_other_heads_are_not_gamry_dta(head: bytes) -> None:
    assert not looks_like_gamry_dta(head)


def test_the_technique_is_named_from_the_tag_line() -> None:
    technique = gamry_technique(CHRONOA.encode())
    assert (technique.tag, technique.kind, technique.label) == (
        "CHRONOA",
        "potential_step",
        "chronoamperometry",
    )
    assert gamry_technique(b"EXPLAIN\nTAG\tEISGALV\n").kind == "eis"
    assert gamry_technique(b"EXPLAIN\nTAG\tMYSTERY\n").kind == "other"


# ---------------------------------------------------------------- reading EIS


def test_first_and_last_impedance_points_match_the_file(tmp_path: Path) -> None:
    table, _ = read_gamry_dta(write_dta(tmp_path, EISPOT))
    assert len(table) == 12
    first, last = table.iloc[0], table.iloc[-1]
    assert (first.time_s, first.freq_hz) == (1.0, pytest.approx(200015.6))
    assert (first.z_real_ohm, first.z_imag_ohm) == (pytest.approx(825.8584), -1367.239)
    assert (last.time_s, last.freq_hz) == (861.0, pytest.approx(0.0158898))
    assert (last.z_real_ohm, last.z_imag_ohm) == (pytest.approx(17007.49), -6635.557)
    assert (table.z_imag_ohm < 0).all()  # Gamry's Zimag as is: capacitive arc below zero
    assert set(table.cycle) == {1}


def test_the_table_has_exactly_the_biologic_eis_columns(tmp_path: Path) -> None:
    table, _ = read_gamry_dta(write_dta(tmp_path, EISPOT))
    assert tuple(table.columns) == EIS_COLUMNS
    assert str(table.cycle.dtype) == "int64"


def test_metadata_gives_start_time_area_and_potentiostat(tmp_path: Path) -> None:
    _, meta = read_gamry_dta(write_dta(tmp_path, EISPOT))
    assert meta["source_library"] == "kiln"
    assert meta["technique"] == "potentiostatic impedance (EIS)"
    assert meta["gamry_tag"] == "EISPOT"
    assert meta["units_seen"] == {"time": "s", "frequency": "Hz", "impedance": "ohm"}
    assert meta["start_time_local"] == "2018-04-23T16:43:15"
    assert meta["date_order"] == "month/day/year"
    assert meta["area_cm2"] == 1.0
    assert meta["instrument"] == "REF3000-34128"
    assert meta["instrument_serial"] == "34128"
    assert meta["open_circuit_v"] == pytest.approx(-0.2919803)
    assert meta["notes"] == "-50mV +5.66X10^-4 D8"
    assert meta["header"]["VAC"] == "1.00000E+001"
    assert (meta["aborted"], meta["cut_last_line_dropped"], meta["curves"]) == (False, False, 1)
    assert meta["decimal_separator"] == "."
    assert meta["drift_corrected_columns"] is False


def test_a_decimal_comma_export_reads_the_same_numbers(tmp_path: Path) -> None:
    dot, _ = read_gamry_dta(write_dta(tmp_path, EISPOT, "dot.DTA"))
    comma, meta = read_gamry_dta(write_dta(tmp_path, decimal_comma(EISPOT), "comma.DTA"))
    assert "\t825,8584\t-1367,239\t" in decimal_comma(EISPOT)
    assert comma.equals(dot)
    assert meta["decimal_separator"] == ","
    assert meta["open_circuit_v"] == pytest.approx(-0.2919803)


@pytest.mark.parametrize(
    ("newline", "encoding"), [("\n", "cp1252"), ("\r", "latin-1"), ("\r\n", "utf-8")]
)
def test_line_ends_and_encodings_do_not_change_the_table(
    tmp_path: Path, newline: str, encoding: str
) -> None:
    reference, _ = read_gamry_dta(write_dta(tmp_path, EISPOT, "ref.DTA"))
    path = write_dta(tmp_path, EISPOT, newline=newline, encoding=encoding)
    table, _ = read_gamry_dta(path)
    assert table.equals(reference)


def test_latin1_bytes_in_notes_are_kept(tmp_path: Path) -> None:
    text = EISPOT.replace("-50mV +5.66X10^-4 D8", "LiPF6 in EC/DMC, 25 \u00b0C, 2 \u00b5L")
    assert b"25 \xb0C, 2 \xb5L" in text.encode("cp1252")
    _, meta = read_gamry_dta(write_dta(tmp_path, text))
    assert meta["notes"] == "LiPF6 in EC/DMC, 25 \u00b0C, 2 \u00b5L"


def test_an_experiment_stopped_early_keeps_its_points_and_says_so(tmp_path: Path) -> None:
    table, meta = read_gamry_dta(write_dta(tmp_path, EISPOT_ABORTED))
    assert list(table.freq_hz) == [10000.0, 5000.0, 1000.0, 500.1, 100.0]
    assert (table.z_real_ohm.iloc[-1], table.z_imag_ohm.iloc[-1]) == (226.2954, -6.136346)
    assert meta["aborted"] is True
    assert meta["instrument"] == "In the hood"
    # 5/11/2016: month and day both <= 12, so Gamry's US order is assumed and said so
    assert meta["start_time_local"] == "2016-05-11T17:47:03"
    assert meta["date_order"].startswith("month/day/year (assumed")


def test_two_impedance_tables_become_cycles_1_and_2(tmp_path: Path) -> None:
    # Made up: no public DTA with two ZCURVE tables was found; the rule is one curve each.
    second = EISPOT_ABORTED.split("ZCURVE\tTABLE\n", 1)[1].replace("EXPERIMENTABORTED", "X")
    text = EISPOT.rstrip("\n") + "\nZCURVE2\tTABLE\n" + second
    table, meta = read_gamry_dta(write_dta(tmp_path, text))
    assert list(table.groupby("cycle").size()) == [12, 5]
    assert table.freq_hz[table.cycle == 2].iloc[0] == 10000.0
    assert meta["curves"] == 2


# ---------------------------------------------------------------- damaged files


def test_a_last_line_cut_mid_number_is_dropped(tmp_path: Path) -> None:
    cut = EISPOT.rstrip("\n").rsplit("\t-6635.557\t", 1)[0] + "\t-66"
    assert cut.endswith("\n\t71\t861\t0.0158898\t17007.49\t-66")
    table, meta = read_gamry_dta(write_dta(tmp_path, cut))
    assert len(table) == 11
    assert table.freq_hz.iloc[-1] == pytest.approx(0.0200064)
    assert meta["cut_last_line_dropped"] is True


def test_an_unreadable_line_inside_the_table_is_damage(tmp_path: Path) -> None:
    damaged = EISPOT.replace("\t2087.403\t-1668.395\t", "\t2087.403\t\x00\x00\x00\t")
    with pytest.raises(ParseError, match=r"^cell7_eis\.DTA: the impedance table is damaged"):
        read_gamry_dta(write_dta(tmp_path, damaged))


def test_a_blank_line_inside_the_table_is_damage(tmp_path: Path) -> None:
    gap = EISPOT.replace("\n\t66\t357\t", "\n\n\t66\t357\t")  # blank line 43, after Pt 5
    with pytest.raises(ParseError, match="damaged: line 43 "):
        read_gamry_dta(write_dta(tmp_path, gap))


def test_a_file_cut_before_the_first_point_says_it_is_truncated(tmp_path: Path) -> None:
    cut = EISPOT.split("\t0\t1\t200015.6", 1)[0]
    with pytest.raises(ParseError, match=r"^cell7_eis\.DTA: .*truncated"):
        read_gamry_dta(write_dta(tmp_path, cut))


def test_an_eis_file_without_its_impedance_table_is_a_parse_error(tmp_path: Path) -> None:
    no_curve = EISPOT.split("ZCURVE\tTABLE", 1)[0]
    with pytest.raises(ParseError, match="without its impedance table") as caught:
        read_gamry_dta(write_dta(tmp_path, no_curve))
    assert not isinstance(caught.value, NotImpedanceFileError)


def test_an_unexpected_impedance_unit_is_refused(tmp_path: Path) -> None:
    scaled = EISPOT.replace("\tHz\tohm\tohm\t", "\tHz\tkohm\tkohm\t")
    with pytest.raises(ParseError, match="Zreal is in 'kohm'"):
        read_gamry_dta(write_dta(tmp_path, scaled))


def test_a_file_that_is_not_a_dta_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ParseError, match=r"^notes\.DTA: not a Gamry \.DTA file"):
        read_gamry_dta(write_dta(tmp_path, "sample,mass_mg\nA1,12.3\n", "notes.DTA"))


# ---------------------------------------------------------------- other techniques


def test_a_chronoamperometry_dta_says_what_it_is(tmp_path: Path) -> None:
    with pytest.raises(NotImpedanceFileError) as caught:
        read_gamry_dta(write_dta(tmp_path, CHRONOA, "step.DTA"))
    error = caught.value
    assert isinstance(error, ParseError)
    assert (error.tag, error.kind, error.technique) == (
        "CHRONOA",
        "potential_step",
        "chronoamperometry",
    )
    assert str(error).startswith("step.DTA: a Gamry chronoamperometry file (TAG CHRONOA), not")


def test_gamry_files_are_refused_as_cycling_with_the_right_kind(tmp_path: Path) -> None:
    with pytest.raises(NotCyclingFileError) as eis:
        refuse_gamry_as_cycling(write_dta(tmp_path, EISPOT))
    assert eis.value.kind == "eis"
    with pytest.raises(NotCyclingFileError) as step:
        refuse_gamry_as_cycling(write_dta(tmp_path, CHRONOA, "step.DTA"))
    assert step.value.kind == "potential_step"
    cv = write_dta(tmp_path, CHRONOA.replace("TAG\tCHRONOA", "TAG\tCV"), "cv.DTA")
    with pytest.raises(ParseError, match=r"^cv\.DTA: a Gamry cyclic voltammetry file") as other:
        refuse_gamry_as_cycling(cv)
    assert not isinstance(other.value, NotCyclingFileError)


# ---------------------------------------------------------------- other impedance exports


@pytest.mark.parametrize(
    ("name", "label"),
    [
        ("autolab_z60w_impedancepy.txt", "an Autolab/ZView Z60W impedance export"),
        ("chinstruments_impedancepy.txt", "a CH Instruments A.C. impedance text export"),
        ("relaxis_hybriddrt_lpscl.txt", "a RelaxIS spectrum export"),
    ],
)
def test_shared_impedance_examples_are_recognised(name: str, label: str) -> None:
    data = (impedance_dir() / name).read_bytes()
    assert recognise_impedance_text(head_text(data)) == label
    assert not looks_like_gamry_dta(data[:8192])


@pytest.mark.parametrize(
    ("text", "label"),
    [
        (ZPLOT2_HEAD, "a ZPlot/ZView .z impedance file"),
        (ZPLOTW_HEAD, "a ZPlot/ZView .z impedance file"),
        (VERSASTUDIO_HEAD, "a VersaStudio .par impedance file"),
        (PARSTAT_HEAD, "a PARSTAT impedance text export"),
        (POWERSUITE_HEAD, "a PowerSuite impedance text export"),
        (NOVA_EXPORT, "an Autolab NOVA ASCII impedance export"),
        ("\ufeff" + NOVA_EXPORT, "an Autolab NOVA ASCII impedance export"),
    ],
)
def test_other_impedance_exports_are_recognised(text: str, label: str) -> None:
    # Files arrive as bytes; detection decodes the head as Latin-1 (UTF-8 Omega becomes two
    # Latin-1 characters), so test through that path.
    assert recognise_impedance_text(head_text(text.encode("utf-8"))) == label


@pytest.mark.parametrize(
    "name",
    [
        "maccor_beep_PreDiag_000229_truncated.034",
        "neware_btsda_export_uio.csv",
        "eis_impedancepy_biologic.mpt",
        "biologic_yadg_ca_potential_step.mpt",
    ],
)
def test_cycler_and_biologic_heads_are_not_other_impedance_exports(name: str) -> None:
    data = (cycler_data_dir() / name).read_bytes()
    assert recognise_impedance_text(head_text(data)) is None


@pytest.mark.parametrize(
    "text",
    [
        EISPOT,  # a Gamry DTA is read, not only recognised
        "sample,mass_mg\nA1,12.3\n",
        "<Application>\nName=VersaStudio\n</Application>\n<Action1>\nName=Cyclic Voltammetry\n",
        "Time (s);Potential (V);Current (A)\n0;3,2;0,001\n",
        "",
    ],
)
def test_other_text_is_not_an_impedance_export(text: str) -> None:
    assert recognise_impedance_text(head_text(text.encode("utf-8"))) is None
