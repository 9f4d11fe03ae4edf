"""The demo data: reference recipes, inventory and a completed batch with its lineage; twice is
the same as once."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import call_command

from lims.models import EdgeRole, SampleEdge
from synthesis.models import Batch, BatchStatus, Chemical, Lot, Recipe

pytestmark = pytest.mark.django_db


def _counts() -> tuple[int, ...]:
    return tuple(m.objects.count() for m in (Chemical, Lot, Recipe, Batch, SampleEdge))


def test_load_demo_seeds_the_three_reference_recipes_once():
    out = StringIO()
    call_command("load_demo", stdout=out)
    first = _counts()
    call_command("load_demo", stdout=StringIO())

    assert _counts() == first
    assert set(Recipe.objects.values_list("family", flat=True)) == {
        "lmno-pristine", "nso-coating", "lso-coating",
    }  # fmt: skip
    assert "synthesis: 7 chemicals, 8 lots, 3 recipes" in out.getvalue()
    teos = Chemical.objects.get(name="TEOS")
    assert (teos.density_g_per_ml, teos.default_purity_percent) == (0.933, 98.0)
    lso = Recipe.objects.get(family="lso-coating")
    assert lso.coating_formula == "Li2SiO3"
    assert lso.lines.get(role="li_source").chemical.formula == "Li2CO3"


def test_the_demo_pristine_batch_made_the_substrate_of_the_planned_nso_batch():
    call_command("load_demo", stdout=StringIO())

    pristine = Batch.objects.get(recipe__family="lmno-pristine")
    nso = Batch.objects.get(recipe__family="nso-coating")
    assert pristine.status == BatchStatus.COMPLETED and nso.status == BatchStatus.PLANNED
    assert nso.substrate == pristine.product
    reagent_edges = SampleEdge.objects.filter(child=pristine.product, role=EdgeRole.REAGENT)
    assert reagent_edges.count() == 4  # Li2CO3, MnCO3, Ni acetate and the milling ethanol
