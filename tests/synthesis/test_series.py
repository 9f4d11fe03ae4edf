"""A series varies one parameter over a list of values: one planned batch per value."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError

from synthesis import queries, services
from synthesis.models import Batch, Series
from synthesis.planning import PlanInputs

pytestmark = pytest.mark.django_db


def _series(recipe, user, parameter, values, **inputs):
    return services.series_create(
        user=user,
        recipe=recipe,
        parameter=parameter,
        values=values,
        inputs=PlanInputs(**inputs, lots=queries.default_lots(recipe)),
    )


def test_a_coating_wt_percent_series_plans_one_batch_per_value(nso, lots, substrate, chemist):
    series = _series(
        nso,
        chemist,
        "coating_wt_percent",
        [0.5, 1, 2, 3],
        substrate=substrate,
        substrate_mass_g=2.0,
    )

    batches = list(series.batches.order_by("pk"))
    assert [b.coating_wt_percent for b in batches] == [0.5, 1, 2, 3]
    assert [b.plan["coating"]["mass_g"] for b in batches] == pytest.approx([0.01, 0.02, 0.04, 0.06])
    assert {b.substrate_mass_g for b in batches} == {2.0}
    assert series.name == "NSO: 1 wt% Na2SiO3@LMNO: Coating wt% 0.5, 1, 2, 3"


def test_the_weighing_list_totals_each_reagent_over_the_series(nso, lots, substrate, chemist):
    series = _series(
        nso, chemist, "coating_wt_percent", [1, 2], substrate=substrate, substrate_mass_g=1.0
    )
    batches = queries.series_batches(series)

    rows = {row.name: row for row in queries.series_weighing_list(batches)}

    teos = rows["TEOS"]
    assert teos.unit == "mL"
    assert teos.amounts == pytest.approx([0.018666511831900722, 2 * 0.018666511831900722])
    assert teos.total == pytest.approx(3 * 0.018666511831900722)
    assert rows["Na2CO3"].unit == "g"
    assert rows["Deionised water"].total == pytest.approx(100.0)


def test_a_calcination_temperature_series_overrides_the_final_calcination(pristine, chemist):
    series = _series(
        pristine, chemist, "calcination_temperature_c", [850, 900, 950], target_mass_g=5.0
    )

    temperatures = series.batches.order_by("pk").values_list("calcination_temperature_c", flat=True)
    assert list(temperatures) == [850, 900, 950]
    assert all(b.recipe_id == pristine.pk for b in series.batches.all())


def test_a_mass_series_scales_every_quantity(pristine, chemist):
    series = _series(pristine, chemist, "mass_g", [1, 5], target_mass_g=None)

    small, large = series.batches.order_by("pk")
    assert (small.target_mass_g, large.target_mass_g) == (1, 5)
    small_li = small.reagents.get(line__name="Li2CO3").planned_mass_g
    assert large.reagents.get(line__name="Li2CO3").planned_mass_g == pytest.approx(5 * small_li)


def test_a_bad_value_names_itself_and_no_batch_of_the_series_is_saved(nso, substrate, chemist):
    with pytest.raises(ValidationError) as err:
        _series(
            nso,
            chemist,
            "coating_wt_percent",
            [1, 2, 150],
            substrate=substrate,
            substrate_mass_g=1.0,
        )

    assert err.value.message_dict["values"][0].startswith("150: coating must be")
    assert not Series.objects.exists() and not Batch.objects.exists()


@pytest.mark.parametrize(
    ("parameter", "values", "field"),
    [
        ("coating_wt_percent", [1, 2], "parameter"),  # the pristine recipe has no coating
        ("mass_g", [1], "values"),
        ("mass_g", [1, 1], "values"),
        ("speed", [1, 2], "parameter"),
    ],
)
def test_a_series_that_cannot_vary_is_refused(pristine, chemist, parameter, values, field):
    with pytest.raises(ValidationError) as err:
        _series(pristine, chemist, parameter, values, target_mass_g=1.0)

    assert field in err.value.message_dict
    assert not Batch.objects.exists()
