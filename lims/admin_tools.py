"""Admin pieces every Kiln model admin shares: CSV/Excel export of any list, and list filters
that reach across the lineage (built from lims.sample_filters)."""

from __future__ import annotations

from django.contrib import admin, messages
from django.http import HttpResponse
from django.shortcuts import redirect
from django.utils import timezone

from lims import sample_filters, tabular, transfers


def export_columns(modeladmin) -> list[str]:
    return [f for f in modeladmin.get_list_display(None) if f != "action_checkbox"]


def export_value(modeladmin, obj, name: str):
    attr = getattr(modeladmin, name, None)
    if callable(attr):
        return attr(obj)
    value = getattr(obj, name)
    display = getattr(obj, f"get_{name}_display", None)
    return display() if callable(display) else value() if callable(value) else value


def _export(modeladmin, request, queryset, fmt: str) -> HttpResponse:
    """A small selection in the response; a large one is written on the worker (its page
    offers the download when ready)."""
    if queryset.count() > transfers.export_sync_rows():
        pks = list(queryset.order_by("pk").values_list("pk", flat=True))
        transfer = transfers.admin_export_start(
            model=modeladmin.model, pks=pks, fmt=fmt, user=request.user
        )
        return redirect("transfers:detail", pk=transfer.pk)
    columns = export_columns(modeladmin)
    rows = [[export_value(modeladmin, obj, c) for c in columns] for obj in queryset]
    name = modeladmin.model._meta.model_name
    stamp = timezone.localtime().strftime("%Y%m%d-%H%M")
    if fmt == "xlsx":
        body = tabular.write_xlsx(columns, rows, title=name)
        mime = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    else:
        body, mime = tabular.write_csv(columns, rows), "text/csv; charset=utf-8"
    response = HttpResponse(body, content_type=mime)
    response["Content-Disposition"] = f'attachment; filename="kiln-{name}-{stamp}.{fmt}"'
    return response


@admin.action(description="Export selected as CSV")
def export_csv(modeladmin, request, queryset):
    return _export(modeladmin, request, queryset, "csv")


@admin.action(description="Export selected as Excel")
def export_xlsx(modeladmin, request, queryset):
    return _export(modeladmin, request, queryset, "xlsx")


def lineage_list_filters() -> list[type[admin.SimpleListFilter]]:
    """One admin list filter per registered sample filter that offers choices."""
    classes = []
    for f in sample_filters.registered().values():
        if f.choices is None:
            continue
        attrs = {"title": f.label, "parameter_name": f.name, "sample_filter": f}
        classes.append(type(f"{f.name.title()}LineageFilter", (_LineageFilter,), attrs))
    return classes


class _LineageFilter(admin.SimpleListFilter):
    sample_filter: sample_filters.SampleFilter

    def lookups(self, request, model_admin):
        return self.sample_filter.choices()

    def queryset(self, request, queryset):
        if not self.value():
            return queryset
        try:
            return self.sample_filter.apply(queryset, self.value())
        except ValueError as exc:
            messages.error(request, f"{self.title}: {exc}")
            return queryset.none()
