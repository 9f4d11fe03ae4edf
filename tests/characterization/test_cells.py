"""Coin cells: active mass, loading and C-rate currents; batches from one electrode sheet."""

from __future__ import annotations

import datetime

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.urls import reverse

from characterization import services
from characterization.models import CoinCell
from characterization.services import DiscRow
from lims.lineage import ancestor_depths
from lims.models import EdgeRole, Sample, SampleEdge, SampleKind
from tests.characterization.factories import CellFactory, ElectrodeFactory, PowderFactory

pytestmark = pytest.mark.django_db

# Hand-worked for a 12 mm disc of 12.00 mg on a 4.00 mg bare foil disc, 80 % active:
# area = π (0.6 cm)² = 1.130973 cm²; active = (12.00 − 4.00) × 0.80 = 6.400 mg;
# loading = 6.400 / 1.130973 = 5.6588 mg/cm²; I(x) = x × 250 mA/g × 0.006400 g
AREA_CM2 = 1.130973
ACTIVE_MG = 6.400
LOADING = 5.6588
CURRENTS_MA = {"0.05": 0.0800, "0.1": 0.160, "0.2": 0.320, "0.5": 0.800, "1": 1.600,
               "2": 3.200, "5": 8.000, "10": 16.000}  # fmt: skip


def test_a_cell_stores_its_inputs_and_the_hand_worked_active_mass_and_loading():
    cell = CellFactory()
    cell.refresh_from_db()
    assert (cell.disc_mass_mg, cell.foil_disc_mass_mg, cell.active_fraction) == (12.0, 4.0, 0.8)
    assert cell.disc_area_cm2 == pytest.approx(AREA_CM2, rel=1e-6)
    assert cell.active_mass_mg == pytest.approx(ACTIVE_MG, rel=1e-12)
    assert cell.areal_loading_mg_per_cm2 == pytest.approx(LOADING, rel=1e-4)
    assert cell.c_rate_currents_ma() == pytest.approx(CURRENTS_MA, rel=1e-12)


def test_a_cell_is_a_sample_made_from_its_electrode_with_the_disc_mass():
    cell = CellFactory()
    assert cell.sample.kind == SampleKind.CELL and cell.sample.code.startswith("CELL-")
    edge = SampleEdge.objects.get(child=cell.sample)
    assert (edge.parent, edge.role, edge.amount, edge.amount_unit) == (
        cell.electrode.sample,
        EdgeRole.COMPONENT,
        12.0,
        "mg",
    )


def test_the_cell_page_shows_active_mass_loading_and_the_current_of_every_protocol_rate(
    client, chemist
):
    cell = CellFactory()
    client.force_login(chemist)
    page = client.get(reverse("cells:cell", args=[cell.sample.code])).content.decode()
    assert '<strong data-testid="active-mass">6.400</strong> mg' in page
    assert '<strong data-testid="loading">5.659</strong> mg/cm²' in page
    for label, current in CURRENTS_MA.items():
        expected = f'<tr data-rate="{label}"><td>{label}C</td><td class="num">{current:.4f}</td>'
        assert expected in page


def test_the_cell_page_links_its_electrode_and_its_powder_by_code(client, chemist):
    cell = CellFactory()
    powder = cell.electrode.active_material
    client.force_login(chemist)
    page = client.get(reverse("cells:cell", args=[cell.sample.code])).content.decode()
    assert f'href="/samples/{powder.code}/" data-testid="powder-link">{powder.code}</a>' in page
    electrode_url = reverse("cells:electrode", args=[cell.electrode.sample.code])
    assert f'href="{electrode_url}" data-testid="electrode-link"' in page


def test_the_1c_basis_is_configurable_per_electrode_and_per_cell():
    electrode = ElectrodeFactory(one_c_ma_per_g=200.0)
    from_electrode = CellFactory(electrode=electrode)
    overridden = CellFactory(electrode=electrode, one_c_ma_per_g=280.0)
    assert from_electrode.one_c_ma_per_g == 200.0
    assert from_electrode.c_rate_currents_ma()["1"] == pytest.approx(1.280)  # 200 × 0.0064
    assert overridden.c_rate_currents_ma()["1"] == pytest.approx(1.792)  # 280 × 0.0064


def test_a_new_electrode_of_the_same_powder_inherits_its_1c_basis():
    first = ElectrodeFactory(one_c_ma_per_g=220.0)
    second = ElectrodeFactory(active_material=first.active_material)
    assert second.one_c_ma_per_g == 220.0


def test_a_disc_lighter_than_its_foil_refuses_the_whole_batch_naming_its_row():
    electrode = ElectrodeFactory()
    samples_before = Sample.objects.count()
    with pytest.raises(ValidationError) as caught:
        services.cell_build_batch(
            electrode=electrode,
            discs=[DiscRow(12.0), DiscRow(3.9), DiscRow(12.1)],
            built_by=None,
        )
    message = caught.value.message_dict["discs[1].disc_mass_mg"][0]
    assert "disc mass (3.9 mg) must be greater than the bare foil disc mass (4 mg)" in message
    assert not CoinCell.objects.exists()
    assert Sample.objects.count() == samples_before


def test_a_disc_as_heavy_as_its_foil_is_refused():
    with pytest.raises(ValidationError) as caught:
        CellFactory(disc_mass_mg=4.0)
    assert "discs[0].disc_mass_mg" in caught.value.message_dict


def test_the_database_refuses_a_cell_whose_disc_is_not_heavier_than_its_foil():
    cell = CellFactory()
    with pytest.raises(IntegrityError), transaction.atomic():
        CoinCell.objects.filter(pk=cell.pk).update(disc_mass_mg=3.0)


def test_a_batch_without_any_foil_mass_asks_for_it_on_each_row():
    electrode = ElectrodeFactory(foil_disc_mass_mg=None)
    with pytest.raises(ValidationError) as caught:
        services.cell_build_batch(electrode=electrode, discs=[DiscRow(12.0)], built_by=None)
    assert "bare foil disc mass" in caught.value.message_dict["discs[0].foil_disc_mass_mg"][0]


def test_a_row_may_give_its_own_foil_mass():
    cells = services.cell_build_batch(
        electrode=ElectrodeFactory(),
        discs=[DiscRow(12.0), DiscRow(12.0, foil_disc_mass_mg=3.5)],
        built_by=None,
    )
    assert [c.active_mass_mg for c in cells] == pytest.approx([6.4, 6.8])


def test_negative_glove_box_readings_are_refused():
    with pytest.raises(ValidationError) as caught:
        CellFactory(glovebox_o2_ppm=-0.1, glovebox_h2o_ppm=0.2)
    assert set(caught.value.message_dict) == {"glovebox_o2_ppm"}


# --- the make-cells form ----------------------------------------------------------------------


def _batch_post(disc_masses, **overrides):
    data = {
        "cell_format": "2025",
        "foil_disc_mass_mg": "4.00",
        "counter_electrode": "Li metal",
        "separator": "Celgard 2400",
        "electrolyte_name": "1 M LiPF6 in EC:DMC (1:1 v/v)",
        "electrolyte_volume_ul": "60",
        "glovebox_o2_ppm": "0.3",
        "glovebox_h2o_ppm": "0.1",
        "one_c_ma_per_g": "250",
        "built_on": "2026-03-04",
        "notes": "",
        "discs-TOTAL_FORMS": str(len(disc_masses)),
        "discs-INITIAL_FORMS": "0",
        "discs-MIN_NUM_FORMS": "0",
        "discs-MAX_NUM_FORMS": "48",
    }
    for index, mass in enumerate(disc_masses):
        data[f"discs-{index}-disc_mass_mg"] = mass
        data[f"discs-{index}-foil_disc_mass_mg"] = ""
    return {**data, **overrides}


def test_the_make_cells_form_builds_four_cells_with_lineage_back_to_the_powder(client, chemist):
    electrode = ElectrodeFactory()
    powder = electrode.active_material
    client.force_login(chemist)
    url = reverse("cells:electrode-cells", args=[electrode.sample.code])
    response = client.post(url, _batch_post(["12.00", "11.80", "12.20", "12.10", ""]))
    assert response.status_code == 302
    cells = list(CoinCell.objects.order_by("id"))
    assert len(cells) == 4
    assert [c.disc_mass_mg for c in cells] == [12.0, 11.8, 12.2, 12.1]
    assert cells[0].active_mass_mg == pytest.approx(ACTIVE_MG)
    assert {c.built_by for c in cells} == {chemist}
    assert {c.built_on for c in cells} == {datetime.date(2026, 3, 4)}
    assert {c.glovebox_o2_ppm for c in cells} == {0.3}
    assert [c.sample.name for c in cells] == [
        f"{electrode.sample.name} – cell {n}" for n in (1, 2, 3, 4)
    ]
    for cell in cells:
        assert SampleEdge.objects.filter(
            parent=electrode.sample, child=cell.sample, role=EdgeRole.COMPONENT
        ).exists()
        assert ancestor_depths(cell.sample.pk) == {electrode.sample.pk: 1, powder.pk: 2}
    assert SampleEdge.objects.filter(
        parent=powder, child=electrode.sample, role=EdgeRole.ACTIVE_MATERIAL
    ).exists()
    page = client.get(response.url).content.decode()
    assert "4 cells built: " + ", ".join(c.sample.code for c in cells) in page


def test_the_make_cells_form_shows_a_light_disc_on_its_row_and_saves_nothing(client, chemist):
    electrode = ElectrodeFactory()
    client.force_login(chemist)
    url = reverse("cells:electrode-cells", args=[electrode.sample.code])
    response = client.post(url, _batch_post(["12.00", "3.95", "12.20", "12.10"]))
    assert response.status_code == 200
    page = response.content.decode()
    assert "disc mass (3.95 mg) must be greater than the bare foil disc mass (4 mg)" in page
    assert page.count('class="kiln-row-error"') == 1
    assert not CoinCell.objects.exists()


def test_the_make_cells_form_over_htmx_returns_the_form_partial_or_a_client_redirect(
    client, chemist
):
    electrode = ElectrodeFactory()
    client.force_login(chemist)
    url = reverse("cells:electrode-cells", args=[electrode.sample.code])
    bad = client.post(url, _batch_post(["abc"]), HTTP_HX_REQUEST="true")
    assert bad.status_code == 200
    assert bad.content.decode().lstrip().startswith('<article id="make-cells">')
    good = client.post(url, _batch_post(["12.0"]), HTTP_HX_REQUEST="true")
    assert good.headers["HX-Redirect"] == reverse("cells:electrode", args=[electrode.sample.code])
    assert CoinCell.objects.count() == 1


def test_the_make_cells_form_needs_at_least_one_disc(client, chemist):
    electrode = ElectrodeFactory()
    client.force_login(chemist)
    url = reverse("cells:electrode-cells", args=[electrode.sample.code])
    response = client.post(url, _batch_post(["", ""]))
    assert "enter the mass of at least one disc" in response.content.decode()
    assert not CoinCell.objects.exists()


def test_the_electrode_page_offers_as_many_disc_rows_as_asked(client, chemist):
    electrode = ElectrodeFactory()
    client.force_login(chemist)
    url = reverse("cells:electrode", args=[electrode.sample.code])
    assert client.get(url).content.decode().count('name="discs-') == 2 * 4 + 4
    assert client.get(url, {"rows": "8"}).content.decode().count("Disc mass (mg), cell ") == 8


def test_the_cells_index_lists_electrodes_and_cells_and_filters_them(client, chemist):
    electrode = ElectrodeFactory()
    mine = CellFactory(electrode=electrode, built_by=chemist, cell_format="2032")
    other = CellFactory(electrode=electrode)
    client.force_login(chemist)
    url = reverse("cells:index")
    page = client.get(url).content.decode()
    assert electrode.sample.code in page and mine.sample.code in page
    assert other.sample.code in page
    page = client.get(url, {"cell_format": "2032"}).content.decode()
    assert mine.sample.code in page and other.sample.code not in page
    page = client.get(url, {"builder": chemist.pk}, HTTP_HX_REQUEST="true").content.decode()
    assert mine.sample.code in page and other.sample.code not in page
    assert "<html" not in page  # the tables only


def test_unknown_codes_are_not_found_rather_than_errors(client, chemist):
    client.force_login(chemist)
    assert client.get(reverse("cells:cell", args=["CELL-1999-9999"])).status_code == 404
    assert client.get(reverse("cells:electrode", args=["ELE-1999-9999"])).status_code == 404
    powder = PowderFactory()
    assert client.get(reverse("cells:cell", args=[powder.code])).status_code == 404
