"""Arbin .xlsx exports (python-calamine): hand-worked capacities on a small workbook built with
openpyxl, detection from the sheets, and a clear error for a missing column."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

import openpyxl
import pytest

from characterization.parsers import ParseError, cycle_capacities, detect_format, read_cycler_file

HEADER = [
    "Data_Point",
    "Test_Time(s)",
    "Date_Time",
    "Step_Time(s)",
    "Step_Index",
    "Cycle_Index",
    "Current(A)",
    "Voltage(V)",
    "Charge_Capacity(Ah)",
    "Discharge_Capacity(Ah)",
    "Charge_Energy(Wh)",
    "Discharge_Energy(Wh)",
]
# Data_Point, Test_Time, Step_Index, Cycle_Index, I (A), V, Qc (Ah), Qd (Ah), Ec (Wh), Ed (Wh).
# Arbin accumulates capacity over the whole cycle (CC + CV charge) and restarts at cycle 2.
RECORDS = [
    (1, 0, 1, 1, 0.0, 3.00, 0.0, 0.0, 0.0, 0.0),  # rest
    (2, 10, 2, 1, 0.002, 3.80, 0.0010, 0.0, 0.0040, 0.0),  # CC charge
    (3, 20, 2, 1, 0.002, 4.20, 0.0020, 0.0, 0.0080, 0.0),
    (4, 30, 3, 1, 0.0005, 4.30, 0.0025, 0.0, 0.0100, 0.0),  # CV charge: 2.5 mAh in the cycle
    (5, 40, 4, 1, -0.002, 3.90, 0.0025, 0.0010, 0.0100, 0.0038),  # discharge
    (6, 50, 4, 1, -0.002, 3.00, 0.0025, 0.0022, 0.0100, 0.0080),  # 2.2 mAh, 8 mWh
    (7, 60, 2, 2, 0.002, 3.90, 0.0012, 0.0, 0.0048, 0.0),  # cycle 2 restarts at 0
    (8, 70, 3, 2, 0.0004, 4.30, 0.0021, 0.0, 0.0084, 0.0),
    (9, 80, 4, 2, -0.002, 3.50, 0.0021, 0.0019, 0.0084, 0.0070),
    (10, 90, 4, 2, -0.002, 3.00, 0.0021, 0.0020, 0.0084, 0.0074),
]


def _row(record: tuple) -> list:
    point, time_s, step, cycle, *rest = record
    stamp = datetime(2024, 5, 1, 9, 0) + timedelta(seconds=time_s)
    return [point, time_s, stamp, 0.0, step, cycle, *rest]


def write_arbin_xlsx(path: Path, parts: list[list[tuple]], header: list[str] = HEADER) -> Path:
    workbook = openpyxl.Workbook()
    info = workbook.active
    info.title = "Global_Info"
    info.append(["TEST REPORT"])
    info.append(["Test Name", "NCM811_coin_07", "Schedule File Name", "formation.sdx"])
    # Parts written last-first: the reader orders them by their number, not the workbook's.
    for number, records in reversed(list(enumerate(parts, start=1))):
        sheet = workbook.create_sheet(f"Channel_1_{number}")
        sheet.append(header)
        for record in records:
            sheet.append(_row(record))
    workbook.save(path)
    return path


def test_arbin_xlsx_capacity_accumulates_per_cycle_in_mah(tmp_path: Path) -> None:
    path = write_arbin_xlsx(tmp_path / "export.bin", [RECORDS[:6], RECORDS[6:]])
    parsed = read_cycler_file(path)
    assert parsed.format == "arbin_xlsx"
    assert parsed.metadata["source_library"] == "python-calamine"
    assert parsed.metadata["units_seen"]["capacity"] == "Ah"
    assert parsed.table["time_s"].tolist() == [r[1] for r in RECORDS]
    caps = cycle_capacities(parsed.table)
    assert caps["cycle"].tolist() == [1, 2]
    assert caps["charge_capacity_mah"].tolist() == pytest.approx([2.5, 2.1])
    assert caps["discharge_capacity_mah"].tolist() == pytest.approx([2.2, 2.0])
    assert caps["charge_energy_mwh"].tolist() == pytest.approx([10.0, 8.4])
    assert caps["discharge_energy_mwh"].tolist() == pytest.approx([8.0, 7.4])


def test_arbin_xlsx_currents_are_signed_milliamps_and_steps_typed(tmp_path: Path) -> None:
    table = read_cycler_file(write_arbin_xlsx(tmp_path / "a.xlsx", [RECORDS])).table
    assert table["current_ma"].tolist()[:3] == pytest.approx([0.0, 2.0, 2.0])
    assert table["step_type"].tolist()[:5] == ["rest", "charge", "charge", "charge", "discharge"]
    assert table["step"].tolist() == [1, 2, 2, 3, 4, 4, 5, 6, 7, 7]


def test_an_arbin_workbook_is_recognised_from_its_sheets(tmp_path: Path) -> None:
    assert detect_format(write_arbin_xlsx(tmp_path / "run.dat", [RECORDS])) == "arbin_xlsx"


def test_an_old_style_channel_sheet_name_is_recognised(tmp_path: Path) -> None:
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.title = "Channel2_1"
    sheet.append(HEADER)
    for record in RECORDS:
        sheet.append(_row(record))
    workbook.save(tmp_path / "old.xlsx")
    parsed = read_cycler_file(tmp_path / "old.xlsx")
    assert parsed.format == "arbin_xlsx"
    assert cycle_capacities(parsed.table)["charge_capacity_mah"].tolist() == pytest.approx(
        [2.5, 2.1]
    )


def test_a_workbook_without_arbin_sheets_is_not_a_cycler_file(tmp_path: Path) -> None:
    workbook = openpyxl.Workbook()
    workbook.active.title = "Sheet1"
    workbook.active.append(["time", "voltage"])
    workbook.save(tmp_path / "table.xlsx")
    with pytest.raises(ParseError, match="column mapping"):
        detect_format(tmp_path / "table.xlsx")


def test_a_channel_sheet_missing_a_required_column_names_it(tmp_path: Path) -> None:
    header = [h if h != "Voltage(V)" else "Aux_Voltage(V)" for h in HEADER]
    path = write_arbin_xlsx(tmp_path / "no_voltage.xlsx", [RECORDS], header=header)
    with pytest.raises(ParseError, match=r"no_voltage.xlsx: sheet 'Channel_1_1' has no column "):
        read_cycler_file(path)
    with pytest.raises(ParseError, match=r"'Voltage\(V\)'"):
        read_cycler_file(path)


def test_an_arbin_export_of_several_channels_is_refused(tmp_path: Path) -> None:
    path = write_arbin_xlsx(tmp_path / "two.xlsx", [RECORDS])
    workbook = openpyxl.load_workbook(path)
    workbook.create_sheet("Channel_3_1").append(HEADER)
    workbook.save(path)
    with pytest.raises(ParseError, match="one channel per file"):
        read_cycler_file(path)
