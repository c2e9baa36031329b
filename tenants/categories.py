"""The data-category taxonomy, and the registry of which model field holds which category.

The taxonomy is dotted and hierarchical, in the style of fideslang: a grant of `user.contact`
covers `user.contact.phone_number`. Each app declares its own personal fields next to its models
(`personal_data(Model, field=category)`); fields that look personal but are not (a company's own
phone line, say) are declared with `not_personal(Model, "field", reason=...)`, so that every
personal-looking field has been looked at by a person. The test suite fails on any field that is
neither.

Two more declarations tell the gates how to treat a field beyond its category:
- `derived(Model, "field", reason=...)`: a column computed from personal values (a blind index, a
  pseudonym, the hash of a secret). It serves lookups and counts inside the database and never
  leaves it: no channel shows, exports, filters, searches, orders or serialises it, whatever the
  DPA grants.
- `categorised_cells(Model, "field")`: a field whose value is a JSON object of cells,
  `{key: {"label", "category", "value"}}`, each carrying its own category (the answers to a call
  script: a health answer next to a preferred time). The field's category gates the column; each
  cell's category gates the cell.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db import models

TAXONOMY: dict[str, str] = {
    "user": "Data about a person (a caller, a client's customer)",
    "user.contact": "Ways to identify or reach the person",
    "user.contact.name": "Name",
    "user.contact.phone_number": "Phone number",
    "user.contact.email": "E-mail address",
    "user.contact.address": "Postal address",
    "user.content": "What the person said or wrote",
    "user.content.private": "Message bodies, call notes and answers to script questions",
    "user.biometrics": "Biometric data",
    "user.biometrics.voice": "Call recordings and voicemail audio",
    "user.health": "Health data (a special category, GDPR Art. 9)",
    "user.schedule": "Appointments and their notes",
    "user.consent": "Consent and recording-disclosure evidence",
}


# The special categories of GDPR Art. 9 in the taxonomy. A DPA granting one (or a parent of one, such
# as `user`) needs a data-protection impact assessment before the DPO can approve it.
SPECIAL_CATEGORIES: frozenset[str] = frozenset({"user.health"})


def special_categories_reached(category: str) -> set[str]:
    """The special categories a grant of `category` reaches: itself, its children or its parents."""
    return {s for s in SPECIAL_CATEGORIES if covers(category, s) or covers(s, category)}


def covers(granted: str, category: str) -> bool:
    """Does a grant of `granted` cover `category`? A parent covers its children."""
    return category == granted or category.startswith(granted + ".")


def covered_by_any(grants: frozenset[str] | set[str], category: str) -> bool:
    return any(covers(granted, category) for granted in grants)


def validate_category(category: str) -> str:
    if category not in TAXONOMY:
        raise ValueError(f"'{category}' is not a data category; known: {', '.join(sorted(TAXONOMY))}")
    return category


@dataclass(frozen=True)
class FieldCategory:
    model: type[models.Model]
    field: str
    category: str


# (app_label, model_name) -> {field name: category}
_PERSONAL: dict[tuple[str, str], dict[str, str]] = {}
# (app_label, model_name) -> {field name: reason}
_NOT_PERSONAL: dict[tuple[str, str], dict[str, str]] = {}
# (app_label, model_name) -> {field name: reason}
_DERIVED: dict[tuple[str, str], dict[str, str]] = {}
# (app_label, model_name) -> {field name}
_CELLS: dict[tuple[str, str], set[str]] = {}


def _key(model: type[models.Model]) -> tuple[str, str]:
    return (model._meta.app_label, model._meta.model_name)


def personal_data(model: type[models.Model], **fields: str) -> None:
    """Declare the data category of each personal field of `model`."""
    for field, category in fields.items():
        model._meta.get_field(field)  # a typo fails at import, not in production
        _PERSONAL.setdefault(_key(model), {})[field] = validate_category(category)


def not_personal(model: type[models.Model], *fields: str, reason: str) -> None:
    """Declare fields that look personal but hold none, with the reason."""
    for field in fields:
        model._meta.get_field(field)
        _NOT_PERSONAL.setdefault(_key(model), {})[field] = reason


def derived(model: type[models.Model], *fields: str, reason: str) -> None:
    """Declare columns derived from personal values, which never leave the database."""
    for field in fields:
        model._meta.get_field(field)
        _DERIVED.setdefault(_key(model), {})[field] = reason


def derived_fields(model: type[models.Model]) -> frozenset[str]:
    """The derived columns of `model`: for lookups inside the database only."""
    return frozenset(_DERIVED.get(_key(model), {}))


def categorised_cells(model: type[models.Model], *fields: str) -> None:
    """Declare personal fields whose JSON cells each carry their own category."""
    for field in fields:
        model._meta.get_field(field)
        if field not in _PERSONAL.get(_key(model), {}):
            raise ValueError(f"declare {model.__name__}.{field} with personal_data(...) first: it gates the column")
        _CELLS.setdefault(_key(model), set()).add(field)


def cell_fields(model: type[models.Model]) -> frozenset[str]:
    """The fields of `model` declared with `categorised_cells`."""
    return frozenset(_CELLS.get(_key(model), ()))


def field_category(model: type[models.Model], field: str) -> str | None:
    """The category of `model.field`, or None when it holds no personal data."""
    return _PERSONAL.get(_key(model), {}).get(field)


def personal_fields(model: type[models.Model]) -> dict[str, str]:
    """{field: category} for every personal field of `model`."""
    return dict(_PERSONAL.get(_key(model), {}))


def is_declared_not_personal(model: type[models.Model], field: str) -> bool:
    return field in _NOT_PERSONAL.get(_key(model), {})


def registry() -> list[FieldCategory]:
    from django.apps import apps

    return [
        FieldCategory(apps.get_model(app_label, model_name), field, category)
        for (app_label, model_name), fields in sorted(_PERSONAL.items())
        for field, category in sorted(fields.items())
    ]
