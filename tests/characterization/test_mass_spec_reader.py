"""Mass spectrometer readers: Pfeiffer QUADERA .asc, Spectro Inlets Zilien .tsv and Hiden-style
tables read through a mapping, into one long ion-current table.

Real files (shared testdata mass_spec/, see its SOURCES.md): the QUADERA TGA-MS export from
datalab-org/datalab and the Zilien version-1 file from ixdat-large-test-files (both MIT). The
numbers checked on them were read by hand from the file's rows (quoted below), or are the ones
ixdat's functional tests (tests/functional/test_zilien_reader.py, SERIES_DETAILS) expect from
the same Zilien file, and are also cross-checked with numpy.genfromtxt on the raw columns.

Every other file here is SYNTHETIC, written by the helpers below in the layout of the real
ones, for the variants other labs produce: decimal commas, German and US dates, cp1252 names,
nA units, LF line ends, extra header lines, missing values, cut last lines, damage.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from characterization.parsers import ParseError
from characterization.parsers.mapped import MappingError
from characterization.parsers.mass_spec import (
    EC_COLUMNS,
    HIDEN_CSV,
    MS_COLUMNS,
    PFEIFFER_ASC,
    ZILIEN_TSV,
    ChannelColumn,
    MassSpecMapping,
    read_mass_spec_file,
    read_zilien_potentiostat,
    recognise_mass_spec,
)
from characterization.parsers.mass_spec_common import mz_of_name
from tests.testdata import testdata_dir

PFEIFFER = "pfeiffer_quadera_datalab_tgams.asc"
ZILIEN = "zilien_v1_ixdat_full_set.tsv"


def shared(name: str) -> Path:
    return testdata_dir("mass_spec") / name


def head(path: Path) -> str:
    return path.read_bytes()[:8192].decode("latin-1")


def channel(table: pd.DataFrame, name: str) -> pd.DataFrame:
    return table[table["channel"] == name]


# ---------------------------------------------------------------- real files


@pytest.mark.testdata("mass_spec")
def test_the_quadera_export_gives_seven_channels_with_their_mz_and_unit() -> None:
    table, meta = read_mass_spec_file(shared(PFEIFFER))
    assert tuple(table.columns) == MS_COLUMNS
    names = ["14", "16", "Water", "Nitrogen/Carbonmonoxide", "Oxygen", "Argon", "Carbondioxide"]
    assert list(table["channel"].cat.categories) == names
    assert [c["mz"] for c in meta["channels"]] == [14, 16, 18, 28, 32, 40, 44]
    assert set(table["unit"]) == {"mbar"}  # "Partial Pressure [mbar]" columns
    assert meta["format"] == PFEIFFER_ASC
    assert "assumed" in meta["channels"][4]["mz_source"]  # Oxygen -> 32 is the main ion


@pytest.mark.testdata("mass_spec")
def test_the_quadera_values_are_the_files_rows() -> None:
    table, meta = read_mass_spec_file(shared(PFEIFFER))
    # Row 1: "28/11/2022 13:51:12 0.000 1.083137e-011 ... 28/11/2022 13:51:14 2.628
    # 2.359224e-013 ..."; the last complete row ends "... 5430.939 1.063759e-014".
    first_14 = channel(table, "14").iloc[0]
    assert (first_14["time_s"], first_14["signal"]) == (0.0, pytest.approx(1.083137e-11))
    oxygen = channel(table, "Oxygen")
    assert oxygen.iloc[0]["time_s"] == pytest.approx(2.628)
    assert oxygen.iloc[0]["signal"] == pytest.approx(2.359224e-13)
    co2 = channel(table, "Carbondioxide")
    assert co2.iloc[-1]["time_s"] == pytest.approx(5430.939)
    assert co2.iloc[-1]["signal"] == pytest.approx(1.063759e-14)
    assert meta["start_time"] == "2022-11-28T13:51:12"
    assert meta["start_time_timezone"].startswith("not recorded")
    assert meta["date_order"] == "day/month/year"  # 28/11/2022 decides


@pytest.mark.testdata("mass_spec")
def test_the_quadera_cut_last_line_keeps_only_whole_points() -> None:
    # 1,365 full rows; the last line stops after the third channel with no line break, so
    # its third cell may be cut inside a number and is dropped (datalab keeps it: 1,366).
    table, meta = read_mass_spec_file(shared(PFEIFFER))
    counts = table.groupby("channel", observed=True).size().tolist()
    assert counts == [1366, 1366, 1365, 1365, 1365, 1365, 1365]
    assert meta["cut_last_line_dropped"] is True
    assert all(c["missing_values"] == 0 for c in meta["channels"])


@pytest.mark.testdata("mass_spec")
def test_the_zilien_file_gives_the_five_mass_channels_ixdat_reads() -> None:
    table, meta = read_mass_spec_file(shared(ZILIEN))
    assert meta["format"] == ZILIEN_TSV
    assert list(table["channel"].cat.categories) == [
        "M2-H2",
        "M4-He",
        "M18-H2O",
        "M28-N2/CO",
        "M32-O2",
    ]
    assert [c["mz"] for c in meta["channels"]] == [2, 4, 18, 28, 32]
    assert [c["label"] for c in meta["channels"]] == ["H2", "He", "H2O", "N2/CO", "O2"]
    assert set(table["unit"]) == {"A"}
    # ixdat's SERIES_DETAILS: (t_first, t_last, v_first, v_last, count)
    expected = {
        "M2-H2": (4.798638e-01, 2.163797e02, 2.319726e-09, 2.187911e-09, 404),
        "M18-H2O": (6.288487e-01, 2.165286e02, 3.607096e-09, 3.401646e-09, 404),
        "M32-O2": (7.778335e-01, 2.166776e02, 1.934676e-10, 1.851902e-10, 404),
    }
    for name, (t0, t1, v0, v1, count) in expected.items():
        rows = channel(table, name)
        assert len(rows) == count
        assert rows["time_s"].iloc[[0, -1]].tolist() == pytest.approx([t0, t1])
        assert rows["signal"].iloc[[0, -1]].tolist() == pytest.approx([v0, v1])
    assert meta["start_time"] is None  # no start_time_unix; the file name was changed


@pytest.mark.testdata("mass_spec")
def test_the_zilien_m32_column_matches_a_plain_numpy_read() -> None:
    raw = np.genfromtxt(shared(ZILIEN), delimiter="\t", skip_header=117)
    # the C4M32 series is the last two columns; 404 points before the NaN padding
    table, _ = read_mass_spec_file(shared(ZILIEN))
    rows = channel(table, "M32-O2")
    np.testing.assert_array_equal(rows["time_s"].to_numpy(), raw[:404, -2])
    np.testing.assert_array_equal(rows["signal"].to_numpy(), raw[:404, -1])
    assert np.isnan(raw[404:, -1]).all()


@pytest.mark.testdata("mass_spec")
def test_the_zilien_potentiostat_series_is_on_the_mass_channels_clock() -> None:
    ec = read_zilien_potentiostat(shared(ZILIEN))
    assert tuple(ec.columns) == EC_COLUMNS
    assert len(ec) == 733  # pot_count
    assert ec.iloc[0].tolist() == pytest.approx([95.84931, 0.5920536, 1.055188e-06])
    assert ec.iloc[-1].tolist() == pytest.approx([213.4163, 0.1014159, -2.818254e-02])


KINDS = ("cyclers", "impedance", "potential_steps", "thermal", "diffraction")


@pytest.mark.testdata("mass_spec", *KINDS)
def test_each_format_is_recognised_from_its_head_and_other_files_are_not() -> None:
    assert recognise_mass_spec(head(shared(PFEIFFER))) == PFEIFFER_ASC
    assert recognise_mass_spec(head(shared(ZILIEN))) == ZILIEN_TSV
    others = [p for kind in KINDS for p in sorted(testdata_dir(kind).iterdir())]
    for path in (p for p in others if p.suffix != ".md"):
        assert recognise_mass_spec(head(path)) is None, path.name


# ---------------------------------------------------------------- synthetic QUADERA exports

POINTS = [  # (relative time of channel 1, O2 value, CO2 value); channel 2 is 0.2 s later
    (0.0, 1.0e-11, 2.0e-12),
    (4.0, 1.5e-11, 2.5e-12),
    (8.0, 2.0e-11, 3.0e-12),
    (12.0, 2.5e-11, 3.5e-12),
]


def quadera(
    *,
    value_header: str = "Ion Current [A]",
    names: tuple[str, str] = ("Oxygen", "Carbondioxide"),
    date: str = "{d:02d}/11/2022 13:51:{s:02d}",
    comma: bool = False,
    newline: str = "\r\n",
    extra_header: tuple[str, ...] = (),
    relative: bool = True,
    cells: dict[tuple[int, int], str] | None = None,
) -> str:
    """A QUADERA export of two channels in the real file's layout (cells[(row, column)]
    replaces a cell's text)."""
    day = 28

    def stamp(seconds: float) -> str:
        return date.format(d=day, s=12 + int(seconds))

    def num(value: float, fmt: str) -> str:
        text = format(value, fmt)
        return text.replace(".", ",") if comma else text

    per = ["Time", "Time Relative [s]", value_header] if relative else ["Time", value_header]
    head = [
        "Sourcefile\tsynthetic.qmp",
        f"Exporttime\t{stamp(40)}",
        *extra_header,
        "",
        f"Start Time\t{stamp(0)}",
        f"End Time\t{stamp(13)}",
        "",
        "\t".join(
            ["", "", names[0], "", "", names[1], ""] if relative else ["", names[0], "", names[1]]
        ),
        "\t".join(per + per) + "\t",
    ]
    rows = []
    for r, (t, o2, co2) in enumerate(POINTS):
        row = []
        for value, dt in ((o2, 0.0), (co2, 0.2)):
            row += [stamp(t + dt)]
            if relative:
                row += [num(t + dt, ".3f")]
            row += [num(value, ".6e")]
        for (rr, col), text in (cells or {}).items():
            if rr == r:
                row[col] = text
        rows.append("\t".join(row))
    return newline.join(head + rows) + newline


def write(tmp_path: Path, text: str, name: str = "run.asc", encoding: str = "utf-8") -> Path:
    path = tmp_path / name
    path.write_bytes(text.encode(encoding))
    return path


def o2_values(table: pd.DataFrame, name: str = "Oxygen") -> list[float]:
    return channel(table, name)["signal"].tolist()


def test_a_quadera_ion_current_export_reads_amperes_and_relative_times(tmp_path: Path) -> None:
    table, meta = read_mass_spec_file(write(tmp_path, quadera()))
    assert o2_values(table) == pytest.approx([p[1] for p in POINTS])
    assert channel(table, "Carbondioxide")["time_s"].tolist() == pytest.approx(
        [0.2, 4.2, 8.2, 12.2]
    )
    assert set(table["unit"]) == {"A"}
    assert meta["cut_last_line_dropped"] is False


def test_decimal_commas_and_german_dates_read_the_same(tmp_path: Path) -> None:
    text = quadera(comma=True, date="{d:02d}.11.2022 13:51:{s:02d}")
    table, meta = read_mass_spec_file(write(tmp_path, text))
    assert o2_values(table) == pytest.approx([p[1] for p in POINTS])
    assert meta["decimal_separator"] == ","
    assert meta["start_time"] == "2022-11-28T13:51:12"


def test_us_dates_with_pm_give_the_afternoon_start(tmp_path: Path) -> None:
    text = quadera(date="11/{d:02d}/2022 1:51:{s:02d} PM")
    _, meta = read_mass_spec_file(write(tmp_path, text))
    assert meta["start_time"] == "2022-11-28T13:51:12"
    assert meta["date_order"] == "month/day/year"


def test_an_ambiguous_date_is_read_day_first_and_said_so(tmp_path: Path) -> None:
    text = quadera(date="05/11/2022 13:51:{s:02d}")  # 5 November or 11 May?
    _, meta = read_mass_spec_file(write(tmp_path, text))
    assert meta["start_time"] == "2022-11-05T13:51:12"
    assert meta["date_order"] == "day/month/year (assumed; no date told day from month)"


def test_cp1252_names_lf_line_ends_and_extra_header_lines_are_read(tmp_path: Path) -> None:
    text = quadera(
        names=("O2 (µ-cell, 25°C)", "CO2"),
        newline="\n",
        extra_header=("Operator\tJ. Müller", "Comment\tcell 7"),
    )
    table, meta = read_mass_spec_file(write(tmp_path, text, encoding="cp1252"))
    assert list(table["channel"].cat.categories) == ["O2 (µ-cell, 25°C)", "CO2"]
    assert meta["encoding"] == "cp1252"
    assert meta["channels"][1]["mz"] == 44
    assert meta["channels"][0]["mz"] is None  # the name says no mass: left unknown


def test_channel_mz_sets_the_mass_of_a_channel_the_name_does_not_tell(tmp_path: Path) -> None:
    text = quadera(names=("Signal A", "Signal B"))
    table, meta = read_mass_spec_file(write(tmp_path, text), channel_mz={"Signal A": 32})
    assert channel(table, "Signal A")["mz"].unique().tolist() == [32.0]
    assert meta["channels"][0]["mz_source"] == "given by the user"
    with pytest.raises(ParseError, match="no channel 'Oxygen'"):
        read_mass_spec_file(write(tmp_path, text), channel_mz={"Oxygen": 32})


@pytest.mark.parametrize(
    ("header", "factor"),
    [("Ion Current [nA]", 1e-9), ("Ion Current [pA]", 1e-12), ("Partial Pressure [Pa]", 1e-2)],
)
def test_other_units_are_converted_to_amperes_or_mbar(
    tmp_path: Path, header: str, factor: float
) -> None:
    table, _ = read_mass_spec_file(write(tmp_path, quadera(value_header=header)))
    assert o2_values(table) == pytest.approx([p[1] * factor for p in POINTS])
    assert set(table["unit"]) == {"mbar" if "Pa]" in header else "A"}


def test_concentrations_are_refused_with_a_sentence(tmp_path: Path) -> None:
    with pytest.raises(ParseError, match=r"run.asc: .*concentrations \(%\)"):
        read_mass_spec_file(write(tmp_path, quadera(value_header="Concentration [%]")))


def test_absolute_times_alone_give_seconds_from_the_start(tmp_path: Path) -> None:
    table, _ = read_mass_spec_file(write(tmp_path, quadera(relative=False)))
    assert channel(table, "Oxygen")["time_s"].tolist() == [0.0, 4.0, 8.0, 12.0]


def test_without_a_start_time_every_channel_counts_from_the_first_row(tmp_path: Path) -> None:
    text = quadera(relative=False, cells={(0, 2): "28/11/2022 13:51:13"})
    text = "\r\n".join(ln for ln in text.split("\r\n") if not ln.startswith("Start Time"))
    table, meta = read_mass_spec_file(write(tmp_path, text))
    assert channel(table, "Carbondioxide")["time_s"].tolist() == [1.0, 4.0, 8.0, 12.0]
    assert meta["start_time"] == "2022-11-28T13:51:12"
    assert meta["start_time_source"] == "first row"


def test_us_absolute_times_with_fractions_and_pm(tmp_path: Path) -> None:
    text = quadera(relative=False, date="11/{d:02d}/2022 1:51:{s:02d}.250 PM")
    table, meta = read_mass_spec_file(write(tmp_path, text))
    assert channel(table, "Carbondioxide")["time_s"].tolist() == [0.0, 4.0, 8.0, 12.0]
    assert meta["start_time"] == "2022-11-28T13:51:12.250000"


def test_windows_nan_and_infinite_cells_are_missing_values(tmp_path: Path) -> None:
    text = quadera(cells={(1, 2): "1.#QNAN", (2, 2): "-1.#IND", (3, 5): "inf"})
    table, meta = read_mass_spec_file(write(tmp_path, text))
    assert o2_values(table) == pytest.approx([POINTS[0][1], POINTS[3][1]])
    assert [c["missing_values"] for c in meta["channels"]] == [2, 1]


def test_missing_values_drop_that_point_only_and_are_counted(tmp_path: Path) -> None:
    text = quadera(cells={(1, 2): "---", (2, 5): ""})
    table, meta = read_mass_spec_file(write(tmp_path, text))
    assert o2_values(table) == pytest.approx([POINTS[0][1], POINTS[2][1], POINTS[3][1]])
    assert len(channel(table, "Carbondioxide")) == 3
    assert [c["missing_values"] for c in meta["channels"]] == [1, 1]


def test_a_last_line_cut_inside_a_channel_keeps_the_whole_points(tmp_path: Path) -> None:
    text = quadera()
    cut = text[: text.rstrip().rfind("\t") - 3]  # inside the last CO2 time
    table, meta = read_mass_spec_file(write(tmp_path, cut))
    assert len(channel(table, "Oxygen")) == 4
    assert len(channel(table, "Carbondioxide")) == 3
    assert meta["cut_last_line_dropped"] is True
    assert [c["missing_values"] for c in meta["channels"]] == [0, 0]


def test_a_number_that_is_not_one_is_damage_named_by_line(tmp_path: Path) -> None:
    text = quadera(cells={(2, 2): "2.0e-1x1"})
    with pytest.raises(ParseError, match=r"run.asc: line 11: .*not a number"):
        read_mass_spec_file(write(tmp_path, text))


def test_time_running_backwards_is_damage(tmp_path: Path) -> None:
    text = quadera(cells={(2, 1): "1.000"})
    with pytest.raises(ParseError, match="time runs backwards in channel 'Oxygen'"):
        read_mass_spec_file(write(tmp_path, text))


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "the file is empty"),
        ("Sourcefile\tx.qmp\r\nStart Time\t28/11/2022 13:51:12\r\n", "no column line"),
        ("Time\tTime Relative [s]\tIon Current [A]\r\n", "no data"),
    ],
)
def test_empty_or_headless_exports_are_refused(tmp_path: Path, text: str, message: str) -> None:
    with pytest.raises(ParseError, match=message):
        read_mass_spec_file(write(tmp_path, text), fmt=PFEIFFER_ASC)


def test_extra_cells_beyond_the_column_line_are_damage(tmp_path: Path) -> None:
    lines = quadera().split("\r\n")
    lines[9] += "\t\t\t1.0"  # a data row with a value past the last channel
    text = "\r\n".join(lines)
    with pytest.raises(ParseError, match="more cells than the column line"):
        read_mass_spec_file(write(tmp_path, text))


# ---------------------------------------------------------------- synthetic Zilien files


def zilien(
    *,
    counts: tuple[int, int] = (3, 3),
    rows: int = 3,
    extra_meta: tuple[str, ...] = (),
    comma: bool = False,
    cells: dict[tuple[int, int], str] | None = None,
    end: str = "\n",
) -> str:
    """A Zilien v1 file: a 'pot' series and two mass series, C0M32 (O2) and C1M44 (CO2)."""
    meta = [
        "num_header_lines\tNumber of header lines\t\tint\t{n}",
        "num_data_header_lines\tNumber of data header lines\t\tint\t2",
        "data_start\tLine number of data start (0-based)\t\tint\t{d}",
        "mass\tMeasurement mass\tC0M32\tdouble\t3.200000e+01",
        "label_suffix\tLabel suffix\tC0M32\tstring\tO2",
        "mass\tMeasurement mass\tC1M44\tdouble\t4.400000e+01",
        "label_suffix\tLabel suffix\tC1M44\tstring\tCO2",
        *extra_meta,
        f"C0M32_count\tNumber of points\tC0M32\tint\t{counts[0]}",
        f"C1M44_count\tNumber of points\tC1M44\tint\t{counts[1]}",
        "pot_count\tNumber of points\tpot\tint\t3",
    ]
    n = len(meta)
    lines = [m.format(n=n, d=n + 2) for m in meta]
    lines.append("pot\t\t\tC0M32\t\tC1M44\t")
    lines.append("Time [s]\tVoltage [V]\tCurrent [mA]\tTime [s]\tM32-O2 [A]\tTime [s]\tM44-CO2 [A]")
    for r in range(rows):
        row = [f"{10 + r:.6e}", "3.5", "0.1", f"{r + 0.5:.6e}", f"{(r + 1) * 1e-10:.6e}"]
        row += [f"{r + 0.7:.6e}", f"{(r + 1) * 2e-11:.6e}"]
        for (rr, col), text in (cells or {}).items():
            if rr == r:
                row[col] = text
        line = "\t".join(row)
        lines.append(line.replace(".", ",") if comma else line)
    return "\n".join(lines) + end


def test_a_zilien_file_gives_its_mass_channels_in_amperes(tmp_path: Path) -> None:
    table, meta = read_mass_spec_file(write(tmp_path, zilien(), "x.tsv"))
    assert list(table["channel"].cat.categories) == ["M32-O2", "M44-CO2"]
    assert o2_values(table, "M32-O2") == pytest.approx([1e-10, 2e-10, 3e-10])
    assert channel(table, "M44-CO2")["time_s"].tolist() == pytest.approx([0.7, 1.7, 2.7])
    assert meta["has_potentiostat_data"] is True


def test_zilien_decimal_commas_read_the_same(tmp_path: Path) -> None:
    table, meta = read_mass_spec_file(write(tmp_path, zilien(comma=True), "x.tsv"))
    assert o2_values(table, "M32-O2") == pytest.approx([1e-10, 2e-10, 3e-10])
    assert meta["decimal_separator"] == ","


def test_zilien_start_time_comes_from_unix_time_in_utc_or_from_the_file_name(
    tmp_path: Path,
) -> None:
    unix = "start_time_unix\tStart time as UNIX time stamp\t\tdouble\t1663579682.5"
    _, meta = read_mass_spec_file(write(tmp_path, zilien(extra_meta=(unix,)), "x.tsv"))
    assert meta["start_time"] == "2022-09-19T09:28:02.500000+00:00"
    assert meta["start_time_timezone"] == "UTC"
    _, meta = read_mass_spec_file(write(tmp_path, zilien(), "2022-04-06 16_17_23 full set.tsv"))
    assert meta["start_time"] == "2022-04-06T16:17:23"
    assert meta["start_time_timezone"].startswith("not recorded")


def test_a_zilien_series_shorter_than_declared_is_truncated(tmp_path: Path) -> None:
    text = zilien(counts=(3, 40))
    with pytest.raises(ParseError, match=r"x.tsv: series 'C1M44' declares 40 points .*truncated"):
        read_mass_spec_file(write(tmp_path, text, "x.tsv"))


def test_a_zilien_file_whose_potentiostat_series_is_cut_short_is_truncated(
    tmp_path: Path,
) -> None:
    text = zilien().replace("pot\tint\t3", "pot\tint\t90")
    with pytest.raises(ParseError, match="series 'pot' declares 90 points"):
        read_mass_spec_file(write(tmp_path, text, "x.tsv"))
    with pytest.raises(ParseError, match="series 'pot' declares 90 points"):
        read_zilien_potentiostat(write(tmp_path, text, "x.tsv"))


def test_a_zilien_file_cut_in_its_last_line_drops_that_point(tmp_path: Path) -> None:
    text = zilien(end="")[:-4]  # cut inside the last CO2 value, no line break
    table, meta = read_mass_spec_file(write(tmp_path, text, "x.tsv"))
    assert len(channel(table, "M32-O2")) == 3
    assert len(channel(table, "M44-CO2")) == 2
    assert meta["cut_last_line_dropped"] is True


def test_zilien_damage_and_missing_values(tmp_path: Path) -> None:
    table, meta = read_mass_spec_file(write(tmp_path, zilien(cells={(1, 4): "NaN"}), "x.tsv"))
    assert o2_values(table, "M32-O2") == pytest.approx([1e-10, 3e-10])
    assert meta["channels"][0]["missing_values"] == 1
    with pytest.raises(ParseError, match=r"x.tsv: line \d+: .*not a number"):
        read_mass_spec_file(write(tmp_path, zilien(cells={(1, 4): "abc"}), "x.tsv"))


def test_a_zilien_file_cut_inside_its_header_is_truncated(tmp_path: Path) -> None:
    text = "\n".join(zilien().splitlines()[:5]) + "\n"
    with pytest.raises(ParseError, match="ends inside its header"):
        read_mass_spec_file(write(tmp_path, text, "x.tsv"))


# ---------------------------------------------------------------- Hiden-style mapped tables

HIDEN = """"Experiment was started",06/04/2022,23:59:58
"Scans",1
"Time","ms","mass 32","mass 44",
"23:59:58",0,1.0E-10,2.0E-11,
"23:59:59",1000,1.5E-10,2.5E-11,
"00:00:00",2000,2.0E-10,3.0E-11,
"00:00:01",3000,2.5E-10,3.5E-11,
"""


def hiden_mapping(**changes) -> MassSpecMapping:
    values = {
        "name": "Hiden HPR-20",
        "time_column": "ms",
        "time_unit": "ms",
        "channels": (ChannelColumn("mass 32", 32, "O2"), ChannelColumn("mass 44", 44, "CO2")),
        "signal_unit": "A",
    }
    return MassSpecMapping(**{**values, **changes})


def test_a_hiden_table_is_recognised_but_needs_a_mapping(tmp_path: Path) -> None:
    path = write(tmp_path, HIDEN, "hpr.csv")
    assert recognise_mass_spec(head(path)) == HIDEN_CSV
    with pytest.raises(ParseError, match="choose the mass spectrometer mapping"):
        read_mass_spec_file(path)


def test_a_hiden_table_read_through_its_mapping(tmp_path: Path) -> None:
    table, meta = read_mass_spec_file(write(tmp_path, HIDEN, "hpr.csv"), mapping=hiden_mapping())
    assert o2_values(table, "mass 32") == pytest.approx([1e-10, 1.5e-10, 2e-10, 2.5e-10])
    assert channel(table, "mass 44")["time_s"].tolist() == [0.0, 1.0, 2.0, 3.0]
    assert meta["channels"][0]["label"] == "O2"
    assert meta["format"] == HIDEN_CSV


def test_a_clock_time_column_passes_midnight(tmp_path: Path) -> None:
    mapping = hiden_mapping(time_column="Time", time_unit="clock")
    table, _ = read_mass_spec_file(write(tmp_path, HIDEN, "hpr.csv"), mapping=mapping)
    assert channel(table, "mass 32")["time_s"].tolist() == [0.0, 1.0, 2.0, 3.0]


def test_a_date_time_column_gives_seconds_and_the_start_time(tmp_path: Path) -> None:
    text = "Date,mass 32\n06/04/2022 23:59:58,1\n06/04/2022 23:59:59,2\n07/04/2022 00:00:00,3\n"
    mapping = hiden_mapping(
        time_column="Date", time_unit="datetime", channels=(ChannelColumn("mass 32", 32),)
    )
    table, meta = read_mass_spec_file(write(tmp_path, text, "hpr.csv"), mapping=mapping)
    assert channel(table, "mass 32")["time_s"].tolist() == [0.0, 1.0, 2.0]
    assert meta["start_time"] == "2022-04-06T23:59:58"  # 07/04 after 06/04: day first
    bad = text.replace("07/04/2022 00:00:00", "tomorrow")
    with pytest.raises(ParseError, match="line 4: 'tomorrow' in column 'Date' is not a date"):
        read_mass_spec_file(write(tmp_path, bad, "hpr.csv"), mapping=mapping)


def test_torr_is_refused_without_a_factor_and_converted_with_one(tmp_path: Path) -> None:
    path = write(tmp_path, HIDEN, "hpr.csv")
    with pytest.raises(ParseError, match="partial pressures in Torr.*a_per_pressure_unit"):
        read_mass_spec_file(path, mapping=hiden_mapping(signal_unit="Torr"))
    mapping = hiden_mapping(signal_unit="Torr", a_per_pressure_unit=2.0)
    table, meta = read_mass_spec_file(path, mapping=mapping)
    assert o2_values(table, "mass 32") == pytest.approx([2e-10, 3e-10, 4e-10, 5e-10])
    assert set(table["unit"]) == {"A"}
    assert meta["pressure_converted_with_a_per_unit"] == 2.0


def test_semicolons_decimal_commas_and_nanoamperes(tmp_path: Path) -> None:
    text = "Time;ms;mass 32\n0;0;0,1\n1;1000;0,15\n2;2000;0,2\n"
    mapping = hiden_mapping(channels=(ChannelColumn("mass 32", 32),), signal_unit="nA")
    table, meta = read_mass_spec_file(write(tmp_path, text, "hpr.csv"), mapping=mapping)
    assert o2_values(table, "mass 32") == pytest.approx([1e-10, 1.5e-10, 2e-10])
    assert (meta["delimiter"], meta["decimal_separator"]) == (";", ",")


def test_a_mapped_column_the_file_lacks_is_named(tmp_path: Path) -> None:
    mapping = hiden_mapping(channels=(ChannelColumn("mass 18", 18),))
    with pytest.raises(ParseError, match="no line in its first 200 names all the columns"):
        read_mass_spec_file(write(tmp_path, HIDEN, "hpr.csv"), mapping=mapping)
    with pytest.raises(ParseError, match="has no column 'mass 18'"):
        read_mass_spec_file(
            write(tmp_path, HIDEN, "hpr.csv"),
            mapping=hiden_mapping(channels=(ChannelColumn("mass 18", 18),), header_row=2),
        )


def test_a_hiden_last_line_without_a_line_break_is_dropped(tmp_path: Path) -> None:
    table, meta = read_mass_spec_file(
        write(tmp_path, HIDEN.rstrip("\n")[:-3], "hpr.csv"), mapping=hiden_mapping()
    )
    assert len(channel(table, "mass 32")) == 3
    assert meta["cut_last_line_dropped"] is True


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"time_unit": "days"}, "time_unit"),
        ({"signal_unit": "V"}, "signal_unit"),
        ({"channels": ()}, "at least one channel"),
        ({"a_per_pressure_unit": -1.0}, "a_per_pressure_unit"),
        ({"header_row": -2}, "header_row"),
        ({"channels": (ChannelColumn("ms", 32),)}, "mapped once"),
    ],
)
def test_bad_mappings_are_refused(changes: dict, message: str) -> None:
    with pytest.raises(MappingError, match=message):
        hiden_mapping(**changes)


def test_a_channel_needs_a_sensible_mz() -> None:
    with pytest.raises(MappingError, match="between 0 and 1000"):
        ChannelColumn("mass 32", 0)
    with pytest.raises(MappingError, match="must be a number"):
        ChannelColumn("mass 32", "32")  # type: ignore[arg-type]


def test_a_mapping_round_trips_through_its_stored_json() -> None:
    mapping = hiden_mapping(signal_unit="Torr", a_per_pressure_unit=1.5e-4)
    again = MassSpecMapping.from_dict(mapping.to_dict(), name=mapping.name)
    assert again == mapping
    with pytest.raises(MappingError, match="unknown mapping keys: colour"):
        MassSpecMapping.from_dict({**mapping.to_dict(), "colour": "red"}, name="x")


# ---------------------------------------------------------------- the front door


def test_other_files_are_refused_with_a_sentence(tmp_path: Path) -> None:
    with pytest.raises(ParseError, match="not a mass spectrometer file Kiln reads"):
        read_mass_spec_file(write(tmp_path, "sample,mass_mg\nA1,12.3\n", "x.csv"))
    with pytest.raises(ParseError, match="unknown mass spectrometer format 'rga'"):
        read_mass_spec_file(write(tmp_path, quadera()), fmt="rga")
    binary = tmp_path / "x.bin"
    binary.write_bytes(b"\x00\x01\x02" * 100)
    with pytest.raises(ParseError, match="x.bin"):
        read_mass_spec_file(binary, fmt=PFEIFFER_ASC)
    with pytest.raises(ParseError, match="cannot be opened"):
        read_mass_spec_file(tmp_path / "missing.asc")


@pytest.mark.parametrize(
    ("name", "mz"),
    [
        ("14", 14.0),
        ("M32", 32.0),
        ("m/z 44", 44.0),
        ("Mass 32.00", 32.0),
        ("44 amu", 44.0),
        ("M32-O2", 32.0),
        ("CO2", 44.0),
        ("Carbon dioxide", 44.0),
        ("Water", 18.0),
    ],
)
def test_the_mz_of_a_channel_name(name: str, mz: float) -> None:
    assert mz_of_name(name)[0] == mz


def test_a_name_without_a_mass_has_no_mz() -> None:
    assert np.isnan(mz_of_name("Temperature")[0])
