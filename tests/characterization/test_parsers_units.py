"""Hand-worked checks of the shared rules and of the text readers on small synthetic files."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from characterization.parsers import (
    ParseError,
    complete_cycles,
    cycle_capacities,
    read_cycler_file,
)
from characterization.parsers._table import chained
from characterization.parsers.biologic import load_biologic
from characterization.parsers.cycle_model import pair_half_cycles

from .parser_reference import cycler_data_dir
from .synthetic import assemble, linear_half_cycle


def test_a_counter_restarting_each_step_is_chained_into_a_running_total() -> None:
    step = np.array([1, 1, 2, 2, 3, 3])  # CC then CV charge, then the next step
    running = np.array([0.5, 1.0, 0.1, 0.3, 0.2, 0.4])
    np.testing.assert_allclose(chained(step, running), [0.5, 1.0, 1.1, 1.3, 1.5, 1.7])


def test_half_cycles_pair_charge_first_with_a_leading_discharge_as_cycle_0() -> None:
    half = np.array([1, 1, 2, 2, 3, 4, 5])
    signs = np.array([-1, -1, 1, 1, -1, 1, -1])
    assert pair_half_cycles(half, signs, "cathode").tolist() == [0, 0, 1, 1, 1, 2, 2]
    # an anode half-cell lithiates (discharges) first
    assert pair_half_cycles(half, signs, "anode").tolist() == [1, 1, 1, 1, 2, 2, 3]


def _table(charge: list[float], discharge: list[float], end_v: float = 2.0) -> pd.DataFrame:
    """Cycles of two records per half cycle: charge 3.0 -> 4.2 V, discharge 4.1 -> 2.0 V
    (the last discharge ends at end_v, the file's last record)."""
    return assemble(
        [
            half
            for n, (q_charge, q_discharge) in enumerate(zip(charge, discharge, strict=True), 1)
            for half in (
                linear_half_cycle(n, "charge", capacity_mah=q_charge, start_v=3.0, end_v=4.2,
                                  current_ma=1.0, points=3),
                linear_half_cycle(n, "discharge", capacity_mah=q_discharge, start_v=4.1,
                                  end_v=end_v if n == len(charge) else 2.0, current_ma=1.0,
                                  points=3),
            )
            if half.capacity_mah[-1] > 0
        ],
        rest_points=0,
    )  # fmt: skip


def test_a_final_discharge_cut_before_its_cut_off_voltage_is_not_complete() -> None:
    assert complete_cycles(_table([1.0, 1.0, 1.0], [0.9, 0.9, 0.9])) == [1, 2, 3]
    # the file ends in cycle 3's discharge at 3.6 V while the others reached 2.0 V
    assert complete_cycles(_table([1.0, 1.0, 1.0], [0.9, 0.9, 0.4], end_v=3.6)) == [1, 2]
    assert complete_cycles(_table([1.0, 1.0], [0.9, 0.0])) == [1]


MACCOR = (
    "Today's Date 01/02/2024  Date of Test:\t01/01/2024\t Filename:\tx.001\n"
    "Rec#\tCyc#\tStep\tTest (Sec)\tStep (Sec)\tAmp-hr\tWatt-hr\tAmps\tVolts\tState\tES\n"
    "1\t0\t1\t0\t0\t0.0000\t0.0\t0.001\t3.5\tC\t0\n"
    "2\t0\t1\t10\t10\t0.0010\t0.004\t0.001\t4.2\tC\t0\n"
    "3\t0\t2\t20\t10\t0.0002\t0.0008\t0.0005\t4.2\tC\t0\n"
    "4\t0\t3\t30\t10\t0.0000\t0.0\t0.0\t4.1\tR\t0\n"
    "5\t0\t4\t40\t10\t0.0005\t0.002\t0.001\t3.9\tD\t0\n"
    "6\t0\t4\t50\t20\t0.0011\t0.004\t0.001\t3.0\tD\t0\n"
)


def test_maccor_signs_current_from_state_and_sums_cc_cv(tmp_path: Path) -> None:
    export = tmp_path / "cell.001"
    export.write_text(MACCOR)
    table = read_cycler_file(export).table
    caps = cycle_capacities(table).set_index("cycle")
    # Maccor's cycle 0 is Kiln's first charge-first cycle, 1 (kept as instrument_cycle 0)
    assert caps.loc[1, "charge_capacity_mah"] == pytest.approx(1.2)  # 1.0 CC + 0.2 CV
    assert caps.loc[1, "discharge_capacity_mah"] == pytest.approx(1.1)
    assert caps.loc[1, "charge_energy_mwh"] == pytest.approx(4.8)
    assert table["instrument_cycle"].tolist() == [0] * 6
    assert table["current_ma"].tolist() == pytest.approx([1, 1, 0.5, 0, -1, -1])


BTSDA = (
    "DataPoint,Cycle Index,Step Index,Step Type,Time,Total Time,Current(mA),Voltage(V),"
    "Chg. Cap.(mAh),DChg. Cap.(mAh)\n"
    "1,1,1,CCCV Chg,00:00:00,0-23:59:50,0.5,3.9,0.0,0.0\n"
    "2,1,1,CCCV Chg,00:00:10,1-00:00:00,0.5,4.0,0.7,0.0\n"
    "3,1,2,CC DChg,00:00:00,1-00:00:10,-0.5,3.8,0.0,0.2\n"
    "4,1,2,CC DChg,00:00:10,1-00:00:20,-0.5,3.5,0.0,0.6\n"
)


def test_btsda_units_come_from_the_header_and_days_are_counted(tmp_path: Path) -> None:
    export = tmp_path / "cell.csv"
    export.write_text(BTSDA)
    table = read_cycler_file(export).table
    assert table["time_s"].tolist() == [86390.0, 86400.0, 86410.0, 86420.0]
    assert table["step_type"].tolist() == ["charge", "charge", "discharge", "discharge"]
    assert table["charge_capacity_mah"].max() == pytest.approx(0.7)  # already mAh
    assert table["discharge_capacity_mah"].max() == pytest.approx(0.6)


def _write_mpt(data: pd.DataFrame, path: Path) -> None:
    """An EC-Lab text export of `data`, French locale (decimal comma), Latin-1."""
    head = "EC-Lab ASCII FILE\nNb header lines : 5\n\nGalvanostatic Cycling\n"
    body = data.to_csv(sep="\t", index=False, decimal=",", lineterminator="\n")
    path.write_bytes((head + body).encode("latin-1"))


def test_mpt_text_export_reads_like_the_binary_file(tmp_path: Path) -> None:
    source = cycler_data_dir() / "biologic_yadg_gcpl_4p6V.mpr"
    data, _ = load_biologic(source, "biologic_mpr")
    _write_mpt(data.drop(columns=["flags"]), tmp_path / "gcpl.mpt")
    text = cycle_capacities(read_cycler_file(tmp_path / "gcpl.mpt").table)
    binary = cycle_capacities(read_cycler_file(source).table)
    pd.testing.assert_frame_equal(text, binary, rtol=1e-6)


def test_mpt_without_half_cycle_columns_derives_them_from_current(tmp_path: Path) -> None:
    source = cycler_data_dir() / "biologic_yadg_gcpl_4p6V.mpr"
    data, _ = load_biologic(source, "biologic_mpr")
    reduced = data[["time/s", "Ewe/V", "dq/mA.h", "control/V/mA"]]
    _write_mpt(reduced, tmp_path / "bare.mpt")
    caps = cycle_capacities(read_cycler_file(tmp_path / "bare.mpt").table).set_index("cycle")
    assert caps.loc[1, "charge_capacity_mah"] == pytest.approx(1.94221, rel=5e-3)
    assert caps.loc[3, "discharge_capacity_mah"] == pytest.approx(1.63459, rel=5e-3)


def test_an_mpt_without_current_or_charge_is_rejected_naming_the_file(tmp_path: Path) -> None:
    bare = pd.DataFrame({"time/s": [0.0, 1.0], "Ewe/V": [3.0, 3.1], "control/V/mA": [0.1, 0.1]})
    _write_mpt(bare, tmp_path / "odd.mpt")
    with pytest.raises(ParseError, match=r"^odd\.mpt: .*current"):
        read_cycler_file(tmp_path / "odd.mpt")


# The MIMS-style Maccor export: "Name:"/"Channel:" header lines, "Rec", "Cycle P"/"Cycle C",
# "Md" columns, a units line, decimal commas (a European Windows PC) and |I| recorded.
MACCOR_MIMS = (
    "Name:\tcell 7\n"
    "Channel:\t12\n"
    "Procedure:\tformation.000\n"
    "\n"
    "Rec\tCycle P\tCycle C\tStep\tTestTime\tStepTime\tCap. [Ah]\tEner. [Wh]\tCurrent [A]\t"
    "Voltage [V]\tMd\tES\tDPT Time\n"
    "\t\t\t\t\t\t[Ah]\t[Wh]\t[A]\t[V]\t\t\t\n"
    "1\t1\t1\t1\t0d 00:00:00,00\t0d 00:00:00,00\t0,0000\t0,0000\t0,0000\t3,500\tR\t0\t01.01.2024\n"
    "2\t1\t1\t2\t0d 00:00:10,00\t0d 00:00:00,00\t0,0000\t0,0000\t0,0010\t3,600\tC\t0\t01.01.2024\n"
    "3\t1\t1\t2\t0d 01:00:10,00\t0d 01:00:00,00\t0,0010\t0,0041\t0,0010\t4,300\tC\t0\t01.01.2024\n"
    "4\t1\t1\t3\t0d 01:00:20,00\t0d 00:00:00,00\t0,0000\t0,0000\t0,0010\t4,200\tD\t0\t01.01.2024\n"
    "5\t1\t1\t3\t0d 01:54:20,00\t0d 00:54:00,00\t0,0009\t0,0033\t0,0010\t3,000\tD\t0\t01.01.2024\n"
    "6\t1\t1\t4\t0d 01:54:30,00\t0d 00:00:00,00\t0,0000\t0,0000\t0,0000\t3,200\tR\t0\t01.01.2024\n"
)


def test_maccor_mims_export_with_name_lines_and_magnitude_current_is_read(tmp_path: Path) -> None:
    # Before: refused as "not a cycler file", stored and then nothing happened ("Format –").
    export = tmp_path / "cell7.txt"
    export.write_bytes(MACCOR_MIMS.encode("latin-1"))
    parsed = read_cycler_file(export)
    assert parsed.format == "maccor_txt" and parsed.metadata["decimal_mark"] == ","
    table = parsed.table
    assert table["time_s"].tolist() == [0.0, 10.0, 3610.0, 3620.0, 6860.0, 6870.0]
    assert table["direction"].tolist() == [
        "rest",
        "charge",
        "charge",
        "discharge",
        "discharge",
        "rest",
    ]
    # |I| recorded: the discharge is re-signed from the Md column
    assert table["current_ma"].tolist() == pytest.approx([0.0, 1.0, 1.0, -1.0, -1.0, 0.0])
    caps = cycle_capacities(table).set_index("cycle")
    assert caps.loc[1, "charge_capacity_mah"] == pytest.approx(1.0)
    assert caps.loc[1, "discharge_capacity_mah"] == pytest.approx(0.9)
    assert "magnitude" in table.attrs["kiln"]["direction"]["current"]


def test_a_last_line_cut_mid_record_is_left_out_and_said(tmp_path: Path) -> None:
    export = tmp_path / "cell.001"
    export.write_text(MACCOR + "7\t0\t4\t60\t30\t0.00")  # the export stopped mid-line
    table = read_cycler_file(export).table
    assert len(table) == 6 and table.attrs["kiln"]["cut_last_line"] is True
    from characterization.analysis.plausibility import reading_notes

    notes = {n.code: n for n in reading_notes(table, None)}
    assert "cut off in the middle of a record" in notes["file_truncated"].message
    assert "magnitude only" in notes["current_sign_convention"].message  # this export has |I|


def test_an_ec_lab_text_export_cut_mid_record_says_so_too(tmp_path: Path) -> None:
    data, _ = load_biologic(cycler_data_dir() / "biologic_yadg_gcpl_4p6V.mpr", "biologic_mpr")
    _write_mpt(data.drop(columns=["flags"]), tmp_path / "gcpl.mpt")
    text = (tmp_path / "gcpl.mpt").read_bytes()
    (tmp_path / "cut.mpt").write_bytes(text[: text.rindex(b"\t", 0, len(text) - 2)])
    table = read_cycler_file(tmp_path / "cut.mpt").table
    assert len(table) == len(data) - 1
    assert table.attrs["kiln"]["cut_last_line"] is True
