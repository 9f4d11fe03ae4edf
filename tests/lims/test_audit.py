"""Every record of the lab apps keeps an audit trail written in the same transaction."""

from __future__ import annotations

import pytest
from django.apps import apps
from django.db import transaction
from simple_history.models import registered_models

from lims.models import Sample
from lims.services import sample_register

LAB_APPS = ("lims", "synthesis", "characterization", "jobs")
# Bookkeeping rows that are not lab records: counters, worker heartbeats, computed caches,
# exports and imports run on the worker (the row itself says who asked, when).
NOT_AUDITED = {"samplecodecounter", "workerheartbeat", "analysisresult", "transfer"}


def lab_models():
    for app_label in LAB_APPS:
        for model in apps.get_app_config(app_label).get_models():
            name = model._meta.model_name
            if not name.startswith("historical") and name not in NOT_AUDITED:
                yield model


@pytest.mark.parametrize("model", list(lab_models()), ids=lambda m: m._meta.label)
def test_every_lab_model_records_its_history(model):
    assert model in registered_models.values() or hasattr(model, "history"), (
        f"{model._meta.label} saves and deletes would write no audit row: "
        "add `history = HistoricalRecords()`"
    )


def test_a_rolled_back_change_leaves_no_audit_row(db):
    with pytest.raises(RuntimeError), transaction.atomic():
        sample_register(kind="cathode", name="never saved")
        raise RuntimeError("the save fails after the audit row was written")
    assert not Sample.history.filter(name="never saved").exists()


def test_a_delete_writes_an_audit_row_with_the_user(db, chemist):
    sample = sample_register(kind="other", name="scrap", owner=chemist)
    pk = sample.pk
    sample.delete()
    assert list(Sample.history.filter(id=pk).values_list("history_type", flat=True)) == ["-", "+"]
