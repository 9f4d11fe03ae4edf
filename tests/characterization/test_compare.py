"""Comparing cells: single cells, and groups of replicate cells under chosen powders (mean ± sd),
with hand-worked numbers from the Neware fixture (cycle 1 discharge 0.32362 mAh)."""

from __future__ import annotations

import json
import math

import pytest

from characterization import comparison
from characterization.jobs import seed
from characterization.jobs.models import JobStatus
from lims.models import EdgeRole, SampleKind
from lims.services import ParentLink, sample_register
from tests.characterization.factories import CellFactory, ElectrodeFactory, PowderFactory
from tests.characterization.test_jobs import NW4, cycler_upload, record, run_all

Q1_DISCHARGE_MAH = 0.32362  # REFERENCE.md, cycle 1 of the nw4 file


def members(*values_by_cycle):
    return [
        comparison.Member(
            f"cell {i}",
            [
                {"cycle": c, "complete": True, "discharge_capacity_mah_g": v}
                for c, v in values.items()
            ],
        )
        for i, values in enumerate(values_by_cycle)
    ]


def test_a_group_curve_is_the_mean_and_sample_sd_of_the_cells_that_completed_each_cycle():
    group = members({1: 200.0, 2: 190.0}, {1: 210.0, 2: 180.0, 3: 170.0})
    curve = comparison.group_curve(group, "discharge_capacity_mah_g")
    assert curve["cycle"].tolist() == [1, 2, 3]
    assert curve["mean"].tolist() == [205.0, 185.0, 170.0]
    assert curve["sd"].tolist()[:2] == pytest.approx([math.sqrt(50), math.sqrt(50)])
    assert math.isnan(curve["sd"].iloc[2]) and curve["n"].tolist() == [2, 2, 1]


def test_incomplete_cycles_and_missing_numbers_are_left_out():
    cycles = [
        {"cycle": 0, "complete": False, "discharge_capacity_mah_g": 20.0},
        {"cycle": 1, "complete": True, "discharge_capacity_mah_g": None},
        {"cycle": 2, "complete": True, "discharge_capacity_mah_g": 150.0},
    ]
    curve = comparison.group_curve([comparison.Member("c", cycles)], "discharge_capacity_mah_g")
    assert curve["cycle"].tolist() == [2]


def test_the_overlay_has_a_band_for_replicates_and_a_plain_line_for_one_cell():
    figure = comparison.overlay_figure(
        {"pristine": members({1: 200.0}, {1: 210.0}), "single": members({1: 100.0})},
        "discharge_capacity_mah_g",
    )
    kinds = [(trace.get("fill"), trace.get("showlegend", True)) for trace in figure["data"]]
    assert kinds == [("toself", False), (None, True), (None, True)]
    assert figure["data"][1]["name"] == "pristine (n=2)"
    assert figure["data"][1]["y"] == [205.0]
    table = comparison.group_table(
        {"pristine": members({1: 200.0, 2: 180.0}, {1: 220.0, 2: 200.0})}
    )
    assert table[0]["first_capacity"] == {"mean": 210.0, "sd": pytest.approx(math.sqrt(200))}
    assert table[0]["retention_percent"] == pytest.approx(100 * 190.0 / 210.0)


@pytest.fixture
def study(db, monkeypatch):
    """Pristine powder P, a coated powder C made from it, two cells of P and two of C (the nw4
    file's results may carry flags: the tests of the means ask to include flagged cells)."""
    monkeypatch.setattr(
        "characterization.jobs.tasks.analysis_job_run.apply_async", lambda *a, **k: None
    )
    seed.analysis_definitions_seed()
    pristine = PowderFactory(name="LMNO pristine")
    coated = sample_register(
        kind=SampleKind.CATHODE,
        name="NSO 1 wt% Na2SiO3@LMNO",
        parents=[ParentLink(pristine, EdgeRole.SUBSTRATE)],
    )
    cells = {"P": [], "C": []}
    for group, powder in (("P", pristine), ("C", coated)):
        electrode = ElectrodeFactory(active_material=powder)
        for disc_mass_mg in (12.0, 13.0):  # active mass 6.4 and 7.2 mg
            cell = CellFactory(electrode=electrode, disc_mass_mg=disc_mass_mg)
            record(cell.sample, cycler_upload(NW4))
            cells[group].append(cell.sample)
    run_all()
    return pristine, coated, cells


def test_groups_of_replicate_cells_show_mean_and_spread_and_coated_cells_stay_in_their_group(
    client, chemist, study
):
    pristine, coated, cells = study
    client.force_login(chemist)
    page = client.get(
        f"/jobs/compare/?groups={pristine.code}&groups={coated.code}&include_flagged=1"
    )
    html = page.content.decode()
    assert page.status_code == 200
    capacities = [Q1_DISCHARGE_MAH / 6.4e-3, Q1_DISCHARGE_MAH / 7.2e-3]
    mean = sum(capacities) / 2
    sd = abs(capacities[0] - capacities[1]) / math.sqrt(2)
    rows = html.split('<table class="kiln-compact" id="comparison-table">')[1].split("</table>")[0]
    assert rows.count("<tr>") == 3  # header + two groups
    for sample in (pristine, coated):  # the coated cells are not pristine replicates
        row = rows.split(sample.code)[1].split("</tr>")[0]
        assert '<td class="num">2</td>' in row
        assert f"{mean:.1f} ± {sd:.1f}" in row
    figure = json.loads(
        html.split('id="cmp-discharge_capacity_mah_g-data" type="application/json">')[1].split(
            "</script>"
        )[0]
    )
    lines = [t for t in figure["data"] if t.get("fill") is None]
    assert [t["name"] for t in lines] == [
        f"{pristine.code} LMNO pristine (n=2)",
        f"{coated.code} NSO 1 wt% Na2SiO3@LMNO (n=2)",
    ]
    assert lines[0]["y"][0] == pytest.approx(mean, rel=1e-5)
    assert 'data-testid="plot-mean_discharge_voltage_v"' in html


def test_the_pristine_powder_alone_gathers_every_cell_made_from_it_or_its_coated_child(
    client, chemist, study
):
    pristine, _, cells = study
    client.force_login(chemist)
    html = client.get(f"/jobs/compare/?groups={pristine.code}&include_flagged=1").content.decode()
    assert f"{pristine.code} LMNO pristine (n=4)" in html


def test_single_cells_are_overlaid_one_line_each_and_missing_ones_are_named(client, chemist, study):
    _, _, cells = study
    without = CellFactory().sample
    client.force_login(chemist)
    codes = "&".join(f"cells={s.code}" for s in (*cells["P"], without))
    html = client.get(f"/jobs/compare/?{codes}&include_flagged=1").content.decode()
    assert f"No cycling summary for {without.code}" in html
    for sample in cells["P"]:
        assert f"{sample.code} (n=1)" in html
    assert all(
        job.status == JobStatus.SUCCEEDED
        for cell in cells["P"]
        for job in cell.measurements.get().analysis_jobs.all()
    )


def test_the_compare_page_offers_the_cells_and_powders_that_have_results(client, chemist, study):
    pristine, coated, cells = study
    client.force_login(chemist)
    html = client.get("/jobs/compare/").content.decode()
    for sample in (*cells["P"], *cells["C"]):
        assert f'name="cells" value="{sample.code}"' in html
    for powder in (pristine, coated):
        assert f'name="groups" value="{powder.code}"' in html
    assert "comparison-table" not in html
