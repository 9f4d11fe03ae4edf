"""API authentication by the tokens of the profile page: `Authorization: Token kiln_…` or
`Authorization: Bearer kiln_…`.

The key is looked up by its SHA-256; a revoked, expired or unknown key is a 401 with a sentence.
`Token <key>` without the `kiln_` prefix is left to DRF's TokenAuthentication (the older
shell-made keys, which still work with their user's full role). The scope is enforced by
lims.api_permissions; request.auth is the ApiToken."""

from __future__ import annotations

from functools import cache

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.db import connections, router
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
_TOKEN_FIELDS = [f.attname for f in ApiToken._meta.concrete_fields]
_USER_FIELDS = [f.attname for f in get_user_model()._meta.concrete_fields]
_PLACEHOLDER = "kiln-token-lookup-placeholder"


def _lookup(alias: str, hashed: str):
    """Rows of (token fields, user fields, one flag per role group) for the key's hash."""
    groups = {a: Exists(Group.objects.filter(user=OuterRef("user_id"), name=name))
              for a, name in _ALIASES.items()}  # fmt: skip
    user_fields = [f"user__{name}" for name in _USER_FIELDS]
    return (
        ApiToken.objects.using(alias).annotate(**groups).filter(key_hash=hashed)
        .values_list(*_TOKEN_FIELDS, *user_fields, *_ALIASES)
    )  # fmt: skip


@cache
def _compiled(alias: str) -> tuple[str, list, int]:
    """`_lookup`'s SQL compiled once per process (compiling cost 8× running it): the SQL, its
    parameters, and where the key's hash goes among them."""
    sql, params = _lookup(alias, _PLACEHOLDER).query.sql_with_params()
    return sql, list(params), list(params).index(_PLACEHOLDER)


def _row(alias: str, hashed: str) -> tuple | None:
    if connections[alias].vendor != "postgresql":  # other drivers need the ORM's converters
        return _lookup(alias, hashed).first()
    sql, params, at = _compiled(alias)  # psycopg returns aware datetimes and booleans as-is
    params = [*params[:at], hashed, *params[at + 1 :]]  # a copy: the cached list is shared
    with connections[alias].cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchone()


def token_with_user(key: str) -> ApiToken | None:
    """The token of `key` (by its SHA-256) with its user, whose role groups come in the same
    query (lims.rules.role_of then asks none of its own)."""
    alias = router.db_for_read(ApiToken)
    row = _row(alias, key_hash(key))
    if row is None:
        return None
    n, m = len(_TOKEN_FIELDS), len(_USER_FIELDS)
    token = ApiToken.from_db(alias, _TOKEN_FIELDS, row[:n])
    token.user = get_user_model().from_db(alias, _USER_FIELDS, row[n : n + m])
    flags = row[n + m :]
    token.user._kiln_groups = {g for g, yes in zip(_ALIASES.values(), flags, strict=True) if yes}
    return token


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
        token = token_with_user(key)
        if token is None:
            raise TokenRefused(UNKNOWN)
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
