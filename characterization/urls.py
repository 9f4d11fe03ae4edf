"""URL lists of the characterization app, one per nav section (wired in lims/urls.py)."""

from django.urls import path

from lims import views as lims_views

cells_urlpatterns = [
    path(
        "",
        lims_views.section,
        {"title": "Cells", "empty_text": "No electrodes or coin cells yet."},
        name="index",
    ),
]

measurements_urlpatterns = [
    path(
        "",
        lims_views.section,
        {"title": "Measurements", "empty_text": "No measurements yet."},
        name="index",
    ),
]
