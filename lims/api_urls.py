"""/api/v1/... routes (contracts in DESIGN.md), their index at /api/v1/, and the OpenAPI schema
with its docs."""

import re

from django.urls import path, reverse
from drf_spectacular.utils import extend_schema
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from characterization import api_routes as characterization_routes
from characterization.api import DiscMetricsView, LayeredMetricsView
from characterization.api_files import MeasurementFilesView
from characterization.harvest_api import HarvestFilesView, HarvestFileView
from characterization.jobs import api_routes as jobs_routes
from characterization.study_api import StudyView
from lims import api_sample_write
from lims.api import SampleDetail, SampleLineage, SampleList
from lims.api_permissions import RulesPermission
from synthesis import api_routes as synthesis_routes
from synthesis.api_chemistry import CoatingView, MolarMassView, PlanView


class ApiRoot(APIView):
    """GET /api/v1/: every resource (route name -> absolute URL, `{code}` where the URL names a
    record), the OpenAPI schema and its docs. Anyone with a role reads it."""

    permission_classes = [RulesPermission]

    @extend_schema(exclude=True)  # an index of the schema, not an operation of it
    def get(self, request: Request) -> Response:
        base = request.build_absolute_uri(reverse("api:root"))
        resources = {
            route.name: base + re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", str(route.pattern))
            for route in v1
            if route.name != "root"
        }
        return Response(
            {
                "resources": resources,
                "schema": request.build_absolute_uri(reverse("schema")),
                "docs": request.build_absolute_uri(reverse("api-docs")),
            }
        )


v1 = [
    path("", ApiRoot.as_view(), name="root"),
    path("chemistry/molar-mass", MolarMassView.as_view(), name="molar-mass"),
    path("stoichiometry/plan", PlanView.as_view(), name="stoichiometry-plan"),
    path("stoichiometry/coating", CoatingView.as_view(), name="stoichiometry-coating"),
    path("structure/layered-metrics", LayeredMetricsView.as_view(), name="layered-metrics"),
    path("cells/disc-metrics", DiscMetricsView.as_view(), name="disc-metrics"),
    path("samples/", SampleList.as_view(), name="sample-list"),
    path("study/", StudyView.as_view(), name="study"),
    path("samples/<str:code>", SampleDetail.as_view(), name="sample-detail"),
    path("samples/<str:code>/lineage", SampleLineage.as_view(), name="sample-lineage"),
    path("measurements/<str:code>/files", MeasurementFilesView.as_view(), name="measurement-files"),
    path("harvest/files", HarvestFilesView.as_view(), name="harvest-files"),
    path("harvest/files/<str:sha256>", HarvestFileView.as_view(), name="harvest-file"),
    *api_sample_write.routes,
    *synthesis_routes.routes,
    *characterization_routes.routes,
    *jobs_routes.routes,
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
