"""Named sample filters that reach across lineage, shared by the API and the admin.

Other apps register filters in AppConfig.ready(), e.g. synthesis registers `recipe`,
`calcination_temperature_c`, `coating_wt_percent`, `batch` and `operator`: each narrows a Sample
queryset to the samples made from (descending from) matching batches' products.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from django.db.models import QuerySet


@dataclass(frozen=True)
class SampleFilter:
    name: str
    label: str
    apply: Callable[[QuerySet, str], QuerySet]  # raises ValueError with a message on bad input
    choices: Callable[[], list[tuple[str, str]]] | None = None  # for the admin's list filter
    help_text: str = ""


_filters: dict[str, SampleFilter] = {}


def register(sample_filter: SampleFilter) -> SampleFilter:
    _filters[sample_filter.name] = sample_filter
    return sample_filter


def registered() -> dict[str, SampleFilter]:
    return dict(_filters)
