"""Reads of analysis jobs and results shared by the jobs pages, the measurement page, the sample
panel and the admin."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
from django.conf import settings
from django.db.models import Count, Q, QuerySet

from characterization import comparison, job_services
from characterization.analysis import registry
from characterization.models import (
    ACTIVE_STATUSES,
    AnalysisDefinition,
    AnalysisJob,
    AnalysisResult,
    CoinCell,
    JobStatus,
    Measurement,
)
from lims.lineage import descendant_depths
from lims.models import Sample, SampleKind

LIST_LIMIT = 200
COMPARE_KIND = "cycling_summary"
# Figures a result page draws first, in this order; any others follow.
FIGURE_ORDER = ("capacity", "mean_voltage", "dqdv", "rate")


def jobs() -> QuerySet[AnalysisJob]:
    return AnalysisJob.objects.select_related(
        "definition", "raw_file", "measurement__sample", "measurement__subject", "result"
    )


@dataclass(frozen=True)
class JobFilters:
    status: str = ""
    q: str = ""


def jobs_for_index(filters: JobFilters) -> list[AnalysisJob]:
    rows = jobs().defer("result__summary", "result__figures")
    if filters.status:
        rows = rows.filter(status=filters.status)
    if filters.q:
        q = filters.q
        rows = rows.filter(
            Q(measurement__sample__code__icontains=q)
            | Q(measurement__subject__code__icontains=q)
            | Q(measurement__subject__name__icontains=q)
            | Q(raw_file__original_name__icontains=q)
            | Q(definition__name__icontains=q)
            | Q(raw_file__sha256__startswith=q.lower())
        )
    return list(rows[:LIST_LIMIT])


def status_counts() -> dict[str, int]:
    counts = dict(
        AnalysisJob.objects.values_list("status").annotate(n=Count("id")).values_list("status", "n")
    )
    return {status: counts.get(status, 0) for status in JobStatus.values}


def any_active(rows) -> bool:
    return any(job.status in ACTIVE_STATUSES for job in rows)


def job_detail(pk: int) -> AnalysisJob:
    """The job with its definition, file, measurement and result (raises DoesNotExist)."""
    return jobs().select_related("created_by", "measurement__operator").get(pk=pk)


def job_status(pk: int) -> AnalysisJob:
    """Only what the progress partial shows, for polling every 2 s."""
    return AnalysisJob.objects.only(
        "status",
        "progress_percent",
        "progress_message",
        "error",
        "attempts",
        "worker",
        "started_at",
        "finished_at",
        "heartbeat_at",
        "enqueued_at",
        "reused",
    ).get(pk=pk)


def jobs_of_measurement(measurement: Measurement) -> list[AnalysisJob]:
    return list(
        jobs()
        .defer("result__summary", "result__figures")
        .filter(measurement=measurement)
        .order_by("raw_file_id", "definition__name", "-created_at")
    )


def latest_results_of_measurement(measurement: Measurement) -> list[AnalysisJob]:
    """The newest succeeded job per (definition, file), with its result (figures included)."""
    seen, latest = set(), []
    rows = jobs().filter(measurement=measurement, status=JobStatus.SUCCEEDED)
    for job in rows.order_by("raw_file_id", "definition__name", "-finished_at", "-id"):
        key = (job.definition_id, job.raw_file_id)
        if key not in seen:
            seen.add(key)
            latest.append(job)
    return latest


def finished_count(measurement: Measurement) -> int:
    return (
        AnalysisJob.objects.filter(measurement=measurement)
        .exclude(status__in=ACTIVE_STATUSES)
        .count()
    )


def runnable_definitions() -> QuerySet[AnalysisDefinition]:
    return AnalysisDefinition.objects.filter(enabled=True).order_by("name")


def measurement_by_code(code: str) -> Measurement:
    return Measurement.objects.select_related("sample", "subject").get(sample__code=code)


# --- presenting a result ----------------------------------------------------------------------


@dataclass(frozen=True)
class Figure:
    dom_id: str
    name: str
    figure: dict

    @property
    def data_id(self) -> str:
        return f"{self.dom_id}-data"


def figures_of(job: AnalysisJob) -> list[Figure]:
    """The result's plotly figures in reading order, each with a page-unique element id."""
    if job.result is None:
        return []
    figures = job.result.figures or {}
    names = [n for n in FIGURE_ORDER if n in figures] + sorted(
        n for n in figures if n not in FIGURE_ORDER
    )
    return [Figure(f"fig-{job.pk}-{name}", name, figures[name]) for name in names]


def summary_rows(job: AnalysisJob) -> list[tuple[str, str]]:
    """The result summary as (label, text) pairs: scalars only, long lists left to the tables."""
    if job.result is None:
        return []
    rows = []
    for key, value in (job.result.summary or {}).items():
        if isinstance(value, (list, dict)):
            rows.append((_label(key), f"{len(value)} row(s): see the tables and plots"))
        elif key.endswith("efficiency") and isinstance(value, float):
            rows.append((_label(key), f"{100 * value:.2f} %"))
        else:
            rows.append((_label(key), _text(value)))
    return rows


# Unit suffixes of Kiln's field names (longest first) and how a person writes them.
UNIT_SUFFIXES = (
    ("_mv_per_cycle", "mV/cycle"),
    ("_mah_per_v", "mAh/V"),
    ("_ma_per_g", "mA/g"),
    ("_mah_g", "mAh/g"),
    ("_mwh_g", "mWh/g"),
    ("_mah", "mAh"),
    ("_mwh", "mWh"),
    ("_mv", "mV"),
    ("_ma", "mA"),
    ("_mg", "mg"),
    ("_v", "V"),
    ("_s", "s"),
    ("_percent", "%"),
)


def _label(key: str) -> str:
    """ "discharge_capacity_mah_g" -> "Discharge capacity (mAh/g)"."""
    for suffix, unit in UNIT_SUFFIXES:
        if key.endswith(suffix):
            return f"{key[: -len(suffix)].replace('_', ' ').capitalize()} ({unit})"
    return key.replace("_", " ").capitalize()


def _text(value) -> str:
    if value is None:
        return "–"
    if isinstance(value, float):
        return f"{value:.6g}"
    return str(value)


def cached_table(raw, measurement: Measurement) -> pd.DataFrame | None:
    """The file's normalised table if an analysis has cached it (never parses in a request);
    a generic table's is the one read through its instrument's current column mapping."""
    mapping = job_services.column_mapping_of(measurement, raw)
    path = job_services.parquet_path(raw.sha256, mapping)
    if not path.is_file():
        return None
    try:
        return pd.read_parquet(path)
    except Exception:  # a damaged cache: the next analysis rebuilds it
        return None


def cycling_file(measurement: Measurement, sha256: str):
    return next((r for r in job_services.cycling_files(measurement) if r.sha256 == sha256), None)


def artifact_file(result: AnalysisResult, name: str) -> Path | None:
    artifact = result.artifact(name)
    if artifact is None:
        return None
    path = (Path(settings.MEDIA_ROOT) / artifact["path"]).resolve()
    root = Path(settings.MEDIA_ROOT).resolve()
    return path if path.is_relative_to(root) and path.is_file() else None


def provenance(job: AnalysisJob) -> list[tuple[str, str]]:
    kind_title = _kind_title(job.kind)
    mass = "none" if job.active_mass_mg is None else f"{job.active_mass_mg:.4f} mg"
    mapping = job.column_mapping or {}
    file_format = "generic table" if mapping else (job.raw_file.detected_format or "?")
    rows = [
        ("Input file", f"{job.raw_file.original_name} ({file_format})"),
        ("Input SHA-256", ", ".join(job.input_checksums)),
        ("Analysis", f"{kind_title} ({job.kind}), version {job.kind_version or '?'}"),
        ("Parser version", job.parser_version or "?"),
        ("Parameters", json.dumps(job.parameters, sort_keys=True)),
        ("Active mass", mass),
        ("Cache key", job.cache_key or "–"),
    ]
    if mapping:
        name, instrument = mapping.get("name", "?"), mapping.get("instrument", "?")
        rows.insert(2, ("Column mapping", f"{name} (instrument {instrument})"))
    return rows


def _kind_title(key: str) -> str:
    try:
        registry.kinds()
        return registry.get_kind(key).title
    except Exception:  # a kind removed from the code: show its key
        return key


# --- comparison -------------------------------------------------------------------------------


def cells_with_results() -> list[CoinCell]:
    """Coin cells that have a succeeded cycling summary, newest first."""
    cell_ids = (
        AnalysisJob.objects.filter(kind=COMPARE_KIND, status=JobStatus.SUCCEEDED)
        .values_list("measurement__subject_id", flat=True)
        .distinct()
    )
    return list(
        CoinCell.objects.select_related("sample", "electrode__active_material")
        .filter(sample_id__in=cell_ids)
        .order_by("-sample__created_at")[:LIST_LIMIT]
    )


def powders_with_results(cells: list[CoinCell]) -> list[Sample]:
    """The cathode powders the cells were made from (a group choice each)."""
    ids = {cell.electrode.active_material_id for cell in cells}
    return list(Sample.objects.filter(pk__in=ids).order_by("code"))


def cycling_rows_by_cell(cell_sample_ids) -> dict[int, list[dict]]:
    """Per cell sample id: the per-cycle rows of its newest succeeded cycling summary."""
    rows: dict[int, list[dict]] = {}
    done = (
        AnalysisJob.objects.filter(
            kind=COMPARE_KIND,
            status=JobStatus.SUCCEEDED,
            measurement__subject_id__in=list(cell_sample_ids),
        )
        .select_related("result", "measurement")
        .order_by("-finished_at", "-id")
    )
    for job in done:
        rows.setdefault(job.measurement.subject_id, job.result.summary.get("cycles", []))
    return rows


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
class Comparison:
    figures: list[Figure]
    table: list[dict]
    missing: list[str]  # chosen samples without any cycling result


def compare(*, cells: list[Sample], groups: list[Sample]) -> Comparison:
    """Cells alone (one line each) and groups (mean ± sd over their cells) on one figure."""
    grouped = groups_for(groups)
    wanted = {c.pk for c in cells} | {i for ids in grouped.values() for i in ids}
    codes = dict(Sample.objects.filter(pk__in=wanted).values_list("pk", "code"))
    rows = cycling_rows_by_cell(wanted)
    series: dict[str, list[comparison.Member]] = {}
    missing = []
    for cell in cells:
        if cell.pk in rows:
            series[cell.code] = [comparison.Member(cell.code, rows[cell.pk])]
        else:
            missing.append(cell.code)
    for sample, ids in grouped.items():
        members = [comparison.Member(codes.get(i, str(i)), rows[i]) for i in ids if i in rows]
        if members:
            series[f"{sample.code} {sample.name}"] = members
        else:
            missing.append(sample.code)
    if not series:
        return Comparison([], [], missing)
    figures = [
        Figure(f"cmp-{q}", q, comparison.overlay_figure(series, q))
        for q in ("discharge_capacity_mah_g", "mean_discharge_voltage_v")
    ]
    return Comparison(figures, comparison.group_table(series), missing)
