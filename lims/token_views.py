"""API tokens on the profile page: create one (its key shown once, in the answer to the POST)
and revoke one. The list itself is the profile page's (templates/lims/_tokens.html)."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.cache import add_never_cache_headers
from django.views.decorators.http import require_POST

from lims import rules, token_services
from lims.token_forms import TokenCreateForm, TokenRevokeForm
from lims.token_models import ApiToken
from lims.views import ROLE_SENTENCES

# Anyone with a role makes and revokes their own tokens (a token never does more than its
# user's role); whose token may be revoked is the rules' (owner or lab manager), per record.
TOKENS = "lims.apitoken"


@rules.guard("read", TOKENS)
@require_POST
def token_create(request: HttpRequest) -> HttpResponse:
    form = TokenCreateForm(request.POST)
    if not form.is_valid():
        return _profile(request, {"token_form": form}, status=400)
    token, key = token_services.api_token_create(
        user=request.user,
        name=form.cleaned_data["name"],
        scope=form.cleaned_data["scope"],
        expires_at=form.expires_at,
    )
    response = _profile(request, {"new_token": token, "new_key": key})
    add_never_cache_headers(response)  # the key is in this page, and only in this page
    return response


@rules.guard("read", TOKENS)
@require_POST
def token_revoke(request: HttpRequest) -> HttpResponse:
    form = TokenRevokeForm(request.POST)
    if not form.is_valid():
        return _profile(request, {"revoke_form": form}, status=400)
    token = get_object_or_404(
        ApiToken.objects.select_related("user"), pk=form.cleaned_data["token"]
    )
    token = token_services.api_token_revoke(token=token, user=request.user)
    messages.success(request, f"Token {token} revoked: requests with its key are refused.")
    return redirect("lab-tokens" if form.cleaned_data["back"] == "lab" else "profile")


def _profile(request: HttpRequest, extra: dict, status: int = 200) -> HttpResponse:
    """The profile page (as lims.views.profile shows it) with the tokens section's state."""
    context = {
        "groups": list(request.user.groups.order_by("name").values_list("name", flat=True)),
        "role_sentence": ROLE_SENTENCES[rules.role_of(request.user)],
        **extra,
    }
    return render(request, "lims/profile.html", context, status=status)
