"""This app's /api/v1/ routes (lims.api_urls adds them to v1): electrodes, coin cells and
measurements, read and written through the same services and rules as their pages."""

from django.urls import path

from characterization.api_cells import CellCorrectView, CellDetail, CellList
from characterization.api_electrodes import ElectrodeDetail, ElectrodeList
from characterization.api_measurements import (
    MeasurementCorrectView,
    MeasurementDetail,
    MeasurementList,
)

routes: list = [
    path("electrodes/", ElectrodeList.as_view(), name="electrode-list"),
    path("electrodes/<str:code>", ElectrodeDetail.as_view(), name="electrode-detail"),
    path("cells/", CellList.as_view(), name="cell-list"),
    path("cells/<str:code>", CellDetail.as_view(), name="cell-detail"),
    path("cells/<str:code>/correct", CellCorrectView.as_view(), name="cell-correct"),
    path("measurements/", MeasurementList.as_view(), name="measurement-list"),
    path("measurements/<str:code>", MeasurementDetail.as_view(), name="measurement-detail"),
    path(
        "measurements/<str:code>/correct",
        MeasurementCorrectView.as_view(),
        name="measurement-correct",
    ),
]
