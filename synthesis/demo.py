"""Demo inventory, the three reference recipes of DOMAIN.md and two batches (idempotent).

Called by ``manage.py load_demo``. The reference recipes live here rather than in a data
migration because they point at chemicals and a creating user, which are lab data.
"""

from __future__ import annotations

import datetime

from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone

from synthesis import queries, services
from synthesis.models import Batch, Chemical, LineRole, Lot, Recipe, RecipeKind
from synthesis.planning import PlanInputs
from synthesis.recipe_input import LineData, RecipeData, StepData

LMNO = "Li1.2Mn0.6Ni0.2O2"
DEMO_NOTE = "[demo]"

CHEMICALS = (
    # name, formula, CAS, density g/mL, purity %, grade, hazards
    (
        "TEOS",
        "Si(OC2H5)4",
        "78-10-4",
        0.933,
        98.0,
        "reagent grade",
        "Flammable liquid and vapour (H226); harmful if inhaled (H332); eye irritant (H319).",
    ),
    (
        "Sodium carbonate",
        "Na2CO3",
        "497-19-8",
        None,
        99.5,
        "ACS reagent",
        "Causes serious eye irritation (H319).",
    ),
    (
        "Lithium carbonate",
        "Li2CO3",
        "554-13-2",
        None,
        99.0,
        "ACS reagent",
        "Harmful if swallowed (H302); eye irritant (H319).",
    ),
    (
        "Manganese(II) carbonate",
        "MnCO3",
        "598-62-9",
        None,
        99.9,
        "99.9 % trace metals",
        "May cause damage to organs through prolonged exposure (H373).",
    ),
    (
        "Nickel(II) acetate tetrahydrate",
        "Ni(CH3COO)2·4H2O",
        "6018-89-9",
        None,
        98.0,
        "98 %",
        "May cause cancer (H350i); skin sensitiser (H317). Handle in a fume hood.",
    ),
    (
        "Ethanol",
        "C2H5OH",
        "64-17-5",
        0.789,
        99.8,
        "absolute",
        "Highly flammable liquid and vapour (H225).",
    ),
    (
        "Ammonia solution 25 %",
        "NH4OH",
        "1336-21-6",
        0.91,
        25.0,
        "25 % in water",
        "Causes severe skin burns (H314); very toxic to aquatic life (H400).",
    ),
)

LOTS = (
    # chemical, supplier, lot number, purity %, amount, unit, expires in days, location
    ("TEOS", "Sigma-Aldrich", "SHBM4471", 98.0, 100.0, "mL", 700, "Flammables cabinet A"),
    ("Sodium carbonate", "Alfa Aesar", "10234567", 99.5, 500.0, "g", 1500, "Shelf B2"),
    ("Lithium carbonate", "Sigma-Aldrich", "MKCQ1234", 99.0, 250.0, "g", 900, "Shelf B3"),
    ("Lithium carbonate", "Sigma-Aldrich", "MKBX0007", 99.0, 12.0, "g", -60, "Shelf B3"),
    ("Manganese(II) carbonate", "Sigma-Aldrich", "BCCD5521", 99.9, 100.0, "g", 1200, "Shelf B1"),
    (
        "Nickel(II) acetate tetrahydrate",
        "Sigma-Aldrich",
        "STBJ9001",
        98.0,
        250.0,
        "g",
        1100,
        "Toxics cabinet",
    ),
    ("Ethanol", "Merck", "K53973283", 99.8, 1000.0, "mL", 800, "Flammables cabinet A"),
    ("Ammonia solution 25 %", "Merck", "B1234516", 25.0, 500.0, "mL", 400, "Acids/bases C1"),
)


def _calcine(temperature_c: float, duration_h: float, ramp: float = 5.0) -> StepData:
    return StepData(
        "calcine",
        {
            "temperature_c": temperature_c,
            "duration_h": duration_h,
            "ramp_c_per_min": ramp,
            "atmosphere": "air",
        },
    )


def pristine_recipe(chem: dict[str, Chemical]) -> RecipeData:
    """Li1.2Mn0.6Ni0.2O2 by solid-state from carbonates and Ni acetate, 5 % Li excess."""
    return RecipeData(
        name="LMNO pristine (solid-state)",
        kind=RecipeKind.SOLID_STATE,
        product_name=f"{LMNO} (LMNO)",
        product_formula=LMNO,
        notes="Li excess compensates Li loss at 900 °C.",
        lines=(
            LineData(
                LineRole.LI_SOURCE,
                "Li2CO3",
                chem["Lithium carbonate"],
                excess_element="Li",
                excess_percent=5.0,
            ),
            LineData(LineRole.MN_SOURCE, "MnCO3", chem["Manganese(II) carbonate"]),
            LineData(LineRole.NI_SOURCE, "Ni acetate", chem["Nickel(II) acetate tetrahydrate"]),
            LineData(
                LineRole.SOLVENT,
                "Ethanol (milling)",
                chem["Ethanol"],
                in_stoichiometry=False,
                fixed_amount=10.0,
                fixed_unit="mL",
            ),
        ),
        steps=(
            StepData("mix", {"method": "planetary ball mill in ethanol", "duration_min": 120}),
            StepData("dry", {"temperature_c": 80, "duration_h": 6}),
            _calcine(500, 5, ramp=3),
            StepData("grind", {"method": "agate mortar", "duration_min": 15}),
            _calcine(900, 12),
        ),
    )


def coating_recipe(chem: dict[str, Chemical], *, sodium: bool) -> RecipeData:
    """NSO (Na2SiO3 from TEOS + Na2CO3) or LSO (Li2SiO3 from TEOS + Li2CO3), 1 wt%."""
    coating, code = ("Na2SiO3", "NSO") if sodium else ("Li2SiO3", "LSO")
    cation = (
        LineData(LineRole.NA_SOURCE, "Na2CO3", chem["Sodium carbonate"])
        if sodium
        else LineData(LineRole.LI_SOURCE, "Li2CO3", chem["Lithium carbonate"])
    )
    return RecipeData(
        name=f"{code}: 1 wt% {coating}@LMNO",
        kind=RecipeKind.COATING,
        product_name=f"{coating}@LMNO ({code})",
        coating_formula=coating,
        default_coating_wt_percent=1.0,
        notes=f"{coating}/LMNO = 1 wt% on the substrate basis, as in the study.",
        lines=(
            LineData(LineRole.SUBSTRATE, "LMNO", formula=LMNO, in_stoichiometry=False),
            LineData(
                LineRole.SOLVENT,
                "Deionised water",
                formula="H2O",
                density_g_per_ml=0.997,
                in_stoichiometry=False,
                fixed_amount=50.0,
                fixed_unit="mL",
            ),
            LineData(
                LineRole.SOLVENT,
                "Ammonia water",
                chem["Ammonia solution 25 %"],
                in_stoichiometry=False,
                fixed_amount=2.0,
                fixed_unit="mL",
            ),
            LineData(LineRole.SI_SOURCE, "TEOS", chem["TEOS"]),
            LineData(
                LineRole.SOLVENT,
                "Ethanol (wash)",
                chem["Ethanol"],
                in_stoichiometry=False,
                fixed_amount=40.0,
                fixed_unit="mL",
            ),
            cation,
        ),
        steps=(
            StepData("disperse", {"medium": "deionised water + ammonia water"}),
            StepData("ultrasonicate", {"duration_min": 5}),
            StepData("add_reagent", {"reagent": "TEOS", "mode": "dropwise"}),
            StepData("stir", {"duration_h": 12, "rpm": 700}),
            StepData("centrifuge", {"rpm": 8000, "duration_min": 5}),
            StepData("wash", {"solvents": "deionised water, ethanol", "cycles": 3}),
            StepData("dry", {"temperature_c": 80, "duration_h": 12}),
            StepData("mix", {"with_reagent": cation.name, "method": "agate mortar"}),
            _calcine(750, 12),
        ),
    )


@transaction.atomic
def load(stdout=None) -> None:
    User = get_user_model()
    manager = User.objects.get(username="manager")
    chemist = User.objects.get(username="chemist")
    chem = {row[0]: _chemical(row, manager) for row in CHEMICALS}
    for row in LOTS:
        _lot(row, chem, chemist)
    recipes = {
        "lmno-pristine": pristine_recipe(chem),
        "nso-coating": coating_recipe(chem, sodium=True),
        "lso-coating": coating_recipe(chem, sodium=False),
    }
    for family, data in recipes.items():
        if not Recipe.objects.filter(family=family).exists():
            services.recipe_create(user=manager, data=data, family=family)
    made = _demo_batches(chemist)
    if stdout is not None:
        stdout.write(
            f"  synthesis: {Chemical.objects.count()} chemicals, {Lot.objects.count()} lots, "
            f"{Recipe.objects.count()} recipes{', demo batches created' if made else ''}"
        )


def _chemical(row, user) -> Chemical:
    name, formula, cas, density, purity, grade, hazards = row
    existing = Chemical.objects.filter(name__iexact=name).first()
    return existing or services.chemical_create(
        user=user,
        name=name,
        formula=formula,
        cas_number=cas,
        density_g_per_ml=density,
        default_purity_percent=purity,
        grade=grade,
        hazard_notes=hazards,
    )


def _lot(row, chem: dict[str, Chemical], user) -> None:
    name, supplier, number, purity, amount, unit, days, location = row
    chemical = chem[name]
    if Lot.objects.filter(chemical=chemical, supplier=supplier, lot_number=number).exists():
        return
    today = timezone.localdate()
    services.lot_create(
        user=user,
        chemical=chemical,
        supplier=supplier,
        lot_number=number,
        amount=amount,
        amount_unit=unit,
        purity_percent=purity,
        received_on=today - datetime.timedelta(days=max(0, -days) + 200),
        expires_on=today + datetime.timedelta(days=days),
        location=location,
    )


def _demo_batches(chemist) -> bool:
    """A completed pristine batch (its product is the demo substrate) and a planned NSO."""
    if Batch.objects.filter(notes__startswith=DEMO_NOTE).exists():
        return False
    pristine = Recipe.objects.get(family="lmno-pristine", version=1)
    batch = services.batch_create(
        user=chemist,
        recipe=pristine,
        inputs=PlanInputs(target_mass_g=10.0, lots=queries.default_lots(pristine)),
        notes=f"{DEMO_NOTE} Substrate for the coating study.",
    )
    services.batch_record_actuals(
        user=chemist,
        batch=batch,
        actuals={
            r.pk: services.Actual(mass_g=round(r.planned_mass_g * 1.004, 4))
            for r in batch.reagents.all()
            if r.line.in_stoichiometry
        },
    )
    batch = services.batch_complete(user=chemist, batch=batch, yield_mass_g=9.42)
    nso = Recipe.objects.get(family="nso-coating", version=1)
    services.batch_create(
        user=chemist,
        recipe=nso,
        notes=f"{DEMO_NOTE} First NSO test.",
        inputs=PlanInputs(
            substrate=batch.product, substrate_mass_g=2.0, lots=queries.default_lots(nso)
        ),
    )
    return True
