"""The Jobs section's URLs (the `jobs` namespace, wired in lims/urls.py)."""

from django.urls import path, re_path

from characterization import correction_views
from characterization.jobs import downloads, measurement_views, views
from lims.downloads import export_path

urlpatterns = [
    path("", views.jobs_index, name="index"),
    export_path("", downloads.jobs_download, "export"),  # export.csv|xlsx|parquet
    path("compare/", views.compare, name="compare"),
    path("<int:pk>/", views.job_detail, name="detail"),
    path("<int:pk>/cancel/", views.job_cancel, name="cancel"),
    path("<int:pk>/rerun/", views.job_rerun, name="rerun"),
    path("<int:pk>/void/", correction_views.job_void, name="void"),
    path("<int:pk>/result/void/", correction_views.result_void, name="result-void"),
    re_path(
        r"^(?P<pk>[0-9]+)/tables/(?P<name>[A-Za-z0-9_-]+)\.(?P<fmt>[a-z]+)$",
        downloads.job_table_download,
        name="table",
    ),
    path("<int:pk>/warnings.csv", downloads.job_warnings_download, name="warnings"),
    path("measurement/<str:code>/", measurement_views.measurement_analyses, name="measurement"),
    path(
        "measurement/<str:code>/jobs/",
        measurement_views.measurement_jobs,
        name="measurement-jobs",
    ),
    path(
        "measurement/<str:code>/results/",
        measurement_views.measurement_results,
        name="measurement-results",
    ),
    path(
        "measurement/<str:code>/profiles/",
        measurement_views.measurement_profiles,
        name="measurement-profiles",
    ),
    path("measurement/<str:code>/run/", measurement_views.measurement_run, name="measurement-run"),
    path(
        "measurement/<str:code>/fade/",
        measurement_views.measurement_fade,
        name="measurement-fade",
    ),
    path(
        "measurement/<str:code>/files/",
        measurement_views.measurement_files,
        name="measurement-files",
    ),
    path(
        "measurement/<str:code>/warnings.csv",
        downloads.measurement_warnings_download,
        name="measurement-warnings",
    ),
    path("cell/<str:code>/warnings.csv", downloads.cell_warnings_download, name="cell-warnings"),
]
