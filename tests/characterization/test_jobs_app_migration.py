"""The analysis models moved from characterization to their own app (jobs) without moving a
row: a database populated before the move reads back unchanged through the new models, and the
content types (with their permissions, group permissions and admin log entries) follow.

The test migrates the test database back to before the move, writes a definition, a result and
a job (with their history rows) through the models of that time, migrates forward again and
reads them through today's models; the database ends at the latest migrations either way.
"""

from __future__ import annotations

import pytest
from django.contrib.contenttypes.models import ContentType
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.utils import timezone

from characterization.jobs.models import AnalysisDefinition, AnalysisJob, AnalysisResult
from tests.characterization.factories import MeasurementFactory, upload
from tests.lims.factories import UserFactory

pytestmark = pytest.mark.django_db(transaction=True)

BEFORE_THE_MOVE = [("characterization", "0006_void_records_and_result_history"), ("jobs", None)]
MOVED = ("analysisdefinition", "analysisjob", "analysisresult", "historicalanalysisjob")


def migrate(targets=None):
    """Migrate the test database to `targets` (None: the latest); the state reached."""
    executor = MigrationExecutor(connection)
    state = executor.migrate(targets or executor.loader.graph.leaf_nodes())
    ContentType.objects.clear_cache()
    return state


@pytest.fixture
def measurement(monkeypatch):
    """A measurement with one raw file, recorded today (its models did not move)."""
    for task in ("analysis_job_run", "raw_file_inspect"):
        monkeypatch.setattr(f"characterization.jobs.tasks.{task}.apply_async", lambda *a, **k: 0)
    return MeasurementFactory(measurement_type="other", uploads=[upload()])


@pytest.fixture
def before_the_move():
    """The historical models of the database as it was before the move; the database is
    migrated to the latest again afterwards, whatever the test found."""
    state = migrate(BEFORE_THE_MOVE)
    yield state.apps
    migrate()


def write_old_records(apps, measurement, user) -> dict:
    """A definition, a result, a succeeded job and their history rows, as characterization
    models; a group holding the job's view permission and an admin log entry of the job."""
    Definition = apps.get_model("characterization", "AnalysisDefinition")
    Result = apps.get_model("characterization", "AnalysisResult")
    Job = apps.get_model("characterization", "AnalysisJob")
    HistoricalJob = apps.get_model("characterization", "HistoricalAnalysisJob")
    # the raw file through the models of that time (today's has columns added since)
    raw = apps.get_model("characterization", "RawFile").objects.get(
        pk=measurement.files.get().raw_file_id
    )
    definition = Definition.objects.create(
        name="Cycling summary (before the move)",
        kind="cycling_summary",
        parameters={"reference_cycle": 2},
        auto_run_for=["cycling"],
        created_by_id=user.pk,
    )
    result = Result.objects.create(
        cache_key="c" * 64,
        kind="cycling_summary",
        kind_version=2,
        parser_version="2",
        parameters={"reference_cycle": 2},
        input_checksums=[raw.sha256],
        active_mass_mg=4.2,
        summary={"complete_cycles": 3, "cycles": [{"cycle": 1, "complete": True}]},
        figures={"capacity": {"data": [], "layout": {}}},
        artifacts=[{"name": "cycle_summary", "path": "results/x.csv", "sha256": "0" * 64}],
        warnings=[{"code": "ce_above_one", "message": "CE > 1", "cycles": [2], "severity": "flag"}],
    )
    now = timezone.now()
    job = Job.objects.create(
        definition=definition,
        measurement_id=measurement.pk,
        raw_file_id=raw.pk,
        kind="cycling_summary",
        kind_version=2,
        parser_version="2",
        parameters={"reference_cycle": 2},
        input_checksums=[raw.sha256],
        active_mass_mg=4.2,
        cache_key="c" * 64,
        status="succeeded",
        progress_percent=100,
        progress_message="done",
        attempts=1,
        worker="w@old",
        started_at=now,
        finished_at=now,
        result=result,
        created_by_id=user.pk,
    )
    HistoricalJob.objects.create(
        id=job.pk,
        definition_id=definition.pk,
        measurement_id=measurement.pk,
        raw_file_id=raw.pk,
        result_id=result.pk,
        kind="cycling_summary",
        status="queued",
        enqueued_at=now,
        created_at=now,
        history_date=now,
        history_type="+",
        history_user_id=user.pk,
    )
    content_type = apps.get_model("contenttypes", "ContentType").objects.get(
        app_label="characterization", model="analysisjob"
    )
    permission = apps.get_model("auth", "Permission").objects.get(
        content_type=content_type, codename="view_analysisjob"
    )
    group = apps.get_model("auth", "Group").objects.create(name="job auditors")
    group.permissions.add(permission)
    apps.get_model("admin", "LogEntry").objects.create(
        action_time=now,
        user_id=user.pk,
        content_type=content_type,
        object_id=str(job.pk),
        object_repr=f"job {job.pk}",
        action_flag=2,
        change_message="[]",
    )
    lab_groups = apps.get_model("auth", "Group").objects.filter(
        name__in=["viewer", "chemist", "lab-manager"]
    )
    return {
        "lab group permissions": {
            g.name: sorted(
                g.permissions.filter(content_type__model__in=MOVED).values_list("pk", flat=True)
            )
            for g in lab_groups
        },
        "definition": Definition.objects.filter(pk=definition.pk).values().get(),
        "result": Result.objects.filter(pk=result.pk).values().get(),
        "job": Job.objects.filter(pk=job.pk).values().get(),
        "job history": list(HistoricalJob.objects.filter(id=job.pk).values()),
        "content types": {
            model: apps.get_model("contenttypes", "ContentType")
            .objects.get(app_label="characterization", model=model)
            .pk
            for model in MOVED
        },
        "permission": permission.pk,
    }


def test_jobs_and_results_written_before_the_move_read_back_unchanged(measurement, before_the_move):
    user = UserFactory(username="old-timer")
    old = write_old_records(before_the_move, measurement, user)
    migrate()

    definition = AnalysisDefinition.objects.get(pk=old["definition"]["id"])
    result = AnalysisResult.objects.get(pk=old["result"]["id"])
    job = AnalysisJob.objects.select_related("definition", "result", "raw_file").get(
        pk=old["job"]["id"]
    )
    assert AnalysisDefinition.objects.filter(pk=definition.pk).values().get() == old["definition"]
    assert AnalysisResult.objects.filter(pk=result.pk).values().get() == old["result"]
    assert AnalysisJob.objects.filter(pk=job.pk).values().get() == old["job"]
    assert list(AnalysisJob.history.filter(id=job.pk).values()) == old["job history"]
    assert (job.status, job.definition, job.result, job.measurement_id) == (
        "succeeded",
        definition,
        result,
        measurement.pk,
    )
    assert job.raw_file == measurement.files.get().raw_file
    assert result.summary["complete_cycles"] == 3 and result.flags[0]["code"] == "ce_above_one"
    assert list(definition.jobs.all()) == [job] and list(result.jobs.all()) == [job]


def test_the_content_types_move_with_their_permissions_groups_and_log_entries(
    measurement, before_the_move
):
    from django.contrib.admin.models import LogEntry
    from django.contrib.auth.models import Group

    user = UserFactory(username="auditor")
    old = write_old_records(before_the_move, measurement, user)
    migrate()

    for model, pk in old["content types"].items():
        moved = ContentType.objects.get(pk=pk)
        assert (moved.app_label, moved.model) == ("jobs", model)
        assert moved.model_class() is not None
    assert not ContentType.objects.filter(app_label="characterization", model__in=MOVED).exists()
    assert old["lab group permissions"]["viewer"]  # the roles' groups held them before
    for name, pks in old["lab group permissions"].items():
        held = Group.objects.get(name=name).permissions.filter(content_type__app_label="jobs")
        assert sorted(held.filter(content_type__model__in=MOVED).values_list("pk", flat=True)) == (
            pks
        )
    group = Group.objects.get(name="job auditors")
    assert list(group.permissions.values_list("pk", flat=True)) == [old["permission"]]
    user.groups.add(group)
    user = type(user).objects.get(pk=user.pk)  # a fresh permission cache
    assert user.has_perm("jobs.view_analysisjob")
    assert not user.has_perm("characterization.view_analysisjob")
    entry = LogEntry.objects.get(object_id=str(old["job"]["id"]))
    assert entry.get_edited_object() == AnalysisJob.objects.get(pk=old["job"]["id"])
