"""URL lists of the characterization app, one per nav section (wired in lims/urls.py)."""

from django.urls import path, re_path

from characterization import correction_views, job_views, views

cells_urlpatterns = [
    path("", views.cells_index, name="index"),
    path("electrodes/new/", views.electrode_new, name="electrode-new"),
    path("electrodes/slurry/", views.slurry_preview, name="slurry-preview"),
    path("electrodes/<str:code>/", views.electrode_detail, name="electrode"),
    path("electrodes/<str:code>/cells/", views.electrode_cells_new, name="electrode-cells"),
    path("<str:code>/", views.cell_detail, name="cell"),
    path("<str:code>/correct/", correction_views.cell_correct, name="correct"),
    path("<str:code>/void/", correction_views.cell_void, name="void"),
    path("<str:code>/rerun-outdated/", correction_views.cell_rerun_outdated, name="rerun-outdated"),
]

measurements_urlpatterns = [
    path("", views.measurements_index, name="index"),
    path("new/", views.measurement_new, name="new"),
    re_path(r"^files/(?P<sha256>[0-9a-f]{64})/$", views.raw_file_download, name="raw-file"),
    path("<str:code>/", views.measurement_detail, name="detail"),
    path("<str:code>/files/", views.measurement_files_add, name="files"),
    path("<str:code>/refinements/", views.refinement_new, name="refinement"),
    path("<str:code>/correct/", correction_views.measurement_correct, name="correct"),
    path("<str:code>/void/", correction_views.measurement_void, name="void"),
    path(
        "<str:code>/rerun-outdated/",
        correction_views.measurement_rerun_outdated,
        name="rerun-outdated",
    ),
    path(
        "<str:code>/refinements/<int:pk>/correct/",
        correction_views.refinement_correct,
        name="refinement-correct",
    ),
    re_path(
        r"^(?P<code>[^/]+)/files/(?P<sha256>[0-9a-f]{64})/void/$",
        correction_views.raw_file_void,
        name="raw-file-void",
    ),
]

jobs_urlpatterns = [
    path("", job_views.jobs_index, name="index"),
    path("compare/", job_views.compare, name="compare"),
    path("<int:pk>/", job_views.job_detail, name="detail"),
    path("<int:pk>/cancel/", job_views.job_cancel, name="cancel"),
    path("<int:pk>/rerun/", job_views.job_rerun, name="rerun"),
    path("<int:pk>/void/", correction_views.job_void, name="void"),
    path("<int:pk>/result/void/", correction_views.result_void, name="result-void"),
    re_path(
        r"^(?P<pk>[0-9]+)/tables/(?P<name>[A-Za-z0-9_-]+)\.(?P<fmt>csv|xlsx)$",
        job_views.job_table_download,
        name="table",
    ),
    path("<int:pk>/warnings.csv", job_views.job_warnings_download, name="warnings"),
    path("measurement/<str:code>/", job_views.measurement_analyses, name="measurement"),
    path("measurement/<str:code>/jobs/", job_views.measurement_jobs, name="measurement-jobs"),
    path(
        "measurement/<str:code>/results/",
        job_views.measurement_results,
        name="measurement-results",
    ),
    path(
        "measurement/<str:code>/profiles/",
        job_views.measurement_profiles,
        name="measurement-profiles",
    ),
    path("measurement/<str:code>/run/", job_views.measurement_run, name="measurement-run"),
    path("measurement/<str:code>/fade/", job_views.measurement_fade, name="measurement-fade"),
    path("measurement/<str:code>/files/", job_views.measurement_files, name="measurement-files"),
    path(
        "measurement/<str:code>/warnings.csv",
        job_views.measurement_warnings_download,
        name="measurement-warnings",
    ),
    path("cell/<str:code>/warnings.csv", job_views.cell_warnings_download, name="cell-warnings"),
]
