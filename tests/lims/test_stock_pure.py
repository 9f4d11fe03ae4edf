"""lims.stock: the powder stock arithmetic and its sentences, hand-worked, without a database."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from lims.stock import (
    Stock,
    StockError,
    check_correction,
    check_draw,
    check_initial,
    grams,
    pair_text,
    stock_of,
)

REPO = Path(__file__).resolve().parents[2]


def test_the_stock_module_never_imports_django():
    tree = ast.parse((REPO / "lims" / "stock.py").read_text())
    modules = {alias.name for n in ast.walk(tree) if isinstance(n, ast.Import) for alias in n.names}
    modules |= {n.module for n in ast.walk(tree) if isinstance(n, ast.ImportFrom) and n.module}
    assert not {m for m in modules if m.split(".")[0] in {"django", "rest_framework", "lims"}}


def test_five_grams_less_an_electrode_and_a_coating_leaves_one_and_a_half():
    # 5.00 − 1.50 (electrode) − 2.00 (coating substrate) = 1.50 g
    stock = stock_of(5.0, [(1.5, "g"), (2.0, "g")])
    assert stock.drawn_g == pytest.approx(3.5)
    assert stock.left_g == pytest.approx(1.5)
    assert stock.summary() == "1.50 g of 5.00 g left"


def test_milligrams_are_divided_by_a_thousand_and_volumes_are_not_drawn():
    assert grams(250.0, "mg") == pytest.approx(0.25)
    assert grams(1.5, "g") == 1.5
    assert grams(2.0, "mL") is None
    assert grams(None, "g") is None
    # 5.00 − 0.25 (250 mg) − 1.00 = 3.75 g; the 2 mL edge is not a mass
    assert stock_of(5.0, [(250.0, "mg"), (1.0, "g"), (2.0, "mL")]).left_g == pytest.approx(3.75)


def test_a_correction_is_added_to_what_is_left():
    # 5.00 − 1.50 − 2.00 − 0.10 = 1.40 g
    stock = stock_of(5.0, [(1.5, "g"), (2.0, "g")], [-0.1])
    assert stock.left_g == pytest.approx(1.4)
    assert stock.summary() == "1.40 g of 5.00 g left"


def test_a_powder_without_an_initial_amount_is_not_tracked():
    stock = stock_of(None, [(100.0, "g")])
    assert not stock.tracked and stock.left_g is None
    assert stock.summary() == "not tracked"


def test_an_overdraw_is_refused_naming_the_powder_and_both_numbers():
    with pytest.raises(StockError) as refused:
        check_draw(
            code="CAT-2026-0003",
            left_g=1.2,
            wanted_g=1.5,
            use="this electrode",
            field="active_mass_g",
        )
    assert refused.value.field == "active_mass_g"
    assert (
        refused.value.message == "CAT-2026-0003 has 1.20 g left; this electrode would use 1.50 g."
    )


def test_a_corrected_amount_says_it_would_use_more():
    with pytest.raises(StockError, match=r"^CAT has 0.50 g left; SYN-1 as corrected would use "
                       r"1.00 g more\.$"):  # fmt: skip
        check_draw(code="CAT", left_g=0.5, wanted_g=1.0, use="SYN-1 as corrected", field="f",
                   more=True)  # fmt: skip


def test_drawing_exactly_what_is_left_passes_despite_float_noise():
    left = Stock(5.0, 1.5 + 2.0).left_g  # 1.5
    check_draw(code="CAT", left_g=left, wanted_g=1.5, use="x", field="f")
    check_draw(code="CAT", left_g=0.3 - 0.1 - 0.1, wanted_g=0.1, use="x", field="f")  # 0.0999…


def test_an_untracked_powder_never_refuses_a_draw():
    check_draw(code="CAT", left_g=None, wanted_g=9_999.0, use="x", field="f")


def test_numbers_that_round_alike_get_more_decimals():
    assert pair_text(1.201, 1.204) == ("1.201 g", "1.204 g")
    assert pair_text(1.2031, 1.2034) == ("1.2031 g", "1.2034 g")
    assert pair_text(0.0001, 0.0004) == ("0.0001 g", "0.0004 g")
    assert pair_text(1.2, 1.5) == ("1.20 g", "1.50 g")
    assert pair_text(-0.001, 0.0) == ("-0.001 g", "0.000 g")


def test_a_correction_below_zero_is_refused_and_an_untracked_powder_has_none():
    check_correction(code="CAT", left_g=1.5, delta_g=-1.5, field="delta_g")
    with pytest.raises(StockError, match=r"^CAT has 1.50 g left; a correction of -2.00 g would "
                       r"leave -0.50 g\.$"):  # fmt: skip
        check_correction(code="CAT", left_g=1.5, delta_g=-2.0, field="delta_g")
    check_correction(code="CAT", left_g=-0.5, delta_g=0.2, field="delta_g")  # towards zero
    with pytest.raises(StockError, match="no recorded amount"):
        check_correction(code="CAT", left_g=None, delta_g=1.0, field="delta_g")


def test_a_yield_below_what_was_drawn_is_refused():
    # drawn 3.50 g, corrected +0.20 g: 3.30 g used; a yield of 3.00 g would leave −0.30 g
    stock = Stock(5.0, 3.5, 0.2)
    check_initial(code="CAT", stock=stock, initial_g=3.3, what="a yield", field="yield_mass_g")
    with pytest.raises(StockError) as refused:
        check_initial(code="CAT", stock=stock, initial_g=3.0, what="a yield", field="yield_mass_g")
    assert refused.value.message == (
        "CAT has 3.30 g drawn from it; a yield of 3.00 g would leave -0.30 g."
    )
