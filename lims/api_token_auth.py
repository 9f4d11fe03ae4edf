"""API authentication by the tokens of the profile page: `Authorization: Token kiln_…` or
`Authorization: Bearer kiln_…`.

The key is looked up by its SHA-256; a revoked, expired or unknown key is a 401 with a sentence.
`Token <key>` without the `kiln_` prefix is left to DRF's TokenAuthentication (the older
shell-made keys, which still work with their user's full role). The scope is enforced by
lims.api_permissions; request.auth is the ApiToken."""

from __future__ import annotations

from django.contrib.auth.models import Group
from django.db.models import Exists, OuterRef
from django.utils import timezone
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import exceptions
from rest_framework.authentication import BaseAuthentication, get_authorization_header

from lims import rules
from lims.token_models import KEY_PREFIX, ApiToken, key_hash
from lims.token_services import api_token_touch

KEYWORDS = (b"token", b"bearer")
HEADER_FORM = "Authorization header: give 'Token <key>' or 'Bearer <key>', one key, no spaces."
UNKNOWN = (
    "This API token is not known: check that the key was copied whole, or create a new one on "
    "your profile page."
)


class TokenRefused(exceptions.APIException):
    """401 with the reason. Not AuthenticationFailed: DRF turns that into a 403 when the first
    authentication class (the session's) sends no WWW-Authenticate header."""

    status_code = 401
    default_code = "token_refused"
    auth_header = 'Bearer realm="api"'


# whether the token's user is in each role group (lims.rules.GROUPS), read with the token
_ALIASES = {f"_kiln_in_group_{i}": name for i, name in enumerate(rules.GROUPS)}
_ROLE_GROUPS = {
    alias: Exists(Group.objects.filter(user=OuterRef("user_id"), name=name))
    for alias, name in _ALIASES.items()
}


class ApiTokenAuthentication(BaseAuthentication):
    def authenticate(self, request):
        parts = get_authorization_header(request).split()
        if not parts or parts[0].lower() not in KEYWORDS:
            return None
        if len(parts) != 2:
            raise TokenRefused(HEADER_FORM)
        try:
            key = parts[1].decode("ascii")
        except UnicodeDecodeError:
            raise TokenRefused(HEADER_FORM) from None
        if parts[0].lower() == b"token" and not key.startswith(KEY_PREFIX):
            return None  # an older DRF authtoken key: TokenAuthentication's
        return self.authenticate_key(key)

    def authenticate_key(self, key: str):
        tokens = ApiToken.objects.select_related("user").annotate(**_ROLE_GROUPS)
        token = tokens.filter(key_hash=key_hash(key)).first()
        if token is None:
            raise TokenRefused(UNKNOWN)
        # the user's role groups came with the token: lims.rules.role_of asks no query of its own
        token.user._kiln_groups = {n for alias, n in _ALIASES.items() if getattr(token, alias)}
        now = timezone.now()
        if refusal := token.refusal(now):
            raise TokenRefused(f"{refusal} Create a new one on your profile page.")
        api_token_touch(token=token, now=now)
        return token.user, token

    def authenticate_header(self, request) -> str:
        return TokenRefused.auth_header


class ApiTokenScheme(OpenApiAuthenticationExtension):
    """The token in the OpenAPI schema (drf-spectacular cannot guess a custom class)."""

    target_class = "lims.api_token_auth.ApiTokenAuthentication"
    name = "kilnToken"

    def get_security_definition(self, auto_schema):
        return {
            "type": "apiKey",
            "in": "header",
            "name": "Authorization",
            "description": "`Token kiln_…` or `Bearer kiln_…`: a token made on your profile "
            "page (scopes read, write, upload-only).",
        }
