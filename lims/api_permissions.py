"""The API's permission class: lims.rules decides, as on the pages.

A view declares what its unsafe methods do with `kiln_rule = rules.Rule(action, label)`; reads
need a role (a signed-in user in no group is refused), writes need the rule. Records are checked
per object (`has_object_permission`). A 403 carries the rules' sentence.

A profile-page token (lims.token_models.ApiToken, request.auth) narrows that by its scope: read
answers safe methods only, upload only what UPLOAD_ONLY names, write what the role allows. It
never widens it: the rules above still apply to the token's user."""

from __future__ import annotations

from rest_framework.permissions import SAFE_METHODS, BasePermission

from lims import rules
from lims.token_models import ApiToken, TokenScope

READ = rules.Rule("read", "lims.sample")
# POST routes that compute and store nothing (chemistry, disc metrics): anyone with a role
COMPUTE = rules.Rule("read", "api.arithmetic")
# All an upload-only token may do (URL name, method): add files to a measurement whose code it
# knows (an unknown code answers 404), and what a cycler PC's harvester does: ask whether Kiln
# has a content, send a file for Kiln to place (characterization.harvest_api).
UPLOAD_ONLY = frozenset(
    {
        ("api:measurement-files", "POST"),
        ("api:harvest-files", "POST"),
        ("api:harvest-file", "GET"),
    }
)
READ_ONLY = (
    "This token's scope is read: it reads (GET) and changes nothing; make a write token on your "
    "profile page to change records."
)
UPLOAD_ONLY_SENTENCE = (
    "This token is upload-only: it adds files to measurements "
    "(POST /api/v1/measurements/<code>/files) and sends a cycler PC's files "
    "(/api/v1/harvest/files) and nothing else."
)


def scope_refusal(request) -> str:
    """Why the request's token scope refuses it ('' when it does not, or there is no token)."""
    token = request.auth
    if not isinstance(token, ApiToken) or token.scope == TokenScope.WRITE:
        return ""  # a session, an older DRF key, a write token: the role alone decides
    if token.scope == TokenScope.READ:
        return "" if request.method in SAFE_METHODS else READ_ONLY
    match = request.resolver_match
    allowed = match is not None and (match.view_name, request.method) in UPLOAD_ONLY
    return "" if allowed else UPLOAD_ONLY_SENTENCE


class RulesPermission(BasePermission):
    def has_permission(self, request, view) -> bool:
        if not self._check(request, READ.action, READ.label):  # no role: nothing at all
            return False
        if refusal := scope_refusal(request):
            self.message = refusal
            return False
        if not hasattr(view, request.method.lower()):
            # DRF says 405, once the route's own rule lets the user in (as a page's guard does)
            rule = getattr(view, "kiln_rule", None)
            return rule is None or self._check(request, rule.action, rule.label)
        rule = self._rule(request, view)
        return rule is not None and self._check(request, rule.action, rule.label)

    def has_object_permission(self, request, view, obj) -> bool:
        rule = self._rule(request, view)
        return rule is not None and self._check(request, rule.action, obj)

    def _rule(self, request, view) -> rules.Rule | None:
        if request.method in SAFE_METHODS:
            return READ
        rule = getattr(view, "kiln_rule", None)
        if rule is None:  # fail closed: a write without a declared rule is nobody's
            self.message = f"{request.method} {request.path} declares no rule (lims.rules)."
        return rule

    def _check(self, request, action: str, target) -> bool:
        if rules.allowed(request.user, action, target):
            return True
        self.message = rules.refusal(request.user, action, target)
        return False
