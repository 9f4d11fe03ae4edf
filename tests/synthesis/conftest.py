"""Synthesis fixtures: the demo chemicals and lots, the reference recipes, an LMNO substrate."""

from __future__ import annotations

import pytest

from synthesis import demo, queries, services
from synthesis.planning import PlanInputs
from tests.synthesis.factories import make_chemicals, make_lots, make_nso, make_substrate


@pytest.fixture
def chem(manager) -> dict:
    return make_chemicals(manager)


@pytest.fixture
def lots(chem, chemist) -> dict:
    """One fresh lot per chemical, keyed by chemical name."""
    return make_lots(chem, chemist)


@pytest.fixture
def nso(chem, manager):
    return make_nso(chem, manager)


@pytest.fixture
def lso(chem, manager):
    return services.recipe_create(
        user=manager, data=demo.coating_recipe(chem, sodium=False), family="lso"
    )


@pytest.fixture
def pristine(chem, manager):
    return services.recipe_create(user=manager, data=demo.pristine_recipe(chem), family="lmno")


@pytest.fixture
def substrate(chemist):
    return make_substrate(chemist)


@pytest.fixture
def nso_batch(nso, lots, substrate, chemist):
    """1.000 g of LMNO to coat with 1 wt% Na2SiO3, every lot chosen (FEFO)."""
    return services.batch_create(
        user=chemist,
        recipe=nso,
        inputs=PlanInputs(
            substrate=substrate, substrate_mass_g=1.0, lots=queries.default_lots(nso)
        ),
    )


def reagent(batch, name: str):
    return batch.reagents.select_related("line", "lot").get(line__name=name)
