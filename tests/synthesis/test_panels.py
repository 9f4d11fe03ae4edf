"""The sample page's synthesis panel: how a powder was made and where it went next."""

from __future__ import annotations

import pytest
from django.template.loader import render_to_string

from lims.sample_queries import sample_lineage
from lims.services import ParentLink, sample_register
from synthesis import services
from synthesis.panels import synthesis_panel

pytestmark = pytest.mark.django_db


def test_a_product_shows_the_batch_that_made_it_and_its_substrate_where_it_was_used(
    nso_batch, chemist
):
    services.batch_start(user=chemist, batch=nso_batch)
    batch = services.batch_complete(user=chemist, batch=nso_batch, yield_mass_g=0.96)

    product_panel = synthesis_panel(batch.product, lineage=sample_lineage(batch.product))
    substrate_panel = synthesis_panel(batch.substrate, lineage=sample_lineage(batch.substrate))

    html = render_to_string(product_panel.template, {"panel": product_panel.context})
    assert f'Made by <a href="/synthesis/batches/{batch.pk}/">{batch.code}</a>' in html
    assert "Calcined 750 °C, 12 h" in html and "Yield 960.0 mg" in html
    html = render_to_string(substrate_panel.template, {"panel": substrate_panel.context})
    assert f'Substrate of <a href="/synthesis/batches/{batch.pk}/">{batch.code}</a>' in html


def test_a_reagent_sample_shows_its_lot_and_other_samples_show_nothing(lots, substrate):
    lot = lots["TEOS"]

    panel = synthesis_panel(lot.sample, lineage=sample_lineage(lot.sample))

    html = render_to_string(panel.template, {"panel": panel.context})
    assert "Lot L-0 of <strong>TEOS</strong>" in html and "100.0 mL left" in html
    assert synthesis_panel(substrate, lineage=sample_lineage(substrate)) is None


def test_a_cell_shows_the_synthesis_conditions_it_inherits_from_its_powder(nso_batch, chemist):
    services.batch_start(user=chemist, batch=nso_batch)
    batch = services.batch_complete(user=chemist, batch=nso_batch, yield_mass_g=0.96)
    cell = sample_register(kind="cell", name="c1", parents=[ParentLink(batch.product, "component")])

    panel = synthesis_panel(cell, lineage=sample_lineage(cell))

    html = render_to_string(panel.template, {"panel": panel.context})
    assert "Inherited from its ancestors" in html
    row = html.split(f">{batch.code}</a>")[1].split("</tr>")[0]
    assert "750 °C / 12 h" in row and "1 wt% Na2SiO3" in row
