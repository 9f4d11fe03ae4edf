"""Login required everywhere, except the login page, /healthz and the token-authenticated API;
a role required everywhere but the user's own profile (lims.rules)."""

from django.contrib.auth.middleware import LoginRequiredMiddleware
from django.http import JsonResponse
from django.shortcuts import render

from lims import rules


class KilnLoginRequiredMiddleware(LoginRequiredMiddleware):
    """Django's LoginRequiredMiddleware, leaving /api/ to DRF's own authentication, then
    RoleRequired: a signed-in user in no group reads nothing but their own profile.

    The API authenticates by session or by `Authorization: Token ...` and answers 401/403 as JSON;
    a redirect to the login page would be wrong for a script.
    """

    def process_view(self, request, view_func, view_args, view_kwargs):
        if request.path_info.startswith("/api/"):
            return role_required(request, view_func)
        refused = super().process_view(request, view_func, view_args, view_kwargs)
        return refused or role_required(request, view_func)


def role_required(request, view_func):
    """403 with a sentence for a signed-in user without a role (None: go on).

    Token users of the API are authenticated later, by DRF: lims.api_permissions refuses them.
    """
    if not request.user.is_authenticated or rules.role_of(request.user) != rules.NO_ROLE:
        return None
    if not getattr(view_func, "login_required", True):  # login page, /healthz
        return None
    if getattr(view_func, "kiln_role_not_required", False):  # profile, logout
        return None
    sentence = rules.refusal(request.user, "read", "lims.sample")
    if request.path_info.startswith("/api/"):
        return JsonResponse({"errors": {"non_field_errors": [sentence]}}, status=403)
    return render(request, "403.html", {"exception": sentence}, status=403)
