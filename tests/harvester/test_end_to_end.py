"""The harvester end to end (issue 11 §2): Kiln under gunicorn, a real Celery worker, Redis and
PostgreSQL; a cycler folder where the test writes a Neware .ndax in pieces; the server stopped
and restarted on the way. Every version arrives exactly once, and the newest version's analysis
is the analysis of the whole file."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from characterization.analysis.report import cycling_report
from characterization.harvest import SUPERSEDED
from characterization.jobs import seed
from characterization.jobs.models import AnalysisJob, JobStatus
from characterization.models import HarvestedFile, MeasurementFile, RawFile
from lims.token_models import TokenScope
from lims.token_services import api_token_create
from tests.characterization.factories import CellFactory
from tests.characterization.parser_reference import cycler_data_dir, parsed
from tests.characterization.test_jobs import DEFAULT_KINDS, NW4, record, wait_for
from tests.fixtures.worker import REPO
from tests.harvester.server import ServerProcess
from tests.lims.factories import UserFactory

pytestmark = [
    pytest.mark.services,
    pytest.mark.testdata("cyclers"),
    pytest.mark.django_db(transaction=True),
]

SCRIPT = REPO / "harvester" / "kiln_harvest.py"
FINISHED = (JobStatus.SUCCEEDED, JobStatus.FAILED, JobStatus.CANCELLED)


@pytest.fixture
def server(transactional_db, tmp_path):
    kiln = ServerProcess(tmp_path / "gunicorn.log")
    kiln.start()
    yield kiln
    kiln.stop()


def write(path: Path, content: bytes, mtime: float) -> None:
    """What the cycler software does: (re)write its file."""
    path.write_bytes(content)
    os.utime(path, (mtime, mtime))


def sha(content: bytes) -> str:
    return hashlib.sha256(content).hexdigest()


def finished(measurement, count: int):
    jobs = list(measurement.analysis_jobs.all())
    return jobs if len(jobs) == count and all(j.status in FINISHED for j in jobs) else None


def test_a_growing_neware_file_arrives_once_per_version_across_a_server_restart(
    celery_worker, server, tmp_path
):
    seed.analysis_definitions_seed()
    pc = UserFactory(username="neware-pc", groups=["chemist"])
    _, key = api_token_create(user=pc, name="Neware PC", scope=TokenScope.UPLOAD, expires_at=None)
    token = tmp_path / "token.txt"
    token.write_text(key + "\n")
    state = tmp_path / "pc" / "kiln-harvest.json"
    cell = CellFactory()
    (tmp_path / "NewareData" / "unit3-ch5").mkdir(parents=True)
    running = tmp_path / "NewareData" / "unit3-ch5" / f"{cell.sample.code}_0.1C.ndax"
    path = f"NewareData/unit3-ch5/{cell.sample.code}_0.1C.ndax"
    whole = (cycler_data_dir() / NW4).read_bytes()
    part = whole[: len(whole) * 6 // 10]  # a truncated .ndax: a damaged zip, its jobs fail
    started = time.time() - 3600

    def harvest() -> subprocess.CompletedProcess:
        argv = [sys.executable, str(SCRIPT), "--server", server.url, "--token-file", str(token),
                "--source", "neware-unit3", "--watch", str(tmp_path / "NewareData"),
                "--channel-from-folder", "--stable-seconds", "0", "--state", str(state),
                "--once", "--retries", "2", "--max-backoff", "0.5"]  # fmt: skip
        return subprocess.run(argv, capture_output=True, text=True, timeout=120, cwd=tmp_path)

    def versions() -> list[tuple[int, str]]:
        harvested = HarvestedFile.objects.get(source="neware-unit3", path=path)
        return [(v.version, v.raw_file.sha256) for v in harvested.versions.order_by("version")]

    # The test has been running for a while: the first part of the file is there.
    write(running, part, started + 600)
    first = harvest()
    assert first.returncode == 0, first.stderr + server.log()
    assert versions() == [(1, sha(part))]
    harvested = HarvestedFile.objects.get()
    measurement = harvested.measurement
    assert (harvested.placement, harvested.channel, measurement.subject) == (
        "code", "unit3-ch5", cell.sample
    )  # fmt: skip

    # Kiln is down while the test finishes: the harvester keeps its state and says so.
    server.stop()
    write(running, whole, started + 1800)
    down = harvest()
    assert down.returncode == 1, down.stderr
    assert json.loads(state.read_text())["sent"][path]["sha256"] == sha(part)
    assert RawFile.objects.count() == 1

    # Kiln is back: the whole file arrives as version 2, once.
    server.start()
    back = harvest()
    assert back.returncode == 0, back.stderr + server.log()
    assert versions() == [(1, sha(part)), (2, sha(whole))]
    # Nothing more: neither from the state file, nor, without it, from Kiln's own answer.
    assert harvest().returncode == 0
    state.unlink()
    assert harvest().returncode == 0
    assert versions() == [(1, sha(part)), (2, sha(whole))]
    assert RawFile.objects.count() == 2
    assert MeasurementFile.objects.filter(measurement=measurement).count() == 2
    assert running.read_bytes() == whole  # the PC's file untouched

    # The worker analysed the newest version; the older one is kept, void, not analysed.
    jobs = wait_for(lambda: finished(measurement, 2 * len(DEFAULT_KINDS)), 120)
    assert jobs, celery_worker.log()
    old, new = (RawFile.objects.get(sha256=sha(content)) for content in (part, whole))
    assert (old.void_reason, new.voided_at) == (SUPERSEDED, None)
    assert {j.status for j in jobs if j.raw_file_id == old.pk} <= {
        JobStatus.FAILED, JobStatus.CANCELLED
    }  # fmt: skip
    newest = {j.kind: j for j in jobs if j.raw_file_id == new.pk}
    assert {k: j.status for k, j in newest.items()} == dict.fromkeys(
        DEFAULT_KINDS, JobStatus.SUCCEEDED
    )
    assert newest["cycling_summary"].worker == celery_worker.hostname

    # The same analysis as the whole file uploaded directly, and as computed here from it.
    direct = record(CellFactory(electrode=cell.electrode).sample, SimpleUploadedFile(NW4, whole))
    direct_jobs = wait_for(lambda: finished(direct, len(DEFAULT_KINDS)), 120)
    assert direct_jobs, celery_worker.log()
    summary = newest["cycling_summary"].result.summary
    direct_summary = AnalysisJob.objects.get(measurement=direct, kind="cycling_summary").result
    assert summary == direct_summary.summary
    report = cycling_report(parsed(NW4).table, active_mass_mg=cell.active_mass_mg)
    stored = {row["cycle"]: row for row in summary["cycles"]}
    for expected in report["cycles"]:
        assert stored[expected["cycle"]]["discharge_capacity_mah_g"] == pytest.approx(
            expected["discharge_capacity_mah_g"], rel=1e-9
        )
