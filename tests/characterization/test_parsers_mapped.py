"""Generic CSV/XLSX tables read through a saved column mapping: hand-worked units and capacity
restart rules, and a clear error for a file of the wrong format for the mapping."""

from __future__ import annotations

from pathlib import Path

import openpyxl
import pytest

from characterization.parsers import (
    ColumnMapping,
    MappingError,
    ParseError,
    cycle_capacities,
    read_mapped_file,
)

# A European export: ';' between columns, ',' as decimal mark, a title line above the header,
# time in minutes, current in A, one capacity column in Ah that restarts at every step.
EUROPEAN_CSV = """Prüfstand 3 Export
Zeit (min);Strom (A);Spannung (V);Zyklus;Schritt;Kapazität (Ah)
0,0;0;3,0;1;1;0
1,0;0,002;3,8;1;2;0,0010
2,0;0,002;4,2;1;2;0,0020
3,0;0,0005;4,3;1;3;0,0004
4,0;-0,002;3,9;1;4;0,0011
5,0;-0,002;3,0;1;4;0,0021
6,0;0,002;3,9;2;5;0,0015
7,0;0,0005;4,3;2;6;0,0003
8,0;-0,002;3,0;2;7;0,0019
"""

BENCH = ColumnMapping(
    name="Bench 3",
    time_column="Zeit (min)",
    time_unit="min",
    voltage_column="Spannung (V)",
    current_column="Strom (A)",
    current_unit="A",
    cycle_column="Zyklus",
    step_column="Schritt",
    capacity_column="Kapazität (Ah)",
    capacity_unit="Ah",
    capacity_restarts="step",
    header_row=1,
)


def test_units_are_converted_and_step_capacities_summed_per_cycle(tmp_path: Path) -> None:
    path = tmp_path / "bench.csv"
    path.write_text(EUROPEAN_CSV, encoding="utf-8")
    parsed = read_mapped_file(path, BENCH)
    table = parsed.table
    assert parsed.format == "mapped"
    assert parsed.metadata["mapping"] == "Bench 3"
    assert (parsed.metadata["delimiter"], parsed.metadata["decimal"]) == (";", ",")
    assert table["time_s"].tolist() == pytest.approx([0, 60, 120, 180, 240, 300, 360, 420, 480])
    assert table["current_ma"].tolist()[:5] == pytest.approx([0.0, 2.0, 2.0, 0.5, -2.0])
    assert table["step_type"].tolist()[:5] == ["rest", "charge", "charge", "charge", "discharge"]
    caps = cycle_capacities(table)
    assert caps["cycle"].tolist() == [1, 2]
    # cycle 1 charge: CC 2.0 mAh + CV 0.4 mAh; cycle 2: 1.5 + 0.3
    assert caps["charge_capacity_mah"].tolist() == pytest.approx([2.4, 1.8])
    assert caps["discharge_capacity_mah"].tolist() == pytest.approx([2.1, 1.9])


def test_counters_that_never_restart_give_each_cycles_increase(tmp_path: Path) -> None:
    # Charge counted negative, mA, hours, separate mAh counters over the whole file, no
    # cycle or step column: a leading discharge from open circuit is cycle 0.
    path = tmp_path / "never.csv"
    path.write_text(
        "t_h,I_mA,U_V,Qc_mAh,Qd_mAh\n"
        "0.0,1.0,3.6,0.0,0.1\n"
        "0.1,1.0,3.0,0.0,0.3\n"
        "0.2,-2.0,3.8,1.0,0.3\n"
        "0.3,-2.0,4.2,2.0,0.3\n"
        "0.4,0.0,4.1,2.0,0.3\n"
        "0.5,2.0,3.8,2.0,1.2\n"
        "0.6,2.0,3.0,2.0,2.1\n"
        "0.7,-2.0,3.9,3.1,2.1\n"
        "0.8,-2.0,4.2,3.9,2.1\n"
        "0.9,2.0,3.0,3.9,3.8\n"
    )
    mapping = ColumnMapping(
        name="Potentiostat",
        time_column="t_h",
        time_unit="h",
        voltage_column="U_V",
        current_column="I_mA",
        current_unit="mA",
        charge_current="negative",
        charge_capacity_column="Qc_mAh",
        discharge_capacity_column="Qd_mAh",
        capacity_unit="mAh",
        capacity_restarts="never",
    )
    table = read_mapped_file(path, mapping).table
    assert table["time_s"].tolist()[:3] == pytest.approx([0.0, 360.0, 720.0])
    assert table["current_ma"].tolist()[:3] == pytest.approx([-1.0, -1.0, 2.0])
    caps = cycle_capacities(table)
    assert caps["cycle"].tolist() == [0, 1, 2]
    assert caps["charge_capacity_mah"].tolist() == pytest.approx([0.0, 2.0, 1.9])
    assert caps["discharge_capacity_mah"].tolist() == pytest.approx([0.3, 1.8, 1.7])


def test_an_xlsx_table_with_per_cycle_capacity_is_taken_as_is(tmp_path: Path) -> None:
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.append(["Time [s]", "I [mA]", "U [V]", "Cycle", "Cap [mAh]", "E [mWh]"])
    for row in (
        (0, 1.0, 3.8, 1, 0.5, 1.9),
        (10, 1.0, 4.2, 1, 1.2, 4.8),
        (20, -1.0, 3.6, 1, 0.4, 1.5),
        (30, -1.0, 3.0, 1, 1.1, 3.9),
    ):
        sheet.append(row)
    workbook.save(tmp_path / "cell.xlsx")
    mapping = ColumnMapping(
        name="Sheet",
        time_column="Time [s]",
        voltage_column="U [V]",
        current_column="I [mA]",
        current_unit="mA",
        cycle_column="Cycle",
        capacity_column="Cap [mAh]",
        capacity_unit="mAh",
        capacity_restarts="cycle",
    )
    caps = cycle_capacities(read_mapped_file(tmp_path / "cell.xlsx", mapping).table)
    assert caps["charge_capacity_mah"].tolist() == pytest.approx([1.2])
    assert caps["discharge_capacity_mah"].tolist() == pytest.approx([1.1])


def test_a_file_of_the_wrong_format_for_the_mapping_names_the_column(tmp_path: Path) -> None:
    path = tmp_path / "other.csv"
    path.write_text("time,voltage,current\n0,3.0,0.1\n")
    with pytest.raises(
        ParseError, match=r"other.csv: the file has no column 'Zeit \(min\)' named in mapping "
    ) as caught:
        read_mapped_file(path, ColumnMapping.from_dict(BENCH.to_dict(), name="Bench 3"))
    assert "'Bench 3'" in str(caught.value)


def test_non_numeric_values_are_a_parse_error(tmp_path: Path) -> None:
    path = tmp_path / "bench.csv"
    path.write_text(EUROPEAN_CSV.replace("4,2;1;2", "OVL;1;2"), encoding="utf-8")
    with pytest.raises(ParseError, match="non-numeric values in the voltage column"):
        read_mapped_file(path, BENCH)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"capacity_column": ""}, "either both charge_capacity_column"),
        ({"charge_capacity_column": "Qc"}, "either both charge_capacity_column"),
        ({"step_column": ""}, "needs the step_column"),
        ({"capacity_restarts": "cycle", "cycle_column": ""}, "needs the cycle_column"),
        ({"time_unit": "days"}, "time_unit must be one of s, min, h"),
        ({"current_column": " "}, "current_column is required"),
        ({"colour": "red"}, "unknown mapping keys: colour"),
    ],
)
def test_an_inconsistent_mapping_is_refused(change: dict, message: str) -> None:
    with pytest.raises(MappingError, match=message):
        ColumnMapping.from_dict({**BENCH.to_dict(), **change}, name="Bench 3")


def test_a_net_capacity_column_declared_as_restarting_per_cycle_is_still_read_right(
    tmp_path: Path,
) -> None:
    # Q counts charge in minus charge out (it falls during the discharge), but the mapping says
    # it restarts per cycle: a counter that runs backwards in many records is a net counter.
    rows = ["Time [s],I [mA],U [V],Cycle,Q [mAh]"]
    q = 0.0
    for t in range(0, 40):
        current = 1.0 if t < 20 else -1.0
        q += current * 0.05 if t else 0.0
        voltage = 3.0 + 0.05 * t if t < 20 else 4.0 - 0.05 * (t - 20)
        rows.append(f"{t * 180},{current},{voltage:.3f},1,{q:.4f}")
    (tmp_path / "net.csv").write_text("\n".join(rows) + "\n")
    mapping = ColumnMapping(
        name="net",
        time_column="Time [s]",
        voltage_column="U [V]",
        current_column="I [mA]",
        current_unit="mA",
        cycle_column="Cycle",
        capacity_column="Q [mAh]",
        capacity_unit="mAh",
        capacity_restarts="cycle",
    )
    caps = cycle_capacities(read_mapped_file(tmp_path / "net.csv", mapping).table)
    assert caps["charge_capacity_mah"].tolist() == pytest.approx([0.95])
    assert caps["discharge_capacity_mah"].tolist() == pytest.approx([1.0])
