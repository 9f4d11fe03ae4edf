"""A chemist plans an NSO batch in a real browser, sees the TEOS volume appear as they type the
substrate mass, records what they weighed, completes it and finds the new powder's code."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from lims.models import EdgeRole, Sample, SampleKind
from synthesis.models import Batch, BatchStatus
from tests.fixtures.browser import log_in
from tests.lims.factories import PASSWORD
from tests.synthesis.factories import make_chemicals, make_lots, make_nso, make_substrate

pytestmark = [pytest.mark.browser, pytest.mark.usefixtures("transactional_db")]


def test_a_chemist_plans_logs_and_completes_an_nso_batch(page, chemist, manager):
    chemicals = make_chemicals(manager)
    make_lots(chemicals, chemist)
    nso, substrate = make_nso(chemicals, manager), make_substrate(chemist)
    page.goto(f"/synthesis/recipes/{nso.pk}/plan/")
    log_in(page, "chen", PASSWORD)
    page.wait_for_url(f"**/synthesis/recipes/{nso.pk}/plan/")
    page.evaluate("window.kilnNoReload = true")

    page.get_by_label("Substrate sample").select_option(str(substrate.pk))
    page.get_by_label("Substrate mass (g)").press_sequentially("1.000", delay=40)

    teos = page.locator('#quantities tr[data-reagent="TEOS"]')
    expect(teos.locator(".volume")).to_contain_text("18.67 µL")  # 1 wt% of 1.000 g, TEOS 98 %
    expect(teos.locator(".mass")).to_contain_text("17.42 mg")
    assert page.evaluate("window.kilnNoReload") is True  # updated in place, no reload

    page.get_by_role("button", name="Save the plan").click()
    page.wait_for_url(re.compile(r"/synthesis/batches/\d+/$"))
    batch = Batch.objects.get()
    rows = {r.line.name: r for r in batch.reagents.select_related("line")}

    page.get_by_label("LMNO (g)").fill("0.9987")
    page.get_by_label("TEOS (mL)").fill("0.0187")
    page.get_by_label("Na2CO3 (g)").fill("0.0088")
    page.get_by_role("button", name="Record actual amounts").click()
    expect(page.locator(".kiln-message")).to_contain_text("Actual amounts recorded")

    page.get_by_label("Yield (g)").fill("0.962")
    page.get_by_role("button", name="Complete and register the product").click()
    expect(page.locator("#product")).to_contain_text("Product registered as")

    batch.refresh_from_db()
    assert batch.status == BatchStatus.COMPLETED
    product = Sample.objects.get(pk=batch.product_id)
    assert product.kind == SampleKind.CATHODE
    expect(page.locator("#product")).to_contain_text(product.code)
    assert product.parent_edges.filter(parent=substrate, role=EdgeRole.SUBSTRATE).exists()
    teos_row = batch.reagents.get(pk=rows["TEOS"].pk)
    assert teos_row.actual_volume_ml == 0.0187
    assert product.parent_edges.filter(parent=teos_row.lot.sample, role=EdgeRole.REAGENT).exists()
    page.get_by_role("link", name=product.code).click()  # on to the registry's sample page
    expect(page.get_by_role("heading", level=1)).to_contain_text(product.code)
    page.goto("/samples/")
    expect(page.get_by_role("link", name=product.code)).to_be_visible()
