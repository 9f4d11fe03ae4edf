"""`manage.py analyze PATH --kind KIND [--param NAME=VALUE] [--active-mass-mg M] --json`: any
registered kind on a file, printing {"kind", "version", "format", "summary", "warnings"}; an
unreadable file, an unknown kind or a bad parameter exits 2 with one line."""

from __future__ import annotations

import io
import json

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from tests.characterization.test_dsc_analysis import EXPECTED_J_PER_G, _ta_file, scan
from tests.testdata import testdata_path

KEYS = {"kind", "version", "format", "summary", "warnings"}


def analyze(path, kind: str, *args: str) -> dict:
    out = io.StringIO()
    call_command("analyze", str(path), "--kind", kind, *args, "--json", stdout=out)
    report = json.loads(out.getvalue())
    assert set(report) == KEYS
    assert report["kind"] == kind
    return report


def test_dsc_on_a_written_ta_file_gives_the_worked_enthalpy(tmp_path):
    """A TA export of the worked Gaussian exotherm (22.088 mW, σ 30 s, 5.00 mg): 332.2 J/g."""
    path = _ta_file(tmp_path, scan(), "Up")
    report = analyze(path, "dsc_peaks", "--param", "sample_mass_mg=5")
    (peak,) = report["summary"]["peaks"]
    assert report["format"] == "ta_universal_text"
    assert peak["kind"] == "exo"
    assert peak["enthalpy_j_per_g"] == pytest.approx(EXPECTED_J_PER_G, abs=0.5)


@pytest.mark.testdata("cyclers")
def test_eis_on_the_worked_file_gives_its_summary_keys():
    report = analyze(testdata_path("cyclers") / "eis_impedancepy_biologic.mpt", "eis_fit")
    summary = report["summary"]
    assert {"r_s_ohm", "circuit", "parameters", "r_ct_ohm", "mean_relative_residual",
            "reliable"} <= set(summary)  # fmt: skip
    assert summary["r_s_ohm"] == pytest.approx(64.45, abs=0.05)
    assert summary["r_ct_ohm"] == pytest.approx(47.9, abs=0.5)
    assert set(summary["parameters"]["R0"]) == {"value", "ci95"}


@pytest.mark.testdata("cyclers")
def test_pitt_takes_its_length_as_a_param_and_keeps_the_step_keys():
    path = testdata_path("cyclers") / "biologic_yadg_ca_potential_step.mpt"
    report = analyze(path, "pitt_diffusion", "--param", "diffusion_length_um=5")
    (step,) = report["summary"]["steps"]
    assert set(step) == {"index", "potential_v", "direction", "d_cm2_per_s", "r_squared",
                         "fit_window_s"}  # fmt: skip
    assert step["d_cm2_per_s"] == pytest.approx(1.6e-12, rel=0.05)
    assert "long_time_regime_not_reached" in {w["code"] for w in report["warnings"]}


@pytest.mark.testdata("diffraction")
def test_xrd_on_a_pattern_that_is_not_layered_says_so_and_invents_nothing():
    path = testdata_path("diffraction") / "panalytical_xrdml15_datalab.xrdml"
    report = analyze(path, "xrd_reflections")
    assert report["summary"]["lattice"]["a_angstrom"] is None
    assert "not_layered" in {w["code"] for w in report["warnings"]}


def test_cycling_kinds_run_on_the_shipped_example():
    report = analyze("docs/examples/demo-cell.001", "voltage_hysteresis")
    cycles = report["summary"]["hysteresis"]
    assert [c["cycle"] for c in cycles] == [1, 2, 3, 4]
    assert cycles[0]["hysteresis_v"] == pytest.approx(0.6, abs=1e-9)  # 3.8 V − 3.2 V


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (["docs/examples/demo-cell.001", "--kind", "dsc_peaks"], "not a thermal file"),
        (["docs/examples/demo-cell.001", "--kind", "nmr"], "unknown analysis 'nmr'"),
        (["docs/examples/demo-cell.001", "--kind", "eis_fit", "--param", "x"], "NAME=VALUE"),
        (
            ["docs/examples/demo-cell.001", "--kind", "eis_fit", "--param", "weighting=loud"],
            "must be one of auto, unit, modulus",
        ),  # fmt: skip
        (["docs/examples/demo-cell.001", "--kind", "first_charge_plateau"], "--active-mass-mg"),
        (["missing.txt", "--kind", "dsc_peaks"], "missing.txt"),
    ],
)
def test_bad_input_exits_2_with_one_line(args, says):
    with pytest.raises(CommandError) as caught:
        call_command("analyze", *args)
    assert caught.value.returncode == 2
    assert says in str(caught.value) and "\n" not in str(caught.value)
