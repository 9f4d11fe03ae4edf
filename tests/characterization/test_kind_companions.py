"""The kinds that read a second file or what Kiln knows of the electrode (issue 10): DEMS
aligned to the cell's cycling file, XRD shifted against a reference pattern, PITT's diffusion
length from the electrode's D50. Pure: the companions are handed in the context as the jobs
layer does. Tables are SYNTHETIC with known answers (the generators of each analysis' tests)."""

from __future__ import annotations

import pytest

from characterization.analysis import kinds_materials
from characterization.analysis.errors import AnalysisError
from characterization.analysis.registry import AnalysisContext, Companion
from tests.characterization import test_gas_evolution as gas_case
from tests.characterization import test_pitt_analysis as pitt_case
from tests.characterization import test_xrd_analysis as xrd_case

KINDS = {kind.key: kind for kind in kinds_materials.KINDS}
FACTORS = {"o2_factor": gas_case.K_O2, "co2_factor": gas_case.K_CO2}


def run(key, table, params=None, **context):
    kind = KINDS[key]
    return kind.run(table, kind.clean_parameters(params or {}), AnalysisContext(**context))


def cycling(metadata=None, label="cell.mpr (MEAS-1)"):
    return {"cycling": Companion(gas_case.cycling_table(), metadata or {}, label)}


def test_dems_reads_the_cells_cycling_file_as_its_companion():
    assert KINDS["gas_evolution"].companions == (
        ("cycling", "cycling"),
        ("calibration", "ion_current"),
    )
    assert KINDS["xrd_reflections"].companions == (("reference", "diffraction"),)


def test_dems_aligns_by_the_two_files_start_times_and_draws_the_voltage_under_the_gases():
    """MS starts 10:00:00, cycling 10:30:00: offset 1800 s; the worked 2.24 µmol O2 back."""
    output = run(
        "gas_evolution",
        gas_case.ms_table(offset_s=1800.0),
        FACTORS,
        active_mass_mg=8.0,
        file_metadata={"start_time": "2024-03-01T10:00:00"},
        companions=cycling({"start_time_local": "2024-03-01T10:30:00"}),
    )
    summary = output.summary
    assert summary["alignment_offset_s"] == 1800.0
    assert summary["gases"]["O2"]["micromol"] == pytest.approx(2.24, rel=1e-9)
    assert summary["aligned_to"] == "cell.mpr (MEAS-1)"
    names = [trace["name"] for trace in output.figures["cumulative"]["data"]]
    assert names == ["O2", "CO2", "cell voltage"]
    assert output.figures["rate"]["layout"]["yaxis2"]["overlaying"] == "y"


def test_dems_reads_neware_nanosecond_start_times():
    """Neware's 9-digit fractions: 10:30:00.950000048+00:00 − 10:00:00+00:00 = 1800.95 s."""
    output = run(
        "gas_evolution",
        gas_case.ms_table(offset_s=1800.0),
        FACTORS,
        active_mass_mg=8.0,
        file_metadata={"start_time": "2024-03-01T10:00:00+00:00"},
        companions=cycling({"start_time_utc": "2024-03-01T10:30:00.950000048+00:00"}),
    )
    assert output.summary["alignment_offset_s"] == pytest.approx(1800.95, abs=1e-6)


def test_dems_an_entered_offset_wins_over_the_start_times():
    output = run(
        "gas_evolution",
        gas_case.ms_table(offset_s=600.0),
        {**FACTORS, "time_offset_s": 600},
        active_mass_mg=8.0,
        file_metadata={"start_time": "2024-03-01T10:00:00"},
        companions=cycling({"start_time_local": "2024-03-01T10:30:00"}),
    )
    assert output.summary["alignment_offset_s"] == 600.0
    assert output.summary["gases"]["O2"]["micromol"] == pytest.approx(2.24, rel=1e-9)


@pytest.mark.parametrize(
    ("ms_meta", "cycling_meta", "field", "words"),
    [
        ({}, {"start_time_local": "2024-03-01T10:30:00"}, "time_offset_s", "no start time"),
        (
            {"start_time": "2024-03-01T10:00:00"},
            {"start_time_local": "2024-09-17T10:30:00"},
            "cycling_start",
            "200.0 days apart",
        ),
        (
            {"start_time": "2024-03-01T10:00:00"},
            {"start_time_utc": "2024-03-01T09:30:00.950000048+00:00"},
            "time_offset_s",
            "cycling file's start time has a timezone",
        ),
    ],
)
def test_dems_alignment_it_cannot_make_fails_with_a_sentence(ms_meta, cycling_meta, field, words):
    with pytest.raises(AnalysisError) as caught:
        run(
            "gas_evolution",
            gas_case.ms_table(),
            FACTORS,
            active_mass_mg=8.0,
            file_metadata=ms_meta,
            companions=cycling(cycling_meta),
        )
    assert caught.value.field == field and words in caught.value.message


def test_dems_without_a_cycling_file_stays_on_the_ms_clock():
    output = run("gas_evolution", gas_case.ms_table(), FACTORS, active_mass_mg=8.0)
    assert output.summary["aligned_to"] is None
    assert [t["name"] for t in output.figures["cumulative"]["data"]] == ["O2", "CO2"]


def test_xrd_shift_against_the_reference_pattern():
    """c 14.2535 → 14.30 Å moves (003) by 2θ(c=14.30) − 2θ(c=14.2535), hand geometry."""
    reference = Companion(xrd_case.synthetic_pattern(), {}, "ref.xy (XRD-1)")
    expanded = xrd_case.synthetic_pattern(c=14.30, seed=3)
    output = run(
        "xrd_reflections",
        expanded,
        {"reference_sample": "PWD-2026-0001"},
        active_mass_mg=None,
        companions={"reference": reference},
    )
    expected = xrd_case._two_theta((0, 0, 3), xrd_case.A, 14.30) - xrd_case._two_theta(
        (0, 0, 3), xrd_case.A, xrd_case.C
    )
    shifts = {s["hkl"]: s for s in output.summary["shifts"]}
    assert shifts["003"]["delta_two_theta_deg"] == pytest.approx(expected, abs=0.004)
    assert expected < -0.05  # a longer c moves (003) to lower angle
    assert output.summary["reference"] == "ref.xy (XRD-1)"
    assert list(output.tables["xrd_shifts"].columns)[:2] == ["hkl", "status"]
    alone = run("xrd_reflections", expanded, active_mass_mg=None)
    assert "shifts" not in alone.summary and "xrd_shifts" not in alone.tables


def test_pitt_takes_half_the_electrodes_d50_as_the_diffusion_length():
    d, length = 1e-11, 5.0
    t = pitt_case.np.arange(0.0, 5 / pitt_case._k(d, length), 1.0)
    table = pitt_case.one_step(t, pitt_case.series_current(t, d, length))
    output = run("pitt_diffusion", table, active_mass_mg=None, particle_d50_um=10.0)
    assert output.summary["diffusion_length_um"] == 5.0
    assert output.summary["diffusion_length_source"] == "half the electrode's D50 (10 µm)"
    assert output.summary["steps"][0]["d_cm2_per_s"] == pytest.approx(d, rel=0.01)
    given = run("pitt_diffusion", table, {"diffusion_length_um": 2.5}, active_mass_mg=None,
                particle_d50_um=10.0)  # fmt: skip
    assert given.summary["diffusion_length_source"] == "parameter"
    assert given.summary["steps"][0]["d_cm2_per_s"] == pytest.approx(d / 4, rel=0.01)
    with pytest.raises(AnalysisError) as caught:
        run("pitt_diffusion", table, active_mass_mg=None)
    assert caught.value.field == "diffusion_length_um" and "D50" in caught.value.message


def test_dsc_takes_the_measurements_sample_mass_before_the_files():
    """The mass typed on the measurement wins over the file's, the parameter over both:
    22.088 mW × 30 s × √(2π) / 5.00 mg = 332.19 J/g, and half that on 10 mg."""
    from tests.characterization import test_dsc_analysis as dsc_case

    on_measurement = run(
        "dsc_peaks",
        dsc_case.scan(),
        active_mass_mg=None,
        sample_mass_mg=5.0,
        file_metadata={"sample_mass_mg": 10.0},
    )
    (peak,) = on_measurement.summary["peaks"]
    assert peak["enthalpy_j_per_g"] == pytest.approx(dsc_case.EXPECTED_J_PER_G, abs=0.5)
    assert on_measurement.summary["sample_mass_source"] == "measurement"
    given = run("dsc_peaks", dsc_case.scan(), {"sample_mass_mg": 10}, active_mass_mg=None,
                sample_mass_mg=5.0)  # fmt: skip
    assert given.summary["sample_mass_source"] == "parameter"
    assert given.summary["peaks"][0]["enthalpy_j_per_g"] == pytest.approx(
        dsc_case.EXPECTED_J_PER_G / 2, abs=0.3
    )
    with pytest.raises(AnalysisError) as caught:
        run("dsc_peaks", dsc_case.scan(), active_mass_mg=None)
    assert "enter it on the measurement" in caught.value.message


def calibration_pulse(conditions):
    """Pulses of area 1e-7 A·s at m/z 32 and 44 (test_gas_calibration's triangle)."""
    import pandas as pd

    from tests.characterization.test_gas_calibration import pulse

    table = pd.concat([pulse(), pulse(mz=44.0)], ignore_index=True)
    return {
        "calibration": Companion(table, {"measurement_conditions": conditions}, "cal.asc (M-9)")
    }


def test_dems_takes_factors_from_a_calibration_pulse_for_gases_without_one():
    """0.05 µmol O2 over 1e-7 A·s → k = 0.5 (the worked K_O2): 2.24 µmol back; 0.2 µmol CO2 →
    k = 2.0 (K_CO2): 0.923 µmol back."""
    pulse = calibration_pulse({"o2_injected_umol": 0.05, "co2_injected_umol": "0.2"})
    output = run("gas_evolution", gas_case.ms_table(), active_mass_mg=8.0, companions=pulse)
    gases, calibration = output.summary["gases"], output.summary["calibration"]
    assert gases["O2"]["micromol"] == pytest.approx(2.24, rel=1e-9)
    assert gases["CO2"]["micromol"] == pytest.approx(0.923, rel=1e-9)
    assert calibration["O2"]["factor"] == pytest.approx(0.5, rel=1e-9)
    assert calibration["O2"]["source"].startswith("pulse of 0.05 µmol in cal.asc (M-9)")
    entered = run(
        "gas_evolution", gas_case.ms_table(), {"o2_factor": 1.0}, active_mass_mg=8.0,
        companions=pulse,
    )  # fmt: skip
    assert entered.summary["calibration"]["O2"]["source"] == "entered"
    assert entered.summary["gases"]["O2"]["micromol"] == pytest.approx(4.48, rel=1e-9)
    assert entered.summary["calibration"]["CO2"]["source"].startswith("pulse of 0.2 µmol")


def test_dems_a_calibration_pulse_without_amounts_fails_naming_the_conditions():
    with pytest.raises(AnalysisError) as caught:
        run("gas_evolution", gas_case.ms_table(), active_mass_mg=8.0,
            companions=calibration_pulse({}))  # fmt: skip
    assert caught.value.field == "calibration_measurement"
    assert "o2_injected_umol, co2_injected_umol" in caught.value.message
