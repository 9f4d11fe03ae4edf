"""Corrections of closed batches with a reason, and voided batches (never deleted)."""

from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse

from lims.models import EdgeRole, SampleEdge
from synthesis import corrections, services
from synthesis.models import Batch, BatchReagent, BatchStatus, Lot
from synthesis.services import Actual
from tests.lims.factories import UserFactory
from tests.synthesis.conftest import reagent


def _completed(batch: Batch, user, yield_mass_g: float = 0.95) -> Batch:
    rows = {r.line.name: r for r in batch.reagents.select_related("line")}
    services.batch_record_actuals(
        user=user,
        batch=batch,
        actuals={
            rows["LMNO"].pk: Actual(mass_g=0.998),
            rows["TEOS"].pk: Actual(volume_ml=0.0187),
            rows["Na2CO3"].pk: Actual(mass_g=0.0088),
        },
    )
    return services.batch_complete(user=user, batch=batch, yield_mass_g=yield_mass_g)


@pytest.fixture
def fifty_grams(nso_batch, chemist) -> Batch:
    """A completed batch whose yield was typed as 50 g instead of 0.50 g (recorded before Kiln
    held yields to the theoretical yield, which now refuses such a number at completion)."""
    batch = _completed(nso_batch, chemist)
    batch.yield_mass_g = 50.0
    batch.save(update_fields=["yield_mass_g"])
    return Batch.objects.get(pk=batch.pk)


@pytest.fixture
def other_chemist(db):
    return UserFactory(username="olga", groups=["chemist"])


WHY = "typed in the wrong unit: the balance read 0.50 g"


def test_a_completed_batchs_50_g_yield_corrected_to_half_a_gram_shows_in_the_audit_trail(
    client, fifty_grams, chemist
):
    client.force_login(chemist)
    url = reverse("synthesis:batch_correct", args=[fifty_grams.pk])
    form = client.get(url)
    assert form.status_code == 200 and 'value="50.0"' in form.content.decode()

    response = client.post(url, {"yield_mass_g": "0.50", "notes": "", "reason": WHY})

    assert response.status_code == 302
    fifty_grams.refresh_from_db()
    assert fifty_grams.yield_mass_g == 0.5
    last = fifty_grams.history.order_by("-history_id").first()
    assert last.history_change_reason == WHY and last.history_user == chemist
    page = client.get(reverse("synthesis:batch_detail", args=[fifty_grams.pk])).content.decode()
    assert f"changed yield (g) from “50” to “0.5” because {WHY}" in page


def test_a_correction_writes_exactly_one_audit_row_with_the_reason(fifty_grams, chemist):
    before = fifty_grams.history.count()
    corrections.batch_correct(batch=fifty_grams, user=chemist, reason=WHY, yield_mass_g=0.5)
    rows = list(fifty_grams.history.order_by("history_id"))[before:]
    assert len(rows) == 1
    assert (rows[0].yield_mass_g, rows[0].history_change_reason) == (0.5, WHY)


def test_a_yield_above_the_theoretical_yield_is_refused_and_nothing_is_written(
    fifty_grams, chemist
):
    before = (fifty_grams.history.count(), BatchReagent.history.count(), Lot.history.count())
    with pytest.raises(ValidationError) as caught:
        corrections.batch_correct(batch=fifty_grams, user=chemist, reason=WHY, yield_mass_g=5.0)
    assert "above the theoretical yield" in caught.value.message_dict["yield_mass_g"][0]
    fifty_grams.refresh_from_db()
    assert fifty_grams.yield_mass_g == 50.0
    assert (fifty_grams.history.count(), BatchReagent.history.count(), Lot.history.count()) == (
        before
    )


def test_a_corrected_yield_is_held_to_the_physical_bounds(fifty_grams, chemist):
    with pytest.raises(ValidationError) as caught:
        corrections.batch_correct(batch=fifty_grams, user=chemist, reason=WHY, yield_mass_g=-1)
    assert caught.value.message_dict["yield_mass_g"] == [
        "yield must be greater than 0 g and at most 10,000 g, got -1 g"
    ]


def test_a_correction_without_a_reason_is_refused_naming_the_batch(fifty_grams, chemist):
    with pytest.raises(ValidationError) as caught:
        corrections.batch_correct(batch=fifty_grams, user=chemist, reason="  ", yield_mass_g=0.5)
    message = caught.value.message_dict["reason"][0]
    assert fifty_grams.code in message and "Say why" in message
    fifty_grams.refresh_from_db()
    assert fifty_grams.yield_mass_g == 50.0


def test_the_form_without_a_reason_is_refused_and_changes_nothing(client, fifty_grams, chemist):
    client.force_login(chemist)
    url = reverse("synthesis:batch_correct", args=[fifty_grams.pk])
    response = client.post(url, {"yield_mass_g": "0.50", "reason": ""})
    assert response.status_code == 400 and "This field is required" in response.content.decode()
    fifty_grams.refresh_from_db()
    assert fifty_grams.yield_mass_g == 50.0


def test_another_chemist_cannot_correct_the_batch_but_a_lab_manager_can(
    client, fifty_grams, other_chemist, manager
):
    with pytest.raises(PermissionDenied):
        corrections.batch_correct(batch=fifty_grams, user=other_chemist, reason=WHY, yield_mass_g=1)
    client.force_login(other_chemist)
    url = reverse("synthesis:batch_correct", args=[fifty_grams.pk])
    assert client.post(url, {"yield_mass_g": "0.5", "reason": WHY}).status_code == 403
    fifty_grams.refresh_from_db()
    assert fifty_grams.yield_mass_g == 50.0

    corrections.batch_correct(batch=fifty_grams, user=manager, reason=WHY, yield_mass_g=0.5)
    fifty_grams.refresh_from_db()
    assert fifty_grams.yield_mass_g == 0.5
    assert fifty_grams.history.first().history_user == manager


def test_a_corrected_amount_corrects_the_lot_and_the_lineage_edge_with_the_reason(
    nso_batch, chemist
):
    batch = _completed(nso_batch, chemist)
    soda = reagent(batch, "Na2CO3")
    lot_before = Lot.objects.get(pk=soda.lot_id).amount_left

    done = corrections.batch_correct(
        batch=batch, user=chemist, reason="read the wrong line of the balance log",
        actuals={soda.pk: Actual(mass_g=0.0090)},
    )  # fmt: skip

    soda.refresh_from_db()
    assert soda.actual_mass_g == 0.0090 and done.reagents["Na2CO3"][0].old == 0.0088
    assert soda.history.first().history_change_reason == "read the wrong line of the balance log"
    lot = Lot.objects.get(pk=soda.lot_id)
    assert lot.amount_left == pytest.approx(lot_before - 0.0002)
    edge = SampleEdge.objects.get(parent=lot.sample, child=batch.product, role=EdgeRole.REAGENT)
    assert (edge.amount, edge.amount_unit) == (0.0090, "g")
    assert "read the wrong line" in edge.history.first().history_change_reason


def test_correcting_the_amounts_holds_the_old_yield_to_the_new_theoretical_yield(
    nso_batch, chemist
):
    batch = _completed(nso_batch, chemist, yield_mass_g=0.99)
    lmno = reagent(batch, "LMNO")
    audit_rows = BatchReagent.history.count() + Lot.history.count() + SampleEdge.history.count()
    with pytest.raises(ValidationError) as caught:
        corrections.batch_correct(
            batch=batch, user=chemist, reason="substrate was 0.5 g",
            actuals={lmno.pk: Actual(mass_g=0.5)},
        )  # fmt: skip
    assert "above the theoretical yield" in caught.value.message_dict["yield_mass_g"][0]
    lmno.refresh_from_db()
    assert lmno.actual_mass_g == 0.998  # written before the yield check, rolled back with it
    assert (
        BatchReagent.history.count() + Lot.history.count() + SampleEdge.history.count()
        == audit_rows
    )


def test_notes_of_a_batch_can_be_corrected_later_with_a_reason(client, nso_batch, chemist):
    client.force_login(chemist)
    url = reverse("synthesis:batch_correct", args=[nso_batch.pk])
    client.post(url, {"notes": "stirred 10 min longer", "reason": "forgot to note it"})
    nso_batch.refresh_from_db()
    assert nso_batch.notes == "stirred 10 min longer"
    assert nso_batch.history.first().history_change_reason == "forgot to note it"


def test_an_open_batch_has_no_yield_to_correct(nso_batch, chemist):
    with pytest.raises(ValidationError) as caught:
        corrections.batch_correct(batch=nso_batch, user=chemist, reason=WHY, yield_mass_g=0.5)
    assert "is not completed" in caught.value.message_dict["yield_mass_g"][0]


def test_nothing_to_correct_is_said_and_writes_no_audit_row(fifty_grams, chemist):
    before = fifty_grams.history.count()
    with pytest.raises(ValidationError) as caught:
        corrections.batch_correct(batch=fifty_grams, user=chemist, reason=WHY, yield_mass_g=50.0)
    assert "Nothing to correct" in caught.value.messages[0]
    assert fifty_grams.history.count() == before


# --- void --------------------------------------------------------------------------------------


def test_a_void_batch_is_kept_with_its_lineage_hidden_from_the_list_and_shown_with_the_filter(
    client, nso_batch, chemist
):
    batch = _completed(nso_batch, chemist)
    reagents, logs = batch.reagents.count(), batch.step_logs.count()
    edges = SampleEdge.objects.filter(child=batch.product).count()
    client.force_login(chemist)

    response = client.post(
        reverse("synthesis:batch_void", args=[batch.pk]), {"reason": "recorded twice"}
    )

    assert response.status_code == 302
    batch = Batch.objects.get(pk=batch.pk)
    assert (batch.voided_by, batch.void_reason) == (chemist, "recorded twice")
    assert batch.voided_at is not None and batch.status == BatchStatus.COMPLETED
    assert (batch.reagents.count(), batch.step_logs.count()) == (reagents, logs)
    assert SampleEdge.objects.filter(child=batch.product).count() == edges
    assert batch.history.first().history_change_reason == "voided: recorded twice"
    link = f'href="{reverse("synthesis:batch_detail", args=[batch.pk])}"'
    assert link not in client.get(reverse("synthesis:index")).content.decode()
    shown = client.get(reverse("synthesis:index") + "?void=on").content.decode()
    assert link in shown and 'data-testid="void"' in shown
    page = client.get(reverse("synthesis:batch_detail", args=[batch.pk])).content.decode()
    assert 'data-testid="void-banner"' in page and "because recorded twice" in page
    assert "voided because recorded twice" in page  # the audit trail
    product = client.get(f"/samples/{batch.product.code}/").content.decode()
    assert f"The batch that made this sample, {batch.code}, is void" in product


def test_voiding_needs_a_reason_and_the_owner_or_a_lab_manager(nso_batch, other_chemist):
    with pytest.raises(PermissionDenied):
        corrections.batch_void(batch=nso_batch, user=other_chemist, reason="not mine")
    with pytest.raises(ValidationError):
        corrections.batch_void(batch=nso_batch, user=nso_batch.operator, reason="")
    assert Batch.objects.get(pk=nso_batch.pk).voided_at is None


def test_a_void_batch_cannot_be_corrected(fifty_grams, chemist):
    corrections.batch_void(batch=fifty_grams, user=chemist, reason="duplicate")
    with pytest.raises(ValidationError) as caught:
        corrections.batch_correct(batch=fifty_grams, user=chemist, reason=WHY, yield_mass_g=0.5)
    assert "is void (duplicate)" in caught.value.messages[0]
