"""`manage.py analyze_cycling` (a contract): JSON fields, reference figures, one-line failures."""

from __future__ import annotations

import json
import subprocess
import sys
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from tests.characterization.parser_reference import cycler_data_dir

REPO = Path(__file__).resolve().parents[2]


def analyze(name: str, active_mass_mg: float = 5.0) -> dict:
    out = StringIO()
    path = str(cycler_data_dir() / name)
    call_command("analyze_cycling", path, active_mass_mg=active_mass_mg, json=True, stdout=out)
    return json.loads(out.getvalue())


def test_arbin_file_gives_the_reference_capacities_per_gram_and_fraction_efficiency():
    report = analyze("arbin_navani_example.res", active_mass_mg=5.0)
    assert report["format"] == "arbin_res" and report["rows"] == 2150
    first = report["cycles"][0]
    assert set(first) == {
        "cycle", "charge_capacity_mah", "discharge_capacity_mah", "charge_capacity_mah_g",
        "discharge_capacity_mah_g", "coulombic_efficiency", "mean_discharge_voltage_v",
    }  # fmt: skip
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
