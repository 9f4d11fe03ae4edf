"""The admin's "void" list filter: void records are hidden from a changelist until asked for,
as on the pages and in the API (lims.voiding). Add `VoidFilter` to a ModelAdmin's list_filter;
for a model voided through its sample (cells, electrodes), `sample_void_filter()`."""

from __future__ import annotations

from django.contrib import admin

LIVE, VOID, ALL = "live", "void", "all"


class VoidFilter(admin.SimpleListFilter):
    title = "void"
    parameter_name = "void"
    field = (
        "voided_at"  # the voided_at this filter reads (through a relation for sample_void_filter)
    )

    def lookups(self, request, model_admin):
        return [(VOID, "Void only"), (ALL, "All, void included")]

    def choices(self, changelist):
        """ "Not void" is the default choice (no parameter), not Django's "All"."""
        value = self.value() or LIVE
        for lookup, title in [(LIVE, "Not void"), *self.lookup_choices]:
            query = {} if lookup == LIVE else {self.parameter_name: lookup}
            yield {
                "selected": value == lookup,
                "query_string": changelist.get_query_string(query, [self.parameter_name]),
                "display": title,
            }

    def queryset(self, request, queryset):
        value = self.value() or LIVE
        if value == VOID:
            return queryset.filter(**{f"{self.field}__isnull": False})
        if value == ALL:
            return queryset
        return queryset.filter(**{f"{self.field}__isnull": True})


def sample_void_filter(path: str = "sample") -> type[VoidFilter]:
    """VoidFilter reading the voided_at of the record's sample (`path` to it)."""
    return type("SampleVoidFilter", (VoidFilter,), {"field": f"{path}__voided_at"})
