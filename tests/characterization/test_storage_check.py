"""The file store cannot drift from the database: a stored name lives and dies with its row,
no spool, staging, temporary or lock file stays behind, and `storage_check` finds (and with
--repair sweeps) what a killed process left, re-hashing every file (issue 9, "Storage")."""

from __future__ import annotations

import hashlib
import json
import multiprocessing
import os
import time
from pathlib import Path

import pytest
from django.core.management import call_command
from django.db import transaction
from django.test import RequestFactory

from characterization import services, storage
from characterization.jobs import inspection, seed
from characterization.jobs.models import AnalysisResult
from characterization.models import RawFile
from characterization.storage_check import latest_report, storage_check_run
from tests.characterization.factories import MeasurementFactory, upload

pytestmark = pytest.mark.django_db

CONTENT = b"Cycle,Voltage(V),Current(mA)\n1,3.20,0.08\n1,4.80,0.08\n"
SHA = hashlib.sha256(CONTENT).hexdigest()
DAY_S = 24 * 3600


class Interrupted(Exception):
    pass


def files_under(folder: Path) -> list[Path]:
    return sorted(p for p in folder.rglob("*") if p.is_file()) if folder.exists() else []


def age(path: Path, seconds: float) -> Path:
    """Make `path` look written `seconds` ago."""
    then = time.time() - seconds
    os.utime(path, (then, then))
    return path


def plant(path: Path, content: bytes = b"left behind", *, old: bool = True) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(content)
    return age(path, 2 * DAY_S) if old else path


# --- a stored name lives and dies with its row ------------------------------------------------


def test_an_upload_whose_transaction_rolls_back_leaves_no_file_in_the_store(_media_root):
    with pytest.raises(Interrupted), transaction.atomic():
        raw, created = services.raw_file_store(upload=upload("a.csv", CONTENT), uploaded_by=None)
        assert created and storage.raw_path(SHA).read_bytes() == CONTENT  # readable meanwhile
        raise Interrupted  # e.g. the measurement's next step failed
    assert not RawFile.objects.exists()
    assert files_under(_media_root / "raw") == []  # no stored name, no staged copy


@pytest.mark.django_db(transaction=True)
def test_a_measurement_rolled_back_after_its_files_were_stored_leaves_nothing(
    _media_root, monkeypatch
):
    def refused(*args, **kwargs):
        raise Interrupted("the analyses could not be queued")

    monkeypatch.setattr(services, "_start_analyses", refused)
    with pytest.raises(Interrupted):
        MeasurementFactory(uploads=[upload("a.csv", CONTENT), upload("b.csv", b"other\n")])
    assert not RawFile.objects.exists()
    assert files_under(_media_root) == []


@pytest.mark.django_db(transaction=True)
def test_a_committed_upload_keeps_its_file(_media_root):
    raw, _ = services.raw_file_store(upload=upload("a.csv", CONTENT), uploaded_by=None)
    assert files_under(_media_root / "raw") == [storage.raw_path(SHA)]
    assert storage.verify(raw.sha256)


def test_a_committed_row_keeps_its_content_when_an_uncommitted_upload_of_it_rolls_back(
    _media_root, django_capture_on_commit_callbacks
):
    """Another upload of the same bytes named the file and has not committed: this upload
    creates the row, keeps its own copy, and takes the name on commit, whatever the other
    upload's rollback removes meanwhile."""
    other = storage.store_chunks([CONTENT], name="other.csv")  # named, no committed row
    with django_capture_on_commit_callbacks(execute=True):
        raw, created = services.raw_file_store(upload=upload("a.csv", CONTENT), uploaded_by=None)
        assert created
        other.path.chmod(0o644)
        other.path.unlink()  # the other upload rolled back and removed the name it gave
    assert storage.verify(SHA)
    assert files_under(_media_root / "raw") == [storage.raw_path(SHA)]


def test_a_damaged_orphan_under_the_contents_name_gives_way_when_the_row_commits(
    _media_root, django_capture_on_commit_callbacks
):
    final = storage.raw_path(SHA)
    plant(final, b"damaged", old=False)  # a file no row names, not the content
    with django_capture_on_commit_callbacks(execute=True):
        raw, created = services.raw_file_store(upload=upload("a.csv", CONTENT), uploaded_by=None)
    assert created and storage.verify(SHA)
    assert files_under(_media_root / "raw") == [final]


def test_uploading_the_same_bytes_again_restores_a_lost_file(_media_root):
    services.raw_file_store(upload=upload("a.csv", CONTENT), uploaded_by=None)
    storage.raw_path(SHA).chmod(0o644)
    storage.raw_path(SHA).unlink()
    raw, created = services.raw_file_store(upload=upload("again.csv", CONTENT), uploaded_by=None)
    assert not created and raw.original_name == "a.csv"
    assert storage.verify(SHA) and files_under(_media_root / "raw") == [storage.raw_path(SHA)]


# --- no spool, temporary or lock files --------------------------------------------------------


def test_large_uploads_spool_under_media_root_and_the_spool_file_goes_with_the_request(
    settings, _media_root
):
    settings.FILE_UPLOAD_MAX_MEMORY_SIZE = 1000
    request = RequestFactory().post("/", {"files": upload("big.csv", b"1,2\n" * 2000)})
    spooled = request.FILES["files"]
    path = Path(spooled.temporary_file_path())
    assert path.parent == _media_root / "tmp" / "uploads"  # made when first needed
    assert path.read_bytes() == b"1,2\n" * 2000
    request.close()  # what Django does when the response is sent
    assert not path.exists() and files_under(_media_root / "tmp") == []


def test_a_lock_file_is_removed_on_release(tmp_path):
    lock = tmp_path / "parquet" / ".table.lock"
    with storage.lock_file(lock):
        assert lock.is_file()
    assert not lock.exists()


def _count_under_lock(lock: str, counter: str, rounds: int) -> None:
    for _ in range(rounds):
        with storage.lock_file(Path(lock)):
            value = int(Path(counter).read_text())
            time.sleep(0.0005)  # a lost update would show if two processes were in here
            Path(counter).write_text(str(value + 1))


def test_a_lock_file_removed_on_release_still_excludes_other_processes(tmp_path):
    lock, counter = tmp_path / ".table.lock", tmp_path / "counter"
    counter.write_text("0")
    context = multiprocessing.get_context("fork")
    workers = [
        context.Process(target=_count_under_lock, args=(str(lock), str(counter), 60))
        for _ in range(4)
    ]
    for process in workers:
        process.start()
    for process in workers:
        process.join(60)
    assert [p.exitcode for p in workers] == [0, 0, 0, 0]
    assert counter.read_text() == "240" and not lock.exists()


@pytest.mark.testdata("cyclers")
def test_no_lock_staging_or_temporary_files_are_left_after_an_analysis(_media_root, monkeypatch):
    from tests.characterization.test_jobs import NW4, cycler_upload, record, run_all

    monkeypatch.setattr(
        "characterization.jobs.tasks.analysis_job_run.apply_async", lambda *a, **k: 0
    )
    monkeypatch.setattr(
        "characterization.jobs.tasks.raw_file_inspect.apply_async", lambda *a, **k: 0
    )
    seed.analysis_definitions_seed()
    from tests.characterization.factories import CellFactory

    measurement = record(CellFactory().sample, cycler_upload(NW4))
    assert inspection.raw_file_inspect(raw_id=measurement.files.get().raw_file_id) == "read"
    outcomes = run_all(measurement)
    assert outcomes and set(outcomes.values()) == {"succeeded"}
    hidden = [p for p in files_under(_media_root) if p.name.startswith(".") or ".staging" in str(p)]
    assert hidden == []
    report = storage_check_run()
    assert report.counts() == {"missing": 0, "corrupt": 0, "orphan": 0, "leftover": 0}
    assert report.files_checked == 1 + sum(len(r.artifacts) for r in AnalysisResult.objects.all())


# --- storage_check ----------------------------------------------------------------------------


@pytest.fixture
def grace(settings):
    settings.KILN_STORAGE_GRACE_S = DAY_S
    return DAY_S


def _store(name: str, content: bytes) -> RawFile:
    return MeasurementFactory(uploads=[upload(name, content)]).files.get().raw_file


def test_storage_check_finds_an_orphan_a_missing_file_and_a_flipped_byte_repairing_the_orphan(
    _media_root, grace
):
    healthy = _store("healthy.csv", CONTENT)
    gone = _store("gone.csv", b"gone,1\n")
    flipped = _store("flipped.csv", b"flipped,1\n")
    orphan = age(storage.store_chunks([b"no row\n"], name="orphan.csv").path, 2 * DAY_S)
    young_orphan = storage.store_chunks([b"still uploading\n"], name="young.csv").path
    storage.raw_path(gone.sha256).chmod(0o644)
    storage.raw_path(gone.sha256).unlink()
    path = storage.raw_path(flipped.sha256)
    path.chmod(0o644)
    data = bytearray(path.read_bytes())
    data[3] ^= 0x01
    path.write_bytes(bytes(data))

    report = storage_check_run(repair=True)

    by_kind = {kind: [f.path for f in report.of(kind)] for kind in ("missing", "corrupt", "orphan")}
    assert by_kind == {
        "missing": [gone.relative_path],
        "corrupt": [flipped.relative_path],
        "orphan": sorted([_rel(orphan), _rel(young_orphan)]),
    }
    assert not orphan.exists() and young_orphan.exists()  # only the stale orphan is removed
    assert path.read_bytes() == bytes(data)  # reported, never "repaired"
    assert RawFile.objects.count() == 3 and storage.verify(healthy.sha256)
    missing, corrupt = report.of("missing")[0], report.of("corrupt")[0]
    code = gone.measurements.get().sample.code
    assert missing.message == (
        f"raw file #{gone.pk} “gone.csv” (sha256 {gone.sha256[:12]}…, {code}) is missing: "
        "restore it from the backup (or upload the same file again)"
    )
    assert corrupt.message.startswith(f"raw file #{flipped.pk} “flipped.csv” (sha256 ")
    assert "no longer hashes to its SHA-256 (it now reads as " in corrupt.message
    assert [f.action for f in report.of("orphan")] == (
        ["removed", ""] if _rel(orphan) < _rel(young_orphan) else ["", "removed"]
    )
    assert report.files_checked == 2  # the healthy and the flipped file were re-hashed
    assert len(report.open_problems) == 2


def _rel(path: Path) -> str:
    from django.conf import settings

    return path.relative_to(settings.MEDIA_ROOT).as_posix()


def test_without_repair_nothing_is_removed_and_the_command_exits_1(_media_root, grace, capsys):
    _store("ok.csv", CONTENT)
    orphan = age(storage.store_chunks([b"no row\n"], name="orphan.csv").path, 2 * DAY_S)
    with pytest.raises(SystemExit) as exited:
        call_command("storage_check", "--json")
    assert exited.value.code == 1 and orphan.exists()
    printed = json.loads(capsys.readouterr().out)
    assert printed["counts"] == {"missing": 0, "corrupt": 0, "orphan": 1, "leftover": 0}
    assert (printed["files_checked"], printed["open_problems"], printed["ok"]) == (1, 1, False)
    assert (
        printed["findings"][0]["message"] == f"{_rel(orphan)} (7 bytes): no raw file row names it"
    )

    call_command("storage_check", "--repair")  # exits 0: nothing left to do
    assert not orphan.exists()
    assert capsys.readouterr().out.rstrip().endswith("Everything matches.")


def test_leftovers_older_than_the_grace_period_are_removed_and_newer_ones_kept(_media_root, grace):
    parquet = _media_root / "parquet"
    old = [
        plant(storage.staging_root() / "upload-killed"),
        plant(storage.raw_root() / ".upload-from-before"),
        plant(_media_root / "tmp" / "uploads" / "tmpab12.upload.ndax"),
        plant(parquet / f".{'a' * 64}.p7.parquet.lock"),
        plant(parquet / ".tmp-x1.parquet"),
    ]
    young = plant(storage.staging_root() / "upload-in-progress", old=False)
    kept_cache = plant(parquet / f"{'a' * 64}.p7.parquet")  # the cache itself stays
    results = _media_root / "results" / ("c" * 64)  # tables of a result never recorded
    plant(results / "summary.csv")
    age(results, 2 * DAY_S)

    report = storage_check_run(repair=True)

    assert sorted(f.path for f in report.of("leftover")) == sorted(map(_rel, [*old, young]))
    assert [p for p in old if p.exists()] == []
    assert young.exists() and kept_cache.exists()
    assert [(f.path, f.action) for f in report.of("orphan")] == [(_rel(results), "removed")]
    assert not results.exists() and report.open_problems == []


def test_a_killed_upload_whose_row_committed_gets_its_file_back_from_the_staged_copy(
    _media_root, grace
):
    raw = _store("a.csv", CONTENT)
    storage.raw_path(SHA).chmod(0o644)
    storage.raw_path(SHA).unlink()  # killed between the commit and the naming
    staged = plant(storage.staging_root() / "upload-k1ll3d", CONTENT, old=False)
    report = storage_check_run(repair=True)
    assert [(f.path, f.action) for f in report.of("missing")] == [
        (raw.relative_path, "restored from a staged copy")
    ]
    assert storage.verify(SHA) and staged.exists()  # the young staged copy waits for its grace
    assert report.open_problems == []


def test_a_missing_or_corrupt_result_table_is_reported(_media_root, grace):
    table = _media_root / "results" / ("d" * 64) / "summary.csv"
    plant(table, b"cycle,capacity\n1,200\n", old=False)
    digest = hashlib.sha256(b"cycle,capacity\n1,200\n").hexdigest()
    AnalysisResult.objects.create(
        cache_key="d" * 64,
        kind="cycling_summary",
        kind_version=1,
        parser_version="7",
        artifacts=[
            {"name": "summary", "path": _rel(table), "sha256": digest, "size": 21},
            {"name": "cycles", "path": f"results/{'d' * 64}/cycles.csv", "sha256": digest},
        ],
    )
    table.write_bytes(b"cycle,capacity\n1,201\n")
    report = storage_check_run()
    assert [(f.kind, f.path) for f in report.findings] == [
        ("corrupt", _rel(table)),
        ("missing", f"results/{'d' * 64}/cycles.csv"),
    ]
    assert report.findings[1].message == (
        f"result table “cycles” of result {'d' * 12}… is missing: restore it from the backup"
    )


def test_the_latest_report_is_kept_for_the_dashboard(_media_root, grace):
    assert latest_report() is None
    _store("gone.csv", CONTENT)
    storage.raw_path(SHA).chmod(0o644)
    storage.raw_path(SHA).unlink()
    storage_check_run()
    latest = latest_report()
    assert (latest["ok"], latest["overdue"], latest["counts"]["missing"]) == (False, False, 1)
    assert latest["problems"][0]["message"].endswith(
        "is missing: restore it from the backup (or upload the same file again)"
    )


def test_lab_managers_see_the_latest_storage_check_on_the_dashboard(
    client, manager, chemist, _media_root, grace
):
    _store("gone.csv", CONTENT)
    storage.raw_path(SHA).chmod(0o644)
    storage.raw_path(SHA).unlink()
    client.force_login(manager)
    assert "File store</th><td>never checked" in client.get("/").content.decode()
    storage_check_run()
    page = client.get("/").content.decode()
    assert "File store" in page and "1 problem" in page
    assert "“gone.csv”" in page and "is missing: restore it from the backup" in page
    client.force_login(chemist)
    assert "File store" not in client.get("/").content.decode()


def test_beat_runs_the_storage_check_weekly():
    from django.conf import settings

    from characterization.tasks import storage_check

    entry = settings.CELERY_BEAT_SCHEDULE["kiln-storage-check"]
    assert entry["task"] == storage_check.name == "characterization.storage_check"
    assert (entry["schedule"].day_of_week, entry["schedule"].hour) == ({0}, {3})
