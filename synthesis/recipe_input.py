"""A recipe as entered (header, lines, steps) and the checks it must pass before it is saved.

The form, the admin action and the demo data all build a ``RecipeData`` and hand it to
``services.recipe_create`` / ``recipe_revise``. ``check_recipe`` collects every problem into one
ValidationError keyed like the form: ``name``, ``lines-2-formula``, ``steps-1-temperature_c``.
A trial plan is run so a recipe whose precursors cannot balance is refused when it is written,
not when a chemist first tries to use it.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields, replace
from typing import Any

from django.core.exceptions import ValidationError

from lims import quantities
from lims.models import SampleKind
from synthesis.chemistry import (
    ChemistryError,
    PrecursorSpec,
    parse_formula,
    plan_coating,
    plan_precursors,
)
from synthesis.chemistry.formula import is_element_symbol
from synthesis.models import Chemical, CoatingBasis, LineRole, Recipe, RecipeKind
from synthesis.models.recipes import fixed_amount_problem
from synthesis.steps import StepParameterError, validate_parameters

HEADER_FIELDS = (
    "name",
    "kind",
    "product_name",
    "product_formula",
    "product_kind",
    "coating_formula",
    "default_coating_wt_percent",
    "coating_basis",
    "reference_mass_g",
    "volatile_elements",
    "notes",
)


@dataclass(frozen=True)
class LineData:
    role: str
    name: str
    chemical: Chemical | None = None
    formula: str = ""
    purity_percent: float | None = None
    density_g_per_ml: float | None = None
    excess_element: str = ""
    excess_percent: float | None = None
    in_stoichiometry: bool = True
    fixed_amount: float | None = None
    fixed_unit: str = ""
    notes: str = ""

    @property
    def effective_formula(self) -> str:
        return self.formula or (self.chemical.formula if self.chemical else "")


@dataclass(frozen=True)
class StepData:
    kind: str
    parameters: dict[str, Any] = field(default_factory=dict)
    notes: str = ""


@dataclass(frozen=True)
class RecipeData:
    name: str
    kind: str
    product_name: str
    product_formula: str = ""
    product_kind: str = SampleKind.CATHODE
    coating_formula: str = ""
    default_coating_wt_percent: float | None = None
    coating_basis: str = CoatingBasis.SUBSTRATE
    reference_mass_g: float = 1.0
    volatile_elements: str = "O,H,C,N"
    notes: str = ""
    lines: tuple[LineData, ...] = ()
    steps: tuple[StepData, ...] = ()

    def header(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in HEADER_FIELDS}


def recipe_data_from(recipe: Recipe) -> RecipeData:
    """The editable content of a saved recipe (what a new version starts from)."""
    line_names = [f.name for f in fields(LineData)]
    lines = tuple(
        LineData(**{name: getattr(line, name) for name in line_names})
        for line in recipe.lines.select_related("chemical").order_by("order")
    )
    steps = tuple(
        StepData(step.kind, dict(step.parameters), step.notes)
        for step in recipe.steps.order_by("order")
    )
    header = {name: getattr(recipe, name) for name in HEADER_FIELDS}
    return RecipeData(**header, lines=lines, steps=steps)


def check_recipe(data: RecipeData) -> RecipeData:
    """Return ``data`` with clean step parameters and formulas, or raise ValidationError."""
    errors: dict[str, list[str]] = {}
    _check_header(data, errors)
    for i, line in enumerate(data.lines):
        _check_line(i, line, data, errors)
    _check_excess(data, errors)
    steps = []
    for i, step in enumerate(data.steps):
        try:
            steps.append(replace(step, parameters=validate_parameters(step.kind, step.parameters)))
        except StepParameterError as err:
            errors.setdefault(f"steps-{i}-{err.field}", []).append(err.message)
    if not errors:
        _trial_plan(data, errors)
    if errors:
        raise ValidationError(errors)
    return replace(data, steps=tuple(steps))


def _add(errors: dict[str, list[str]], key: str, message: str) -> None:
    errors.setdefault(key, []).append(message)


def _formula_ok(text: str, key: str, errors: dict[str, list[str]]) -> bool:
    try:
        parse_formula(text)
    except ChemistryError as err:
        _add(errors, key, err.message)
        return False
    return True


def _check_header(data: RecipeData, errors: dict[str, list[str]]) -> None:
    if not data.name.strip():
        _add(errors, "name", "A recipe needs a name.")
    if not data.product_name.strip():
        _add(errors, "product_name", "Name the product (e.g. Na2SiO3@LMNO).")
    if data.kind not in RecipeKind.values:
        _add(errors, "kind", f"Unknown recipe kind {data.kind!r}.")
    if data.product_kind not in SampleKind.values:
        _add(errors, "product_kind", f"Unknown sample kind {data.product_kind!r}.")
    if data.kind == RecipeKind.COATING:
        if not data.coating_formula.strip():
            _add(errors, "coating_formula", "A coating recipe needs the coating formula.")
        else:
            _formula_ok(data.coating_formula, "coating_formula", errors)
        wt = data.default_coating_wt_percent
        message = None if wt is None else quantities.problem("coating_wt_percent", wt)
        if message is not None:
            _add(errors, "default_coating_wt_percent", message)
        if sum(line.role == LineRole.SUBSTRATE for line in data.lines) != 1:
            _add(errors, "__all__", "A coating recipe needs exactly one substrate line.")
    elif not data.product_formula.strip():
        _add(errors, "product_formula", "Give the product formula: the stoichiometry targets it.")
    if data.product_formula.strip():
        _formula_ok(data.product_formula, "product_formula", errors)
    if data.coating_basis not in CoatingBasis.values:
        _add(errors, "coating_basis", f"Unknown coating basis {data.coating_basis!r}.")
    reference = data.reference_mass_g or 0.0
    message = quantities.problem("batch_mass_g", reference, label="reference mass")
    if message is not None:
        _add(errors, "reference_mass_g", message)
    bad = [el for el in data.volatile_elements.split(",") if not is_element_symbol(el.strip())]
    if bad:
        _add(errors, "volatile_elements", f"Not element symbols: {', '.join(bad)}.")
    if not data.lines:
        _add(errors, "__all__", "Add at least one reagent line.")


def _check_line(i: int, line: LineData, data: RecipeData, errors: dict[str, list[str]]) -> None:
    key = f"lines-{i}-"
    if not line.name.strip():
        _add(errors, key + "name", "Name the reagent.")
    if line.role not in LineRole.values:
        _add(errors, key + "role", f"Unknown role {line.role!r}.")
    formula = line.effective_formula
    in_balance = line.in_stoichiometry and line.role != LineRole.SUBSTRATE
    if formula:
        _formula_ok(formula, key + "formula", errors)
    elif in_balance:
        _add(errors, key + "formula", f"{line.name or 'This line'} needs a formula or a chemical.")
    found = quantities.problems(
        [
            ("purity_percent", "purity_percent", line.purity_percent),
            ("density_g_per_ml", "density_g_per_ml", line.density_g_per_ml),
        ]
    )
    for name, message in found.items():
        _add(errors, key + name, message)
    if line.fixed_amount is not None:
        message = fixed_amount_problem(line.fixed_amount, line.fixed_unit)
        if message is not None:
            _add(errors, key + "fixed_amount", message)
        if line.fixed_unit not in ("g", "mL"):
            _add(errors, key + "fixed_unit", "Give the unit of the fixed amount (g or mL).")
        if in_balance:
            _add(
                errors,
                key + "fixed_amount",
                "A line in the stoichiometry is sized by the balance; untick it to fix it.",
            )


def _check_excess(data: RecipeData, errors: dict[str, list[str]]) -> None:
    seen: dict[str, float] = {}
    for i, line in enumerate(data.lines):
        key = f"lines-{i}-"
        if line.excess_percent is None and not line.excess_element:
            continue
        if not is_element_symbol(line.excess_element):
            _add(errors, key + "excess_element", "Name the element in excess, e.g. Li.")
            continue
        if line.excess_percent is None:
            _add(errors, key + "excess_percent", "Give the excess in %, e.g. 5.")
            continue
        message = quantities.problem("excess_percent", line.excess_percent)
        if message is not None:
            _add(errors, key + "excess_percent", message)
            continue
        previous = seen.setdefault(line.excess_element, line.excess_percent)
        if previous != line.excess_percent:
            _add(
                errors,
                key + "excess_percent",
                f"Another line gives {line.excess_element} {previous:g} % excess; use one value.",
            )


def _trial_plan(data: RecipeData, errors: dict[str, list[str]]) -> None:
    """Plan 1 g of product (or 1 g of substrate) to prove the precursors balance."""
    indexed = [
        (i, line)
        for i, line in enumerate(data.lines)
        if line.in_stoichiometry and line.role != LineRole.SUBSTRATE
    ]
    specs = [
        PrecursorSpec(line.effective_formula, line.name, line.purity_percent or 100.0)
        for _, line in indexed
    ]
    excess = {ln.excess_element: ln.excess_percent for _, ln in indexed if ln.excess_element}
    volatile = [el.strip() for el in data.volatile_elements.split(",") if el.strip()]
    try:
        if data.kind == RecipeKind.COATING:
            plan_coating(
                substrate_formula="O",
                substrate_mass_g=1.0,  # the substrate does not matter
                coating_formula=data.coating_formula,
                coating_wt_percent=data.default_coating_wt_percent or 1.0,
                basis=data.coating_basis,
                precursors=specs,
                excess_percent=excess or None,
                volatile_elements=volatile,
            )
        else:
            plan_precursors(
                target_formula=data.product_formula,
                target_mass_g=1.0,
                precursors=specs,
                excess_percent=excess or None,
                volatile_elements=volatile,
            )
    except ChemistryError as err:
        _add(errors, _line_key(err.field, indexed), err.message)


def _line_key(engine_field: str, indexed: list[tuple[int, LineData]]) -> str:
    if engine_field.startswith("precursors["):
        j = int(engine_field[len("precursors[") : engine_field.index("]")])
        return f"lines-{indexed[j][0]}-formula"
    return {"coating_formula": "coating_formula", "target_formula": "product_formula"}.get(
        engine_field, "__all__"
    )
