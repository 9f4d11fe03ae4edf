"""The API's permission class: lims.rules decides, as on the pages.

A view declares what its unsafe methods do with `kiln_rule = rules.Rule(action, label)`; reads
need a role (a signed-in user in no group is refused), writes need the rule. Records are checked
per object (`has_object_permission`). A 403 carries the rules' sentence."""

from __future__ import annotations

from rest_framework.permissions import SAFE_METHODS, BasePermission

from lims import rules

READ = rules.Rule("read", "lims.sample")
# POST routes that compute and store nothing (chemistry, disc metrics): anyone with a role
COMPUTE = rules.Rule("read", "api.arithmetic")


class RulesPermission(BasePermission):
    def has_permission(self, request, view) -> bool:
        if not self._check(request, READ.action, READ.label):  # no role: nothing at all
            return False
        if not hasattr(view, request.method.lower()):
            return True  # a method the view does not answer: DRF says 405
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
