"""PITT analysis: hand-worked slope -> D, synthetic currents from the series solution with a
known D (built here; all synthetic), the window rule against sampling density, noise, a fast
extra decay and a Cottrell-like current, refused steps, warnings, input validation, and the
real shared files."""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import pandas as pd
import pytest

from characterization.analysis.errors import AnalysisError
from characterization.analysis.pitt import (
    VERSION,
    WINDOW_RULE,
    analyse_pitt,
    default_diffusion_length_um,
)
from characterization.analysis.pitt_fit import NOT_REACHED, even_in_time, weighted_line
from characterization.parsers.potential_steps import read_potential_step_file
from tests.testdata import testdata_dir


def _k(d_cm2_s: float, length_um: float) -> float:
    """Decay rate of the long-time term, π²D/(4L²), L in cm."""
    return math.pi**2 * d_cm2_s / (4 * (length_um * 1e-4) ** 2)


def series_current(t, d_cm2_s, length_um, amplitude_a=1e-6, terms=400):
    """I(t) = amplitude · Σ_{n<terms} exp(−(2n+1)²π²Dt/(4L²)) (Wen et al. 1979)."""
    odd = (2 * np.arange(terms) + 1)[:, None] ** 2
    return amplitude_a * np.exp(-odd * _k(d_cm2_s, length_um) * np.asarray(t)[None, :]).sum(0)


def step_table(currents, potentials, *, dt=None, set_potential=True):
    """A potential-step table from per-step current arrays (records every dt seconds)."""
    frames, t0 = [], 0.0
    for index, (current, potential) in enumerate(zip(currents, potentials, strict=True)):
        step_dt = dt if dt is not None else 1.0
        t = t0 + step_dt * np.arange(len(current))
        frames.append(
            pd.DataFrame(
                {
                    "time_s": t,
                    "potential_v": potential,
                    "current_a": current,
                    "step": index,
                    "set_potential_v": potential if set_potential else np.nan,
                }
            )
        )
        t0 = t[-1] + step_dt
    return pd.concat(frames, ignore_index=True)


def one_step(t, current, potential=4.0):
    return pd.DataFrame({"time_s": t, "potential_v": potential, "current_a": current, "step": 0})


# ---------------------------------------------------------------- worked checks


def test_hand_worked_slope_gives_d():
    """I = 1 µA · exp(−t / 1000 s): slope −1e-3 s⁻¹; L = 10 µm = 1e-3 cm;
    D = −slope · 4L²/π² = 1e-3 · 4 · 1e-6 / 9.8696044 = 4.0528473e-10 cm² s⁻¹."""
    t = np.linspace(0, 10000, 1001)
    for mode in ("fit", "zero"):
        result = analyse_pitt(one_step(t, 1e-6 * np.exp(-t / 1000)), 10.0, residual_current=mode)
        (step,) = result.steps
        assert step.slope_per_s == pytest.approx(-1e-3, rel=1e-6)
        assert step.d_cm2_per_s == pytest.approx(4.0528473e-10, rel=1e-6)
        assert step.r_squared == pytest.approx(1.0, abs=1e-9)


def test_window_starts_at_the_long_time_onset_and_ends_where_the_decay_meets_the_noise():
    """Same decay (k = 1e-3 s⁻¹): the window starts at 1/k = 1000 s; without noise it runs
    to the end of the step; with a residual current of 5 nA it is fitted and subtracted."""
    t = np.linspace(0, 10000, 1001)
    result = analyse_pitt(one_step(t, 1e-6 * np.exp(-t / 1000) + 5e-9), 10.0)
    (step,) = result.steps
    assert step.fit_window_s[0] == pytest.approx(1000, abs=10)
    assert step.fit_window_s[1] == pytest.approx(10000)
    assert step.residual_current_a == pytest.approx(5e-9, rel=1e-4)
    assert step.d_cm2_per_s == pytest.approx(4.0528473e-10, rel=1e-4)


PAIRS = [(1e-11, 5.0), (3e-13, 0.5), (2e-9, 20.0)]  # (D cm² s⁻¹, L µm): 1/k 10132, 3377, 811 s


def sampled(d_cm2_s, length_um, sampling, span_k=5.0):
    """(t, I) of the series solution over span_k/k: `sampling` records spread evenly with the
    first mid-interval (as test files are built), or "1 s" for a record every second from
    t = 0, as a potentiostat writes them (the t = 0 record is the truncated sum, a spike)."""
    k = _k(d_cm2_s, length_um)
    if sampling == "1 s":
        t = np.arange(0.0, span_k / k, 1.0)
        return t, series_current(t, d_cm2_s, length_um)
    t = np.linspace(0, span_k / k, sampling)
    return t, series_current(t + t[1] / 2, d_cm2_s, length_um)


@pytest.mark.parametrize("sampling", [600, 5000, 50000, "1 s"])
@pytest.mark.parametrize(("d_cm2_s", "length_um"), PAIRS)
def test_series_solution_recovers_d_within_one_percent_at_any_sampling_density(
    d_cm2_s, length_um, sampling
):
    """The same current over a step of 5/k sampled at 600, 5000 or 50000 records, or every
    1 s from t = 0: D within 1 % of the D it was built with (no noise), and the window starts
    at the long-time onset 1/k = 4L²/(π²D) (for 1e-11 cm² s⁻¹ and 5 µm: 4·(5e-4 cm)²/
    (π²·1e-11) = 10132 s) within 3 %, whatever the density. (Version 1 gave 4.5x and 25x
    too high a D at 5000 records and at 1 s: its window sat in the short-time regime.)"""
    t, current = sampled(d_cm2_s, length_um, sampling)
    (step,) = analyse_pitt(one_step(t, current), length_um).steps
    assert step.d_cm2_per_s == pytest.approx(d_cm2_s, rel=0.01)
    assert step.fit_window_s[0] == pytest.approx(1 / _k(d_cm2_s, length_um), rel=0.03)
    assert step.residual_current_basis == "fitted" and step.linear_in_window


@pytest.mark.parametrize(("d_cm2_s", "length_um"), PAIRS)
def test_noise_and_residual_current_at_one_second_sampling_recover_d_within_three_percent(
    d_cm2_s, length_um
):
    """Records every 1 s from t = 0 over 5/k: series solution + a residual current of 2 % of
    the amplitude (20 nA) + Gaussian noise of 0.1 % of it (1 nA, seeded): D within 3 %, I∞
    within 10 %, σ (the rms residual of the late part) within 10 % of the 1 nA put in, and
    no warning."""
    t, current = sampled(d_cm2_s, length_um, "1 s")
    noise = 1e-9 * np.random.default_rng(7).standard_normal(len(t))
    result = analyse_pitt(one_step(t, current + 2e-8 + noise), length_um)
    (step,) = result.steps
    assert step.d_cm2_per_s == pytest.approx(d_cm2_s, rel=0.03)
    assert step.residual_current_a == pytest.approx(2e-8, rel=0.1)
    assert step.noise_a == pytest.approx(1e-9, rel=0.1)
    assert result.warnings == ()


def test_records_taken_on_a_current_change_recover_d_within_one_percent():
    """Records at log-spaced times (0.01 s to 5/k, 3000 of them: ten times denser per decade
    early than late, as an instrument recording on a current change writes them)."""
    d, length = 1e-11, 5.0
    t = np.concatenate([[0.0], np.geomspace(0.01, 5 / _k(d, length), 3000)])
    (step,) = analyse_pitt(one_step(t, series_current(t, d, length)), length).steps
    assert step.d_cm2_per_s == pytest.approx(d, rel=0.01)


def test_a_fast_extra_decay_does_not_capture_the_window():
    """Series solution + a fast decay 3 µA·exp(−t/50 s) (double layer, surface film), 1 s
    records: the early fits see the fast decay, the late part does not, and the window still
    starts at 1/k = 10132 s: D within 1 %."""
    d, length = 1e-11, 5.0
    t, current = sampled(d, length, "1 s")
    table = one_step(t, current + 3e-6 * np.exp(-t / 50.0))
    (step,) = analyse_pitt(table, length).steps
    assert step.d_cm2_per_s == pytest.approx(d, rel=0.01)
    assert step.fit_window_s[0] == pytest.approx(10132, rel=0.03)


def test_long_noisy_step_ends_the_window_where_the_decay_meets_five_sigma():
    """A step of 20/k (2.0e5 s, 20000 records), noise of 1 % of the amplitude (σ = 10 nA):
    the decaying part 1 µA·exp(−kt) falls to 5σ = 50 nA at t = ln(1e-6/5e-8)/k = 3.0/k =
    30353 s, where the window ends (within 3 %: σ and A are fitted); D within 3 %."""
    d, length = 1e-11, 5.0
    t, current = sampled(d, length, 20000, span_k=20.0)
    noise = 1e-8 * np.random.default_rng(11).standard_normal(len(t))
    (step,) = analyse_pitt(one_step(t, current + noise), length).steps
    assert step.fit_window_s[1] == pytest.approx(math.log(20) / _k(d, length), rel=0.03)
    assert step.noise_a == pytest.approx(1e-8, rel=0.05)
    assert step.d_cm2_per_s == pytest.approx(d, rel=0.03)
    assert "ends where the decaying part falls to 5σ" in step.window_basis


def test_a_cottrell_like_current_is_not_taken_for_the_long_time_regime():
    """I = 1 µA·(1 s/(t + 1 s))^½ for 50660 s, 1 s records (the short-time regime throughout):
    the apparent decay time grows with the start of the fit and never settles below half the
    step, so the step is flagged, fitted over its second half with I∞ = 0, and the slopes of
    its two halves differ (here by about a third)."""
    t = np.arange(0.0, 50660.0, 1.0)
    result = analyse_pitt(one_step(t, 1e-6 / np.sqrt(t + 1.0)), 5.0)
    (step,) = result.steps
    assert step.residual_current_basis == NOT_REACHED
    assert step.fit_window_s[0] == pytest.approx(25330, abs=1)
    assert not step.linear_in_window
    assert "long_time_regime_not_reached" in {w["code"] for w in result.warnings}


def test_residual_current_taken_as_zero_is_flagged_when_ln_i_bends():
    """residual_current="zero" on a current with a residual of +20 nA (never crossing zero):
    ln I bends up at the end (the slopes of the window's halves differ by more than 15 %),
    so the step is flagged residual_current_not_zero; fitting I∞ gives D within 1 %."""
    d, length = 1e-11, 5.0
    t, current = sampled(d, length, "1 s")
    zero = analyse_pitt(one_step(t, current + 2e-8), length, residual_current="zero")
    assert not zero.steps[0].linear_in_window
    assert "residual_current_not_zero" in {w["code"] for w in zero.warnings}
    (fitted,) = analyse_pitt(one_step(t, current + 2e-8), length).steps
    assert fitted.d_cm2_per_s == pytest.approx(d, rel=0.01)


def test_the_result_states_the_window_rule_and_each_step_its_window_basis():
    d, length = 1e-11, 5.0
    t, current = sampled(d, length, 600)
    result = analyse_pitt(one_step(t, current), length)
    assert result.window_rule == WINDOW_RULE and "5σ" in WINDOW_RULE
    basis = result.details()[0]["window_basis"]
    assert (
        basis
        == "starts at the long-time onset 1.01e+04 s (1/k = 1.01e+04 s); ends at the step's end"
    )
    assert result.details()[0]["half_slopes_per_s"][0] == pytest.approx(-9.87e-5, rel=1e-3)


def test_even_in_time_picks_one_record_per_time_interval():
    """Ten records in the first 0.9 s then one every 10 s to 100 s; 11 points evenly in time
    (0, 10, ..., 100 s) pick the first record and the ten sparse ones, not the dense burst."""
    x = np.concatenate([np.arange(10) * 0.1, np.arange(1, 11) * 10.0])
    assert even_in_time(x, 11).tolist() == [0, *range(10, 20)]
    assert even_in_time(x, 100).tolist() == list(range(20))  # fewer records than points


def test_weighted_line_hand_worked():
    """x = 0, 1, 2; y = 0, 1, 1; w = 1, 1, 2: x̄ = 1.25, ȳ = 0.75, Sxx = 2.75, Sxy = 1.25,
    slope 5/11, intercept 2/11, weighted residuals² 2/11, spread 0.75: R² = 25/33, standard
    error √((2/11)/1/2.75) = 0.257130."""
    line = weighted_line(np.array([0.0, 1, 2]), np.array([0.0, 1, 1]), np.array([1.0, 1, 2]))
    assert line.slope == pytest.approx(5 / 11, rel=1e-12)
    assert line.intercept == pytest.approx(2 / 11, rel=1e-12)
    assert line.r_squared == pytest.approx(25 / 33, rel=1e-12)
    assert line.slope_se == pytest.approx(0.257130, rel=1e-5)
    flat = weighted_line(np.ones(4), np.arange(4.0), np.ones(4))  # no spread in x
    assert (flat.slope, flat.r_squared, flat.slope_se) == (0.0, 0.0, math.inf)


def test_series_solution_with_noise_and_residual_current_recovers_d_within_three_percent():
    """Series solution (D = 1e-11 cm² s⁻¹, L = 5 µm, step 5/k) + 2 % of the amplitude as a
    residual current + Gaussian noise of 0.1 % of the amplitude (seeded): D within 3 %."""
    d, length = 1e-11, 5.0
    t = np.linspace(0, 5 / _k(d, length), 600)
    noise = 1e-9 * np.random.default_rng(7).standard_normal(len(t))
    current = series_current(t + t[1] / 2, d, length) + 2e-8 + noise
    result = analyse_pitt(one_step(t, current), length)
    (step,) = result.steps
    assert step.d_cm2_per_s == pytest.approx(d, rel=0.03)
    assert step.residual_current_a == pytest.approx(2e-8, rel=0.1)
    assert result.warnings == ()


def test_diffusion_length_scales_d_with_its_square():
    t = np.linspace(0, 10000, 1001)
    table = one_step(t, 1e-6 * np.exp(-t / 1000))
    short, long = analyse_pitt(table, 1.0).steps[0], analyse_pitt(table, 10.0).steps[0]
    assert long.d_cm2_per_s / short.d_cm2_per_s == pytest.approx(100.0, rel=1e-9)


# ---------------------------------------------------------------- several steps, direction


def _pitt_table():
    """Four steps, 3.90 -> 3.95 -> 4.00 -> 3.95 V then 3.90 V: charge, charge, discharge,
    discharge (first step from the sign of its current)."""
    d, length = 1e-11, 5.0
    t = np.linspace(0, 5 / _k(d, length), 300)
    up = series_current(t + t[1] / 2, d, length)
    return step_table([up, up, -up, -up], [3.95, 4.00, 3.95, 3.90], dt=t[1])


def test_each_step_gets_direction_potential_and_d():
    result = analyse_pitt(_pitt_table(), 5.0)
    summary = result.as_summary()
    assert set(summary) == {"steps", "refused_steps"}
    assert [s["direction"] for s in summary["steps"]] == [
        "charge",
        "charge",
        "discharge",
        "discharge",
    ]
    assert [s["potential_v"] for s in summary["steps"]] == [3.95, 4.00, 3.95, 3.90]
    for row in summary["steps"]:
        assert set(row) == {
            "index",
            "potential_v",
            "direction",
            "d_cm2_per_s",
            "r_squared",
            "fit_window_s",
        }
        assert row["d_cm2_per_s"] == pytest.approx(1e-11, rel=0.01)
    assert result.details()[0]["direction_basis"].startswith("sign of the charge passed")
    assert result.details()[1]["direction_basis"] == "potential stepped up from 3.9500 V"


def test_figures_give_d_against_potential_per_direction_and_the_decays():
    result = analyse_pitt(_pitt_table(), 5.0)
    curves = result.figures["d_vs_potential"]
    assert curves["charge"]["potential_v"] == [3.95, 4.00]
    assert curves["discharge"]["step"] == [2, 3]
    decay = result.figures["decays"][0]
    assert len(decay["time_s"]) == len(decay["ln_abs_current_minus_residual"]) == 300
    assert decay["fit_window_s"] == list(result.steps[0].fit_window_s)


def test_potential_from_the_measured_potential_without_a_set_potential():
    table = _pitt_table().drop(columns="set_potential_v")
    table["potential_v"] += 0.0003  # the measured potential sits 0.3 mV off
    result = analyse_pitt(table, 5.0)
    assert result.as_summary()["steps"][1]["potential_v"] == pytest.approx(4.0003)


def test_direction_against_the_current_is_noted():
    d, length = 1e-11, 5.0
    t = np.linspace(0, 5 / _k(d, length), 300)
    up = series_current(t + t[1] / 2, d, length)
    result = analyse_pitt(step_table([up, -up], [3.9, 4.0], dt=t[1]), length)
    codes = {w["code"]: w for w in result.warnings}
    assert codes["direction_against_current"]["steps"] == [1]
    assert codes["direction_against_current"]["severity"] == "note"


# ---------------------------------------------------------------- refused steps


def test_refused_steps_are_listed_with_their_reason():
    """Step 0: 8 records; step 1: the current crosses zero inside the window; step 2: a
    current that grows; step 3: a good step."""
    t = np.linspace(0, 10000, 500)
    good = 1e-6 * np.exp(-t / 1000)
    crossing = 1e-6 * np.exp(-t / 1000) - 5e-8  # ends below zero
    growing = 1e-9 * (1 + t / 1000)
    table = step_table([good[:8], crossing, growing, good], [3.90, 3.95, 4.00, 4.05], dt=t[1])
    result = analyse_pitt(table, 5.0)
    refused = {r["index"]: r["reason"] for r in result.as_summary()["refused_steps"]}
    assert refused[0] == "fewer than 10 records in the step (8)"
    assert refused[1].startswith("the current changes sign within the fit window")
    assert refused[2] == "the current does not decay after the step"
    assert [s.index for s in result.steps] == [3]
    warning = next(w for w in result.warnings if w["code"] == "steps_refused")
    assert warning["steps"] == [0, 1, 2]


def test_records_sharing_time_stamps_are_analysed_and_degenerate_ones_refused():
    """A logger with 1 s time resolution writing 4 records a second: the hand-worked decay
    exp(−t/1000 s) still gives D = 4.0528473e-10 cm² s⁻¹ (L = 10 µm) to 1e-6; 12 records at
    only two times are refused with a reason, not an exception."""
    t = np.repeat(np.arange(10001.0), 4)
    (step,) = analyse_pitt(one_step(t, 1e-6 * np.exp(-t / 1000)), 10.0).steps
    assert step.d_cm2_per_s == pytest.approx(4.0528473e-10, rel=1e-6)
    two_times = np.repeat([0.0, 1.0], 6)
    result = analyse_pitt(one_step(two_times, np.repeat([1e-6, 5e-7], 6)), 10.0)
    assert result.steps == () and len(result.refused_steps) == 1


def test_flat_current_and_pure_noise_are_refused():
    t = np.arange(50.0)
    flat = analyse_pitt(one_step(t, np.full(50, 1e-9)), 5.0)
    assert flat.refused_steps[0].reason.startswith("the current does not decay in the fit window")
    noise = 1e-9 * np.random.default_rng(3).standard_normal(50)
    noisy = analyse_pitt(one_step(t, noise), 5.0)
    assert "within 5σ of the noise" in noisy.refused_steps[0].reason


def test_residual_current_taken_as_zero_is_flagged_when_the_current_crosses_zero_later():
    """With residual_current="zero", a decay towards −50 nA is fitted before the crossing
    (the misfit ends the window as noise) and flagged."""
    t = np.linspace(0, 10000, 500)
    table = one_step(t, 1e-6 * np.exp(-t / 1000) - 5e-8)
    result = analyse_pitt(table, 5.0, residual_current="zero")
    assert result.steps[0].sign_change_after_window
    assert "residual_current_not_zero" in {w["code"] for w in result.warnings}


def test_sign_change_in_the_window_refuses_the_step():
    """I∞ fitted at −50 nA: I − I∞ stays positive while the current itself crosses zero."""
    t = np.linspace(0, 10000, 500)
    result = analyse_pitt(one_step(t, 1e-6 * np.exp(-t / 1000) - 5e-8), 5.0)
    (refused,) = result.refused_steps
    assert refused.reason.startswith("the current changes sign within the fit window")
    assert {w["code"] for w in result.warnings} == {"steps_refused", "no_step_analysed"}


# ---------------------------------------------------------------- plausibility warnings


@pytest.mark.parametrize("sampling", [600, "1 s"])
def test_short_step_is_flagged_and_fitted_over_its_second_half(sampling):
    """Series solution over 0.7/k only (600 records, or every 1 s: 7092 records): the
    long-time regime is not reached (the onset 1/k lies beyond half the step); the fit takes
    the second half with I∞ = 0 and says so (D comes out ~15 % high here)."""
    t, current = sampled(1e-11, 5.0, sampling, span_k=0.7)
    result = analyse_pitt(one_step(t, current), 5.0)
    (step,) = result.steps
    assert step.fit_window_s[0] == pytest.approx(t[-1] / 2, rel=0.01)
    assert step.residual_current_basis == NOT_REACHED
    assert "lies beyond half the step" in step.window_basis
    assert step.d_cm2_per_s == pytest.approx(1.15e-11, rel=0.02)
    codes = {w["code"] for w in result.warnings}
    assert {"long_time_regime_not_reached", "step_shorter_than_diffusion_time"} <= codes


def test_implausible_d_and_poor_fit_are_flagged():
    t = np.linspace(0, 10000, 1001)
    fast = analyse_pitt(one_step(t, 1e-6 * np.exp(-t / 1000)), 1000.0)
    assert fast.steps[0].d_cm2_per_s == pytest.approx(4.0528473e-6, rel=1e-6)
    assert "d_out_of_range" in {w["code"] for w in fast.warnings}
    noisy = 1e-6 * np.exp(-t / 1000) + 2e-8 * np.random.default_rng(1).standard_normal(len(t))
    result = analyse_pitt(one_step(t, np.abs(noisy)), 10.0, min_r_squared=0.999)
    assert "low_r_squared" in {w["code"] for w in result.warnings}


# ---------------------------------------------------------------- inputs


@pytest.mark.parametrize(
    ("kwargs", "field", "message"),
    [
        ({"diffusion_length_um": 0.0}, "diffusion_length_um", "between 0.01 and 1000 µm"),
        ({"diffusion_length_um": 2000}, "diffusion_length_um", "between 0.01 and 1000 µm"),
        ({"diffusion_length_um": float("nan")}, "diffusion_length_um", "finite"),
        ({"diffusion_length_um": "5"}, "diffusion_length_um", "must be a number"),
        ({"residual_current": "tail"}, "residual_current", "'fit' or 'zero'"),
        ({"min_r_squared": 1.5}, "min_r_squared", "between 0 and 1"),
    ],
)
def test_bad_parameters_raise_analysis_error_naming_the_field(kwargs, field, message):
    t = np.linspace(0, 10000, 101)
    arguments = {"diffusion_length_um": 5.0, **kwargs}
    with pytest.raises(AnalysisError, match=message) as info:
        analyse_pitt(one_step(t, np.exp(-t / 1000)), **arguments)
    assert info.value.field == field


def _bad_tables():
    t = np.linspace(0, 100, 20)
    good = one_step(t, np.exp(-t / 10))
    nan = good.copy()
    nan.loc[5, "current_a"] = np.nan
    backwards = good.copy()
    backwards.loc[5, "time_s"] = -1.0
    shuffled = step_table([np.ones(10), np.ones(10)], [3.9, 4.0]).iloc[::-1]
    return [
        ("not a table", "a pandas DataFrame"),
        (good.drop(columns="step"), "no column\\(s\\) step"),
        (good.iloc[:0], "no data rows"),
        (nan, "current_a has missing"),
        (backwards, "time goes backwards"),
        (shuffled, "not together in time order"),
    ]


@pytest.mark.parametrize(("table", "message"), _bad_tables())
def test_bad_tables_raise_analysis_error(table, message):
    with pytest.raises(AnalysisError, match=message) as info:
        analyse_pitt(table, 5.0)
    assert info.value.field == "table"


def test_default_diffusion_length_is_the_particle_radius_else_the_thickness():
    assert default_diffusion_length_um(particle_size_um=10.0) == 5.0
    assert default_diffusion_length_um(particle_size_um=10.0, thickness_um=60.0) == 5.0
    assert default_diffusion_length_um(thickness_um=60.0) == 60.0
    with pytest.raises(AnalysisError) as info:
        default_diffusion_length_um()
    assert info.value.field == "diffusion_length_um"
    with pytest.raises(AnalysisError, match="> 0"):
        default_diffusion_length_um(particle_size_um=0)
    with pytest.raises(AnalysisError, match="between 0.01 and 1000") as info:
        default_diffusion_length_um(thickness_um=5000)
    assert info.value.field == "thickness_um"


def test_result_is_frozen_and_versioned():
    t = np.linspace(0, 10000, 1001)
    result = analyse_pitt(one_step(t, 1e-6 * np.exp(-t / 1000)), 10.0)
    assert result.version == VERSION
    with pytest.raises(dataclasses.FrozenInstanceError):
        result.steps = ()  # type: ignore[misc]


# ---------------------------------------------------------------- real files


@pytest.mark.testdata("cyclers")
@pytest.mark.parametrize("suffix", ["mpt", "mpr"])
def test_real_ca_file_gives_d_of_order_1p5e_12_flagged(suffix):
    """biologic_yadg_ca_potential_step (one 12 h step at 0.30 V, a record every 60 s; the
    current falls from 29 nA at 60 s to 2.8 nA, noise ~0.45 nA) with L = 5 µm.

    How the window rule lands: the decay fit from t_half = 60 s (the first record after the
    18.6 µA spike) gives 1/k = 8.4e3 s; refitted from there, 1/k = 2.66e4 s (the later half
    of the part still above 5σ decays faster, 1/k = 1.8e4 s, so the slower rate stands),
    which lies beyond half the step (2.16e4 s). So the current never reaches the long-time
    regime: the window is the second half, [21600, 43200] s (361 records), with I∞ taken as
    0. The weighted line through ln|I| there (weights exp(−2k(t − t_a)) with k = 1.55e-5 s⁻¹
    of that window's fit, from 1 down to 0.51) has slope −1.5854e-5 s⁻¹ (R² 0.40: the
    current is noisy at a few nA), so D = 1.5854e-5 · 4 · (5e-4 cm)² / π² = 1.606e-12
    cm² s⁻¹, flagged by long_time_regime_not_reached, step_shorter_than_diffusion_time
    (L²/D = 1.6e5 s > 4.3e4 s) and low_r_squared.

    Version 1 fitted the same window without weights: −1.5627e-5 s⁻¹, D = 1.583e-12. The
    1.4 % difference is the weighting alone (rule 5), a sixth of the slope's standard error
    (1.0e-6 s⁻¹): the value and the flags are the documented ones."""
    table, _ = read_potential_step_file(
        testdata_dir("cyclers") / f"biologic_yadg_ca_potential_step.{suffix}"
    )
    result = analyse_pitt(table, 5.0)
    (step,) = result.steps
    assert step.fit_window_s[0] == pytest.approx(21600, abs=1)
    assert step.fit_window_s[1] == pytest.approx(43200, abs=1)
    assert step.window_points == 361
    assert step.residual_current_basis == NOT_REACHED
    assert step.slope_per_s == pytest.approx(-1.5854e-5, rel=1e-4)
    assert step.d_cm2_per_s == pytest.approx(1.606e-12, rel=1e-3)
    assert step.direction == "charge" and step.potential_v == pytest.approx(0.3, abs=1e-4)
    assert {w["code"] for w in result.warnings} == {
        "long_time_regime_not_reached",
        "step_shorter_than_diffusion_time",
        "low_r_squared",
    }


@pytest.mark.testdata("potential_steps")
def test_real_three_step_file_gives_per_step_results():
    """biologic_ixdat_ca_3steps.mpt, L = 5 µm: step 0 (the last 9 s of a 0.05 V hold, 10
    records) leaves 5 records in its window and is refused; step 1 (up to 1.60 V: charge)
    and step 2 (down to 0.20 V: discharge) are fitted.

    Step 1 is in the short-time regime for its whole 9.6 s: the current falls as a power of
    t (26.4 µA at 1 s, 11.8 µA at 4 s, 7.74 µA at 9 s: t^−0.58, then t^−0.52), and the fitted
    decay time grows with the start of the fit (0.76 s from t_half, 1.78 s from there, 3.13 s
    from the late part, 3.46 s from there, 4.88 s from its late part) past half the step
    (4.79 s). So it is flagged long_time_regime_not_reached and
    fitted over its second half with I∞ = 0: slope −0.07488 s⁻¹, D = 7.59e-9 cm² s⁻¹; its two
    halves' slopes (−0.089 and −0.061 s⁻¹) show the bend. Version 1 gave 2.811e-8 with no
    flag: its onset iteration stopped at 3.5 s because it called a move under 1 % of the
    step (0.1 s) settled, and it fitted an I∞ of 6.4 µA, 85 % of the last current, which the
    still-falling current does not show.
    Step 2: the fit from t_half = 0.1 s gives 1/k = 2.42 s; from there 1/k = 2.20 s, and the
    late part's 2.54 s is within its noise (13 % slower, 3 standard errors being 16 %), so the
    onset settles at 2.42 s (t_a never moves back). I∞ = −0.856 µA; window [2.5, 9.56] s,
    weighted slope −0.4550 s⁻¹, D = 0.4550·4·(5e-4 cm)²/π² = 4.61e-8 cm² s⁻¹ (its halves
    −0.457 and −0.473 s⁻¹ agree within 4 %). Version 1 gave 4.712e-8 from an unweighted fit
    over [2.2, 9.56] s: 2 % apart, the same within the fit's spread."""
    table, _ = read_potential_step_file(
        testdata_dir("potential_steps") / "biologic_ixdat_ca_3steps.mpt"
    )
    result = analyse_pitt(table, 5.0)
    (refused,) = result.as_summary()["refused_steps"]
    assert refused["index"] == 0 and "fewer than 10 records in the fit window" in refused["reason"]
    one, two = result.as_summary()["steps"]
    assert (one["index"], one["direction"], two["index"], two["direction"]) == (
        1,
        "charge",
        2,
        "discharge",
    )
    assert one["potential_v"] == pytest.approx(1.5999, abs=1e-4)
    assert two["potential_v"] == pytest.approx(0.19996, abs=1e-4)
    first, second = result.steps
    assert first.residual_current_basis == NOT_REACHED and not first.linear_in_window
    assert first.fit_window_s == pytest.approx((4.8, 9.5746), abs=1e-3)
    assert one["d_cm2_per_s"] == pytest.approx(7.59e-9, rel=0.01)
    assert second.residual_current_basis == "fitted" and second.linear_in_window
    assert second.fit_window_s == pytest.approx((2.5, 9.5642), abs=1e-3)
    assert second.residual_current_a == pytest.approx(-8.56e-7, rel=0.01)
    assert two["d_cm2_per_s"] == pytest.approx(4.61e-8, rel=0.01)
    assert one["r_squared"] > 0.98 and two["r_squared"] > 0.99
    assert {w["code"]: w["steps"] for w in result.warnings} == {
        "long_time_regime_not_reached": [1],
        "step_shorter_than_diffusion_time": [1],
        "steps_refused": [0],
    }
