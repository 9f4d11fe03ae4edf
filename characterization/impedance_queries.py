"""A coin cell's fitted impedance (EIS) spectra, compared before/after cycling on one page.

Per non-void EIS measurement of the cell, the newest succeeded eis_fit result in use (jobs'
IN_USE: no void job, result, file or measurement), oldest measurement first: the first is the
reference ("before"). Their stored summaries are compared (impedance_compare, no refit) and
their stored Nyquist figures overlaid. Three queries whatever the number of measurements: the
cell, its EIS measurements (each with its newest fit's job id), those jobs with result and file.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field

from django.db.models import F, OuterRef, Subquery
from django.urls import reverse
from django.utils import timezone

from characterization import queries
from characterization.analysis.impedance_compare import compare_impedance_summaries
from characterization.analysis.kind_output import figure
from characterization.comparison import PALETTE
from characterization.jobs.models import AnalysisJob, JobStatus
from characterization.jobs.presenting import Figure
from characterization.jobs.queries import IN_USE
from characterization.jobs.result_warnings import Warnings, warning_row, warnings_of
from characterization.models import CoinCell, Measurement, MeasurementType

FIT_KIND = "eis_fit"


@dataclass(frozen=True)
class FittedSpectrum:
    """One EIS measurement with its newest fit: what its table row and plot traces show."""

    code: str  # the measurement's code
    measured_at: datetime.datetime
    file_name: str
    measurement_url: str
    result_url: str
    summary: dict
    nyquist: dict | None  # the stored plotly figure ("measured" and "fit ..." traces)
    flags: list[dict] = field(default_factory=list)  # the result's "may be wrong" warnings

    @property
    def label(self) -> str:
        return f"{self.code} · {timezone.localtime(self.measured_at):%Y-%m-%d}"


def fitted_spectra(cell: CoinCell) -> tuple[list[FittedSpectrum], list[Measurement]]:
    """(the fitted spectra, oldest measurement first; the EIS measurements without a fit)."""
    newest_fit = (
        AnalysisJob.objects.filter(
            IN_USE, kind=FIT_KIND, status=JobStatus.SUCCEEDED, measurement=OuterRef("pk")
        )
        .order_by(F("finished_at").desc(nulls_last=True), "-id")
        .values("pk")[:1]
    )
    measured = list(
        Measurement.objects.filter(
            subject_id=cell.sample_id, measurement_type=MeasurementType.EIS, voided_at__isnull=True
        )
        .select_related("sample")
        .annotate(fit_job=Subquery(newest_fit))
        .order_by("measured_at", "id")
    )
    ids = [m.fit_job for m in measured if m.fit_job is not None]
    jobs = AnalysisJob.objects.select_related("raw_file", "result").in_bulk(ids)
    spectra = [_spectrum(m, jobs[m.fit_job]) for m in measured if m.fit_job in jobs]
    return spectra, [m for m in measured if m.fit_job not in jobs]


def _spectrum(measurement: Measurement, job: AnalysisJob) -> FittedSpectrum:
    code = measurement.sample.code
    return FittedSpectrum(
        code=code,
        measured_at=measurement.measured_at,
        file_name=job.raw_file.original_name,
        measurement_url=reverse("measurements:detail", args=[code]),
        result_url=reverse("jobs:detail", args=[job.pk]),
        summary=job.result.summary or {},
        nyquist=(job.result.figures or {}).get("nyquist"),
        flags=job.result.flags,
    )


def nyquist_overlay(spectra: list[FittedSpectrum]) -> dict:
    """Every spectrum's measured points and fit line on one Nyquist plot with equal axes, one
    colour per measurement (its two traces share a legend group)."""
    traces = []
    for index, spectrum in enumerate(spectra):
        color = PALETTE[index % len(PALETTE)]
        for trace in (spectrum.nyquist or {}).get("data", []):
            name = str(trace.get("name", ""))
            if name == "measured":
                part, style = "measured", {"marker": {"color": color}}
            elif name.startswith("fit"):
                part, style = "fit", {"line": {"color": color}}
            else:
                continue
            named = {"name": f"{spectrum.label} {part}", "legendgroup": spectrum.code}
            traces.append({**trace, **style, **named})
    equal = {"scaleanchor": "x", "scaleratio": 1}
    return figure("Nyquist", "Re Z (Ω)", "−Im Z (Ω)", traces, yaxis=equal)


@dataclass(frozen=True)
class CellImpedance:
    cell: CoinCell
    rows: list[dict]  # compare_impedance_summaries' rows, each with its "spectrum"
    warnings: Warnings
    figure: Figure | None
    unfitted: list[Measurement]  # EIS measurements without a fit in use (yet)


def cell_impedance(code: str) -> CellImpedance:
    """The page's data for the cell `code` (raises CoinCell.DoesNotExist)."""
    cell = queries.cell_detail(code)
    spectra, unfitted = fitted_spectra(cell)
    if not spectra:
        return CellImpedance(cell, [], Warnings(), None, unfitted)
    comparison = compare_impedance_summaries([(s.code, s.summary) for s in spectra])
    rows = [{**row, "spectrum": s} for s, row in zip(spectra, comparison.rows, strict=True)]
    warnings = warnings_of(warning_row(w) for w in comparison.warnings)
    plot = Figure("eis-nyquist", "nyquist", nyquist_overlay(spectra))
    return CellImpedance(cell, rows, warnings, plot, unfitted)
