"""Admin for analysis definitions (lab managers choose which analyses run, with which
parameters, on which measurement types), jobs (cancel, re-run) and results (read only)."""

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.db.models import Count
from simple_history.admin import SimpleHistoryAdmin

from characterization.analysis import registry
from characterization.jobs import enqueue, queries
from characterization.jobs.models import AnalysisDefinition, AnalysisJob, AnalysisResult
from characterization.models import MeasurementType
from lims import rules
from lims.admin_rules import RulesAdminMixin
from lims.void_admin import VoidFilter


def _kind_choices() -> list[tuple[str, str]]:
    return [
        (key, f"{kind.title} ({key}, version {kind.version}, reads {kind.table_kind} tables)")
        for key, kind in sorted(registry.kinds().items())
    ]


def _parameter_help() -> str:
    lines = []
    for key, kind in sorted(registry.kinds().items()):
        params = ", ".join(f"{p.name} ({p.label}; default {p.default!r})" for p in kind.params)
        lines.append(f"{key}: {params or 'no parameters'}")
    return "Leave empty for the defaults. " + " · ".join(lines)


class AnalysisDefinitionForm(forms.ModelForm):
    kind = forms.ChoiceField(label="Analysis", choices=_kind_choices)
    auto_run_for = forms.MultipleChoiceField(
        label="Run automatically for",
        choices=MeasurementType.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text="Uploading a file to a measurement of these types starts this analysis (a "
        "type whose files give the table the analysis reads).",
    )

    class Meta:
        model = AnalysisDefinition
        fields = ("name", "kind", "parameters", "auto_run_for", "enabled", "description")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if "parameters" in self.fields:  # absent from a read-only (view permission) form
            self.fields["parameters"].help_text = _parameter_help()
            self.fields["parameters"].required = False

    def clean_parameters(self):
        return self.cleaned_data.get("parameters") or {}


@admin.register(AnalysisDefinition)
class AnalysisDefinitionAdmin(RulesAdminMixin, SimpleHistoryAdmin):
    """Lab managers choose which analyses run, with which parameters, on which measurements."""

    form = AnalysisDefinitionForm
    list_display = ("name", "kind", "code_version", "auto_run_label", "enabled", "job_count")
    list_filter = ("enabled", "kind")
    search_fields = ("name", "kind", "description")
    readonly_fields = ("created_by", "created_at", "updated_at")
    actions = ("rerun_on_all_measurements",)

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(_jobs=Count("jobs"))

    @admin.display(description="code version")
    def code_version(self, obj: AnalysisDefinition) -> str:
        kind = registry.kinds().get(obj.kind)
        return f"v{kind.version}" if kind else "unknown analysis"

    @admin.display(description="runs automatically for")
    def auto_run_label(self, obj: AnalysisDefinition) -> str:
        labels = dict(MeasurementType.choices)
        return ", ".join(labels.get(t, t) for t in obj.auto_run_for) or "– (on request)"

    @admin.display(description="jobs", ordering="_jobs")
    def job_count(self, obj: AnalysisDefinition) -> int:
        return obj._jobs

    def has_delete_permission(self, request, obj=None) -> bool:
        allowed = super().has_delete_permission(request, obj)  # lab managers (lims.rules)
        return allowed and (obj is None or not obj.jobs.exists())

    def save_model(self, request, obj, form, change):
        if not change:
            obj.created_by = request.user
        super().save_model(request, obj, form, change)

    @admin.action(
        description="Re-run on all old measurements (new analysis version or parameters)",
        permissions=("change",),
    )
    def rerun_on_all_measurements(self, request, queryset):
        for definition in queryset:
            try:
                report = enqueue.definition_rerun_all(definition=definition, user=request.user)
            except ValidationError as exc:
                problems = "; ".join(m for ms in exc.message_dict.values() for m in ms)
                self.message_user(request, f"{definition.name}: {problems}.", messages.ERROR)
            else:
                self.message_user(request, f"{definition.name}: {report}.", messages.SUCCESS)
                waiting = definition.jobs.all()  # those queued while the broker is down
                if note := queries.broker_note(waiting):
                    self.message_user(request, f"{definition.name}: {note}", messages.WARNING)


@admin.register(AnalysisJob)
class AnalysisJobAdmin(RulesAdminMixin, admin.ModelAdmin):
    list_display = (
        "id",
        "status",
        "definition",
        "measurement_code",
        "file_name",
        "progress_percent",
        "attempts",
        "worker",
        "reused",
        "enqueued_at",
        "finished_at",
    )
    list_filter = (VoidFilter, "status", "kind", "definition", "reused", "worker")
    search_fields = (
        "measurement__sample__code",
        "measurement__subject__code",
        "raw_file__original_name",
        "raw_file__sha256",
        "cache_key",
        "error",
    )
    list_select_related = ("definition", "measurement__sample", "raw_file")
    readonly_fields = [f.name for f in AnalysisJob._meta.fields]
    date_hierarchy = "enqueued_at"
    actions = ("cancel_jobs", "rerun_jobs")

    @admin.display(description="measurement", ordering="measurement__sample__code")
    def measurement_code(self, obj: AnalysisJob) -> str:
        return obj.measurement.sample.code

    @admin.display(description="file", ordering="raw_file__original_name")
    def file_name(self, obj: AnalysisJob) -> str:
        return obj.raw_file.original_name

    def has_add_permission(self, request) -> bool:
        return False  # jobs start from uploads, the measurement page or the definition action

    def has_delete_permission(self, request, obj=None) -> bool:
        return False  # a job is the record of what ran

    @admin.action(description="Cancel the selected queued or running jobs", permissions=("change",))
    def cancel_jobs(self, request, queryset):
        jobs = self._runnable(request, queryset)
        cancelled = sum(enqueue.job_cancel(job=job, user=request.user) for job in jobs)
        self.message_user(request, f"{cancelled} job(s) cancelled.", messages.SUCCESS)

    @admin.action(description="Re-run the selected jobs", permissions=("change",))
    def rerun_jobs(self, request, queryset):
        jobs = self._runnable(request, queryset)
        jobs = [enqueue.job_rerun(job=job, user=request.user) for job in jobs]
        self.message_user(request, f"{len(jobs)} job(s) queued or reused.", messages.SUCCESS)
        if note := queries.broker_note(jobs):
            self.message_user(request, note, messages.WARNING)

    def _runnable(self, request, queryset) -> list[AnalysisJob]:
        """The selected jobs the user may run (lims.rules); the others are named and left."""
        jobs = list(queryset.select_related("measurement__sample", "measurement__operator"))
        refused = [job for job in jobs if not rules.allowed(request.user, "run", job)]
        for job in refused:
            self.message_user(request, rules.refusal(request.user, "run", job), messages.ERROR)
        return [job for job in jobs if job not in refused]


@admin.register(AnalysisResult)
class AnalysisResultAdmin(RulesAdminMixin, admin.ModelAdmin):
    list_display = ("short_key", "kind", "kind_version", "parser_version", "created_at")
    list_filter = (VoidFilter, "kind", "kind_version", "parser_version")
    search_fields = ("cache_key", "input_checksums")
    readonly_fields = [f.name for f in AnalysisResult._meta.fields]
    date_hierarchy = "created_at"

    @admin.display(description="cache key", ordering="cache_key")
    def short_key(self, obj: AnalysisResult) -> str:
        return f"{obj.cache_key[:12]}…"

    def has_add_permission(self, request) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False
