"""Every shared instrument file truncated at several points, bit-flipped with fixed seeds,
emptied and renamed, through the command and through an upload on a real worker: zero
tracebacks, zero hangs, and never a success without a warning where the numbers differ from
the clean file's."""

from __future__ import annotations

import json
import signal
from contextlib import contextmanager
from io import StringIO

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command

from characterization.jobs import seed
from characterization.jobs.models import AnalysisDefinition, JobStatus
from characterization.models import RawFile, ReadState
from tests.characterization.corpus import NAMES, Variant, differs, variants
from tests.characterization.factories import CellFactory
from tests.characterization.parser_reference import cycler_data_dir, parsed
from tests.characterization.test_jobs import record, wait_for

pytestmark = pytest.mark.testdata("cyclers")

HANG_S = 60
ANODE = {"neware_btsda_export_uio.csv"}  # a discharge-first anode half-cell


@contextmanager
def no_hang(what: str, seconds: int = HANG_S):
    def alarm(signum, frame):
        raise TimeoutError(f"{what} still running after {seconds} s")

    previous = signal.signal(signal.SIGALRM, alarm)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


def active_mass_mg(name: str) -> float:
    """A mass that makes the clean file's largest capacity 200 mAh/g (plausible numbers, so
    that a warning on a damaged copy comes from the damage)."""
    try:
        table = parsed(name).table
    except ValueError:  # not a cycling file: any mass
        return 5.0
    peak = float((table["charge_capacity_mah"] + table["discharge_capacity_mah"]).max())
    return max(peak, 1e-6) / 200.0 * 1000.0


def analyze(path, name: str) -> dict:
    out = StringIO()
    call_command(
        "analyze_cycling",
        str(path),
        active_mass_mg=active_mass_mg(name),
        electrode="anode" if name in ANODE else "cathode",
        json=True,
        stdout=out,
    )
    return json.loads(out.getvalue())


def outcome(path, name: str) -> dict | str:
    """The report, or the one-line error of an unreadable file (anything else fails)."""
    try:
        with no_hang(path.name):
            return analyze(path, name)
    except CommandError as exc:
        message = str(exc)
        assert "\n" not in message and message.strip(), f"{path.name}: {message!r}"
        return message


@pytest.mark.parametrize("name", NAMES)
def test_damaged_copies_through_the_command_fail_with_a_sentence_or_warn(name, tmp_path):
    source = cycler_data_dir() / name
    clean = outcome(source, name)
    silent = []
    for variant in variants(name, source.read_bytes()):
        path = tmp_path / variant.label / variant.file_name
        path.parent.mkdir()
        path.write_bytes(variant.data)
        result = outcome(path, name)
        if isinstance(result, str):
            assert variant.data == b"" or variant.file_name in result or name in result
            continue
        assert isinstance(clean, dict), f"{variant.label}: read although the clean file is not"
        changed = differs(result, clean)
        if changed and not result["warnings"]:
            silent.append(f"{variant.label}: cycles {changed} differ, no warning")
    assert not silent, silent


@pytest.mark.services
@pytest.mark.django_db(transaction=True)
def test_damaged_copies_uploaded_on_a_real_worker_end_with_a_sentence_or_a_warning(
    celery_worker, transactional_db
):
    seed.analysis_definitions_seed()
    AnalysisDefinition.objects.exclude(kind="cycling_summary").update(enabled=False)
    cell = CellFactory()
    uploads: list[tuple[Variant, object]] = []
    for name in NAMES:
        data = (cycler_data_dir() / name).read_bytes()
        for variant in variants(name, data):
            if variant.label not in ("truncated-50%", "flipped-seed-1", "renamed-no-extension"):
                continue
            upload = SimpleUploadedFile(variant.file_name, variant.data)
            uploads.append((variant, record(cell.sample, upload)))

    def settled():
        jobs = [j for _, m in uploads for j in m.analysis_jobs.all()]
        raws = RawFile.objects.all()
        busy = [j for j in jobs if j.status in (JobStatus.QUEUED, JobStatus.RUNNING)]
        waiting = raws.filter(read_state__in=[ReadState.PENDING, ReadState.RECOGNISED])
        return not busy and not waiting.exists()

    assert wait_for(settled, timeout_s=240, interval_s=1.0), celery_worker.log()
    problems = []
    for variant, measurement in uploads:
        raw = measurement.files.get().raw_file
        raw.refresh_from_db()
        assert raw.read_message, f"{variant.label} of {variant.source}: nothing said about it"
        for job in measurement.analysis_jobs.all():
            if job.status == JobStatus.FAILED:
                if "internal error" in job.error or raw.original_name not in job.error:
                    problems.append(f"{variant.source} {variant.label}: {job.error}")
                continue
            assert job.status == JobStatus.SUCCEEDED
            clean = _clean_cycles(variant.source, job)
            changed = differs({"cycles": job.result.summary["cycles"]}, {"cycles": clean})
            if changed and not job.result.warnings:
                problems.append(f"{variant.source} {variant.label}: cycles {changed}, no warning")
    assert not problems, problems


def _clean_cycles(name: str, job) -> list[dict]:
    """The clean file's cycles under the same cell context, computed in this process."""
    from characterization.analysis.report import CellFacts, cycling_assessment

    context = job.cell_context
    facts = CellFacts(
        active_mass_mg=job.active_mass_mg,
        electrode=context.get("electrode", "cathode"),
        formula=context.get("formula"),
        capacity_ceiling_mah_g=context.get("capacity_ceiling_mah_g"),
    )
    summary, _ = cycling_assessment(parsed(name).table, facts)
    return summary.to_dict(orient="records")
