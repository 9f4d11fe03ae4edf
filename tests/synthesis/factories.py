"""Builders for synthesis test data, through the services (shared by fixtures and e2e tests)."""

from __future__ import annotations

import datetime

from django.utils import timezone

from lims.models import Sample, SampleKind
from lims.services import sample_register
from synthesis import demo, services
from synthesis.models import Chemical, Lot, Recipe

LMNO = "Li1.2Mn0.6Ni0.2O2"


def make_chemicals(user) -> dict[str, Chemical]:
    """The demo chemicals (TEOS 98 % 0.933 g/mL, Na2CO3 99.5 %, Li2CO3 99 %, ...) by name."""
    return {row[0]: demo._chemical(row, user) for row in demo.CHEMICALS}


def make_lots(chemicals: dict[str, Chemical], user) -> dict[str, Lot]:
    """One fresh lot of each chemical (100 g, or 100 mL for liquids), expiring in a year."""
    expires = timezone.localdate() + datetime.timedelta(days=365)
    return {
        name: services.lot_create(
            user=user,
            chemical=chemical,
            supplier="Sigma-Aldrich",
            lot_number=f"L-{i}",
            amount=100.0,
            amount_unit="mL" if chemical.is_liquid else "g",
            expires_on=expires,
        )
        for i, (name, chemical) in enumerate(chemicals.items())
    }


def make_nso(chemicals: dict[str, Chemical], manager) -> Recipe:
    data = demo.coating_recipe(chemicals, sodium=True)
    return services.recipe_create(user=manager, data=data, family="nso")


def make_substrate(user) -> Sample:
    return sample_register(kind=SampleKind.CATHODE, name="LMNO pristine", owner=user, formula=LMNO)
