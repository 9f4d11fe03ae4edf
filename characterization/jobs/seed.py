"""The default definitions: one per registered analysis kind that has none."""

from __future__ import annotations

from django.db import transaction

from characterization.analysis import registry
from characterization.jobs.models import AnalysisDefinition


@transaction.atomic
def analysis_definitions_seed(*, user=None) -> list[AnalysisDefinition]:
    """A definition with default parameters for every registered kind that has none (by name
    = the kind's title); idempotent. Migration characterization 0002 seeded the kinds shipped
    then the same way."""
    created = []
    for kind in registry.kinds().values():
        if AnalysisDefinition.objects.filter(kind=kind.key).exists():
            continue
        definition, made = AnalysisDefinition.objects.get_or_create(
            name=kind.title,
            defaults={
                "kind": kind.key,
                "parameters": kind.clean_parameters({}),
                "auto_run_for": list(kind.measurement_types),
                "created_by": user,
            },
        )
        if made:
            created.append(definition)
    return created
