"""Login required everywhere, except the login page, /healthz and the token-authenticated API."""

from django.contrib.auth.middleware import LoginRequiredMiddleware


class KilnLoginRequiredMiddleware(LoginRequiredMiddleware):
    """Django's LoginRequiredMiddleware, leaving /api/ to DRF's own authentication.

    The API authenticates by session or by `Authorization: Token ...` and answers 401/403 as JSON;
    a redirect to the login page would be wrong for a script.
    """

    def process_view(self, request, view_func, view_args, view_kwargs):
        if request.path_info.startswith("/api/"):
            return None
        return super().process_view(request, view_func, view_args, view_kwargs)
