"""Issue 8 on the pages: stored plausibility warnings on the job, measurement, cell and compare
pages and in the exports; what Kiln made of every raw file; the voltage-fade window form.

Results are stored directly (as a worker would have stored them), so no instrument file is
needed: each test states the warnings and numbers it expects to see.
"""

from __future__ import annotations

import csv
import hashlib
import io
import itertools
import re
from pathlib import Path

import pytest
from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook

from characterization.jobs import enqueue, seed
from characterization.jobs.models import AnalysisDefinition, AnalysisJob, AnalysisResult, JobStatus
from characterization.models import InstrumentMapping, Measurement, RawFile, ReadState
from tests.characterization.factories import CellFactory, MeasurementFactory, upload
from tests.fixtures.broker import nothing_sent

pytestmark = pytest.mark.django_db

_keys = itertools.count(1)

CE_FLAG = {
    "code": "coulombic_efficiency_out_of_range",
    "message": "Coulombic efficiency outside 0.80–1.05 after the first 2 complete cycles: "
    "0.61–0.74 in cycles 7, 9 (a cell fault, a wrong electrode role, or charge and discharge "
    "paired wrongly).",
    "cycles": [7, 9],
    "severity": "flag",
}
CAPACITY_FLAG = {
    "code": "capacity_above_theoretical",
    "message": "Specific capacities up to 512 mAh/g (cycles 1) are above the theoretical "
    "378 mAh/g of Li1.2Mn0.6Ni0.2O2: check the active mass and the file.",
    "cycles": [1],
    "severity": "flag",
}
INCOMPLETE_NOTE = {
    "code": "incomplete_cycle",
    "message": "Cycle 12 is incomplete (no discharge); it is left out of fade, efficiency "
    "statistics and comparisons.",
    "cycles": [12],
    "severity": "note",
}
PEAK_NOTE = {
    "code": "peak_lost",
    "message": "The discharge peak near 4.4 V was not found in cycles 3, 4; it was picked up "
    "again after.",
    "cycles": [3, 4],
    "severity": "note",
}


@pytest.fixture(autouse=True)
def no_broker(monkeypatch):
    nothing_sent(monkeypatch)


@pytest.fixture
def definitions(db):
    return {d.kind: d for d in seed.analysis_definitions_seed()} or {
        d.kind: d for d in AnalysisDefinition.objects.all()
    }


def cycles(*values: tuple[int, bool, float]) -> list[dict]:
    """Per-cycle rows of a cycling summary: (cycle, complete, discharge mAh/g)."""
    return [
        {
            "cycle": c,
            "complete": complete,
            "discharge_capacity_mah_g": q,
            "mean_discharge_voltage_v": 3.6,
            "coulombic_efficiency": 0.99,
        }
        for c, complete, q in values
    ]


def stored(
    measurement,
    kind: str,
    *,
    warnings=(),
    summary=None,
    raw=None,
    tables: dict[str, str] | None = None,
) -> AnalysisJob:
    """A succeeded job of `kind` with its result, as a worker stores it."""
    raw = raw or measurement.files.first().raw_file
    key = hashlib.sha256(f"result {next(_keys)}".encode()).hexdigest()
    artifacts = [_artifact(key, name, text) for name, text in (tables or {}).items()]
    result = AnalysisResult.objects.create(
        cache_key=key,
        kind=kind,
        kind_version=2,
        parser_version="2",
        input_checksums=[raw.sha256],
        summary=summary or {},
        artifacts=artifacts,
        warnings=list(warnings),
    )
    return AnalysisJob.objects.create(
        definition=AnalysisDefinition.objects.filter(kind=kind).order_by("id").first(),
        measurement=measurement,
        raw_file=raw,
        kind=kind,
        kind_version=2,
        cache_key=key,
        status=JobStatus.SUCCEEDED,
        progress_percent=100,
        result=result,
        finished_at=timezone.now(),
    )


def _artifact(key: str, name: str, text: str) -> dict:
    from django.conf import settings

    relative = f"results/{key}/{name}.csv"
    path = Path(settings.MEDIA_ROOT) / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    data = path.read_bytes()
    sha = hashlib.sha256(data).hexdigest()
    return {"name": name, "path": relative, "sha256": sha, "size": len(data)}


def measurement_with(*names: str, instrument: str = "Neware CT-4008", subject=None, operator=None):
    """A cycling measurement with small files of these names (no analysis queued: each test
    stores the results it needs)."""
    uploads = [upload(name, f"{name}\n1,2\n".encode()) for name in names]
    kwargs = {"uploads": uploads, "instrument": instrument, "operator": operator}
    if subject is not None:
        kwargs["subject"] = subject
    measurement = MeasurementFactory(**kwargs)
    AnalysisJob.objects.filter(measurement=measurement).delete()  # the automatic ones
    return measurement


def html(response) -> str:
    assert response.status_code == 200, response.status_code
    return response.content.decode()


def items(page: str, severity: str) -> list[str]:
    """The <li> of each warning of that severity, in page order."""
    parts = page.split(f'data-severity="{severity}">')[1:]
    return [part.split("</li>")[0] for part in parts]


# --- the job page and its downloads ------------------------------------------------------------


def test_the_job_page_marks_flags_and_shows_each_warnings_sentence_and_cycles(
    client, chemist, definitions
):
    measurement = measurement_with("run.csv")
    job = stored(measurement, "cycling_summary", warnings=[INCOMPLETE_NOTE, CE_FLAG])
    client.force_login(chemist)
    page = html(client.get(f"/jobs/{job.pk}/"))
    (flag,) = items(page, "flag")
    assert "Check these numbers" in flag and CE_FLAG["message"] in flag.replace("&#x27;", "'")
    assert "cycles 7, 9" in flag and "coulombic_efficiency_out_of_range" in flag
    (note,) = items(page, "note")
    assert "Check these numbers" not in note and "Note" in note
    assert "Cycle 12 is incomplete (no discharge)" in note and "cycle 12</span>" in note
    assert page.index(CE_FLAG["code"]) < page.index(INCOMPLETE_NOTE["code"])  # flags first
    assert f"/jobs/{job.pk}/warnings.csv" in page
    clean = stored(measurement_with("clean.csv"), "cycling_summary")
    assert "No plausibility warnings: every check passed." in html(client.get(f"/jobs/{clean.pk}/"))


def test_the_excel_table_has_a_warnings_sheet_and_the_warnings_download_as_csv(
    client, chemist, definitions
):
    measurement = measurement_with("run.csv")
    job = stored(
        measurement,
        "cycling_summary",
        warnings=[CE_FLAG, INCOMPLETE_NOTE],
        tables={"cycle_summary": "cycle,discharge_capacity_mah_g\n1,201.5\n2,199.0\n"},
    )
    client.force_login(chemist)
    excel = client.get(f"/jobs/{job.pk}/tables/cycle_summary.xlsx")
    book = load_workbook(io.BytesIO(excel.content))
    assert book.sheetnames == ["cycle_summary", "warnings"]
    assert list(book["cycle_summary"].iter_rows(values_only=True))[1] == ("1", "201.5")
    rows = list(book["warnings"].iter_rows(values_only=True))
    assert rows[0] == (
        "measurement",
        "file",
        "file_sha256",
        "analysis",
        "job",
        "severity",
        "code",
        "message",
        "cycles",
    )
    raw = measurement.files.get().raw_file
    assert rows[1] == (
        measurement.sample.code,
        "run.csv",
        raw.sha256,
        "cycling_summary",
        job.pk,
        "flag",
        CE_FLAG["code"],
        CE_FLAG["message"],
        "7 9",
    )
    assert rows[2][5:] == ("note", "incomplete_cycle", INCOMPLETE_NOTE["message"], "12")
    response = client.get(f"/jobs/{job.pk}/warnings.csv")
    assert response["Content-Disposition"].startswith("attachment;")
    table = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert [row[5:7] for row in table[1:]] == [
        ["flag", CE_FLAG["code"]],
        ["note", "incomplete_cycle"],
    ]


def test_the_measurement_and_cell_warnings_download_as_csv(client, chemist, definitions):
    measurement = measurement_with("run.csv")
    stored(measurement, "cycling_summary", warnings=[CE_FLAG])
    stored(measurement, "dqdv", warnings=[CE_FLAG, PEAK_NOTE])
    client.force_login(chemist)
    for url in (
        reverse("jobs:measurement-warnings", args=[measurement.sample.code]),
        reverse("jobs:cell-warnings", args=[measurement.subject.code]),
    ):
        table = list(csv.reader(io.StringIO(client.get(url).content.decode("utf-8-sig"))))
        found = sorted((row[3], row[6], row[8]) for row in table[1:])
        assert found == [
            ("cycling_summary", CE_FLAG["code"], "7 9"),
            ("dqdv", CE_FLAG["code"], "7 9"),
            ("dqdv", "peak_lost", "3 4"),
        ]


# --- the measurement page ---------------------------------------------------------------------


def test_the_measurement_page_shows_the_warnings_a_files_results_share_once_and_their_own(
    client, chemist, definitions
):
    measurement = measurement_with("run.csv")
    summary = stored(measurement, "cycling_summary", warnings=[CE_FLAG, INCOMPLETE_NOTE])
    dqdv = stored(measurement, "dqdv", warnings=[CE_FLAG, INCOMPLETE_NOTE, PEAK_NOTE])
    client.force_login(chemist)
    section = html(client.get(f"/jobs/measurement/{measurement.sample.code}/results/"))
    shared = section.split('class="kiln-file-checks"')[1].split("</section>")[0]
    assert "Checks of run.csv" in shared and "shared by its 2 results" in shared
    assert CE_FLAG["code"] in shared and "cycles 7, 9" in shared and "1 to check" in shared
    assert "Cycle 12 is incomplete" in shared
    assert section.count(f'data-code="{CE_FLAG["code"]}"') == 1  # not once per result
    own = section.split(f'data-result-job="{dqdv.pk}"')[1].split("</section>")[0]
    assert "The discharge peak near 4.4 V was not found in cycles 3, 4" in own
    assert "cycles 3, 4</span>" in own and "1 to check" in own
    other = section.split(f'data-result-job="{summary.pk}"')[1].split("</section>")[0]
    assert "peak_lost" not in other
    assert reverse("jobs:measurement-warnings", args=[measurement.sample.code]) in section


def test_the_fade_result_states_its_window_sign_and_excluded_formation_cycles(
    client, chemist, definitions
):
    measurement = measurement_with("run.csv")
    fade = {
        "first_cycle": 3,
        "last_cycle": 150,
        "fade_mv_per_cycle": 1.25,
        "fitted_fade_mv_per_cycle": 1.1,
        "sign": "positive = the mean discharge voltage falls with cycling",
        "window": "default",
        "formation_cycles": [1, 2],
    }
    job = stored(measurement, "voltage_fade", summary=fade)
    client.force_login(chemist)
    for page in (
        html(client.get(f"/jobs/{job.pk}/")),
        html(client.get(f"/jobs/measurement/{measurement.sample.code}/results/")),
    ):
        text = page.split('data-testid="fade-window">')[1].split("</p>")[0]
        assert "<strong>1.250 mV/cycle</strong>" in text
        assert "over cycles <strong>3–150</strong>" in text and "the default window" in text
        assert "Formation cycles 1, 2 excluded." in text
        assert "Sign: positive = the mean discharge voltage falls with cycling." in text
    chosen = stored(measurement, "voltage_fade", summary={**fade, "window": "chosen"})
    text = html(client.get(f"/jobs/{chosen.pk}/")).split('data-testid="fade-window">')[1]
    assert "a chosen window" in text.split("</p>")[0]
    assert "Formation cycles" in html(client.get(f"/jobs/{job.pk}/"))  # summary table: 1, 2


def test_every_raw_file_says_what_kiln_made_of_it_and_never_shows_a_bare_dash(
    client, chemist, definitions
):
    names = ["a.ndax", "b.csv", "c.ndax", "d.mpt", "e.csv", "f.ndax"]
    measurement = measurement_with(*names, instrument="Bench 3")
    states = {
        "a.ndax": (ReadState.READ, "read as a Neware .ndax file, 18,700 rows, 320 half cycles"),
        "b.csv": (
            ReadState.UNRECOGNISED,
            f"not a format Kiln reads: {'ab' * 32}: not a cycler file Kiln can read.",
        ),
        "c.ndax": (ReadState.DAMAGED, "damaged: a zip archive that is damaged or truncated"),
        "d.mpt": (ReadState.NOT_CYCLING, "an impedance (EIS) measurement: 52 points"),
        "e.csv": (ReadState.PENDING, ""),
        "f.ndax": (ReadState.RECOGNISED, "recognised as a Neware .ndax file; not read yet"),
    }
    for name, (state, message) in states.items():
        RawFile.objects.filter(original_name=name).update(read_state=state, read_message=message)
    client.force_login(chemist)
    page = html(client.get(f"/measurements/{measurement.sample.code}/"))
    table = page.split('id="raw-files"')[1].split("</table>")[0]
    rows = {
        name: table.split(f">{name}</a>")[1].split("</tr>")[0] for name in names
    }  # each row, by its file name
    assert "Read as a Neware .ndax file, 18,700 rows, 320 half cycles" in rows["a.ndax"]
    assert "Not a format Kiln reads: not a cycler file Kiln can read." in rows["b.csv"]
    assert "ab" * 32 not in rows["b.csv"]  # the stored name is left out; the row names it
    assert "Damaged: a zip archive that is damaged or truncated" in rows["c.ndax"]
    assert "An impedance (EIS) measurement: 52 points" in rows["d.mpt"]
    assert "Not looked at yet: a worker reads every uploaded file" in rows["e.csv"]
    assert "Recognised as a Neware .ndax file; not read yet" in rows["f.ndax"]
    for row in rows.values():
        assert "<td>–</td>" not in row and ">–<" not in row
    add = reverse("admin:characterization_instrumentmapping_add")
    query = "instrument=Bench+3&amp;name=Bench+3+export&amp;table_kind=cycling"
    assert f'href="{add}?{query}"' in rows["b.csv"]
    assert "If it is a table of cycling data" in rows["b.csv"]
    assert "(lab managers only: ask yours to save it)" in rows["b.csv"]  # chen is not staff
    assert "mapping" not in rows["c.ndax"]
    # still being read: the table polls; the polled partial is the same table
    assert 'data-unsettled="1"' in page and 'hx-trigger="every 2s, kiln-results-changed' in page
    RawFile.objects.filter(original_name__in=["e.csv", "f.ndax"]).update(
        read_state=ReadState.READ, read_message="read as a table"
    )
    partial = html(client.get(reverse("jobs:measurement-files", args=[measurement.sample.code])))
    assert partial.startswith('<div id="raw-files" data-unsettled="0"')
    assert "every 2s" not in partial and partial.count("Read as a table") == 2


def test_an_unrecognised_table_of_an_instrument_with_a_mapping_says_the_mapping_applies(
    client, manager, definitions
):
    manager.is_staff = True
    manager.save()
    InstrumentMapping.objects.create(
        name="Bench 3 export",
        instrument="Bench 3",
        mapping={"time_column": "t", "voltage_column": "U", "current_column": "I"},
    )
    measurement = measurement_with("b.csv", instrument="bench 3")
    RawFile.objects.update(
        read_state=ReadState.UNRECOGNISED, read_message="not a format Kiln reads"
    )
    client.force_login(manager)
    page = html(client.get(f"/measurements/{measurement.sample.code}/"))
    assert "has the column mapping “Bench 3 export”" in page
    assert 'data-testid="mapping-link"' not in page
    other = measurement_with("c.csv", instrument="Bench 4")
    RawFile.objects.filter(original_name="c.csv").update(read_state=ReadState.UNRECOGNISED)
    page = html(client.get(f"/measurements/{other.sample.code}/"))
    assert "instrument=Bench+4" in page and "in the admin" in page
    assert "lab managers only" not in page
    # an impedance measurement of the same instrument: its own kind's mapping is asked for
    Measurement.objects.filter(pk=other.pk).update(measurement_type="eis")
    page = html(client.get(f"/measurements/{other.sample.code}/"))
    assert "table_kind=impedance" in page
    assert "If it is a table of impedance data (frequency, Re Z, Im Z)" in page
    # the cycling mapping of Bench 3 does not read an impedance table
    Measurement.objects.filter(pk=measurement.pk).update(measurement_type="eis")
    page = html(client.get(f"/measurements/{measurement.sample.code}/"))
    assert "has the column mapping" not in page and "table_kind=impedance" in page


# --- the voltage-fade window form -------------------------------------------------------------


def fade_url(measurement) -> str:
    return reverse("jobs:measurement-fade", args=[measurement.sample.code])


def test_the_fade_window_form_queues_the_fade_with_the_chosen_cycles(client, chemist, definitions):
    measurement = measurement_with("run.ndax", operator=chemist)
    client.force_login(chemist)
    section = html(client.get(f"/jobs/measurement/{measurement.sample.code}/"))
    assert 'id="fade-form"' in section and 'name="first_cycle"' in section
    response = client.post(
        fade_url(measurement), {"first_cycle": "5", "last_cycle": "120"}, HTTP_HX_REQUEST="true"
    )
    job = AnalysisJob.objects.get(measurement=measurement, kind="voltage_fade")
    assert (job.status, job.created_by) == (JobStatus.QUEUED, chemist)
    assert job.parameters == {"first_cycle": 5, "last_cycle": 120}
    assert response["HX-Retarget"] == "#analyses"
    page = html(response)
    assert "run.ndax: voltage fade over cycles 5–120 queued." in page
    assert f'data-job="{job.pk}"' in page and "every 2s" in page  # the jobs table polls it
    again = html(client.post(fade_url(measurement), {}, HTTP_HX_REQUEST="true"))
    assert f"a voltage fade (job {job.pk}) is already queued" in again
    enqueue.job_cancel(job=job)
    response = client.post(fade_url(measurement), {"first_cycle": "", "last_cycle": ""})
    assert response.url == f"/measurements/{measurement.sample.code}/#analyses"  # no JavaScript
    default = AnalysisJob.objects.filter(kind="voltage_fade").latest("id")
    assert default.parameters == {"first_cycle": None, "last_cycle": None}


@pytest.mark.parametrize(
    ("first", "last", "field", "message"),
    [
        ("30", "10", "last_cycle", "The last cycle must not come before cycle 30."),
        ("-1", "", "first_cycle", "Ensure this value is greater than or equal to 0."),
        ("", "-4", "last_cycle", "Ensure this value is greater than or equal to 0."),
        ("two", "", "first_cycle", "Enter a whole number."),
    ],
)
def test_the_fade_window_form_refuses_a_bad_window_with_a_field_error(
    client, chemist, definitions, first, last, field, message
):
    measurement = measurement_with("run.ndax", operator=chemist)
    client.force_login(chemist)
    partial = client.post(
        fade_url(measurement), {"first_cycle": first, "last_cycle": last}, HTTP_HX_REQUEST="true"
    )
    form = html(partial)
    assert form.lstrip().startswith('<form id="fade-form"')
    assert f'data-testid="fade-error-{field}">{message}</small>' in form
    assert f'name="{field}"' in form and 'aria-invalid="true"' in form
    page = html(client.post(fade_url(measurement), {"first_cycle": first, "last_cycle": last}))
    assert "<!doctype html>" in page and message in page  # without JavaScript: its own page
    assert not AnalysisJob.objects.filter(kind="voltage_fade").exists()


def test_the_fade_form_needs_the_permission_to_run_analyses(client, definitions):
    from tests.lims.factories import UserFactory

    measurement = measurement_with("run.ndax")
    client.force_login(UserFactory(username="guest", groups=["viewer"]))
    assert client.post(fade_url(measurement), {"first_cycle": "1"}).status_code == 403
    assert 'id="fade-form"' not in html(client.get(f"/jobs/measurement/{measurement.sample.code}/"))


# --- the cell page ----------------------------------------------------------------------------


def test_the_cell_page_lists_the_warnings_of_its_latest_results_flags_first(
    client, chemist, definitions
):
    cell = CellFactory()
    measurement = measurement_with("run.ndax", subject=cell.sample)
    old = stored(measurement, "cycling_summary", warnings=[CAPACITY_FLAG])
    summary = stored(measurement, "cycling_summary", warnings=[INCOMPLETE_NOTE, CE_FLAG])
    dqdv = stored(measurement, "dqdv", warnings=[CE_FLAG, PEAK_NOTE])
    AnalysisJob.objects.filter(pk=old.pk).update(finished_at=timezone.now().replace(year=2020))
    client.force_login(chemist)
    page = html(client.get(reverse("cells:cell", args=[cell.sample.code])))
    checks = page.split('id="checks"')[1].split("</article>")[0]
    assert CAPACITY_FLAG["code"] not in checks  # an older result's warnings are not shown
    (flag,) = items(checks, "flag")
    assert "Check these numbers" in flag and "cycles 7, 9" in flag
    assert f"in run.ndax of {measurement.sample.code}:" in flag
    assert f'href="/jobs/{summary.pk}/">Cycling summary</a>' in flag
    assert f'href="/jobs/{dqdv.pk}/">dQ/dV</a>' in flag  # one entry, both results named
    notes = items(checks, "note")
    assert [n.split('kiln-check-message">')[1][:12] for n in notes] == [
        "Cycle 12 is ",
        "The discharg",
    ]
    assert checks.index('data-severity="flag"') < checks.index('data-severity="note"')
    assert reverse("jobs:cell-warnings", args=[cell.sample.code]) in checks
    quiet = CellFactory()
    page = html(client.get(reverse("cells:cell", args=[quiet.sample.code])))
    assert "No warnings on the latest results (no measurements yet)." in page


# --- the compare page -------------------------------------------------------------------------


@pytest.fixture
def replicates(definitions):
    """Three cells of one powder: A and B clean, C flagged (a capacity above theoretical)."""
    electrode = CellFactory().electrode
    cells = {}
    for label, warnings, capacity in (
        ("A", [INCOMPLETE_NOTE], 200.0),
        ("B", [], 210.0),
        ("C", [CAPACITY_FLAG, INCOMPLETE_NOTE], 512.0),
    ):
        cell = CellFactory(electrode=electrode)
        measurement = measurement_with("run.ndax", subject=cell.sample)
        rows = cycles((1, True, capacity), (2, True, capacity - 10), (3, False, 5.0))
        stored(measurement, "cycling_summary", warnings=warnings, summary={"cycles": rows})
        cells[label] = cell.sample
    return electrode.active_material, cells


def test_the_compare_page_leaves_out_a_flagged_cell_and_says_which_and_why(
    client, chemist, replicates
):
    powder, cells = replicates
    client.force_login(chemist)
    page = html(client.get(f"/jobs/compare/?groups={powder.code}"))
    left_out = page.split('id="flagged-cells"')[1].split("</article>")[0]
    assert "Left out: 1 flagged cell" in left_out
    assert f'data-flagged-cell="{cells["C"].code}"' in left_out
    assert "Specific capacities up to 512 mAh/g (cycles 1)" in left_out and "cycle 1<" in left_out
    assert "Cycle 12 is incomplete" not in left_out  # notes do not leave a cell out
    for clean in (cells["A"], cells["B"]):
        assert f'data-flagged-cell="{clean.code}"' not in page
    row = page.split('id="comparison-table">')[1].split("</table>")[0]
    assert '<td class="num">2</td>' in row and "205.0 ± 7.1" in row  # A and B only
    assert "flagged</small>" not in row
    assert f'name="cells" value="{cells["C"].code}"> {cells["C"].code}' in page
    assert page.count("⚑ flagged</small>") == 1  # the choice list marks C
    assert 'name="include_flagged" value="1">' in page  # unchecked
    assert "include_flagged=1" in left_out  # the "include them" link keeps the query


def test_the_compare_page_includes_flagged_cells_when_asked_and_keeps_the_choice(
    client, chemist, replicates
):
    powder, cells = replicates
    client.force_login(chemist)
    page = html(client.get(f"/jobs/compare/?groups={powder.code}&include_flagged=1"))
    included = page.split('id="flagged-cells"')[1].split("</article>")[0]
    assert "Included although flagged" in included and cells["C"].code in included
    assert 'name="include_flagged" value="1" checked>' in page
    row = page.split('id="comparison-table">')[1].split("</table>")[0]
    mean = (200.0 + 210.0 + 512.0) / 3
    numbers = re.findall(r'<td class="num">([^<]*)</td>', row)
    assert numbers[:2] == ["3", "1"] and numbers[2].startswith(f"{mean:.1f} ± ")
    assert numbers[3] == "2"  # cycle 3 is incomplete everywhere: never averaged
    assert "1 flagged</small>" in row


def test_a_flagged_cell_chosen_alone_is_left_out_and_named(client, chemist, replicates):
    _, cells = replicates
    client.force_login(chemist)
    page = html(client.get(f"/jobs/compare/?cells={cells['C'].code}&cells={cells['A'].code}"))
    left_out = page.split('id="flagged-cells"')[1].split("</article>")[0]
    assert cells["C"].code in left_out and "chosen alone" in left_out
    assert f"{cells['A'].code} (n=1)" in page and f"{cells['C'].code} (n=1)" not in page
    only = html(client.get(f"/jobs/compare/?cells={cells['C'].code}"))
    assert "Left out: 1 flagged cell" in only and "comparison-table" not in only


def test_the_sample_page_panel_marks_a_flagged_cycling_result(client, chemist, definitions):
    cell = CellFactory()
    measurement = measurement_with("run.ndax", subject=cell.sample)
    rows = cycles((1, True, 200.0), (2, True, 190.0))
    stored(measurement, "cycling_summary", warnings=[CE_FLAG], summary={"cycles": rows})
    client.force_login(chemist)
    page = html(client.get(f"/samples/{cell.sample.code}/"))
    assert "Cycling results" in page and "⚑ 1 to check</a>" in page


def test_the_profiles_of_a_file_kiln_cannot_read_say_why_instead_of_waiting(
    client, chemist, definitions
):
    measurement = measurement_with("c.ndax")
    raw = measurement.files.get().raw_file
    RawFile.objects.filter(pk=raw.pk).update(
        read_state=ReadState.DAMAGED, read_message=f"damaged: {raw.sha256}: a truncated zip"
    )
    client.force_login(chemist)
    url = reverse("jobs:measurement-profiles", args=[measurement.sample.code])
    page = html(client.get(url, {"file": raw.sha256}))
    assert "No profiles: damaged: a truncated zip" in page
    assert "appear once an analysis has read" not in page
