"""The sample list API's filters as a django-filter FilterSet, so that every one of them (the
registry's own and every lineage filter registered in lims.sample_filters, as the admin offers
them) is a documented parameter in /api/schema/ and a bad value is a 400 naming it.

The filtering itself is the shared selector's (lims.sample_queries.samples_list) and the
registered filters' own `apply`: the FilterSet parses and validates, it reimplements nothing."""

from __future__ import annotations

from functools import cache

import django_filters
from django import forms
from django.db.models import QuerySet
from rest_framework.exceptions import ValidationError

from lims import sample_filters
from lims.models import Sample, SampleKind, SampleStatus
from lims.sample_queries import sample_by_code, samples_list

FLAGS = {"true": True, "1": True, "false": False, "0": False}


class SampleCodeField(forms.CharField):
    """A sample code, cleaned to the Sample (any case); an unknown code is an error."""

    def clean(self, value):
        code = super().clean(value)
        if not code:
            return None
        sample = sample_by_code(code)
        if sample is None:
            # a message with params: django-filter formats it with them ("%" in a code is text)
            raise forms.ValidationError("no sample has the code %(code)r", params={"code": code})
        return sample


class FlagField(forms.CharField):
    """true/false/1/0 (any case); anything else is an error, not a silent 'no'."""

    def clean(self, value):
        text = (super().clean(value) or "").strip().lower()
        if not text:
            return None
        if text not in FLAGS:
            raise forms.ValidationError("must be true or false")
        return FLAGS[text]


class SampleCodeFilter(django_filters.CharFilter):
    field_class = SampleCodeField


class FlagFilter(django_filters.BooleanFilter):
    field_class = FlagField


def _choice_error(choices: list[str]) -> dict[str, str]:
    return {"invalid_choice": f"must be one of {', '.join(choices)}"}


class SampleFilterBase(django_filters.FilterSet):
    kind = django_filters.ChoiceFilter(
        choices=SampleKind.choices,
        help_text="only samples of this kind",
        error_messages=_choice_error(SampleKind.values),
    )
    status = django_filters.ChoiceFilter(
        choices=SampleStatus.choices,
        help_text="only samples in this status",
        error_messages=_choice_error(SampleStatus.values),
    )
    q = django_filters.CharFilter(help_text="code, name or formula contains (any case)")
    ancestor = SampleCodeFilter(
        help_text="only samples made from this sample code, to any depth (an unknown code is a 400)"
    )
    descendant = SampleCodeFilter(
        help_text="only samples this sample code was made from, to any depth (an unknown code "
        "is a 400)"
    )
    void = FlagFilter(help_text="true: list void samples too (they are kept, not listed)")

    class Meta:
        model = Sample
        fields: list[str] = []

    def get_form_class(self) -> type[forms.Form]:
        """Built once per FilterSet class, not per request (its fields never change)."""
        cls = type(self)
        if "_form_class" not in cls.__dict__:
            cls._form_class = super().get_form_class()
        return cls._form_class

    def filter_queryset(self, queryset: QuerySet) -> QuerySet[Sample]:
        """The selector's filters, then each registered lineage filter that was given. The
        `queryset` handed in is ignored: the selector starts from the live samples itself."""
        data = self.form.cleaned_data
        qs = samples_list(
            kind=data.get("kind") or "",
            status=data.get("status") or "",
            search=data.get("q") or "",
            ancestor=data.get("ancestor"),
            descendant=data.get("descendant"),
            include_void=bool(data.get("void")),
        )
        for name, sample_filter in sample_filters.registered().items():
            if value := data.get(name):
                try:
                    qs = sample_filter.apply(qs, value)
                except ValueError as exc:
                    raise ValidationError({name: [str(exc)]}) from None
        return qs


def _lineage_filter(sample_filter: sample_filters.SampleFilter) -> django_filters.CharFilter:
    value = f"; the value: {sample_filter.help_text}" if sample_filter.help_text else ""
    return django_filters.CharFilter(
        label=sample_filter.label,
        help_text=f"lineage filter “{sample_filter.label}”: only samples made from (descending "
        f"from, or being) a matching sample{value}; a value it cannot read is a 400",
    )


@cache
def sample_filterset() -> type[django_filters.FilterSet]:
    """The FilterSet with one declared filter per registered lineage filter (built once the
    apps have registered theirs: AppConfig.ready() runs before any request)."""
    declared = {
        name: _lineage_filter(f)
        for name, f in sample_filters.registered().items()
        if name not in SampleFilterBase.base_filters
    }
    return type("SampleFilterSet", (SampleFilterBase,), declared)
