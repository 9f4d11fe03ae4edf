"""Kiln's URL map. Each nav section is a namespace (samples, synthesis, cells, ...)."""

from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

from characterization import urls as characterization_urls
from characterization.jobs import urls as jobs_urls
from lims import api_urls, rules, token_lab_views, token_views, views

urlpatterns = [
    path("", views.dashboard, name="dashboard"),
    path("healthz", views.healthz, name="healthz"),
    path("worker-ping", views.worker_ping, name="worker-ping"),
    path("accounts/login/", auth_views.LoginView.as_view(), name="login"),
    path(
        "accounts/logout/",
        rules.role_not_required(auth_views.LogoutView.as_view()),
        name="logout",
    ),
    path("accounts/profile/", views.profile, name="profile"),
    path("accounts/profile/tokens/", token_views.token_create, name="token-create"),
    path("accounts/profile/tokens/revoke/", token_views.token_revoke, name="token-revoke"),
    path("accounts/tokens/", token_lab_views.token_list_all, name="lab-tokens"),
    path("admin/", admin.site.urls),
    path("api/v1/", include((api_urls.v1, "api"))),
    path("api/", include(api_urls.urlpatterns)),
    path("samples/", include("lims.sample_urls")),
    path("transfers/", include("lims.transfer_urls")),
    path("synthesis/", include("synthesis.urls")),
    path("cells/", include((characterization_urls.cells_urlpatterns, "cells"))),
    path(
        "measurements/", include((characterization_urls.measurements_urlpatterns, "measurements"))
    ),
    path("jobs/", include((jobs_urls.urlpatterns, "jobs"))),
    path("study/", include("characterization.study_urls")),
]
