"""Comparing cells: their newest cycling summaries, alone (one line each) or grouped under the
powders they were made from (mean ± sd), flagged results left out unless asked for."""

from __future__ import annotations

from dataclasses import dataclass, field

from characterization import comparison
from characterization.jobs.models import AnalysisJob, JobStatus
from characterization.jobs.presenting import Figure
from characterization.jobs.queries import IN_USE, LIST_LIMIT
from characterization.jobs.result_warnings import Warnings, warning_row, warnings_of
from characterization.models import CoinCell
from lims.lineage import descendant_depths
from lims.models import Sample, SampleKind

COMPARE_KIND = "cycling_summary"


def cells_with_results() -> list[CoinCell]:
    """Coin cells that have a succeeded cycling summary, newest first."""
    cell_ids = (
        AnalysisJob.objects.filter(IN_USE, kind=COMPARE_KIND, status=JobStatus.SUCCEEDED)
        .values_list("measurement__subject_id", flat=True)
        .distinct()
    )
    return list(
        CoinCell.objects.select_related("sample", "electrode__active_material")
        .filter(sample_id__in=cell_ids, sample__voided_at__isnull=True)
        .order_by("-sample__created_at")[:LIST_LIMIT]
    )


def flagged_cell_ids(cell_sample_ids) -> set[int]:
    """The cells whose newest cycling summary has a flag warning (one query, warnings only)."""
    newest: dict[int, list] = {}
    rows = (
        AnalysisJob.objects.filter(
            IN_USE,
            kind=COMPARE_KIND,
            status=JobStatus.SUCCEEDED,
            measurement__subject_id__in=list(cell_sample_ids),
        )
        .order_by("-finished_at", "-id")
        .values_list("measurement__subject_id", "result__warnings")
    )
    for cell_id, warnings in rows:
        newest.setdefault(cell_id, warnings or [])
    return {
        cell_id
        for cell_id, warnings in newest.items()
        if any(warning_row(w).is_flag for w in warnings)
    }


def powders_with_results(cells: list[CoinCell]) -> list[Sample]:
    """The cathode powders the cells were made from (a group choice each)."""
    ids = {cell.electrode.active_material_id for cell in cells}
    return list(Sample.objects.filter(pk__in=ids).order_by("code"))


def cycling_jobs_by_cell(cell_sample_ids) -> dict[int, AnalysisJob]:
    """Per cell sample id: its newest succeeded cycling summary (job with its result)."""
    newest: dict[int, AnalysisJob] = {}
    done = (
        AnalysisJob.objects.filter(
            IN_USE,
            kind=COMPARE_KIND,
            status=JobStatus.SUCCEEDED,
            measurement__subject_id__in=list(cell_sample_ids),
        )
        .select_related("result", "measurement")
        .defer("result__figures")
        .order_by("-finished_at", "-id")
    )
    for job in done:
        newest.setdefault(job.measurement.subject_id, job)
    return newest


def cycling_rows_by_cell(cell_sample_ids) -> dict[int, list[dict]]:
    """Per cell sample id: the per-cycle rows of its newest succeeded cycling summary."""
    return {
        cell_id: job.result.summary.get("cycles", [])
        for cell_id, job in cycling_jobs_by_cell(cell_sample_ids).items()
    }


def groups_for(samples: list[Sample]) -> dict[Sample, list[int]]:
    """Cell sample ids under each chosen sample; a cell under several chosen samples belongs to
    the nearest (pristine vs its coated child: the coated cells are not pristine replicates)."""
    nearest: dict[int, tuple[int, Sample]] = {}
    for sample in samples:
        if sample.kind == SampleKind.CELL:
            nearest[sample.pk] = (0, sample)
            continue
        for sample_id, depth in descendant_depths(sample.pk).items():
            if sample_id not in nearest or depth < nearest[sample_id][0]:
                nearest[sample_id] = (depth, sample)
    cells = set(
        CoinCell.objects.filter(sample_id__in=list(nearest)).values_list("sample_id", flat=True)
    )
    grouped: dict[Sample, list[int]] = {sample: [] for sample in samples}
    for sample_id in sorted(cells):
        grouped[nearest[sample_id][1]].append(sample_id)
    return grouped


@dataclass(frozen=True)
class FlaggedCell:
    """A cell whose newest cycling summary has flag warnings (its numbers may be wrong)."""

    code: str
    group: str  # the series it belongs to ("" for a cell chosen alone)
    flags: Warnings
    job_pk: int
    included: bool


@dataclass(frozen=True)
class Comparison:
    figures: list[Figure]
    table: list[dict]
    missing: list[str]  # chosen samples without any cycling result
    flagged: list[FlaggedCell] = field(default_factory=list)
    include_flagged: bool = False
    emptied: list[str] = field(default_factory=list)  # series left without any cell


def compare(
    *, cells: list[Sample], groups: list[Sample], include_flagged: bool = False
) -> Comparison:
    """Cells alone (one line each) and groups (mean ± sd over their cells) on one figure.
    Cells whose newest cycling summary is flagged are left out unless `include_flagged`."""
    grouped = groups_for(groups)
    wanted = {c.pk for c in cells} | {i for ids in grouped.values() for i in ids}
    codes = dict(Sample.objects.filter(pk__in=wanted).values_list("pk", "code"))
    newest = cycling_jobs_by_cell(wanted)
    series: dict[str, list[comparison.Member]] = {}
    jobs_by_code: dict[str, AnalysisJob] = {}
    missing = []

    def member(cell_id: int) -> comparison.Member:
        job = newest[cell_id]
        code = codes.get(cell_id, str(cell_id))
        jobs_by_code[code] = job
        return comparison.Member(code, job.result.summary.get("cycles", []), job.result.flags)

    for cell in cells:
        if cell.pk in newest:
            series[cell.code] = [member(cell.pk)]
        else:
            missing.append(cell.code)
    group_names = []
    for sample, ids in grouped.items():
        members = [member(i) for i in ids if i in newest]
        if members:
            group_names.append(f"{sample.code} {sample.name}")
            series[group_names[-1]] = members
        else:
            missing.append(sample.code)
    kept, left_out = comparison.leave_out_flagged(series, include=include_flagged)
    flagged = [_flagged_cell(item, jobs_by_code, cells) for item in left_out]
    emptied = [name for name in group_names if name not in kept]
    if not kept:
        return Comparison([], [], missing, flagged, include_flagged, emptied)
    figures = [
        Figure(f"cmp-{q}", q, comparison.overlay_figure(kept, q))
        for q in ("discharge_capacity_mah_g", "mean_discharge_voltage_v")
    ]
    table = comparison.group_table(kept)
    for row in table:
        row["flagged"] = sum(1 for m in kept[row["group"]] if m.flags)
    return Comparison(figures, table, missing, flagged, include_flagged, emptied)


def _flagged_cell(item: comparison.LeftOut, jobs_by_code, cells: list[Sample]) -> FlaggedCell:
    code = item.member.label
    alone = item.group == code and any(c.code == code for c in cells)
    return FlaggedCell(
        code=code,
        group="" if alone else item.group,
        flags=warnings_of(warning_row(w) for w in item.member.flags),
        job_pk=jobs_by_code[code].pk,
        included=item.included,
    )
