"""/api/v1/... routes (contracts in DESIGN.md) and the OpenAPI schema with its docs."""

from django.urls import path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from characterization.api import DiscMetricsView, LayeredMetricsView
from characterization.study_api import StudyView
from lims.api import SampleDetail, SampleLineage, SampleList
from lims.api_permissions import RulesPermission
from synthesis.api_chemistry import CoatingView, MolarMassView, PlanView

v1 = [
    path("chemistry/molar-mass", MolarMassView.as_view(), name="molar-mass"),
    path("stoichiometry/plan", PlanView.as_view(), name="stoichiometry-plan"),
    path("stoichiometry/coating", CoatingView.as_view(), name="stoichiometry-coating"),
    path("structure/layered-metrics", LayeredMetricsView.as_view(), name="layered-metrics"),
    path("cells/disc-metrics", DiscMetricsView.as_view(), name="disc-metrics"),
    path("samples/", SampleList.as_view(), name="sample-list"),
    path("study/", StudyView.as_view(), name="study"),
    path("samples/<str:code>", SampleDetail.as_view(), name="sample-detail"),
    path("samples/<str:code>/lineage", SampleLineage.as_view(), name="sample-lineage"),
]

urlpatterns = [
    path(
        "schema/", SpectacularAPIView.as_view(permission_classes=[RulesPermission]), name="schema"
    ),
    path(
        "docs/",
        SpectacularSwaggerView.as_view(url_name="schema", permission_classes=[RulesPermission]),
        name="api-docs",
    ),
]
