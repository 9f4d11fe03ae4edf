"""The jobs list's filters (django-filter): status, definition, analysis kind, measurement,
cell or sample, created since/until, and void jobs. A code that names nothing is a 400 naming
the parameter, not an empty list (DRF's ValidationError: the backend runs these methods after
its own validation)."""

from __future__ import annotations

import django_filters
from django.db.models import Q, QuerySet
from rest_framework.exceptions import ValidationError

from characterization.jobs.models import AnalysisDefinition, AnalysisJob, JobStatus
from characterization.models import Measurement
from lims.models import Sample, SampleKind


class JobFilter(django_filters.FilterSet):
    status = django_filters.ChoiceFilter(choices=JobStatus.choices)
    definition = django_filters.CharFilter(
        method="filter_definition", label="definition id or exact name"
    )
    kind = django_filters.CharFilter(field_name="kind", label="analysis kind, e.g. dqdv")
    measurement = django_filters.CharFilter(method="filter_measurement", label="measurement code")
    cell = django_filters.CharFilter(method="filter_cell", label="the measured cell's code")
    sample = django_filters.CharFilter(
        method="filter_sample", label="the measured sample's code (a cell, a powder, ...)"
    )
    created_since = django_filters.IsoDateTimeFilter(
        field_name="created_at", lookup_expr="gte", label="created at or after (ISO 8601)"
    )
    created_until = django_filters.IsoDateTimeFilter(
        field_name="created_at", lookup_expr="lt", label="created before (ISO 8601)"
    )
    void = django_filters.BooleanFilter(
        method="filter_void", label="true: list void jobs (and jobs of void measurements) too"
    )

    class Meta:
        model = AnalysisJob
        fields: list[str] = []

    @property
    def qs(self) -> QuerySet[AnalysisJob]:
        rows = super().qs
        if not (self.is_bound and self.form.cleaned_data.get("void")):
            # the jobs page: void jobs and the jobs of void measurements are kept, not listed
            rows = rows.filter(voided_at__isnull=True, measurement__voided_at__isnull=True)
        return rows

    def filter_void(self, queryset, name, value):
        return queryset  # applied in qs (the default hides void jobs)

    def filter_definition(self, queryset, name, value: str):
        found = AnalysisDefinition.objects.filter(
            Q(pk=int(value)) if value.isdigit() else Q(name=value)
        ).first()
        if found is None:
            raise ValidationError({"definition": [f"no analysis definition {value!r}"]})
        return queryset.filter(definition=found)

    def filter_measurement(self, queryset, name, value: str):
        if not Measurement.objects.filter(sample__code=value).exists():
            raise ValidationError({"measurement": [f"no measurement has the code {value!r}"]})
        return queryset.filter(measurement__sample__code=value)

    def filter_cell(self, queryset, name, value: str):
        if not Sample.objects.filter(code=value, kind=SampleKind.CELL).exists():
            raise ValidationError({"cell": [f"no cell has the code {value!r}"]})
        return queryset.filter(measurement__subject__code=value)

    def filter_sample(self, queryset, name, value: str):
        if not Sample.objects.filter(code=value).exists():
            raise ValidationError({"sample": [f"no sample has the code {value!r}"]})
        return queryset.filter(measurement__subject__code=value)
