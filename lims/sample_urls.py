from django.urls import path

from lims import correction_views, import_views, label_views, sample_views

app_name = "samples"

urlpatterns = [
    path("", sample_views.sample_list, name="index"),
    path("labels/", label_views.label_sheet, name="labels"),
    path("import/", import_views.sample_import_view, name="import"),
    path("export.<str:fmt>", import_views.sample_export_view, {}, name="export"),
    path("<str:code>/", sample_views.sample_detail, name="detail"),
    path("<str:code>/export.eln", sample_views.sample_eln_export, name="eln-export"),
    path("<str:code>/correct/", correction_views.sample_correct, name="correct"),
    path("<str:code>/void/", correction_views.sample_void, name="void"),
    path("<str:code>/stock/", correction_views.sample_stock_correct, name="stock-correct"),
]
