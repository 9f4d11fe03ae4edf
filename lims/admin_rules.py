"""The admin asks lims.rules, like the pages: one mixin for every ModelAdmin, one for inlines.

View needs a role; add, change and delete follow the rules per record (a chemist changes what
they own, lab managers anything); delete is never offered for a record that carries data
(rules.KEPT: those are voided). Who did something (owner, operator, made by ...) is set by the
application: only a lab manager edits those fields here.
"""

from __future__ import annotations

from lims import rules

# Fields naming who made or did a record: read-only in the admin for anyone but lab managers.
WHO_FIELDS = (
    "owner",
    "operator",
    "made_by",
    "built_by",
    "entered_by",
    "uploaded_by",
    "added_by",
    "created_by",
    "done_by",
    "finished_by",
)


class RulesAdminMixin:
    """Put first in a ModelAdmin's bases; an admin's own stricter overrides still apply."""

    def has_module_permission(self, request) -> bool:
        return rules.role_of(request.user) in (rules.VIEWER, rules.CHEMIST, rules.MANAGER)

    def has_view_permission(self, request, obj=None) -> bool:
        return rules.allowed(request.user, "read", obj if obj is not None else self.model)

    def has_add_permission(self, request) -> bool:
        return rules.allowed(request.user, "create", self.model)

    def has_change_permission(self, request, obj=None) -> bool:
        target = obj if obj is not None else rules.label_of(self.model)
        return rules.allowed(request.user, "change", target)

    def has_delete_permission(self, request, obj=None) -> bool:
        return rules.allowed(request.user, "delete", obj if obj is not None else self.model)

    def get_readonly_fields(self, request, obj=None):
        readonly = list(super().get_readonly_fields(request, obj))
        if rules.role_of(request.user) == rules.MANAGER:
            return readonly
        return readonly + [f for f in _who_fields(self.model) if f not in readonly]

    def save_model(self, request, obj, form, change) -> None:
        """A record added here belongs to whoever adds it (unless a lab manager says who)."""
        if not change:
            for name in _who_fields(self.model):
                if name not in form.cleaned_data and getattr(obj, f"{name}_id") is None:
                    setattr(obj, name, request.user)
        super().save_model(request, obj, form, change)


class RulesInlineMixin:
    """For inlines: rows belong to the record shown (`obj`); changing them changes it."""

    def has_view_permission(self, request, obj=None) -> bool:
        return rules.allowed(request.user, "read", self.model)

    def has_add_permission(self, request, obj=None) -> bool:
        return rules.allowed(request.user, "create", self.model) and self._may_change(request, obj)

    def has_change_permission(self, request, obj=None) -> bool:
        return rules.allowed(request.user, "change", self.model) and self._may_change(request, obj)

    def has_delete_permission(self, request, obj=None) -> bool:
        return rules.allowed(request.user, "delete", self.model) and self._may_change(request, obj)

    @staticmethod
    def _may_change(request, obj) -> bool:
        return obj is None or rules.allowed(request.user, "change", obj)


def _who_fields(model) -> list[str]:
    names = {f.name for f in model._meta.get_fields() if f.many_to_one}
    return [name for name in WHO_FIELDS if name in names]
