"""The recipe editor: lab managers only; typed step fields; a used recipe becomes a version."""

from __future__ import annotations

import pytest
from django.urls import reverse

from synthesis.models import Recipe, RecipeStep

pytestmark = pytest.mark.django_db


def browser_post(editor) -> dict:
    """What the browser submits for the editor as rendered (values of every field)."""
    data = {}
    forms = [editor.form, editor.lines.management_form, editor.steps.management_form]
    forms += list(editor.lines) + list(editor.steps)
    for form in forms:
        for field in form:
            value = field.value()
            if field.widget_type == "checkbox":
                if value:
                    data[field.html_name] = "on"
            elif value is not None:
                data[field.html_name] = value.pk if hasattr(value, "pk") else value
    return data


@pytest.fixture
def manager_client(client, manager):
    client.force_login(manager)
    return client


def test_a_chemist_gets_a_clear_403_from_the_recipe_editor(client, chemist, nso):
    client.force_login(chemist)

    for url in (reverse("synthesis:recipe_new"), reverse("synthesis:recipe_edit", args=[nso.pk])):
        response = client.get(url)
        assert response.status_code == 403
        assert "Only lab managers" in response.content.decode()  # add / edit recipes
    response = client.post(reverse("synthesis:recipe_edit", args=[nso.pk]), {"name": "x"})
    assert response.status_code == 403
    assert Recipe.objects.get().name == "NSO: 1 wt% Na2SiO3@LMNO"


def test_a_manager_saves_an_untouched_used_recipe_as_version_two(manager_client, nso_batch):
    url = reverse("synthesis:recipe_edit", args=[nso_batch.recipe_id])
    data = browser_post(manager_client.get(url).context["editor"])
    data["notes"] = "Stir covered."

    response = manager_client.post(url, data)

    v2 = Recipe.objects.get(version=2)
    assert response.url == reverse("synthesis:recipe_detail", args=[v2.pk])
    assert v2.notes == "Stir covered." and v2.lines.count() == 6 and v2.steps.count() == 9
    assert v2.final_calcination().parameters["ramp_c_per_min"] == 5.0
    assert Recipe.objects.get(version=1).notes != "Stir covered."


def test_a_step_missing_a_parameter_is_an_error_on_that_input(manager_client, nso):
    url = reverse("synthesis:recipe_edit", args=[nso.pk])
    data = browser_post(manager_client.get(url).context["editor"])
    calcine = RecipeStep.objects.get(recipe=nso, kind="calcine").order - 1
    data[f"steps-{calcine}-p_ramp_c_per_min"] = ""
    data[f"steps-{calcine}-p_temperature_c"] = "2400"

    response = manager_client.post(url, data)

    step = response.context["editor"].steps.forms[calcine]
    assert step.errors["p_ramp_c_per_min"] == ["Calcine needs ramp (°C/min)."]
    assert "between 100 and 2000 °C, got 2400 °C" in step.errors["p_temperature_c"][0]
    assert nso.final_calcination().parameters["temperature_c"] == 750
    assert Recipe.objects.count() == 1


def test_a_line_formula_that_does_not_balance_is_an_error_on_that_line(manager_client, nso):
    url = reverse("synthesis:recipe_edit", args=[nso.pk])
    data = browser_post(manager_client.get(url).context["editor"])
    data["lines-5-chemical"] = ""
    data["lines-5-formula"] = "K2CO3"

    response = manager_client.post(url, data)

    errors = response.context["editor"].lines.forms[5].errors["formula"]
    assert "K" in errors[0] and "does not contain" in errors[0]
    assert nso.lines.get(order=6).formula == ""


def test_a_manager_writes_a_new_recipe_with_typed_steps(manager_client, chem):
    data = {
        "name": "LiMn2O4 spinel",
        "kind": "solid_state",
        "product_name": "LMO",
        "product_formula": "LiMn2O4",
        "product_kind": "cathode",
        "coating_basis": "substrate",
        "reference_mass_g": "1",
        "volatile_elements": "O,H,C,N",
        "lines-TOTAL_FORMS": "2",
        "lines-INITIAL_FORMS": "0",
        "lines-0-role": "li_source",
        "lines-0-name": "Li2CO3",
        "lines-0-chemical": chem["Lithium carbonate"].pk,
        "lines-0-in_stoichiometry": "on",
        "lines-1-role": "mn_source",
        "lines-1-name": "MnCO3",
        "lines-1-chemical": chem["Manganese(II) carbonate"].pk,
        "lines-1-in_stoichiometry": "on",
        "steps-TOTAL_FORMS": "2",
        "steps-INITIAL_FORMS": "0",
        "steps-0-kind": "grind",
        "steps-0-p_method": "agate mortar",
        "steps-1-kind": "calcine",
        "steps-1-p_temperature_c": "800",
        "steps-1-p_duration_h": "10",
        "steps-1-p_ramp_c_per_min": "3",
        "steps-1-p_atmosphere": "O2",
    }

    response = manager_client.post(reverse("synthesis:recipe_new"), data)

    recipe = Recipe.objects.get(family="limn2o4-spinel")
    assert response.status_code == 302
    assert [s.kind for s in recipe.steps.all()] == ["grind", "calcine"]
    assert recipe.final_calcination().parameters == {
        "temperature_c": 800.0,
        "duration_h": 10.0,
        "ramp_c_per_min": 3.0,
        "atmosphere": "O2",
    }
    assert recipe.created_by.username == "maria"


def test_adding_a_step_row_saves_nothing(manager_client, nso):
    url = reverse("synthesis:recipe_edit", args=[nso.pk])
    data = browser_post(manager_client.get(url).context["editor"])

    response = manager_client.post(url, {**data, "add": "steps"})

    assert response.status_code == 200
    assert len(response.context["editor"].steps.forms) == int(data["steps-TOTAL_FORMS"]) + 1
    assert Recipe.objects.count() == 1 and nso.steps.count() == 9


def test_choosing_a_step_kind_fetches_its_parameter_inputs(manager_client):
    response = manager_client.get(
        reverse("synthesis:step_fields"), {"prefix": "steps-3", "steps-3-kind": "calcine"}
    )

    html = response.content.decode()
    for name in ("temperature_c", "duration_h", "ramp_c_per_min", "atmosphere"):
        assert f'name="steps-3-p_{name}"' in html
    assert manager_client.get(reverse("synthesis:step_fields"), {"prefix": "x"}).status_code == 404
