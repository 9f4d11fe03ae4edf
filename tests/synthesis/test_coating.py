"""Coating plans: the Na2SiO3@LMNO (NSO) and Li2SiO3@LMNO (LSO) recipes worked by hand.

Molar masses (CIAAW 2021 abridged weights, see test_formula.py): Na2SiO3 122.06153856,
Li2SiO3 89.962, Si(OC2H5)4 (TEOS) 208.329, Na2CO3 105.98753856, Li2CO3 73.888.
Hand numbers carried to 10 digits are compared with rel=1e-9; the rounded figures quoted in
the recipe (4 significant digits) with rel=5e-4.
"""

import pytest

from synthesis.chemistry.coating import coating_mass_g, plan_coating
from synthesis.chemistry.errors import BalanceError, FormulaError, InputError
from synthesis.chemistry.stoichiometry import PrecursorSpec

HAND = 1e-9
QUOTED = 5e-4
LMNO = "Li1.2Mn0.6Ni0.2O2"
TEOS = PrecursorSpec("Si(OC2H5)4", name="TEOS", density_g_per_ml=0.933)


def _nso(**overrides):
    """1.000 g LMNO coated with 1 wt% Na2SiO3 from TEOS + Na2CO3."""
    arguments = {
        "substrate_formula": LMNO,
        "substrate_mass_g": 1.0,
        "coating_formula": "Na2SiO3",
        "coating_wt_percent": 1.0,
        "precursors": [TEOS, PrecursorSpec("Na2CO3")],
    }
    return plan_coating(**{**arguments, **overrides})


def test_nso_coating_is_one_percent_of_the_substrate_mass():
    # m_c = 0.01 × 1.000 g = 0.0100 g; n_c = 0.0100 / 122.06153856 = 8.192588851e-5 mol
    coating = _nso().coating

    assert coating.mass_g == pytest.approx(0.0100, rel=HAND)
    assert coating.molar_mass_g_per_mol == pytest.approx(122.06153856, rel=HAND)
    assert coating.amount_mol == pytest.approx(8.192588851470562e-05, rel=HAND)


def test_nso_needs_one_teos_per_silicate_with_its_volume():
    # n(TEOS) = n(Si) = 8.192588851e-5 mol; m = × 208.329 = 0.01706753843 g
    # V = 0.01706753843 g / 0.933 g/mL = 0.01829318160 mL = 18.29 µL
    teos = _nso().precursors[0]

    assert teos.name == "TEOS"
    assert teos.amount_mol == pytest.approx(8.192588851470562e-05, rel=HAND)
    assert teos.mass_g == pytest.approx(0.017067538428380106, rel=HAND)
    assert teos.mass_g == pytest.approx(0.01707, rel=QUOTED)
    assert teos.volume_ml * 1000 == pytest.approx(18.29, rel=QUOTED)


def test_nso_needs_one_sodium_carbonate_per_silicate():
    # n(Na2CO3) = n(Na)/2 = 2 n_c / 2 = 8.192588851e-5 mol; m = × 105.98753856 = 0.008683123 g
    # (the recipe's 0.008684 g comes from rounding n to 8.193e-5 first)
    sodium = _nso().precursors[1]

    assert sodium.amount_mol == pytest.approx(8.192588851470562e-05, rel=HAND)
    assert sodium.mass_g == pytest.approx(0.008683123268014624, rel=HAND)
    assert sodium.mass_g == pytest.approx(0.008684, rel=QUOTED)


def test_nso_element_balance_closes_for_na_and_si():
    balance = _nso().element_balance

    assert balance["Na"].required_mol == pytest.approx(2 * 8.192588851470562e-05, rel=HAND)
    for required, supplied in balance.values():
        assert supplied == pytest.approx(required, rel=1e-12)


def test_lso_uses_lithium_carbonate_in_place_of_sodium_carbonate():
    # m_c = 0.0100 g Li2SiO3; n_c = 0.0100 / 89.962 = 1.111580445e-4 mol
    # TEOS 1.111580445e-4 × 208.329 = 0.02315744425 g = 24.82 µL; Li2CO3 × 73.888 = 0.008213246 g
    plan = _nso(coating_formula="Li2SiO3", precursors=[TEOS, PrecursorSpec("Li2CO3")])

    teos, lithium = plan.precursors
    assert teos.mass_g == pytest.approx(0.023157444254240676, rel=HAND)
    assert teos.volume_ml * 1000 == pytest.approx(24.820411848060743, rel=HAND)
    assert lithium.mass_g == pytest.approx(0.008213245592583535, rel=HAND)


def test_lithium_excess_in_lso_scales_only_the_lithium_carbonate():
    # Li2CO3 × 1.05 = 0.008213245593 × 1.05 = 0.008623907872 g; TEOS unchanged
    plan = _nso(
        coating_formula="Li2SiO3",
        precursors=[TEOS, PrecursorSpec("Li2CO3")],
        excess_percent={"Li": 5},
    )

    teos, lithium = plan.precursors
    assert lithium.mass_g == pytest.approx(0.008623907872212714, rel=HAND)
    assert teos.mass_g == pytest.approx(0.023157444254240676, rel=HAND)


def test_total_basis_counts_the_coating_in_the_denominator():
    # m_c / (1.000 + m_c) = 0.01  ->  m_c = 0.01 × 1.000 / 0.99 = 0.01010101010 g
    # n_c = 0.0101010101 / 122.06153856 = 8.275342274e-5 mol; TEOS 0.01723993781 g = 18.48 µL
    plan = _nso(basis="total")

    assert plan.basis == "total"
    assert plan.coating.mass_g == pytest.approx(0.01 / 0.99, rel=HAND)
    assert plan.coating.mass_g / (1.0 + plan.coating.mass_g) == pytest.approx(0.01, rel=HAND)
    assert plan.precursors[0].mass_g == pytest.approx(0.01723993780644455, rel=HAND)


@pytest.mark.parametrize(
    ("basis", "wt_percent", "expected_g"),
    [
        ("substrate", 1.0, 0.05),  # 0.01 × 5 g
        ("substrate", 10.0, 0.5),  # 0.10 × 5 g
        ("total", 10.0, 5 / 9),  # 0.10 × 5 / 0.90 = 0.5556 g
        ("total", 50.0, 5.0),  # half coating, half substrate
    ],
)
def test_coating_mass_for_each_basis(basis, wt_percent, expected_g):
    mass = coating_mass_g(substrate_mass_g=5.0, coating_wt_percent=wt_percent, basis=basis)

    assert mass == pytest.approx(expected_g, rel=HAND)


def test_to_dict_has_the_api_contract_keys():
    data = _nso().to_dict()

    assert {"coating", "basis", "substrate", "precursors", "element_balance"} <= set(data)
    assert set(data["coating"]) == {"formula", "molar_mass_g_per_mol", "mass_g", "amount_mol"}
    assert data["basis"] == "substrate"
    assert data["substrate"]["formula"] == LMNO
    assert data["substrate"]["amount_mol"] == pytest.approx(1.0 / 85.0275058, rel=HAND)
    assert data["precursors"][0]["volume_ml"] == pytest.approx(0.01829318159526, rel=HAND)
    assert set(data["element_balance"]) == {"Na", "Si"}


@pytest.mark.parametrize("wt_percent", [0, 100, -1, 150, float("nan"), "1"])
def test_coating_wt_percent_must_lie_strictly_between_0_and_100(wt_percent):
    with pytest.raises(InputError) as caught:
        _nso(coating_wt_percent=wt_percent)

    assert caught.value.field == "coating_wt_percent"


def test_unknown_basis_raises():
    with pytest.raises(InputError) as caught:
        _nso(basis="coating")

    assert caught.value.field == "basis"
    assert "'coating'" in caught.value.message


def test_substrate_mass_must_be_positive():
    with pytest.raises(InputError) as caught:
        _nso(substrate_mass_g=0)

    assert caught.value.field == "substrate_mass_g"


def test_bad_substrate_formula_is_reported_on_substrate_formula():
    with pytest.raises(FormulaError) as caught:
        _nso(substrate_formula="LMNO")

    assert caught.value.field == "substrate_formula"
    assert caught.value.message.startswith("LMNO: ")


def test_bad_coating_formula_is_reported_on_coating_formula():
    with pytest.raises(FormulaError) as caught:
        _nso(coating_formula="na2sio3")

    assert caught.value.field == "coating_formula"


def test_coating_of_only_volatile_elements_is_reported_on_coating_formula():
    with pytest.raises(BalanceError) as caught:
        _nso(coating_formula="C", precursors=[PrecursorSpec("C6H12O6")])

    assert caught.value.field == "coating_formula"


def test_missing_sodium_source_raises_a_balance_error():
    with pytest.raises(BalanceError, match="No precursor supplies Na"):
        _nso(precursors=[TEOS])


def test_bad_precursor_formula_is_reported_on_its_index():
    with pytest.raises(FormulaError) as caught:
        _nso(precursors=[TEOS, PrecursorSpec("Na2CO3.H2O")])

    assert caught.value.field == "precursors[1].formula"
