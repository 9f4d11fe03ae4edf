"""Corrections of cells, measurements and refinements with a reason; voided measurements, raw
files, jobs and results (kept, hidden from lists); analyses outdated by a corrected mass."""

from __future__ import annotations

import math

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse
from django.utils import timezone

from characterization import corrections, services, storage
from characterization.jobs import enqueue, inputs, outdated, seed
from characterization.jobs.models import AnalysisDefinition, AnalysisJob, AnalysisResult, JobStatus
from characterization.jobs.queries import latest_results_of_measurement
from characterization.models import Measurement
from lims.models import EdgeRole, Sample, SampleEdge
from tests.characterization.factories import CellFactory, MeasurementFactory, PowderFactory, upload
from tests.lims.factories import UserFactory

pytestmark = pytest.mark.django_db
WHY = "weighed on the wrong balance"
AREA_CM2 = math.pi * 0.6**2  # a 12 mm disc


@pytest.fixture
def sent(monkeypatch):
    """Job ids handed to the broker (faked: no broker in these tests)."""
    ids: list[int] = []
    monkeypatch.setattr(
        "characterization.jobs.tasks.analysis_job_run.apply_async",
        lambda args, **kwargs: ids.append(args[0]),
    )
    monkeypatch.setattr(
        "characterization.jobs.tasks.raw_file_inspect.apply_async", lambda args, **kwargs: None
    )
    return ids


@pytest.fixture
def cell(chemist):
    """12.00 mg disc, 4.00 mg foil, 80 % active: 6.4 mg active, built by chen."""
    return CellFactory(built_by=chemist, electrode__made_by=chemist)


@pytest.fixture
def other_chemist(db):
    return UserFactory(username="olga", groups=["chemist"])


@pytest.fixture
def analysed(cell, chemist, sent, django_capture_on_commit_callbacks):
    """A cycling measurement of the cell whose cycling summary succeeded with the 6.4 mg mass."""
    seed.analysis_definitions_seed()
    with django_capture_on_commit_callbacks(execute=True):
        measurement = MeasurementFactory(subject=cell.sample, operator=chemist, uploads=[upload()])
        definition = AnalysisDefinition.objects.get(kind="cycling_summary")
        job = enqueue.job_enqueue(
            definition=definition,
            measurement=measurement,
            raw_file=measurement.files.get().raw_file,
            user=chemist,
        )
    _succeed(job)
    return measurement


def _succeed(job: AnalysisJob) -> None:
    """What a worker writes when the job is done (the analysis itself is tested elsewhere)."""
    result = AnalysisResult.objects.create(
        cache_key=job.cache_key, kind=job.kind, kind_version=job.kind_version,
        parser_version=job.parser_version, active_mass_mg=job.active_mass_mg,
        summary={"cycles": []},
    )  # fmt: skip
    AnalysisJob.objects.filter(pk=job.pk).update(
        status=JobStatus.SUCCEEDED, result=result, finished_at=timezone.now(), progress_percent=100
    )


# --- disc masses -------------------------------------------------------------------------------


def test_a_disc_mass_correction_recomputes_active_mass_loading_and_currents(client, cell, chemist):
    client.force_login(chemist)
    url = reverse("cells:correct", args=[cell.sample.code])
    assert 'value="12.0"' in client.get(url).content.decode()

    response = client.post(url, {"disc_mass_mg": "11.00", "foil_disc_mass_mg": "4.00",
                                 "reason": WHY})  # fmt: skip

    assert response.status_code == 302
    cell.refresh_from_db()
    assert cell.disc_mass_mg == 11.0
    assert cell.active_mass_mg == pytest.approx((11.0 - 4.0) * 0.8)  # 5.6 mg
    assert cell.areal_loading_mg_per_cm2 == pytest.approx(5.6 / AREA_CM2)
    assert cell.c_rate_currents_ma()["1"] == pytest.approx(250 * 5.6 / 1000)
    edge = SampleEdge.objects.get(child=cell.sample, role=EdgeRole.COMPONENT)
    assert edge.amount == 11.0
    row = cell.history.first()
    assert (row.history_change_reason, row.history_user) == (WHY, chemist)
    page = client.get(reverse("cells:cell", args=[cell.sample.code])).content.decode()
    assert '<strong data-testid="active-mass">5.600</strong>' in page
    [row] = [line for line in page.splitlines() if f"because {WHY}" in line]
    assert "disc mass (mg) from “12” to “11”" in row
    assert "active mass (mg) from “6.4” to “5.6”" in row


def test_a_disc_correction_writes_one_audit_row_and_a_failing_one_none(cell, chemist):
    before = cell.history.count()
    corrections.cell_correct(cell=cell, user=chemist, reason=WHY, disc_mass_mg=11.0)
    assert cell.history.count() == before + 1
    with pytest.raises(ValidationError) as caught:
        corrections.cell_correct(cell=cell, user=chemist, reason=WHY, disc_mass_mg=3.0)
    assert (
        "must be greater than the bare foil disc mass"
        in caught.value.message_dict["disc_mass_mg"][0]
    )
    with pytest.raises(ValidationError) as caught:
        corrections.cell_correct(cell=cell, user=chemist, reason=WHY, disc_mass_mg=12000)
    assert caught.value.message_dict["disc_mass_mg"][0].startswith(
        "disc mass must be greater than 0 mg and at most 1000 mg, got 12,000 mg"
    )
    cell.refresh_from_db()
    assert (cell.disc_mass_mg, cell.history.count()) == (11.0, before + 1)


def test_another_chemist_cannot_correct_the_cell(client, cell, other_chemist):
    with pytest.raises(PermissionDenied):
        corrections.cell_correct(cell=cell, user=other_chemist, reason=WHY, disc_mass_mg=11)
    client.force_login(other_chemist)
    url = reverse("cells:correct", args=[cell.sample.code])
    response = client.post(url, {"disc_mass_mg": "11", "foil_disc_mass_mg": "4", "reason": WHY})
    assert response.status_code == 403
    cell.refresh_from_db()
    assert cell.disc_mass_mg == 12.0


def test_a_corrected_mass_marks_the_cells_analyses_outdated_and_the_rerun_clears_it(
    client, cell, chemist, analysed, sent
):
    old_job = analysed.analysis_jobs.get(kind="cycling_summary")
    assert outdated.outdated_jobs([analysed]) == []

    done = corrections.cell_correct(cell=cell, user=chemist, reason=WHY, disc_mass_mg=11.0)

    assert [item.job.pk for item in done.outdated] == [old_job.pk]
    assert done.outdated[0].why == "used an active mass of 6.4 mg; the cell's is now 5.6 mg"
    client.force_login(chemist)
    page = client.get(reverse("cells:cell", args=[cell.sample.code])).content.decode()
    assert 'data-testid="outdated"' in page and "used an active mass of 6.4 mg" in page
    measurement_page = client.get(reverse("measurements:detail", args=[analysed.sample.code]))
    assert 'data-testid="outdated"' in measurement_page.content.decode()

    response = client.post(reverse("cells:rerun-outdated", args=[cell.sample.code]))

    assert response.status_code == 302
    rerun = analysed.analysis_jobs.exclude(pk=old_job.pk).get(kind="cycling_summary")
    assert rerun.active_mass_mg == pytest.approx(5.6) and rerun.status == JobStatus.QUEUED
    assert outdated.outdated_jobs([analysed]) == []
    page = client.get(reverse("cells:cell", args=[cell.sample.code])).content.decode()
    assert 'data-testid="outdated"' not in page


@pytest.mark.testdata("cyclers")
def test_the_rerun_after_a_disc_correction_computes_with_the_new_active_mass(cell, chemist, sent):
    from tests.characterization.test_jobs import NW4, cycler_upload, record, run_all

    seed.analysis_definitions_seed()
    measurement = record(cell.sample, cycler_upload(NW4), operator=chemist)
    run_all(measurement)
    first = measurement.analysis_jobs.get(kind="cycling_summary")
    corrections.cell_correct(cell=cell, user=chemist, reason=WHY, disc_mass_mg=11.0)
    assert first.pk in outdated.outdated_ids([measurement])

    corrections.analyses_rerun_outdated(measurements=[measurement], user=chemist)
    run_all(measurement)

    again = measurement.analysis_jobs.filter(kind="cycling_summary").latest("id")
    assert again.status == JobStatus.SUCCEEDED and again.result_id != first.result_id
    assert again.result.active_mass_mg == pytest.approx(5.6)
    assert outdated.outdated_ids([measurement]) == set()


# --- measurements and refinements --------------------------------------------------------------


def test_corrected_conditions_and_notes_keep_the_reason_and_outdate_the_window(
    client, analysed, chemist
):
    client.force_login(chemist)
    url = reverse("measurements:correct", args=[analysed.sample.code])
    data = {"instrument": "Neware CT-4008", "voltage_min_v": "2.0", "voltage_max_v": "4.8",
            "c_rates": "0.1", "temperature_c": "25", "other_conditions": "",
            "notes": "cell 3 of the rate series", "reason": "window left out at entry"}  # fmt: skip

    assert client.post(url, data).status_code == 302

    analysed.refresh_from_db()
    assert analysed.conditions == {"voltage_window_v": [2.0, 4.8], "c_rates": [0.1],
                                   "temperature_c": 25.0}  # fmt: skip
    assert analysed.sample.notes == "cell 3 of the rate series"
    assert analysed.history.first().history_change_reason == "window left out at entry"
    assert analysed.sample.history.first().history_change_reason == "window left out at entry"
    [item] = outdated.outdated_jobs([analysed])
    assert item.why == "used the voltage window none; it is now 2–4.8 V"
    page = client.get(reverse("measurements:detail", args=[analysed.sample.code])).content
    assert "because window left out at entry" in page.decode()


def test_conditions_out_of_bounds_are_refused_and_nothing_is_saved(analysed, chemist):
    before = (analysed.history.count(), analysed.sample.history.count())
    with pytest.raises(ValidationError) as caught:
        corrections.measurement_correct(
            measurement=analysed, user=chemist, reason="typo",
            conditions={"temperature_c": -300}, notes="half-saved?",
        )  # fmt: skip
    assert "temperature" in caught.value.message_dict["temperature_c"][0]
    analysed.refresh_from_db()
    assert analysed.sample.notes == ""
    assert (analysed.history.count(), analysed.sample.history.count()) == before


@pytest.fixture
def refinement(chemist):
    rietveld = MeasurementFactory(
        subject=PowderFactory(owner=chemist), measurement_type="rietveld", operator=chemist
    )
    return services.refinement_record(
        measurement=rietveld, origin="transition_metal", a_angstrom="2.8589(1)",
        c_angstrom="1.42561", z_oxygen="0.2582(3)", entered_by=chemist,
    )  # fmt: skip


def test_a_refinement_typed_with_a_wrong_number_is_corrected_and_recomputed(
    client, refinement, chemist
):
    code = refinement.measurement.sample.code
    client.force_login(chemist)
    url = reverse("measurements:refinement-correct", args=[code, refinement.pk])
    form = client.get(url).content.decode()
    assert 'value="2.8589(1)"' in form and 'value="1.42561"' in form

    response = client.post(url, {"phase": "R-3m layered", "origin": "transition_metal",
                                 "a_angstrom": "2.8589(1)", "c_angstrom": "14.2561(12)",
                                 "z_oxygen": "0.2582(3)", "volume_angstrom3": "",
                                 "rwp_percent": "", "occupancies": "",
                                 "reason": "decimal point slipped"})  # fmt: skip

    assert response.status_code == 302
    refinement.refresh_from_db()
    assert (refinement.c_angstrom, refinement.c_esd_angstrom) == (14.2561, pytest.approx(0.0012))
    assert (refinement.a_angstrom, refinement.a_esd_angstrom) == (2.8589, pytest.approx(0.0001))
    volume = math.sqrt(3) / 2 * 2.8589**2 * 14.2561
    assert refinement.cell_volume_angstrom3 == pytest.approx(volume)
    assert refinement.history.first().history_change_reason == "decimal point slipped"
    page = client.get(reverse("measurements:detail", args=[code])).content.decode()
    [row] = [line for line in page.splitlines() if "because decimal point slipped" in line]
    assert "refinement R-3m layered" in row and "c (Å) from “1.42561” to “14.2561”" in row


# --- voids -------------------------------------------------------------------------------------


def test_a_void_measurement_is_kept_hidden_from_lists_and_voids_its_sample(
    client, analysed, cell, chemist
):
    job = analysed.analysis_jobs.get()
    client.force_login(chemist)
    url = reverse("measurements:void", args=[analysed.sample.code])

    assert client.post(url, {"reason": "wrong cell on channel 3"}).status_code == 302

    analysed = Measurement.objects.select_related("sample").get(pk=analysed.pk)
    assert analysed.void_reason == "wrong cell on channel 3" and analysed.voided_by == chemist
    assert analysed.sample.voided_at == analysed.voided_at  # one record in two rows
    assert analysed.files.count() == 1 and AnalysisJob.objects.filter(pk=job.pk).exists()
    assert SampleEdge.objects.filter(parent=cell.sample, child=analysed.sample).exists()
    code = analysed.sample.code
    link = f'href="{reverse("measurements:detail", args=[code])}"'
    assert link not in client.get(reverse("measurements:index")).content.decode()
    assert link in client.get(reverse("measurements:index") + "?void=on").content.decode()
    assert link not in client.get(reverse("cells:cell", args=[cell.sample.code])).content.decode()
    jobs_page = client.get(reverse("jobs:index")).content.decode()
    assert f'data-job="{job.pk}"' not in jobs_page
    page = client.get(reverse("measurements:detail", args=[code])).content.decode()
    assert 'data-testid="void-banner"' in page and "because wrong cell on channel 3" in page
    assert latest_results_of_measurement(analysed) == []


def test_a_void_raw_file_keeps_its_bytes_and_is_listed_apart(client, analysed, chemist):
    raw = analysed.files.get().raw_file
    client.force_login(chemist)
    url = reverse("measurements:raw-file-void", args=[analysed.sample.code, raw.sha256])

    assert client.post(url, {"reason": "exported twice"}).status_code == 302

    raw.refresh_from_db()
    assert raw.void_reason == "exported twice"
    assert storage.raw_path(raw.sha256).exists()  # Kiln never removes a raw file
    assert inputs.cycling_files(analysed) == []  # not analysed again
    page = client.get(reverse("measurements:detail", args=[analysed.sample.code])).content.decode()
    assert f'data-file="{raw.short_sha}"' not in page and "No raw files in use" in page
    assert 'data-testid="void-files"' in page and "because exported twice" in page
    assert client.get(reverse("measurements:raw-file", args=[raw.sha256])).status_code == 200


def test_a_finished_job_is_voided_and_leaves_the_lists(client, analysed, chemist):
    job = analysed.analysis_jobs.get()
    corrections.analysis_job_void(job=job, user=chemist, reason="ran on the wrong file")
    client.force_login(chemist)
    assert f'data-job="{job.pk}"' not in client.get(reverse("jobs:index")).content.decode()
    shown = client.get(reverse("jobs:index") + "?void=on").content.decode()
    assert f'data-job="{job.pk}"' in shown
    assert latest_results_of_measurement(analysed) == []
    page = client.get(reverse("jobs:detail", args=[job.pk])).content.decode()
    assert "because ran on the wrong file" in page


def test_a_queued_job_is_cancelled_before_it_is_voided(analysed, chemist, sent):
    queued = enqueue.job_enqueue(
        definition=AnalysisDefinition.objects.get(kind="dqdv"),
        measurement=analysed,
        raw_file=analysed.files.get().raw_file,
        user=chemist,
    )
    assert queued.status == JobStatus.QUEUED
    with pytest.raises(ValidationError) as caught:
        corrections.analysis_job_void(job=queued, user=chemist, reason="wrong file")
    assert "cancel it first" in caught.value.message_dict["reason"][0]
    assert AnalysisJob.objects.get(pk=queued.pk).voided_at is None


def test_only_a_lab_manager_voids_a_shared_result(client, analysed, chemist, manager):
    job = analysed.analysis_jobs.get()
    with pytest.raises(PermissionDenied):
        corrections.analysis_result_void(result=job.result, user=chemist, reason="bug")
    corrections.analysis_result_void(result=job.result, user=manager, reason="parser bug 1.2")
    job.result.refresh_from_db()
    assert job.result.voided_by == manager
    assert job.result.history.first().history_change_reason == "voided: parser bug 1.2"
    client.force_login(chemist)
    page = client.get(reverse("jobs:detail", args=[job.pk])).content.decode()
    assert 'data-testid="void-result-banner"' in page and "because parser bug 1.2" in page
    assert latest_results_of_measurement(analysed) == []


def test_voiding_a_cell_keeps_its_measurements_and_says_so_on_their_pages(
    client, analysed, cell, chemist
):
    corrections_url = reverse("cells:void", args=[cell.sample.code])
    client.force_login(chemist)
    assert client.post(corrections_url, {"reason": "shorted at assembly"}).status_code == 302
    assert Sample.objects.get(pk=cell.sample_id).void_reason == "shorted at assembly"
    assert Measurement.objects.get(pk=analysed.pk).voided_at is None
    page = client.get(reverse("measurements:detail", args=[analysed.sample.code])).content
    assert 'data-testid="void-ancestors"' in page.decode()
    listed = client.get(reverse("cells:index")).content.decode()
    assert f'href="{reverse("cells:cell", args=[cell.sample.code])}"' not in listed
