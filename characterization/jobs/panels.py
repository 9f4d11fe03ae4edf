"""What the analyses add to a sample's page (lims.panels): a cell's cycling results, and for a
powder the cells made from it that can be compared. A fixed number of queries per sample."""

from __future__ import annotations

from django.urls import reverse

from characterization.jobs.models import AnalysisJob, JobStatus
from characterization.jobs.queries import IN_USE
from lims import panels
from lims.models import SampleKind

POWDER_KINDS = (SampleKind.CATHODE, SampleKind.PRECURSOR)


def analyses_panel(sample, lineage) -> panels.Panel | None:
    if sample.kind == SampleKind.CELL:
        cell_ids = [sample.pk]
    elif sample.kind in POWDER_KINDS:
        cell_ids = [
            s.pk for s in lineage.descendants if s.kind == SampleKind.CELL and s.voided_at is None
        ]
    else:
        return None
    done = list(
        AnalysisJob.objects.filter(
            IN_USE,
            kind="cycling_summary",
            status=JobStatus.SUCCEEDED,
            measurement__subject_id__in=cell_ids,
        )
        .select_related("measurement__subject", "raw_file", "result")
        .order_by("-finished_at")[:20]
    )
    if not done:
        return None
    rows = [_row(job) for job in done]
    cells = {job.measurement.subject.code for job in done}
    compare = reverse("jobs:compare") + (
        f"?groups={sample.code}" if sample.kind in POWDER_KINDS else f"?cells={sample.code}"
    )
    context = {"rows": rows, "cell_count": len(cells), "compare_url": compare, "sample": sample}
    return panels.Panel("Cycling results", "characterization/jobs/_sample_panel.html", context, 60)


def _row(job: AnalysisJob) -> dict:
    cycles = [c for c in job.result.summary.get("cycles", []) if c.get("complete")]
    first = cycles[0] if cycles else {}
    return {
        "job": job,
        "cell": job.measurement.subject.code,
        "cycles": len(cycles),
        "first_discharge_mah_g": first.get("discharge_capacity_mah_g"),
        "first_efficiency": first.get("coulombic_efficiency"),
        "flags": len(job.result.flags),  # warnings that the numbers may be wrong
    }


def register_all() -> None:
    panels.register(analyses_panel)


__all__ = ["analyses_panel", "register_all"]
