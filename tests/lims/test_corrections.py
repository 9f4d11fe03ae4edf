"""Samples are corrected with a reason and voided, never deleted: one audit row per change in the
same transaction, lineage kept, void records hidden from lists unless asked for."""

from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from rest_framework.test import APIClient

from lims.corrections import sample_correct, sample_void
from lims.models import EdgeRole, Sample, SampleEdge
from lims.services import ParentLink, sample_register
from tests.lims.factories import UserFactory


@pytest.fixture
def powder(chemist) -> Sample:
    return sample_register(kind="cathode", name="LMNO", formula="Li1.2Mn0.6Ni0.2O2", owner=chemist)


@pytest.fixture
def child(powder, chemist) -> Sample:
    return sample_register(
        kind="electrode", name="LMNO sheet", owner=chemist,
        parents=[ParentLink(powder, EdgeRole.ACTIVE_MATERIAL)],
    )  # fmt: skip


@pytest.fixture
def other_chemist(db):
    return UserFactory(username="olga", groups=["chemist"])


def test_a_note_added_later_shows_in_the_audit_trail_with_the_reason(client, powder, chemist):
    client.force_login(chemist)
    response = client.post(
        f"/samples/{powder.code}/correct/",
        {"name": "LMNO", "location": "", "notes": "sieved < 45 µm", "reason": "forgot to note"},
    )
    assert response.status_code == 302
    powder.refresh_from_db()
    assert powder.notes == "sieved < 45 µm"
    page = client.get(f"/samples/{powder.code}/").content.decode()
    assert "changed notes from “” to “sieved &lt; 45 µm” because forgot to note" in page


def test_a_correction_writes_one_audit_row_with_the_user_and_the_reason(powder, chemist):
    before = powder.history.count()
    changes = sample_correct(
        sample=powder, user=chemist, reason="typo", name="LMNO-2", location="B2"
    )
    rows = list(powder.history.order_by("history_id"))[before:]
    assert len(rows) == 1
    assert (rows[0].name, rows[0].location) == ("LMNO-2", "B2")
    assert (rows[0].history_change_reason, rows[0].history_user) == ("typo", chemist)
    assert {(c.field, c.old, c.new) for c in changes} == {
        ("name", "LMNO", "LMNO-2"),
        ("location", "", "B2"),
    }


def test_a_failing_correction_writes_nothing(powder, chemist):
    before = powder.history.count()
    with pytest.raises(ValidationError) as caught:
        sample_correct(sample=powder, user=chemist, reason="typo", name="  ")
    assert caught.value.message_dict["name"] == [f"{powder.code} needs a name."]
    with pytest.raises(ValidationError):
        sample_correct(sample=powder, user=chemist, reason="", notes="x")
    powder.refresh_from_db()
    assert (powder.name, powder.notes, powder.history.count()) == ("LMNO", "", before)


def test_a_correction_rolled_back_by_its_caller_leaves_no_audit_row(powder, chemist):
    before = powder.history.count()
    with pytest.raises(RuntimeError), transaction.atomic():
        sample_correct(sample=powder, user=chemist, reason="typo", notes="half-saved?")
        raise RuntimeError("the request failed after the correction")
    powder.refresh_from_db()
    assert (powder.notes, powder.history.count()) == ("", before)


def test_only_the_owner_or_a_lab_manager_corrects_or_voids_a_sample(
    client, powder, other_chemist, manager
):
    with pytest.raises(PermissionDenied) as caught:
        sample_correct(sample=powder, user=other_chemist, reason="mine now", notes="x")
    assert "belongs to chen" in str(caught.value)
    with pytest.raises(PermissionDenied):
        sample_void(sample=powder, user=other_chemist, reason="not mine")
    client.force_login(other_chemist)
    assert client.post(f"/samples/{powder.code}/void/", {"reason": "x"}).status_code == 403
    assert Sample.objects.get(pk=powder.pk).voided_at is None
    sample_correct(sample=powder, user=manager, reason="label fell off", location="Shelf 3")
    assert Sample.objects.get(pk=powder.pk).location == "Shelf 3"


def test_voiding_keeps_lineage_and_audit_and_hides_the_sample_from_lists(
    client, powder, child, chemist
):
    history = powder.history.count()
    client.force_login(chemist)

    response = client.post(f"/samples/{powder.code}/void/", {"reason": "contaminated with Fe"})

    assert response.status_code == 302
    powder.refresh_from_db()
    assert powder.voided_by == chemist and powder.void_reason == "contaminated with Fe"
    assert powder.history.count() == history + 1  # one audit row, nothing removed
    assert SampleEdge.objects.filter(parent=powder, child=child).exists()
    assert Sample.objects.get(pk=child.pk).voided_at is None  # descendants are not voided
    link = f'href="/samples/{powder.code}/"'
    listed = client.get("/samples/").content.decode()
    assert link not in listed and f'href="/samples/{child.code}/"' in listed
    shown = client.get("/samples/?void=1").content.decode()
    assert link in shown and 'data-testid="void"' in shown
    page = client.get(f"/samples/{powder.code}/").content.decode()
    assert 'data-testid="void-banner"' in page and "because contaminated with Fe" in page
    assert "voided because contaminated with Fe" in page
    assert f'href="/samples/{child.code}/"' in page  # the lineage is drawn as before
    below = client.get(f"/samples/{child.code}/").content.decode()
    assert 'data-testid="void-ancestors"' in below and powder.code in below


def test_the_api_hides_void_samples_unless_asked(powder, child, chemist):
    sample_void(sample=powder, user=chemist, reason="duplicate")
    api = APIClient()
    api.force_authenticate(chemist)
    codes = [s["code"] for s in api.get("/api/v1/samples/").json()["results"]]
    assert powder.code not in codes and child.code in codes
    rows = api.get("/api/v1/samples/?void=true").json()["results"]
    voided = next(row for row in rows if row["code"] == powder.code)
    assert voided["void_reason"] == "duplicate" and voided["voided_at"]
    bad = api.get("/api/v1/samples/?void=maybe")
    assert bad.status_code == 400 and bad.json()["errors"]["void"] == ["must be true or false"]


def test_a_sample_is_voided_once(powder, chemist):
    sample_void(sample=powder, user=chemist, reason="duplicate")
    with pytest.raises(ValidationError) as caught:
        sample_void(sample=powder, user=chemist, reason="again")
    assert "already voided by chen: duplicate" in caught.value.message_dict["reason"][0]


def test_void_means_who_when_and_why_together(powder, chemist):
    with pytest.raises(IntegrityError), transaction.atomic():
        Sample.objects.filter(pk=powder.pk).update(voided_at=timezone.now())
    with pytest.raises(IntegrityError), transaction.atomic():
        Sample.objects.filter(pk=powder.pk).update(
            voided_at=timezone.now(), voided_by=chemist, void_reason=""
        )


def test_a_void_sample_is_not_corrected(powder, chemist):
    sample_void(sample=powder, user=chemist, reason="duplicate")
    with pytest.raises(ValidationError) as caught:
        sample_correct(sample=powder, user=chemist, reason="typo", notes="x")
    assert "is void (duplicate)" in caught.value.messages[0]


def test_the_admin_void_filter_hides_void_records_until_asked(rf, powder, child, manager):
    from django.contrib import admin

    from lims.void_admin import VoidFilter

    sample_void(sample=powder, user=manager, reason="duplicate")
    model_admin = admin.ModelAdmin(Sample, admin.site)
    model_admin.list_filter = [VoidFilter]

    def listed(**query) -> set[str]:
        request = rf.get("/admin/lims/sample/", query)
        request.user = manager
        return set(
            model_admin.get_changelist_instance(request).queryset.values_list("code", flat=True)
        )

    assert listed() == {child.code}
    assert listed(void="void") == {powder.code}
    assert listed(void="all") == {powder.code, child.code}


def test_every_admin_list_of_voidable_records_hides_void_ones_until_asked(
    admin_client, rf, powder, manager
):
    """The registered admins, not a bare ModelAdmin: each model with void fields (or voided
    through its sample) filters on them by default, and the real sample changelist does."""
    from django.contrib import admin

    from lims.void_admin import VoidFilter

    request = rf.get("/admin/")
    request.user = manager
    missing = []
    for model, model_admin in admin.site._registry.items():
        fields = {f.name for f in model._meta.get_fields()}
        voidable = "voided_at" in fields or model._meta.label_lower in (
            "characterization.coincell",
            "characterization.electrode",
        )
        filters = model_admin.get_list_filter(request)
        has_filter = any(isinstance(f, type) and issubclass(f, VoidFilter) for f in filters)
        if voidable and not has_filter:
            missing.append(model._meta.label_lower)
    assert not missing, missing

    sample_void(sample=powder, user=manager, reason="duplicate")
    listed = admin_client.get("/admin/lims/sample/")
    assert listed.status_code == 200 and powder.code not in listed.content.decode()
    assert powder.code in admin_client.get("/admin/lims/sample/?void=void").content.decode()
