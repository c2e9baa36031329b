"""The gate decisions. Channels ask; they never decide for themselves.

Gate 1, tenant: `role_in` (memoised per request by `role_for_request`): provider staff enter
the companies they are assigned to, in the admin; a company's own host (portal and API) admits its
client users only, because it shows the controller's data in full. Gate 2, object: `objects_visible` (guardian grants on
coarse objects, inherited by the records under them). Gate 3, field: `policy_for` (the active
DPA's category grants for the person's role, and for agents and supervisors only while their
confidentiality commitment and required training are in order).

A Policy is resolved once per request (and so per DPA version) and then answers for every field of
every row from memory. Nothing is cached across requests: a revoked or expired DPA takes effect on
the very next one.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field

from django.conf import settings
from django.db import models
from django.db.models import Exists, OuterRef, Q, QuerySet

from tenants.categories import cell_fields, covered_by_any, field_category, personal_fields
from tenants.models import Assignment, ClientCompany, Membership, User


class Role:
    AGENT = "agent"
    SUPERVISOR = "supervisor"
    DPO = "dpo"
    PROVIDER_ADMIN = "provider_admin"
    CLIENT_ADMIN = "client_admin"
    CLIENT_MEMBER = "client_member"
    NONE = "none"

    PROVIDER_DPA_ROLES = (AGENT, SUPERVISOR)  # the roles a DPA grants categories to
    CLIENT = (CLIENT_ADMIN, CLIENT_MEMBER)


def tenant_gate_allows(*, user: User, company: ClientCompany) -> bool:
    """Gate 1: may this person enter this client company at all?

    Only active client companies admit anyone, and only their members and the provider staff
    assigned to them. Callers answer a refusal with 404, never 403, so nothing leaks about what
    exists.
    """
    return role_in(user=user, company=company) != Role.NONE


def role_in(*, user: User, company: ClientCompany) -> str:
    """The person's role inside this client company, or Role.NONE if they may not enter it."""
    if not (user.is_authenticated and user.is_active):
        return Role.NONE
    if not (company.is_client and company.is_active):
        return Role.NONE
    if user.is_provider_staff:
        if not Assignment.objects.filter(user=user, company=company).exists():
            return Role.NONE
        return user.provider_role
    membership = Membership.objects.filter(user=user, company=company).values_list("role", flat=True).first()
    return membership or Role.NONE


def companies_entered(*, user: User) -> QuerySet[ClientCompany]:
    """Gate 1 over many companies at once: exactly the client companies `role_in` admits this
    person to. A page that gathers several companies' records (the DPO workspace, evidence packs,
    incidents, training due) lists only these, and answers any other company's record with 404."""
    if not (user.is_authenticated and user.is_active):
        return ClientCompany.objects.none()
    active = ClientCompany.objects.filter(kind=ClientCompany.Kind.CLIENT, status=ClientCompany.Status.ACTIVE)
    if user.is_provider_staff:
        return active.filter(pk__in=Assignment.objects.filter(user=user).values("company"))
    return active.filter(pk__in=Membership.objects.filter(user=user).values("company"))


@dataclass(frozen=True)
class Policy:
    """What one person may do with the fields of one client company's data, right now."""

    role: str
    read: frozenset[str] = field(default_factory=frozenset)
    write: frozenset[str] = field(default_factory=frozenset)
    all_personal: bool = False
    dpa_version_id: int | None = None
    # Why an agent or supervisor gets no personal field although a DPA is in force (their
    # commitment or training); the admin shows these to them. Empty when nothing stands in the way.
    training_gaps: tuple = ()

    @property
    def enters(self) -> bool:
        return self.role != Role.NONE

    def reads_category(self, category: str) -> bool:
        return self.all_personal or covered_by_any(self.read, category)

    def writes_category(self, category: str) -> bool:
        if self.role in (Role.DPO, Role.PROVIDER_ADMIN, Role.CLIENT_MEMBER, Role.NONE):
            return False
        return self.all_personal or (covered_by_any(self.read, category) and covered_by_any(self.write, category))

    def can_read(self, model: type[models.Model], name: str) -> bool:
        category = field_category(model, name)
        return self.enters if category is None else self.reads_category(category)

    def can_write(self, model: type[models.Model], name: str) -> bool:
        category = field_category(model, name)
        if category is None:
            return self.role not in (Role.DPO, Role.PROVIDER_ADMIN, Role.CLIENT_MEMBER, Role.NONE)
        return self.writes_category(category)

    def masked(self, model: type[models.Model]) -> frozenset[str]:
        """The personal fields of `model` this person may not read."""
        return frozenset(name for name in personal_fields(model) if not self.can_read(model, name))


NO_ACCESS = Policy(role=Role.NONE)


def cells_readable(*, policy: Policy, model: type[models.Model], name: str, value: str) -> dict[str, dict]:
    """The cells of a `categorised_cells` field that this person may read, as stored
    ({key: {"label", "category", "value"}}), in order.

    The column's own category comes first (no cell of an ungranted column), then each cell's: a
    cell the DPA does not grant, or one that names no category, is left out altogether, as the
    intake form leaves out a question it may not ask. Every channel that shows such a field (the
    change form, the CSV export) goes through here.
    """
    if name not in cell_fields(model):
        raise ValueError(f"{model.__name__}.{name} is not declared with categorised_cells(...)")
    if not value or not policy.can_read(model, name):
        return {}
    try:
        cells = json.loads(value)
    except ValueError:
        return {}
    if not isinstance(cells, dict):
        return {}
    return {
        key: cell
        for key, cell in cells.items()
        if isinstance(cell, dict) and cell.get("category") and policy.reads_category(cell["category"])
    }


# ---- Policy sources --------------------------------------------------------------------------
# The gate decides; what is in force is known by the compliance rooms above it. They register their
# answers here from AppConfig.ready(), so the gate layer never imports them. A source not
# registered answers "nothing in force": no agent or supervisor reads a personal field (fail closed).
#   dpa_in_force(*, company) -> the DPA version in force (with its `grants`), or None
#   training_gaps(*, user, company, version) -> what stands between the person and the data
POLICY_SOURCES = ("dpa_in_force", "training_gaps")
_policy_sources: dict[str, Callable] = {}


def policy_source_register(*, name: str, source: Callable) -> None:
    """Register one of POLICY_SOURCES (again on a second `ready()`: the last one counts)."""
    if name not in POLICY_SOURCES:
        raise ValueError(f"unknown policy source {name!r}; the gate asks only for {', '.join(POLICY_SOURCES)}")
    _policy_sources[name] = source


def policy_for(*, user: User, company: ClientCompany, role: str | None = None) -> Policy:
    """Resolve the field policy: the role, and for provider agents and supervisors the grants of
    the DPA in force. No DPA in force means no personal field (fail closed). Neither does a missing
    confidentiality commitment, nor required training missing or expired (the general course, and
    each course the DPA requires): then `training_gaps` says why."""
    role = role_in(user=user, company=company) if role is None else role
    if role == Role.NONE:
        return NO_ACCESS
    if role in Role.CLIENT:
        # Client users act for the controller: their own data, in full.
        return Policy(role=role, all_personal=True)
    if role not in Role.PROVIDER_DPA_ROLES:
        # The DPO and provider admins see agreements and metadata, never call content.
        return Policy(role=role)
    dpa_in_force = _policy_sources.get("dpa_in_force")
    version = dpa_in_force(company=company) if dpa_in_force else None
    if version is None:
        return Policy(role=role)
    training_gaps = _policy_sources.get("training_gaps")
    if training_gaps is None:
        # Nobody can say the person's training is in order, so it is not.
        return Policy(role=role, dpa_version_id=version.pk)
    gaps = training_gaps(user=user, company=company, version=version)
    if gaps:
        return Policy(role=role, dpa_version_id=version.pk, training_gaps=tuple(gaps))
    grants = [grant for grant in version.grants.all() if grant.role == role]
    return Policy(
        role=role,
        read=frozenset(grant.category for grant in grants if grant.action == "read"),
        write=frozenset(grant.category for grant in grants if grant.action == "write"),
        dpa_version_id=version.pk,
    )


def _request_memo(request, name: str) -> dict:
    # DRF wraps Django's request; memoise on the Django one, which every layer of a request shares.
    return getattr(request, "_request", request).__dict__.setdefault(name, {})


def role_for_request(request, company: ClientCompany) -> str:
    """`role_in`, memoised on the request: the middleware, the API base and the policy ask once."""
    memo = _request_memo(request, "_gate_roles")
    if company.pk not in memo:
        memo[company.pk] = role_in(user=request.user, company=company)
    return memo[company.pk]


def role_memo_set(request, company: ClientCompany, role: str) -> None:
    """Replace the memoised role when the request's person changes after the middleware asked
    (an API token names its own person, whatever session cookie came along)."""
    _request_memo(request, "_gate_roles")[company.pk] = role
    _request_memo(request, "_gate_policies").pop(company.pk, None)


def policy_for_request(request, company: ClientCompany) -> Policy:
    """`policy_for`, memoised on the request: one resolution per request, however many cells."""
    memo = _request_memo(request, "_gate_policies")
    if company.pk not in memo:
        memo[company.pk] = policy_for(user=request.user, company=company, role=role_for_request(request, company))
    return memo[company.pk]


# ---- Gate 2: objects -------------------------------------------------------------------------


@dataclass(frozen=True)
class ObjectRule:
    """How agents come to see rows of a model.

    - `grants`: the direct-FK guardian model granting `permission` on rows of this model itself;
    - `through`: the FK to the model whose grants this one inherits (a call inherits its line's);
    - `open_unless`: a boolean field; rows where it is False are open to every agent of the
      company, rows where it is True need an individual grant (a VIP contact);
    - `open_to_agents`: every row is open to the company's agents (the schedule they book into).
    """

    grants: type[models.Model] | None = None
    group_grants: type[models.Model] | None = None
    permission: str = ""
    through: str = ""
    open_unless: str = ""
    open_to_agents: bool = False


_OBJECT_RULES: dict[type[models.Model], ObjectRule] = {}


def gate_objects(model: type[models.Model], **rule) -> None:
    """Declare how the object gate applies to `model` (next to the model, in its app)."""
    _OBJECT_RULES[model] = ObjectRule(**rule)


def objects_visible(*, policy: Policy, user: User, queryset: QuerySet) -> QuerySet:
    """Gate 2: narrow `queryset` to the rows this person may see.

    Agents see rows they hold a grant on, directly or through the object the row belongs to, as
    one subquery on the direct-FK grant tables: no per-row checks, no ID lists in Python. A model
    with no declared rule is closed to agents.
    """
    from gates.managers import mark_objects_gated, objects_gated_for

    if policy.role == Role.NONE:
        return queryset.none()
    if policy.role != Role.AGENT or objects_gated_for(queryset, user):
        return queryset  # supervisors, the DPO, provider admins and client users: every row
    return mark_objects_gated(queryset.filter(_agent_filter(queryset.model, user, prefix="")), user)


class Withheld:
    """What a relation leads to when the object gate withholds the related row from this person (a
    restricted contact without an individual grant): shown as "restricted", never as its fields,
    nor as its name or id."""

    label = "restricted"

    def __str__(self) -> str:
        return self.label

    def __repr__(self) -> str:
        return "WITHHELD"


WITHHELD = Withheld()


def is_tenant_model(model: type[models.Model]) -> bool:
    """Whether `model` lives in each client company's schema (and so behind the object gate)."""
    from django_tenants.routers import TenantSyncRouter

    router = TenantSyncRouter()
    label = model._meta.app_label
    return router.app_in_list(label, settings.TENANT_APPS) and not router.app_in_list(label, settings.SHARED_APPS)


def relation_inherited(model: type[models.Model], name: str) -> bool:
    """Whether every row a visible row of `model` reaches through the foreign key `name` is visible
    to whoever sees the row, whatever their grants: the parent the row inherits its grants from
    (a call's line), rows open to every agent (the schedule), or a public record (not tenant data).
    Any other relation passes the related model's own object gate."""
    related = model._meta.get_field(name).related_model
    own, theirs = _OBJECT_RULES.get(model), _OBJECT_RULES.get(related)
    if own is not None and own.through == name:
        return True
    return not is_tenant_model(related) or (theirs is not None and theirs.open_to_agents)


def relation_gated(*, policy: Policy, model: type[models.Model], name: str) -> bool:
    """Whether this person sees the row the foreign key `name` of a visible `model` row leads to
    only where the related model's own object gate says so: for agents, on every relation but the
    inherited ones (`relation_inherited`); every other role sees every row of a company it enters."""
    return policy.role == Role.AGENT and not relation_inherited(model, name)


def related_visible(*, policy: Policy, user: User, model: type[models.Model], name: str) -> Exists | None:
    """Gate 2 on a relation: an expression over rows of `model`, true where the row's foreign key
    `name` leads to a row this person may see on the related model's own rules, or None where every
    row it leads to is visible to them. One indexed EXISTS per row: no join, no list of ids."""
    if not relation_gated(policy=policy, model=model, name=name):
        return None
    field = model._meta.get_field(name)
    related = field.related_model
    target = related._default_manager.filter(**{field.target_field.name: OuterRef(field.attname)})
    return Exists(objects_visible(policy=policy, user=user, queryset=target))


GRANTS_INLINED = 1000  # beyond this many granted objects, the grants stay a subquery


def _granted_ids(rule: ObjectRule, user: User, granted: QuerySet):
    """The ids `granted` selects, read once per person context and written into the query as a list
    when there are few (an agent holds grants on a handful of lines): PostgreSQL then plans the
    counts and the date hierarchy on the (line, started_at) index with the lines' real statistics,
    where a subquery leaves it guessing and scanning every call. Many grants, or no person context
    to remember them in, keep the subquery."""
    from gates.context import current

    context = current()
    if context is None or not context.is_person or getattr(context.user, "pk", None) != user.pk:
        return granted
    key = ("granted", rule.grants, rule.permission, user.pk)
    if key not in context.memo:
        ids = list(granted[: GRANTS_INLINED + 1])
        context.memo[key] = sorted(ids) if len(ids) <= GRANTS_INLINED else None
    ids = context.memo[key]
    return granted if ids is None else ids


def _agent_filter(model: type[models.Model], user: User, *, prefix: str) -> Q:
    rule = _OBJECT_RULES.get(model)
    if rule is None:
        return Q(pk__in=[])
    if rule.open_to_agents:
        return Q()
    if rule.through:
        parent = model._meta.get_field(rule.through).related_model
        return _agent_filter(parent, user, prefix=f"{prefix}{rule.through}__")
    condition = Q(pk__in=[])
    if rule.grants is not None:
        # One IN (... UNION ...) rather than EXISTS(user) OR EXISTS(group): an OR of subqueries
        # forces a scan of the whole table, while IN lets PostgreSQL semi-join through the
        # (line, started_at) index and read only the granted lines' rows.
        granted = rule.grants.objects.filter(user=user, permission__codename=rule.permission).values_list(
            "content_object_id", flat=True
        )
        if rule.group_grants is not None:
            granted = granted.union(
                rule.group_grants.objects.filter(group__user=user, permission__codename=rule.permission).values_list(
                    "content_object_id", flat=True
                )
            )
        condition = Q(**{f"{prefix}pk__in": _granted_ids(rule, user, granted)})
    if rule.open_unless:
        condition |= Q(**{f"{prefix}{rule.open_unless}": False})
    return condition


def users_granted(*, obj: models.Model, users: QuerySet[User]) -> QuerySet[User]:
    """Gate 2 from the row's side: which of `users` would see `obj` if they entered its company
    as agents (a grant on it, or on what it inherits from, directly or through a group), as one
    query whatever the number of users. The ACD queue asks this once per call, to offer the call
    only to agents who may open it; `_agent_filter` is the same rule from the person's side."""
    rule = _OBJECT_RULES.get(type(obj))
    while rule is not None and rule.through:
        obj = getattr(obj, rule.through)
        rule = _OBJECT_RULES.get(type(obj))
    if rule is None:
        return users.none()
    if rule.open_to_agents or (rule.open_unless and getattr(obj, rule.open_unless) is False):
        return users
    condition = Q(pk__in=[])
    granting = {"content_object": obj, "permission__codename": rule.permission}
    if rule.grants is not None:
        condition |= Q(pk__in=rule.grants.objects.filter(**granting).values("user_id"))
    if rule.group_grants is not None:
        condition |= Q(groups__in=rule.group_grants.objects.filter(**granting).values("group_id"))
    return users.filter(pk__in=users.model.objects.filter(condition).values("pk"))
