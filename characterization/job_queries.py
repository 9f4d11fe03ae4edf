"""Reads of analysis jobs and results shared by the jobs pages, the measurement page, the sample
panel and the admin."""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlencode

import pandas as pd
from django.conf import settings
from django.db.models import Count, Q, QuerySet
from django.urls import reverse

from characterization import comparison, job_services
from characterization.analysis import registry
from characterization.analysis.plausibility import SEVERITY, cycle_list
from characterization.models import (
    ACTIVE_STATUSES,
    AnalysisDefinition,
    AnalysisJob,
    AnalysisResult,
    CoinCell,
    InstrumentMapping,
    JobStatus,
    Measurement,
    RawFile,
    ReadState,
)
from lims.lineage import descendant_depths
from lims.models import Sample, SampleKind

LIST_LIMIT = 200
COMPARE_KIND = "cycling_summary"
# Figures a result page draws first, in this order; any others follow.
FIGURE_ORDER = ("capacity", "mean_voltage", "dqdv", "rate")
# Jobs whose results pages and comparisons use: void records are kept, never used.
IN_USE = Q(
    voided_at__isnull=True,
    result__voided_at__isnull=True,
    raw_file__voided_at__isnull=True,
    measurement__voided_at__isnull=True,
)


def jobs() -> QuerySet[AnalysisJob]:
    return AnalysisJob.objects.select_related(
        "definition", "raw_file", "measurement__sample", "measurement__subject", "result"
    )


@dataclass(frozen=True)
class JobFilters:
    status: str = ""
    q: str = ""
    void: bool = False  # list void jobs (and the jobs of void measurements) too


def jobs_for_index(filters: JobFilters) -> list[AnalysisJob]:
    rows = jobs().defer("result__summary", "result__figures")
    if not filters.void:
        rows = rows.filter(voided_at__isnull=True, measurement__voided_at__isnull=True)
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


def broker_note(jobs: Iterable[AnalysisJob] | QuerySet[AnalysisJob]) -> str | None:
    """A sentence for the page when some of these jobs could not be sent (the job broker is
    down: job_send left them queued, "waiting for the job broker"), else None."""
    ids = jobs.values("pk") if isinstance(jobs, QuerySet) else [job.pk for job in jobs]
    waiting = AnalysisJob.objects.filter(
        pk__in=ids, status=JobStatus.QUEUED, progress_message=job_services.BROKER_WAIT_MESSAGE
    ).count()
    if not waiting:
        return None
    what = "the job is" if waiting == 1 else f"{waiting} jobs are"
    return (
        f"The job broker is not reachable: {what} queued and will be sent to a worker when it "
        "is back."
    )


def jobs_of_measurement(measurement: Measurement) -> list[AnalysisJob]:
    return list(
        jobs()
        .defer("result__summary", "result__figures")
        .filter(measurement=measurement, voided_at__isnull=True)
        .order_by("raw_file_id", "definition__name", "-created_at")
    )


def latest_results_of_measurement(measurement: Measurement) -> list[AnalysisJob]:
    """The newest succeeded job per (definition, file), with its result (figures included)."""
    seen, latest = set(), []
    rows = jobs().filter(IN_USE, measurement=measurement, status=JobStatus.SUCCEEDED)
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
    """The result summary as (label, text) pairs: scalars and short lists of cycle numbers,
    long lists left to the tables."""
    if job.result is None:
        return []
    rows = []
    for key, value in (job.result.summary or {}).items():
        if _short_int_list(value):
            rows.append((_label(key), ", ".join(map(str, value)) or "none"))
        elif isinstance(value, (list, dict)):
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


def _short_int_list(value) -> bool:
    return (
        isinstance(value, list)
        and len(value) <= 12
        and all(isinstance(v, int) and not isinstance(v, bool) for v in value)
    )


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
        ("Cell", _cell_context_text(job.cell_context or {})),
        ("Cache key", job.cache_key or "–"),
    ]
    if mapping:
        name, instrument = mapping.get("name", "?"), mapping.get("instrument", "?")
        rows.insert(2, ("Column mapping", f"{name} (instrument {instrument})"))
    return rows


def _cell_context_text(context: dict) -> str:
    """ "cathode half-cell · Li1.2Mn0.6Ni0.2O2 · 1C = 250 mA/g · window 2–4.8 V"."""
    parts = []
    if context.get("electrode"):
        parts.append(f"{context['electrode']} half-cell")
    if context.get("formula"):
        parts.append(context["formula"])
    if context.get("one_c_ma_per_g"):
        parts.append(f"1C = {context['one_c_ma_per_g']:g} mA/g")
    window = context.get("voltage_window_v")
    if window:
        low, high = ("–" if v is None else f"{v:g}" for v in window)
        parts.append(f"declared window {low}–{high} V")
    if context.get("capacity_ceiling_mah_g") and not context.get("formula"):
        parts.append(f"capacity ceiling {context['capacity_ceiling_mah_g']:g} mAh/g")
    return " · ".join(parts) or "nothing known beyond the file"


def _kind_title(key: str) -> str:
    try:
        registry.kinds()
        return registry.get_kind(key).title
    except Exception:  # a kind removed from the code: show its key
        return key


# --- plausibility warnings --------------------------------------------------------------------


@dataclass(frozen=True)
class Source:
    """Where a warning was found (the cell page lists the warnings of several results)."""

    label: str
    url: str


@dataclass(frozen=True)
class WarningRow:
    code: str
    message: str
    cycles: tuple[int, ...]
    severity: str  # "flag": the numbers may be wrong; "note": right, but something left out
    sources: tuple[Source, ...] = ()  # the results it was found in (the cell page)
    origin: str = ""  # the file (and measurement) those results read

    @property
    def is_flag(self) -> bool:
        return self.severity == "flag"

    @property
    def cycles_text(self) -> str:
        return cycle_list(self.cycles)

    @property
    def all_cycles(self) -> str:
        return ", ".join(map(str, self.cycles))


@dataclass(frozen=True)
class Warnings:
    """A result's warnings for the _warnings.html partial: flags first, then notes."""

    flags: list[WarningRow] = field(default_factory=list)
    notes: list[WarningRow] = field(default_factory=list)

    def __iter__(self):
        return iter([*self.flags, *self.notes])

    def __len__(self) -> int:
        return len(self.flags) + len(self.notes)


def warning_row(data: Mapping, sources: tuple[Source, ...] = (), origin: str = "") -> WarningRow:
    code = str(data.get("code", ""))
    severity = data.get("severity") or SEVERITY.get(code, "flag")  # unknown: may be wrong
    return WarningRow(
        code=code,
        message=str(data.get("message", "")),
        cycles=tuple(int(c) for c in data.get("cycles") or ()),
        severity="flag" if severity == "flag" else "note",
        sources=sources,
        origin=origin,
    )


def warnings_of(rows: Iterable[WarningRow]) -> Warnings:
    rows = list(rows)
    return Warnings(flags=[w for w in rows if w.is_flag], notes=[w for w in rows if not w.is_flag])


def result_warnings(job: AnalysisJob) -> Warnings:
    """The stored warnings of the job's result (none without a result)."""
    if job.result is None:
        return Warnings()
    return warnings_of(warning_row(w) for w in job.result.warnings or [])


@dataclass(frozen=True)
class FileResults:
    """The latest results of one raw file: the warnings all of them carry (the analyses of a
    file read the same cycles, so they share most) once, and each result's own beside it."""

    raw_file: RawFile
    shared: Warnings
    results: list[dict]  # {"job", "warnings" (its own), ...} in the order given


def results_by_file(done: list[AnalysisJob]) -> list[FileResults]:
    by_file: dict[int, list[AnalysisJob]] = {}
    for job in done:
        by_file.setdefault(job.raw_file_id, []).append(job)
    grouped = []
    for jobs_ in by_file.values():
        per_job = [(job, list(result_warnings(job))) for job in jobs_]
        keys = [{(w.code, w.message) for w in rows} for _, rows in per_job]
        common = set.intersection(*keys) if len(per_job) > 1 else set()
        shared = [w for w in per_job[0][1] if (w.code, w.message) in common]
        results = [
            {
                "job": job,
                "warnings": warnings_of(w for w in rows if (w.code, w.message) not in common),
                "flag_count": sum(1 for w in rows if w.is_flag),
            }
            for job, rows in per_job
        ]
        grouped.append(FileResults(jobs_[0].raw_file, warnings_of(shared), results))
    return grouped


def latest_results_of_cell(cell_sample: Sample) -> list[AnalysisJob]:
    """The newest succeeded job per (measurement, definition, file) of the cell's
    measurements (for their warnings: figures and summary deferred)."""
    seen, latest = set(), []
    rows = (
        jobs()
        .defer("result__figures", "result__summary")
        .filter(IN_USE, measurement__subject=cell_sample, status=JobStatus.SUCCEEDED)
        .order_by("measurement_id", "raw_file_id", "definition__name", "-finished_at", "-id")
    )
    for job in rows:
        key = (job.measurement_id, job.definition_id, job.raw_file_id)
        if key not in seen:
            seen.add(key)
            latest.append(job)
    return latest


def cell_warnings(cell_sample: Sample) -> Warnings:
    """The warnings of the latest results of a cell's measurements, flags first. A warning the
    analyses of one file share (each reads the same cycles) is listed once, with every result
    it came from."""
    found: dict[tuple, tuple[dict, str, list[Source]]] = {}
    for job in latest_results_of_cell(cell_sample):
        origin = f"{job.raw_file.original_name} of {job.measurement.sample.code}"
        source = Source(job.definition.name, reverse("jobs:detail", args=[job.pk]))
        for data in job.result.warnings or []:
            key = (job.measurement_id, job.raw_file_id, data.get("code"), data.get("message"))
            found.setdefault(key, (data, origin, []))[2].append(source)
    return warnings_of(
        warning_row(data, tuple(sources), origin) for data, origin, sources in found.values()
    )


def warning_table(jobs_: Iterable[AnalysisJob]) -> tuple[list[str], list[list[object]]]:
    """Header and rows of a warnings export: one row per warning of each job's result."""
    header = [
        "measurement",
        "file",
        "file_sha256",
        "analysis",
        "job",
        "severity",
        "code",
        "message",
        "cycles",
    ]
    rows = []
    for job in jobs_:
        for w in result_warnings(job):
            rows.append(
                [
                    job.measurement.sample.code,
                    job.raw_file.original_name,
                    job.raw_file.sha256,
                    job.kind,
                    job.pk,
                    w.severity,
                    w.code,
                    w.message,
                    " ".join(map(str, w.cycles)),
                ]
            )
    return header, rows


# --- the voltage-fade window ------------------------------------------------------------------


@dataclass(frozen=True)
class FadeWindow:
    """How a voltage-fade result was computed, in words."""

    first_cycle: int
    last_cycle: int
    chosen: bool
    formation_cycles: list[int]
    sign: str
    fade_mv_per_cycle: float | None
    fitted_fade_mv_per_cycle: float | None

    @property
    def formation_text(self) -> str:
        return ", ".join(map(str, self.formation_cycles))


def fade_window(job: AnalysisJob) -> FadeWindow | None:
    """The window, sign and excluded formation cycles of a voltage-fade result (None for other
    analyses and for a fade that could not be computed: its warning says why)."""
    if job.kind != "voltage_fade" or job.result is None:
        return None
    summary = job.result.summary or {}
    if summary.get("first_cycle") is None or summary.get("last_cycle") is None:
        return None
    return FadeWindow(
        first_cycle=int(summary["first_cycle"]),
        last_cycle=int(summary["last_cycle"]),
        chosen=summary.get("window") == "chosen",
        formation_cycles=[int(c) for c in summary.get("formation_cycles") or []],
        sign=str(summary.get("sign") or "positive = the mean discharge voltage falls"),
        fade_mv_per_cycle=summary.get("fade_mv_per_cycle"),
        fitted_fade_mv_per_cycle=summary.get("fitted_fade_mv_per_cycle"),
    )


def fade_definition() -> AnalysisDefinition | None:
    """The enabled voltage-fade definition the measurement page's window form runs."""
    return runnable_definitions().filter(kind="voltage_fade").order_by("id").first()


# --- what Kiln made of each raw file ----------------------------------------------------------

UNSETTLED_STATES = (ReadState.PENDING, ReadState.RECOGNISED)
# Readers name the stored file (its SHA-256) before the reason: the page shows the name beside it.
_STORED_NAME = re.compile(r"(?:(?<=: )|^)[0-9a-f]{64}: ")


@dataclass(frozen=True)
class FileRow:
    link: object  # MeasurementFile
    raw: RawFile
    state: str
    state_label: str
    sentence: str
    mapping: InstrumentMapping | None  # the instrument's column mapping, if it has one
    mapping_add_url: str  # where a lab manager creates one ("" when not needed)

    @property
    def unsettled(self) -> bool:
        return self.state in UNSETTLED_STATES


@dataclass(frozen=True)
class FileTable:
    rows: list[FileRow]
    void_count: int = 0  # void files left out of the rows

    def __iter__(self):
        return iter(self.rows)

    def __len__(self) -> int:
        return len(self.rows)

    @property
    def unsettled(self) -> bool:
        """A file is still being looked at: the page polls until the worker has read it."""
        return any(row.unsettled for row in self.rows)


def file_rows(measurement: Measurement, *, include_void: bool = False) -> FileTable:
    """Each raw file of the measurement with what Kiln made of it, in a sentence: never a bare
    dash (a file with no message yet says it has not been looked at). Void files are counted,
    and listed only when asked."""
    links = list(measurement.files.select_related("raw_file__voided_by", "added_by"))
    shown = [link for link in links if include_void or link.raw_file.voided_at is None]
    mapping = InstrumentMapping.for_instrument(measurement.instrument)
    rows = [_file_row(link, measurement, mapping) for link in shown]
    return FileTable(rows, void_count=sum(1 for link in links if link.raw_file.voided_at))


UNREADABLE_STATES = (ReadState.NOT_CYCLING, ReadState.UNRECOGNISED, ReadState.DAMAGED)


def read_sentence(raw: RawFile) -> str:
    """What Kiln made of the file, in a sentence (without the stored name readers put first)."""
    sentence = _STORED_NAME.sub("", raw.read_message or "").strip()
    return sentence or _default_sentence(raw, raw.read_state or ReadState.PENDING)


def _file_row(link, measurement: Measurement, mapping: InstrumentMapping | None) -> FileRow:
    raw = link.raw_file
    state = raw.read_state or ReadState.PENDING
    sentence = read_sentence(raw)
    add_url = ""
    if state == ReadState.UNRECOGNISED and mapping is None:
        add_url = reverse("admin:characterization_instrumentmapping_add")
        instrument = (measurement.instrument or "").strip()
        if instrument:
            add_url += "?" + urlencode({"instrument": instrument, "name": f"{instrument} export"})
    return FileRow(
        link=link,
        raw=raw,
        state=state,
        state_label=ReadState(state).label,
        sentence=sentence,
        mapping=mapping if state == ReadState.UNRECOGNISED else None,
        mapping_add_url=add_url,
    )


def _default_sentence(raw: RawFile, state: str) -> str:
    if state == ReadState.RECOGNISED and raw.detected_format:
        return f"recognised as {raw.detected_format}; not read yet"
    if state in UNSETTLED_STATES:
        return "not looked at yet: a worker reads every uploaded file"
    return ReadState(state).label.lower()


# --- comparison -------------------------------------------------------------------------------


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
