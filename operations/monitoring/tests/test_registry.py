"""The registries apps fill from their `monitoring.py`: a metric's name, kind and labels are checked
when it is declared (no label may be able to name a person), a name is registered once, and alert
sources are kept by kind."""

from __future__ import annotations

import pytest
from django.core.exceptions import ImproperlyConfigured

from operations.monitoring import registry


@pytest.fixture
def clean_registry(monkeypatch):
    """The registries as the apps filled them, restored after the test."""
    monkeypatch.setattr(registry, "METRICS", dict(registry.METRICS))
    monkeypatch.setattr(registry, "ALERT_SOURCES", dict(registry.ALERT_SOURCES))


def test_a_label_that_could_name_a_person_cannot_be_declared():
    with pytest.raises(ImproperlyConfigured, match="caller_name"):
        registry.gauge("vastaja_by_caller", "no", labels=("caller_name",))
    with pytest.raises(ImproperlyConfigured, match="tenant"):
        registry.gauge("vastaja_twice", "no", labels=("tenant",), per_tenant=True)


def test_a_metric_is_registered_with_what_it_declares(clean_registry):
    @registry.counter("vastaja_test_things", "Things counted", labels=["kind"], per_tenant=True)
    def things():
        yield ("a",), 1

    metric = registry.METRICS["vastaja_test_things"]
    assert (metric.kind, metric.documentation, metric.labels, metric.per_tenant) == (
        "counter",
        "Things counted",
        ("kind",),
        True,
    )
    assert metric.collect is things  # the decorator hands the function back unchanged
    assert list(things()) == [(("a",), 1)]


def test_a_second_metric_of_the_same_name_is_refused(clean_registry):
    registry.gauge("vastaja_test_twice", "first")(lambda: [])

    def another():
        return []

    with pytest.raises(ImproperlyConfigured, match="'vastaja_test_twice' is registered twice"):
        registry.gauge("vastaja_test_twice", "second")(another)
    assert registry.METRICS["vastaja_test_twice"].documentation == "first"


def test_the_same_function_registering_again_is_not_a_duplicate(clean_registry):
    """A module imported twice (autodiscovery, a reload) registers the same function again."""

    def calls():
        return []

    registry.gauge("vastaja_test_again", "once")(calls)
    registry.gauge("vastaja_test_again", "once")(calls)
    assert registry.METRICS["vastaja_test_again"].collect is calls


@pytest.mark.parametrize(
    ("name", "kind", "message"),
    [
        ("calls", "gauge", "names start with 'vastaja_'"),
        ("vastaja_Calls", "gauge", "snake_case"),
        ("vastaja_calls-total", "counter", "snake_case"),
        ("vastaja_calls_total", "counter", "Prometheus adds '_total' to counters itself"),
    ],
)
def test_a_badly_named_metric_is_refused(clean_registry, name, kind, message):
    declare = registry.counter if kind == "counter" else registry.gauge
    with pytest.raises(ImproperlyConfigured, match=message):
        declare(name, "no")
    assert name not in registry.METRICS


def test_only_a_counter_may_not_end_in_total(clean_registry):
    registry.gauge("vastaja_test_seconds_total", "a gauge's name is its own")(lambda: [])
    assert registry.METRICS["vastaja_test_seconds_total"].kind == "gauge"


def test_alert_sources_are_kept_by_kind(clean_registry):
    def overdue(now):
        return [registry.Alert(kind="test_overdue", object_key="request:1", subject="Overdue")]

    assert registry.alert_source("test_overdue", per_tenant=True)(overdue) is overdue
    source = registry.ALERT_SOURCES["test_overdue"]
    assert (source.kind, source.per_tenant, source.find) == ("test_overdue", True, overdue)
    assert source.find(None)[0].company == ""  # the sweep fills in the company
