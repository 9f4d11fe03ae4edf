"""`manage.py analyze_cycling` (a contract): JSON fields, reference figures, one-line failures."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from tests.characterization.parser_reference import cycler_data_dir

REPO = Path(__file__).resolve().parents[2]


def analyze(name: str, active_mass_mg: float = 5.0, **options) -> dict:
    out = StringIO()
    path = str(cycler_data_dir() / name)
    call_command(
        "analyze_cycling", path, active_mass_mg=active_mass_mg, json=True, stdout=out, **options
    )
    return json.loads(out.getvalue())


def codes(report: dict) -> set[str]:
    return {w["code"] for w in report["warnings"]}


def test_arbin_file_gives_the_reference_capacities_per_gram_and_fraction_efficiency():
    report = analyze("arbin_navani_example.res", active_mass_mg=5.0)
    assert report["format"] == "arbin_res" and report["rows"] == 2150
    first = report["cycles"][0]
    assert set(first) == {
        "cycle", "instrument_cycle", "complete", "charge_capacity_mah", "discharge_capacity_mah",
        "charge_capacity_mah_g", "discharge_capacity_mah_g", "coulombic_efficiency",
        "mean_discharge_voltage_v",
    }  # fmt: skip
    assert first["complete"] is True and first["instrument_cycle"] == 1
    # REFERENCE.md (galvani): c1 0.483515 / 0.475156 mAh, CE 0.9827; 5 mg -> ×200 per gram
    assert first["cycle"] == 1
    assert first["charge_capacity_mah"] == pytest.approx(0.483515, rel=5e-3)
    assert first["discharge_capacity_mah_g"] == pytest.approx(0.475156 * 200, rel=5e-3)
    assert first["coulombic_efficiency"] == pytest.approx(0.9827, abs=1e-4)
    assert 3.0 < first["mean_discharge_voltage_v"] < 4.5
    assert isinstance(report["voltage_fade_mv_per_cycle"], float)


def test_a_single_cycle_file_reports_no_fade_rather_than_a_made_up_number():
    report = analyze("neware_navani_test.ndax")
    assert len([c for c in report["cycles"] if c["discharge_capacity_mah"]]) == 1
    assert report["voltage_fade_mv_per_cycle"] is None


def test_a_rest_only_file_is_an_error_saying_there_is_no_complete_cycle():
    with pytest.raises(CommandError, match="no complete charge/discharge cycle"):
        analyze("neware_newarenda_unit27_rest_only.ndax")


def test_an_unreadable_file_exits_non_zero_with_one_line(tmp_path):
    junk = tmp_path / "cell7.ndax"
    junk.write_bytes(b"not a cycler file at all\n" * 10)
    result = subprocess.run(
        [sys.executable, "manage.py", "analyze_cycling", str(junk), "--active-mass-mg", "5",
         "--json"],
        cwd=REPO, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert result.returncode != 0
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "cell7.ndax" in lines[0], result.stderr
    assert result.stdout == ""


def test_the_cut_off_last_maccor_cycle_is_incomplete_and_gives_no_absurd_fade_or_efficiency():
    # Before: fade -521.5 mV/cycle from a one-record final discharge, and its CE 8e-7.
    report = analyze("maccor_beep_PreDiag_000229_truncated.034", active_mass_mg=25000.0)
    by_cycle = {c["cycle"]: c for c in report["cycles"]}
    assert by_cycle[1]["complete"] is True and by_cycle[1]["instrument_cycle"] == 0
    assert by_cycle[2]["complete"] is False
    assert by_cycle[2]["coulombic_efficiency"] is None
    assert report["voltage_fade_mv_per_cycle"] is None
    assert {"incomplete_cycle", "file_truncated", "fade_unavailable"} <= codes(report)
    truncated = next(w for w in report["warnings"] if w["code"] == "file_truncated")
    assert truncated["cycles"] == [2] and "4.180 V" in truncated["message"]


def test_every_warning_has_a_code_a_sentence_and_its_cycles():
    report = analyze("neware_btsda_export_uio.csv", electrode="anode")
    assert report["warnings"], "the cut-off last charge must be reported"
    for warning in report["warnings"]:
        assert set(warning) == {"code", "message", "cycles", "severity"}
        assert warning["message"].endswith(".") and len(warning["message"]) > 20
        assert all(isinstance(c, int) for c in warning["cycles"])


def test_an_anode_half_cell_pairs_lithiation_first_and_its_efficiency_is_below_one():
    # BTSDA anode cell: discharge (lithiation) first. Analysed as a cathode, cycle 1 pairs the
    # first delithiation with the second lithiation (CE 1.03 > 1); as an anode it is cellpy's.
    anode = analyze("neware_btsda_export_uio.csv", electrode="anode")
    first = next(c for c in anode["cycles"] if c["cycle"] == 1)
    assert first["coulombic_efficiency"] == pytest.approx(4.24934 / 5.08628, rel=1e-4)
    assert anode["electrode"] == "anode"
    cathode = analyze("neware_btsda_export_uio.csv")
    assert next(c for c in cathode["cycles"] if c["cycle"] == 0)["charge_capacity_mah"] == 0


def test_an_instrument_index_holding_two_cycles_is_reported_not_trusted():
    report = analyze("neware_btsda_export_uio.csv", electrode="anode")
    inconsistent = next(w for w in report["warnings"] if w["code"] == "cycle_index_inconsistent")
    assert "instrument cycle 3 holds Kiln cycles 3, 4" in inconsistent["message"]
    by_cycle = {c["cycle"]: c for c in report["cycles"]}
    assert by_cycle[3]["instrument_cycle"] == by_cycle[4]["instrument_cycle"] == 3
    assert all(0.8 < by_cycle[n]["coulombic_efficiency"] < 1.0 for n in (1, 2, 3, 4))


def test_capacity_above_the_theoretical_capacity_of_the_formula_is_flagged():
    # 0.48 mAh on a 1 mg cell is 480 mAh/g: above Li1.2Mn0.6Ni0.2O2's 378 mAh/g
    report = analyze("arbin_navani_example.res", active_mass_mg=1.0, formula="Li1.2Mn0.6Ni0.2O2")
    warning = next(w for w in report["warnings"] if w["code"] == "capacity_above_theoretical")
    assert warning["severity"] == "flag" and "378 mAh/g" in warning["message"]
    assert warning["cycles"] == [1, 2, 3, 4]
    sane = analyze("arbin_navani_example.res", active_mass_mg=5.0, formula="LiCoO2")
    assert "capacity_above_theoretical" not in codes(sane)


def test_without_a_formula_the_lab_wide_ceiling_catches_absurd_capacities():
    report = analyze("arbin_navani_example.res", active_mass_mg=0.0005)  # 966,000 mAh/g
    assert "capacity_above_theoretical" in codes(report)
    assert "lab-wide ceiling" in next(
        w["message"] for w in report["warnings"] if w["code"] == "capacity_above_theoretical"
    )


def test_fade_window_comes_from_the_command_line_and_formation_is_named():
    default = analyze("biologic_yadg_gcpl_4p6V.mpr")
    assert default["fade"]["formation_cycles"] == [1, 2, 3]
    assert (default["fade"]["first_cycle"], default["fade"]["last_cycle"]) == (4, 11)
    assert default["fade"]["sign"].startswith("positive = the mean discharge voltage falls")
    chosen = analyze("biologic_yadg_gcpl_4p6V.mpr", first_cycle=5, last_cycle=9)
    assert (chosen["fade"]["first_cycle"], chosen["fade"]["last_cycle"]) == (5, 9)
    assert chosen["voltage_fade_mv_per_cycle"] != default["voltage_fade_mv_per_cycle"]


def test_a_damaged_file_exits_2_with_one_line(tmp_path):
    source = (cycler_data_dir() / "neware_navani_test.ndax").read_bytes()
    damaged = tmp_path / "cell8.ndax"
    damaged.write_bytes(source[: len(source) // 2])
    result = subprocess.run(
        [sys.executable, "manage.py", "analyze_cycling", str(damaged), "--active-mass-mg", "5",
         "--json"],
        cwd=REPO, capture_output=True, text=True, timeout=120, env={**os.environ, "DEBUG": "1"},
    )  # fmt: skip
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("CommandError: cell8.ndax"), result.stderr
