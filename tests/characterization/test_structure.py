"""Layered R-3m metrics in both origin settings (DOMAIN.md section 3, the origin trap)."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from characterization.analysis.errors import AnalysisError
from characterization.analysis.structure import layered_metrics, z_oxygen_other_setting

LMNO = {"a_angstrom": 2.86, "c_angstrom": 14.25}


def test_tm_origin_gives_hand_worked_slab_interslab_and_volume():
    # S = 2(1/3 − 0.258)·14.25 = 2.1470 Å; I = 14.25/3 − 2.1470 = 2.6030 Å;
    # V = (√3/2)·2.86²·14.25 = 100.943 Å³
    metrics = layered_metrics(**LMNO, z_oxygen=0.258, origin="transition_metal")
    assert metrics.slab_thickness_angstrom == pytest.approx(2.1470, abs=1e-4)
    assert metrics.interslab_spacing_angstrom == pytest.approx(2.6030, abs=1e-4)
    assert metrics.cell_volume_angstrom3 == pytest.approx(100.943, abs=1e-3)
    assert metrics.warnings == []


def test_li_origin_with_z_0_242_gives_the_same_slabs():
    tm = layered_metrics(**LMNO, z_oxygen=0.258, origin="transition_metal")
    li = layered_metrics(**LMNO, z_oxygen=0.242, origin="lithium")
    assert li.slab_thickness_angstrom == pytest.approx(tm.slab_thickness_angstrom, rel=1e-12)
    assert li.interslab_spacing_angstrom == pytest.approx(tm.interslab_spacing_angstrom, rel=1e-12)
    assert li.warnings == []


def test_to_dict_has_exactly_the_contract_keys():
    data = layered_metrics(**LMNO, z_oxygen=0.258, origin="transition_metal").to_dict()
    assert set(data) == {
        "slab_thickness_angstrom",
        "interslab_spacing_angstrom",
        "cell_volume_angstrom3",
        "warnings",
    }


def test_li_setting_z_typed_with_tm_origin_warns_twice():
    # z = 0.242 read in the TM setting gives S = 2.603 Å > I = 2.147 Å: swapped layers
    metrics = layered_metrics(**LMNO, z_oxygen=0.242, origin="transition_metal")
    assert metrics.slab_thickness_angstrom == pytest.approx(2.6030, abs=1e-4)
    assert len(metrics.warnings) == 2
    assert "below 0.25" in metrics.warnings[0]
    assert "red flag" in metrics.warnings[1]


def test_tm_setting_z_typed_with_li_origin_warns():
    metrics = layered_metrics(**LMNO, z_oxygen=0.258, origin="lithium")
    assert any("above 0.25" in warning for warning in metrics.warnings)
    assert any("red flag" in warning for warning in metrics.warnings)


def test_entered_volume_within_the_rounding_of_two_decimal_a_and_c_is_accepted():
    # a and c typed to 0.01 Å leave V uncertain by ±0.35 Å³ (σ from half the last digit)
    metrics = layered_metrics(
        **LMNO, z_oxygen=0.258, origin="transition_metal", volume_angstrom3=100.99
    )
    assert metrics.warnings == []


def test_entered_volume_beyond_three_sigma_of_four_decimal_a_and_c_warns():
    # a, c typed to 0.0001 Å: σ_V,calc = 100.943·√((2·0.00005/2.86)² + (0.00005/14.25)²)
    # = 0.0035 Å³; V typed to 0.01: σ = 0.005 Å³; combined 0.0061, 3σ = 0.018 Å³.
    # 101.10 vs 100.943 Å³ is +0.157 Å³ (+0.155 %), far beyond 3σ
    metrics = layered_metrics(
        a_angstrom="2.8600",
        c_angstrom="14.2500",
        z_oxygen=0.258,
        origin="transition_metal",
        volume_angstrom3="101.10",
    )
    assert len(metrics.warnings) == 1
    assert "+0.155 %" in metrics.warnings[0] and "3σ" in metrics.warnings[0]
    assert metrics.cell_volume_angstrom3 == pytest.approx(100.943, abs=1e-3)


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"a_angstrom": 0}, "a_angstrom"),
        ({"c_angstrom": -14.25}, "c_angstrom"),
        ({"z_oxygen": 0}, "z_oxygen"),
        ({"z_oxygen": 0.5}, "z_oxygen"),
        ({"z_oxygen": 0.4}, "z_oxygen"),
        ({"z_oxygen": 0.1}, "z_oxygen"),
        ({"origin": "Li"}, "origin"),
        ({"volume_angstrom3": 0}, "volume_angstrom3"),
    ],
)
def test_bad_structure_inputs_name_the_field(changes, field):
    inputs = {**LMNO, "z_oxygen": 0.258, "origin": "transition_metal", **changes}
    with pytest.raises(AnalysisError) as error:
        layered_metrics(**inputs)
    assert error.value.field == field


@given(
    c=st.floats(10, 20),
    z_tm=st.floats(0.17, 0.33),
)
def test_slab_plus_interslab_is_c_over_3_and_both_settings_agree(c, z_tm):
    tm = layered_metrics(a_angstrom=2.86, c_angstrom=c, z_oxygen=z_tm, origin="transition_metal")
    li = layered_metrics(
        a_angstrom=2.86, c_angstrom=c, z_oxygen=z_oxygen_other_setting(z_tm), origin="lithium"
    )
    for metrics in (tm, li):
        total = metrics.slab_thickness_angstrom + metrics.interslab_spacing_angstrom
        assert total == pytest.approx(c / 3, rel=1e-12)
    assert li.slab_thickness_angstrom == pytest.approx(tm.slab_thickness_angstrom, rel=1e-9)
