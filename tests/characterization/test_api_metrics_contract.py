"""Disc and layered-structure metrics through the API: contract fields and field-named errors."""

from __future__ import annotations

import math

import pytest
from rest_framework.test import APIClient

DISC = {"disc_diameter_mm": 12, "disc_mass_mg": 12.0, "foil_disc_mass_mg": 4.0,
        "active_fraction": 0.8}  # fmt: skip


@pytest.fixture
def api(chemist) -> APIClient:
    client = APIClient()
    client.force_authenticate(chemist)
    return client


def test_disc_metrics_match_hand_worked_values(api):
    body = api.post("/api/v1/cells/disc-metrics", DISC, format="json").json()
    # area π·0.6² = 1.130973 cm²; active (12 − 4)·0.8 = 6.40 mg; loading 5.6588 mg/cm²
    assert body["disc_area_cm2"] == pytest.approx(math.pi * 0.36, rel=1e-9)
    assert body["active_mass_mg"] == pytest.approx(6.40, rel=1e-12)
    assert body["areal_loading_mg_per_cm2"] == pytest.approx(5.65884, rel=1e-5)
    # I = x · 250 mA/g · 0.00640 g: 1C = 1.600 mA, 0.05C = 0.080 mA, 10C = 16.0 mA
    assert body["current_ma"]["1"] == pytest.approx(1.600, rel=1e-12)
    assert body["current_ma"]["0.05"] == pytest.approx(0.080, rel=1e-12)
    assert body["current_ma"]["10"] == pytest.approx(16.0, rel=1e-12)


def test_disc_metrics_take_the_materials_own_one_c_and_rates(api):
    body = api.post(
        "/api/v1/cells/disc-metrics",
        {**DISC, "one_c_ma_per_g": 200, "c_rates": [0.1, 2]},
        format="json",
    ).json()
    assert body["current_ma"] == pytest.approx({"0.1": 0.128, "2": 2.56})


@pytest.mark.parametrize(
    "change, field",
    [({"disc_mass_mg": 3.9}, "disc_mass_mg"), ({"active_fraction": 80}, "active_fraction"),
     ({"disc_diameter_mm": 0}, "disc_diameter_mm"), ({"c_rates": [1, -2]}, "c_rates[1]"),
     ({"disc_mass_mg": "heavy"}, "disc_mass_mg")],
)  # fmt: skip
def test_bad_disc_input_is_a_400_naming_the_field(api, change, field):
    response = api.post("/api/v1/cells/disc-metrics", {**DISC, **change}, format="json")
    assert response.status_code == 400
    assert field in response.json()["errors"], response.json()


def test_layered_metrics_for_the_tm_origin_setting(api):
    body = api.post(
        "/api/v1/structure/layered-metrics",
        {"a_angstrom": 2.86, "c_angstrom": 14.25, "z_oxygen": 0.258, "origin": "transition_metal"},
        format="json",
    ).json()
    # S = 2(1/3 − 0.258)·14.25 = 2.1470 Å; I = 14.25/3 − S = 2.6030 Å; V = (√3/2)·2.86²·14.25
    assert body["slab_thickness_angstrom"] == pytest.approx(2.1470, abs=1e-4)
    assert body["interslab_spacing_angstrom"] == pytest.approx(2.6030, abs=1e-4)
    assert body["cell_volume_angstrom3"] == pytest.approx(100.943, abs=1e-3)
    assert body["warnings"] == []


def test_a_z_that_contradicts_the_origin_setting_and_a_wrong_volume_are_warned(api):
    body = api.post(
        "/api/v1/structure/layered-metrics",
        {"a_angstrom": 2.86, "c_angstrom": 14.25, "z_oxygen": 0.242,
         "origin": "transition_metal", "volume_angstrom3": 104.0},
        format="json",
    ).json()  # fmt: skip
    text = " ".join(body["warnings"])
    assert len(body["warnings"]) >= 2
    assert "0.242" in text and "volume" in text.lower()


def test_an_unknown_origin_is_a_400_on_origin(api):
    response = api.post(
        "/api/v1/structure/layered-metrics",
        {"a_angstrom": 2.86, "c_angstrom": 14.25, "z_oxygen": 0.258, "origin": "oxygen"},
        format="json",
    )
    assert response.status_code == 400
    assert "origin" in response.json()["errors"]
