"""The long lists page by keyset (issue 12): every row once, in order, across pages (also when
rows share a timestamp), no full COUNT(*), a capped count, and a bad cursor is the first page."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.db import connection
from django.http import QueryDict
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from lims import keyset
from lims.keyset import cursor_of, keyset_page, parse_cursor
from lims.models import Sample
from lims.services import sample_register

pytestmark = pytest.mark.django_db

CODES = re.compile(r'<a href="/samples/([A-Z]+-\d{4}-\d+)/"><strong>')
OLDER = re.compile(r'href="\?([^"]*)" rel="next"')
NEWER = re.compile(r'href="\?([^"]*)" rel="prev"')


def unescape(text: str) -> str:
    return text.replace("&amp;", "&")


@pytest.fixture
def samples(db) -> list[Sample]:
    """120 samples, newest first; 30 of them share one timestamp (ties broken by id)."""
    made = [sample_register(kind="cathode", name=f"powder {i}") for i in range(120)]
    start = timezone.now() - dt.timedelta(days=1)
    for i, sample in enumerate(made):
        at = start + dt.timedelta(minutes=i if i < 60 or i >= 90 else 60)
        Sample.objects.filter(pk=sample.pk).update(created_at=at)
    return sorted(Sample.objects.all(), key=lambda s: (s.created_at, s.pk), reverse=True)


def test_the_sample_list_walks_every_row_once_in_order_and_back(client, chemist, samples):
    client.force_login(chemist)
    seen, pages, query = [], [], ""
    while True:
        html = client.get(f"/samples/?{query}").content.decode()
        pages.append(query)
        seen += CODES.findall(html)
        assert "120 samples" in html
        older = OLDER.search(html)
        if older is None:
            break
        query = unescape(older.group(1))
    assert seen == [s.code for s in samples] and len(pages) == 3
    # back from the last page: "newer" shows exactly the page before
    html = client.get(f"/samples/?{pages[-1]}").content.decode()
    newer = unescape(NEWER.search(html).group(1))
    assert CODES.findall(client.get(f"/samples/?{newer}").content.decode()) == seen[50:100]


def test_filters_stay_on_the_page_links_and_the_count_is_capped(
    client, chemist, samples, monkeypatch
):
    monkeypatch.setattr(keyset, "COUNT_CAP", 100)
    client.force_login(chemist)
    html = client.get("/samples/?kind=cathode&q=powder").content.decode()
    assert "more than 100 samples" in html
    older = unescape(OLDER.search(html).group(1))
    assert "kind=cathode" in older and "q=powder" in older
    page_two = client.get(f"/samples/?{older}").content.decode()
    downloads = re.findall(r'href="([^"]*)" data-testid="download-', page_two)
    assert len(downloads) == 3 and all("kind=cathode" in d and "older" not in d for d in downloads)


def test_no_query_counts_the_whole_table(client, chemist, samples):
    client.force_login(chemist)
    client.get("/samples/")
    with CaptureQueriesContext(connection) as queries:
        client.get("/samples/?older=" + cursor_of(samples[49].created_at, samples[49].pk))
    counts = [q["sql"] for q in queries.captured_queries if "COUNT(" in q["sql"].upper()]
    assert counts and all("LIMIT 1001" in sql for sql in counts), counts


@pytest.mark.parametrize("cursor", ["x", "12.", ".5", "9" * 30 + ".1", "1.2.3", ""])
def test_a_cursor_that_does_not_parse_is_the_first_page(client, chemist, samples, cursor):
    client.force_login(chemist)
    response = client.get("/samples/", {"older": cursor})
    assert response.status_code == 200
    assert CODES.findall(response.content.decode())[0] == samples[0].code


def test_the_cursor_round_trips_to_the_microsecond():
    moment = dt.datetime(2026, 12, 2, 1, 2, 3, 456789, tzinfo=dt.UTC)
    assert parse_cursor(cursor_of(moment, 42)) == (moment, 42)


def test_a_page_in_the_middle_offers_newest_newer_and_older(samples):
    middle = keyset_page(
        Sample.objects.all(), QueryDict(f"older={cursor_of(samples[9].created_at, samples[9].pk)}"),
        size=10,
    )  # fmt: skip
    assert [s.pk for s in middle.object_list] == [s.pk for s in samples[10:20]]
    assert not middle.first and middle.newer and middle.older and middle.matching == 120


def test_the_admin_sample_list_counts_only_the_filtered_rows(admin_client, samples):
    with CaptureQueriesContext(connection) as queries:
        page = admin_client.get("/admin/lims/sample/?kind=cathode")
    assert page.status_code == 200
    counts = [q["sql"] for q in queries.captured_queries if "COUNT(" in q["sql"].upper()]
    assert len(counts) == 1 and "WHERE" in counts[0], counts
    assert page.content.decode().count('class="action-select"') == 50
