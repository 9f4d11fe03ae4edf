"""Chemicals and lots: validated on the way in, lots become reagent samples in the registry."""

from __future__ import annotations

import datetime

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from lims.models import Sample, SampleKind
from synthesis import services
from synthesis.models import Chemical, Lot

pytestmark = pytest.mark.django_db


def _chemical(user, **overrides) -> Chemical:
    arguments = {
        "user": user,
        "name": "Nickel acetate",
        "formula": "Ni(CH3COO)2*4H2O",
        "cas_number": "6018-89-9",
        "default_purity_percent": 98.0,
    }
    return services.chemical_create(**{**arguments, **overrides})


def test_a_chemical_is_saved_with_the_hydrate_dot_normalised(chemist):
    chemical = _chemical(chemist)

    assert Chemical.objects.get().formula == "Ni(CH3COO)2·4H2O"
    assert chemical.molar_mass_g_per_mol == pytest.approx(248.8414, rel=1e-6)


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"formula": "Ni(CH3COO)2.4H2O"}, "formula"),
        ({"formula": "Xx2O"}, "formula"),
        ({"formula": ""}, "formula"),
        ({"cas_number": "6018-89-8"}, "cas_number"),
        ({"default_purity_percent": 0}, "default_purity_percent"),
        ({"default_purity_percent": 100.5}, "default_purity_percent"),
        ({"density_g_per_ml": -0.9}, "density_g_per_ml"),
    ],
)
def test_bad_chemical_input_is_a_field_error_and_nothing_is_saved(chemist, overrides, field):
    with pytest.raises(ValidationError) as err:
        _chemical(chemist, **overrides)

    assert field in err.value.message_dict
    assert not Chemical.objects.exists()


def test_chemical_names_are_unique_whatever_their_case(chemist):
    _chemical(chemist)

    with pytest.raises(ValidationError):
        _chemical(chemist, name="NICKEL ACETATE")
    assert Chemical.objects.count() == 1


def test_receiving_a_lot_registers_a_reagent_sample(chemist):
    chemical = _chemical(chemist)

    lot = services.lot_create(
        user=chemist,
        chemical=chemical,
        supplier="Sigma-Aldrich",
        lot_number="STBJ9001",
        amount=250,
        amount_unit="g",
        location="Toxics cabinet",
    )

    sample = Sample.objects.get(pk=lot.sample_id)
    assert sample.kind == SampleKind.REAGENT
    assert sample.code.startswith("RGT-")
    assert sample.formula == "Ni(CH3COO)2·4H2O"
    assert sample.location == "Toxics cabinet"
    assert lot.purity_percent == 98.0  # the chemical's default


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"purity_percent": 0}, "purity_percent"),
        ({"purity_percent": 101}, "purity_percent"),
        ({"amount": -1}, "amount_left"),
        ({"amount_unit": "kg"}, "amount_unit"),
        ({"expires_on": datetime.date(2000, 1, 1)}, "expires_on"),
    ],
)
def test_bad_lot_input_saves_neither_the_lot_nor_its_sample(chemist, overrides, field):
    chemical = _chemical(chemist)
    arguments = {
        "user": chemist,
        "chemical": chemical,
        "supplier": "Merck",
        "lot_number": "A1",
        "amount": 10.0,
        "amount_unit": "g",
    }

    with pytest.raises(ValidationError) as err:
        services.lot_create(**{**arguments, **overrides})

    assert field in err.value.message_dict
    assert not Lot.objects.exists()
    assert not Sample.objects.filter(kind=SampleKind.REAGENT).exists()


def test_the_same_lot_number_from_the_same_supplier_is_refused(chemist):
    chemical = _chemical(chemist)
    arguments = {
        "user": chemist,
        "chemical": chemical,
        "supplier": "Merck",
        "lot_number": "A1",
        "amount": 10.0,
        "amount_unit": "g",
    }
    services.lot_create(**arguments)

    with pytest.raises(ValidationError):
        services.lot_create(**arguments)
    assert Lot.objects.count() == 1


def test_the_database_refuses_a_purity_above_100_percent_and_a_negative_amount(chemist):
    lot = services.lot_create(
        user=chemist,
        chemical=_chemical(chemist),
        supplier="Merck",
        lot_number="A1",
        amount=10.0,
        amount_unit="g",
    )

    for field, value in (("purity_percent", 100.1), ("amount_left", -0.5)):
        with pytest.raises(IntegrityError), transaction.atomic():
            Lot.objects.filter(pk=lot.pk).update(**{field: value})
