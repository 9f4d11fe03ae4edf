"""Electrodes and coin cells through the REST API (issue 11 §1): the electrode page's rules and
defaults, ONE call that builds N cells from a sheet (all or nothing), the disc correction, the
filtered cursor-paginated lists, and the same refusals as the pages."""

from __future__ import annotations

import datetime
import math

import pytest
from django.test import Client

from characterization.models import CoinCell, Electrode
from lims.api_permissions import READ_ONLY
from lims.corrections import sample_void
from lims.models import Sample, SampleEdge, SampleKind
from lims.token_models import TokenScope
from lims.token_services import api_token_create
from tests.characterization.factories import CellFactory, ElectrodeFactory, PowderFactory
from tests.lims.factories import UserFactory

pytestmark = pytest.mark.django_db

ELECTRODES, CELLS = "/api/v1/electrodes/", "/api/v1/cells/"
AREA_12MM_CM2 = math.pi * 0.6**2  # 1.130973 cm²


def signed_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def post(client: Client, url: str, data: dict):
    return client.post(url, data, content_type="application/json")


@pytest.fixture
def other(db):
    return UserFactory(username="otto", groups=["chemist"])


@pytest.fixture
def sheet(chemist) -> Electrode:
    """80:10:10, 12 mm discs, bare foil disc 4.00 mg, 1C 250 mA/g; chen's."""
    return ElectrodeFactory(active_material=PowderFactory(owner=chemist), made_by=chemist)


# --- electrodes -------------------------------------------------------------------------------


def test_an_electrode_is_registered_with_the_pages_defaults_and_its_slurry_computed(chemist):
    powder = PowderFactory(owner=chemist, initial_mass_g=2.0)

    response = post(
        signed_in(chemist), ELECTRODES, {"active_material": powder.code, "active_mass_g": 0.4}
    )

    assert response.status_code == 201, response.json()
    body = response.json()
    electrode = Electrode.objects.get(sample__code=body["code"])
    # 80:10:10 at 40 % solids: solids 0.4 / 0.8 = 0.5 g, carbon = binder = 0.05 g,
    # solvent 0.5 / 0.4 - 0.5 = 0.75 g
    assert (body["carbon_mass_g"], body["binder_mass_g"]) == pytest.approx((0.05, 0.05))
    assert body["solvent_mass_g"] == pytest.approx(0.75)
    assert (electrode.ratio_active_percent, electrode.solid_content_percent) == (80.0, 40.0)
    assert (electrode.carbon_name, electrode.binder_name, electrode.solvent) == (
        "carbon black", "PVDF", "NMP"
    )  # fmt: skip
    assert electrode.collector_thickness_um == 16.0  # the page's pre-filled value
    assert electrode.drying_steps == [
        {"temperature_c": 80.0, "duration_h": None, "vacuum": False},
        {"temperature_c": 120.0, "duration_h": 12.0, "vacuum": True},
    ]
    assert electrode.made_by == chemist and electrode.sample.owner == chemist
    assert body["made_on"] == datetime.date.today().isoformat()
    edge = SampleEdge.objects.get(child=electrode.sample)
    assert (edge.parent, edge.role, edge.amount, edge.amount_unit) == (
        powder, "active_material", 0.4, "g"
    )  # fmt: skip


def test_an_electrode_drawing_more_powder_than_is_left_is_refused_and_nothing_saved(chemist):
    powder = PowderFactory(owner=chemist, initial_mass_g=0.3)

    response = post(
        signed_in(chemist), ELECTRODES, {"active_material": powder.code, "active_mass_g": 0.4}
    )

    assert response.status_code == 400
    assert list(response.json()["errors"]) == ["active_mass_g"]
    assert "0.3" in response.json()["errors"]["active_mass_g"][0]
    assert not Electrode.objects.exists()
    assert not Sample.objects.filter(kind=SampleKind.ELECTRODE).exists()


@pytest.mark.parametrize(
    ("data", "field", "words"),
    [
        ({"active_material": "CAT-1999-0001"}, "active_material", "no cathode powder"),
        ({"ratio_active_percent": 70.0}, "ratio_active_percent", "100"),
        ({"solid_content_percent": 140}, "solid_content_percent", ""),
        ({"casting_method": "spray"}, "casting_method", ""),
        ({"drying_steps": [{"temperature_c": 2000}]}, "drying_steps[0]", "temperature"),
        ({"carbon_lot": "RGT-1999-0001"}, "carbon_lot", "no lot"),
    ],
)
def test_a_bad_electrode_field_is_named_and_nothing_is_saved(chemist, data, field, words):
    powder = PowderFactory(owner=chemist)
    body = {"active_material": powder.code, "active_mass_g": 0.4, **data}

    response = post(signed_in(chemist), ELECTRODES, body)

    assert response.status_code == 400
    errors = response.json()["errors"]
    assert field in errors, errors
    assert words in " ".join(errors[field])
    assert not Electrode.objects.exists()


def test_the_electrode_list_filters_by_powder_owner_and_date(chemist, other):
    mine = ElectrodeFactory(active_material=PowderFactory(owner=chemist), made_by=chemist)
    theirs = ElectrodeFactory(
        active_material=PowderFactory(owner=other),
        made_by=other,
        made_on=datetime.date(2025, 1, 10),
    )
    client = signed_in(chemist)

    def codes(query: str) -> list[str]:
        response = client.get(ELECTRODES + query)
        assert response.status_code == 200, response.json()
        return [row["code"] for row in response.json()["results"]]

    assert codes("") == [theirs.sample.code, mine.sample.code]  # newest first
    assert codes(f"?active_material={mine.active_material.code}") == [mine.sample.code]
    assert codes("?owner=otto") == [theirs.sample.code]
    assert codes("?made_to=2025-12-31") == [theirs.sample.code]
    assert codes("?made_from=2026-01-01&owner=chen") == [mine.sample.code]
    assert client.get(ELECTRODES + "?made_from=soon").json()["errors"]["made_from"]


def test_an_electrode_reads_with_its_cells(sheet):
    cell = CellFactory(electrode=sheet)

    body = signed_in(sheet.made_by).get(f"{ELECTRODES}{sheet.sample.code}").json()

    assert body["cells"] == [cell.sample.code]
    assert body["active_fraction"] == 0.8
    assert signed_in(sheet.made_by).get(f"{ELECTRODES}ELE-1999-0001").status_code == 404


# --- building N cells in one call -------------------------------------------------------------


def test_one_call_builds_three_cells_each_with_its_active_mass_from_its_disc(sheet):
    data = {
        "electrode": sheet.sample.code,
        "discs": [{"disc_mass_mg": 12.00}, {"disc_mass_mg": 14.50}, {"disc_mass_mg": 10.25}],
        "electrolyte_volume_ul": 50,
    }

    response = post(signed_in(sheet.made_by), CELLS, data)

    assert response.status_code == 201, response.json()
    cells = response.json()["cells"]
    # active = (disc - foil 4.00 mg) x 0.80; loading = active / (pi x 0.6² cm²)
    expected = [6.40, 8.40, 5.00]
    assert [c["active_mass_mg"] for c in cells] == pytest.approx(expected)
    assert [c["areal_loading_mg_per_cm2"] for c in cells] == pytest.approx(
        [5.65884, 7.42723, 4.42097], rel=1e-5
    )
    assert [c["disc_area_cm2"] for c in cells] == pytest.approx([AREA_12MM_CM2] * 3)
    saved = CoinCell.objects.filter(electrode=sheet).order_by("id")
    assert [c.active_mass_mg for c in saved] == pytest.approx(expected)
    assert [c.sample.code for c in saved] == [c["code"] for c in cells]
    assert {(c.foil_disc_mass_mg, c.electrolyte_volume_ul, c.cell_format) for c in saved} == {
        (4.0, 50.0, "2025")
    }
    assert {c.built_by for c in saved} == {sheet.made_by}
    edges = SampleEdge.objects.filter(parent=sheet.sample).order_by("child_id")
    assert [e.amount for e in edges] == [12.00, 14.50, 10.25]


def test_a_disc_with_its_own_foil_uses_it(sheet):
    data = {"electrode": sheet.sample.code, "discs": [{"disc_mass_mg": 12.0,
                                                       "foil_disc_mass_mg": 3.5}]}  # fmt: skip

    response = post(signed_in(sheet.made_by), CELLS, data)

    assert response.status_code == 201
    assert response.json()["cells"][0]["active_mass_mg"] == pytest.approx((12.0 - 3.5) * 0.8)


def test_one_bad_disc_refuses_the_whole_batch_naming_it_and_saves_no_cell(sheet):
    data = {
        "electrode": sheet.sample.code,
        "discs": [{"disc_mass_mg": 12.0}, {"disc_mass_mg": 3.9}, {"disc_mass_mg": 11.0}],
    }
    samples_before = Sample.objects.count()

    response = post(signed_in(sheet.made_by), CELLS, data)

    assert response.status_code == 400
    errors = response.json()["errors"]
    assert list(errors) == ["discs[1].disc_mass_mg"]
    assert "foil" in errors["discs[1].disc_mass_mg"][0]
    assert not CoinCell.objects.exists()
    assert Sample.objects.count() == samples_before


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"discs": []}, "discs"),
        ({"discs": [{"disc_mass_mg": "heavy"}]}, "discs[0].disc_mass_mg"),
        ({"electrode": "ELE-1999-0001"}, "electrode"),
        ({"cell_format": "18650"}, "cell_format"),
        ({"electrolyte_volume_ul": -5}, "electrolyte_volume_ul"),
    ],
)
def test_a_bad_batch_field_is_named(sheet, data, field):
    body = {"electrode": sheet.sample.code, "discs": [{"disc_mass_mg": 12.0}], **data}

    response = post(signed_in(sheet.made_by), CELLS, body)

    assert response.status_code == 400
    assert field in response.json()["errors"], response.json()
    assert not CoinCell.objects.exists()


def test_a_read_token_cannot_build_cells(sheet):
    _, key = api_token_create(
        user=sheet.made_by, name="laptop", scope=TokenScope.READ, expires_at=None
    )
    client = Client(HTTP_AUTHORIZATION=f"Token {key}")
    data = {"electrode": sheet.sample.code, "discs": [{"disc_mass_mg": 12.0}]}

    response = post(client, CELLS, data)

    assert response.status_code == 403
    assert response.json()["errors"]["non_field_errors"] == [READ_ONLY]
    assert not CoinCell.objects.exists()
    assert client.get(CELLS).status_code == 200  # it still reads


def test_a_viewer_cannot_build_cells(sheet):
    viewer = UserFactory(username="vera", groups=["viewer"])
    data = {"electrode": sheet.sample.code, "discs": [{"disc_mass_mg": 12.0}]}

    response = post(signed_in(viewer), CELLS, data)

    assert response.status_code == 403
    assert "viewer" in response.json()["errors"]["non_field_errors"][0]
    assert not CoinCell.objects.exists()


# --- correcting a cell ------------------------------------------------------------------------


def test_a_corrected_disc_mass_recomputes_the_active_mass_with_an_audit_reason(sheet):
    cell = CellFactory(electrode=sheet, built_by=sheet.made_by)  # 12.00 mg: 6.40 mg active
    url = f"{CELLS}{cell.sample.code}/correct"

    response = post(signed_in(sheet.made_by), url, {"disc_mass_mg": 13.0, "reason": "misread"})

    assert response.status_code == 200, response.json()
    body = response.json()
    assert body["cell"]["active_mass_mg"] == pytest.approx((13.0 - 4.0) * 0.8)  # 7.20 mg
    assert {c["field"] for c in body["changes"]} >= {"disc_mass_mg", "active_mass_mg"}
    cell.refresh_from_db()
    assert cell.active_mass_mg == pytest.approx(7.2) and cell.foil_disc_mass_mg == 4.0
    assert cell.history.latest().history_change_reason == "misread"
    assert SampleEdge.objects.get(child=cell.sample).amount == 13.0


def test_another_chemist_may_not_correct_a_cell_as_on_the_page(sheet, other):
    cell = CellFactory(electrode=sheet, built_by=sheet.made_by)

    response = post(
        signed_in(other), f"{CELLS}{cell.sample.code}/correct",
        {"disc_mass_mg": 13.0, "reason": "mine now"},
    )  # fmt: skip

    assert response.status_code == 403
    assert "belongs to chen" in response.json()["errors"]["non_field_errors"][0]
    cell.refresh_from_db()
    assert cell.disc_mass_mg == 12.0


def test_a_correction_needs_a_reason_and_a_sane_mass(sheet):
    cell = CellFactory(electrode=sheet, built_by=sheet.made_by)
    url = f"{CELLS}{cell.sample.code}/correct"
    client = signed_in(sheet.made_by)

    no_reason = post(client, url, {"disc_mass_mg": 13.0})
    too_light = post(client, url, {"disc_mass_mg": 3.0, "reason": "reweighed"})

    assert list(no_reason.json()["errors"]) == ["reason"]
    assert too_light.status_code == 400 and "disc_mass_mg" in too_light.json()["errors"]
    assert post(client, f"{CELLS}CELL-1999-0001/correct", {"reason": "x"}).status_code == 404
    cell.refresh_from_db()
    assert cell.disc_mass_mg == 12.0


# --- the list ---------------------------------------------------------------------------------


def test_the_cell_list_filters_by_electrode_powder_electrolyte_and_date(sheet, other):
    first = CellFactory(electrode=sheet, built_on=datetime.date(2026, 2, 1))
    second = CellFactory(electrolyte_name="1 M LiTFSI in DME", built_by=other)
    client = signed_in(other)

    def codes(query: str) -> list[str]:
        response = client.get(CELLS + query)
        assert response.status_code == 200, response.json()
        return [row["code"] for row in response.json()["results"]]

    assert codes("") == [second.sample.code, first.sample.code]
    assert codes(f"?electrode={sheet.sample.code}") == [first.sample.code]
    assert codes(f"?powder={sheet.active_material.code}") == [first.sample.code]
    assert codes("?electrolyte=litfsi") == [second.sample.code]
    assert codes("?built_to=2026-02-01") == [first.sample.code]
    assert codes("?limit=1") == [second.sample.code]
    following = client.get(CELLS + "?limit=1").json()["next"]
    assert [row["code"] for row in client.get(following).json()["results"]] == [first.sample.code]
    unknown = client.get(CELLS + "?powder=CAT-1999-0001")
    assert unknown.status_code == 400 and "powder" in unknown.json()["errors"]
    assert "cursor" in client.get(CELLS + "?cursor=nonsense").json()["errors"]
    sample_void(sample=second.sample, user=other, reason="leaked")
    assert codes("") == [first.sample.code]  # a void cell is kept, not listed
    assert codes("?void=true") == [second.sample.code, first.sample.code]


def test_a_cell_reads_with_its_currents(sheet):
    cell = CellFactory(electrode=sheet)

    body = signed_in(sheet.made_by).get(f"{CELLS}{cell.sample.code}").json()

    assert body["powder"] == sheet.active_material.code
    one_c = next(row for row in body["currents"] if row["rate"] == 1)
    assert one_c["current_ma"] == pytest.approx(6.40 * 250 / 1000)  # 6.40 mg x 250 mA/g


def test_the_schema_has_the_operations_and_their_filters(chemist):
    schema = signed_in(chemist).get("/api/schema/?format=json").json()

    paths = schema["paths"]
    assert {"get", "post"} <= set(paths["/api/v1/cells/"])
    assert {"get", "post"} <= set(paths["/api/v1/electrodes/"])
    assert "post" in paths["/api/v1/cells/{code}/correct"]
    names = {p["name"] for p in paths["/api/v1/cells/"]["get"]["parameters"]}
    assert {"electrode", "powder", "electrolyte", "built_from", "built_to", "cursor"} <= names
    names = {p["name"] for p in paths["/api/v1/electrodes/"]["get"]["parameters"]}
    assert {"active_material", "owner", "made_from", "made_to"} <= names
