"""Lab roles exist after migrate; the demo data is idempotent and prints its logins."""

from __future__ import annotations

from io import StringIO

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.management import call_command


def test_migrate_creates_the_chemist_and_lab_manager_groups(db):
    assert set(Group.objects.values_list("name", flat=True)) >= {"chemist", "lab-manager"}


def test_only_lab_managers_may_manage_users(chemist, manager):
    assert manager.has_perm("auth.add_user") and manager.has_perm("auth.change_group")
    assert not chemist.has_perm("auth.add_user")
    assert chemist.has_perm("lims.view_workerheartbeat")


def test_load_demo_prints_the_logins_and_a_second_run_changes_nothing(db):
    first = StringIO()
    call_command("load_demo", stdout=first)
    users = {u.username: (u.password, u.last_login) for u in get_user_model().objects.all()}
    second = StringIO()
    call_command("load_demo", stdout=second)
    after = {u.username: (u.password, u.last_login) for u in get_user_model().objects.all()}
    assert after == users
    assert "chemist / kiln-chemist  [created]" in first.getvalue()
    assert "manager / kiln-manager  [exists]" in second.getvalue()
    chemist = get_user_model().objects.get(username="chemist")
    assert list(chemist.groups.values_list("name", flat=True)) == ["chemist"]
    assert chemist.check_password("kiln-chemist")
