"""What the synthesis app adds to a sample's page (lims.panels): how a powder was made, the
synthesis conditions it inherits from its ancestors' batches, which batches used it as a
substrate, and the lot behind a reagent sample.

Wire it once at start-up: ``SynthesisConfig.ready()`` calls ``synthesis.panels.register()``.
Each provider runs a fixed number of queries, whatever the size of the lineage.
"""

from __future__ import annotations

from lims import panels
from synthesis.models import Batch, Lot


def synthesis_panel(sample, lineage) -> panels.Panel | None:
    made_by = Batch.objects.select_related("recipe", "operator").filter(product=sample).first()
    substrate_of = list(
        Batch.objects.select_related("recipe").filter(substrate=sample).order_by("-created_at")
    )
    lot = Lot.objects.select_related("chemical").filter(sample=sample).first()
    inherited = _ancestor_batches(lineage)
    if made_by is None and not substrate_of and lot is None and not inherited:
        return None
    context = {"made_by": made_by, "substrate_of": substrate_of, "lot": lot, "inherited": inherited}
    return panels.Panel("Synthesis", "synthesis/_sample_panel.html", context, order=10)


def _ancestor_batches(lineage) -> list[Batch]:
    """Batches that made an ancestor: the conditions this sample inherits (one query)."""
    ancestors = [pk for pk, generation in lineage.generations.items() if generation < 0]
    return list(
        Batch.objects.filter(product_id__in=ancestors)
        .select_related("recipe", "operator", "product", "substrate")
        .order_by("created_at")
    )


def register() -> None:
    panels.register(synthesis_panel)
