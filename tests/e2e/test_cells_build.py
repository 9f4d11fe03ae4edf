"""A chemist builds an electrode from an NSO powder, makes four coin cells, uploads a raw file
to one, and walks from that cell back to the synthesis batch that made the powder."""

from __future__ import annotations

import hashlib
import re

import pytest
from playwright.sync_api import expect

from characterization.models import CoinCell, Electrode, RawFile
from lims.lineage import ancestor_depths
from synthesis import queries, services
from synthesis.planning import PlanInputs
from tests.characterization.parser_reference import cycler_data_dir
from tests.fixtures.browser import log_in
from tests.lims.factories import PASSWORD
from tests.synthesis.factories import make_chemicals, make_lots, make_nso, make_substrate

pytestmark = [
    pytest.mark.browser,
    pytest.mark.testdata("cyclers"),
    pytest.mark.usefixtures("transactional_db"),
]

DISC_MASSES_MG = ("12.00", "11.80", "12.20", "12.10")


def completed_nso_batch(chemist, manager):
    """1.000 g LMNO coated with 1 wt% Na2SiO3, completed: its product is the NSO powder."""
    chemicals = make_chemicals(manager)
    recipe = make_nso(chemicals, manager)
    make_lots(chemicals, chemist)
    inputs = PlanInputs(substrate=make_substrate(chemist), substrate_mass_g=1.0,
                        lots=queries.default_lots(recipe))  # fmt: skip
    batch = services.batch_create(user=chemist, recipe=recipe, inputs=inputs)
    services.batch_start(user=chemist, batch=batch)
    return services.batch_complete(user=chemist, batch=batch, yield_mass_g=0.96)


def test_a_chemist_builds_an_electrode_makes_four_cells_and_uploads_a_raw_file(
    page, chemist, manager, settings, tmp_path
):
    settings.MEDIA_ROOT = tmp_path / "media"
    batch = completed_nso_batch(chemist, manager)
    powder = batch.product
    raw_path = cycler_data_dir() / "neware_navani_test.ndax"
    sha256 = hashlib.sha256(raw_path.read_bytes()).hexdigest()

    page.goto("/cells/")
    log_in(page, "chen", PASSWORD)
    page.get_by_role("button", name="Build an electrode").click()
    page.get_by_label("Active material (cathode powder)").select_option(powder.code)
    page.get_by_label("Active material used (g)").fill("0.4")
    page.get_by_label("Bare foil disc mass (mg)").fill("4.00")
    expect(page.locator("#slurry-preview")).to_contain_text("0.0500 g")  # live, before saving
    page.get_by_role("button", name="Register electrode").click()

    electrode = Electrode.objects.get()
    expect(page.get_by_role("heading", level=1)).to_contain_text(electrode.sample.code)
    expect(page.locator("#slurry-table")).to_contain_text("0.7500")
    for number, mass in enumerate(DISC_MASSES_MG, start=1):
        page.get_by_label(f"Disc mass (mg), cell {number}", exact=True).fill(mass)
    page.get_by_role("button", name="Build cells").click()
    expect(page.locator(".kiln-message")).to_contain_text("4 cells built")

    cells = list(CoinCell.objects.order_by("id"))
    assert len(cells) == 4
    assert all(
        ancestor_depths(c.sample.pk).items() >= {electrode.sample.pk: 1, powder.pk: 2}.items()
        for c in cells
    )
    page.locator("#cells").get_by_role("link", name=cells[0].sample.code).click()
    expect(page.get_by_test_id("active-mass")).to_have_text("6.400")
    expect(page.locator('#c-rate-currents tr[data-rate="1"]')).to_contain_text("1.6000")
    expect(page.get_by_test_id("powder-link")).to_have_attribute("href", f"/samples/{powder.code}/")
    expect(page.get_by_test_id("electrode-link")).to_have_text(electrode.sample.code)

    page.get_by_label("Instrument").fill("Neware CT-4008")
    page.get_by_label("Raw files").set_input_files(raw_path)
    page.get_by_role("button", name="Record measurement").click()
    expect(page).to_have_url(re.compile(r"/measurements/MEAS-\d{4}-\d{4}/$"))
    files = page.locator("#files")
    expect(files).to_contain_text("neware_navani_test.ndax")
    expect(files).to_contain_text(sha256[:12])
    expect(files).to_contain_text("as a Neware .ndax file")  # what Kiln made of it

    page.get_by_role("link", name=cells[0].sample.code).first.click()
    expect(page.locator("#measurements")).to_contain_text(sha256[:12])
    raw = RawFile.objects.get()
    assert (raw.sha256, raw.size_bytes) == (sha256, raw_path.stat().st_size)
    assert list(raw.measurements.values_list("subject", flat=True)) == [cells[0].sample.pk]

    # From the cell back to the furnace run: cell -> powder sample page -> the batch.
    page.get_by_test_id("powder-link").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text(powder.code)
    expect(page.locator("#lineage svg")).to_contain_text(cells[0].sample.code)
    page.get_by_role("link", name=batch.code).first.click()
    expect(page.get_by_role("heading", level=1)).to_contain_text(batch.code)
    expect(page.locator("main")).to_contain_text("750")
