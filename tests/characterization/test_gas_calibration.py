"""DEMS calibration factors from a pulse of known amount (analysis.gas_calibration), worked by
hand: a triangle of height h over a base w has area h·w/2, and k = n·1e-6 / area."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from characterization.analysis.errors import AnalysisError
from characterization.analysis.gas_calibration import calibration_factors


def pulse(height=1e-9, start=300.0, peak=400.0, end=500.0, base=2e-10, slope=0.0, mz=32.0,
          noise=0.0, length=1000.0):  # fmt: skip
    t = np.arange(0.0, length + 0.5, 1.0)
    y = base + slope * t + np.interp(t, [start, peak, end], [0.0, height, 0.0], left=0, right=0)
    y = y + noise * np.random.default_rng(3).standard_normal(len(t))
    return pd.DataFrame({"time_s": t, "channel": f"M{mz:g}", "mz": mz, "signal": y, "unit": "A"})


def test_a_triangle_pulse_of_one_micromol_gives_ten_mol_per_s_per_a():
    """area = ½ · 200 s · 1e-9 A = 1e-7 A·s; k = 1e-6 mol / 1e-7 A·s = 10 mol s⁻¹ A⁻¹."""
    found = calibration_factors(pulse(), {"O2": 1.0}, {"O2": 32.0})["O2"]
    assert found["area_a_s"] == pytest.approx(1e-7, rel=1e-9)
    assert found["factor"] == pytest.approx(10.0, rel=1e-9)
    assert found["unit"] == "A" and found["channel"] == "M32" and found["injected_umol"] == 1.0


def test_a_drifting_background_is_taken_out_exactly():
    """A linear drift is on the edge line: the same 1e-7 A·s (2.5 µmol → k = 25)."""
    found = calibration_factors(pulse(slope=3e-13), {"O2": 2.5}, {"O2": 32.0})["O2"]
    assert found["factor"] == pytest.approx(25.0, rel=1e-9)


def test_noise_averages_out_within_a_percent():
    found = calibration_factors(pulse(noise=2e-12), {"O2": 1.0}, {"O2": 32.0})["O2"]
    assert found["factor"] == pytest.approx(10.0, rel=0.01)


def test_an_amount_typed_as_text_on_the_measurement_is_read():
    found = calibration_factors(pulse(), {"O2": " 2 µmol"}, {"O2": 32.0})["O2"]
    assert found["factor"] == pytest.approx(20.0, rel=1e-9)


def test_only_gases_with_a_stated_amount_are_calibrated():
    table = pd.concat([pulse(), pulse(mz=44.0, height=2e-9)], ignore_index=True)
    found = calibration_factors(table, {"CO2": 1.0}, {"O2": 32.0, "CO2": 44.0})
    assert set(found) == {"CO2"} and found["CO2"]["factor"] == pytest.approx(5.0, rel=1e-9)


@pytest.mark.parametrize(
    ("table", "injected", "words"),
    [
        (pulse(), {}, "give o2_injected_umol"),
        (pulse(), {"O2": -1}, "above 0"),
        (pulse(), {"O2": "a lot"}, "must be a number of µmol, got 'a lot'"),
        (pulse(mz=44.0), {"O2": 1.0}, "no m/z 32 channel"),
        (pulse(height=0.0, noise=1e-12), {"O2": 1.0}, "no O2 pulse stands out"),
        (pulse(peak=700.0, end=1200.0), {"O2": 1.0}, "not finished"),
        (pulse().head(10), {"O2": 1.0}, "fewer than 20 points"),
    ],
)
def test_a_calibration_it_cannot_make_is_refused_with_a_sentence(table, injected, words):
    with pytest.raises(AnalysisError) as caught:
        calibration_factors(table, injected, {"O2": 32.0})
    assert caught.value.field == "calibration_measurement" and words in caught.value.message
