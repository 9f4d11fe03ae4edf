"""benchmarks/cycling.py's "job" contender: a worker's whole path for one uploaded cycler file.

The file is recorded on a coin cell through the service the upload page uses (stored, its
default cycling analyses queued; sending to the broker is left out, as in the tests), then its
jobs run one after the other in this process as one Celery worker runs them: the first parses
the file and writes the Parquet cache, the others are handed its table (jobs.table_memo), and
each stores its result (summary JSON, tables, figure) in PostgreSQL and under MEDIA_ROOT. Only
the job runs are timed.

The database (BENCH_CYCLING_DATABASE_URL, default kiln_bench_cycling on the local server) is
dropped, created and migrated once per benchmark run by `prepare_database`; every timed run
adds one cell with another active mass and removes the file's cached table first, so rounds
never reuse another round's cache or results.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlsplit

REPO = Path(__file__).resolve().parents[1]
URL = os.environ.get(
    "BENCH_CYCLING_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/kiln_bench_cycling"
)


def environment(var_dir: Path) -> dict[str, str]:
    """The worker process's settings: production-like (DEBUG off), its own database and files."""
    return dict(
        os.environ,
        DJANGO_SETTINGS_MODULE="lims.settings",
        DATABASE_URL=URL,
        DEBUG="0",
        SECRET_KEY="bench-" + "x" * 50,
        ALLOWED_HOSTS="127.0.0.1",
        KILN_VAR_DIR=str(var_dir),
        MEDIA_ROOT=str(var_dir / "media"),
        LOG_LEVEL="WARNING",
    )


def prepare_database(var_dir: Path) -> None:
    """Drop, create and migrate the benchmark's database (about half a minute)."""
    parts = urlsplit(URL)
    admin = parts._replace(path="/postgres").geturl()
    name = parts.path.lstrip("/")
    import psycopg

    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')
    subprocess.run(
        [sys.executable, "manage.py", "migrate", "--verbosity", "0"],
        cwd=REPO, env=environment(var_dir), check=True,
    )  # fmt: skip


def drop_database() -> None:
    import psycopg

    parts = urlsplit(URL)
    with psycopg.connect(parts._replace(path="/postgres").geturl(), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{parts.path.lstrip("/")}" WITH (FORCE)')


_ready = False


def _setup() -> None:
    global _ready
    if _ready:
        return
    sys.path.insert(0, str(REPO))
    import django

    django.setup()
    from characterization.jobs import tasks

    # no broker in this process: the jobs are run below, as a worker would run them
    tasks.analysis_job_run.apply_async = lambda *args, **kwargs: None
    tasks.raw_file_inspect.apply_async = lambda *args, **kwargs: None
    _ready = True


def work_job(path: str) -> dict:
    """Record `path` on a new cell, run its queued jobs; "timed_s" is the jobs' time alone."""
    _setup()
    from django.core.files.uploadedfile import SimpleUploadedFile

    from characterization import services
    from characterization.jobs import cache, run
    from characterization.jobs.models import AnalysisJob, JobStatus
    from characterization.models import CoinCell
    from tests.characterization.factories import CellFactory

    # another disc mass each time: another active mass, so no earlier result is reused
    cell = CellFactory(disc_mass_mg=11.0 + CoinCell.objects.count() / 1000).sample
    upload = SimpleUploadedFile(Path(path).name, Path(path).read_bytes())
    measurement = services.measurement_record(
        subject=cell, measurement_type="cycling", operator=None, uploads=[upload]
    ).measurement
    raw = measurement.files.get().raw_file
    cache.table_path(raw).unlink(missing_ok=True)  # an earlier run's: the first job parses
    jobs = list(
        AnalysisJob.objects.filter(measurement=measurement, status=JobStatus.QUEUED).order_by("id")
    )
    phases, start = {}, time.perf_counter()
    for job in jobs:
        began = time.perf_counter()
        outcome = run.analysis_job_run(job_id=job.pk, worker="bench@local")
        if outcome != "succeeded":
            error = AnalysisJob.objects.get(pk=job.pk).error
            raise RuntimeError(f"{job.kind} job {outcome}: {error}")
        phases[job.kind] = time.perf_counter() - began
    timed = time.perf_counter() - start
    done = AnalysisJob.objects.filter(measurement=measurement).select_related("result")
    summary = next((j.result.summary for j in done if j.kind == "cycling_summary"), {})
    return {"phases": phases, "timed_s": timed, "rows": _cached_rows(),
            "cycles": len(summary.get("cycles", []))}  # fmt: skip


def _cached_rows() -> int:
    """Rows of the newest Parquet cache (the normalised table the first job wrote)."""
    import pyarrow.parquet as pq
    from django.conf import settings

    newest = max(Path(settings.MEDIA_ROOT).rglob("*.parquet"), key=lambda p: p.stat().st_mtime)
    return pq.ParquetFile(newest).metadata.num_rows
