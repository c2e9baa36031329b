"""The gated ModelAdmin base. Agents reach tenant data in the Django admin only through it.

Every admin surface passes the gates automatically:
- views run inside the client company the person selected with the switcher, and only if gate 1
  admits them there;
- the changelist's rows, the change form's object, history and delete pages come from the
  object-gated queryset; an object outside the grants is a 404 on every URL;
- a field the DPA does not grant is never loaded (deferred, so never decrypted), shows as
  "restricted by DPA" in columns and forms, and cannot be searched, filtered (a tampered lookup is
  a 400), ordered, edited or exported;
- a derived column (`tenants.categories.derived`: blind indexes, pseudonyms) never leaves the
  database: never loaded, shown, exported or ordered by, and a lookup on it is a 400, whatever the
  DPA grants; an admin that names one is refused at start-up;
- a field whose cells carry their own categories (`categorised_cells`: a message's answers) shows,
  in the change form and the export alike, only the cells `gates.engine.cells_readable` grants;
- a related record a row names (a call's contact, an appointment's contact) passes the related
  model's own gates: for an agent without a grant on it, columns, read-only fields, inlines and
  the pickers show "restricted" in its place, never its name, id or a link, and a choice of it is
  neither offered nor accepted;
- encrypted search fields are searched by exact match through their blind indexes (`search_index`),
  only on fields the person may read; the admin's autocomplete uses the same search;
- inlines (GatedInline) and the CSV export follow the same policy. The export writes through
  `gates.exports`, so no cell is a spreadsheet formula; the layer logs every personal field it returns.

Subclasses configure with the usual attributes (list_display, search_fields, ...). They may not
override the methods through which the gates act; `__init_subclass__` refuses it at import time.
"""

from __future__ import annotations

import json
from contextlib import contextmanager

from django.contrib import admin, messages
from django.contrib.admin.utils import flatten, flatten_fieldsets, label_for_field
from django.core.exceptions import FieldDoesNotExist
from django.http import Http404, HttpResponseRedirect
from django.urls import NoReverseMatch, reverse
from django.utils.html import format_html, format_html_join
from django.utils.text import capfirst
from django_tenants.utils import tenant_context

from gates.admin_list import GatedChangeList, action_checkbox_html, url_with_pk
from gates.context import as_channel, person_context
from gates.engine import (
    NO_ACCESS,
    WITHHELD,
    Policy,
    Role,
    cells_readable,
    is_tenant_model,
    objects_visible,
    policy_for_request,
    related_visible,
    relation_gated,
)
from gates.exports import csv_download
from gates.selection import selected_company
from gates.signals import report_refused
from tenants.categories import cell_fields, derived_fields, field_category, personal_fields
from tenants.errors import ApplicationError

MASK = "restricted by DPA"
STAFF_ROLES = (Role.AGENT, Role.SUPERVISOR, Role.DPO, Role.PROVIDER_ADMIN)
EDITING_ROLES = (Role.AGENT, Role.SUPERVISOR)

_PROTECTED = (
    "get_queryset",
    "get_object",
    "get_fields",
    "get_fieldsets",
    "get_readonly_fields",
    "get_form",
    "get_formset",
    "get_list_display",
    "get_list_display_links",
    "get_search_fields",
    "get_list_filter",
    "get_ordering",
    "get_sortable_by",
    "lookup_allowed",
    "get_search_results",
    "get_actions",
    "get_exclude",
    "has_view_permission",
    "has_change_permission",
    "has_add_permission",
    "has_delete_permission",
    "has_module_permission",
    "changelist_view",
    "change_view",
    "add_view",
    "delete_view",
    "history_view",
    "changeform_view",
    "get_changelist",
    "get_changelist_instance",
    "get_inline_instances",
    "get_formsets_with_inlines",
)


def gated_column(*fields: str, description: str = ""):
    """Mark an admin method used as a column with the model fields it reads: the column is masked
    whenever any of them is."""

    def mark(func):
        func.gated_fields = fields
        func.short_description = description or func.__name__.replace("_", " ")
        return func

    return mark


def _path_end(model, path: str):
    """The (model, field) a lookup path such as `contact__name__icontains` first lands on that is
    not a relation to follow (lookups like `icontains` are not fields, and end the walk)."""
    current = model
    for part in path.split("__"):
        try:
            field = current._meta.get_field(part)
        except FieldDoesNotExist:
            return None
        if field_category(current, part) is not None or not field.is_relation or field.related_model is None:
            return current, field
        current = field.related_model
    return None


def _path_category(model, path: str) -> str | None:
    """The data category at the end of a lookup path, or None for a non-personal one."""
    end = _path_end(model, path)
    return None if end is None else field_category(end[0], end[1].name)


def _path_is_derived(model, path: str) -> bool:
    """Does a lookup path (`phone_bidx`, `contact__phone_bidx__startswith`) reach a derived column?"""
    end = _path_end(model, path)
    return end is not None and end[1].name in derived_fields(end[0])


def _unloaded(model) -> list[str]:
    """What a queryset of `model` never loads whatever the policy: its derived columns."""
    return sorted(derived_fields(model))


def _path_is_encrypted(model, path: str) -> bool:
    from tenants.crypto import EncryptedMixin

    end = _path_end(model, path)
    return end is not None and isinstance(end[1], EncryptedMixin)


class _GateMixin:
    """What the ModelAdmin and the inlines share: the company, the policy, and field masking."""

    # Who sees the model at all: every role by default; a model of the provider's own business
    # (billing) narrows it, and a role outside it finds neither the menu entry nor the rows.
    view_roles: tuple[str, ...] = STAFF_ROLES
    change_roles: tuple[str, ...] = EDITING_ROLES
    add_roles: tuple[str, ...] = ()
    _related_read_only = False

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        if cls.__module__ == __name__:
            return
        for name in _PROTECTED:
            if name in cls.__dict__:
                raise TypeError(
                    f"{cls.__qualname__} overrides {name}(), which would let it skip a gate; "
                    "configure it with attributes instead"
                )

    # ---- who and where
    def gate_company(self, request):
        return selected_company(request)

    def gate_policy(self, request) -> Policy:
        company = self.gate_company(request)
        return NO_ACCESS if company is None else policy_for_request(request, company)

    def _masked(self, request) -> frozenset[str]:
        return self.gate_policy(request).masked(self.model)

    def _path_masked(self, request, path: str) -> bool:
        category = _path_category(self.model, path.lstrip("^=@"))
        if category is None:
            return False
        return not self.gate_policy(request).reads_category(category)

    # ---- rows
    def get_queryset(self, request):
        queryset = super().get_queryset(request)
        policy = self.gate_policy(request)
        queryset = objects_visible(policy=policy, user=request.user, queryset=queryset)
        masked = [*policy.masked(self.model), *_unloaded(self.model)]
        # A related record the admin names (a call's contact, in a column or a read-only field) is
        # joined with its personal fields deferred: naming it shows "Contact #12", and loading it
        # whole would decrypt everything in it.
        joined = []
        for field in self.model._meta.concrete_fields:
            related = field.related_model if field.is_relation else None
            if related is not None and personal_fields(related):
                joined.append(field.name)
                masked += [f"{field.name}__{name}" for name in [*personal_fields(related), *_unloaded(related)]]
        if joined:
            # Once a queryset selects related rows, the changelist no longer adds its own
            # list_select_related (or the foreign keys it shows): join those here too, or each row
            # would fetch them one by one.
            wanted = getattr(self, "list_select_related", False)
            if not isinstance(wanted, (list, tuple)):
                shown = set(getattr(self, "list_display", ()))
                wanted = [f.name for f in self.model._meta.concrete_fields if f.is_relation and f.name in shown]
            queryset = queryset.select_related(*joined, *wanted)
        # Whether each related record the admin shows passes its own model's object gate: the
        # displays below show "restricted" where it does not (`_related_display`).
        gated = {
            f"_gate_visible_{name}": visible
            for name in self._shown_relations()
            if (visible := related_visible(policy=policy, user=request.user, model=self.model, name=name)) is not None
        }
        if gated:
            queryset = queryset.annotate(**gated)
        # Never loaded, so never decrypted, whatever a template or widget asks of the object.
        return queryset.defer(*masked) if masked else queryset

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        # The choices of a related record: only the rows its own object gate shows this person (a
        # choice posted from outside them is refused like a missing one), named by their
        # non-personal __str__, so loaded with no personal field.
        related = db_field.related_model
        if "queryset" not in kwargs and (is_tenant_model(related) or personal_fields(related)):
            choices = related._default_manager.all()
            if is_tenant_model(related):
                choices = objects_visible(policy=self.gate_policy(request), user=request.user, queryset=choices)
            unloaded = [*personal_fields(related), *_unloaded(related)]
            kwargs["queryset"] = choices.defer(*unloaded) if unloaded else choices
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    # ---- related records
    def _shown_relations(self) -> list[str]:
        """The foreign keys this admin shows anywhere: columns, form fields, read-only fields."""
        named = {*getattr(self, "list_display", ()), *(self.readonly_fields or ())}
        if self.fieldsets:
            named.update(flatten_fieldsets(self.fieldsets))
        elif self.fields:
            named.update(flatten_fieldsets([(None, {"fields": self.fields})]))
        else:
            named.update(f.name for f in self.model._meta.concrete_fields)
        return [
            f.name for f in self.model._meta.concrete_fields if f.is_relation and f.related_model and f.name in named
        ]

    def _related_swaps(self, request, obj=None, *, form: bool = True) -> set[str]:
        """The foreign keys shown through `_related_display` rather than Django's own display: those
        whose related rows pass their own object gate for this person. In a form, an editable one
        keeps its (gated) choices unless the record it holds now is outside the gate: then it is
        read-only, so that saving the form neither shows nor drops it."""
        policy = self.gate_policy(request)
        # An inline's rows share one set of fields, and its `obj` is the parent: gated relations
        # are read-only there, so that no row's form shows, or drops, a record held outside the gate.
        form = form and not self._related_read_only
        declared = set(super().get_readonly_fields(request, obj)) if form else set()
        swaps = set()
        for name in self._shown_relations():
            if not relation_gated(policy=policy, model=self.model, name=name):
                continue
            field = self.model._meta.get_field(name)
            editable = form and field.editable and name not in declared and policy.can_write(self.model, name)
            if not editable or (getattr(obj, field.attname, None) is not None and not self._visible(obj, name)):
                swaps.add(name)
        return swaps

    @staticmethod
    def _visible(obj, name: str) -> bool:
        # Annotated by get_queryset; a row that did not come through it is not known to be visible.
        return getattr(obj, f"_gate_visible_{name}", False)

    def _related_display(self, name: str) -> str:
        """The name of a display for the foreign key `name`: the related record as a link to its
        page where its gate shows it, "restricted" where it does not (never its name or id)."""
        attr = f"related__{name}"
        if not hasattr(self, attr):
            field = self.model._meta.get_field(name)
            site_name = self.admin_site.name
            empty = self.get_empty_value_display()

            def show(obj, _field=field):
                if getattr(obj, _field.attname) is None:
                    return empty
                if not self._visible(obj, _field.name):
                    return WITHHELD.label
                related = getattr(obj, _field.name)
                opts = _field.related_model._meta
                try:
                    url_name = f"admin:{opts.app_label}_{opts.model_name}_change"
                    url = url_with_pk(url_name, related.pk, current_app=site_name)
                except NoReverseMatch:
                    return str(related)
                return format_html('<a href="{}">{}</a>', url, related)

            show.short_description = field.verbose_name
            show.gated_fields = ()  # names the record; shows none of its fields
            setattr(self, attr, show)
        return attr

    # ---- fields in forms
    def _mask_name(self, name: str) -> str:
        attr = f"masked__{name}"
        if not hasattr(self, attr):
            try:
                label = self.model._meta.get_field(name).verbose_name
            except FieldDoesNotExist:
                label = name

            def show(obj, _label=label):
                return MASK

            show.short_description = label
            setattr(self, attr, show)
        return attr

    def _cells_name(self, name: str) -> str:
        """A read-only stand-in for a field whose cells carry their own categories: it shows the
        cells `cells_readable` grants, and only them (the export writes the same)."""
        attr = f"cells__{name}"
        if not hasattr(self, attr):
            field = self.model._meta.get_field(name)

            def show(obj, _name=name):
                # The policy comes with the object (get_object); without one, show nothing.
                policy = getattr(obj, "_gate_policy", NO_ACCESS)
                cells = cells_readable(policy=policy, model=type(obj), name=_name, value=getattr(obj, _name))
                return format_html_join("", "<div><strong>{}</strong>: {}</div>", _cell_lines(cells)) or "-"

            show.short_description = field.verbose_name
            show.gated_fields = (name,)
            setattr(self, attr, show)
        return attr

    def _shown_name(self, name, masked: frozenset[str], swaps: set[str]):
        """What the form shows for `name`: the field, its mask, the related record through its own
        gate, its granted cells, or nothing (a derived column)."""
        if not isinstance(name, str):
            return name
        if name in masked:
            return self._mask_name(name)
        if name in swaps:
            return self._related_display(name)
        if name in cell_fields(self.model):
            return self._cells_name(name)
        return None if name in derived_fields(self.model) else name

    def _shown_line(self, line, masked: frozenset[str], swaps: set[str]):
        if isinstance(line, (list, tuple)):
            shown = tuple(s for s in (self._shown_name(f, masked, swaps) for f in line) if s is not None)
            return shown or None
        return self._shown_name(line, masked, swaps)

    def get_fields(self, request, obj=None):
        masked, swaps = self._masked(request), self._related_swaps(request, obj)
        shown = (self._shown_line(name, masked, swaps) for name in super().get_fields(request, obj))
        return list(dict.fromkeys(name for name in shown if name is not None))

    def get_fieldsets(self, request, obj=None):
        masked, swaps = self._masked(request), self._related_swaps(request, obj)
        fieldsets = []
        for title, options in super().get_fieldsets(request, obj):
            shown = (self._shown_line(line, masked, swaps) for line in options.get("fields", ()))
            fieldsets.append((title, {**options, "fields": [line for line in shown if line is not None]}))
        return fieldsets

    def get_readonly_fields(self, request, obj=None):
        policy = self.gate_policy(request)
        derived = derived_fields(self.model)
        swaps = self._related_swaps(request, obj)
        readonly = [
            self._related_display(name) if name in swaps else name
            for name in super().get_readonly_fields(request, obj)
            if name not in derived
        ]
        readonly += [self._related_display(name) for name in swaps]
        for name in [f.name for f in self.model._meta.get_fields() if not f.auto_created or f.concrete]:
            if name in derived or name in swaps:
                continue
            if name in policy.masked(self.model):
                readonly.append(self._mask_name(name))
            elif name in cell_fields(self.model):
                readonly.append(self._cells_name(name))
            elif not policy.can_write(self.model, name):
                readonly.append(name)
        return list(dict.fromkeys(readonly))

    def get_exclude(self, request, obj=None):
        # Cells are never a raw form field (the JSON would carry every cell); derived columns never
        # a field at all; a related record outside its gate is shown read-only instead.
        never = [*derived_fields(self.model), *cell_fields(self.model)]
        excluded = [*(super().get_exclude(request, obj) or ()), *self._masked(request), *never]
        return [*excluded, *self._related_swaps(request, obj)]

    # ---- permissions
    def has_view_permission(self, request, obj=None):
        return self.gate_policy(request).role in self.view_roles

    def has_change_permission(self, request, obj=None):
        return self.gate_policy(request).role in self.change_roles

    def has_add_permission(self, request, obj=None):
        # Records are made by the desk's services; only configuration (services, rota, ...) names
        # the roles that may add it by hand.
        return self.gate_policy(request).role in self.add_roles

    def has_delete_permission(self, request, obj=None):
        return False  # deletion is the retention job's, with its report


class GatedModelAdmin(_GateMixin, admin.ModelAdmin):
    """Base admin for every tenant model that an agent may see."""

    actions = ["export_csv"]
    # How encrypted search fields are searched: a selector `(*, query, fields) -> Q` matching the
    # query exactly through the blind indexes, on `fields` only (those the person may read). The
    # database holds ciphertext, so an encrypted search field without one is refused at start-up.
    search_index = None
    # Personal fields a picker (the admin's autocomplete) shows after the record's name, where the
    # person may read them; shown reads go to the access log.
    picker_fields: tuple[str, ...] = ()

    def __init__(self, model, admin_site):
        super().__init__(model, admin_site)
        self._refuse_derived()
        for name in self.search_fields:
            if _path_is_encrypted(model, name.lstrip("^=@")) and self.search_index is None:
                # The database holds ciphertext: a search would fail (a 500) or match nothing.
                raise TypeError(f"{type(self).__name__}.search_fields: {name} is encrypted and cannot be searched")
        for name in self.list_display:
            if isinstance(name, str) and name != "__str__":
                if not hasattr(self, name):
                    self.model._meta.get_field(name)  # a typo fails at start-up
                elif not hasattr(getattr(self, name), "gated_fields"):
                    raise TypeError(f"{type(self).__name__}.{name} is a column; mark it with @gated_column(...)")

    def _refuse_derived(self) -> None:
        """A derived column named anywhere an admin shows, searches, filters or orders is a bug in
        waiting: refuse it at start-up rather than drop it quietly."""
        named = {
            "list_display": self.list_display,
            "list_display_links": self.list_display_links or (),
            "list_editable": self.list_editable,
            "list_filter": [f if isinstance(f, str) else f[0] for f in self.list_filter if not isinstance(f, type)],
            "search_fields": [f.lstrip("^=@") for f in self.search_fields],
            "ordering": [o.lstrip("-") for o in self.ordering or () if isinstance(o, str)],
            "date_hierarchy": [self.date_hierarchy] if self.date_hierarchy else [],
            "fields": flatten(self.fields) if self.fields else [],
            "fieldsets": flatten_fieldsets(self.fieldsets) if self.fieldsets else [],
            "readonly_fields": self.readonly_fields,
        }
        for option, names in named.items():
            for name in names:
                if isinstance(name, str) and _path_is_derived(self.model, name):
                    raise TypeError(
                        f"{type(self).__name__}.{option}: {name} is derived, and derived columns never leave the "
                        "database (tenants.categories.derived)"
                    )
        for name in self.list_display:
            if isinstance(name, str) and name in cell_fields(self.model):
                raise TypeError(
                    f"{type(self).__name__}.list_display: {name} holds cells of their own categories; "
                    "show it in the change form, where each cell is gated"
                )

    def has_module_permission(self, request):
        return self.gate_policy(request).role in self.view_roles

    # ---- every view runs inside the selected client company
    def _in_company(self, request, view, *args, **kwargs):
        company = self.gate_company(request)
        if company is None:
            messages.info(request, "Choose a client company to work for first.")
            return HttpResponseRedirect(reverse("admin:switch_company"))
        policy = self.gate_policy(request)
        with (
            tenant_context(company),
            person_context(user=request.user, company=company, policy=policy, channel="admin", path=request.path),
        ):
            response = view(request, *args, **kwargs)
            if hasattr(response, "render") and not response.is_rendered:
                response.render()  # lazy templates would otherwise query after the schema is reset
        return response

    def changelist_view(self, request, extra_context=None):
        return self._in_company(request, self._gated_changelist, extra_context=extra_context)

    def _gated_changelist(self, request, extra_context=None):
        response = super().changelist_view(request, extra_context)
        if self.change_list_template is None and hasattr(response, "template_name"):
            # Django's own lookup, ending in the gated list (gates/admin_list.py) instead of the
            # admin's: a model's own change_list.html extends admin/gated/change_list.html.
            opts = self.opts
            response.template_name = [
                f"admin/{opts.app_label}/{opts.model_name}/change_list.html",
                f"admin/{opts.app_label}/change_list.html",
                "admin/gated/change_list.html",
            ]
        return response

    def change_view(self, request, object_id, form_url="", extra_context=None):
        return self._in_company(request, super().change_view, object_id, form_url, extra_context)

    def add_view(self, request, form_url="", extra_context=None):
        return self._in_company(request, super().add_view, form_url, extra_context)

    def delete_view(self, request, object_id, extra_context=None):
        return self._in_company(request, super().delete_view, object_id, extra_context)

    def history_view(self, request, object_id, extra_context=None):
        return self._in_company(request, super().history_view, object_id, extra_context)

    def get_object(self, request, object_id, from_field=None):
        obj = super().get_object(request, object_id, from_field)
        if obj is None:
            report_refused(user=request.user, channel="admin", model=self.model, object_id=object_id, path=request.path)
            raise Http404("No such object.")  # outside the grants looks exactly like missing
        obj._gate_policy = self.gate_policy(request)  # what its cells may show (_cells_name)
        return obj

    # ---- changelist
    # The model fields the list's columns read beyond those they name (a column's own field, a
    # method's @gated_column fields): with it set, the rows query loads only those
    # (gates/admin_list.py); None loads every field the gates allow. __str__ is always read (the
    # action checkbox's label), so what it reads belongs here too.
    list_loads: tuple[str, ...] | None = None

    def get_changelist(self, request, **kwargs):
        return GatedChangeList

    def action_checkbox(self, obj):
        return action_checkbox_html(obj)

    def get_list_display(self, request):
        masked, swaps = self._masked(request), self._related_swaps(request, form=False)
        columns = []
        for name in super().get_list_display(request):
            reads = getattr(getattr(self, name, None), "gated_fields", (name,)) if isinstance(name, str) else ()
            if any(f in masked for f in reads):
                columns.append(self._mask_name(reads[0]))
            else:
                columns.append(self._related_display(name) if name in swaps else name)
        return columns

    def get_list_display_links(self, request, list_display):
        links = super().get_list_display_links(request, list_display)
        return [name for name in links or () if name in list_display] or list_display[:1]

    def get_sortable_by(self, request):
        masked = self._masked(request)
        return [name for name in self.get_list_display(request) if name not in masked and "masked__" not in name]

    def get_ordering(self, request):
        return [o for o in super().get_ordering(request) or () if not self._path_masked(request, o.lstrip("-"))]

    def get_search_fields(self, request):
        fields = [f for f in super().get_search_fields(request) if not self._path_masked(request, f)]
        if request.__dict__.get("_gate_like_search"):
            return [f for f in fields if not _path_is_encrypted(self.model, f.lstrip("^=@"))]
        return fields

    @contextmanager
    def _like_search_only(self, request):
        # Django's own search builds LIKE lookups from get_search_fields(): while it runs, that
        # answers only the plain fields.
        request.__dict__["_gate_like_search"] = True
        try:
            yield
        finally:
            request.__dict__.pop("_gate_like_search", None)

    def get_search_results(self, request, queryset, search_term):
        """Django's search on the plain fields the person may read, or an exact match through the
        blind indexes (`search_index`) on the encrypted ones they may read. A query that matches on
        no field the person may read matches nothing (never every row)."""
        term = search_term.strip()
        if not term:
            return queryset, False
        fields = self.get_search_fields(request)
        encrypted = [f for f in fields if _path_is_encrypted(self.model, f.lstrip("^=@"))]
        found, distinct = queryset.none(), False
        if len(encrypted) < len(fields):
            with self._like_search_only(request):
                found, distinct = super().get_search_results(request, queryset, term)
        if encrypted:
            try:
                match = type(self).search_index  # the class's: a plain function or a staticmethod alike
                found = found | queryset.filter(match(query=term, fields=[f.lstrip("^=@") for f in encrypted]))
            except ApplicationError:
                pass  # not a valid number or address: it matches nothing
        return found, distinct

    def get_list_filter(self, request):
        kept = []
        for item in super().get_list_filter(request):
            name = item if isinstance(item, str) else (item[0] if isinstance(item, (list, tuple)) else None)
            if name is None or not self._path_masked(request, name):
                kept.append(item)
        return kept

    def lookup_allowed(self, lookup, value, request=None):
        # A tampered ?field__lookup= on a personal field: Django answers DisallowedModelAdminLookup,
        # a 400. Filtering by a personal value is never an admin feature (exact matches go through
        # blind indexes), and refusing it for granted fields too closes a guessing oracle.
        # A derived column (a blind index) is refused the same way: filtering by one is an oracle for
        # the value it indexes.
        if request is None or _path_category(self.model, lookup) is not None or _path_is_derived(self.model, lookup):
            return False
        return super().lookup_allowed(lookup, value, request)

    def get_actions(self, request):
        actions = super().get_actions(request)
        actions.pop("delete_selected", None)
        return actions

    # ---- export
    @admin.action(description="Export selected to CSV (DPA-granted fields only)")
    def export_csv(self, request, queryset):
        """The selected rows' granted fields, cell by cell where cells carry their own category;
        never a derived column. Every personal field it returns is in the access log."""
        policy = self.gate_policy(request)
        hidden = policy.masked(self.model) | derived_fields(self.model)
        fields = [f for f in self.model._meta.concrete_fields if f.name not in hidden]
        cells = cell_fields(self.model)
        rows = []
        with as_channel("export"):  # the layer logs what it returns, on the export's channel
            for values in queryset.values_list(*[f.attname for f in fields]):
                rows.append(
                    [
                        _export_cells(policy, self.model, f.name, value) if f.name in cells else value
                        for f, value in zip(fields, values, strict=True)
                    ]
                )
        return csv_download(
            filename=f"{self.model._meta.model_name}s.csv",
            header=[capfirst(str(label_for_field(f.name, self.model))) for f in fields],
            rows=rows,
        )


def _cell_lines(cells: dict[str, dict]) -> list[tuple[str, str]]:
    return [(cell.get("label", key), cell.get("value", "")) for key, cell in cells.items()]


def _export_cells(policy: Policy, model, name: str, value: str) -> str:
    """A cells field in the export: the granted cells, as stored ({key: {label, category, value}})."""
    cells = cells_readable(policy=policy, model=model, name=name, value=value)
    return json.dumps(cells, ensure_ascii=False) if cells else ""


class GatedInline(_GateMixin, admin.TabularInline):
    """Base inline for tenant models: the same rows and fields as their own admin would show."""

    extra = 0
    can_delete = False
    show_change_link = False
    _related_read_only = True
