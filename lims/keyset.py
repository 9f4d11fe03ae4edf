"""Keyset ("seek") pages for the long lists (samples, jobs): newest first by a time column and
the id, each page found through the index from where the last one ended, so page 2,000 costs
what page 1 costs and no COUNT(*) runs over the table. How many rows match is counted up to a
cap ("more than 1,000"): a chemist needs to know "37" or "a lot", not 104,213.

The position travels as `?older=<cursor>` (the page after) or `?newer=<cursor>` (the page
before): the row's time in integer microseconds since 1970 and its id, "<µs>.<id>". A cursor
that does not parse is ignored (the first page), never an error page: it only ever comes from
a link Kiln drew, or a hand-edited URL."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db.models import Q, QuerySet
from django.http import QueryDict

EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
COUNT_CAP = 1000
CURSOR_PARAMS = ("older", "newer", "page")  # "page": the numbered pages' old links


def cursor_of(moment: dt.datetime, pk: int) -> str:
    return f"{(moment - EPOCH) // dt.timedelta(microseconds=1)}.{pk}"


def parse_cursor(text: str) -> tuple[dt.datetime, int] | None:
    micros, _, pk = (text or "").partition(".")
    try:
        return EPOCH + dt.timedelta(microseconds=int(micros)), int(pk)
    except (ValueError, OverflowError):
        return None


@dataclass(frozen=True)
class KeysetPage:
    object_list: list
    older: str | None  # cursor of the next page towards the oldest, None at the end
    newer: str | None  # cursor of the previous page, None on the first page
    first: bool  # a "newest" link is offered when False
    matching: int  # rows matching the filters, counted up to COUNT_CAP + 1

    @property
    def matching_text(self) -> str:
        return f"more than {COUNT_CAP:,}" if self.matching > COUNT_CAP else f"{self.matching:,}"

    def url(self, query: QueryDict, **cursor: str) -> str:
        """The list's query string with the cursor parameters replaced by `cursor`."""
        params = query.copy()
        for name in CURSOR_PARAMS:
            params.pop(name, None)
        params.update(cursor)
        return "?" + params.urlencode()


def keyset_page(
    queryset: QuerySet, query: QueryDict, *, size: int, time_field: str = "created_at"
) -> KeysetPage:
    """The page of `queryset` (ordered newest first by `time_field`, then id) that `query`'s
    cursor points at; the queryset's own filters stay as they are."""
    older, newer = parse_cursor(query.get("older", "")), parse_cursor(query.get("newer", ""))
    matching = queryset.order_by().values("pk")[: COUNT_CAP + 1].count()  # no annotation
    if newer is not None:
        moment, pk = newer
        rows = queryset.filter(**{f"{time_field}__gte": moment}).exclude(
            Q(**{time_field: moment}) & Q(pk__lte=pk)
        )
        rows = list(rows.order_by(time_field, "pk")[: size + 1])
        at_start = len(rows) <= size
        rows = rows[:size][::-1]
        return _page(rows, time_field, matching, first=at_start, has_older=True)
    rows = queryset.order_by(f"-{time_field}", "-pk")
    if older is not None:
        moment, pk = older
        rows = rows.filter(**{f"{time_field}__lte": moment}).exclude(
            Q(**{time_field: moment}) & Q(pk__gte=pk)
        )
    rows = list(rows[: size + 1])
    return _page(rows[:size], time_field, matching, first=older is None,
                 has_older=len(rows) > size)  # fmt: skip


def _page(rows: list, time_field: str, matching: int, *, first: bool, has_older: bool):
    def at(row) -> str:
        return cursor_of(getattr(row, time_field), row.pk)

    return KeysetPage(
        object_list=rows,
        older=at(rows[-1]) if rows and has_older else None,
        newer=at(rows[0]) if rows and not first else None,
        first=first,
        matching=matching,
    )
