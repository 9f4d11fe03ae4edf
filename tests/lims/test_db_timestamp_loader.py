"""lims.db reads timestamptz values with psycopg's compiled loader, not Django's pure-Python
subclass: the values must be the ones Django's loader gives (aware, tzinfo UTC, microseconds
kept, other offsets converted), and a failure stays a failure."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection, connections
from django.db.backends.postgresql.psycopg_any import register_tzloader

from lims.db import base as kiln_db

pytestmark = pytest.mark.services

LITERALS = [
    "2026-03-29 01:30:00.123456+02",  # the night Berlin's clocks go forward
    "2026-10-25 02:30:00+01",
    "1999-12-31 23:59:59.999999-11:30",
    "0001-01-02 00:00:00+00",
    "2026-12-02 03:44:16+00",
]


def read(cursor, literal: str):
    cursor.execute("SELECT %s::timestamptz", [literal])
    return cursor.fetchone()[0]


def test_timestamps_read_as_djangos_own_loader_reads_them(db):
    assert isinstance(connections["default"], kiln_db.DatabaseWrapper)
    with connection.cursor() as fast, connection.cursor() as django_way:
        assert fast.cursor.adapters.get_loader(1184, 0) is kiln_db.C_TIMESTAMPTZ_LOADER
        register_tzloader(dt.UTC, django_way.cursor)  # what Django registers on its own
        assert django_way.cursor.adapters.get_loader(1184, 0) is not kiln_db.C_TIMESTAMPTZ_LOADER
        for literal in LITERALS:
            ours, theirs = read(fast, literal), read(django_way, literal)
            assert ours == theirs and ours.tzinfo is dt.UTC and theirs.tzinfo is dt.UTC, literal
        fast.execute("SELECT NULL::timestamptz")
        assert fast.fetchone()[0] is None


def test_a_timestamp_python_cannot_hold_is_still_an_error(db):
    with connection.cursor() as cursor, pytest.raises(Exception, match="(?i)infinity|too large"):
        read(cursor, "infinity")


def test_model_fields_come_back_aware_in_utc(db, django_user_model):
    user = django_user_model.objects.create(username="clock")
    joined = django_user_model.objects.values_list("date_joined", flat=True).get(pk=user.pk)
    assert joined.tzinfo is dt.UTC
    assert abs(joined - user.date_joined) < dt.timedelta(microseconds=1)
