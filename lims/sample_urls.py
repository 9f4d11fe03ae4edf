from django.urls import path

from lims import label_views, sample_views

app_name = "samples"

urlpatterns = [
    path("", sample_views.sample_list, name="index"),
    path("labels/", label_views.label_sheet, name="labels"),
    path("<str:code>/", sample_views.sample_detail, name="detail"),
    path("<str:code>/export.eln", sample_views.sample_eln_export, name="eln-export"),
]
