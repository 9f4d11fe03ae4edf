"""Coin cells in the sample import/export (lims.sample_import): a row of kind cell naming an
electrode sheet and a disc mass is built like a cell of the cells form."""

from __future__ import annotations

from django.core.exceptions import ValidationError

from characterization import services
from characterization.models import CellFormat, CoinCell, Electrode
from lims import quantities
from lims.models import EdgeRole, Sample, SampleKind
from lims.sample_import import KindImporter, PlannedSample
from lims.services import ParentLink, lineage_link

COLUMNS = ("electrode", "disc_mass_mg", "foil_disc_mass_mg", "cell_format")


def create_cell(row: dict, values: dict, user):
    electrode = (
        Electrode.objects.select_related("sample")
        .filter(sample__code=row.get("electrode", ""))
        .first()
    )
    if electrode is None:
        raise ValidationError(
            {"electrode": f"no electrode sheet has the code {row.get('electrode')!r}"}
        )
    try:
        cell = services.cell_build(
            electrode=electrode,
            disc_mass_mg=_number(row, "disc_mass_mg", required=True),
            foil_disc_mass_mg=_number(row, "foil_disc_mass_mg", required=False),
            cell_format=row.get("cell_format") or CellFormat.CR2025,
            built_by=values["owner"] or user,
            location=values["location"],
            notes=values["notes"],
        )
    except ValidationError as exc:  # name the column, not the form's "discs[0]." row index
        raise ValidationError(
            {k.replace("discs[0].", ""): v for k, v in exc.message_dict.items()}
        ) from None
    sample = cell.sample
    sample.name, sample.formula, sample.status = values["name"], values["formula"], values["status"]
    sample.project = values["project"]
    sample.save()
    for link in values["parents"]:
        if link.parent.pk != electrode.sample.pk:
            lineage_link(parent=link.parent, child=sample, role=link.role)
    return sample


def plan_cells(items: list[tuple[dict, dict]], user) -> list[PlannedSample | ValidationError]:
    """What create_cell builds, for many rows at once and unsaved (one query for their sheets):
    the sample import saves them in bulk."""
    codes = {row.get("electrode", "") for row, _ in items}
    sheets = {
        e.sample.code: e
        for e in Electrode.objects.select_related("sample").filter(sample__code__in=codes)
    }
    planned = []
    for row, values in items:
        try:
            planned.append(_plan_cell(row, values, user, sheets))
        except ValidationError as exc:
            planned.append(exc)
    return planned


def _plan_cell(row: dict, values: dict, user, sheets: dict[str, Electrode]) -> PlannedSample:
    electrode = sheets.get(row.get("electrode", ""))
    if electrode is None:
        raise ValidationError(
            {"electrode": f"no electrode sheet has the code {row.get('electrode')!r}"}
        )
    disc_mass = _number(row, "disc_mass_mg", required=True)
    built_by = values["owner"] or user
    try:
        cell = services.cell_batch_plan(
            electrode=electrode,
            discs=[services.DiscRow(disc_mass)],
            foil_disc_mass_mg=_number(row, "foil_disc_mass_mg", required=False),
            cell_format=row.get("cell_format") or CellFormat.CR2025,
            built_by=built_by,
        )[0]
    except ValidationError as exc:  # name the column, not the form's "discs[0]." row index
        raise ValidationError(
            {k.replace("discs[0].", ""): v for k, v in exc.message_dict.items()}
        ) from None
    sample = Sample(
        kind=SampleKind.CELL, name=values["name"].strip(), formula=values["formula"],
        status=values["status"], location=values["location"], notes=values["notes"],
        owner=built_by, project=values["project"],
    )  # fmt: skip
    parents = [ParentLink(electrode.sample, EdgeRole.COMPONENT, disc_mass, "mg")]
    parents += [link for link in values["parents"] if link.parent.pk != electrode.sample.pk]
    return PlannedSample(sample, parents, [cell])


def export_cells(sample_ids: list[int]) -> dict[int, dict[str, str]]:
    return {
        cell.sample_id: {
            "electrode": cell.electrode.sample.code,
            "disc_mass_mg": repr(cell.disc_mass_mg),
            "foil_disc_mass_mg": repr(cell.foil_disc_mass_mg),
            "cell_format": cell.cell_format,
        }
        for cell in CoinCell.objects.filter(sample_id__in=sample_ids).select_related(
            "electrode__sample"
        )
    }


def _number(row: dict, column: str, *, required: bool) -> float | None:
    """The column's mass in mg, within the bounds of lims.quantities (keys = column names)."""
    text = (row.get(column) or "").strip()
    label = quantities.bound(column).label
    if not text:
        if required:
            raise ValidationError({column: f"give the {label} in mg"})
        return None
    try:
        value = float(text.replace(",", "."))
    except ValueError:
        raise ValidationError({column: f"{text!r} is not a number ({label} in mg)"}) from None
    message = quantities.problem(column, value)
    if message is not None:
        raise ValidationError({column: message})
    return value


CELL_IMPORTER = KindImporter(
    columns=COLUMNS, create=create_cell, export=export_cells, plan=plan_cells
)
