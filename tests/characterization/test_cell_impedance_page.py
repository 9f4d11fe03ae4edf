"""The cell's impedance page (/cells/<code>/impedance/): its EIS measurements' newest stored
eis_fit results compared before/after in one Nyquist plot and one table. Results are written
directly (no worker): R_ct 50 Ω before, 120 Ω after gives +70 Ω, +140 %."""

from __future__ import annotations

import datetime as dt
import hashlib
import itertools
import json
import math
import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from characterization import services
from characterization.analysis.kind_output import figure, scatter
from characterization.jobs.models import AnalysisDefinition, AnalysisJob, AnalysisResult, JobStatus
from characterization.models import Measurement, RawFile
from tests.characterization.factories import CellFactory
from tests.lims.factories import UserFactory

T0 = dt.datetime(2026, 3, 2, 8, 0, tzinfo=dt.UTC)
CIRCUIT = "R0-p(R1,CPE1)-W1"
_counter = itertools.count(1)


def sha(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def nyquist(r_s: float, r_ct: float, circuit: str) -> dict:
    """A semicircle of diameter R_ct from R_s, as run_eis stores it (measured + fit)."""
    angles = [math.pi * k / 12 for k in range(13)]
    x = [r_s + r_ct / 2 * (1 + math.cos(a)) for a in angles]
    y = [r_ct / 2 * math.sin(a) for a in angles]
    traces = [scatter("measured", x, y, mode="markers"), scatter(f"fit {circuit}", x, y)]
    equal = {"scaleanchor": "x", "scaleratio": 1}
    return figure("Nyquist", "Re Z (Ω)", "−Im Z (Ω)", traces, yaxis=equal)


def store_fit(
    measurement: Measurement,
    *,
    r_ct: float | None,
    r_s: float = 3.0,
    circuit: str = CIRCUIT,
    reliable: bool = True,
    hours: float = 1.0,
) -> AnalysisJob:
    """A succeeded eis_fit job with its stored result, finished `hours` after the measurement."""
    definition, _ = AnalysisDefinition.objects.get_or_create(
        name="Impedance fit", defaults={"kind": "eis_fit"}
    )
    code = measurement.sample.code
    raw, _ = RawFile.objects.get_or_create(
        sha256=sha(f"raw {measurement.pk}"),
        defaults={"size_bytes": 100, "original_name": f"{code}.mpr"},
    )
    summary = {
        "r_s_ohm": r_s,
        "circuit": circuit,
        "parameters": {},
        "r_ct_ohm": r_ct,
        "mean_relative_residual": 0.01 if reliable else 0.2,
        "reliable": reliable,
        "unreliable_reason": None if reliable else "residual 20 % above 5 %",
    }
    result = AnalysisResult.objects.create(
        cache_key=sha(f"result {next(_counter)}"),
        kind="eis_fit",
        kind_version=1,
        parser_version="1",
        summary=summary,
        figures={"nyquist": nyquist(r_s, r_ct or 10.0, circuit)},
    )
    return AnalysisJob.objects.create(
        definition=definition,
        measurement=measurement,
        raw_file=raw,
        kind="eis_fit",
        kind_version=1,
        status=JobStatus.SUCCEEDED,
        result=result,
        finished_at=measurement.measured_at + dt.timedelta(hours=hours),
    )


def measure(cell_sample, days: float, mtype: str = "eis") -> Measurement:
    return services.measurement_record(
        subject=cell_sample,
        measurement_type=mtype,
        operator=None,
        measured_at=T0 + dt.timedelta(days=days),
    ).measurement


def void(record, user) -> None:
    type(record).objects.filter(pk=record.pk).update(
        voided_at=timezone.now(), voided_by=user, void_reason="wrong cell"
    )


def url(cell_sample) -> str:
    return f"/cells/{cell_sample.code}/impedance/"


def plotted(response) -> dict:
    found = re.search(
        r'<script id="eis-nyquist-data" type="application/json">(.*?)</script>',
        response.content.decode(),
        re.S,
    )
    assert found, "no Nyquist figure on the page"
    return json.loads(found.group(1))


def cell_text(response, code: str, testid: str) -> str:
    html = response.content.decode()
    row = re.search(rf'<tr data-measurement="{code}">(.*?)</tr>', html, re.S).group(1)
    cell = re.search(rf'data-testid="{testid}">(.*?)</td>', row, re.S).group(1)
    return " ".join(re.sub(r"<[^>]+>", " ", cell).split())  # the text, tags and breaks out


@pytest.fixture
def viewer(db):
    return UserFactory(username="vera", groups=["viewer"])


@pytest.fixture
def cell(db):
    return CellFactory().sample


@pytest.fixture
def before_after(cell):
    """EIS before cycling (R_ct 50 Ω), a cycling run, EIS after (R_ct 120 Ω)."""
    before = measure(cell, 0)
    store_fit(before, r_ct=50.0)
    measure(cell, 1, "cycling")
    after = measure(cell, 10)
    store_fit(after, r_ct=120.0)
    return before, after


def test_two_fits_are_compared_against_the_earlier(client, chemist, cell, before_after):
    before, after = before_after
    client.force_login(chemist)
    response = client.get(url(cell))
    assert response.status_code == 200
    rows = response.context["page"].rows
    assert [r["spectrum"].code for r in rows] == [before.sample.code, after.sample.code]
    assert rows[1]["r_ct_change_ohm"] == pytest.approx(70.0)
    assert rows[1]["r_ct_change_pct"] == pytest.approx(140.0)
    assert cell_text(response, before.sample.code, "r-ct-change") == "–"
    assert cell_text(response, after.sample.code, "r-ct") == "120"
    assert cell_text(response, after.sample.code, "r-ct-change") == "+70 Ω (+140 %)"
    assert cell_text(response, after.sample.code, "reliable") == "yes"
    html = response.content.decode()
    assert f'href="/measurements/{after.sample.code}/"' in html
    assert f"{after.sample.code}.mpr" in html
    assert 'data-testid="impedance-warnings"' not in html and "no-impedance" not in html


def test_the_plot_overlays_every_measured_spectrum_and_its_fit(client, chemist, cell, before_after):
    before, after = before_after
    client.force_login(chemist)
    data = plotted(client.get(url(cell)))
    names = [trace["name"] for trace in data["data"]]
    assert names == [
        f"{before.sample.code} · 2026-03-02 measured",
        f"{before.sample.code} · 2026-03-02 fit",
        f"{after.sample.code} · 2026-03-12 measured",
        f"{after.sample.code} · 2026-03-12 fit",
    ]
    assert data["layout"]["yaxis"]["scaleanchor"] == "x"
    first, _, third, _ = data["data"]
    assert first["marker"]["color"] != third["marker"]["color"]
    assert max(third["x"]) == pytest.approx(123.0)  # R_s 3 + R_ct 120


def test_voided_measurements_and_results_are_left_out(client, chemist, cell, before_after):
    before, after = before_after
    dropped = measure(cell, 20)
    store_fit(dropped, r_ct=900.0)
    void(dropped, chemist)
    newer = store_fit(after, r_ct=400.0, hours=5)  # a re-run of `after`, then voided
    void(newer.result, chemist)
    client.force_login(chemist)
    response = client.get(url(cell))
    rows = response.context["page"].rows
    assert [r["spectrum"].code for r in rows] == [before.sample.code, after.sample.code]
    assert rows[1]["r_ct_ohm"] == pytest.approx(120.0)  # the voided re-run does not count
    assert dropped.sample.code not in response.content.decode()


def test_the_newest_fit_of_a_measurement_is_the_one_shown(client, chemist, cell, before_after):
    _, after = before_after
    store_fit(after, r_ct=150.0, hours=5)
    client.force_login(chemist)
    rows = client.get(url(cell)).context["page"].rows
    assert [r["r_ct_ohm"] for r in rows] == [50.0, 150.0]
    assert rows[1]["r_ct_change_pct"] == pytest.approx(200.0)


def test_another_cells_eis_is_not_shown(client, chemist, cell, before_after):
    other = CellFactory().sample
    stranger = measure(other, 5)
    store_fit(stranger, r_ct=77.0)
    client.force_login(chemist)
    response = client.get(url(cell))
    assert len(response.context["page"].rows) == 2
    assert stranger.sample.code not in response.content.decode()


def test_different_circuits_and_unreliable_fits_are_warned_visibly(client, chemist, cell):
    store_fit(measure(cell, 0), r_ct=50.0)
    poor = measure(cell, 10)
    store_fit(poor, r_ct=300.0, circuit="R0-p(R1,C1)", reliable=False)
    client.force_login(chemist)
    response = client.get(url(cell))
    html = response.content.decode()
    assert 'id="impedance-warnings"' in html
    assert 'data-code="circuits_differ"' in html and 'data-code="unreliable_fit"' in html
    assert "not reliable" in cell_text(response, poor.sample.code, "reliable")
    # the reason below the table, where it does not squeeze the columns
    assert f"{poor.sample.code} not reliable: residual 20 % above 5 %" in html


def test_without_a_fit_the_page_says_how_to_get_one(client, chemist, cell):
    pending = measure(cell, 0)  # an EIS measurement whose fit has not run
    client.force_login(chemist)
    response = client.get(url(cell))
    assert response.status_code == 200
    html = response.content.decode()
    assert 'data-testid="no-impedance"' in html and "“EIS”" in html
    assert 'data-testid="unfitted"' in html and pending.sample.code in html
    assert "eis-nyquist-data" not in html and "plotly" not in html


def test_the_cell_page_links_the_impedance_page_only_with_eis(client, chemist, cell):
    client.force_login(chemist)
    measure(cell, 0, "cycling")
    assert 'data-testid="impedance-link"' not in client.get(f"/cells/{cell.code}/").content.decode()
    measure(cell, 1)
    measure(cell, 2)
    html = client.get(f"/cells/{cell.code}/").content.decode()
    assert html.count('data-testid="impedance-link"') == 1
    assert f'href="/cells/{cell.code}/impedance/"' in html


def test_a_viewer_reads_and_a_user_without_a_role_is_refused(client, viewer, cell, before_after):
    client.force_login(viewer)
    assert client.get(url(cell)).status_code == 200
    client.force_login(UserFactory(username="nobody"))
    assert client.get(url(cell)).status_code == 403
    client.logout()
    assert client.get(url(cell)).status_code == 302  # to the login page


def test_an_unknown_cell_is_404_and_post_is_refused(client, chemist, cell):
    client.force_login(chemist)
    assert client.get("/cells/CELL-0000-9999/impedance/").status_code == 404
    assert client.post(url(cell)).status_code == 405


def test_the_number_of_queries_does_not_grow_with_the_measurements(
    client, chemist, cell, django_assert_max_num_queries
):
    client.force_login(chemist)
    for day in (0, 10):
        store_fit(measure(cell, day), r_ct=50.0 + day)
    with CaptureQueriesContext(connection) as two:
        assert len(client.get(url(cell)).context["page"].rows) == 2
    for day in (20, 30, 40, 50):  # each fitted twice: the re-run is the one shown
        measurement = measure(cell, day)
        store_fit(measurement, r_ct=1.0)
        store_fit(measurement, r_ct=50.0 + day, hours=2)
    with django_assert_max_num_queries(len(two)):
        assert len(client.get(url(cell)).context["page"].rows) == 6
