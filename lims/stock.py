"""Powder stock arithmetic (no Django): what is left of a powder, and the refusal of an overdraw.

The stock is derived, never stored as a counter that could drift:

    left (g) = initial (g) − Σ drawn (g) + Σ corrections (g)

initial is the yield of the batch that made the powder, else the amount entered when it was
registered; None means the powder is not tracked, and nothing is ever refused for it. A draw is
the amount on a lineage edge out of the powder (an electrode's active material, a coating
batch's substrate) when that amount is a mass; lims.stock_queries sums the same in SQL.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

#: grams per unit of the lineage edge amounts that are masses (volumes are not drawn here)
GRAMS_PER_UNIT = {"g": 1.0, "mg": 0.001}
#: float noise allowed in a comparison: one microgram, far below any balance in the lab
TOLERANCE_G = 1e-6


class StockError(ValueError):
    """A draw, correction or yield that would leave a powder below zero; ``field`` names the
    input to blame."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field
        self.message = message


@dataclass(frozen=True)
class Stock:
    """A powder's stock: initial amount (None: not tracked), drawn and corrected, in grams."""

    initial_g: float | None
    drawn_g: float = 0.0
    corrected_g: float = 0.0

    @property
    def tracked(self) -> bool:
        return self.initial_g is not None

    @property
    def left_g(self) -> float | None:
        """initial − drawn + corrected; None when not tracked."""
        if self.initial_g is None:
            return None
        return self.initial_g - self.drawn_g + self.corrected_g

    def summary(self) -> str:
        """'3.40 g of 5.00 g left', or 'not tracked'."""
        if self.initial_g is None:
            return "not tracked"
        left, initial = pair_text(self.left_g, self.initial_g)
        return f"{left} of {initial} left"


def grams(amount: float | None, unit: str) -> float | None:
    """An edge amount in grams (mg / 1000); None when it has no amount or is not a mass."""
    factor = GRAMS_PER_UNIT.get(unit)
    if amount is None or factor is None:
        return None
    return amount * factor


def stock_of(
    initial_g: float | None,
    draws: Iterable[tuple[float | None, str]] = (),
    corrections_g: Iterable[float] = (),
) -> Stock:
    """The stock from the initial amount, the (amount, unit) of each draw and the corrections."""
    drawn = sum(g for g in (grams(amount, unit) for amount, unit in draws) if g is not None)
    return Stock(initial_g, float(drawn), float(sum(corrections_g)))


def grams_text(value: float, decimals: int = 2) -> str:
    """1.2 -> '1.20 g', -0.1 -> '-0.10 g' (never '-0.00 g')."""
    text = f"{value:.{decimals}f}"
    return f"{text.lstrip('-') if float(text) == 0 else text} g"


def pair_text(a: float, b: float) -> tuple[str, str]:
    """Both in grams with two decimals, or as many more (up to six) as it takes to tell them
    apart: 1.201 g and 1.204 g are not both '1.20 g'."""
    decimals = 2
    while decimals < 6 and a != b and grams_text(a, decimals) == grams_text(b, decimals):
        decimals += 1
    return grams_text(a, decimals), grams_text(b, decimals)


def check_draw(
    *, code: str, left_g: float | None, wanted_g: float, use: str, field: str, more: bool = False
) -> None:
    """StockError when drawing ``wanted_g`` (``more`` than before: a corrected amount) from a
    powder with ``left_g`` left would overdraw it: "CAT-2026-0003 has 1.20 g left; this
    electrode would use 1.50 g." Untracked (None) powders are never refused."""
    if left_g is None or wanted_g <= left_g + TOLERANCE_G:
        return
    left, wanted = pair_text(left_g, wanted_g)
    extra = " more" if more else ""
    raise StockError(field, f"{code} has {left} left; {use} would use {wanted}{extra}.")


def check_correction(*, code: str, left_g: float | None, delta_g: float, field: str) -> None:
    """StockError when a loss would leave the powder below zero (or it is not tracked); adding
    is always allowed, also to a stock that was overdrawn before it was tracked."""
    if left_g is None:
        raise StockError(
            field,
            f"{code} has no recorded amount (no batch yield, none entered): there is no stock "
            "to correct.",
        )
    if delta_g >= 0 or left_g + delta_g >= -TOLERANCE_G:
        return
    left, after = pair_text(left_g, left_g + delta_g)
    change = grams_text(delta_g, 2 if abs(delta_g) >= 0.01 else 6)
    raise StockError(
        field, f"{code} has {left} left; a correction of {change} would leave {after}."
    )


def check_initial(*, code: str, stock: Stock, initial_g: float, what: str, field: str) -> None:
    """StockError when a new initial amount (a corrected yield) is less than what was already
    drawn net of corrections: "CAT-… has 3.50 g drawn from it; a yield of 3.00 g would leave
    -0.50 g"."""
    if not stock.tracked:
        return
    used_g = stock.drawn_g - stock.corrected_g
    if initial_g - used_g >= -TOLERANCE_G:
        return
    used, after = pair_text(used_g, initial_g - used_g)
    raise StockError(
        field,
        f"{code} has {used} drawn from it; {what} of {grams_text(initial_g)} would leave {after}.",
    )
