"""Sample codes and the lineage graph: cycle refusal, depth, both directions, concurrency."""

from __future__ import annotations

import threading

import pytest
from django.core.exceptions import ValidationError
from django.db import connection, connections
from django.utils import timezone

from lims.lineage import ancestor_depths, descendant_depths
from lims.models import EdgeRole, Sample, SampleEdge
from lims.services import ParentLink, lineage_link, sample_code_allocate, sample_register


def chain(length: int, owner=None) -> list[Sample]:
    """powder -> electrode -> ... a straight line of `length` samples."""
    samples = [sample_register(kind="cathode", name="LMNO powder", owner=owner)]
    for i in range(1, length):
        samples.append(
            sample_register(
                kind="other",
                name=f"step {i}",
                parents=[ParentLink(samples[-1], EdgeRole.DERIVED_FROM)],
            )
        )
    return samples


def test_codes_carry_the_kind_prefix_the_year_and_a_sequence(db):
    year = timezone.localdate().year
    first = sample_register(kind="cathode", name="LMNO")
    second = sample_register(kind="cathode", name="NSO")
    cell = sample_register(kind="cell", name="coin cell")
    assert (first.code, second.code) == (f"CAT-{year}-0001", f"CAT-{year}-0002")
    assert cell.code == f"CELL-{year}-0001"


def test_ancestors_and_descendants_reach_any_depth_with_their_distance(db):
    samples = chain(9)
    assert ancestor_depths(samples[-1].pk) == {s.pk: 8 - i for i, s in enumerate(samples[:-1])}
    assert descendant_depths(samples[0].pk) == {s.pk: i + 1 for i, s in enumerate(samples[1:])}


def test_the_lineage_walk_is_one_query_whatever_the_depth(db, django_assert_num_queries):
    deep = chain(12)
    with django_assert_num_queries(1):
        assert len(ancestor_depths(deep[-1].pk)) == 11


def test_a_shared_ancestor_is_reported_once_at_its_shortest_distance(db):
    powder = sample_register(kind="cathode", name="NSO")
    electrode = sample_register(
        kind="electrode", name="sheet", parents=[ParentLink(powder, EdgeRole.ACTIVE_MATERIAL)]
    )
    cell = sample_register(
        kind="cell",
        name="cell",
        parents=[ParentLink(electrode, EdgeRole.COMPONENT), ParentLink(powder, EdgeRole.COMPONENT)],
    )
    assert ancestor_depths(cell.pk) == {electrode.pk: 1, powder.pk: 1}


def test_an_edge_that_would_close_a_cycle_is_refused_and_nothing_is_saved(db):
    a, b, c = chain(3)
    edges_before = SampleEdge.objects.count()
    with pytest.raises(ValidationError) as excinfo:
        lineage_link(parent=c, child=a, role=EdgeRole.DERIVED_FROM)
    assert "cycle" in str(excinfo.value) and c.code in str(excinfo.value)
    with pytest.raises(ValidationError, match="its own parent"):
        lineage_link(parent=b, child=b, role=EdgeRole.DERIVED_FROM)
    assert SampleEdge.objects.count() == edges_before


def test_a_negative_amount_consumed_is_refused(db):
    a, b = chain(2)
    with pytest.raises(ValidationError, match="negative"):
        lineage_link(parent=a, child=b, role=EdgeRole.SUBSTRATE, amount=-1.0)


def test_every_sample_change_writes_an_audit_row_in_the_same_transaction(db, chemist):
    sample = sample_register(kind="cathode", name="LMNO", owner=chemist)
    sample.location = "Glovebox 2"
    sample.save()
    history = list(sample.history.order_by("history_date"))
    assert [h.history_type for h in history] == ["+", "~"]
    assert history[-1].location == "Glovebox 2"


@pytest.mark.services
def test_lineage_queries_run_on_postgresql(db):
    assert connection.vendor == "postgresql"
    samples = chain(8)
    assert set(ancestor_depths(samples[-1].pk)) == {s.pk for s in samples[:-1]}
    with pytest.raises(ValidationError):
        lineage_link(parent=samples[-1], child=samples[0], role=EdgeRole.DERIVED_FROM)


@pytest.mark.services
def test_codes_stay_unique_when_many_users_create_samples_at_once(transactional_db):
    codes: list[str] = []
    errors: list[BaseException] = []
    barrier = threading.Barrier(8)

    def create_some() -> None:
        try:
            barrier.wait()
            for _ in range(5):
                codes.append(sample_code_allocate(kind="cell"))
        except BaseException as exc:  # reported below
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=create_some) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert len(codes) == 40 and len(set(codes)) == 40
    numbers = sorted(int(code.rsplit("-", 1)[1]) for code in codes)
    assert numbers == list(range(1, 41))
