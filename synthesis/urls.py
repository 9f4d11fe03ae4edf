from django.urls import path

from lims import views as lims_views

app_name = "synthesis"

urlpatterns = [
    path(
        "",
        lims_views.section,
        {"title": "Synthesis", "empty_text": "No synthesis batches yet."},
        name="index",
    ),
]
