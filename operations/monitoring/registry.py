"""The registries apps fill from their own `monitoring.py`: metrics and alert sources.

A metric is a function that returns its samples, computed from the database when Prometheus
scrapes. A `per_tenant` metric's function runs inside each client company's schema and gets the
label `tenant` (the company's slug) added; any other label must be one of `LABEL_NAMES`, chosen so
that no label can name a person. Every label value is checked again at scrape time, and one that
looks like a phone number or an e-mail address is dropped, never exported.

    @counter("vastaja_calls", "Calls recorded", per_tenant=True)
    def calls():
        yield (), Call.objects.count()

The hook for staff training (wired by the training work): register a gauge the same way, e.g.
`@gauge("vastaja_training_overdue", "Provider staff with a required training overdue")`.

An alert source yields `Alert`s: kind, object key and facts that are ids, slugs and deadlines only.
`alerts.alerts_sweep` mails each one once to the DPO and the company's supervisors.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Literal

from django.core.exceptions import ImproperlyConfigured

# The only label names a metric may declare (per-tenant metrics get `tenant` added for them).
# Adding one is a review decision: a label must never be able to carry a person's name, number or
# address. Client companies' slugs, task names, channels and states are not personal data.
LABEL_NAMES = frozenset({"tenant", "channel", "status", "kind", "task", "schema", "role"})
METRIC_NAME = re.compile(r"^vastaja_[a-z0-9_]+$")

Sample = tuple[tuple[str, ...], float]


@dataclass(frozen=True)
class Metric:
    name: str
    kind: Literal["counter", "gauge"]
    documentation: str
    labels: tuple[str, ...]
    per_tenant: bool
    collect: Callable[[], Iterable[Sample]]


@dataclass(frozen=True)
class Alert:
    """One alert: what (kind), which record (object_key, ids only), for which company, and facts
    (label, value) made of ids, slugs and deadlines. Never a person's data."""

    kind: str
    object_key: str
    subject: str
    facts: list[tuple[str, str]] = field(default_factory=list)
    company: str = ""  # per-tenant sources leave it empty: the sweep fills in the company's slug


@dataclass(frozen=True)
class AlertSource:
    kind: str
    per_tenant: bool
    find: Callable[[dt.datetime], Iterable[Alert]]


METRICS: dict[str, Metric] = {}
ALERT_SOURCES: dict[str, AlertSource] = {}


def _metric(name: str, documentation: str, *, kind: str, labels: Iterable[str], per_tenant: bool):
    labels = tuple(labels)
    if not METRIC_NAME.match(name):
        raise ImproperlyConfigured(f"metric {name!r}: names start with 'vastaja_' and are snake_case")
    if kind == "counter" and name.endswith("_total"):
        raise ImproperlyConfigured(f"metric {name!r}: Prometheus adds '_total' to counters itself")
    refused = set(labels) - LABEL_NAMES | ({"tenant"} & set(labels) if per_tenant else set())
    if refused:
        raise ImproperlyConfigured(f"metric {name!r}: label(s) {sorted(refused)} not in LABEL_NAMES")

    def register(collect: Callable[[], Iterable[Sample]]):
        if name in METRICS and METRICS[name].collect.__qualname__ != collect.__qualname__:
            raise ImproperlyConfigured(f"metric {name!r} is registered twice")
        METRICS[name] = Metric(name, kind, documentation, labels, per_tenant, collect)
        return collect

    return register


def counter(name: str, documentation: str, *, labels: Iterable[str] = (), per_tenant: bool = False):
    """Register a function returning a counter's samples: [(label values, value), ...]."""
    return _metric(name, documentation, kind="counter", labels=labels, per_tenant=per_tenant)


def gauge(name: str, documentation: str, *, labels: Iterable[str] = (), per_tenant: bool = False):
    """Register a function returning a gauge's samples: [(label values, value), ...]."""
    return _metric(name, documentation, kind="gauge", labels=labels, per_tenant=per_tenant)


def alert_source(kind: str, *, per_tenant: bool):
    """Register a function (now) -> alerts. A per-tenant one runs in each client company's schema."""

    def register(find: Callable[[dt.datetime], Iterable[Alert]]):
        ALERT_SOURCES[kind] = AlertSource(kind, per_tenant, find)
        return find

    return register
