from django.urls import path

from lims import transfer_views

app_name = "transfers"

urlpatterns = [
    path("", transfer_views.transfer_list, name="index"),
    path("eln/<str:code>/", transfer_views.eln_start, name="eln"),
    path("samples.<str:fmt>", transfer_views.samples_start, name="samples"),
    path("<int:pk>/", transfer_views.transfer_detail, name="detail"),
    path("<int:pk>/download", transfer_views.transfer_download, name="download"),
]
