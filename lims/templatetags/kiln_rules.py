"""`{% can "change" batch as may_change %}`: lims.rules in templates, to hide the buttons a user
may not use (the view's own check is what counts)."""

from __future__ import annotations

from django import template

from lims import rules

register = template.Library()


@register.simple_tag(takes_context=True)
def can(context, action: str, target) -> bool:
    """May the signed-in user do `action` on `target` (a record or an "app.model" label)?"""
    request = context.get("request")
    user = getattr(request, "user", None) or context.get("user")
    return target is not None and target != "" and rules.allowed(user, action, target)
