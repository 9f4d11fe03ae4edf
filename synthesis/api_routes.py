"""This app's /api/v1/ routes (lims.api_urls adds them to v1).

One rule per route (lims.rules): a list or a record is read by anyone with a role, and each
write has a route of its own (`.../new`, `batches/plan`, `batches/<code>/start`, ...)."""

from django.urls import path

from synthesis import api_batch_actions as actions
from synthesis import api_batches as batches
from synthesis import api_catalog as catalog

routes: list = [
    path("chemicals/", catalog.ChemicalList.as_view(), name="chemical-list"),
    path("chemicals/new", catalog.ChemicalCreate.as_view(), name="chemical-create"),
    path("chemicals/<str:pk>", catalog.ChemicalDetail.as_view(), name="chemical-detail"),
    path("lots/", catalog.LotList.as_view(), name="lot-list"),
    path("lots/new", catalog.LotCreate.as_view(), name="lot-create"),
    path("lots/<str:pk>", catalog.LotDetail.as_view(), name="lot-detail"),
    path("recipes/", catalog.RecipeList.as_view(), name="recipe-list"),
    path("recipes/<str:pk>", catalog.RecipeDetail.as_view(), name="recipe-detail"),
    path("batches/", batches.BatchList.as_view(), name="batch-list"),
    path("batches/plan", batches.BatchPlanView.as_view(), name="batch-plan"),
    path("batches/preview", batches.BatchPreviewView.as_view(), name="batch-preview"),
    path("batches/<str:code>", batches.BatchDetail.as_view(), name="batch-detail"),
    path("batches/<str:code>/start", actions.BatchStart.as_view(), name="batch-start"),
    path("batches/<str:code>/actuals", actions.BatchActuals.as_view(), name="batch-actuals"),
    path("batches/<str:code>/steps", actions.BatchStep.as_view(), name="batch-step"),
    path("batches/<str:code>/complete", actions.BatchComplete.as_view(), name="batch-complete"),
    path("batches/<str:code>/fail", actions.BatchFail.as_view(), name="batch-fail"),
    path("batches/<str:code>/correct", actions.BatchCorrect.as_view(), name="batch-correct"),
]
