"""This app's /api/v1/ routes (lims.api_urls adds them to v1): analysis definitions, jobs and
their results (characterization.jobs.api, api_results)."""

from django.urls import path

from characterization.jobs import api, api_results

routes: list = [
    path("analysis-definitions/", api.DefinitionList.as_view(), name="analysis-definitions"),
    path(
        "analysis-definitions/<str:pk>", api.DefinitionDetail.as_view(), name="analysis-definition"
    ),
    path("jobs/", api.JobList.as_view(), name="jobs"),
    path("jobs/<str:pk>", api.JobDetail.as_view(), name="job"),
    path("jobs/<str:pk>/rerun", api.JobRerun.as_view(), name="job-rerun"),
    path("jobs/<str:pk>/cancel", api.JobCancel.as_view(), name="job-cancel"),
    path("results/<str:pk>", api_results.ResultDetail.as_view(), name="result"),
    path(
        "results/<str:pk>/tables/<str:filename>",
        api_results.ResultTable.as_view(),
        name="result-table",
    ),
    path(
        "results/<str:pk>/figures/<str:name>",
        api_results.ResultFigure.as_view(),
        name="result-figure",
    ),
    path(
        "measurements/<str:code>/results/<str:kind>",
        api_results.MeasurementResult.as_view(),
        name="measurement-result",
    ),
]
