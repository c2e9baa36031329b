"""The gated admin's changelist: the page's rows in one query of the columns shown, one count, and
rows rendered without the template engine or a URL reversal per row.

Django's changelist renders each cell through `items_for_result`: a field lookup, the action
checkbox as a form widget through the template engine, and a `reverse()` of the change URL, per row
and column, then a template loop over every cell. On the agent's call list that was most of the
page. `GatedChangeList` keeps the rows Django's queryset chose (the gate layer's: object gate,
masked fields deferred) and changes only how much is loaded and how it is shown:

- the rows query loads the columns shown and nothing else, where the admin says what its columns
  read (`list_loads`); the joins and the related-gate annotations of relations the list does not
  show are dropped. A masked column reads nothing, so a masked field is still never loaded;
- when nothing narrows the list (no filter, search or drill-down) the total is the count already
  made, not a second count of the same rows;
- the change URL of every row comes from one reversed prefix (`url_with_pk`);
- `rows_html` builds each row's cells as Django's `items_for_result` does, with the same classes,
  links, escaping and empty values, resolving each column once per page rather than once per cell.
  tests/test_gated_changelist.py holds it to Django's own output, cell for cell.
"""

from __future__ import annotations

import datetime
from urllib.parse import quote as url_quote

from django.contrib.admin import helpers
from django.contrib.admin.templatetags.admin_urls import add_preserved_filters
from django.contrib.admin.utils import display_for_field, display_for_value, quote
from django.contrib.admin.views.main import ChangeList
from django.core.exceptions import FieldDoesNotExist, ObjectDoesNotExist
from django.db import models
from django.urls import NoReverseMatch, get_script_prefix, get_urlconf, reverse
from django.utils.html import format_html
from django.utils.http import RFC3986_SUBDELIMS
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext

# Digits, so that an <int:pk> pattern takes them as well as a <path:object_id> one.
_PK_MARKS = ("8675309142857", "3141592653589")
_prefixes: dict[tuple, tuple[str, str]] = {}


def url_with_pk(url_name: str, pk, *, current_app: str | None = None) -> str:
    """`reverse(url_name, args=[quote(pk)])`, reversed once per URL name, script prefix and URL conf:
    the rest is the pk put between the prefix and the suffix. URL patterns do not change while the
    process runs, so this holds no data and nothing a request could change."""
    key = (url_name, current_app, get_script_prefix(), get_urlconf())
    if key not in _prefixes:
        first, second = (reverse(url_name, args=[mark], current_app=current_app) for mark in _PK_MARKS)
        prefix, mark, suffix = first.rpartition(_PK_MARKS[0])
        if not mark or f"{prefix}{_PK_MARKS[1]}{suffix}" != second:
            raise NoReverseMatch(f"{url_name} does not put its one argument into the URL as written")
        _prefixes[key] = (prefix, suffix)
    prefix, suffix = _prefixes[key]
    # The argument as reverse() writes it: the admin's quoting, then the URL's percent-encoding.
    return f"{prefix}{url_quote(str(quote(pk)), safe=RFC3986_SUBDELIMS + '/~:@')}{suffix}"


def action_checkbox_html(obj, label: str | None = None) -> SafeString:
    """The action checkbox of a row, the markup Django's CheckboxInput renders, without a form
    widget and the template engine per row."""
    label = gettext("Select this object for an action - {}") if label is None else label
    return format_html(
        '<input type="checkbox" name="{}" value="{}" class="action-select" aria-label="{}">',
        helpers.ACTION_CHECKBOX_NAME,
        str(obj.pk),
        format_html(label, str(obj)),
    )


class GatedChangeList(ChangeList):
    """The changelist of every gated admin (see the module's docstring)."""

    def url_for_result(self, result):
        opts = self.opts
        return url_with_pk(
            f"admin:{opts.app_label}_{opts.model_name}_change",
            getattr(result, self.pk_attname),
            current_app=self.model_admin.admin_site.name,
        )

    def _narrowed(self) -> bool:
        # What the page's queryset filters beyond the admin's own queryset: filters, lookups from
        # the URL (a date drill-down among them), a search. Without any, both count the same rows.
        return bool(self.get_filters_params() or self.query or self.is_popup)

    def _shown_only(self, queryset, request):
        """The page's rows with only the columns the list shows loaded, where the admin says what
        its columns read (`list_loads`, a tuple); otherwise as the gate layer gave them."""
        loads = getattr(self.model_admin, "list_loads", None)
        if loads is None:
            return queryset
        model, opts = self.model, self.lookup_opts
        names, relations = {opts.pk.name, *loads}, set(getattr(self.model_admin, "list_select_related", None) or ())
        for column in self.list_display:
            if not isinstance(column, str):
                continue
            if column.startswith("related__"):
                relations.add(column.removeprefix("related__"))
                continue
            method = getattr(self.model_admin, column, None)
            if method is not None:
                names.update(getattr(method, "gated_fields", ()))
                continue
            try:
                field = opts.get_field(column)
            except FieldDoesNotExist:
                continue
            if field.concrete:
                names.add(field.name)
                if field.is_relation:
                    relations.add(field.name)
        concrete = {f.name for f in opts.concrete_fields}
        for name in {*names}:
            if name not in concrete:
                names.discard(name)  # a reverse relation or a property: nothing to load by name
        masked = self.model_admin.gate_policy(request).masked(model)
        names -= masked  # a masked column shows its mask and reads nothing
        shown = {path for path in _joined_paths(queryset) if path.split("__")[0] in relations}
        queryset = queryset.select_related(None)
        if shown:
            queryset = queryset.select_related(*shown)
            names |= {path.split("__")[0] for path in shown}
        annotations = queryset.query.annotations
        # A relation the list does not show needs no answer from its gate on each row.
        kept = [
            name
            for name in annotations
            if not name.startswith("_gate_visible_") or name.removeprefix("_gate_visible_") in relations
        ]
        if len(kept) != len(annotations):
            queryset.query.set_annotation_mask(kept)
        # The joined rows load what the gate layer left them (their withheld fields stay deferred).
        joined = []
        for path in shown:
            related = _model_at(model, path)
            withheld = _deferred_under(queryset, path)
            joined += [f"{path}__{f.name}" for f in related._meta.concrete_fields if f.name not in withheld]
        return queryset.only(*sorted(names), *joined)

    def get_results(self, request):
        self.queryset = self._shown_only(self.queryset, request)
        paginator = self.model_admin.get_paginator(request, self.queryset, self.list_per_page)
        result_count = paginator.count
        if not self.model_admin.show_full_result_count:
            full_result_count = None
        elif self._narrowed():
            full_result_count = self.root_queryset.count()
        else:
            full_result_count = result_count  # the same rows, counted once
        can_show_all = result_count <= self.list_max_show_all
        multi_page = result_count > self.list_per_page
        if (self.show_all and can_show_all) or not multi_page:
            result_list = self.queryset._clone()
        else:
            from django.contrib.admin.options import IncorrectLookupParameters
            from django.core.paginator import InvalidPage

            try:
                result_list = paginator.page(self.page_num).object_list
            except InvalidPage as invalid:
                raise IncorrectLookupParameters from invalid
        self.result_count = result_count
        self.show_full_result_count = self.model_admin.show_full_result_count
        self.show_admin_actions = not self.show_full_result_count or bool(full_result_count)
        self.full_result_count = full_result_count
        self.result_list = result_list
        self.can_show_all = can_show_all
        self.multi_page = multi_page
        self.paginator = paginator


def _joined_paths(queryset) -> list[str]:
    """Every path the queryset joins with select_related, parents first."""
    from gates.managers import _relation_paths

    return [path for path, _parent, _related, _name in _relation_paths(queryset.query)]


def _model_at(model, path: str):
    for part in path.split("__"):
        model = model._meta.get_field(part).related_model
    return model


def _deferred_under(queryset, path: str) -> set[str]:
    existing, defer = queryset.query.deferred_loading
    prefix = f"{path}__"
    if not defer:
        return set()
    below = (name.removeprefix(prefix) for name in existing if name.startswith(prefix))
    return {name for name in below if "__" not in name}


# ---- rows -----------------------------------------------------------------------------------


class _Column:
    """One column of the list, resolved once per page the way `lookup_field` resolves it per cell."""

    __slots__ = ("attr", "boolean", "checkbox", "classes", "empty", "field", "from_admin", "name", "plain", "tag")

    def __init__(self, cl, index: int, name, tag: str | None, empty: str):
        self.name, self.tag, self.checkbox = name, tag, name == "action_checkbox"
        self.field = self.attr = None
        self.from_admin = False
        field = _admin_field(cl.lookup_opts, name)
        if field is not None:
            self.field = field
        elif callable(name):
            self.attr, self.from_admin = name, True
        elif hasattr(cl.model_admin, name) and name != "__str__":
            self.attr, self.from_admin = getattr(cl.model_admin, name), True
        elif hasattr(cl.model, name):
            self.attr = getattr(cl.model, name)
        label = name
        if callable(name):
            label = f"lambda{index}" if name.__name__ == "<lambda>" else name.__name__
        self.plain = [f"field-{label}"]  # the classes of a cell whose lookup failed
        self.classes = self.plain
        self.empty = getattr(self.attr, "empty_value_display", empty)
        attr = self.attr
        self.boolean = getattr(attr, "boolean", False)
        if isinstance(attr, property) and hasattr(attr, "fget"):
            self.boolean = getattr(attr.fget, "boolean", False)
        if self.by_value:
            if self.checkbox:
                self.classes = ["action-checkbox"]
        elif isinstance(field, (models.DateField, models.TimeField, models.ForeignKey)):
            self.classes = [*self.plain, "nowrap"]

    @property
    def by_value(self) -> bool:
        return self.field is None or self.field.auto_created

    def cell(self, obj, label: str):
        """(the cell's representation, whether it is a date or time shown by its value)."""
        if self.field is not None:
            value = getattr(obj, self.name)
        elif self.checkbox:
            value = action_checkbox_html(obj, label)
        elif self.from_admin:
            value = self.attr(obj)
        else:
            value = _model_value(obj, self.name)
        if isinstance(value, str) and value.strip() == "":
            value = ""
        if self.by_value:
            return display_for_value(value, self.empty, self.boolean), isinstance(value, (datetime.date, datetime.time))
        field = self.field
        if isinstance(field.remote_field, models.ManyToOneRel):
            related = getattr(obj, field.name)
            return (self.empty if related is None else related), False
        return display_for_field(value, field, self.empty, avoid_link=self.tag is not None), False


def _admin_field(opts, name):
    """The model field a column names, as the admin's `_get_non_gfk_field` finds it: not a generic
    or reverse relation, and not a foreign key named by its column (`line_id`)."""
    if not isinstance(name, str):
        return None
    try:
        field = opts.get_field(name)
    except FieldDoesNotExist:
        return None
    if field.is_relation and ((field.many_to_one and not field.related_model) or field.one_to_many):
        return None
    if field.is_relation and not field.many_to_many and getattr(field, "attname", None) == name:
        return None
    return field


def _model_value(obj, name: str):
    sentinel = object()
    attr = getattr(obj, name, sentinel)
    if callable(attr):
        return attr()
    if attr is sentinel:
        attr = obj
        for part in name.split("__"):
            attr = getattr(attr, part, sentinel)
            if attr is sentinel:
                return None
    return attr


def rows_html(cl) -> list[SafeString]:
    """Each row of the page as the inside of its <tr>: Django's cells, built once per column."""
    empty = cl.model_admin.get_empty_value_display()
    links = cl.list_display_links
    columns, first = [], True
    for index, name in enumerate(cl.list_display):
        link = links is not None and ((first and not links) or name in links)
        # The first column linked to the change page is the row's header cell; later links are cells.
        columns.append(_Column(cl, index, name, ("th" if first else "td") if link else None, empty))
        first = first and not link
    label = gettext("Select this object for an action - {}")
    link_attr = str(cl.to_field) if cl.to_field else cl.lookup_opts.pk.attname
    context = {"preserved_filters": cl.preserved_filters, "opts": cl.opts}
    rows = []
    for result in cl.result_list:
        cells = []
        for column in columns:
            try:
                shown, timed = column.cell(result, label)
            except ObjectDoesNotExist:
                shown, classes = empty, column.plain
            else:
                classes = [*column.classes, "nowrap"] if timed else column.classes
            row_class = mark_safe(f' class="{" ".join(classes)}"')  # class names from the admin's code
            if column.tag is None:
                cells.append(format_html("<td{}>{}</td>", row_class, shown))
            else:
                cells.append(_linked_cell(cl, result, shown, row_class, context, link_attr, column.tag))
        rows.append(mark_safe("".join(cells)))
    return rows


def _linked_cell(cl, result, shown, row_class, context, link_attr, tag) -> SafeString:
    try:
        url = cl.url_for_result(result)
    except NoReverseMatch:
        inner = shown
    else:
        if cl.preserved_filters:
            url = add_preserved_filters(context, url)
        popup = format_html(' data-popup-opener="{}"', result.serializable_value(link_attr)) if cl.is_popup else ""
        inner = format_html('<a href="{}"{}>{}</a>', url, popup, shown)
    return format_html("<{}{}>{}</{}>", tag, row_class, inner, tag)
