"""Issue 9's observations about who may change what, one test each (a second chemist, a user in
no group, a chemist in the admin), asserting the database afterwards; and the roles' groups."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Group, Permission
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse
from rest_framework.authtoken.models import Token

from characterization.jobs.models import AnalysisJob
from characterization.models import MeasurementFile, RawFile
from lims import rules
from lims.models import Sample
from synthesis.models import BatchStatus
from tests.characterization.factories import upload
from tests.lims.permission_world import make_world

pytestmark = pytest.mark.django_db

HEADER = "code,kind,name,formula,status,location,owner,project,notes,parents\n"


@pytest.fixture
def world(monkeypatch):
    monkeypatch.setattr(
        "characterization.jobs.tasks.analysis_job_run.apply_async", lambda *a, **k: 0
    )
    return make_world()


def signed_in(world, role: str) -> Client:
    client = Client()
    client.force_login(world.users[role])
    return client


def refused(response, owner: str = "olga") -> bool:
    """403 with the sentence naming the record's owner."""
    return response.status_code == 403 and f"belongs to {owner}" in response.content.decode()


def import_csv(client: Client, text: str, *, mode: str = "update"):
    data = SimpleUploadedFile("samples.csv", text.encode(), content_type="text/csv")
    return client.post(reverse("samples:import"), {"file": data, "mode": mode, "dry_run": ""})


# --- a second chemist -------------------------------------------------------------------------


def test_a_second_chemist_cannot_start_tick_fail_or_complete_another_chemists_batch(world):
    batch = world["synthesis.batch"]
    log = batch.step_logs.order_by("order").first()
    otto = signed_in(world, "other")

    answers = [
        otto.post(reverse("synthesis:batch_start", args=[batch.pk])),
        otto.post(
            reverse("synthesis:batch_step", args=[batch.pk, log.pk]),
            {"quick": "1", "done": "on"},
            HTTP_HX_REQUEST="true",
        ),
        otto.post(reverse("synthesis:batch_fail", args=[batch.pk]), {"reason": "spilled"}),
        otto.post(reverse("synthesis:batch_complete", args=[batch.pk]), {"yield_mass_g": "0.9"}),
    ]

    assert all(refused(answer) for answer in answers), [a.status_code for a in answers]
    batch.refresh_from_db()
    log.refresh_from_db()
    assert (batch.status, batch.product, batch.failure_reason) == (BatchStatus.PLANNED, None, "")
    assert batch.started_at is None and not log.done
    page = otto.get(reverse("synthesis:batch_detail", args=[batch.pk])).content.decode()
    assert "batch_start" not in page and f"/synthesis/batches/{batch.pk}/start/" not in page
    owner_page = signed_in(world, "owner").get(reverse("synthesis:batch_detail", args=[batch.pk]))
    assert f"/synthesis/batches/{batch.pk}/start/" in owner_page.content.decode()


def test_the_owner_starts_and_ticks_their_own_batch(world):
    batch = world["synthesis.batch"]
    log = batch.step_logs.order_by("order").first()
    olga = signed_in(world, "owner")

    olga.post(reverse("synthesis:batch_start", args=[batch.pk]))
    olga.post(
        reverse("synthesis:batch_step", args=[batch.pk, log.pk]), {"quick": "1", "done": "on"}
    )

    batch.refresh_from_db()
    log.refresh_from_db()
    assert batch.status == BatchStatus.IN_PROGRESS and log.done


def test_a_second_chemist_cannot_attach_files_to_another_chemists_measurement(world):
    measurement = world["characterization.measurement"]
    links, files = MeasurementFile.objects.count(), RawFile.objects.count()
    url = reverse("measurements:files", args=[measurement.sample.code])

    answer = signed_in(world, "other").post(url, {"files": [upload("extra.csv", b"t,v\n0,1\n")]})

    assert refused(answer)
    assert (MeasurementFile.objects.count(), RawFile.objects.count()) == (links, files)
    page = signed_in(world, "other").get(
        reverse("measurements:detail", args=[measurement.sample.code])
    )
    assert url not in page.content.decode()  # the upload form is not offered


def test_a_second_chemist_cannot_rerun_or_cancel_another_chemists_jobs(world):
    job = world["jobs.analysisjob"]
    otto = signed_in(world, "other")
    jobs = AnalysisJob.objects.count()

    rerun = otto.post(reverse("jobs:rerun", args=[job.pk]))
    run = otto.post(
        reverse("jobs:measurement-run", args=[job.measurement.sample.code]),
        {"definition": job.definition_id},
    )

    assert refused(rerun) and refused(run)
    assert AnalysisJob.objects.count() == jobs
    assert "Re-run" not in otto.get(reverse("jobs:detail", args=[job.pk])).content.decode()
    olga = signed_in(world, "owner")
    assert "Re-run" in olga.get(reverse("jobs:detail", args=[job.pk])).content.decode()
    olga.post(reverse("jobs:rerun", args=[job.pk]))
    assert AnalysisJob.objects.count() == jobs + 1


def test_a_second_chemist_cannot_rename_another_chemists_sample_or_set_its_owner_by_import(world):
    powder = world["lims.sample"]
    name = powder.name
    row = f"{powder.code},cathode,renamed by otto,{powder.formula},active,,otto,,,\n"

    page = import_csv(signed_in(world, "other"), HEADER + row).content.decode()

    assert f"code: Sample {powder.code} belongs to olga; only they or a lab manager" in page
    assert "nothing was saved" in page
    powder.refresh_from_db()
    assert (powder.name, powder.owner.username) == (name, "olga")


def test_a_chemists_owner_column_is_ignored_with_a_note_and_a_new_sample_is_theirs(world):
    powder = world["lims.sample"]
    rows = (
        f"{powder.code},cathode,LMNO batch 7,{powder.formula},active,,otto,,,\n"
        ",cathode,fresh powder,,active,,otto,,,\n"
    )

    page = import_csv(signed_in(world, "owner"), HEADER + rows).content.decode()

    powder.refresh_from_db()
    assert (powder.name, powder.owner.username) == ("LMNO batch 7", "olga")
    assert Sample.objects.get(name="fresh powder").owner.username == "olga"
    assert f"owner &#x27;otto&#x27; ignored: {powder.code} stays olga&#x27;s" in page
    assert "a new sample belongs to whoever imports it (olga)" in page


def test_a_lab_manager_sets_owners_through_the_import(world):
    powder = world["lims.sample"]
    row = f"{powder.code},cathode,{powder.name},{powder.formula},active,,otto,,,\n"

    import_csv(signed_in(world, "manager"), HEADER + row)

    powder.refresh_from_db()
    assert powder.owner.username == "otto"


def test_a_second_chemist_cannot_edit_another_chemists_coin_cell_in_the_admin(world):
    cell = world["characterization.coincell"]
    url = reverse("admin:characterization_coincell_change", args=[cell.pk])
    otto = signed_in(world, "other")

    page = otto.get(url).content.decode()
    answer = otto.post(url, {"cell_format": "CR2032", "electrolyte_name": "otto's", "notes": "x"})

    assert 'name="_save"' not in page  # read-only for him
    assert answer.status_code == 403
    cell.refresh_from_db()
    assert cell.electrolyte_name != "otto's"
    assert 'name="_save"' in signed_in(world, "owner").get(url).content.decode()


def test_a_chemist_cannot_open_the_admin_form_that_adds_an_instrument_mapping(world):
    url = reverse("admin:characterization_instrumentmapping_add")

    assert signed_in(world, "owner").get(url).status_code == 403
    assert signed_in(world, "manager").get(url).status_code == 200


def test_the_analysis_definition_page_opens_read_only_for_a_chemist(world):
    definition = world["jobs.analysisdefinition"]
    url = reverse("admin:jobs_analysisdefinition_change", args=[definition.pk])

    response = signed_in(world, "owner").get(url)

    page = response.content.decode()
    assert response.status_code == 200  # was a 500: KeyError 'parameters'
    assert definition.name in page and 'name="_save"' not in page


def test_the_admin_offers_no_delete_for_a_completed_batch_even_to_a_lab_manager(world):
    batch = world["synthesis.batch"]
    url = reverse("admin:synthesis_batch_delete", args=[batch.pk])

    assert signed_in(world, "manager").post(url, {"post": "yes"}).status_code == 403
    batch.refresh_from_db()  # still there, with its reagents and step logs
    assert batch.reagents.exists() and batch.step_logs.exists()


# --- a user in no group -----------------------------------------------------------------------


def test_a_user_in_no_group_can_neither_import_nor_read(world):
    nadia = signed_in(world, "none")
    samples = Sample.objects.count()

    answer = import_csv(nadia, HEADER + ",cathode,sneaked in,,active,,,,,\n", mode="skip")
    listing = nadia.get(reverse("samples:index"))
    detail = nadia.get(reverse("samples:detail", args=[world["lims.sample"].code]))

    sentence = rules.refusal(world.users["none"], "read", "lims.sample")
    for response in (answer, listing, detail):
        assert response.status_code == 403 and sentence in response.content.decode()
    assert Sample.objects.count() == samples


def test_the_api_answers_403_json_to_a_user_in_no_group_even_with_a_token(world):
    token = Token.objects.create(user=world.users["none"])
    client = Client(HTTP_AUTHORIZATION=f"Token {token.key}")

    response = client.get("/api/v1/samples/")

    assert response.status_code == 403
    assert response.json() == {
        "errors": {"non_field_errors": [rules.refusal(world.users["none"], "read", "x")]}
    }
    assert Client(HTTP_AUTHORIZATION=f"Token {token.key}").get("/api/schema/").status_code == 403


def test_a_user_in_no_group_sees_their_own_profile(world):
    nadia = world.users["none"]
    nadia.last_name, nadia.email = "Noor", "nadia@lab.example"
    nadia.save()

    page = signed_in(world, "none").get(reverse("profile")).content.decode()

    for text in ("nadia", "Ada Noor", "nadia@lab.example", "none", "No role yet"):
        assert text in page
    olga = signed_in(world, "owner").get(reverse("profile")).content.decode()
    assert "chemist" in olga and "change those you own" in olga


# --- the groups -------------------------------------------------------------------------------


def _codenames(group: str) -> set[str]:
    return set(Group.objects.get(name=group).permissions.values_list("codename", flat=True))


def test_migrate_creates_the_viewer_group_which_only_views(db):
    viewer = _codenames("viewer")
    assert viewer and all(name.startswith("view_") for name in viewer)
    assert {"view_batch", "view_coincell", "view_sample"} <= viewer


def test_chemists_lose_add_and_change_on_lab_manager_things(db):
    chemist = _codenames("chemist")
    for model in ("recipe", "chemical", "lot", "instrumentmapping", "analysisdefinition"):
        assert f"add_{model}" not in chemist and f"change_{model}" not in chemist, model
    assert {"add_batch", "change_coincell", "view_chemical"} <= chemist
    assert not any(name.startswith("delete_") for name in chemist)
    manager = _codenames("lab-manager")
    assert {"add_lot", "change_user", "add_token"} <= manager
    assert Permission.objects.filter(codename="delete_batch").exists()


def test_a_superuser_is_a_lab_manager_but_deletes_no_record_that_carries_data(world):
    root = world.users["manager"]
    root.is_superuser = True
    assert rules.allowed(root, "change", world["characterization.coincell"])
    assert not rules.allowed(root, "delete", world["synthesis.batch"])
    assert rules.allowed(root, "delete", world["characterization.instrumentmapping"])
    assert "voided with a reason" in rules.refusal(root, "delete", world["synthesis.batch"])
