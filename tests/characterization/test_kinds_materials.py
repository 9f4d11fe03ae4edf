"""The issue-10 analysis kinds as the jobs layer runs them: parameters cleaned by the kind,
defaults taken from the reader's metadata, the pure analysis' numbers in the summary, figures
that plotly can draw (JSON), warnings in the stored shape. Tables here are SYNTHETIC (the
generators of each analysis' own tests); the real files are read in the readers' tests."""

from __future__ import annotations

import json
import math

import pytest

from characterization.analysis import kinds_cycling_extra, kinds_materials
from characterization.analysis.errors import AnalysisError
from characterization.analysis.registry import AnalysisContext
from tests.characterization import test_dsc_analysis as dsc_case
from tests.characterization import test_gas_evolution as gas_case
from tests.characterization import test_hysteresis as hysteresis_case
from tests.characterization import test_pitt_analysis as pitt_case
from tests.characterization import test_xrd_analysis as xrd_case

KINDS = {kind.key: kind for kind in (*kinds_materials.KINDS, *kinds_cycling_extra.KINDS)}


def run(key: str, table, params=None, *, mass=None, metadata=None):
    kind = KINDS[key]
    context = AnalysisContext(active_mass_mg=mass, file_metadata=metadata or {})
    output = kind.run(table, kind.clean_parameters(params or {}), context)
    json.dumps({"summary": output.summary, "figures": output.figures, "w": output.warnings})
    for warning in output.warnings:
        assert {"code", "message", "cycles", "severity"} <= set(warning)
    return output


def test_each_kind_names_its_table_kind_and_measurement_types():
    assert {k: (v.table_kind, v.measurement_types) for k, v in KINDS.items()} == {
        "dsc_peaks": ("thermal", ("dsc",)),
        "xrd_reflections": ("diffraction", ("xrd", "in_situ_xrd")),
        "pitt_diffusion": ("potential_steps", ("pitt",)),
        "gas_evolution": ("ion_current", ("dems",)),
        "eis_fit": ("impedance", ("eis",)),
        "voltage_hysteresis": ("cycling", ()),
        "first_charge_plateau": ("cycling", ()),
    }


def test_dsc_takes_the_sample_mass_from_the_file_and_gives_the_worked_enthalpy():
    """22.088 mW × 30 s × √(2π) / 5.00 mg = 332.19 J/g (±0.5 J/g)."""
    output = run("dsc_peaks", dsc_case.scan(), metadata={"sample_mass_mg": 5.00})
    (peak,) = output.summary["peaks"]
    assert peak["kind"] == "exo"
    assert peak["enthalpy_j_per_g"] == pytest.approx(dsc_case.EXPECTED_J_PER_G, abs=0.5)
    assert peak["peak_temperature_c"] == pytest.approx(299.0, abs=0.1)
    assert output.summary["sample_mass_mg"] == 5.00
    names = [trace["name"] for trace in output.figures["dsc"]["data"]]
    assert names[:2] == ["heat flow (exo up)", "baseline"]
    # the parameter wins over the file: twice the mass, half the J/g
    doubled = run(
        "dsc_peaks", dsc_case.scan(), {"sample_mass_mg": 10}, metadata={"sample_mass_mg": 5}
    )
    assert doubled.summary["peaks"][0]["enthalpy_j_per_g"] == pytest.approx(
        dsc_case.EXPECTED_J_PER_G / 2, abs=0.3
    )


def test_dsc_without_any_sample_mass_fails_naming_it():
    with pytest.raises(AnalysisError) as caught:
        run("dsc_peaks", dsc_case.scan())
    assert caught.value.field == "sample_mass_mg"


def test_dsc_baseline_needs_both_limits():
    with pytest.raises(AnalysisError) as caught:
        run("dsc_peaks", dsc_case.scan(), {"sample_mass_mg": 5, "baseline_low_c": 160})
    assert caught.value.field == "parameters.baseline_high_c"


def test_xrd_recovers_the_worked_lattice_and_draws_each_fit():
    """a = 2.8589 Å, c = 14.2535 Å drawn (Kα2 included, Poisson noise): within 5e-4 / 3e-3 Å."""
    output = run("xrd_reflections", xrd_case.synthetic_pattern())
    lattice = output.summary["lattice"]
    assert lattice["a_angstrom"] == pytest.approx(2.8589, abs=5e-4)
    assert lattice["c_angstrom"] == pytest.approx(14.2535, abs=3e-3)
    peaks = {p["hkl"]: p for p in output.summary["peaks"]}
    assert peaks["003"]["two_theta_deg"] == pytest.approx(18.6605, abs=0.005)
    assert peaks["104"]["two_theta_deg"] == pytest.approx(44.5237, abs=0.005)
    fits = [t["name"] for t in output.figures["pattern"]["data"] if t["name"].startswith("fit")]
    assert len(fits) >= 4
    assert "series" not in output.figures  # one scan: no contour


def test_pitt_takes_the_diffusion_length_from_the_metadata_or_fails_asking_for_it():
    d, length = 1e-11, 5.0
    t = pitt_case.np.arange(0.0, 5 / pitt_case._k(d, length), 1.0)
    table = pitt_case.one_step(t, pitt_case.series_current(t, d, length))
    with pytest.raises(AnalysisError) as caught:
        run("pitt_diffusion", table)
    assert caught.value.field == "diffusion_length_um"
    output = run("pitt_diffusion", table, metadata={"diffusion_length_um": length})
    (step,) = output.summary["steps"]
    assert step["d_cm2_per_s"] == pytest.approx(d, rel=0.01)
    assert output.summary["diffusion_length_um"] == length
    assert output.figures["diffusion"]["layout"]["yaxis"]["type"] == "log"


def test_gas_evolution_gives_the_worked_micromol_per_mg_and_fails_without_calibration():
    """0.28 µmol/mg × 8.0 mg = 2.24 µmol; 0.13 µmol/mg × 7.1 mg = 0.923 µmol (1e-6 relative)."""
    factors = {"o2_factor": gas_case.K_O2, "co2_factor": gas_case.K_CO2}
    o2 = run("gas_evolution", gas_case.ms_table(), factors, mass=8.0).summary["gases"]["O2"]
    assert o2["micromol"] == pytest.approx(2.24, rel=1e-6)
    assert o2["micromol_per_mg"] == pytest.approx(0.28, rel=1e-6)
    co2 = run("gas_evolution", gas_case.ms_table(), factors, mass=7.1).summary["gases"]["CO2"]
    assert co2["micromol"] == pytest.approx(0.923, rel=1e-6)
    assert co2["micromol_per_mg"] == pytest.approx(0.13, rel=1e-6)
    with pytest.raises(AnalysisError) as caught:
        run("gas_evolution", gas_case.ms_table(), {"o2_factor": 0.5}, mass=8.0)
    assert caught.value.field == "calibration" and "CO2" in caught.value.message
    only_o2 = run("gas_evolution", gas_case.ms_table(), {"o2_factor": 0.5, "co2_mz": 0}, mass=8.0)
    assert set(only_o2.summary["gases"]) == {"O2"}


def test_hysteresis_kind_gives_the_worked_cycle():
    """Charge at 4.0 V, discharge at 3.7 V, 100 mAh/g each: ΔV 0.3 V, EE 0.925."""
    table = hysteresis_case._flat_cycles([(4.0, 3.7), (4.0, 3.7)])
    (first, second) = run("voltage_hysteresis", table).summary["hysteresis"]
    assert first["hysteresis_v"] == pytest.approx(0.3, abs=1e-9)
    assert second["energy_efficiency"] == pytest.approx(0.925, abs=1e-9)


def test_plateau_kind_needs_the_active_mass():
    table = hysteresis_case._flat_cycles([(4.5, 3.7)])
    with pytest.raises(AnalysisError) as caught:
        run("first_charge_plateau", table)
    assert caught.value.field == "active_mass_mg"
    summary = run("first_charge_plateau", table, mass=4.0).summary["plateau"]
    assert summary["capacity_above_threshold_mah_g"] == pytest.approx(100.0, rel=1e-6)
    assert not math.isnan(summary["threshold_v"])


@pytest.mark.testdata("cyclers")
def test_eis_kind_on_the_worked_file_gives_r_s_and_the_fit():
    """eis_impedancepy_biologic.mpt: R_s ≈ 64.45 Ω; R0 ≈ 63.7 Ω, R1 ≈ 47.9 Ω (±0.5 Ω)."""
    from characterization.parsers.reader import read_eis_file
    from tests.testdata import testdata_path

    parsed = read_eis_file(testdata_path("cyclers") / "eis_impedancepy_biologic.mpt")
    output = run("eis_fit", parsed.table, metadata=parsed.metadata)
    summary = output.summary
    assert summary["r_s_ohm"] == pytest.approx(64.45, abs=0.05)
    assert summary["parameters"]["R0"]["value"] == pytest.approx(63.7, abs=0.5)
    assert summary["r_ct_ohm"] == pytest.approx(47.9, abs=0.5)
    assert output.figures["nyquist"]["layout"]["yaxis"]["scaleanchor"] == "x"


def test_eis_kind_refuses_a_circuit_it_cannot_parse_naming_the_field():
    kind = KINDS["eis_fit"]
    with pytest.raises(AnalysisError) as caught:
        kind.clean_parameters({"weighting": "loud"})
    assert caught.value.field == "parameters.weighting"
