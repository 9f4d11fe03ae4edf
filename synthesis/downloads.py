"""Downloads of the synthesis lists (batches, recipes, chemicals, lots) as CSV, Excel or
Parquet: the rows each list page shows under the same filters, every page of them
(lims.downloads answers them)."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.views.decorators.http import require_GET

from lims import downloads
from lims.downloads import every_row, username, value
from synthesis import queries
from synthesis.forms import BatchFilterForm
from synthesis.models import Batch, Chemical, Lot, Recipe

BATCH_COLUMNS = (
    "code", "recipe", "recipe_version", "status", "target_mass_g", "substrate",
    "substrate_mass_g", "coating_wt_percent", "calcination_temperature_c",
    "calcination_duration_h", "yield_mass_g", "operator", "planned_at", "finished_at", "product",
    "series", "notes", "voided_at", "void_reason",
)  # fmt: skip
RECIPE_COLUMNS = (
    "name", "family", "version", "versions", "kind", "product_name", "product_formula",
    "reference_mass_g", "batches",
)  # fmt: skip
CHEMICAL_COLUMNS = (
    "name", "grade", "formula", "molar_mass_g_per_mol", "cas_number", "density_g_per_ml",
    "default_purity_percent", "hazard_notes", "lots_with_stock",
)  # fmt: skip
LOT_COLUMNS = (
    "chemical", "formula", "supplier", "lot_number", "purity_percent", "amount_left",
    "amount_unit", "received_on", "opened_on", "expires_on", "expired", "location", "sample",
)  # fmt: skip


@require_GET
def batches_download(request: HttpRequest, fmt: str) -> HttpResponse:
    """The batch list as filtered on the synthesis page (every page of it)."""
    downloads.fmt_or_404(fmt)
    filters = BatchFilterForm(request.GET or None).filters()
    rows = every_row(queries.batch_list(filters), _batch_row)
    return downloads.table_response(
        fmt, BATCH_COLUMNS, rows, stem=downloads.stamped("batches"), title="batches"
    )


def _batch_row(batch: Batch) -> list[object]:
    return [
        batch.code, batch.recipe.name, batch.recipe.version, batch.status,
        batch.target_mass_g, batch.substrate.code if batch.substrate else "",
        batch.substrate_mass_g, batch.coating_wt_percent, batch.calcination_temperature_c,
        batch.calcination_duration_h, batch.yield_mass_g, username(batch.operator),
        value(batch.created_at), value(batch.finished_at),
        batch.product.code if batch.product else "", batch.series.name if batch.series else "",
        batch.notes, value(batch.voided_at), batch.void_reason,
    ]  # fmt: skip


@require_GET
def recipes_download(request: HttpRequest, fmt: str) -> HttpResponse:
    """The recipes table of the synthesis page: the newest version of every recipe."""
    downloads.fmt_or_404(fmt)
    rows = every_row(queries.latest_recipes(), _recipe_row)
    return downloads.table_response(
        fmt, RECIPE_COLUMNS, rows, stem=downloads.stamped("recipes"), title="recipes"
    )


def _recipe_row(recipe: Recipe) -> list[object]:
    return [
        recipe.name, recipe.family, recipe.version, recipe.versions, recipe.kind,
        recipe.product_name, recipe.product_formula, recipe.reference_mass_g, recipe.batch_count,
    ]  # fmt: skip


@require_GET
def chemicals_download(request: HttpRequest, fmt: str) -> HttpResponse:
    downloads.fmt_or_404(fmt)
    rows = every_row(queries.chemical_list(), _chemical_row)
    return downloads.table_response(
        fmt, CHEMICAL_COLUMNS, rows, stem=downloads.stamped("chemicals"), title="chemicals"
    )


def _chemical_row(chemical: Chemical) -> list[object]:
    return [
        chemical.name, chemical.grade, chemical.formula, chemical.molar_mass_g_per_mol,
        chemical.cas_number, chemical.density_g_per_ml, chemical.default_purity_percent,
        chemical.hazard_notes, chemical.lot_count,
    ]  # fmt: skip


@require_GET
def lots_download(request: HttpRequest, fmt: str) -> HttpResponse:
    """The lot list as filtered on its page (?chemical=<id>, ?empty=1 for empty lots too)."""
    downloads.fmt_or_404(fmt)
    chemical_id = request.GET.get("chemical", "").strip()
    chemical = Chemical.objects.filter(pk=chemical_id).first() if chemical_id.isdigit() else None
    lots = queries.lot_list(
        chemical_id=chemical.pk if chemical else None, include_empty=bool(request.GET.get("empty"))
    )
    stem = downloads.stamped(f"lots-{chemical.name}" if chemical else "lots")
    return downloads.table_response(fmt, LOT_COLUMNS, every_row(lots, _lot_row), stem=stem)


def _lot_row(lot: Lot) -> list[object]:
    return [
        lot.chemical.name, lot.chemical.formula, lot.supplier, lot.lot_number, lot.purity_percent,
        lot.amount_left, lot.amount_unit, value(lot.received_on), value(lot.opened_on),
        value(lot.expires_on), "yes" if lot.is_expired() else "", lot.location, lot.sample.code,
    ]  # fmt: skip
