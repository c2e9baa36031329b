"""The base for custom admin views, and the admin's autocomplete, through the gates.

Like Sentry's `convert_args`, `GatedAdminView` resolves everything a handler may rely on before it
runs: the client company chosen with the switcher (gate 1), the person's role and Policy there, and
the objects the URL names, fetched through the object gate with the ungranted fields deferred. A
handler then reads only through `queryset()`, `get_object()` and `related()`:

    class AnswerCallView(GatedAdminView):
        roles = DESK_ROLES
        objects = {"pk": Fetch(Call, related=("line",))}

        def get(self, request, *, call):
            contact = self.related(call, "contact")  # a Contact, WITHHELD, or None
            return self.render("admin/answering/answer_call.html", {...})

    path("<int:pk>/answer/", self.admin_site.admin_view(AnswerCallView.as_view(self)), ...)

The view refuses to run, with a 404, when no company is chosen, gate 1 refuses the person there, or
their role is not one of `roles`; an object that is missing or outside the gate is the same 404.
Like PostHog's viewset mixin, `__init_subclass__` refuses a subclass that overrides the methods
through which the gates act.

A page over several companies at once (the DPO's workspace and evidence packs) derives from
`GatedCrossCompanyAdminView` instead: the same checks and readers, with `self.companies` (gate 1
over every company, `engine.companies_entered`) in place of the switcher's one company, and reads
of one company's rows only inside `with self.entering(company):`.
"""

from __future__ import annotations

from collections.abc import Iterable
from contextlib import contextmanager
from dataclasses import dataclass

from django.apps import apps
from django.contrib.admin.exceptions import NotRegistered
from django.contrib.admin.views.autocomplete import AutocompleteJsonView
from django.core.exceptions import FieldDoesNotExist, PermissionDenied, ValidationError
from django.db import models
from django.http import Http404, HttpResponseNotAllowed, JsonResponse
from django.template.response import TemplateResponse
from django_tenants.utils import tenant_context

from gates.admin import STAFF_ROLES, GatedModelAdmin
from gates.context import person_context
from gates.engine import (
    NO_ACCESS,
    WITHHELD,
    Policy,
    Role,
    Withheld,
    companies_entered,
    is_tenant_model,
    objects_visible,
    policy_for_request,
    relation_inherited,
)
from gates.selection import selected_company
from gates.signals import report_refused
from tenants.categories import personal_fields
from tenants.models import ClientCompany

_FINAL = (
    "as_view",
    "dispatch",
    "entering",
    "queryset",
    "get_object",
    "related",
    "__init__",
    "__call__",
)


@dataclass(frozen=True)
class Fetch:
    """A URL argument that names an object: fetched through the gate, with `related` followed in
    the same query (only relations the row inherits its grants through: see `queryset`)."""

    model: type[models.Model]
    related: tuple[str, ...] = ()


class _GatedView:
    """What the custom-view bases share: the refusal of overrides, dispatch (the URL's objects
    fetched through the gate before the handler runs), reading through the gates, and rendering."""

    roles: tuple[str, ...] = STAFF_ROLES
    objects: dict[str, Fetch] = {}
    http_method_names = ("get", "post")
    # A URL argument naming one of the person's companies by its schema (cross-company views only).
    company_argument: str | None = None

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        if cls.__module__ == __name__:
            return  # the bases themselves
        for name in _FINAL:
            if name in cls.__dict__:
                raise TypeError(
                    f"{cls.__qualname__} overrides {name}(), which would let it skip a gate; "
                    "read through queryset(), get_object() and related(), and handle in get() or post()"
                )

    def __init__(self, *, admin_site, request, company: ClientCompany | None, policy: Policy, model_admin=None):
        self.model_admin = model_admin
        self.admin_site = admin_site
        self.request = request
        self.company = company
        self.policy = policy

    def dispatch(self, request, *args, **kwargs):
        method = request.method.lower()
        handler = getattr(self, method, None) if method in self.http_method_names else None
        if handler is None:
            return HttpResponseNotAllowed([m.upper() for m in self.http_method_names if hasattr(self, m)])
        if self.company_argument is None:
            return self._handle(handler, request, *args, **kwargs)
        company = self._company_named(kwargs.pop(self.company_argument))
        with self.entering(company):
            response = self._handle(handler, request, *args, company=company, **kwargs)
            if hasattr(response, "render") and not response.is_rendered:
                response.render()  # inside the company, whose rows the template may reach
        return response

    def _handle(self, handler, request, *args, **kwargs):
        for argument, fetch in self.objects.items():
            obj = self.get_object(fetch.model, kwargs.pop(argument), related=fetch.related)
            kwargs[fetch.model._meta.model_name] = obj
        return handler(request, *args, **kwargs)

    def _company_named(self, schema) -> ClientCompany:
        raise TypeError(f"{type(self).__qualname__}: company_argument is for GatedCrossCompanyAdminView only")

    # ---- reading, through the gates
    def queryset(self, model: type[models.Model], *, related: Iterable[str] = ()) -> models.QuerySet:
        """The rows of `model` this person may see, their ungranted fields deferred (never loaded,
        so never decrypted). `related` joins the relations the rows inherit their grants through (a
        call's line), their ungranted fields deferred too; any other relation passes its own
        model's gate, so reach it with `related()`."""
        if self.company is None and is_tenant_model(model):
            raise RuntimeError(f"{model.__name__} is one company's data: read it inside `with self.entering(company):`")
        rows = objects_visible(policy=self.policy, user=self.request.user, queryset=model._default_manager.all())
        deferred = list(self.policy.masked(model))
        for path in related:
            current = model
            for hop in path.split("__"):
                if not relation_inherited(current, hop):
                    raise TypeError(
                        f"{model.__name__}: {path} leads to rows with gates of their own; use related(obj, {hop!r})"
                    )
                current = current._meta.get_field(hop).related_model
            deferred += [f"{path}__{name}" for name in self.policy.masked(current)]
        rows = rows.select_related(*related) if related else rows
        return rows.defer(*deferred) if deferred else rows

    def get_object(self, model: type[models.Model], pk, *, related: Iterable[str] = ()) -> models.Model:
        """One row through `queryset`: a missing id, a malformed one and one outside the gate are
        the same 404 (and a refusal in the access log)."""
        try:
            obj = self.queryset(model, related=related).filter(pk=pk).first()
        except (ValueError, TypeError, ValidationError):
            obj = None
        if obj is None:
            report_refused(user=self.request.user, channel="admin", model=model, object_id=pk, path=self.request.path)
            raise Http404("No such object.")
        return obj

    def related(self, obj: models.Model, name: str) -> models.Model | Withheld | None:
        """What the foreign key `name` of `obj` leads to, fetched through the related model's own
        gate: the record (its ungranted fields deferred), WITHHELD when the gate withholds it from
        this person (show "restricted", never its fields), or None when there is none."""
        field = obj._meta.get_field(name)
        value = getattr(obj, field.attname)
        if value is None:
            return None
        found = self.queryset(field.related_model).filter(**{field.target_field.name: value}).first()
        return WITHHELD if found is None else found

    # ---- answering
    def render(self, template: str, context: dict) -> TemplateResponse:
        """The admin's page around `context`, as the model's own admin pages are."""
        page = self.admin_site.each_context(self.request)
        if self.model_admin is not None:
            page["opts"] = self.model_admin.model._meta
        return TemplateResponse(self.request, template, {**page, **context})


class GatedAdminView(_GatedView):
    """Base for the admin's custom views over one client company's data (see the module's doc)."""

    # Who may use the view; to anyone else in the company it does not exist (404).
    roles: tuple[str, ...] = STAFF_ROLES
    # URL arguments naming objects: {"pk": Fetch(Call)} hands the handler `call=`.
    objects: dict[str, Fetch] = {}

    @classmethod
    def as_view(cls, model_admin):
        """The view function, for `admin_site.admin_view(...)`: one instance per request."""

        def view(request, *args, **kwargs):
            company = selected_company(request)  # None when gate 1 refuses the person there
            if company is None:
                raise Http404("Choose a client company to work for first.")
            policy = policy_for_request(request, company)
            if policy.role not in cls.roles:
                raise Http404
            instance = cls(
                admin_site=model_admin.admin_site,
                model_admin=model_admin,
                request=request,
                company=company,
                policy=policy,
            )
            with (
                tenant_context(company),
                person_context(user=request.user, company=company, policy=policy, channel="admin", path=request.path),
            ):
                response = instance.dispatch(request, *args, **kwargs)
                if hasattr(response, "render") and not response.is_rendered:
                    response.render()  # a lazy template would otherwise query after the schema is reset
            return response

        view.view_class = cls
        return view


class GatedCrossCompanyAdminView(_GatedView):
    """Base for the admin's pages over several client companies at once (the DPO's workspace and
    evidence packs): gate 1 applied to each company they gather.

    The view gets `self.companies`, exactly the companies `engine.companies_entered` admits the
    person to, and reads one company's rows only inside `with self.entering(company):` (its schema,
    the person's Policy there, `queryset()`, `get_object()` and `related()` as in
    `GatedAdminView`); outside one, a read of tenant data raises. A URL argument named by
    `company_argument` is resolved among `self.companies` before the handler runs, which then
    runs inside it and gets `company=` (and the `objects` fetched there). Anyone whose provider
    role is not one of `roles`, and any company not theirs (or not a company at all), gets the
    same 404 as an object that does not exist.

        class EvidenceDownloadView(GatedCrossCompanyAdminView):
            roles = (Role.DPO,)
            company_argument = "slug"
            objects = {"pk": Fetch(EvidencePack)}
            http_method_names = ("post",)

            def post(self, request, *, company, evidencepack): ...
    """

    roles: tuple[str, ...] = (Role.DPO,)

    @classmethod
    def as_view(cls, admin_site):
        """The view function, for `admin_site.admin_view(...)`: one instance per request."""

        def view(request, *args, **kwargs):
            user = request.user
            staff = user.is_authenticated and user.is_active and user.is_provider_staff
            if (user.provider_role if staff else Role.NONE) not in cls.roles:
                raise Http404
            instance = cls(admin_site=admin_site, request=request, company=None, policy=NO_ACCESS)
            instance.companies = companies_entered(user=user)
            response = instance.dispatch(request, *args, **kwargs)
            if hasattr(response, "render") and not response.is_rendered:
                response.render()
            return response

        view.view_class = cls
        return view

    def _company_named(self, schema) -> ClientCompany:
        company = self.companies.filter(schema_name=str(schema)).first()
        if company is None:
            raise Http404("No such object.")  # not theirs, or no company: as a missing object
        return company

    @contextmanager
    def entering(self, company: ClientCompany):
        """Work inside `company`, one of `self.companies`: its schema and the person's Policy there
        for the block, then back to none."""
        if not self.companies.filter(pk=company.pk).exists():
            raise Http404("No such object.")
        saved = (self.company, self.policy)
        self.company, self.policy = company, policy_for_request(self.request, company)
        try:
            with (
                tenant_context(company),
                person_context(
                    user=self.request.user, company=company, policy=self.policy, channel="admin", path=self.request.path
                ),
            ):
                yield self.policy
        finally:
            self.company, self.policy = saved


class GatedAutocompleteJsonView(AutocompleteJsonView):
    """Django's admin autocomplete (`/admin/autocomplete/`, behind every `autocomplete_fields`
    picker), inside the company chosen with the switcher and through the remote model's gated
    admin: its object gate, its search on the fields the person may read (encrypted ones by exact
    match through the blind indexes), and results that name the record with only the granted
    `picker_fields`, which go to the access log. No company chosen, or gate 1 refusing: 404."""

    def get(self, request, *args, **kwargs):
        self.term, self.model_admin, self.source_field, to_field_name = self.process_request(request)
        if not isinstance(self.model_admin, GatedModelAdmin):
            if is_tenant_model(self.model_admin.model):
                raise Http404  # tenant data is searched only through a gated admin
            return super().get(request, *args, **kwargs)
        company = selected_company(request)
        if company is None:
            raise Http404("Choose a client company to work for first.")
        policy = self.model_admin.gate_policy(request)
        with (
            tenant_context(company),
            person_context(user=request.user, company=company, policy=policy, channel="admin", path=request.path),
        ):
            if not self.has_perm(request):
                raise PermissionDenied
            model = self.model_admin.model
            shown = [name for name in self.model_admin.picker_fields if policy.can_read(model, name)]
            self.object_list = self.get_queryset().defer(*(set(personal_fields(model)) - set(shown)))
            context = self.get_context_data()
            results = list(context["object_list"])  # the layer logs the shown fields it loaded
            return JsonResponse(
                {
                    "results": [
                        {
                            "id": str(getattr(obj, to_field_name)),
                            "text": " · ".join([str(obj), *(str(getattr(obj, n)) for n in shown if getattr(obj, n))]),
                        }
                        for obj in results
                    ],
                    "pagination": {"more": context["page_obj"].has_next()},
                }
            )

    def process_request(self, request):
        """Django's, except that a gated admin whose search fields the person may read none of
        still answers (every term then matches nothing) rather than a 404 that tells the fields
        apart: the declared search fields make a picker, the policy decides what it searches."""
        term = request.GET.get("term", "")
        try:
            source_model = apps.get_model(request.GET["app_label"], request.GET["model_name"])
            source_field = source_model._meta.get_field(request.GET["field_name"])
            remote_model = source_field.remote_field.model
            model_admin = self.admin_site.get_model_admin(remote_model)
        except (KeyError, LookupError, ValueError, FieldDoesNotExist, AttributeError, NotRegistered) as exc:
            raise PermissionDenied from exc
        if not model_admin.search_fields:
            raise Http404(f"{type(model_admin).__qualname__} must have search_fields for the autocomplete_view.")
        to_field_name = getattr(source_field.remote_field, "field_name", remote_model._meta.pk.attname)
        to_field_name = remote_model._meta.get_field(to_field_name).attname
        if not model_admin.to_field_allowed(request, to_field_name):
            raise PermissionDenied
        return term, model_admin, source_field, to_field_name
