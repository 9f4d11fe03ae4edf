"""Formula parsing and molar masses, checked against sums worked by hand.

Atomic weights periodictable 2.1 carries (CIAAW 2021 abridged standard atomic weights), used in
every hand sum below: Li 6.94, Mn 54.938043, Ni 58.6934, Co 58.933194, O 15.999, Si 28.085,
Na 22.98976928, C 12.011, H 1.008, Ca 40.078, S 32.06.
Molar masses are compared with rel=1e-12: the hand sums use the same weights, so only float
rounding may differ.
"""

import ast
from pathlib import Path

import periodictable
import pytest
from hypothesis import given
from hypothesis import strategies as st

from synthesis.chemistry.errors import ChemistryError, FormulaError
from synthesis.chemistry.formula import (
    ATOMIC_WEIGHT_TABLE,
    ATOMIC_WEIGHTS_G_PER_MOL,
    is_element_symbol,
    molar_mass_g_per_mol,
    parse_formula,
)

EXACT = 1e-12
H2O_G_PER_MOL = 2 * 1.008 + 15.999  # 18.015


def test_atomic_weights_are_the_ciaaw_abridged_values_used_in_the_hand_sums():
    expected = {
        "Li": 6.94,
        "Mn": 54.938043,
        "Ni": 58.6934,
        "O": 15.999,
        "Si": 28.085,
        "Na": 22.98976928,
        "C": 12.011,
        "H": 1.008,
    }
    assert {el: ATOMIC_WEIGHTS_G_PER_MOL[el] for el in expected} == expected


def test_atomic_weight_table_records_the_periodictable_version_and_source():
    assert ATOMIC_WEIGHT_TABLE.startswith(f"periodictable {periodictable.__version__}:")
    assert "CIAAW" in ATOMIC_WEIGHT_TABLE


@pytest.mark.parametrize(
    ("text", "hand_sum"),
    [
        # Li2CO3: 2(6.94) + 12.011 + 3(15.999) = 13.88 + 12.011 + 47.997 = 73.888
        ("Li2CO3", 73.888),
        # 1.2(6.94) + 0.6(54.938043) + 0.2(58.6934) + 2(15.999)
        #   = 8.328 + 32.9628258 + 11.73868 + 31.998 = 85.0275058
        ("Li1.2Mn0.6Ni0.2O2", 85.0275058),
        # 1.05(6.94) + 0.5(58.6934) + 2(15.999) = 7.287 + 29.3467 + 31.998 = 68.6317
        ("Li1.05Ni0.5O2", 68.6317),
        # Si(OC2H5)4 = SiO4C8H20: 28.085 + 63.996 + 96.088 + 20.16 = 208.329
        ("Si(OC2H5)4", 208.329),
        # 2(22.98976928) + 28.085 + 3(15.999) = 45.97953856 + 28.085 + 47.997 = 122.06153856
        ("Na2SiO3", 122.06153856),
        # 45.97953856 + 12.011 + 47.997 = 105.98753856
        ("Na2CO3", 105.98753856),
        # 13.88 + 28.085 + 47.997 = 89.962
        ("Li2SiO3", 89.962),
        # 54.938043 + 12.011 + 47.997 = 114.946043
        ("MnCO3", 114.946043),
        # Ni(CH3COO)2 = NiC4H6O4: 58.6934 + 48.044 + 6.048 + 63.996 = 176.7814
        ("Ni(CH3COO)2", 176.7814),
        # Li[Ni0.8Co0.1Mn0.1]O2: 6.94 + 46.95472 + 5.8933194 + 5.4938043 + 31.998 = 97.2798437
        ("Li[Ni0.8Co0.1Mn0.1]O2", 97.2798437),
    ],
)
def test_molar_mass_matches_the_hand_sum(text, hand_sum):
    assert molar_mass_g_per_mol(text) == pytest.approx(hand_sum, rel=EXACT)


def test_elements_are_amounts_per_formula_unit_in_formula_order():
    formula = parse_formula("Li1.2Mn0.6Ni0.2O2")

    assert list(formula.elements) == ["Li", "Mn", "Ni", "O"]
    assert formula.elements == {"Li": 1.2, "Mn": 0.6, "Ni": 0.2, "O": 2.0}


@pytest.mark.parametrize(
    "text",
    [
        "Ni(CH3COO)2·4H2O",  # U+00B7 middle dot
        "Ni(CH3COO)2*4H2O",
        "Ni(CH3COO)2•4H2O",  # U+2022 bullet
        "Ni(CH3COO)2 · 4H2O",
    ],
)
def test_hydrate_dots_all_give_the_mass_with_water_included(text):
    # 176.7814 (anhydrous) + 4(18.015) = 176.7814 + 72.06 = 248.8414
    formula = parse_formula(text)

    assert formula.molar_mass_g_per_mol == pytest.approx(248.8414, rel=EXACT)
    assert formula.elements == {"Ni": 1.0, "C": 4.0, "H": 14.0, "O": 8.0}
    assert formula.text == "Ni(CH3COO)2·4H2O"


def test_manganese_acetate_tetrahydrate_with_star_equals_middle_dot():
    # 54.938043 + 118.088 (2 CH3COO) + 72.06 (4 H2O) = 245.086043
    dot = parse_formula("Mn(CH3COO)2·4H2O")
    star = parse_formula("Mn(CH3COO)2*4H2O")

    assert dot == star
    assert star.molar_mass_g_per_mol == pytest.approx(245.086043, rel=EXACT)


def test_fractional_hydrate_count_is_a_real_decimal():
    # CaSO4·0.5H2O: 40.078 + 32.06 + 63.996 + 0.5(18.015) = 136.134 + 9.0075 = 145.1415
    assert molar_mass_g_per_mol("CaSO4*0.5H2O") == pytest.approx(145.1415, rel=EXACT)


def test_period_written_as_hydrate_dot_raises_and_suggests_the_fix():
    # Read as a subscript of 2.4 this would be 218.414 g/mol, 30.4 g/mol too low.
    with pytest.raises(FormulaError) as caught:
        parse_formula("Ni(CH3COO)2.4H2O")

    assert str(caught.value) == (
        "Ni(CH3COO)2.4H2O: '.4H2O' looks like a hydrate written with a period; "
        "write Ni(CH3COO)2·4H2O or Ni(CH3COO)2*4H2O."
    )


@pytest.mark.parametrize(
    "text", ["LiOH.H2O", "CuSO4.5H2O", "Na2CO3.10H2O", "Ni(OH)2.0.5H2O", "ZnCl2.2NH3"]
)
def test_other_adducts_written_with_a_period_raise(text):
    with pytest.raises(FormulaError, match="written with a period"):
        parse_formula(text)


def test_unicode_subscripts_read_as_digits():
    assert parse_formula("Li₂CO₃") == parse_formula("Li2CO3")


def test_adduct_parts_may_carry_a_leading_count():
    # 2Na2CO3·3H2O2 (sodium percarbonate): Na4 C2 O12 H6
    assert parse_formula("2Na2CO3·3H2O2").elements == {"Na": 4.0, "C": 2.0, "O": 12.0, "H": 6.0}


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("Xx2O", "unknown element 'Xx'"),
        ("li2co3", "capital letter"),
        ("Li2co3", "capital letter"),
        ("Li2CO3)", "no matching opening bracket"),
        ("(Li2CO3", "never closed"),
        ("Li2()O", "empty group"),
        ("Li2C%O3", "mixtures"),
        ("Li2CO3@2.1", "densities"),
        ("Fe{3+}2O3", "charges"),
        ("D2O", "isotopes"),
        ("O[18]", "isotope labels"),
        ("Tc2O7", "no IUPAC standard atomic weight"),
        ("2Li2CO3", "one formula unit"),
        ("Li2CO3.", "a period must sit inside a decimal count"),
        ("Li0O", "count of 0"),
        ("Li 2CO3", "spaces"),
        ("Li2CO3·", "both sides"),
    ],
)
def test_bad_formula_raises_naming_the_text_and_the_problem(text, problem):
    with pytest.raises(FormulaError) as caught:
        parse_formula(text)

    assert caught.value.message.startswith(f"{text}: ")
    assert problem in caught.value.message
    assert caught.value.field == "formula"


@pytest.mark.parametrize("text", ["", "   "])
def test_empty_formula_raises(text):
    with pytest.raises(FormulaError, match="empty"):
        parse_formula(text)


def test_non_text_formula_raises_instead_of_type_error():
    with pytest.raises(FormulaError, match="must be text"):
        parse_formula(None)


def test_error_is_reported_against_the_callers_field():
    with pytest.raises(FormulaError) as caught:
        parse_formula("Xx2O", field="precursors[1].formula")

    assert caught.value.as_dict() == {"precursors[1].formula": ["Xx2O: unknown element 'Xx'."]}
    assert isinstance(caught.value, ChemistryError)
    assert isinstance(caught.value, ValueError)


def test_cached_formula_elements_cannot_be_mutated():
    with pytest.raises(TypeError):
        parse_formula("Li2CO3").elements["Li"] = 3.0  # type: ignore[index]


def test_element_symbols_are_case_sensitive_and_exclude_isotopes():
    assert is_element_symbol("Li")
    assert not is_element_symbol("li")
    assert not is_element_symbol("D")


@given(
    base=st.sampled_from(["Li2CO3", "Ni(CH3COO)2", "Mn(NO3)2", "Si(OC2H5)4"]),
    waters=st.integers(min_value=1, max_value=12),
    dot=st.sampled_from(["·", "*", "•", " · "]),
)
def test_each_hydrate_water_adds_the_mass_of_h2o(base, waters, dot):
    hydrate = molar_mass_g_per_mol(f"{base}{dot}{waters}H2O")
    assert hydrate == pytest.approx(molar_mass_g_per_mol(base) + waters * H2O_G_PER_MOL, rel=EXACT)


def test_chemistry_package_never_imports_django():
    package = Path(__file__).resolve().parents[2] / "synthesis" / "chemistry"
    for path in package.glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                modules = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                modules = [node.module or ""]
            else:
                continue
            assert not any(m.split(".")[0] == "django" for m in modules), path
