"""The fail-closed managers of every model of our per-tenant apps: the one way to read tenant data.

`Model.objects` (and so `_default_manager`, `get_object_or_404`, reverse relations such as
`call.messages`, prefetches and `validate_unique`) and `Model._base_manager` (which forward foreign
keys such as `message.call`, `refresh_from_db()`, a deferred field's lazy load and `save()` use)
both ask the gate context first (`gates.context.require`): outside a channel base or a named
`system_context(reason=...)` they raise `GateContextMissing`.

Inside a context the queryset applies the gates itself:
- **a person's** reads (a channel base entered `person_context`) are narrowed to the rows the
  object gate shows them (`objects_visible`), never load a field the DPA does not grant them or a
  derived column (blind indexes), and never load the personal fields of a related row reached
  through `select_related` on a relation the related model gates on its own rules (a restricted
  contact behind a call): those load, through the object gate, only when read. A query that asks
  for a withheld field by name (`only()`, `values()`, a deferred field's lazy load) raises
  `FieldWithheld`, a 403 that a template shows as nothing;
- **every** evaluation records in the access log which personal fields of which rows it returned
  (`report_read`): as the person, on their channel, or as the named job (`task` or `system`).
  Channels and selectors never call the read log themselves.

Models that hold no personal field and declare no object rule (timers, the outbox, the access log
itself, guardian's grant tables) are the engine's own bookkeeping: a context is still required,
but nothing is filtered or logged.

Migrations are untouched: `use_in_migrations` is False, so historical models in a migration keep
Django's plain manager (and the migration files do not name these).
"""

from __future__ import annotations

from django.core.exceptions import FieldDoesNotExist, PermissionDenied
from django.db import models
from django.db.models.query import ModelIterable
from guardian.managers import GroupObjectPermissionManager, UserObjectPermissionManager

from gates.context import current, require

_HINT = "gate_objects"  # on a queryset's hints: the object gate is applied already


class FieldWithheld(PermissionDenied):
    """A person's query asked by name for a field the gates withhold from them."""

    # A template that reads a withheld field shows nothing (as for a missing attribute).
    silent_variable_failure = True


def _gated_rows(model) -> bool:
    """Whether a person's reads of `model` pass the object and field gates (and are logged)."""
    from gates.engine import _OBJECT_RULES
    from tenants.categories import personal_fields

    return model in _OBJECT_RULES or bool(personal_fields(model))


def _withheld(model, policy) -> set[str]:
    """The fields of `model` a person with `policy` never loads: ungranted and derived ones."""
    from tenants.categories import derived_fields

    return set(policy.masked(model)) | set(derived_fields(model))


def _relation_paths(query) -> list[tuple[str, object, object, str]]:
    """The relations a query follows with `select_related`: (path, parent model, related model,
    field name), parents first."""
    found = []

    def walk(model, tree, prefix, depth):
        for field in model._meta.concrete_fields:
            if not field.is_relation or field.related_model is None:
                continue
            if tree is True:
                if field.null or depth >= 5:  # what select_related() with no names follows
                    continue
                below = True
            elif field.name in tree:
                below = tree[field.name]
            else:
                continue
            path = f"{prefix}{field.name}"
            found.append((path, model, field.related_model, field.name))
            walk(field.related_model, below or {}, f"{path}__", depth + 1)

    if query.select_related:
        walk(query.model, query.select_related, "", 0)
    return found


def _withhold(query, names: set[str]) -> None:
    """Make sure `query` loads none of `names` (field paths, as `defer()` takes them)."""
    if not names:
        return
    existing, defer = query.deferred_loading
    if defer:
        query.deferred_loading = (frozenset(existing) | names, True)
        return
    asked = set(existing) & names
    if asked:
        raise FieldWithheld(f"{query.model.__name__}: {', '.join(sorted(asked))} withheld by the gates")


class GatedQuerySet(models.QuerySet):
    """The queryset of the gated managers: the gates of a person's context, and the read log of
    every context, applied at evaluation."""

    def _gate_person(self):
        # Any model, bookkeeping included: what it joins in (a listen's voicemail and its call)
        # passes the gates of the joined rows.
        context = current()
        return context if context is not None and context.is_person else None

    def _gate_prepare(self) -> None:
        """Before the query runs: withhold what the person may not load."""
        context = self._gate_person()
        if context is None:
            return
        from gates.engine import relation_gated
        from tenants.categories import personal_fields

        policy = context.policy
        if self._fields is not None:  # values() / values_list(): the names asked for
            for name in self._fields or [f.attname for f in self.model._meta.concrete_fields]:
                if _path_withheld(self.model, name, policy):
                    raise FieldWithheld(f"{self.model.__name__}: {name} withheld by the gates")
            return
        names = set(_withheld(self.model, policy))
        gated_paths: list[str] = []
        for path, parent, related, name in _relation_paths(self.query):
            prefix = f"{path}__"
            if any(path.startswith(g) for g in gated_paths) or relation_gated(policy=policy, model=parent, name=name):
                # A row the related model gates on its own rules: named, but its personal fields
                # load (through the object gate) only when read.
                gated_paths.append(prefix)
                names |= {prefix + n for n in [*personal_fields(related), *_withheld(related, policy)]}
            else:
                names |= {prefix + n for n in _withheld(related, policy)}
        _withhold(self.query, names)

    def _fetch_all(self):
        fresh = self._result_cache is None
        if fresh:
            self._gate_prepare()
        super()._fetch_all()
        if fresh and self._result_cache:
            self._gate_log(self._result_cache)

    def iterator(self, chunk_size=None):
        self._gate_prepare()
        batch = []
        for row in super().iterator(chunk_size=chunk_size):
            batch.append(row)
            yield row
            if len(batch) >= (chunk_size or 2000):
                self._gate_log(batch)
                batch = []
        self._gate_log(batch)

    def raw(self, *args, **kwargs):
        if self._gate_person() is not None:
            raise FieldWithheld(f"{self.model.__name__}: raw SQL passes no gate, and a person's channel may not use it")
        return super().raw(*args, **kwargs)

    def _gate_log(self, results) -> None:
        context = current()
        if context is None or not context.logged or not results:
            return
        if issubclass(self._iterable_class, ModelIterable):
            _log_instances(context, self.model, results)
        else:
            _log_values(context, self, results)


def _field_end(model, path: str):
    """The (model, field name) a values() name such as `call__caller_name` reads, or None for an
    annotation or an expression."""
    current_model = model
    parts = path.split("__")
    for i, part in enumerate(parts):
        if part == "pk":
            part = current_model._meta.pk.name
        try:
            field = current_model._meta.get_field(part)
        except FieldDoesNotExist:
            return None
        if i == len(parts) - 1:
            return current_model, field.name
        if not field.is_relation or field.related_model is None:
            return None
        current_model = field.related_model
    return None


def _path_withheld(model, path: str, policy) -> bool:
    """Whether a values() name (`caller_number`, `contact__name`) reads a field withheld from the
    person: ungranted or derived, or personal behind a relation the related model gates itself."""
    from gates.engine import relation_gated
    from tenants.categories import personal_fields

    current_model, behind_gate = model, False
    parts = path.split("__")
    for i, part in enumerate(parts):
        if part == "pk":
            return False
        try:
            field = current_model._meta.get_field(part)
        except FieldDoesNotExist:
            return False  # an annotation, or a lookup the query itself refuses
        if i == len(parts) - 1 or not field.is_relation or field.related_model is None:
            return field.name in _withheld(current_model, policy) or (
                behind_gate and field.name in personal_fields(current_model)
            )
        behind_gate = behind_gate or relation_gated(policy=policy, model=current_model, name=field.name)
        current_model = field.related_model
    return False


def _log_instances(context, model, rows) -> None:
    """Log the loaded personal fields of the rows a query returned, and of the related rows it
    joined in (`select_related`), one entry per model and set of fields."""
    from tenants.categories import personal_fields

    groups: dict[tuple, list] = {}
    seen: set[int] = set()

    def visit(obj):
        if not isinstance(obj, models.Model) or id(obj) in seen:
            return
        seen.add(id(obj))
        personal = personal_fields(type(obj))
        if personal:
            loaded = frozenset(name for name in personal if _attname(type(obj), name) in obj.__dict__)
            if loaded:
                groups.setdefault((type(obj), loaded), []).append(obj.pk)
        for related in obj._state.fields_cache.values():
            visit(related)

    for row in rows:
        visit(row)
    for (target, fields), ids in groups.items():
        _report(context, target, ids, fields)


def _log_values(context, queryset, rows) -> None:
    """Log a values() / values_list() read of personal fields: the rows they came from, by id
    (asked again in one query when the id was not among the names)."""
    from tenants.categories import personal_fields

    names = list(queryset._fields or ())
    if not names:  # values() with no names: every concrete field, the id among them
        names = [f.attname for f in queryset.model._meta.concrete_fields]
    by_prefix: dict[str, tuple] = {}
    for name in names:
        end = _field_end(queryset.model, name)
        if end is None or end[1] not in personal_fields(end[0]):
            continue
        prefix = name.rsplit("__", 1)[0] + "__" if "__" in name else ""
        target, fields = by_prefix.get(prefix, (end[0], set()))
        fields.add(end[1])
        by_prefix[prefix] = (target, fields)
    for prefix, (target, fields) in by_prefix.items():
        pk_names = [f"{prefix}pk", f"{prefix}{target._meta.pk.name}", f"{prefix}{target._meta.pk.attname}"]
        at = next((names.index(n) for n in pk_names if n in names), None)
        if at is not None:
            ids = [_value_at(row, names, at) for row in rows]
        else:
            again = queryset.values_list(f"{prefix}pk", flat=True)
            ids = list(again if queryset.query.is_sliced else again.order_by().distinct())
        _report(context, target, ids, fields)


def _value_at(row, names, at):
    if isinstance(row, dict):
        return row[names[at]]
    return row[at] if isinstance(row, tuple) else row


def _attname(model, name: str) -> str:
    return model._meta.get_field(name).attname


def _report(context, model, ids, fields) -> None:
    from gates.signals import report_read

    user = context.user if context.is_person else None
    report_read(user=user, channel=context.channel, model=model, object_ids=ids, fields=fields, path=context.path)


class _Gated:
    use_in_migrations = False
    gated = True  # what the construction test and the system check look for

    def get_queryset(self):
        context = require(self.model)
        queryset = super().get_queryset()
        if context.is_person and _gated_rows(self.model):
            from gates.engine import objects_visible

            queryset = objects_visible(policy=context.policy, user=context.user, queryset=queryset)
        return queryset

    def none(self):
        # Reads nothing, so needs no context: a form field declared at import starts empty and
        # gets its gated choices in the view.
        return super().get_queryset().none()


class GatedManager(_Gated, models.Manager.from_queryset(GatedQuerySet)):
    """The default manager of a tenant model, `objects = GatedManager()`, and its base manager too:
    forward foreign keys, lazy loads and `save()` pass the same gates as `objects`."""

    def contribute_to_class(self, cls, name):
        super().contribute_to_class(cls, name)
        if not cls._meta.abstract and not cls._meta.base_manager_name:
            # Not in Meta's original attributes, so migrations do not see it; and since the base
            # manager is the default one, their state names no manager at all.
            cls._meta.base_manager_name = name


class GatedUserObjectPermissionManager(_Gated, UserObjectPermissionManager):
    """guardian's manager of a direct-FK user grant table, gated the same way."""


class GatedGroupObjectPermissionManager(_Gated, GroupObjectPermissionManager):
    """guardian's manager of a direct-FK group grant table, gated the same way."""


def is_gated(model: type[models.Model]) -> bool:
    return getattr(model._default_manager, "gated", False)


def objects_gated_for(queryset, user) -> bool:
    """Whether the object gate is applied to `queryset` for `user` already."""
    return queryset._hints.get(_HINT) == user.pk


def mark_objects_gated(queryset, user):
    """Note on `queryset` that the object gate is applied for `user` (so that it is not again)."""
    queryset._hints = {**queryset._hints, _HINT: user.pk}
    return queryset
