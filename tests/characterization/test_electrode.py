"""Disc metrics and slurry quantities against hand-worked numbers (DOMAIN.md section 2)."""

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from characterization.analysis.electrode import c_rate_label, disc_metrics, slurry_quantities
from characterization.analysis.errors import AnalysisError

LAB_DISC = {
    "disc_diameter_mm": 12.0,
    "disc_mass_mg": 12.00,
    "foil_disc_mass_mg": 4.00,
    "active_fraction": 0.8,
}


def test_12_mm_disc_gives_hand_worked_area_mass_loading_and_1c_current():
    # area = π (0.6 cm)² = 1.130973 cm²; active = (12 − 4) × 0.8 = 6.40 mg;
    # loading = 6.40 / 1.130973 = 5.6588 mg/cm²; 1C = 250 mA/g × 0.0064 g = 1.600 mA
    metrics = disc_metrics(**LAB_DISC)
    assert metrics.disc_area_cm2 == pytest.approx(1.130973, rel=1e-6)
    assert metrics.active_mass_mg == pytest.approx(6.40, rel=1e-12)
    assert metrics.areal_loading_mg_per_cm2 == pytest.approx(5.6588, rel=1e-4)
    assert metrics.current_ma["1"] == pytest.approx(1.600, rel=1e-12)
    assert metrics.current_ma["0.05"] == pytest.approx(0.080, rel=1e-12)
    assert metrics.current_ma["10"] == pytest.approx(16.0, rel=1e-12)


def test_disc_metrics_dict_has_exactly_the_contract_keys():
    data = disc_metrics(**LAB_DISC).to_dict()
    assert set(data) == {
        "disc_area_cm2",
        "active_mass_mg",
        "areal_loading_mg_per_cm2",
        "current_ma",
    }
    assert list(data["current_ma"]) == ["0.05", "0.1", "0.2", "0.5", "1", "2", "5", "10"]


def test_rate_labels_drop_trailing_zeros():
    assert [c_rate_label(r) for r in (0.05, 1.0, 10, 0.5, 2.50)] == [
        "0.05",
        "1",
        "10",
        "0.5",
        "2.5",
    ]


def test_custom_one_c_and_rates_change_the_currents():
    metrics = disc_metrics(**LAB_DISC, one_c_ma_per_g=200.0, c_rates=(0.1, 3))
    assert metrics.current_ma == pytest.approx({"0.1": 0.128, "3": 3.84}, rel=1e-12)


def test_full_active_fraction_of_one_is_accepted():
    assert disc_metrics(**{**LAB_DISC, "active_fraction": 1}).active_mass_mg == pytest.approx(8.0)


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"disc_mass_mg": 4.00}, "disc_mass_mg"),
        ({"disc_mass_mg": 3.50}, "disc_mass_mg"),
        ({"active_fraction": 0}, "active_fraction"),
        ({"active_fraction": 1.2}, "active_fraction"),
        ({"disc_diameter_mm": 0}, "disc_diameter_mm"),
        ({"disc_diameter_mm": -12}, "disc_diameter_mm"),
        ({"disc_mass_mg": 0}, "disc_mass_mg"),
        ({"foil_disc_mass_mg": 0}, "foil_disc_mass_mg"),
        ({"foil_disc_mass_mg": float("nan")}, "foil_disc_mass_mg"),
        ({"one_c_ma_per_g": 0}, "one_c_ma_per_g"),
        ({"c_rates": (0.1, -1)}, "c_rates[1]"),
        ({"c_rates": (0.1, 0)}, "c_rates[1]"),
        ({"c_rates": (1, 1.0)}, "c_rates[1]"),
    ],
)
def test_bad_disc_inputs_name_the_field(changes, field):
    with pytest.raises(AnalysisError) as error:
        disc_metrics(**{**LAB_DISC, **changes})
    assert error.value.field == field


def test_disc_lighter_than_foil_says_so_in_plain_words():
    with pytest.raises(AnalysisError, match="must be greater than the bare foil disc mass"):
        disc_metrics(**{**LAB_DISC, "disc_mass_mg": 3.9})


@given(
    diameter=st.floats(1, 30),
    foil=st.floats(0.5, 20),
    coating=st.floats(0.01, 50),
    fraction=st.floats(0.01, 1),
)
def test_loading_times_area_is_the_active_mass_and_current_scales_with_rate(
    diameter, foil, coating, fraction
):
    metrics = disc_metrics(
        disc_diameter_mm=diameter,
        disc_mass_mg=foil + coating,
        foil_disc_mass_mg=foil,
        active_fraction=fraction,
    )
    area_times_loading = metrics.areal_loading_mg_per_cm2 * metrics.disc_area_cm2
    assert area_times_loading == pytest.approx(metrics.active_mass_mg, rel=1e-9)
    assert metrics.current_ma["10"] == pytest.approx(10 * metrics.current_ma["1"], rel=1e-9)
    assert math.isfinite(metrics.current_ma["0.05"])


def test_slurry_for_0_8_g_active_at_40_percent_solids():
    # 80:10:10 → solids = 0.8 / 0.8 = 1.0 g; carbon = binder = 0.1 g;
    # NMP = 1.0 × (100 − 40) / 40 = 1.5 g
    slurry = slurry_quantities(active_mass_g=0.8, solid_content_percent=40)
    assert slurry.to_dict() == pytest.approx(
        {
            "active_mass_g": 0.8,
            "carbon_mass_g": 0.1,
            "binder_mass_g": 0.1,
            "solids_mass_g": 1.0,
            "solvent_mass_g": 1.5,
        },
        rel=1e-12,
    )


def test_slurry_with_another_ratio_and_no_binder():
    # 90:10:0 at 50 % solids → solids 1.0 g, carbon 0.1 g, no binder, NMP 1.0 g
    slurry = slurry_quantities(active_mass_g=0.9, ratio=(90, 10, 0), solid_content_percent=50)
    assert slurry.carbon_mass_g == pytest.approx(0.1, rel=1e-12)
    assert slurry.binder_mass_g == 0
    assert slurry.solvent_mass_g == pytest.approx(1.0, rel=1e-12)


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"ratio": (80, 10, 5)}, "ratio"),
        ({"ratio": (90, 15, -5)}, "ratio"),
        ({"ratio": (0, 50, 50)}, "ratio"),
        ({"ratio": (80, 20)}, "ratio"),
        ({"active_mass_g": 0}, "active_mass_g"),
        ({"solid_content_percent": 0}, "solid_content_percent"),
        ({"solid_content_percent": 100}, "solid_content_percent"),
    ],
)
def test_bad_slurry_inputs_name_the_field(changes, field):
    inputs = {"active_mass_g": 0.8, "ratio": (80, 10, 10), "solid_content_percent": 40, **changes}
    with pytest.raises(AnalysisError) as error:
        slurry_quantities(**inputs)
    assert error.value.field == field


def test_ratio_that_does_not_sum_to_100_reports_the_sum():
    with pytest.raises(AnalysisError, match="sum to 95"):
        slurry_quantities(active_mass_g=1, ratio=(80, 10, 5), solid_content_percent=40)


@given(active=st.floats(0.001, 100), binder=st.floats(0, 20), solids=st.floats(1, 99))
def test_slurry_parts_add_up_to_the_solids(active, binder, solids):
    ratio = (80.0, 20.0 - binder, binder)
    slurry = slurry_quantities(active_mass_g=active, ratio=ratio, solid_content_percent=solids)
    parts = slurry.active_mass_g + slurry.carbon_mass_g + slurry.binder_mass_g
    assert parts == pytest.approx(slurry.solids_mass_g, rel=1e-9)
    solid_fraction = slurry.solids_mass_g / (slurry.solids_mass_g + slurry.solvent_mass_g)
    assert 100 * solid_fraction == pytest.approx(solids, rel=1e-9)
