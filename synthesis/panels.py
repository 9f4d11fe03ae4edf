"""What the synthesis app adds to a sample's page (lims.panels): how a powder was made, the
synthesis conditions it inherits from its ancestors' batches, which batches used it as a
substrate, and the lot behind a reagent sample.

Wire it once at start-up: ``SynthesisConfig.ready()`` calls ``synthesis.panels.register()``.
Each provider runs a fixed number of queries, whatever the size of the lineage.
"""

from __future__ import annotations

from django.db.models import Q

from lims import panels
from lims.models import SampleKind
from synthesis.models import Batch, Lot


def synthesis_panel(sample, lineage) -> panels.Panel | None:
    """Two queries: the batches that made the sample or an ancestor or used it as a substrate
    (one), and the lot of a reagent (one, only for a reagent sample: lots are registered as
    reagents, synthesis.services)."""
    ancestors = {pk for pk, generation in lineage.generations.items() if generation < 0}
    batches = list(
        Batch.objects.filter(Q(product=sample) | Q(substrate=sample) | Q(product_id__in=ancestors))
        .select_related("recipe", "operator", "product", "substrate")
        .order_by("created_at", "id")
    )
    made_by = next((b for b in batches if b.product_id == sample.pk), None)
    substrate_of = [b for b in reversed(batches) if b.substrate_id == sample.pk]  # newest first
    inherited = [b for b in batches if b.product_id in ancestors]  # oldest first
    lot = None
    if sample.kind == SampleKind.REAGENT:
        lot = Lot.objects.select_related("chemical").filter(sample=sample).first()
    if made_by is None and not substrate_of and lot is None and not inherited:
        return None
    context = {"made_by": made_by, "substrate_of": substrate_of, "lot": lot, "inherited": inherited}
    return panels.Panel("Synthesis", "synthesis/_sample_panel.html", context, order=10)


def register() -> None:
    panels.register(synthesis_panel)
