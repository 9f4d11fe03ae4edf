"""Precursor amounts for a target compound from the element balance.

Every non-volatile element of the target (all but O, H, C, N unless told otherwise) must come
from the precursors. With A[i, j] the amount of element i per formula unit of precursor j and
b[i] the amount of element i per formula unit of target, the precursor amounts per mole of
target solve A · x = b. Then for a target amount n_t (mol):

* amount_mol(j)  = x[j] × n_t × (1 + excess_j / 100)  (moles of pure precursor, excess included)
* mass_g(j)      = amount_mol(j) × M(j) / (purity_percent(j) / 100)  (what is weighed)
* volume_ml(j)   = mass_g(j) / density_g_per_ml(j)  (liquids only)

Excess: ``excess_percent={"Li": 5}`` scales every precursor that supplies Li by 1.05, so the
supplied Li is exactly 5 % above the stoichiometric Li. A precursor supplying several balanced
elements must carry one excess for all of them (e.g. Li and Mn of LiMn2O4 both 0 % or both
5 %); otherwise the excess of one element would leak into another, which is a BalanceError.

Element balance: ``required_mol`` = b[i] × n_t × (1 + excess_i / 100), i.e. what is asked of
the precursors, excess included; ``supplied_mol`` = Σ_j A[i, j] × amount_mol(j). They agree
to float rounding; both are reported so the page can show the check.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any, NamedTuple

import numpy as np

from .errors import BalanceError, InputError
from .formula import ATOMIC_WEIGHT_TABLE, Formula, is_element_symbol, parse_formula

DEFAULT_VOLATILE_ELEMENTS = frozenset({"O", "H", "C", "N"})
MAX_EXCESS_PERCENT = 100.0
# Relative tolerance for "zero" in the element balance (residuals, null space, amounts).
BALANCE_RTOL = 1e-9


@dataclass(frozen=True)
class PrecursorSpec:
    """A precursor as entered: formula, display name, assay purity (%), density for liquids."""

    formula: str
    name: str | None = None
    purity_percent: float = 100.0
    density_g_per_ml: float | None = None


@dataclass(frozen=True)
class SubstanceAmount:
    """A compound with its molar mass and amount: mass_g = amount_mol × molar_mass_g_per_mol."""

    formula: str
    molar_mass_g_per_mol: float
    amount_mol: float
    mass_g: float

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class PrecursorQuantity:
    """How much of one precursor to weigh (see the module docstring for the formulas)."""

    formula: str
    name: str
    molar_mass_g_per_mol: float
    amount_mol: float
    mass_g: float
    volume_ml: float | None
    purity_percent: float
    density_g_per_ml: float | None
    excess_percent: float

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


class ElementBalance(NamedTuple):
    """Moles of one element asked of the precursors (excess included) and moles they supply."""

    required_mol: float
    supplied_mol: float


@dataclass(frozen=True)
class Plan:
    """A precursor plan for one target, with the element balance that proves it."""

    target: SubstanceAmount
    precursors: tuple[PrecursorQuantity, ...]
    element_balance: Mapping[str, ElementBalance]
    volatile_elements: frozenset[str]
    atomic_weight_table: str = field(default=ATOMIC_WEIGHT_TABLE)

    def to_dict(self) -> dict[str, Any]:
        """The API shape of ``POST /api/v1/stoichiometry/plan`` (extra keys are additive)."""
        return {
            "target": self.target.to_dict(),
            "precursors": [p.to_dict() for p in self.precursors],
            "element_balance": _balance_dict(self.element_balance),
            "volatile_elements": sorted(self.volatile_elements),
            "atomic_weight_table": self.atomic_weight_table,
        }


def plan_precursors(
    *,
    target_formula: str,
    target_mass_g: float | None = None,
    target_amount_mol: float | None = None,
    precursors: Sequence[PrecursorSpec],
    excess_percent: Mapping[str, float] | None = None,
    volatile_elements: Iterable[str] = DEFAULT_VOLATILE_ELEMENTS,
) -> Plan:
    """Plan precursor masses for ``target_mass_g`` or ``target_amount_mol`` of a target.

    Exactly one of the two sizes is given: n_t = target_mass_g / M_t or target_amount_mol.
    """
    target = parse_formula(target_formula, field="target_formula")
    amount_mol = _target_amount_mol(target, target_mass_g, target_amount_mol)
    return plan_for_target(
        target,
        amount_mol=amount_mol,
        precursors=precursors,
        excess_percent=excess_percent,
        volatile_elements=volatile_elements,
    )


def plan_for_target(
    target: Formula,
    *,
    amount_mol: float,
    precursors: Sequence[PrecursorSpec],
    excess_percent: Mapping[str, float] | None = None,
    volatile_elements: Iterable[str] = DEFAULT_VOLATILE_ELEMENTS,
    target_field: str = "target_formula",
) -> Plan:
    """Plan precursors for ``amount_mol`` of an already parsed target (used by coating too).

    ``target_field`` names the input field that held the target formula, for errors.
    """
    amount_mol = positive_number(amount_mol, "target_amount_mol", "The target amount (mol)")
    volatile = _volatile_set(volatile_elements)
    balanced = _balanced_elements(target, volatile, target_field)
    specs = _validated_specs(precursors)
    parsed = [
        parse_formula(spec.formula, field=f"precursors[{i}].formula")
        for i, spec in enumerate(specs)
    ]
    excess = _validated_excess(excess_percent, target, balanced, volatile)
    _check_elements(target, balanced, parsed, volatile)
    matrix = np.array([[p.elements.get(el, 0.0) for p in parsed] for el in balanced])
    per_target = np.array([target.elements[el] for el in balanced])
    unit_amounts = _solve(matrix, per_target, balanced, target, parsed)
    percents = _precursor_excess_percent(matrix, balanced, excess, parsed)
    amounts = unit_amounts * amount_mol * (1 + np.array(percents) / 100)
    mass_g = amount_mol * target.molar_mass_g_per_mol
    return Plan(
        target=SubstanceAmount(target.text, target.molar_mass_g_per_mol, amount_mol, mass_g),
        precursors=tuple(map(_quantity, specs, parsed, amounts, percents)),
        element_balance=_element_balance(matrix, per_target, balanced, excess, amount_mol, amounts),
        volatile_elements=volatile,
    )


def _balanced_elements(target: Formula, volatile: frozenset[str], target_field: str) -> list[str]:
    """The target's non-volatile elements, in formula order; there must be at least one."""
    balanced = [el for el in target.elements if el not in volatile]
    if not balanced:
        raise BalanceError(
            target_field,
            f"{target.text} contains only volatile elements ({', '.join(target.elements)}); "
            "there is nothing for precursors to supply.",
        )
    return balanced


def _target_amount_mol(target: Formula, mass_g: float | None, amount_mol: float | None) -> float:
    """n_t = mass_g / M_t, or the amount given directly."""
    if mass_g is None and amount_mol is None:
        raise InputError("target_mass_g", "Give the target mass (g) or the target amount (mol).")
    if mass_g is not None and amount_mol is not None:
        raise InputError(
            "target_mass_g", "Give either the target mass (g) or the target amount (mol), not both."
        )
    if amount_mol is not None:
        return positive_number(amount_mol, "target_amount_mol", "The target amount (mol)")
    mass = positive_number(mass_g, "target_mass_g", "The target mass (g)")
    return mass / target.molar_mass_g_per_mol


def positive_number(value: object, field: str, label: str) -> float:
    """Return ``value`` as a float if it is a finite number > 0, else raise InputError."""
    number = finite_number(value, field, label)
    if number <= 0:
        raise InputError(field, f"{label} must be greater than 0, got {number:g}.")
    return number


def finite_number(value: object, field: str, label: str) -> float:
    """Return ``value`` as a float if it is a finite real number (bools are not numbers)."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise InputError(field, f"{label} must be a number, got {value!r}.")
    if not math.isfinite(value):
        raise InputError(field, f"{label} must be a finite number, got {value!r}.")
    return float(value)


def join_words(items: Sequence[str]) -> str:
    """'Li', 'Mn and Ni', 'Li, Mn and Ni': lists read as a sentence in messages."""
    items = list(items)
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


def _volatile_set(volatile_elements: Iterable[str]) -> frozenset[str]:
    """Validate the volatile elements: an iterable of real element symbols (not one string)."""
    if isinstance(volatile_elements, str) or not isinstance(volatile_elements, Iterable):
        raise InputError(
            "volatile_elements",
            "Volatile elements must be a list of element symbols, "
            f"such as ['O', 'H', 'C', 'N'], got {volatile_elements!r}.",
        )
    volatile = frozenset(volatile_elements)
    unknown = sorted(str(el) for el in volatile if not is_element_symbol(el))
    if unknown:
        raise InputError(
            "volatile_elements",
            f"Not element symbols: {', '.join(unknown)} "
            "(symbols are case-sensitive, e.g. 'O', 'Cl').",
        )
    return volatile


def _validated_specs(precursors: Sequence[PrecursorSpec]) -> list[PrecursorSpec]:
    """Check list shape, purity in (0, 100] and density > 0 for every precursor."""
    if isinstance(precursors, str | bytes) or not isinstance(precursors, Sequence):
        raise InputError("precursors", "Precursors must be a list.")
    if not precursors:
        raise InputError("precursors", "Add at least one precursor.")
    for i, spec in enumerate(precursors):
        if not isinstance(spec, PrecursorSpec):
            raise InputError(f"precursors[{i}]", f"Precursor {i + 1} is not a precursor entry.")
        purity = positive_number(
            spec.purity_percent, f"precursors[{i}].purity_percent", f"Purity of {spec.formula} (%)"
        )
        if purity > 100:
            raise InputError(
                f"precursors[{i}].purity_percent",
                f"Purity of {spec.formula} must be at most 100 %, got {purity:g} %.",
            )
        if spec.density_g_per_ml is not None:
            positive_number(
                spec.density_g_per_ml,
                f"precursors[{i}].density_g_per_ml",
                f"Density of {spec.formula} (g/mL)",
            )
    return list(precursors)


def _validated_excess(
    excess_percent: Mapping[str, float] | None,
    target: Formula,
    balanced: list[str],
    volatile: frozenset[str],
) -> dict[str, float]:
    """Excess per balanced element of the target, each in [0, 100] %; others default to 0."""
    if excess_percent is None:
        return {}
    if not isinstance(excess_percent, Mapping):
        raise InputError("excess_percent", "Excess must map element symbols to percentages.")
    excess = {}
    for element, value in excess_percent.items():
        key = f"excess_percent.{element}"
        if element in volatile:
            raise InputError(
                key, f"{element} is volatile (not balanced), so it cannot take an excess."
            )
        if element not in balanced:
            raise InputError(key, f"{target.text} contains no {element} to give an excess to.")
        percent = finite_number(value, key, f"Excess of {element} (%)")
        if not 0 <= percent <= MAX_EXCESS_PERCENT:
            raise InputError(
                key,
                f"Excess of {element} must be between 0 and {MAX_EXCESS_PERCENT:g} %, "
                f"got {percent:g} % (5 means 5 % extra).",
            )
        excess[element] = percent
    return excess


def _check_elements(
    target: Formula, balanced: list[str], parsed: list[Formula], volatile: frozenset[str]
) -> None:
    """Every balanced target element has a source; no precursor brings a foreign element."""
    for i, precursor in enumerate(parsed):
        foreign = [el for el in precursor.elements if el not in volatile and el not in balanced]
        if not foreign and not any(el in balanced for el in precursor.elements):
            raise BalanceError(
                f"precursors[{i}].formula",
                f"Precursor {precursor.text} supplies none of {join_words(balanced)} (its "
                f"elements are all volatile), so the balance cannot size it. Remove it.",
            )
        if foreign:
            raise BalanceError(
                f"precursors[{i}].formula",
                f"Precursor {precursor.text} brings {join_words(foreign)}, which "
                f"{target.text} does not contain. Remove it, or, if {join_words(foreign)} "
                "leaves during calcination, add it to the volatile elements.",
            )
    missing = [el for el in balanced if not any(el in p.elements for p in parsed)]
    if missing:
        raise BalanceError(
            "precursors",
            f"No precursor supplies {join_words(missing)}, needed for {target.text}. "
            f"Add a source of {join_words(missing)}.",
        )


def _solve(
    matrix: np.ndarray,
    per_target: np.ndarray,
    balanced: list[str],
    target: Formula,
    parsed: list[Formula],
) -> np.ndarray:
    """Solve A · x = b (x per mole of target); demand full column rank and zero residual."""
    unit_amounts, _, rank, _ = np.linalg.lstsq(matrix, per_target, rcond=None)
    if rank < matrix.shape[1]:
        raise _underdetermined(matrix, balanced, parsed)
    residual = matrix @ unit_amounts - per_target
    tolerance = BALANCE_RTOL * per_target.max()
    off = [el for el, r in zip(balanced, residual, strict=True) if abs(r) > tolerance]
    if off:
        raise BalanceError(
            "precursors",
            f"These precursors cannot supply {join_words(off)} in the proportions of "
            f"{target.text}: a precursor fixes their ratio differently from the target. "
            "Change or add a precursor.",
        )
    _check_amounts_positive(unit_amounts, target, parsed)
    return unit_amounts


def _underdetermined(
    matrix: np.ndarray, balanced: list[str], parsed: list[Formula]
) -> BalanceError:
    """Name the precursors the balance cannot tell apart (those in the null space of A)."""
    _, singular, vt = np.linalg.svd(matrix)
    rank = int(np.sum(singular > BALANCE_RTOL * singular.max()))
    null_space = vt[rank:]
    free = [j for j in range(matrix.shape[1]) if np.abs(null_space[:, j]).max() > BALANCE_RTOL]
    elements = [el for i, el in enumerate(balanced) if matrix[i, free].any()]
    names = join_words([parsed[j].text for j in free])
    return BalanceError(
        "precursors",
        f"The balance of {join_words(elements)} cannot decide between {names}: "
        "there are more precursors than independent elements. Remove one of them.",
    )


def _check_amounts_positive(
    unit_amounts: np.ndarray, target: Formula, parsed: list[Formula]
) -> None:
    """A negative amount means the target is outside what the precursors can make."""
    scale = np.abs(unit_amounts).max()
    for amount, precursor in zip(unit_amounts, parsed, strict=True):
        if amount < -BALANCE_RTOL * scale:
            raise BalanceError(
                "precursors",
                f"Making {target.text} would need a negative amount of {precursor.text} "
                f"({amount:.4g} mol per mol of {target.text}); these precursors cannot make it.",
            )
        if amount <= BALANCE_RTOL * scale:
            raise BalanceError(
                "precursors",
                f"{precursor.text} is not needed to make {target.text} (0 mol); remove it.",
            )


def _precursor_excess_percent(
    matrix: np.ndarray, balanced: list[str], excess: dict[str, float], parsed: list[Formula]
) -> list[float]:
    """Excess (%) per precursor: the one excess shared by all balanced elements it supplies."""
    result = []
    for j, precursor in enumerate(parsed):
        supplied = [el for i, el in enumerate(balanced) if matrix[i, j] > 0]
        percents = {el: excess.get(el, 0.0) for el in supplied}
        if len(set(percents.values())) > 1:
            listing = ", ".join(f"{el} {pct:g} %" for el, pct in percents.items())
            raise BalanceError(
                "excess_percent",
                f"{precursor.text} supplies {join_words(supplied)}, which were given different "
                f"excesses ({listing}); one precursor can only carry one excess. Give them "
                "the same excess or use separate precursors.",
            )
        result.append(next(iter(percents.values())))
    return result


def _quantity(
    spec: PrecursorSpec, formula: Formula, amount_mol: float, excess_percent: float
) -> PrecursorQuantity:
    """mass_g = amount_mol × M / (purity/100); volume_ml = mass_g / density."""
    mass_g = float(amount_mol * formula.molar_mass_g_per_mol / (spec.purity_percent / 100))
    density = spec.density_g_per_ml
    name = spec.name.strip() if isinstance(spec.name, str) else ""
    return PrecursorQuantity(
        formula=formula.text,
        name=name or formula.text,
        molar_mass_g_per_mol=formula.molar_mass_g_per_mol,
        amount_mol=float(amount_mol),
        mass_g=mass_g,
        volume_ml=mass_g / density if density is not None else None,
        purity_percent=float(spec.purity_percent),
        density_g_per_ml=float(density) if density is not None else None,
        excess_percent=float(excess_percent),
    )


def _element_balance(
    matrix: np.ndarray,
    per_target: np.ndarray,
    balanced: list[str],
    excess: dict[str, float],
    amount_mol: float,
    amounts: np.ndarray,
) -> dict[str, ElementBalance]:
    """required = b × n_t × (1 + excess/100); supplied = A · amounts."""
    supplied = matrix @ amounts
    return {
        el: ElementBalance(
            required_mol=float(per_target[i] * amount_mol * (1 + excess.get(el, 0.0) / 100)),
            supplied_mol=float(supplied[i]),
        )
        for i, el in enumerate(balanced)
    }


def _balance_dict(balance: Mapping[str, ElementBalance]) -> dict[str, dict[str, float]]:
    return {el: entry._asdict() for el, entry in balance.items()}
