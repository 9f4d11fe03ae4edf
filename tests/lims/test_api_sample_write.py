"""Sample writes through the REST API (issue 11 §1): register as a row of the import page does,
correct and void with a reason, correct a powder's stock; the pages' rules and refusals."""

from __future__ import annotations

import pytest
from django.test import Client

from lims.api_permissions import READ_ONLY
from lims.models import Project, Sample, SampleEdge
from lims.services import sample_register
from lims.stock_models import StockCorrection
from lims.stock_queries import stock_of
from lims.token_models import TokenScope
from lims.token_services import api_token_create
from tests.characterization.factories import MeasurementFactory
from tests.lims.factories import UserFactory

pytestmark = pytest.mark.django_db

REGISTER = "/api/v1/samples/register/"


def signed_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def post(client: Client, url: str, data: dict):
    return client.post(url, data, content_type="application/json")


def refusal(response) -> str:
    assert response.status_code == 403, response.content
    return response.json()["errors"]["non_field_errors"][0]


@pytest.fixture
def other(db):
    return UserFactory(username="otto", groups=["chemist"])


@pytest.fixture
def powder(chemist) -> Sample:
    """chen's cathode powder with 5.00 g entered as its stock."""
    return sample_register(kind="cathode", name="LMNO", owner=chemist, initial_mass_g=5.0)


# --- register ---------------------------------------------------------------------------------


def test_a_chemist_registers_a_powder_with_its_parent_project_and_stock(chemist):
    precursor = sample_register(kind="precursor", name="MnNi carbonate", owner=chemist)
    Project.objects.create(code="lmr", name="Li-rich")
    data = {
        "kind": "cathode", "name": " LMNO 900 °C ", "formula": "Li1.2Mn0.6Ni0.2O2",
        "project": "lmr", "initial_mass_g": 4.25, "location": "glovebox B",
        "parents": [{"code": precursor.code.lower(), "role": "substrate"}],
    }  # fmt: skip

    response = post(signed_in(chemist), REGISTER, data)

    assert response.status_code == 201, response.json()
    sample = Sample.objects.get(code=response.json()["code"])
    assert sample.code.startswith("CAT-")
    assert (sample.name, sample.owner, sample.project.code) == ("LMNO 900 °C", chemist, "lmr")
    assert (sample.initial_mass_g, sample.location, sample.status) == (4.25, "glovebox B", "active")
    assert stock_of(sample.pk).left_g == 4.25
    edge = SampleEdge.objects.get(child=sample)
    assert (edge.parent, edge.role) == (precursor, "substrate")
    assert response.json()["owner"] == "chen"


def test_only_a_lab_manager_registers_a_sample_for_someone_else(chemist, manager, other):
    refused = post(signed_in(chemist), REGISTER, {"kind": "other", "name": "x", "owner": "otto"})
    mine = post(signed_in(chemist), REGISTER, {"kind": "other", "name": "y", "owner": "chen"})
    given = post(signed_in(manager), REGISTER, {"kind": "other", "name": "z", "owner": "otto"})

    assert refused.status_code == 400
    assert "only a lab manager sets owners" in refused.json()["errors"]["owner"][0]
    assert mine.status_code == given.status_code == 201
    assert Sample.objects.get(name="z").owner == other
    assert not Sample.objects.filter(name="x").exists()


@pytest.mark.parametrize(
    ("data", "field", "words"),
    [
        ({"kind": "cell"}, "kind", "POST /api/v1/cells/"),
        ({"kind": "plasma"}, "kind", "not a valid choice"),
        ({"name": ""}, "name", ""),
        ({"kind": "other", "initial_mass_g": 2.0}, "initial_mass_g", "only a powder"),
        ({"initial_mass_g": -1}, "initial_mass_g", ""),
        ({"parents": [{"code": "CAT-1999-0001"}]}, "parents[0].code", "unknown sample code"),
        ({"parents": [{"code": "x", "role": "cousin"}]}, "parents[0].role", ""),
        ({"project": "nope"}, "project", "no project"),
        ({"name": "x" * 201}, "name", "200"),
    ],
)
def test_a_bad_registration_is_named_and_saves_nothing(chemist, data, field, words):
    before = Sample.objects.count()

    response = post(signed_in(chemist), REGISTER, {"kind": "cathode", "name": "LMNO", **data})

    assert response.status_code == 400
    errors = response.json()["errors"]
    assert field in errors, errors
    assert words in " ".join(errors[field])
    assert Sample.objects.count() == before


def test_a_read_token_and_a_viewer_register_nothing(chemist):
    _, key = api_token_create(user=chemist, name="laptop", scope=TokenScope.READ, expires_at=None)
    viewer = UserFactory(username="vera", groups=["viewer"])
    data = {"kind": "cathode", "name": "LMNO"}

    by_token = post(Client(HTTP_AUTHORIZATION=f"Token {key}"), REGISTER, data)

    assert refusal(by_token) == READ_ONLY
    assert "viewer" in refusal(post(signed_in(viewer), REGISTER, data))
    assert not Sample.objects.exists()


# --- correct and void -------------------------------------------------------------------------


def test_a_sample_is_corrected_with_a_reason_in_its_audit_row(powder, chemist):
    url = f"/api/v1/samples/{powder.code}/correct"

    response = post(signed_in(chemist), url, {"location": " fridge 2 ", "reason": "moved"})

    assert response.status_code == 200, response.json()
    assert response.json()["changes"] == [
        {"field": "location", "label": "location", "old": "", "new": "fridge 2"}
    ]
    powder.refresh_from_db()
    assert (powder.location, powder.name) == ("fridge 2", "LMNO")
    assert powder.history.latest().history_change_reason == "moved"


def test_a_bad_correction_is_named_and_changes_nothing(powder, chemist):
    url = f"/api/v1/samples/{powder.code}/correct"
    client = signed_in(chemist)

    assert list(post(client, url, {"name": "NSO"}).json()["errors"]) == ["reason"]
    assert "name" in post(client, url, {"name": "", "reason": "x"}).json()["errors"]
    same = post(client, url, {"name": "LMNO", "reason": "x"})
    assert "Nothing to correct" in same.json()["errors"]["non_field_errors"][0]
    assert post(client, "/api/v1/samples/CAT-1999-0001/correct", {"reason": "x"}).status_code == 404
    powder.refresh_from_db()
    assert powder.name == "LMNO" and powder.history.count() == 1


def test_another_chemist_may_not_correct_or_void_a_sample_as_on_the_page(powder, other):
    client = signed_in(other)

    corrected = post(
        client, f"/api/v1/samples/{powder.code}/correct", {"name": "mine", "reason": "x"}
    )
    voided = post(client, f"/api/v1/samples/{powder.code}/void", {"reason": "x"})

    assert "belongs to chen" in refusal(corrected)
    assert "belongs to chen" in refusal(voided)
    powder.refresh_from_db()
    assert (powder.name, powder.voided_at) == ("LMNO", None)


def test_a_void_sample_is_kept_marked_and_voided_once(powder, chemist):
    url = f"/api/v1/samples/{powder.code}/void"
    client = signed_in(chemist)

    response = post(client, url, {"reason": "contaminated"})
    again = post(client, url, {"reason": "twice"})

    assert response.status_code == 200, response.json()
    assert response.json()["void_reason"] == "contaminated"
    powder.refresh_from_db()
    assert (powder.voided_by, powder.void_reason) == (chemist, "contaminated")
    assert "already voided by chen" in again.json()["errors"]["reason"][0]
    assert (
        post(client, url.replace("void", "correct"), {"name": "x", "reason": "y"}).status_code
        == 400
    )


def test_voiding_a_measurements_sample_voids_the_measurement_too(chemist):
    measurement = MeasurementFactory(operator=chemist)

    response = post(
        signed_in(chemist), f"/api/v1/samples/{measurement.sample.code}/void", {"reason": "bad"}
    )

    assert response.status_code == 200
    measurement.refresh_from_db()
    assert measurement.void_reason == "bad" and measurement.voided_by == chemist


# --- stock ------------------------------------------------------------------------------------


def test_the_owner_and_a_lab_manager_correct_a_powders_stock(powder, chemist, manager, other):
    url = f"/api/v1/samples/{powder.code}/stock"

    lost = post(signed_in(chemist), url, {"delta_g": -1.5, "reason": "spilled"})
    found = post(signed_in(manager), url, {"delta_g": 0.25, "reason": "found a vial"})
    refused = post(signed_in(other), url, {"delta_g": -1, "reason": "took some"})

    assert lost.status_code == found.status_code == 201, lost.json()
    assert lost.json()["left_g"] == pytest.approx(3.5)  # 5.00 - 1.50
    assert found.json()["left_g"] == pytest.approx(3.75)  # + 0.25
    assert "belongs to chen" in refusal(refused)
    assert stock_of(powder.pk).left_g == pytest.approx(3.75)
    assert list(StockCorrection.objects.order_by("id").values_list("delta_g", "reason")) == [
        (-1.5, "spilled"), (0.25, "found a vial")
    ]  # fmt: skip


def test_a_stock_correction_below_zero_or_of_nothing_is_refused(powder, chemist):
    untracked = sample_register(kind="cathode", name="NSO", owner=chemist)
    client = signed_in(chemist)
    url = f"/api/v1/samples/{powder.code}/stock"

    overdrawn = post(client, url, {"delta_g": -6, "reason": "x"})
    zero = post(client, url, {"delta_g": 0, "reason": "x"})
    no_stock = post(
        client, f"/api/v1/samples/{untracked.code}/stock", {"delta_g": 1, "reason": "x"}
    )
    no_reason = post(client, url, {"delta_g": 1})

    assert "would leave" in overdrawn.json()["errors"]["delta_g"][0]
    assert "changes nothing" in zero.json()["errors"]["delta_g"][0]
    assert "no recorded amount" in no_stock.json()["errors"]["delta_g"][0]
    assert list(no_reason.json()["errors"]) == ["reason"]
    assert not StockCorrection.objects.exists()


def test_the_schema_has_the_sample_write_operations(chemist):
    paths = signed_in(chemist).get("/api/schema/?format=json").json()["paths"]

    assert "post" in paths["/api/v1/samples/register/"]
    for action in ("correct", "void", "stock"):
        assert "post" in paths[f"/api/v1/samples/{{code}}/{action}"]
    body = paths["/api/v1/samples/register/"]["post"]["requestBody"]["content"]
    assert "application/json" in body
