"""Downloads of the characterization lists (electrodes and coin cells of the Cells page,
measurements, unplaced harvested files) as CSV, Excel or Parquet: the rows each list shows
under the same filters, all of them, past the page's display limit (lims.downloads answers)."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.views.decorators.http import require_GET

from characterization import forms, harvest_queries, queries
from characterization.models import CoinCell, Electrode, HarvestedFile, Measurement
from lims import downloads
from lims.downloads import every_row, username, value

ELECTRODE_COLUMNS = (
    "code", "name", "powder", "powder_name", "ratio", "active_mass_g", "disc_diameter_mm",
    "cells", "made_on", "made_by", "voided_at", "void_reason",
)  # fmt: skip
CELL_COLUMNS = (
    "code", "name", "electrode", "powder", "cell_format", "active_mass_mg",
    "areal_loading_mg_per_cm2", "built_on", "built_by", "voided_at", "void_reason",
)  # fmt: skip
MEASUREMENT_COLUMNS = (
    "code", "measurement_type", "sample", "sample_name", "sample_kind", "instrument",
    "operator", "measured_at", "files", "voided_at", "void_reason",
)  # fmt: skip
UNPLACED_COLUMNS = (
    "source", "path", "channel", "versions", "size_bytes", "last_received", "sha256",
)  # fmt: skip


def _cell_filters(request: HttpRequest) -> queries.CellFilters:
    """The Cells page's filters, read as its view reads them."""
    if not request.GET:
        return queries.CellFilters()
    return forms.CellFilterForm(request.GET).filters()


@require_GET
def electrodes_download(request: HttpRequest, fmt: str) -> HttpResponse:
    """The electrodes of the Cells page under its search and void filters."""
    downloads.fmt_or_404(fmt)
    filters = _cell_filters(request)
    rows = every_row(queries.electrodes_for_index(q=filters.q, void=filters.void), _electrode)
    stem = downloads.stamped("electrodes")
    return downloads.table_response(fmt, ELECTRODE_COLUMNS, rows, stem=stem, title="electrodes")


def _electrode(e: Electrode) -> list[object]:
    return [
        e.sample.code, e.sample.name, e.active_material.code, e.active_material.name,
        e.ratio_label, e.active_mass_g, e.disc_diameter_mm, e.cell_count, value(e.made_on),
        username(e.made_by), value(e.sample.voided_at), e.sample.void_reason,
    ]  # fmt: skip


@require_GET
def cells_download(request: HttpRequest, fmt: str) -> HttpResponse:
    """The coin cells of the Cells page under all its filters."""
    downloads.fmt_or_404(fmt)
    rows = every_row(queries.cells_for_index(_cell_filters(request)), _cell)
    stem = downloads.stamped("coin-cells")
    return downloads.table_response(fmt, CELL_COLUMNS, rows, stem=stem, title="coin cells")


def _cell(c: CoinCell) -> list[object]:
    return [
        c.sample.code, c.sample.name, c.electrode.sample.code, c.electrode.active_material.code,
        c.cell_format, c.active_mass_mg, c.areal_loading_mg_per_cm2, value(c.built_on),
        username(c.built_by), value(c.sample.voided_at), c.sample.void_reason,
    ]  # fmt: skip


@require_GET
def measurements_download(request: HttpRequest, fmt: str) -> HttpResponse:
    """The measurement list under its filters."""
    downloads.fmt_or_404(fmt)
    filters = (
        forms.MeasurementFilterForm(request.GET).filters()
        if request.GET
        else queries.MeasurementFilters()
    )
    rows = every_row(queries.measurements_for_index(filters), _measurement)
    stem = downloads.stamped("measurements")
    return downloads.table_response(fmt, MEASUREMENT_COLUMNS, rows, stem=stem, title="measurements")


def _measurement(m: Measurement) -> list[object]:
    return [
        m.sample.code, m.measurement_type, m.subject.code, m.subject.name, m.subject.kind,
        m.instrument, username(m.operator), value(m.measured_at), m.file_count,
        value(m.voided_at), m.void_reason,
    ]  # fmt: skip


@require_GET
def unplaced_download(request: HttpRequest, fmt: str) -> HttpResponse:
    """The files the harvesters sent that are not placed on a cell, as their page lists them."""
    downloads.fmt_or_404(fmt)
    rows = (_unplaced(f) for f in harvest_queries.unplaced_files())
    stem = downloads.stamped("unplaced-files")
    return downloads.table_response(fmt, UNPLACED_COLUMNS, rows, stem=stem, title="unplaced")


def _unplaced(f: HarvestedFile) -> list[object]:
    raw = f.newest.raw_file if f.newest else None
    return [
        f.source, f.path, f.channel, f.version_count, raw.size_bytes if raw else None,
        value(f.last_received), raw.sha256 if raw else "",
    ]  # fmt: skip
