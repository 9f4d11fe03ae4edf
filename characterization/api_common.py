"""What the characterization API's write views share: a page's own form run on the request (so
the API and the page keep one set of rules and defaults), records found by code, and the
cursor-paginated list view that also accepts POST."""

from __future__ import annotations

from collections.abc import Mapping

import django_filters
from django import forms
from rest_framework import generics
from rest_framework.exceptions import ValidationError as ApiValidationError

from lims.api_pagination import cursor_pagination
from lims.api_permissions import RulesPermission
from lims.models import Sample

NewestFirst = cursor_pagination("-id")  # the primary key: indexed, unique, creation order


def page_form(form_class: type[forms.Form], given: Mapping, **form_kwargs) -> forms.Form:
    """The page's form bound to what the page pre-fills, overridden by the request's values
    (`given`, checked for types by a serializer); valid, else a 400 naming each field."""
    blank = form_class(**form_kwargs)
    initial = {name: _initial(blank, name) for name in blank.fields}
    form = form_class({**initial, **given}, **form_kwargs)
    if not form.is_valid():
        errors = {
            ("non_field_errors" if name == "__all__" else name): list(messages)
            for name, messages in form.errors.items()
        }
        raise ApiValidationError(errors)
    return form


def _initial(form: forms.Form, name: str):
    """What the page pre-fills, or submits untouched: a <select>'s first option."""
    field = form.fields[name]
    value = form.get_initial_for_field(field, name)
    if value is None and type(field) is forms.ChoiceField and field.choices:
        return field.choices[0][0]
    return value


def sample_of(code: str, field: str, queryset=None) -> Sample:
    """The sample with this code (any case) in `queryset`, else a 400 on `field`."""
    sample = (queryset if queryset is not None else Sample.objects.all()).filter(
        code__iexact=code.strip()
    )
    found = sample.first()
    if found is None:
        raise ApiValidationError({field: [f"no sample has the code {code!r}"]})
    return found


def given(data: Mapping, names) -> dict:
    """The request's values of `names` that it gave (absent: the page's default applies)."""
    return {name: data[name] for name in names if name in data}


class ListCreateView(generics.ListAPIView):
    """A cursor-paginated list (newest first, django-filter filters) whose POST creates."""

    permission_classes = [RulesPermission]
    pagination_class = NewestFirst


class LiveFilterSet(django_filters.FilterSet):
    """A list of records that belong to a sample: void ones (their sample void) only when asked
    with `void=true` (they are kept, not listed)."""

    void = django_filters.BooleanFilter(method="with_void", label="true: void ones too")
    void_field = "sample__voided_at"  # where the record's void state is

    def with_void(self, queryset, name, value):
        return queryset  # read in filter_queryset, before the other filters

    def filter_queryset(self, queryset):
        if not self.form.cleaned_data.get("void"):
            queryset = queryset.filter(**{f"{self.void_field}__isnull": True})
        return super().filter_queryset(queryset)
