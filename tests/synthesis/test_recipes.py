"""Recipes: lab managers write them; a used recipe is frozen and revising it makes a version."""

from __future__ import annotations

import dataclasses

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from synthesis import demo, services
from synthesis.models import Batch, ReagentLine, Recipe, RecipeStep
from synthesis.recipe_input import StepData, recipe_data_from

pytestmark = pytest.mark.django_db


def test_a_chemist_may_not_write_a_recipe(chem, chemist):
    with pytest.raises(PermissionDenied, match="Only lab managers"):
        services.recipe_create(user=chemist, data=demo.pristine_recipe(chem))

    assert not Recipe.objects.exists()


def test_the_nso_reference_recipe_has_its_lines_and_typed_steps(nso):
    assert nso.version == 1 and nso.coating_formula == "Na2SiO3"
    assert [line.name for line in nso.lines.all()] == [
        "LMNO",
        "Deionised water",
        "Ammonia water",
        "TEOS",
        "Ethanol (wash)",
        "Na2CO3",
    ]
    calcine = nso.final_calcination()
    assert calcine.parameters == {
        "temperature_c": 750.0,
        "duration_h": 12.0,
        "ramp_c_per_min": 5.0,
        "atmosphere": "air",
    }
    stir = nso.steps.get(kind="stir")
    assert stir.parameters == {"duration_h": 12.0, "rpm": 700}


def test_a_step_missing_a_parameter_is_a_field_error_and_nothing_is_saved(chem, manager):
    data = demo.coating_recipe(chem, sodium=True)
    steps = list(data.steps)
    steps[-1] = StepData("calcine", {"temperature_c": 750, "duration_h": 12, "atmosphere": "air"})

    with pytest.raises(ValidationError) as err:
        services.recipe_create(user=manager, data=dataclasses.replace(data, steps=tuple(steps)))

    assert list(err.value.message_dict) == ["steps-8-ramp_c_per_min"]
    assert not Recipe.objects.exists() and not RecipeStep.objects.exists()


def test_a_precursor_bringing_a_foreign_element_is_refused_on_its_line(chem, manager):
    data = demo.pristine_recipe(chem)
    lines = list(data.lines)
    lines[1] = dataclasses.replace(lines[1], chemical=None, formula="CoCO3")

    with pytest.raises(ValidationError) as err:
        services.recipe_create(user=manager, data=dataclasses.replace(data, lines=tuple(lines)))

    assert "Co" in err.value.message_dict["lines-1-formula"][0]
    assert not ReagentLine.objects.exists()


def test_a_coating_recipe_needs_its_coating_formula_to_parse(chem, manager):
    data = dataclasses.replace(demo.coating_recipe(chem, sodium=True), coating_formula="Na2SiQ3")

    with pytest.raises(ValidationError) as err:
        services.recipe_create(user=manager, data=data)

    assert "unknown element 'Q'" in err.value.message_dict["coating_formula"][0]
    assert not Recipe.objects.exists()


def test_revising_an_unused_recipe_edits_it_in_place(nso, manager):
    data = dataclasses.replace(recipe_data_from(nso), notes="Use fresh ammonia water.")

    revised = services.recipe_revise(user=manager, recipe=nso, data=data)

    assert revised.pk == nso.pk and revised.version == 1
    assert Recipe.objects.get().notes == "Use fresh ammonia water."
    assert revised.lines.count() == 6 and revised.steps.count() == 9


def test_revising_a_used_recipe_writes_version_two_and_the_batch_keeps_version_one(
    nso_batch, nso, manager
):
    data = recipe_data_from(nso)
    steps = list(data.steps)
    steps[-1] = StepData(
        "calcine",
        {"temperature_c": 700, "duration_h": 12, "ramp_c_per_min": 5, "atmosphere": "air"},
    )

    v2 = services.recipe_revise(
        user=manager, recipe=nso, data=dataclasses.replace(data, steps=tuple(steps))
    )

    assert (v2.family, v2.version) == (nso.family, 2) and v2.pk != nso.pk
    assert v2.final_calcination().parameters["temperature_c"] == 700
    assert v2.lines.count() == nso.lines.count() == 6
    nso.refresh_from_db()
    assert nso.final_calcination().parameters["temperature_c"] == 750
    assert Batch.objects.get().recipe_id == nso.pk
    assert Batch.objects.get().calcination_temperature_c == 750


def test_revising_an_old_version_appends_after_the_latest(nso_batch, nso, manager):
    services.recipe_revise(user=manager, recipe=nso, data=recipe_data_from(nso))

    v3 = services.recipe_revise(user=manager, recipe=nso, data=recipe_data_from(nso))

    assert v3.version == 3
    assert sorted(Recipe.objects.filter(family=nso.family).values_list("version", flat=True)) == [
        1,
        2,
        3,
    ]


def test_a_chemist_may_not_revise_a_recipe(nso, chemist):
    with pytest.raises(PermissionDenied):
        services.recipe_revise(user=chemist, recipe=nso, data=recipe_data_from(nso))

    assert Recipe.objects.count() == 1
