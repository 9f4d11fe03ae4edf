"""The layered-oxide XRD analysis: hand-worked geometry, synthetic patterns (generated here:
pseudo-Voigt peaks at known positions with their Kα2 copies, a sloping background and
Poisson noise), the shared real files, an in situ series, and every way an input can be
wrong. No database needed."""

from __future__ import annotations

import json
import math

import numpy as np
import pandas as pd
import pytest

from characterization.analysis.errors import AnalysisError
from characterization.analysis.xrd import (
    CU_KA1_A,
    CU_KA2_A,
    REFLECTIONS,
    XrdResult,
    analyse_xrd,
)
from characterization.analysis.xrd_lattice import (
    d_spacing_angstrom,
    fit_hexagonal,
    hexagonal_d_angstrom,
    two_theta_deg,
)
from characterization.parsers.diffraction import read_diffraction_file
from tests.testdata import testdata_dir

A, C = 2.8589, 14.2535  # Å, the worked check's cell
# Relative areas (Kα1) of the reflections drawn in the synthetic patterns.
AREAS = {
    (0, 0, 3): 900.0,
    (1, 0, 1): 250.0,
    (0, 0, 6): 60.0,
    (0, 1, 2): 100.0,
    (1, 0, 4): 700.0,
    (0, 1, 5): 150.0,
    (1, 0, 7): 120.0,
    (0, 1, 8): 200.0,
    (1, 1, 0): 180.0,
    (1, 1, 3): 150.0,
}


def _pv(x, x0, w, eta):
    """Unit-area pseudo-Voigt written out independently of xrd_profile."""
    u = (x - x0) / w
    lorentz = 2.0 / (math.pi * w) / (1.0 + 4.0 * u * u)
    gauss = 2.0 / w * math.sqrt(math.log(2) / math.pi) * np.exp(-4.0 * math.log(2) * u * u)
    return eta * lorentz + (1.0 - eta) * gauss


def _two_theta(hkl, a, c, lam=CU_KA1_A):
    h, k, l = hkl  # noqa: E741
    d = 1.0 / math.sqrt(4.0 * (h * h + h * k + k * k) / (3.0 * a * a) + l * l / (c * c))
    return 2.0 * math.degrees(math.asin(lam / (2.0 * d)))


def synthetic_pattern(
    a=A, c=C, *, seed=0, areas=None, lo=10.0, hi=80.0, step=0.02, ka2=0.5, extra=()
) -> pd.DataFrame:
    """Counts of a layered-oxide pattern: each reflection a pseudo-Voigt (FWHM 0.08° +
    0.002·2θ, η 0.4) at its Cu Kα1 position plus a Kα2 copy of `ka2` times its area; `extra`
    adds (2θ, area) peaks of something else (a Be window)."""
    x = np.arange(lo, hi + step / 2, step)
    y = 200.0 - 0.5 * (x - 10.0)
    for hkl, area in (areas or AREAS).items():
        t1 = _two_theta(hkl, a, c)
        t2 = 2.0 * math.degrees(math.asin(CU_KA2_A / CU_KA1_A * math.sin(math.radians(t1 / 2))))
        width = 0.08 + 0.002 * t1
        y = y + area * _pv(x, t1, width, 0.4) + ka2 * area * _pv(x, t2, width, 0.4)
    for position, area in extra:
        y = y + area * _pv(x, position, 0.1, 0.3)
    counts = np.random.default_rng(seed).poisson(y).astype(float)
    return pd.DataFrame(
        {"two_theta_deg": x, "intensity": counts, "intensity_esd": np.sqrt(counts), "scan": 0}
    )


CU_META = {"wavelength_ka1_a": CU_KA1_A, "wavelength_ka2_a": CU_KA2_A, "ka2_ka1_ratio": 0.5}


# ---------------------------------------------------------------- hand-worked geometry


def test_worked_check_places_003_and_104_where_the_hand_arithmetic_does():
    # (003): d = c/3 = 14.2535/3 = 4.751167 Å; sin θ = 1.540562/(2·4.751167) = 0.162125;
    # θ = 9.33024°, 2θ = 18.6605°.
    # (104): 1/d² = 4/(3·2.8589²) + 16/14.2535² = 4/24.519928 + 16/203.162262
    #        = 0.163133 + 0.078755 = 0.241887; d = 2.033262 Å;
    # sin θ = 1.540562/(2·2.033262) = 0.378840; θ = 22.2618°, 2θ = 44.5237°.
    assert hexagonal_d_angstrom((0, 0, 3), A, C) == pytest.approx(4.751167, abs=1e-6)
    assert hexagonal_d_angstrom((1, 0, 4), A, C) == pytest.approx(2.033262, abs=1e-6)
    assert two_theta_deg(hexagonal_d_angstrom((0, 0, 3), A, C), CU_KA1_A) == pytest.approx(
        18.6605, abs=5e-5
    )
    assert two_theta_deg(hexagonal_d_angstrom((1, 0, 4), A, C), CU_KA1_A) == pytest.approx(
        44.5237, abs=5e-5
    )
    assert d_spacing_angstrom(18.6605, CU_KA1_A) == pytest.approx(4.75117, abs=2e-5)


def test_two_reflections_give_the_cell_back_exactly():
    observations = [
        ((0, 0, 3), _two_theta((0, 0, 3), A, C), 0.001),
        ((1, 0, 4), _two_theta((1, 0, 4), A, C), 0.001),
    ]
    cell = fit_hexagonal(observations, CU_KA1_A)
    assert cell.a_angstrom == pytest.approx(A, abs=1e-9)
    assert cell.c_angstrom == pytest.approx(C, abs=1e-9)
    assert cell.volume_angstrom3 == pytest.approx(math.sqrt(3) / 2 * A * A * C, rel=1e-12)
    assert cell.a_esd_angstrom > 0 and cell.c_esd_angstrom > 0


def test_00l_reflections_alone_cannot_fix_a():
    observations = [((0, 0, 3), 18.66, 0.001), ((0, 0, 6), 37.85, 0.001)]
    assert fit_hexagonal(observations, CU_KA1_A) is None


# ---------------------------------------------------------------- synthetic patterns


def test_fit_recovers_positions_and_cell_of_a_synthetic_pattern():
    result = analyse_xrd(synthetic_pattern(), metadata=CU_META)
    peaks = {p.hkl: p for p in result.peaks}
    assert result.summary_result.layered == "confirmed"
    for hkl, miller in REFLECTIONS.items():
        assert peaks[hkl].status == "found"
        # positions within 0.005° (a few esds of these fits) of the drawn ones
        assert peaks[hkl].two_theta_deg == pytest.approx(_two_theta(miller, A, C), abs=0.005)
        assert peaks[hkl].two_theta_esd_deg < 0.005
    assert peaks["003"].two_theta_deg == pytest.approx(18.6605, abs=0.003)
    assert peaks["104"].two_theta_deg == pytest.approx(44.5237, abs=0.003)
    lattice = result.as_summary()["lattice"]
    assert lattice["a_angstrom"] == pytest.approx(A, abs=5e-4)
    assert lattice["c_angstrom"] == pytest.approx(C, abs=3e-3)
    assert 0 < lattice["a_esd_angstrom"] < 5e-4 and 0 < lattice["c_esd_angstrom"] < 3e-3


def test_widths_and_integrated_intensities_come_back():
    result = analyse_xrd(synthetic_pattern(seed=3), metadata=CU_META)
    p003 = result.summary_result.reflection("003")
    # FWHM drawn: 0.08 + 0.002·18.66 = 0.1173°; area drawn: 900 (Kα1) + 450 (Kα2) = 1350
    assert p003.fwhm_deg == pytest.approx(0.1173, abs=0.01)
    assert p003.intensity == pytest.approx(1350.0, rel=0.05)
    assert result.summary_result.i003_i104 == pytest.approx(900 / 700, rel=0.06)


def test_kalpha2_is_needed_to_place_the_peaks():
    """Fitted as if Kα1 only, the doublet's centre of mass pulls 2θ upward: the Kα2 model
    is what keeps the position right."""
    table = synthetic_pattern(seed=1)
    with_ka2 = analyse_xrd(table, metadata=CU_META).summary_result.reflection("104")
    without = analyse_xrd(table, ka2_ratio=0.0).summary_result.reflection("104")
    true = _two_theta((1, 0, 4), A, C)
    assert abs(with_ka2.two_theta_deg - true) < 0.005
    assert without.two_theta_deg - true > 0.02


def test_a_monochromated_pattern_is_fitted_without_kalpha2():
    table = synthetic_pattern(seed=2, ka2=0.0)
    meta = {"wavelength_ka1_a": CU_KA1_A, "wavelength_ka2_a": None, "ka2_ka1_ratio": 0.0}
    result = analyse_xrd(table, metadata=meta)
    assert result.ka2_ratio == 0.0
    assert result.summary_result.reflection("003").two_theta_deg == pytest.approx(
        _two_theta((0, 0, 3), A, C), abs=0.003
    )


def test_a_reflection_that_is_not_there_is_reported_missing_not_invented():
    areas = {k: v for k, v in AREAS.items() if k != (1, 0, 1)}
    result = analyse_xrd(synthetic_pattern(areas=areas), metadata=CU_META)
    r101 = result.summary_result.reflection("101")
    assert r101.status == "missing" and r101.two_theta_deg is None
    assert result.as_summary()["peaks"][1] == {
        "hkl": "101",
        "two_theta_deg": None,
        "d_angstrom": None,
        "fwhm_deg": None,
        "intensity": None,
    }
    assert "reflection_missing" in [w["code"] for w in result.warnings]
    assert result.summary_result.lattice is not None  # the others still fix the cell


def test_low_003_to_104_ratio_warns_of_cation_mixing():
    areas = {**AREAS, (0, 0, 3): 600.0}
    result = analyse_xrd(synthetic_pattern(areas=areas), metadata=CU_META)
    assert result.summary_result.i003_i104 == pytest.approx(600 / 700, rel=0.08)
    assert "cation_mixing" in [w["code"] for w in result.warnings]


def test_reflections_outside_the_scan_are_outside_range():
    result = analyse_xrd(synthetic_pattern(hi=46.0), metadata=CU_META)
    assert result.summary_result.reflection("108").status == "outside_range"
    assert result.summary_result.reflection("110").status == "outside_range"
    assert result.summary_result.layered == "confirmed"


def test_shift_against_a_reference_pattern_has_its_uncertainty():
    reference = analyse_xrd(synthetic_pattern(seed=4), metadata=CU_META)
    expanded = synthetic_pattern(c=C + 0.05, seed=5)
    result = analyse_xrd(expanded, metadata=CU_META, reference=reference)
    shift = {s.hkl: s for s in result.shifts}["003"]
    expected = _two_theta((0, 0, 3), A, C + 0.05) - _two_theta((0, 0, 3), A, C)  # -0.0652°
    assert shift.status == "found"
    assert shift.delta_two_theta_deg == pytest.approx(
        expected, abs=max(4 * shift.delta_two_theta_esd_deg, 0.002)
    )
    assert 0 < shift.delta_two_theta_esd_deg < 0.002
    # a table as reference is analysed the same way
    again = analyse_xrd(expanded, metadata=CU_META, reference=synthetic_pattern(seed=4))
    assert {s.hkl: s for s in again.shifts}["003"].delta_two_theta_deg == pytest.approx(
        shift.delta_two_theta_deg, abs=1e-9
    )


def test_shift_against_another_wavelength_is_flagged():
    reference = analyse_xrd(synthetic_pattern(), metadata=CU_META)
    result = analyse_xrd(synthetic_pattern(seed=6), wavelength_a=1.5406, reference=reference)
    assert "wavelength_mismatch" in [w["code"] for w in result.warnings]


def test_summary_keys_are_exactly_the_contract_and_everything_is_json():
    result = analyse_xrd(synthetic_pattern(), metadata=CU_META)
    summary = result.as_summary()
    assert set(summary) == {"peaks", "i003_i104", "lattice"}
    assert all(
        set(p) == {"hkl", "two_theta_deg", "d_angstrom", "fwhm_deg", "intensity"}
        for p in summary["peaks"]
    )
    assert set(summary["lattice"]) == {
        "a_angstrom",
        "a_esd_angstrom",
        "c_angstrom",
        "c_esd_angstrom",
    }
    assert [p["hkl"] for p in summary["peaks"]] == ["003", "101", "104", "108", "110"]
    json.dumps(result.to_dict(), allow_nan=False)
    assert result.figures["fits"] and result.figures["pattern"]["two_theta_deg"]
    assert all({"code", "message"} <= set(w) for w in result.warnings)


# ---------------------------------------------------------------- in situ series


def _series(cs, *, be_window=True):
    """Scans 10-46° of one cell whose c expands and contracts; a Be window's peaks at 18.1°
    and 44.05° in every scan."""
    extra = ((18.1, 300.0), (44.05, 900.0)) if be_window else ()
    frames = []
    for n, c in enumerate(cs):
        frame = synthetic_pattern(c=c, seed=10 + n, hi=46.0, step=0.02, extra=extra)
        frames.append(frame.assign(scan=n))
    return pd.concat(frames, ignore_index=True)


def test_in_situ_series_follows_003_as_c_moves():
    cs = [14.25, 14.33, 14.41, 14.47, 14.40, 14.30]
    result = analyse_xrd(_series(cs), metadata=CU_META, ignore_peaks_deg=(18.1, 44.05))
    track = result.figures["tracks"]["two_theta_deg"]["003"]
    assert len(result.scans) == len(cs)
    for position, c in zip(track, cs, strict=True):
        assert position == pytest.approx(_two_theta((0, 0, 3), A, c), abs=0.005)
    c_track = result.figures["tracks"]["c_angstrom"]
    assert c_track == pytest.approx(cs, abs=0.005)
    contour = result.figures["contour"]
    assert len(contour["intensity"]) == len(cs)
    assert len(contour["intensity"][0]) == len(contour["two_theta_deg"])


def test_be_window_peak_is_not_taken_for_104():
    """The Be line at 44.05° lies inside (104)'s window (44.02-45.02°) and is stronger; the
    candidate nearest the expected position wins, and naming the line keeps it out."""
    table = _series([14.25])
    true = _two_theta((1, 0, 4), A, 14.25)
    named = analyse_xrd(table, metadata=CU_META, ignore_peaks_deg=(18.1, 44.05))
    unnamed = analyse_xrd(table, metadata=CU_META)
    assert named.summary_result.reflection("104").two_theta_deg == pytest.approx(true, abs=0.005)
    assert unnamed.summary_result.reflection("104").two_theta_deg == pytest.approx(true, abs=0.01)


# ---------------------------------------------------------------- real files


def _real(name):
    return read_diffraction_file(testdata_dir("diffraction") / name)


@pytest.mark.testdata("diffraction")
@pytest.mark.parametrize(
    "name",
    [
        "rigaku_ras_pyscattdata_tio2.ras",
        "rigaku_rasx_fairmat_powder.rasx",
        "panalytical_xrdml15_datalab.xrdml",
        "bruker_brml_datalab_tiof.brml",
    ],
)
def test_real_files_that_are_not_layered_oxides_get_no_layered_peaks(name):
    """TiO2 (rutile, with a (101) at 36.1° and (310) at 64.0° near layered positions), TiOF
    (a peak at 18.9°, near (003)) and the other two: each is said not to be layered, and no
    layered reflection gets a number."""
    table, meta = _real(name)
    result = analyse_xrd(table, metadata=meta)
    assert result.summary_result.layered == "not_layered"
    assert all(p["two_theta_deg"] is None for p in result.as_summary()["peaks"])
    assert result.as_summary()["i003_i104"] is None
    assert result.as_summary()["lattice"]["a_angstrom"] is None
    assert "not_layered" in [w["code"] for w in result.warnings]
    assert result.wavelength_a == meta["wavelength_ka1_a"]


@pytest.mark.testdata("diffraction")
def test_the_file_wavelength_is_used():
    table, meta = _real("rigaku_rasx_fairmat_powder.rasx")
    result = analyse_xrd(table, metadata=meta)
    assert result.wavelength_a == 1.540593 and result.ka2_ratio == 0.0
    assert result.wavelength_source == "file"


# ---------------------------------------------------------------- wrong inputs


def _ok_table():
    return synthetic_pattern(lo=17.0, hi=20.0)


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"wavelength_a": 0.0}, "wavelength_a"),
        ({"wavelength_a": 5.0}, "wavelength_a"),
        ({"wavelength_a": "1.54"}, "wavelength_a"),
        ({"ka2_ratio": 1.5}, "ka2_ratio"),
        ({"wavelength2_a": 1.4}, "wavelength2_a"),
        ({"a_guess_angstrom": 10.0}, "a_guess_angstrom"),
        ({"c_guess_angstrom": 1.0}, "c_guess_angstrom"),
        ({"window_deg": 0.0}, "window_deg"),
        ({"window_deg": math.nan}, "window_deg"),
        ({"min_snr": 1.0}, "min_snr"),
        ({"summary_scan": 3}, "summary_scan"),
        ({"contour_points": 2}, "contour_points"),
        ({"ignore_peaks_deg": [200.0]}, "ignore_peaks_deg[0]"),
        ({"metadata": "Cu"}, "metadata"),
        ({"metadata": {"anode": "Co"}}, "wavelength_a"),
        ({"reference": "pattern.xy"}, "reference"),
    ],
)
def test_bad_parameters_are_named(kwargs, field):
    with pytest.raises(AnalysisError) as err:
        analyse_xrd(_ok_table(), **kwargs)
    assert err.value.field == field


@pytest.mark.parametrize(
    ("table", "words"),
    [
        ([1, 2, 3], "DataFrame"),
        (pd.DataFrame({"two_theta_deg": [1.0]}), "intensity"),
        (pd.DataFrame({"two_theta_deg": [], "intensity": []}), "no rows"),
        (pd.DataFrame({"two_theta_deg": np.arange(5.0), "intensity": np.ones(5)}), "at least"),
        (
            pd.DataFrame({"two_theta_deg": np.r_[np.arange(30.0), 3.0], "intensity": np.ones(31)}),
            "rise",
        ),
        (
            pd.DataFrame(
                {"two_theta_deg": np.arange(30.0), "intensity": np.r_[np.ones(29), np.nan]}
            ),
            "not numbers",
        ),
    ],
)
def test_bad_tables_are_refused_with_a_sentence(table, words):
    with pytest.raises(AnalysisError) as err:
        analyse_xrd(table)
    assert err.value.field == "table" and words in err.value.message


def test_a_flat_pattern_has_nothing_found_and_says_so():
    x = np.arange(10.0, 80.0, 0.02)
    flat = pd.DataFrame({"two_theta_deg": x, "intensity": np.full(x.size, 100.0)})
    result = analyse_xrd(flat)
    assert isinstance(result, XrdResult)
    assert result.summary_result.layered == "not_layered"
    assert "wavelength_default" in [w["code"] for w in result.warnings]
