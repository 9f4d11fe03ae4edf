"""Reads of the sample registry shared by pages, admin and API; query counts do not grow with
the depth or the breadth of the lineage (one recursive CTE each way, then two fetches)."""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Q, QuerySet

from lims.lineage import ancestor_depths, descendant_depths
from lims.models import Sample, SampleEdge
from lims.quantities import format_number
from lims.voiding import live

MAX_GRAPH_NODES = 120  # a drawing beyond this is unreadable; the lists below it still show all


@dataclass(frozen=True)
class Input:
    sample: Sample
    role: str
    amount: str  # "1.5 g", "" when none was recorded


def _amount_text(edge: SampleEdge) -> str:
    if edge.amount is None:
        return ""
    return f"{format_number(float(f'{edge.amount:.6g}'))} {edge.amount_unit}".strip()


@dataclass(frozen=True)
class Lineage:
    focus: Sample
    generations: dict[int, int]  # sample id -> generation (ancestors < 0 < descendants)
    samples: dict[int, Sample]
    edges: list[SampleEdge]

    @property
    def ancestors(self) -> list[Sample]:
        ids = [i for i, g in sorted(self.generations.items(), key=lambda kv: kv[1]) if g < 0]
        return [self.samples[i] for i in ids]

    @property
    def inputs(self) -> list[Input]:
        """The direct inputs of the focus (its parents), with what was used of each."""
        edges = [e for e in self.edges if e.child_id == self.focus.pk]
        return [Input(self.samples[e.parent_id], e.get_role_display(), _amount_text(e))
                for e in edges]  # fmt: skip

    @property
    def descendants(self) -> list[Sample]:
        ids = [i for i, g in sorted(self.generations.items(), key=lambda kv: kv[1]) if g > 0]
        return [self.samples[i] for i in ids]


def samples_list(
    *,
    kind: str = "",
    status: str = "",
    search: str = "",
    ancestor: Sample | None = None,
    descendant: Sample | None = None,
    include_void: bool = False,
) -> QuerySet[Sample]:
    """Samples filtered as the list page, the admin and the API filter them (void samples
    only when asked: they are kept, not listed)."""
    qs = live(Sample.objects.select_related("owner", "project"), include_void=include_void)
    if kind:
        qs = qs.filter(kind=kind)
    if status:
        qs = qs.filter(status=status)
    if search:
        qs = qs.filter(
            Q(code__icontains=search) | Q(name__icontains=search) | Q(formula__icontains=search)
        )
    if ancestor is not None:
        qs = qs.filter(pk__in=list(descendant_depths(ancestor.pk)))
    if descendant is not None:
        qs = qs.filter(pk__in=list(ancestor_depths(descendant.pk)))
    return qs


def sample_by_code(code: str) -> Sample | None:
    return Sample.objects.select_related("owner", "project").filter(code__iexact=code).first()


def sample_lineage(sample: Sample) -> Lineage:
    """The whole lineage of a sample up and down, in four queries whatever its size."""
    generations = {pk: -depth for pk, depth in ancestor_depths(sample.pk).items()}
    generations.update(descendant_depths(sample.pk))
    generations[sample.pk] = 0
    samples = Sample.objects.select_related("owner").in_bulk(list(generations))
    edges = list(
        SampleEdge.objects.filter(parent_id__in=generations, child_id__in=generations).order_by(
            "id"
        )
    )
    return Lineage(focus=sample, generations=generations, samples=samples, edges=edges)


def void_ancestors(sample: Sample) -> list[Sample]:
    """The void samples `sample` descends from, nearest first (two queries)."""
    depths = ancestor_depths(sample.pk)
    if not depths:
        return []
    void = Sample.objects.filter(pk__in=list(depths), voided_at__isnull=False)
    return sorted(void, key=lambda s: depths[s.pk])
