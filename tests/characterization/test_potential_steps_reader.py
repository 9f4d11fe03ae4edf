"""Potential-step reader: real BioLogic files (shared testdata), and files synthesised here for
the other formats and variants (each synthetic test says so): Autolab NOVA exports, mapped
tables, and BioLogic .mpt files derived from the real 3-step export by editing its lines."""

from __future__ import annotations

import math

import numpy as np
import pytest

from characterization.parsers.errors import ParseError
from characterization.parsers.mapped import MappingError
from characterization.parsers.potential_steps import (
    AUTOLAB_TXT,
    COLUMNS,
    read_potential_step_file,
    recognise,
    split_levels,
)
from characterization.parsers.potential_steps_mapped import StepColumnMapping
from tests.testdata import testdata_dir

YADG_CA = "biologic_yadg_ca_potential_step"
IXDAT = "biologic_ixdat_ca_3steps.mpt"


def _ixdat_path():
    return testdata_dir("potential_steps") / IXDAT


# ---------------------------------------------------------------- real BioLogic files


@pytest.mark.testdata("cyclers")
def test_biologic_ca_mpt_reads_one_step_with_its_set_potential():
    table, meta = read_potential_step_file(testdata_dir("cyclers") / f"{YADG_CA}.mpt")
    assert list(table.columns) == list(COLUMNS)
    assert len(table) == 721 and meta["steps"] == 1 and set(table["step"]) == {0}
    assert meta["format"] == "biologic_mpt"
    assert meta["technique"] == "Chronoamperometry / Chronocoulometry"
    assert meta["units_seen"] == {"time": "s", "potential": "V", "current": "mA"}
    assert table["current_a"].iloc[0] == pytest.approx(1.8604061e-05, rel=1e-7)  # 1.86e-2 mA
    assert table["time_s"].iloc[0] == pytest.approx(108874.228491, rel=1e-9)
    assert table["time_s"].iloc[-1] - table["time_s"].iloc[0] == pytest.approx(43200, abs=0.01)
    assert table["set_potential_v"].iloc[0] == pytest.approx(0.30000624)
    assert "oxidation" in meta["current_sign"]


@pytest.mark.testdata("cyclers")
def test_biologic_ca_mpr_gives_the_same_table_as_its_text_export():
    folder = testdata_dir("cyclers")
    text, _ = read_potential_step_file(folder / f"{YADG_CA}.mpt")
    binary, meta = read_potential_step_file(folder / f"{YADG_CA}.mpr")
    assert meta["format"] == "biologic_mpr"
    assert meta["source_library"] == "datalab-org-galvani"
    assert np.allclose(binary["time_s"], text["time_s"], rtol=0, atol=1e-6)
    assert np.allclose(binary["current_a"], text["current_a"], rtol=1e-6)
    assert np.allclose(binary["potential_v"], text["potential_v"], rtol=1e-6)
    assert (binary["step"] == text["step"]).all()


@pytest.mark.testdata("potential_steps")
def test_biologic_three_step_export_splits_on_ns():
    table, meta = read_potential_step_file(_ixdat_path())
    assert meta["steps"] == 3
    assert table.groupby("step").size().tolist() == [10, 97, 97]
    set_v = table.groupby("step")["set_potential_v"].first().tolist()
    assert set_v == pytest.approx([0.050035376, 1.5998993, 0.19995773], abs=1e-6)
    # "<I>/mA" (EC-Lab's averaged current), first record of step 1: 0.250228 mA
    first = table[table["step"] == 1].iloc[0]
    assert first["current_a"] == pytest.approx(2.5022837e-4, rel=1e-6)
    assert meta["units_seen"]["current"] == "mA"


@pytest.mark.testdata("cyclers")
def test_biologic_cycling_and_impedance_files_are_refused_with_a_sentence():
    folder = testdata_dir("cyclers")
    with pytest.raises(ParseError, match="galvanostatic cycling file"):
        read_potential_step_file(folder / "biologic_yadg_gcpl_4p6V.mpr")
    with pytest.raises(ParseError, match=r"^eis_impedancepy_biologic\.mpt: an impedance"):
        read_potential_step_file(folder / "eis_impedancepy_biologic.mpt")


@pytest.mark.testdata("cyclers")
def test_truncated_mpr_and_missing_file_raise_parse_error(tmp_path):
    """Synthetic: the first half of the real .mpr."""
    raw = (testdata_dir("cyclers") / f"{YADG_CA}.mpr").read_bytes()
    cut = tmp_path / "cut.mpr"
    cut.write_bytes(raw[: len(raw) // 2])
    with pytest.raises(ParseError, match=r"^cut\.mpr: "):
        read_potential_step_file(cut)
    with pytest.raises(ParseError, match="cannot be opened"):
        read_potential_step_file(tmp_path / "absent.mpt")


@pytest.mark.testdata("cyclers", "potential_steps")
def test_recognise_names_the_biologic_text_format():
    for path in (testdata_dir("cyclers") / f"{YADG_CA}.mpt", _ixdat_path()):
        assert recognise(path.read_bytes()[:4096].decode("latin-1")) == "biologic_mpt"


# ---------------------------------------------------------------- BioLogic variants (synthetic)


def _mpt_parts(path):
    """(header lines incl. the column line, column names, data lines) of an EC-Lab text file."""
    lines = path.read_bytes().decode("latin-1").split("\r\n")
    n_header = int(lines[1].split(":")[1])
    columns = lines[n_header - 1].split("\t")
    return lines[:n_header], columns, [ln for ln in lines[n_header:] if ln]


def _write_mpt(path, header, data, *, end="\r\n"):
    path.write_bytes((end.join(header + data) + end).encode("latin-1"))
    return path


def _edit(data, columns, row, column, value):
    cells = data[row].split("\t")
    cells[columns.index(column)] = value
    data[row] = "\t".join(cells)


@pytest.mark.testdata("potential_steps")
def test_biologic_decimal_comma_and_lf_endings_read_the_same(tmp_path):
    """Synthetic: the real 3-step file with decimal commas and LF line ends."""
    header, _, data = _mpt_parts(_ixdat_path())
    path = _write_mpt(tmp_path / "comma.mpt", header, [d.replace(".", ",") for d in data], end="\n")
    table, _ = read_potential_step_file(path)
    reference, _ = read_potential_step_file(_ixdat_path())
    assert np.allclose(table["current_a"], reference["current_a"])
    assert (table["step"] == reference["step"]).all()


@pytest.mark.testdata("potential_steps")
def test_biologic_rest_records_of_a_modulo_bat_file_are_left_out(tmp_path):
    """Synthetic: the middle step of the real file turned into an OCV rest (mode 3)."""
    header, columns, data = _mpt_parts(_ixdat_path())
    for row in range(10, 107):
        _edit(data, columns, row, "mode", "3")
    table, meta = read_potential_step_file(_write_mpt(tmp_path / "mb.mpt", header, data))
    assert table.groupby("step").size().tolist() == [10, 97]
    assert meta["rows_left_out"] == {"rest / open circuit (mode 3)": 97}


@pytest.mark.testdata("potential_steps")
def test_biologic_loop_on_one_ns_splits_on_the_set_potential(tmp_path):
    """Synthetic: every record given Ns 0, as a looped PITT sequence writes it."""
    header, columns, data = _mpt_parts(_ixdat_path())
    for row in range(len(data)):
        _edit(data, columns, row, "Ns", "0")
    table, _ = read_potential_step_file(_write_mpt(tmp_path / "loop.mpt", header, data))
    assert table.groupby("step").size().tolist() == [10, 97, 97]


@pytest.mark.testdata("potential_steps")
@pytest.mark.parametrize(
    ("damage", "message"),
    [
        ("cut", "last data line is cut short"),
        ("nan_current", "unreadable data lines"),
        ("backwards", "time goes backwards at data record 51"),
        ("rest_only", "no potentiostatic record"),
    ],
)
def test_damaged_biologic_files_raise_parse_error_naming_the_file(tmp_path, damage, message):
    """Synthetic: the real 3-step file cut mid-line, with a NaN current, with two records'
    times swapped, and with every record made a rest (mode 3)."""
    header, columns, data = _mpt_parts(_ixdat_path())
    if damage == "cut":
        data[-1] = data[-1][:40]
    elif damage == "nan_current":
        _edit(data, columns, 30, "<I>/mA", "NaN")
    elif damage == "backwards":
        _edit(data, columns, 50, "time/s", "6.0E+002")
    else:
        for row in range(len(data)):
            _edit(data, columns, row, "mode", "3")
    path = _write_mpt(tmp_path / f"{damage}.mpt", header, data)
    with pytest.raises(ParseError, match=message) as info:
        read_potential_step_file(path)
    assert str(info.value).startswith(f"{damage}.mpt: ")


# ---------------------------------------------------------------- Autolab (synthetic)


def _decay(t, amplitude, k=0.5):
    return amplitude * np.exp(-k * t) + amplitude / 50


def _autolab_rows(applied=False):
    """Three 20 s steps (3.90 -> 3.95 -> 4.00 -> 3.95 V), a record every 0.5 s."""
    rows, t0 = [], 0.0
    for e, amplitude in ((3.95, 2e-4), (4.00, 1.5e-4), (3.95, -1.5e-4)):
        for t in np.arange(0, 20, 0.5):
            measured = e + (0.0004 if int(t * 2) % 2 else -0.0004)  # ±0.4 mV noise
            row = {"Time (s)": t0 + t, "WE(1).Current (A)": _decay(t, amplitude)}
            row["WE(1).Potential (V)"] = measured
            if applied:
                row["Potential applied (V)"] = e
            row["Index"] = len(rows) + 1
            rows.append(row)
        t0 += 20
    return rows


def _write_table(path, rows, *, sep="\t", decimal=".", end="\r\n", encoding="utf-8", head=()):
    columns = list(rows[0])
    lines = [*head, sep.join(columns)]
    for row in rows:
        cells = [f"{row[c]:.6E}" if isinstance(row[c], float) else str(row[c]) for c in columns]
        lines.append(sep.join(c.replace(".", decimal) for c in cells))
    path.write_bytes((end.join(lines) + end).encode(encoding))
    return path


def test_autolab_export_splits_steps_on_measured_potential_jumps(tmp_path):
    """Synthetic NOVA export (tab, CRLF, no applied-potential column)."""
    path = _write_table(tmp_path / "nova.txt", _autolab_rows())
    table, meta = read_potential_step_file(path)
    assert meta["format"] == AUTOLAB_TXT
    assert table.groupby("step").size().tolist() == [40, 40, 40]
    assert "measured potential" in meta["step_rule"]
    assert table["set_potential_v"].isna().all()
    assert table["current_a"].iloc[0] == pytest.approx(2e-4 * 1.02, rel=1e-6)


def test_autolab_semicolon_decimal_comma_latin1_microamps_and_title_lines(tmp_path):
    """Synthetic NOVA export: semicolons, decimal commas, Latin-1 µA unit, two title lines."""
    rows = [
        {
            "Time (min)": r["Time (s)"] / 60,
            "WE(1).Current (\u00b5A)": r["WE(1).Current (A)"] * 1e6,
            "WE(1).Potential (mV)": r["WE(1).Potential (V)"] * 1000,
        }
        for r in _autolab_rows()
    ]
    head = ("Chrono amperometry", "Exported from NOVA 2.1")
    path = _write_table(
        tmp_path / "nova_fr.txt", rows, sep=";", decimal=",", encoding="latin-1", head=head
    )
    table, meta = read_potential_step_file(path)
    assert meta["units_seen"] == {"time": "min", "potential": "mV", "current": "\u00b5A"}
    assert table["current_a"].iloc[0] == pytest.approx(2.04e-4, rel=1e-6)
    assert table["time_s"].iloc[1] == pytest.approx(0.5, rel=1e-6)
    assert table["step"].max() == 2


def test_autolab_applied_potential_gives_the_steps_and_utf16_is_read(tmp_path):
    """Synthetic NOVA export with "Potential applied (V)", saved as UTF-16 text."""
    path = _write_table(tmp_path / "nova16.txt", _autolab_rows(applied=True), encoding="utf-16")
    table, meta = read_potential_step_file(path)
    assert meta["step_rule"] == "changes of the set potential"
    assert table.groupby("step")["set_potential_v"].first().tolist() == [3.95, 4.0, 3.95]


def test_recognise_autolab_header_and_not_other_text():
    assert recognise("Time (s)\tWE(1).Current (A)\tWE(1).Potential (V)\n0\t1\t2\n") == AUTOLAB_TXT
    assert recognise("Cycle Index,Step Type,Voltage(V)\n") is None


@pytest.mark.parametrize(
    ("damage", "message"),
    [
        ("cut", "last data line is cut short"),
        ("nan_current", "data record 12 has no current value"),
        ("backwards", "time goes backwards at data record 31"),
        ("no_rows", "header but no data lines"),
        ("zero_current", "current is zero throughout"),
        ("sweep", "a sweep \\(voltammetry\\)"),
    ],
)
def test_damaged_autolab_exports_raise_parse_error(tmp_path, damage, message):
    """Synthetic NOVA exports: cut last line, an empty current cell, time stepping back, no
    data, no current, and a voltammetry sweep (the applied potential changes every record)."""
    rows = _autolab_rows(applied=damage == "sweep")
    if damage == "sweep":
        for i, row in enumerate(rows):
            row["Potential applied (V)"] = 3.0 + 0.001 * i
    if damage == "zero_current":
        for row in rows:
            row["WE(1).Current (A)"] = 0.0
    if damage == "backwards":
        rows[30]["Time (s)"] = 1.0
    path = _write_table(tmp_path / f"{damage}.txt", rows)
    text = path.read_bytes().decode()
    if damage == "cut":
        text = text.rstrip("\r\n")
        text = text[: text.rfind("\t")]
    if damage == "nan_current":
        lines = text.split("\n")
        cells = lines[12].split("\t")
        cells[1] = ""  # the current cell of data record 12
        lines[12] = "\t".join(cells)
        text = "\n".join(lines)
    if damage == "no_rows":
        text = text.split("\r\n")[0] + "\r\n"
    path.write_bytes(text.encode())
    with pytest.raises(ParseError, match=message) as info:
        read_potential_step_file(path)
    assert str(info.value).startswith(f"{damage}.txt: ")


def test_unknown_text_file_needs_a_mapping(tmp_path):
    path = tmp_path / "table.csv"
    path.write_text("t,E,I\n0,3.9,0.001\n")
    with pytest.raises(ParseError, match="read with a column mapping"):
        read_potential_step_file(path)
    with pytest.raises(ParseError, match="needs a column mapping"):
        read_potential_step_file(path, fmt="mapped")
    with pytest.raises(ParseError, match="unknown potential-step format"):
        read_potential_step_file(path, fmt="gamry")
    empty = tmp_path / "empty.txt"
    empty.write_bytes(b"")
    with pytest.raises(ParseError, match="empty"):
        read_potential_step_file(empty)


@pytest.mark.parametrize("bad", [0.1, 5000, float("nan"), "5", True])
def test_min_step_mv_is_validated(tmp_path, bad):
    path = _write_table(tmp_path / "nova.txt", _autolab_rows())
    with pytest.raises(ParseError, match="min_step_mv"):
        read_potential_step_file(path, min_step_mv=bad)


# ---------------------------------------------------------------- mapped tables (synthetic)


def _mapped_rows():
    """Minutes, mV, mA with oxidation counted negative, a step column and a set potential."""
    return [
        {
            "t_min": r["Time (s)"] / 60,
            "E_mV": r["WE(1).Potential (V)"] * 1000,
            "I_mA": -r["WE(1).Current (A)"] * 1000,
            "Step": float(i // 40 + 7),
            "E_set": r["Potential applied (V)"] * 1000,
        }
        for i, r in enumerate(_autolab_rows(applied=True))
    ]


MAPPING = StepColumnMapping(
    name="lab potentiostat",
    time_column="t_min",
    potential_column="E_mV",
    current_column="I_mA",
    time_unit="min",
    potential_unit="mV",
    current_unit="mA",
    oxidation_current="negative",
    step_column="step",  # matched ignoring case
)


def test_mapped_csv_converts_units_flips_the_sign_and_uses_the_step_column(tmp_path):
    """Synthetic CSV (comma, LF)."""
    path = _write_table(tmp_path / "steps.csv", _mapped_rows(), sep=",", end="\n")
    table, meta = read_potential_step_file(path, mapping=MAPPING)
    assert meta["format"] == "mapped" and meta["mapping"] == "lab potentiostat"
    assert table.groupby("step").size().tolist() == [40, 40, 40]
    assert table["current_a"].iloc[0] == pytest.approx(2.04e-4, rel=1e-6)  # oxidation > 0
    assert table["time_s"].iloc[2] == pytest.approx(1.0, rel=1e-6)
    assert table["potential_v"].iloc[0] == pytest.approx(3.9496, abs=1e-6)


def test_mapped_xlsx_with_a_set_potential_column(tmp_path):
    """Synthetic .xlsx written with openpyxl; steps from the set-potential column."""
    from openpyxl import Workbook

    rows = _mapped_rows()
    book = Workbook()
    sheet = book.active
    sheet.append(list(rows[0]))
    for row in rows:
        sheet.append(list(row.values()))
    book.save(tmp_path / "steps.xlsx")
    mapping = StepColumnMapping.from_dict(
        {**MAPPING.to_dict(), "step_column": "", "set_potential_column": "E_set"}, name="x"
    )
    table, meta = read_potential_step_file(tmp_path / "steps.xlsx", mapping=mapping)
    assert meta["container"] == "xlsx"
    assert table.groupby("step")["set_potential_v"].first().tolist() == pytest.approx(
        [3.95, 4.0, 3.95]
    )


def test_mapped_file_without_a_named_column_says_which(tmp_path):
    path = _write_table(tmp_path / "steps.csv", _mapped_rows(), sep=",")
    mapping = StepColumnMapping.from_dict({**MAPPING.to_dict(), "current_column": "I"}, name="m")
    with pytest.raises(ParseError, match="no column 'I' named in mapping 'm'"):
        read_potential_step_file(path, mapping=mapping)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"time_unit": "days"}, "time_unit must be one of"),
        ({"current_unit": "kA"}, "current_unit must be one of"),
        ({"oxidation_current": "up"}, "oxidation_current must be one of"),
        ({"time_column": " "}, "time_column is required"),
        ({"header_row": -1}, "header_row must be between"),
        ({"bogus": 1}, "unknown mapping keys: bogus"),
    ],
)
def test_step_column_mapping_refuses_bad_settings(change, message):
    with pytest.raises(MappingError, match=message):
        StepColumnMapping.from_dict({**MAPPING.to_dict(), **change}, name="m")


def test_step_column_mapping_round_trips_through_its_json():
    assert StepColumnMapping.from_dict(MAPPING.to_dict(), name=MAPPING.name) == MAPPING


# ---------------------------------------------------------------- step splitting


def test_split_levels_handles_noise_settling_and_spikes():
    """5 mV steps with ±1 mV noise; the first record of step 2 still on its way (+2.6 mV);
    a 1-record spike of 8 mV inside step 3."""
    noise = np.tile([0.001, -0.001], 15)
    levels = np.r_[3.900 + noise, 3.905 + noise, 3.910 + noise]
    levels[30] = 3.9026  # settling
    levels[75] = 3.918  # spike
    steps = split_levels(levels, 0.005)
    assert np.bincount(steps).tolist() == [30, 30, 30]


def test_split_levels_of_one_level_is_one_step():
    assert set(split_levels(np.full(50, 4.2) + 1e-4 * np.sin(np.arange(50)), 0.005)) == {0}
    assert math.isclose(len(split_levels(np.zeros(0), 0.005)), 0)
