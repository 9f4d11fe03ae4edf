from django.contrib import admin
from django.contrib.auth import get_user_model
from django.contrib.auth.admin import GroupAdmin, UserAdmin
from django.contrib.auth.models import Group
from django.http import HttpResponseRedirect
from django.urls import reverse
from rest_framework.authtoken.admin import TokenAdmin
from rest_framework.authtoken.models import TokenProxy
from simple_history.admin import SimpleHistoryAdmin

from lims.admin_rules import RulesAdminMixin, RulesInlineMixin
from lims.admin_tools import export_csv, export_xlsx, lineage_list_filters
from lims.lineage import ancestor_depths, descendant_depths
from lims.models import Project, Sample, SampleEdge, WorkerHeartbeat
from lims.void_admin import VoidFilter

admin.site.site_header = "Kiln administration"
admin.site.site_title = "Kiln admin"
admin.site.add_action(export_csv)
admin.site.add_action(export_xlsx)

# People and their API tokens: lab managers only (lims.rules), through the same mixin.
PEOPLE_ADMINS = ((get_user_model(), UserAdmin), (Group, GroupAdmin), (TokenProxy, TokenAdmin))
for _model, _admin in PEOPLE_ADMINS:
    admin.site.unregister(_model)
    admin.site.register(_model, type(f"Kiln{_admin.__name__}", (RulesAdminMixin, _admin), {}))


class LineageFilter(admin.SimpleListFilter):
    """?lineage=up:CODE or down:CODE — set by the "show ancestors/descendants" actions."""

    title = "lineage"
    parameter_name = "lineage"

    def lookups(self, request, model_admin):
        value = self.value()
        return [(value, value.replace(":", " of ", 1))] if value else []

    def queryset(self, request, queryset):
        direction, _, code = (self.value() or "").partition(":")
        sample = Sample.objects.filter(code=code).first()
        if not sample:
            return queryset
        walk = ancestor_depths if direction == "up" else descendant_depths
        return queryset.filter(pk__in=list(walk(sample.pk)))


class ParentEdgeInline(RulesInlineMixin, admin.TabularInline):
    model = SampleEdge
    fk_name = "child"
    extra = 0
    autocomplete_fields = ["parent"]
    verbose_name = "parent"


@admin.register(Sample)
class SampleAdmin(RulesAdminMixin, SimpleHistoryAdmin):
    list_display = ("code", "kind", "name", "formula", "status", "owner", "project", "created_at")
    list_select_related = ("owner", "project")
    search_fields = ("code", "name", "formula", "notes")
    # at 100,000 samples: no COUNT(*) of the whole table beside the filtered one, no date
    # hierarchy (two more passes over the filtered rows; the "created" filter needs none), and
    # pages of 50 (a changelist row costs more to render than to read)
    show_full_result_count = False
    list_per_page = 50
    # the stock is corrected with a reason on the sample's page (lims.stock_services)
    readonly_fields = ("code", "created_at", "initial_mass_g")
    inlines = [ParentEdgeInline]
    actions = ["show_ancestors", "show_descendants"]

    def get_list_filter(self, request):
        filters = ["kind", "status", "created_at", "owner", "project", LineageFilter]
        return [VoidFilter, *filters, *lineage_list_filters()]

    @admin.action(description="Show ancestors of the selected sample")
    def show_ancestors(self, request, queryset):
        return self._lineage_redirect(request, queryset, "up")

    @admin.action(description="Show descendants of the selected sample")
    def show_descendants(self, request, queryset):
        return self._lineage_redirect(request, queryset, "down")

    def _lineage_redirect(self, request, queryset, direction: str):
        if queryset.count() != 1:
            self.message_user(request, "Select exactly one sample.", level="warning")
            return None
        url = reverse("admin:lims_sample_changelist")
        return HttpResponseRedirect(f"{url}?lineage={direction}:{queryset.get().code}")


@admin.register(Project)
class ProjectAdmin(RulesAdminMixin, SimpleHistoryAdmin):
    list_display = ("code", "name", "created_at")
    search_fields = ("code", "name")


@admin.register(WorkerHeartbeat)
class WorkerHeartbeatAdmin(RulesAdminMixin, admin.ModelAdmin):
    list_display = ("worker", "received_at", "written_at")
    readonly_fields = ("worker", "token", "received_at", "written_at")
