"""Who may do what: the roles and the object rules, in one place (every write path asks here).

Roles (groups, kept in sync by lims.roles):
    viewer       reads everything; writes nothing
    chemist      reads everything; creates records; changes (corrects, voids) only what they own
                 or operate; cannot touch lab-manager-only things
    lab-manager  changes anything; manages recipes, chemicals and lots, instruments and column
                 mappings, analysis definitions, users
A signed-in user in no group reads nothing but their own profile; a superuser is a lab manager.

Ownership is set by the application (the creator or operator), never taken from a form, an
import column or an API field. owner_of(obj) says who owns a record: its own owner/creator
field, else the record it belongs to (a measurement's cell, a job's measurement ...).

Use:
    rules.require(user, "change", obj)        # PermissionDenied with a sentence, or nothing
    rules.allowed(user, "create", "synthesis.batch")
    rules.can(user, "change", obj)             # bool, for templates and admin
    @rules.guard("change", "synthesis.batch", lookup={"pk": "pk"})   # on a view: its rule

Every route that accepts POST declares its rule with `guard` (or is public: login, logout);
tests/lims/test_permission_matrix.py walks the URL conf and fails on a write route without one.
Records that carry data (KEPT) are never deleted, by anyone: they are voided (lims.voiding).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import wraps

from django.apps import apps
from django.core.exceptions import PermissionDenied
from django.http import Http404

ANONYMOUS, NO_ROLE, VIEWER, CHEMIST, MANAGER = "anonymous", "none", "viewer", "chemist", "manager"
GROUPS = {"viewer": VIEWER, "chemist": CHEMIST, "lab-manager": MANAGER}
# run: send work (analyses, exports); delete: only lab managers, never a KEPT record
ACTIONS = ("read", "create", "change", "void", "run", "delete")
VERBS = {"read": "see", "create": "add", "change": "edit", "void": "void", "run": "run",
         "delete": "delete"}  # fmt: skip

# Things only lab managers write (model labels, "app.model").
MANAGER_ONLY: frozenset[str] = frozenset(
    {
        "synthesis.recipe",
        "synthesis.recipestep",
        "synthesis.reagentline",
        "synthesis.chemical",
        "synthesis.lot",
        "characterization.instrumentmapping",
        "characterization.channelassignment",  # which cell a cycler channel holds
        "jobs.analysisdefinition",
        "auth.user",
        "auth.group",
        "authtoken.token",
        "authtoken.tokenproxy",
        "lims.project",
        "lims.workerheartbeat",  # written by the worker
        "lims.samplecodecounter",
    }
)

# Only lab managers even read these (people and their API keys).
MANAGER_READ: frozenset[str] = frozenset(
    {"auth.user", "auth.group", "auth.permission", "authtoken.token", "authtoken.tokenproxy"}
)

# Records that carry data: voided, never deleted (the admin offers no delete for them).
KEPT: frozenset[str] = frozenset(
    {
        "lims.sample",
        "lims.sampleedge",
        "lims.stockcorrection",  # undone by another correction, never deleted
        "synthesis.batch",
        "synthesis.batchreagent",
        "synthesis.batchsteplog",
        "synthesis.series",
        "synthesis.lot",  # stock with a registry sample that batches name
        "characterization.electrode",
        "characterization.coincell",
        "characterization.measurement",
        "characterization.measurementfile",
        "characterization.rawfile",
        "characterization.refinementresult",
        "characterization.harvestedfile",
        "characterization.harvestversion",
        "jobs.analysisjob",
        "jobs.analysisresult",
    }
)

# A person's own credentials (API tokens): whoever owns one changes (revokes) it, whatever their
# role; a lab manager changes anyone's.
PERSONAL: frozenset[str] = frozenset({"lims.apitoken"})

# model label -> how to find the user who owns a record of it (None: nobody owns it).
OWNER_OF: dict[str, Callable[[object], object]] = {
    "lims.sample": lambda s: s.owner,
    "lims.sampleedge": lambda e: owner_of(e.child),  # a sample's parents are part of it
    "lims.stockcorrection": lambda c: owner_of(c.sample),  # the powder's owner corrects it
    "synthesis.batch": lambda b: b.operator,
    "synthesis.batchreagent": lambda r: owner_of(r.batch),
    "synthesis.batchsteplog": lambda log: owner_of(log.batch),
    "synthesis.series": lambda s: s.created_by,
    "characterization.electrode": lambda e: e.made_by or e.sample.owner,
    "characterization.coincell": lambda c: c.built_by or c.sample.owner,
    "characterization.measurement": lambda m: m.operator or m.sample.owner,
    "characterization.refinementresult": lambda r: r.entered_by or owner_of(r.measurement),
    "jobs.analysisjob": lambda j: owner_of(j.measurement),
    "jobs.analysisresult": lambda r: None,  # shared by identical inputs
    "characterization.rawfile": lambda f: f.uploaded_by,
    "characterization.measurementfile": lambda link: owner_of(link.measurement),
    "lims.apitoken": lambda t: t.user,
}


def role_of(user) -> str:
    """The user's role: anonymous, none, viewer, chemist or manager (the highest group)."""
    if user is None or not getattr(user, "is_authenticated", False):
        return ANONYMOUS
    if not user.is_active:
        return NO_ROLE
    if user.is_superuser:
        return MANAGER
    names = _group_names(user)
    for group, role in (("lab-manager", MANAGER), ("chemist", CHEMIST), ("viewer", VIEWER)):
        if group in names:
            return role
    return NO_ROLE


def _group_names(user) -> set[str]:
    cached = getattr(user, "_kiln_groups", None)
    if cached is None:
        cached = set(user.groups.values_list("name", flat=True))
        user._kiln_groups = cached
    return cached


def label_of(target) -> str:
    """ "app.model" for a model instance, a model class or a label string."""
    if isinstance(target, str):
        return target.lower()
    meta = target._meta
    return f"{meta.app_label}.{meta.model_name}"


def owner_of(obj):
    """The user who owns `obj` (see OWNER_OF), None when nobody does."""
    find = OWNER_OF.get(label_of(obj))
    return find(obj) if find else None


def owns(user, obj) -> bool:
    owner = owner_of(obj)
    return owner is not None and getattr(owner, "pk", None) == user.pk


def allowed(user, action: str, target) -> bool:
    """May `user` do `action` on `target` (a record, or a model/label for read/create)?"""
    if action not in ACTIONS:
        raise ValueError(f"unknown action {action!r}; one of {ACTIONS}")
    role = role_of(user)
    if role in (ANONYMOUS, NO_ROLE):
        return False
    label = label_of(target)
    if action == "read":
        return role == MANAGER or label not in MANAGER_READ
    if action == "delete":
        return role == MANAGER and label not in KEPT
    if role == MANAGER:
        return True
    if label in PERSONAL and action == "change" and not isinstance(target, (str, type)):
        return owns(user, target)
    if role != CHEMIST or label in MANAGER_ONLY:
        return False
    if action == "create" or isinstance(target, (str, type)):
        return True
    return owns(user, target)


can = allowed


def require(user, action: str, target) -> None:
    """PermissionDenied with a sentence a chemist understands when not allowed."""
    if allowed(user, action, target):
        return
    raise PermissionDenied(refusal(user, action, target))


def refusal(user, action: str, target) -> str:
    role = role_of(user)
    if role == ANONYMOUS:
        return "Sign in first."
    if role == NO_ROLE:
        return "Your account has no role yet; ask a lab manager to add you to a group."
    label = label_of(target)
    if action == "delete" and label in KEPT:
        return f"A {_noun(label)} carries data: it is voided with a reason, never deleted."
    if action == "read":
        return f"Only lab managers see {_noun(label, plural=True)}."
    own_credential = label in PERSONAL and not isinstance(target, (str, type))  # see allowed()
    if role == VIEWER and not own_credential:
        return "Your role (viewer) reads records but does not change them."
    if label in MANAGER_ONLY or action == "delete":
        return f"Only lab managers {VERBS[action]} {_noun(label, plural=True)}."
    owner = owner_of(target)
    record = f"{_noun(label).capitalize()} {_name_of(target)}"
    if owner is None:
        return f"{record} has no owner; only a lab manager may {action} it."
    who = owner.get_username()
    return f"{record} belongs to {who}; only they or a lab manager may {action} it."


def _name_of(record) -> str:
    """A record's code (its own or its sample's), else its text."""
    code = getattr(record, "code", None) or getattr(getattr(record, "sample", None), "code", None)
    return str(code or record)


def _noun(label: str, *, plural: bool = False) -> str:
    try:
        meta = apps.get_model(label)._meta
    except (LookupError, ValueError):
        return label.rpartition(".")[2] + ("s" if plural else "")
    return str(meta.verbose_name_plural if plural else meta.verbose_name)


# --- the rule of a view -----------------------------------------------------------------------


@dataclass(frozen=True)
class Rule:
    """What a view does (`action` on `label`); `lookup` ({model field: URL argument}) names the
    record in its URL that the action applies to, checked before the view runs."""

    action: str
    label: str
    lookup: Mapping[str, str] = field(default_factory=dict)

    def target(self, kwargs: Mapping[str, object]):
        """The record the URL names (404 when there is none), or the label without a lookup."""
        if not self.lookup:
            return self.label
        model = apps.get_model(self.label)
        criteria = {name: kwargs[arg] for name, arg in self.lookup.items()}
        try:
            return model._default_manager.get(**criteria)
        except (model.DoesNotExist, ValueError):
            named = ", ".join(map(str, criteria.values()))
            raise Http404(f"no {model._meta.verbose_name} {named}") from None


def guard(action: str, label: str, *, lookup: Mapping[str, str] | None = None) -> Callable:
    """Declare a view's rule and apply it on every request: 403 with a sentence when the user
    may not `action` the record its URL names (or, without `lookup`, the model `label`)."""
    if action not in ACTIONS:
        raise ValueError(f"unknown action {action!r}; one of {ACTIONS}")
    rule = Rule(action, label.lower(), dict(lookup or {}))

    def decorator(view: Callable) -> Callable:
        @wraps(view)
        def guarded(request, *args, **kwargs):
            require(request.user, rule.action, rule.target(kwargs))
            return view(request, *args, **kwargs)

        guarded.kiln_rule = rule
        return guarded

    return decorator


def rule_of(view) -> Rule | None:
    """The rule a view declared with `guard` (class-based views: their `kiln_rule`)."""
    for holder in (view, getattr(view, "view_class", None), getattr(view, "cls", None)):
        rule = getattr(holder, "kiln_rule", None)
        if rule is not None:
            return rule
    return None


def role_not_required(view: Callable) -> Callable:
    """Mark a view a signed-in user without a role may still use (their profile, logout)."""
    view.kiln_role_not_required = True
    return view
