"""Chemical formulas and molar masses from IUPAC standard atomic weights.

Atomic weights come from ``periodictable`` (CIAAW 2021 abridged standard atomic weights).
Formulas are read by a small strict parser of our own rather than ``periodictable.formula``,
because that grammar also accepts isotopes (``D2O``, ``O[18]``), ions (``Fe{3+}``), mixtures
(``5%wt ...``), densities (``@2.2``) and, worst of all, reads the hydrate typed with a period
(``Ni(CH3COO)2.4H2O``) as a subscript of 2.4, silently giving a molar mass 30 g/mol too low.

Accepted syntax (case-sensitive, as chemists write it):

* element symbols with optional integer or decimal counts: ``Li1.2Mn0.6Ni0.2O2``;
* groups in round or square brackets with a count: ``Si(OC2H5)4``, ``Li[Ni0.8Co0.1Mn0.1]O2``;
* hydrates and other adducts joined by ``·`` (U+00B7), ``•``, ``∙``, ``⋅`` or ``*``, each part
  with an optional leading count: ``Mn(CH3COO)2·4H2O``, ``CaSO4*0.5H2O``, ``2Na2CO3·3H2O2``;
* Unicode subscript digits (``Li₂CO₃``), read as ordinary digits.

Rejected, with a FormulaError naming the text: empty text, lowercase where a symbol must start
(``li2co3``: CO and Co differ, so Kiln never guesses the case), unknown symbols, isotopes
(``D``, ``T``), elements without a standard atomic weight (Tc, Pm, Po-Ac, Np and heavier),
charges, mixtures, spaces inside a formula part, unbalanced brackets, zero counts, a leading
count on a formula that is not an adduct (``2Li2CO3``), and a period used as the adduct dot
(``Ni(CH3COO)2.4H2O``, ``LiOH.H2O``). The last check flags a period followed by an optional
number and a common lattice molecule (H2O, NH3, CH3OH, C2H5OH) that ends the formula or an
adduct part; decimals inside a formula (``Li1.05Ni0.5O2``) are untouched.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from types import MappingProxyType

import periodictable

from .errors import FormulaError

ATOMIC_WEIGHT_TABLE = (
    f"periodictable {periodictable.__version__}: IUPAC/CIAAW standard atomic weights 2021, "
    "abridged values (Prohaska et al. 2022, doi:10.1515/pac-2019-0603)"
)

# CIAAW gives no standard atomic weight for elements without stable isotopes or a
# characteristic terrestrial isotopic composition; periodictable fills in a mass number
# (Tc = 98), which is not a molar mass a weighing can rely on.
NO_STANDARD_ATOMIC_WEIGHT = frozenset(
    {"Tc", "Pm", "Po", "At", "Rn", "Fr", "Ra", "Ac"}
    | {el.symbol for el in periodictable.elements if el.number >= 93}
)
ATOMIC_WEIGHTS_G_PER_MOL: Mapping[str, float] = MappingProxyType(
    {
        el.symbol: float(el.mass)
        for el in periodictable.elements
        if el.number > 0 and el.symbol not in NO_STANDARD_ATOMIC_WEIGHT
    }
)
ELEMENT_SYMBOLS = frozenset(el.symbol for el in periodictable.elements if el.number > 0)

ADDUCT_SEPARATORS = "·•∙⋅*"  # U+00B7, U+2022, U+2219, U+22C5 and the ASCII asterisk
MAX_FORMULA_LENGTH = 200
_DOT = "·"
_SUBSCRIPT_DIGITS = str.maketrans("₀₁₂₃₄₅₆₇₈₉", "0123456789")
_SYMBOL = re.compile(r"[A-Z][a-z]?")
_NUMBER = re.compile(r"\d+(?:\.\d+)?")
_BRACKETS = {"(": ")", "[": "]"}
_LATTICE_MOLECULES = ("H2O", "NH3", "CH3OH", "C2H5OH")
_PERIOD_ADDUCT = re.compile(
    r"\.((?:\d+(?:\.\d+)?)?\(?(?:" + "|".join(_LATTICE_MOLECULES) + r")\)?)(?=$|" + _DOT + ")"
)
_LEADING_COUNT = re.compile(r"(?:^|" + _DOT + r")\d+$")
_HINTS = {
    "{": "charges such as {2+} are not supported; write the neutral compound",
    "+": "charges and mixtures are not supported; write one neutral compound",
    "-": "charges are not supported; write the neutral compound",
    "%": "mixtures by percentage are not a formula; plan each component separately",
    "@": "densities are entered in their own field, not in the formula",
    "/": "mixtures are not a formula; plan each component separately",
    ",": "a decimal count uses a point, e.g. Li1.2",
}


@dataclass(frozen=True)
class Formula:
    """A parsed formula: normalised text, amount of each element per formula unit, molar mass.

    ``elements`` maps symbol -> amount per formula unit (hydrate water included), in order of
    first appearance; it is read-only because parsed formulas are cached and shared.
    ``molar_mass_g_per_mol`` = sum over elements of amount × standard atomic weight.
    """

    text: str
    elements: Mapping[str, float]
    molar_mass_g_per_mol: float

    def __hash__(self) -> int:
        return hash(self.text)


def parse_formula(text: str, *, field: str = "formula") -> Formula:
    """Parse ``text`` into a Formula; errors are reported against ``field``.

    M = Σ n_i × A_i, with n_i the amount of element i per formula unit and A_i its
    IUPAC/CIAAW standard atomic weight (g/mol).
    """
    if not isinstance(text, str):
        raise FormulaError(field, f"A formula must be text, not {type(text).__name__}.")
    try:
        return _parse_cached(text)
    except FormulaError as err:
        raise err.with_field(field) from None


def molar_mass_g_per_mol(text: str, *, field: str = "formula") -> float:
    """Molar mass of ``text`` in g/mol (see parse_formula)."""
    return parse_formula(text, field=field).molar_mass_g_per_mol


def is_element_symbol(symbol: object) -> bool:
    """True for a real element symbol with its exact capitalisation ('Li', not 'li' or 'D')."""
    return isinstance(symbol, str) and symbol in ELEMENT_SYMBOLS


@lru_cache(maxsize=2048)
def _parse_cached(text: str) -> Formula:
    source = text.strip()
    normalised = _normalise(source)
    _reject_period_adduct(source, normalised)
    counts: dict[str, float] = {}
    for part in _adduct_parts(source, normalised):
        for symbol, amount in part.items():
            counts[symbol] = counts.get(symbol, 0.0) + amount
    mass = sum(amount * ATOMIC_WEIGHTS_G_PER_MOL[symbol] for symbol, amount in counts.items())
    return Formula(text=normalised, elements=MappingProxyType(counts), molar_mass_g_per_mol=mass)


def _normalise(source: str) -> str:
    """One spelling per formula: ASCII digits, '·' for every adduct dot, no spaces around it."""
    if not source:
        raise FormulaError("formula", "The formula is empty; enter a formula such as Li2CO3.")
    if len(source) > MAX_FORMULA_LENGTH:
        raise FormulaError(
            "formula", f"The formula is longer than {MAX_FORMULA_LENGTH} characters."
        )
    text = source.translate(_SUBSCRIPT_DIGITS)
    text = re.sub(r"\s*[" + re.escape(ADDUCT_SEPARATORS) + r"]\s*", _DOT, text)
    if re.search(r"\s", text):
        raise FormulaError(
            "formula", f"{source}: spaces are not allowed inside a formula; remove them."
        )
    return text


def _reject_period_adduct(source: str, text: str) -> None:
    """A period before a lattice molecule is a mistyped adduct dot, never a decimal count."""
    match = next(
        # The period of a leading count ("·0.5H2O") is a real decimal point.
        (m for m in _PERIOD_ADDUCT.finditer(text) if not _LEADING_COUNT.search(text[: m.start()])),
        None,
    )
    if match is None:
        return
    head, adduct, tail = text[: match.start()], match.group(1), text[match.end() :]
    raise FormulaError(
        "formula",
        f"{source}: '.{adduct}' looks like a hydrate written with a period; "
        f"write {head}·{adduct}{tail} or {head}*{adduct}{tail}.",
    )


def _adduct_parts(source: str, text: str) -> list[dict[str, float]]:
    """Split on '·' and parse each part, scaled by its optional leading count."""
    pieces = text.split(_DOT)
    parts = []
    for piece in pieces:
        if not piece:
            raise FormulaError(
                "formula", f"{source}: a hydrate dot must have a formula on both sides."
            )
        lead = _NUMBER.match(piece)
        coefficient = _positive_count(source, lead.group()) if lead else 1.0
        if lead and len(pieces) == 1:
            raise FormulaError(
                "formula",
                f"{source}: the leading '{lead.group()}' multiplies the whole formula; "
                f"write one formula unit ({piece[lead.end() :]}).",
            )
        body = piece[lead.end() :] if lead else piece
        if not body:
            raise FormulaError("formula", f"{source}: '{piece}' is a number, not a formula.")
        counts = _GroupParser(source, body).parse()
        parts.append({symbol: amount * coefficient for symbol, amount in counts.items()})
    return parts


def _positive_count(source: str, digits: str) -> float:
    value = float(digits)
    if value <= 0:
        raise FormulaError("formula", f"{source}: a count of {digits} is not allowed; use > 0.")
    return value


def _element_symbol(source: str, symbol: str) -> str:
    """Check a symbol against the table of standard atomic weights."""
    if symbol in ("D", "T"):
        raise FormulaError(
            "formula",
            f"{source}: isotopes such as {symbol} are not supported; Kiln uses standard "
            "atomic weights, write H.",
        )
    if symbol not in ELEMENT_SYMBOLS:
        raise FormulaError("formula", f"{source}: unknown element '{symbol}'.")
    if symbol in NO_STANDARD_ATOMIC_WEIGHT:
        raise FormulaError(
            "formula",
            f"{source}: {symbol} has no IUPAC standard atomic weight (no stable isotopes), "
            "so Kiln cannot give a reliable molar mass.",
        )
    return symbol


class _GroupParser:
    """Recursive-descent parser for one adduct part: symbols, counts and bracketed groups."""

    def __init__(self, source: str, text: str) -> None:
        self.source, self.text, self.pos = source, text, 0

    def parse(self) -> dict[str, float]:
        return self._sequence(closer=None)

    def _sequence(self, closer: str | None) -> dict[str, float]:
        counts: dict[str, float] = {}
        start = self.pos
        while self.pos < len(self.text) and self.text[self.pos] != closer:
            unit, multiplier = self._unit()
            for symbol, amount in unit.items():
                counts[symbol] = counts.get(symbol, 0.0) + amount * multiplier
        if closer is not None:
            opener = self.text[start - 1]
            if self.pos >= len(self.text):
                raise self._error(f"'{opener}' is never closed with '{closer}'")
            if self.pos == start:
                raise self._error(f"'{opener}{closer}' is an empty group")
            self.pos += 1
        return counts

    def _unit(self) -> tuple[dict[str, float], float]:
        """One element or bracketed group, with the count that follows it."""
        char = self.text[self.pos]
        if char in _BRACKETS:
            self.pos += 1
            inner = self._sequence(closer=_BRACKETS[char])
            return inner, self._count()
        match = _SYMBOL.match(self.text, self.pos)
        if match is None:
            raise self._unexpected(char)
        self.pos = match.end()
        return {_element_symbol(self.source, match.group()): 1.0}, self._count()

    def _count(self) -> float:
        match = _NUMBER.match(self.text, self.pos)
        if match is None:
            return 1.0
        self.pos = match.end()
        return _positive_count(self.source, match.group())

    def _unexpected(self, char: str) -> FormulaError:
        if char.islower():
            return self._error(
                f"'{char}' where an element symbol should start; symbols start with a capital "
                "letter (formulas are case-sensitive: Co is cobalt, CO is carbon monoxide)"
            )
        if char == ".":
            return self._error(
                "a period must sit inside a decimal count such as 0.5; for a hydrate or "
                "adduct write '·' or '*'"
            )
        if char in ")]":
            return self._error(f"'{char}' has no matching opening bracket")
        if char.isdigit():
            return self._error(
                f"a number where an element symbol or bracket was expected near '{char}' "
                "(counts follow their symbol; isotope labels such as [18] are not supported)"
            )
        hint = _HINTS.get(char, "only element symbols, counts, brackets and '·' are allowed")
        return self._error(f"unexpected character '{char}'; {hint}")

    def _error(self, problem: str) -> FormulaError:
        return FormulaError("formula", f"{self.source}: {problem}.")
