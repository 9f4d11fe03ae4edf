"""Two chemists complete the same batch at the same moment: one wins, the other is told, and
the lots are decremented once. Needs PostgreSQL (real row locks between connections)."""

from __future__ import annotations

import threading

import pytest
from django.db import close_old_connections, connection

from lims.models import Sample, SampleKind
from synthesis import services
from synthesis.models import Batch, BatchStatus, Lot
from synthesis.services import BatchStateError

pytestmark = [pytest.mark.services, pytest.mark.usefixtures("transactional_db")]


def test_two_simultaneous_completions_register_one_product_and_decrement_lots_once(
    nso_batch, chemist, manager
):
    services.batch_start(user=chemist, batch=nso_batch)
    before = dict(Lot.objects.values_list("pk", "amount_left"))
    expected = {
        r.lot_id: r.planned_volume_ml or r.planned_mass_g
        for r in nso_batch.reagents.exclude(lot=None)
    }
    barrier = threading.Barrier(2)
    outcomes: dict[str, object] = {}

    def complete(user) -> None:
        try:
            barrier.wait(timeout=10)
            batch = Batch.objects.get(pk=nso_batch.pk)  # each thread its own connection
            outcomes[user.username] = services.batch_complete(user=user, batch=batch)
        except BatchStateError as err:
            outcomes[user.username] = err
        finally:
            close_old_connections()
            connection.close()

    threads = [threading.Thread(target=complete, args=(u,)) for u in (chemist, manager)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

    winners = [o for o in outcomes.values() if isinstance(o, Batch)]
    losers = [o for o in outcomes.values() if isinstance(o, BatchStateError)]
    assert len(winners) == 1 and len(losers) == 1, outcomes
    assert "cannot be completed now" in losers[0].messages[0]
    batch = Batch.objects.get()
    assert batch.status == BatchStatus.COMPLETED
    products = Sample.objects.filter(kind=SampleKind.CATHODE).exclude(pk=nso_batch.substrate_id)
    assert list(products.values_list("pk", flat=True)) == [batch.product_id]
    after = dict(Lot.objects.values_list("pk", "amount_left"))
    for lot_id, used in expected.items():
        assert after[lot_id] == pytest.approx(before[lot_id] - used)
