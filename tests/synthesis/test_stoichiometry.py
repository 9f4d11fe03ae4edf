"""Precursor plans from the element balance, against amounts worked by hand.

Molar masses (CIAAW 2021 abridged weights, see test_formula.py):
  Li1.2Mn0.6Ni0.2O2 85.0275058, Li2CO3 73.888, MnCO3 114.946043,
  Ni(CH3COO)2·4H2O 248.8414, Mn0.75Ni0.25CO3 = 41.20353225 + 14.67335 + 60.008 = 115.88488225,
  Si(OC2H5)4 208.329.
Hand-worked numbers are compared with rel=1e-9 (they were carried to 10+ digits); the
element balance must close to rel=1e-12.
"""

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from synthesis.chemistry.errors import BalanceError, FormulaError, InputError
from synthesis.chemistry.stoichiometry import PrecursorSpec, plan_precursors

HAND = 1e-9
CLOSED = 1e-12
LMNO = "Li1.2Mn0.6Ni0.2O2"
# 10.000 g of LMNO is n_t = 10 / 85.0275058 = 0.11760900082758867 mol
N_LMNO_10G = 10 / 85.0275058


def _acetate_route(**overrides):
    """10 g LMNO from Li2CO3 + MnCO3 (99 %) + Ni(CH3COO)2·4H2O with 5 % Li excess."""
    arguments = {
        "target_formula": LMNO,
        "target_mass_g": 10.0,
        "precursors": [
            PrecursorSpec("Li2CO3", name="lithium carbonate"),
            PrecursorSpec("MnCO3", purity_percent=99.0),
            PrecursorSpec("Ni(CH3COO)2·4H2O"),
        ],
        "excess_percent": {"Li": 5},
    }
    return plan_precursors(**{**arguments, **overrides})


def test_li_excess_scales_li2co3_amount_and_mass():
    # n(Li2CO3) = n(Li)/2 × 1.05 = 1.2/2 × 1.05 × 0.1176090008 = 0.63 × n_t = 0.0740936705 mol
    # mass = 0.0740936705 × 73.888 = 5.4746331275 g
    li2co3 = _acetate_route().precursors[0]

    assert li2co3.amount_mol == pytest.approx(0.63 * N_LMNO_10G, rel=HAND)
    assert li2co3.mass_g == pytest.approx(5.474633127483789, rel=HAND)
    assert li2co3.excess_percent == 5.0
    assert li2co3.name == "lithium carbonate"


def test_purity_raises_mnco3_mass_but_not_its_amount():
    # n(MnCO3) = 0.6 × n_t = 0.0705654005 mol (no excess)
    # mass = 0.0705654005 × 114.946043 / 0.99 = 8.1931450099 g
    mnco3 = _acetate_route().precursors[1]

    assert mnco3.amount_mol == pytest.approx(0.6 * N_LMNO_10G, rel=HAND)
    assert mnco3.mass_g == pytest.approx(8.193145009887905, rel=HAND)
    assert mnco3.excess_percent == 0.0


def test_nickel_acetate_hydrate_mass_includes_its_water():
    # n = 0.2 × n_t = 0.0235218002 mol; mass = 0.0235218002 × 248.8414 = 5.8531976837 g
    nickel = _acetate_route().precursors[2]

    assert nickel.formula == "Ni(CH3COO)2·4H2O"
    assert nickel.name == "Ni(CH3COO)2·4H2O"
    assert nickel.mass_g == pytest.approx(5.8531976837076645, rel=HAND)
    assert nickel.volume_ml is None


def test_element_balance_requires_the_excess_and_is_closed_by_the_supply():
    # Li required = 1.2 × 1.05 × n_t = 0.1481873410 mol; Mn 0.6 n_t; Ni 0.2 n_t
    balance = _acetate_route().element_balance

    assert list(balance) == ["Li", "Mn", "Ni"]
    assert balance["Li"].required_mol == pytest.approx(1.26 * N_LMNO_10G, rel=HAND)
    assert balance["Ni"].required_mol == pytest.approx(0.2 * N_LMNO_10G, rel=HAND)
    for required, supplied in balance.values():
        assert supplied == pytest.approx(required, rel=CLOSED)


def test_target_amount_in_mol_gives_the_same_plan_as_the_equivalent_mass():
    by_mass = _acetate_route()
    by_amount = _acetate_route(target_mass_g=None, target_amount_mol=N_LMNO_10G)

    assert by_amount.target.mass_g == pytest.approx(10.0, rel=CLOSED)
    for a, b in zip(by_mass.precursors, by_amount.precursors, strict=True):
        assert a.mass_g == pytest.approx(b.mass_g, rel=CLOSED)


def test_coprecipitated_precursor_solves_an_overdetermined_consistent_balance():
    # Mn0.75Ni0.25CO3 fixes Mn:Ni = 3:1 = 0.6:0.2, so 3 elements, 2 precursors, zero residual.
    # n(TM carbonate) = 0.8 × n_t = 0.0940872007 mol; × 115.88488225 = 10.90328417 g
    # n(Li2CO3) = 0.6 × n_t = 0.0705654005 mol; × 73.888 = 5.2139363119 g
    plan = plan_precursors(
        target_formula=LMNO,
        target_mass_g=10.0,
        precursors=[PrecursorSpec("Li2CO3"), PrecursorSpec("Mn0.75Ni0.25CO3")],
    )

    assert [p.mass_g for p in plan.precursors] == pytest.approx(
        [5.213936311889324, 10.903284169956212], rel=HAND
    )


def test_liquid_precursor_gets_a_volume_from_its_density():
    # 1 mmol SiO2 from TEOS: 1e-3 × 208.329 / 0.98 = 0.2125806 g; / 0.933 = 0.2278463 mL
    plan = plan_precursors(
        target_formula="SiO2",
        target_amount_mol=1e-3,
        precursors=[PrecursorSpec("Si(OC2H5)4", purity_percent=98, density_g_per_ml=0.933)],
    )
    teos = plan.precursors[0]

    assert teos.mass_g == pytest.approx(0.208329 / 0.98, rel=HAND)
    assert teos.volume_ml == pytest.approx(0.208329 / 0.98 / 0.933, rel=HAND)


def test_to_dict_has_the_api_contract_keys():
    data = _acetate_route().to_dict()

    assert {"target", "precursors", "element_balance"} <= set(data)
    assert set(data["target"]) == {"formula", "molar_mass_g_per_mol", "amount_mol", "mass_g"}
    contract = {"formula", "name", "molar_mass_g_per_mol", "amount_mol", "mass_g", "volume_ml"}
    assert all(contract <= set(p) for p in data["precursors"])
    assert data["element_balance"]["Li"].keys() == {"required_mol", "supplied_mol"}
    assert data["atomic_weight_table"].startswith("periodictable ")


def test_volatile_elements_are_configurable():
    # With S volatile, NiSO4·6H2O is a plain Ni source: n = 0.5 mol; × 262.8394 = 131.4197 g
    plan = plan_precursors(
        target_formula="NiO",
        target_amount_mol=0.5,
        precursors=[PrecursorSpec("NiSO4·6H2O")],
        volatile_elements={"O", "H", "S"},
    )

    assert plan.precursors[0].mass_g == pytest.approx(0.5 * 262.8394, rel=HAND)
    assert plan.volatile_elements == frozenset({"O", "H", "S"})


# --- Balance errors -----------------------------------------------------------------------


def _plan(target, *formulas, **kwargs):
    specs = [PrecursorSpec(f) for f in formulas]
    return plan_precursors(target_formula=target, target_mass_g=1.0, precursors=specs, **kwargs)


def test_target_element_without_a_source_raises_naming_it():
    with pytest.raises(BalanceError) as caught:
        _plan(LMNO, "Li2CO3", "MnCO3")

    assert caught.value.field == "precursors"
    assert "No precursor supplies Ni" in caught.value.message


def test_precursor_bringing_a_foreign_element_raises_naming_precursor_and_element():
    with pytest.raises(BalanceError) as caught:
        _plan("Li2MnO3", "Li2CO3", "MnCO3", "NiO")

    assert caught.value.field == "precursors[2].formula"
    assert "NiO brings Ni" in caught.value.message


def test_nitrogen_is_foreign_once_it_is_no_longer_volatile():
    with pytest.raises(BalanceError) as caught:
        _plan("LiNiO2", "LiOH·H2O", "Ni(NO3)2·6H2O", volatile_elements={"O", "H", "C"})

    assert caught.value.field == "precursors[1].formula"
    assert "brings N," in caught.value.message


def test_precursor_of_only_volatile_elements_raises_instead_of_being_unsizable():
    with pytest.raises(BalanceError) as caught:
        _plan("Li2O", "Li2CO3", "C2H5OH")

    assert caught.value.field == "precursors[1].formula"
    assert "C2H5OH supplies none of Li" in caught.value.message


def test_more_precursors_than_independent_elements_raises_naming_them():
    with pytest.raises(BalanceError) as caught:
        _plan("Li2MnO3", "Li2CO3", "LiOH·H2O", "MnCO3")

    assert caught.value.field == "precursors"
    assert "balance of Li cannot decide between Li2CO3 and LiOH·H2O" in caught.value.message


def test_fixed_ratio_precursor_that_misses_the_target_ratio_raises_naming_the_elements():
    # Mn0.75Ni0.25CO3 gives Mn:Ni = 3:1, the target needs 5:3.
    with pytest.raises(BalanceError) as caught:
        _plan("Li1.2Mn0.5Ni0.3O2", "Li2CO3", "Mn0.75Ni0.25CO3")

    assert "cannot supply Mn and Ni in the proportions" in caught.value.message


def test_negative_precursor_amount_raises():
    # Li: x1 + x2 = 2, Mn: 2 x1 + x2 = 1  ->  x1 = -1 (LiMn2O4), x2 = 3
    with pytest.raises(BalanceError, match="negative amount of LiMn2O4"):
        _plan("Li2MnO3", "LiMn2O4", "LiMnO2")


def test_precursor_with_zero_solved_amount_is_reported_as_not_needed():
    with pytest.raises(BalanceError, match="MnO2 is not needed"):
        _plan("LiMnO2", "LiMnO2", "MnO2")


def test_precursor_carrying_two_elements_with_different_excesses_raises():
    with pytest.raises(BalanceError) as caught:
        _plan("Li1.1Mn1.9O4", "LiMn2O4", "Li2CO3", excess_percent={"Li": 5})

    assert caught.value.field == "excess_percent"
    assert "LiMn2O4 supplies Li and Mn" in caught.value.message


def test_target_with_only_volatile_elements_raises():
    with pytest.raises(BalanceError) as caught:
        _plan("H2O", "H2O")

    assert caught.value.field == "target_formula"


# --- Input errors -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("sizes", "field"),
    [
        ({}, "target_mass_g"),
        ({"target_mass_g": 1.0, "target_amount_mol": 0.1}, "target_mass_g"),
        ({"target_mass_g": 0.0}, "target_mass_g"),
        ({"target_mass_g": float("nan")}, "target_mass_g"),
        ({"target_mass_g": True}, "target_mass_g"),
        ({"target_amount_mol": -1.0}, "target_amount_mol"),
    ],
)
def test_target_size_must_be_exactly_one_positive_number(sizes, field):
    with pytest.raises(InputError) as caught:
        plan_precursors(target_formula="Li2O", precursors=[PrecursorSpec("Li2CO3")], **sizes)

    assert caught.value.field == field


@pytest.mark.parametrize(
    ("spec", "field"),
    [
        (PrecursorSpec("Li2CO3", purity_percent=0), "precursors[1].purity_percent"),
        (PrecursorSpec("Li2CO3", purity_percent=100.5), "precursors[1].purity_percent"),
        (PrecursorSpec("Li2CO3", density_g_per_ml=-1.0), "precursors[1].density_g_per_ml"),
    ],
)
def test_precursor_purity_and_density_are_checked_per_entry(spec, field):
    with pytest.raises(InputError) as caught:
        plan_precursors(
            target_formula="Li2MnO3",
            target_mass_g=1.0,
            precursors=[PrecursorSpec("MnCO3"), spec],
        )

    assert caught.value.field == field


def test_bad_precursor_formula_is_reported_on_its_index():
    with pytest.raises(FormulaError) as caught:
        _plan("Li2MnO3", "MnCO3", "Ni(CH3COO)2.4H2O")

    assert caught.value.field == "precursors[1].formula"


def test_bad_target_formula_is_reported_on_target_formula():
    with pytest.raises(FormulaError) as caught:
        _plan("Xx2O", "Li2CO3")

    assert caught.value.field == "target_formula"


def test_empty_precursor_list_raises():
    with pytest.raises(InputError) as caught:
        _plan("Li2O")

    assert caught.value.field == "precursors"


@pytest.mark.parametrize(
    ("excess", "field"),
    [
        ({"O": 5}, "excess_percent.O"),
        ({"Na": 5}, "excess_percent.Na"),
        ({"Li": -1}, "excess_percent.Li"),
        ({"Li": 105}, "excess_percent.Li"),
        ({"Li": "5"}, "excess_percent.Li"),
    ],
)
def test_excess_must_be_a_sensible_percentage_of_a_balanced_target_element(excess, field):
    with pytest.raises(InputError) as caught:
        _plan("Li2O", "Li2CO3", excess_percent=excess)

    assert caught.value.field == field


@pytest.mark.parametrize("volatile", ["OHCN", {"O", "h"}, {"O", "D"}])
def test_volatile_elements_must_be_element_symbols(volatile):
    with pytest.raises(InputError) as caught:
        _plan("Li2O", "Li2CO3", volatile_elements=volatile)

    assert caught.value.field == "volatile_elements"


# --- Property: the balance always closes ----------------------------------------------------

METALS = ["Li", "Na", "Mg", "Al", "Ti", "Mn", "Fe", "Co", "Ni", "Cu", "Zn", "Zr", "Nb", "W"]


@st.composite
def random_plans(draw):
    """A target of 1-5 metals with decimal counts, each metal from its own binary precursor."""
    metals = draw(st.lists(st.sampled_from(METALS), min_size=1, max_size=5, unique=True))
    counts = {m: draw(st.integers(1, 300)) / 100 for m in metals}
    per_precursor = {m: draw(st.integers(1, 3)) for m in metals}
    anions = {m: draw(st.sampled_from(["O", "(CO3)", "(OH)", "(CH3COO)"])) for m in metals}
    specs = [
        PrecursorSpec(
            f"{m}{per_precursor[m]}{anions[m]}{draw(st.integers(1, 4))}",
            purity_percent=draw(st.floats(50, 100)),
            density_g_per_ml=draw(st.none() | st.floats(0.5, 5)),
        )
        for m in metals
    ]
    excess = {m: draw(st.floats(0, 20)) for m in draw(st.sets(st.sampled_from(metals)))}
    return {
        "target": "".join(f"{m}{c:g}" for m, c in counts.items()) + "O2",
        "counts": counts,
        "per_precursor": per_precursor,
        "specs": draw(st.permutations(specs)),
        "excess": excess,
        "mass_g": draw(st.floats(1e-4, 1e3)),
    }


@settings(max_examples=200, deadline=None)
@given(case=random_plans())
def test_random_plans_supply_exactly_what_they_require(case):
    plan = plan_precursors(
        target_formula=case["target"],
        target_mass_g=case["mass_g"],
        precursors=case["specs"],
        excess_percent=case["excess"],
    )
    n_target = case["mass_g"] / plan.target.molar_mass_g_per_mol
    for metal, count in case["counts"].items():
        required, supplied = plan.element_balance[metal]
        factor = 1 + case["excess"].get(metal, 0.0) / 100
        assert required == pytest.approx(count * n_target * factor, rel=1e-9)
        assert supplied == pytest.approx(required, rel=1e-9)
    for spec, quantity in zip(case["specs"], plan.precursors, strict=True):
        metal = next(m for m in case["counts"] if spec.formula.startswith(m))
        assert quantity.excess_percent == case["excess"].get(metal, 0.0)
        expected_mol = case["counts"][metal] * n_target * (1 + quantity.excess_percent / 100)
        assert quantity.amount_mol * case["per_precursor"][metal] == pytest.approx(
            expected_mol, rel=1e-9
        )
        assert quantity.mass_g * spec.purity_percent / 100 == pytest.approx(
            quantity.amount_mol * quantity.molar_mass_g_per_mol, rel=1e-9
        )
        if spec.density_g_per_ml is not None:
            assert quantity.volume_ml * spec.density_g_per_ml == pytest.approx(
                quantity.mass_g, rel=1e-9
            )
