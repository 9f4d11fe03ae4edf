"""The study comparison: the page and its exports (the lead wires them in lims/urls.py)."""

from django.urls import path, re_path

from characterization import study_views

app_name = "study"

urlpatterns = [
    path("", study_views.study_page, name="index"),
    re_path(r"^export\.(?P<fmt>[a-z]+)$", study_views.study_export, name="export"),
]
