"""URL lists of the characterization app, one per nav section (wired in lims/urls.py; the Jobs
section's are characterization.jobs.urls)."""

from django.urls import path, re_path

from characterization import correction_views, downloads, harvest_views, impedance_views, views
from characterization.bdf_views import bdf_download
from lims.downloads import export_path

BDF_FILE = r"^(?P<code>[^/]+)/files/(?P<sha256>[0-9a-f]{64})/"  # + the export's name
CYCLES_CSV, CYCLES_PQ = {"fmt": "csv", "part": "cycles"}, {"fmt": "parquet", "part": "cycles"}

cells_urlpatterns = [
    path("", views.cells_index, name="index"),
    export_path("", downloads.cells_download, "export"),  # export.csv|xlsx|parquet
    export_path("electrodes/", downloads.electrodes_download, "electrodes-export"),
    path("electrodes/new/", views.electrode_new, name="electrode-new"),
    path("electrodes/slurry/", views.slurry_preview, name="slurry-preview"),
    path("electrodes/<str:code>/", views.electrode_detail, name="electrode"),
    path("electrodes/<str:code>/cells/", views.electrode_cells_new, name="electrode-cells"),
    path("<str:code>/", views.cell_detail, name="cell"),
    path("<str:code>/impedance/", impedance_views.cell_impedance, name="impedance"),
    path("<str:code>/correct/", correction_views.cell_correct, name="correct"),
    path("<str:code>/void/", correction_views.cell_void, name="void"),
    path("<str:code>/rerun-outdated/", correction_views.cell_rerun_outdated, name="rerun-outdated"),
]

measurements_urlpatterns = [
    path("", views.measurements_index, name="index"),
    export_path("", downloads.measurements_download, "export"),
    export_path("unplaced/", downloads.unplaced_download, "unplaced-export"),
    path("new/", views.measurement_new, name="new"),
    path("unplaced/", harvest_views.unplaced_index, name="unplaced"),
    path("unplaced/assign/", harvest_views.unplaced_assign, name="unplaced-assign"),
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
    # the file's cycling data in the Battery Data Format (time series) and its per-cycle table
    re_path(BDF_FILE + r"bdf\.csv$", bdf_download, {"fmt": "csv"}, name="bdf-csv"),
    re_path(BDF_FILE + r"bdf\.parquet$", bdf_download, {"fmt": "parquet"}, name="bdf-parquet"),
    re_path(BDF_FILE + r"bdf-cycles\.csv$", bdf_download, CYCLES_CSV, name="bdf-cycles-csv"),
    re_path(BDF_FILE + r"bdf-cycles\.parquet$", bdf_download, CYCLES_PQ, name="bdf-cycles-parquet"),
]
