"""Pagination for the API's long lists: a cursor (no COUNT(*), no OFFSET scan), so that a page
of 100,000 samples costs what the first page costs.

`?limit=` sets the page size (default 100, at most 1000); the response is
`{"next": url|null, "previous": url|null, "results": [...]}`. The ordering must match an index
and end in a unique column so that the cursor is stable."""

from __future__ import annotations

from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.pagination import CursorPagination


class KilnCursorPagination(CursorPagination):
    page_size = 100
    page_size_query_param = "limit"
    max_page_size = 1000
    ordering = ("-created_at", "-id")

    def decode_cursor(self, request):
        try:
            return super().decode_cursor(request)
        except NotFound:  # DRF's answer to a forged or damaged cursor
            raise ValidationError(
                {"cursor": ["not a cursor this list gave; follow next/previous"]}
            ) from None


def cursor_pagination(*ordering: str) -> type[KilnCursorPagination]:
    """A cursor pagination ordered by `ordering` (e.g. "-id", or "-created_at", "-id")."""
    return type("KilnCursorPagination", (KilnCursorPagination,), {"ordering": ordering})
