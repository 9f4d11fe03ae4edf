from django.contrib import admin

from lims.models import WorkerHeartbeat

admin.site.site_header = "Kiln administration"
admin.site.site_title = "Kiln admin"


@admin.register(WorkerHeartbeat)
class WorkerHeartbeatAdmin(admin.ModelAdmin):
    list_display = ("worker", "received_at", "written_at")
    readonly_fields = ("worker", "token", "received_at", "written_at")
