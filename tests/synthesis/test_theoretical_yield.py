"""A yield above the theoretical yield of the batch's limiting reagent is refused, with the
numbers: the arithmetic (pure, hand-worked), the service, the page."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from lims.models import Sample
from synthesis import services
from synthesis.chemistry import (
    InputError,
    Supply,
    check_yield,
    coating_theoretical_yield,
    mol_per_mol_product,
    synthesis_theoretical_yield,
)
from synthesis.chemistry.theoretical_yield import grams
from synthesis.models import Batch, BatchStatus, Lot
from synthesis.planning import PlanInputs, batch_theoretical_yield
from synthesis.services import Actual
from tests.synthesis.conftest import reagent

HAND = 1e-6
M_LMNO = 85.0275058  # Li1.2Mn0.6Ni0.2O2, g/mol
M_MNCO3 = 114.946043
M_NA2SIO3 = 122.06153856
M_TEOS = 208.329


# --- the arithmetic ---------------------------------------------------------------------------


def _mnco3(mass_g: float) -> Supply:
    return Supply("MnCO3", mass_g, 99.9, M_MNCO3, mol_per_mol_product=0.6)


def test_the_reagent_allowing_the_least_product_limits_the_yield():
    # MnCO3: 1.50 g × 0.999 / 114.946043 = 0.0130365 mol; / 0.6 = 0.0217276 mol of LMNO
    # → × 85.0275058 = 1.84744 g. Li2CO3 (1.2/2 = 0.6 per LMNO): 1.00 g × 0.99 / 73.888
    # = 0.0133987 mol; / 0.6 = 0.0223311 mol → 1.89876 g, so MnCO3 limits.
    lithium = Supply("Li2CO3", 1.00, 99.0, 73.888, mol_per_mol_product=0.6)
    result = synthesis_theoretical_yield(
        product_formula="Li1.2Mn0.6Ni0.2O2",
        product_molar_mass_g_per_mol=M_LMNO,
        supplies=[lithium, _mnco3(1.50)],
    )
    assert result.mass_g == pytest.approx(1.50 * 0.999 / M_MNCO3 / 0.6 * M_LMNO, rel=HAND)
    assert result.mass_g == pytest.approx(1.84744, rel=1e-5)
    assert result.limiting.name == "MnCO3"
    assert result.source() == "from 1.50 g of MnCO3 (limiting)"


def test_the_coefficient_per_mole_of_product_leaves_the_excess_out():
    # planned 0.0740937 mol Li2CO3 for 0.117609 mol LMNO with 5 % Li excess: 0.6 per mol
    assert mol_per_mol_product(
        planned_amount_mol=0.6 * 1.05 * 0.117609, planned_product_mol=0.117609, excess_percent=5
    ) == pytest.approx(0.6, rel=1e-12)


def test_a_coating_batch_carries_its_substrate_and_the_coating_precursors_limit_the_coating():
    # 1 wt% Na2SiO3 on 1.000 g: n_c = 0.0100 g / 122.0615 = 8.1926e-5 mol; TEOS (1 per
    # Na2SiO3) weighed at half its plan, 0.5 × 8.1926e-5 × 208.329 / 0.98 = 8.708 mg,
    # gives 4.0963e-5 mol → 0.00500 g of coating; theoretical 1.000 + 0.00500 = 1.00500 g
    teos = Supply("TEOS", 0.5 * 8.19259e-5 * M_TEOS / 0.98, 98.0, M_TEOS, 1.0)
    soda = Supply("Na2CO3", 8.19259e-5 * 105.98753856 / 0.995, 99.5, 105.98753856, 1.0)
    result = coating_theoretical_yield(
        substrate_name="LMNO",
        substrate_mass_g=1.000,
        coating_formula="Na2SiO3",
        coating_molar_mass_g_per_mol=M_NA2SIO3,
        supplies=[teos, soda],
    )
    assert result.mass_g == pytest.approx(1.0 + 0.5 * 8.19259e-5 * M_NA2SIO3, rel=HAND)
    assert result.mass_g == pytest.approx(1.00500, rel=1e-5)
    assert result.source() == (
        "from 1.00 g of LMNO and 0.00871 g of TEOS (limiting the Na2SiO3 coating)"
    )


def test_a_yield_above_the_theoretical_yield_is_refused_with_the_numbers():
    theoretical = synthesis_theoretical_yield(
        product_formula="Li1.2Mn0.6Ni0.2O2",
        product_molar_mass_g_per_mol=M_LMNO,
        supplies=[_mnco3(1.50)],
    )
    check_yield(1.84, theoretical)
    with pytest.raises(InputError) as caught:
        check_yield(50, theoretical)
    assert caught.value.field == "yield_mass_g"
    assert caught.value.message == (
        "50 g is above the theoretical yield of 1.85 g from 1.50 g of MnCO3 (limiting)"
    )


@pytest.mark.parametrize(
    ("mass_g", "text"),
    [(2.0198, "2.02 g"), (1.5, "1.50 g"), (0.042795, "0.0428 g"), (1234.5, "1234 g")],
)
def test_grams_keep_three_significant_figures(mass_g, text):
    assert grams(mass_g) == text


# --- the batch ------------------------------------------------------------------------------


@pytest.fixture
def two_gram_batch(pristine, chemist):
    batch = services.batch_create(user=chemist, recipe=pristine, inputs=PlanInputs(target_mass_g=2))
    return services.batch_start(user=chemist, batch=batch)


def test_a_batch_weighed_as_planned_has_its_planned_mass_as_theoretical_yield(two_gram_batch):
    theoretical = batch_theoretical_yield(two_gram_batch)
    assert theoretical.mass_g == pytest.approx(2.0, rel=1e-9)
    # Li2CO3 carries 5 % excess, so MnCO3 (first of the two exact ones) is named
    assert theoretical.limiting.name == "MnCO3"


def test_a_50_g_yield_from_a_2_g_batch_is_refused_and_nothing_is_registered(
    two_gram_batch, chemist
):
    samples_before = Sample.objects.count()
    with pytest.raises(ValidationError) as caught:
        services.batch_complete(user=chemist, batch=two_gram_batch, yield_mass_g=50)
    assert caught.value.message_dict["yield_mass_g"] == [
        "50 g is above the theoretical yield of 2.00 g from 1.62 g of MnCO3 (limiting)"
    ]
    batch = Batch.objects.get()
    assert batch.status == BatchStatus.IN_PROGRESS and batch.yield_mass_g is None
    assert batch.product is None and Sample.objects.count() == samples_before


def test_an_underweighed_reagent_lowers_the_theoretical_yield_it_limits(two_gram_batch, chemist):
    # MnCO3 planned 2 × 0.6 / 85.0275058 × 114.946043 / 0.999 = 1.62387 g; weighed 1.50 g:
    # theoretical 2 × 1.50 / 1.62387 = 1.84744 g
    mnco3 = reagent(two_gram_batch, "MnCO3")
    services.batch_record_actuals(
        user=chemist, batch=two_gram_batch, actuals={mnco3.pk: Actual(mass_g=1.50)}
    )
    with pytest.raises(ValidationError) as caught:
        services.batch_complete(user=chemist, batch=two_gram_batch, yield_mass_g=1.90)
    assert caught.value.message_dict["yield_mass_g"] == [
        "1.9 g is above the theoretical yield of 1.85 g from 1.50 g of MnCO3 (limiting)"
    ]
    batch = services.batch_complete(user=chemist, batch=two_gram_batch, yield_mass_g=1.80)
    assert batch.status == BatchStatus.COMPLETED and batch.yield_mass_g == 1.80


def test_a_coating_yield_above_substrate_plus_coating_is_refused(nso_batch, chemist):
    services.batch_start(user=chemist, batch=nso_batch)
    lots_before = dict(Lot.objects.values_list("pk", "amount_left"))
    with pytest.raises(ValidationError) as caught:
        services.batch_complete(user=chemist, batch=nso_batch, yield_mass_g=1.02)
    assert caught.value.message_dict["yield_mass_g"] == [
        "1.02 g is above the theoretical yield of 1.01 g from 1.00 g of LMNO and 0.0174 g of "
        "TEOS (limiting the Na2SiO3 coating)"
    ]
    assert dict(Lot.objects.values_list("pk", "amount_left")) == lots_before
    assert Batch.objects.get().status == BatchStatus.IN_PROGRESS


def test_the_complete_form_shows_the_theoretical_yield_and_refuses_50_g(
    client, chemist, two_gram_batch
):
    client.force_login(chemist)
    page = client.get(reverse("synthesis:batch_detail", args=[two_gram_batch.pk])).content
    assert "Theoretical yield 2.000 g from 1.62 g of MnCO3 (limiting)" in page.decode()

    response = client.post(
        reverse("synthesis:batch_complete", args=[two_gram_batch.pk]), {"yield_mass_g": "50"}
    )

    assert response.status_code == 400
    assert "50 g is above the theoretical yield of 2.00 g" in response.content.decode()
    assert Batch.objects.get().status == BatchStatus.IN_PROGRESS


def test_a_yield_beyond_ten_kilograms_is_refused_by_the_form_before_the_service(
    client, chemist, two_gram_batch
):
    client.force_login(chemist)
    response = client.post(
        reverse("synthesis:batch_complete", args=[two_gram_batch.pk]), {"yield_mass_g": "1e6"}
    )
    assert response.status_code == 400
    assert "yield must be greater than 0 g and at most 10,000 g" in response.content.decode()
    assert Batch.objects.get().product is None
