"""The admin lists electrodes, cells, measurements and raw files with search and filters."""

from __future__ import annotations

import io

import pytest
from django.urls import reverse

from characterization import demo
from characterization.models import CoinCell, Electrode, Measurement, RawFile, RefinementResult
from lims.models import Sample
from tests.characterization.factories import CellFactory, MeasurementFactory, upload

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def media_root(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def records(chemist):
    cell = CellFactory(built_by=chemist, cell_format="2032")
    MeasurementFactory(subject=cell.sample, operator=chemist, uploads=[upload("a.csv")])
    return cell


@pytest.mark.parametrize(
    ("model", "query"),
    [
        ("electrode", {"made_on__gte": "2000-01-01", "casting_method": "blade_gap", "q": "ELE"}),
        ("coincell", {"cell_format": "2032", "built_by__id__exact": "{chemist}", "q": "CELL"}),
        ("measurement", {"measurement_type": "cycling", "operator__id__exact": "{chemist}"}),
        ("rawfile", {"detected_format": "", "uploaded_by__id__exact": "{chemist}", "q": "a.csv"}),
        ("refinementresult", {"origin": "lithium"}),
    ],
)
def test_admin_changelists_load_with_their_filters(admin_client, records, chemist, model, query):
    url = reverse(f"admin:characterization_{model}_changelist")
    assert admin_client.get(url).status_code == 200
    params = {key: value.format(chemist=chemist.pk) for key, value in query.items()}
    response = admin_client.get(url, params)
    assert response.status_code == 200  # an unknown filter would redirect to ?e=1
    assert 'id="changelist-filter"' in response.content.decode()


def test_admin_filters_narrow_the_lists(admin_client, records):
    other = CellFactory(cell_format="2016")
    url = reverse("admin:characterization_coincell_changelist")
    page = admin_client.get(url, {"cell_format": "2032"}).content.decode()
    assert records.sample.code in page and other.sample.code not in page
    page = admin_client.get(url, {"q": other.sample.code}).content.decode()
    assert other.sample.code in page and records.sample.code not in page
    raw_url = reverse("admin:characterization_rawfile_changelist")
    assert (
        "a.csv" in admin_client.get(raw_url, {"q": RawFile.objects.get().sha256}).content.decode()
    )


def test_admin_change_pages_open(admin_client, records):
    measurement = Measurement.objects.get()
    for model, pk in (
        ("electrode", records.electrode.pk),
        ("coincell", records.pk),
        ("measurement", measurement.pk),
        ("rawfile", RawFile.objects.get().pk),
    ):
        url = reverse(f"admin:characterization_{model}_change", args=[pk])
        assert admin_client.get(url).status_code == 200, model


def test_the_demo_builds_an_electrode_four_cells_and_a_refinement_once():
    demo.load(stdout=io.StringIO())
    counts = (
        Sample.objects.count(),
        Electrode.objects.count(),
        CoinCell.objects.count(),
        Measurement.objects.count(),
        RefinementResult.objects.count(),
    )
    assert counts[1:] == (1, 4, 2, 1)
    out = io.StringIO()
    demo.load(stdout=out)
    assert "exist" in out.getvalue()
    assert (
        Sample.objects.count(),
        Electrode.objects.count(),
        CoinCell.objects.count(),
        Measurement.objects.count(),
        RefinementResult.objects.count(),
    ) == counts
