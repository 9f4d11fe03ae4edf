from django.urls import path

from lims.downloads import export_path
from synthesis import correction_views, downloads, views

app_name = "synthesis"

urlpatterns = [
    path("", views.index, name="index"),
    path("recipes/new/", views.recipe_new, name="recipe_new"),
    path("recipes/step-fields/", views.step_fields, name="step_fields"),
    path("recipes/<int:pk>/", views.recipe_detail, name="recipe_detail"),
    path("recipes/<int:pk>/edit/", views.recipe_edit, name="recipe_edit"),
    path("recipes/<int:pk>/plan/", views.batch_plan, name="batch_plan"),
    path("recipes/<int:pk>/plan/quantities/", views.batch_quantities, name="batch_quantities"),
    path("recipes/<int:pk>/series/", views.series_plan, name="series_plan"),
    path("series/<int:pk>/", views.series_detail, name="series_detail"),
    path("batches/new/", views.batch_new, name="batch_new"),
    path("batches/<int:pk>/", views.batch_detail, name="batch_detail"),
    path("batches/<int:pk>/sheet/", views.batch_sheet, name="batch_sheet"),
    path("batches/<int:pk>/start/", views.batch_start, name="batch_start"),
    path("batches/<int:pk>/actuals/", views.batch_actuals, name="batch_actuals"),
    path("batches/<int:pk>/steps/<int:log_pk>/", views.batch_step, name="batch_step"),
    path("batches/<int:pk>/complete/", views.batch_complete, name="batch_complete"),
    path("batches/<int:pk>/fail/", views.batch_fail, name="batch_fail"),
    path("batches/<int:pk>/correct/", correction_views.batch_correct, name="batch_correct"),
    path("batches/<int:pk>/void/", correction_views.batch_void, name="batch_void"),
    path("chemicals/", views.chemical_list, name="chemical_list"),
    path("chemicals/new/", views.chemical_new, name="chemical_new"),
    path("lots/", views.lot_list, name="lot_list"),
    path("lots/new/", views.lot_new, name="lot_new"),
    # each list as CSV, Excel or Parquet (export.csv|xlsx|parquet), under the page's filters
    export_path("batches/", downloads.batches_download, "batches_export"),
    export_path("recipes/", downloads.recipes_download, "recipes_export"),
    export_path("chemicals/", downloads.chemicals_download, "chemicals_export"),
    export_path("lots/", downloads.lots_download, "lots_export"),
]
