"""Plan a batch from a recipe version: reads the recipe, calls the chemistry engine; and, once
made, its theoretical yield from what was weighed (``batch_theoretical_yield``).

Used by the live quantities partial (nothing saved) and by ``services.batch_create`` (which
freezes the result). Errors are ``ChemistryError``s whose ``field`` is a *form* field
(``substrate``, ``substrate_mass_g``, ``coating_wt_percent``, ``target_mass_g``,
``calcination_temperature_c``, ``lot_<line id>``) or ``__all__`` for a problem of the recipe.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from django.utils import timezone

from lims import quantities
from lims.models import Sample
from synthesis.chemistry import (
    ChemistryError,
    CoatingPlan,
    InputError,
    Plan,
    PrecursorSpec,
    Supply,
    TheoreticalYield,
    coating_theoretical_yield,
    mol_per_mol_product,
    parse_formula,
    plan_coating,
    plan_precursors,
    synthesis_theoretical_yield,
)
from synthesis.models import Batch, BatchReagent, Lot, ReagentLine, Recipe

# Engine fields that are inputs of the plan form; everything else is a recipe problem.
_FORM_FIELDS = {
    "substrate_formula": "substrate",
    "substrate_mass_g": "substrate_mass_g",
    "coating_wt_percent": "coating_wt_percent",
    "target_mass_g": "target_mass_g",
    "target_amount_mol": "target_mass_g",
}
_PRECURSOR_FIELD = re.compile(r"^precursors\[(\d+)\]")
NON_FIELD = "__all__"
# A typo guard (a mass in mg typed as g): no bench batch is larger than this.
MAX_BATCH_MASS_G = quantities.bound("batch_mass_g").max
_SIZE_LABELS = {"target_mass_g": "target mass", "substrate_mass_g": "substrate mass"}


@dataclass(frozen=True)
class PlanInputs:
    """What the chemist chose on the plan form."""

    target_mass_g: float | None = None
    substrate: Sample | None = None
    substrate_mass_g: float | None = None
    coating_wt_percent: float | None = None
    calcination_temperature_c: float | None = None
    lots: Mapping[int, Lot] = field(default_factory=dict)  # ReagentLine id -> Lot


@dataclass
class PlannedLine:
    """One reagent line with its quantity and every input behind it."""

    line: ReagentLine
    basis: str  # "stoichiometry", "substrate", "fixed" or "as needed"
    formula: str
    lot: Lot | None = None
    molar_mass_g_per_mol: float | None = None
    amount_mol: float | None = None
    mass_g: float | None = None
    volume_ml: float | None = None
    purity_percent: float | None = None
    purity_source: str = ""
    density_g_per_ml: float | None = None
    excess_percent: float | None = None
    warnings: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {
            "line_id": self.line.pk,
            "name": self.line.name,
            "role": self.line.role,
            "basis": self.basis,
            "formula": self.formula,
            "lot_id": self.lot.pk if self.lot else None,
            "lot": str(self.lot) if self.lot else None,
            "molar_mass_g_per_mol": self.molar_mass_g_per_mol,
            "amount_mol": self.amount_mol,
            "mass_g": self.mass_g,
            "volume_ml": self.volume_ml,
            "purity_percent": self.purity_percent,
            "purity_source": self.purity_source,
            "density_g_per_ml": self.density_g_per_ml,
            "excess_element": self.line.excess_element or None,
            "excess_percent": self.excess_percent,
            "warnings": self.warnings,
        }


@dataclass
class BatchPlan:
    recipe: Recipe
    inputs: PlanInputs
    mass_g: float
    scale: float
    chemistry: Plan | CoatingPlan
    lines: list[PlannedLine]
    calcination_temperature_c: float | None
    calcination_duration_h: float | None

    @property
    def is_coating(self) -> bool:
        return isinstance(self.chemistry, CoatingPlan)

    @property
    def atomic_weight_table(self) -> str:
        chemistry = self.chemistry
        return (
            chemistry.plan if isinstance(chemistry, CoatingPlan) else chemistry
        ).atomic_weight_table

    @property
    def warnings(self) -> list[str]:
        return [w for line in self.lines for w in line.warnings]

    @property
    def theoretical_yield_g(self) -> float:
        if isinstance(self.chemistry, CoatingPlan):
            return self.chemistry.substrate.mass_g + self.chemistry.coating.mass_g
        return self.chemistry.target.mass_g

    def to_dict(self) -> dict[str, Any]:
        """The chemistry plan (API shape, with the atomic-weight table) plus what produced it."""
        inputs = self.inputs
        return {
            **self.chemistry.to_dict(),
            "kind": "coating" if self.is_coating else "synthesis",
            "recipe": {
                "id": self.recipe.pk,
                "family": self.recipe.family,
                "version": self.recipe.version,
                "name": self.recipe.name,
            },
            "inputs": {
                "target_mass_g": inputs.target_mass_g,
                "substrate": inputs.substrate.code if inputs.substrate else None,
                "substrate_mass_g": inputs.substrate_mass_g,
                "coating_wt_percent": inputs.coating_wt_percent,
                "calcination_temperature_c": self.calcination_temperature_c,
                "scale": self.scale,
            },
            "lines": [line.to_dict() for line in self.lines],
            "planned_at": timezone.now().isoformat(),
        }


def plan_batch(*, recipe: Recipe, inputs: PlanInputs) -> BatchPlan:
    """Quantities of every line of ``recipe`` for ``inputs``; raises ChemistryError."""
    _check_size(inputs)
    lines = list(recipe.lines.select_related("chemical").order_by("order"))
    stoich = [ln for ln in lines if ln.in_stoichiometry and not ln.is_substrate]
    lots = _checked_lots(lines, inputs.lots)
    specs = [_spec(ln, lots.get(ln.pk)) for ln in stoich]
    excess = {ln.excess_element: ln.excess_percent for ln in stoich if ln.excess_element}
    try:
        chemistry = (
            _coating(recipe, inputs, lines, specs, excess)
            if recipe.is_coating
            else _synthesis(recipe, inputs, specs, excess)
        )
    except ChemistryError as err:
        raise _on_form(err, recipe, stoich) from None
    mass_g = inputs.substrate_mass_g if recipe.is_coating else chemistry.target.mass_g
    scale = mass_g / recipe.reference_mass_g
    quantities = dict(zip((ln.pk for ln in stoich), chemistry.precursors, strict=True))
    planned = [_planned_line(ln, lots.get(ln.pk), quantities, chemistry, scale) for ln in lines]
    temperature, duration = _calcination(recipe, inputs.calcination_temperature_c)
    return BatchPlan(recipe, inputs, mass_g, scale, chemistry, planned, temperature, duration)


def _check_size(inputs: PlanInputs) -> None:
    """Batch mass and coating wt% within their bounds (lims.quantities)."""
    found = quantities.problems(
        [
            *(
                (name, "batch_mass_g", getattr(inputs, name), label)
                for name, label in _SIZE_LABELS.items()
            ),
            ("coating_wt_percent", "coating_wt_percent", inputs.coating_wt_percent),
        ]
    )
    for field_name, message in found.items():
        raise InputError(field_name, message)


def _synthesis(recipe: Recipe, inputs: PlanInputs, specs, excess) -> Plan:
    if inputs.target_mass_g is None:
        raise InputError("target_mass_g", "Enter the mass of product to make (g).")
    return plan_precursors(
        target_formula=recipe.product_formula,
        target_mass_g=inputs.target_mass_g,
        precursors=specs,
        excess_percent=excess or None,
        volatile_elements=recipe.volatile_set,
    )


def _coating(recipe: Recipe, inputs: PlanInputs, lines, specs, excess) -> CoatingPlan:
    if inputs.substrate is None:
        raise InputError("substrate_formula", "Choose the substrate sample to coat.")
    if inputs.substrate_mass_g is None:
        raise InputError("substrate_mass_g", "Enter the substrate mass (g).")
    wt_percent = inputs.coating_wt_percent
    if wt_percent is None:
        wt_percent = recipe.default_coating_wt_percent
    if wt_percent is None:
        raise InputError("coating_wt_percent", "Enter the coating wt%.")
    return plan_coating(
        substrate_formula=_substrate_formula(inputs.substrate, lines),
        substrate_mass_g=inputs.substrate_mass_g,
        coating_formula=recipe.coating_formula,
        coating_wt_percent=wt_percent,
        basis=recipe.coating_basis,
        precursors=specs,
        excess_percent=excess or None,
        volatile_elements=recipe.volatile_set,
    )


def _substrate_formula(substrate: Sample, lines: list[ReagentLine]) -> str:
    """The sample's own formula; the recipe's substrate line only when the sample has none."""
    if substrate.formula.strip():
        try:
            parse_formula(substrate.formula, field="substrate_formula")
        except ChemistryError as err:
            raise InputError(
                "substrate_formula",
                f"The formula of {substrate.code} does not parse: {err.message} "
                "Correct the sample's formula in the registry.",
            ) from None
        return substrate.formula
    fallback = next((ln.formula for ln in lines if ln.is_substrate and ln.formula), "")
    if not fallback:
        raise InputError(
            "substrate_formula",
            f"{substrate.code} has no formula and the recipe names none for its substrate.",
        )
    return fallback


def _spec(line: ReagentLine, lot: Lot | None) -> PrecursorSpec:
    """A lot's assay beats the line's default: it is what is in the bottle. A purity saved
    before Kiln checked bounds (0.99 meaning 99 %) is refused here, not planned 100× over."""
    purity = lot.purity_percent if lot else line.effective_purity_percent
    message = quantities.problem("purity_percent", purity, label=f"purity of {line.name}")
    if message is not None:
        where = f"lot {lot.lot_number}" if lot else "the recipe line or its chemical"
        raise InputError(f"lot_{line.pk}" if lot else NON_FIELD, f"{message} (correct {where})")
    return PrecursorSpec(
        formula=line.effective_formula,
        name=line.name,
        purity_percent=purity,
        density_g_per_ml=line.effective_density_g_per_ml,
    )


def _checked_lots(lines: list[ReagentLine], lots: Mapping[int, Lot]) -> dict[int, Lot]:
    by_id = {ln.pk: ln for ln in lines}
    lots = {line_id: lot for line_id, lot in lots.items() if lot is not None}
    for line_id, lot in lots.items():
        line = by_id.get(line_id)
        if line is None:
            raise InputError(NON_FIELD, f"Lot {lot} is for a line that is not in this recipe.")
        if line.chemical_id is None or lot.chemical_id != line.chemical_id:
            raise InputError(f"lot_{line_id}", f"Lot {lot} is not a lot of {line.name}.")
    return lots


def _planned_line(line, lot, quantities, chemistry, scale: float) -> PlannedLine:
    if line.is_substrate:
        substrate = getattr(chemistry, "substrate", None)
        planned = PlannedLine(line, "substrate", substrate.formula if substrate else line.formula)
        if substrate is not None:
            planned.molar_mass_g_per_mol = substrate.molar_mass_g_per_mol
            planned.amount_mol = substrate.amount_mol
            planned.mass_g = substrate.mass_g
        return planned
    if line.pk in quantities:
        q = quantities[line.pk]
        planned = PlannedLine(
            line,
            "stoichiometry",
            q.formula,
            lot,
            q.molar_mass_g_per_mol,
            q.amount_mol,
            q.mass_g,
            q.volume_ml,
            q.purity_percent,
            "lot" if lot else _purity_source(line),
            q.density_g_per_ml,
            q.excess_percent,
        )
    else:
        planned = _fixed_line(line, lot, scale)
    planned.warnings = _lot_warnings(line, lot, planned)
    return planned


def _fixed_line(line: ReagentLine, lot: Lot | None, scale: float) -> PlannedLine:
    density = line.effective_density_g_per_ml
    planned = PlannedLine(
        line,
        "fixed" if line.fixed_amount else "as needed",
        line.effective_formula,
        lot,
        density_g_per_ml=density,
    )
    # Solvents are measured in the unit the recipe gives; the lot converts if it must.
    if line.fixed_amount:
        amount = line.fixed_amount * scale
        if line.fixed_unit == "mL":
            planned.volume_ml = amount
        else:
            planned.mass_g = amount
    return planned


def _purity_source(line: ReagentLine) -> str:
    return "recipe" if line.purity_percent is not None or not line.chemical else "chemical"


def _lot_warnings(line: ReagentLine, lot: Lot | None, planned: PlannedLine) -> list[str]:
    """Expired or short lots are warnings, never refusals: the chemist may know better."""
    if lot is None:
        return []
    warnings = []
    if lot.is_expired():
        warnings.append(f"{line.name}: lot {lot.lot_number} expired on {lot.expires_on:%Y-%m-%d}.")
    needed = lot.amount_in(mass_g=planned.mass_g, volume_ml=planned.volume_ml)
    if needed is not None and needed > lot.amount_left:
        warnings.append(
            f"{line.name}: lot {lot.lot_number} has {lot.amount_left:.4g} {lot.amount_unit} "
            f"left, the plan needs {needed:.4g} {lot.amount_unit}."
        )
    return warnings


def _calcination(recipe: Recipe, override_c: float | None) -> tuple[float | None, float | None]:
    step = recipe.final_calcination()
    temperature = step.parameters.get("temperature_c") if step else None
    duration = step.parameters.get("duration_h") if step else None
    if override_c is not None:
        if step is None:
            raise InputError(
                "calcination_temperature_c", f"{recipe} has no calcination step to change."
            )
        message = quantities.problem("calcination_temperature_c", override_c)
        if message is not None:
            raise InputError("calcination_temperature_c", message)
        temperature = override_c
    return temperature, duration


def _on_form(err: ChemistryError, recipe: Recipe, stoich: list[ReagentLine]) -> ChemistryError:
    """Re-address an engine error to the plan form's field, or to the recipe as a whole."""
    if err.field in _FORM_FIELDS:
        return err.with_field(_FORM_FIELDS[err.field])
    if err.field.startswith("lot_") or err.field == NON_FIELD:
        return err
    match = _PRECURSOR_FIELD.match(err.field)
    where = f"line {stoich[int(match.group(1))].name!r} of " if match else ""
    return type(err)(NON_FIELD, f"Recipe problem ({where}{recipe}): {err.message}")


# --- theoretical yield ---------------------------------------------------------------------


def batch_theoretical_yield(batch: Batch) -> TheoreticalYield | None:
    """The most product the batch's weighed reagents can give (chemistry.theoretical_yield).

    Each stoichiometric line counts with what was weighed (a volume through its density),
    else with what was planned, at the assay of the lot used; None for a plan that lacks the
    numbers (frozen by an older Kiln).
    """
    plan = batch.plan or {}
    lines = [ln for ln in plan.get("lines", []) if ln.get("basis") == "stoichiometry"]
    product = plan.get("coating") if plan.get("kind") == "coating" else plan.get("target")
    if not product or not product.get("amount_mol"):
        return None
    rows = {r.line_id: r for r in batch.reagents.select_related("lot")}
    try:
        supplies = [_supply(ln, rows.get(ln["line_id"]), product["amount_mol"]) for ln in lines]
    except (KeyError, TypeError):
        return None
    if plan.get("kind") != "coating":
        return synthesis_theoretical_yield(
            product_formula=product["formula"],
            product_molar_mass_g_per_mol=product["molar_mass_g_per_mol"],
            supplies=supplies,
        )
    substrate = next((ln for ln in plan.get("lines", []) if ln.get("basis") == "substrate"), {})
    row = rows.get(substrate.get("line_id"))
    weighed = row.actual_mass_g if row is not None else None
    return coating_theoretical_yield(
        substrate_name=substrate.get("name") or "substrate",
        substrate_mass_g=weighed if weighed is not None else batch.substrate_mass_g,
        coating_formula=product["formula"],
        coating_molar_mass_g_per_mol=product["molar_mass_g_per_mol"],
        supplies=supplies,
    )


def _supply(line: dict, row: BatchReagent | None, product_mol: float) -> Supply:
    """What went in of one planned line: weighed mass (or volume × density), else planned."""
    mass = line["mass_g"]
    if row is not None and row.actual_mass_g is not None:
        mass = row.actual_mass_g
    elif row is not None and row.actual_volume_ml is not None and line.get("density_g_per_ml"):
        mass = row.actual_volume_ml * line["density_g_per_ml"]
    purity = row.lot.purity_percent if row is not None and row.lot else line["purity_percent"]
    return Supply(
        name=line["name"],
        mass_g=mass,
        purity_percent=purity,
        molar_mass_g_per_mol=line["molar_mass_g_per_mol"],
        mol_per_mol_product=mol_per_mol_product(
            planned_amount_mol=line["amount_mol"],
            planned_product_mol=product_mol,
            excess_percent=line.get("excess_percent") or 0.0,
        ),
    )
