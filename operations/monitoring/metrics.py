"""`/metrics` on the provider's host: django-prometheus's process metrics plus ours, computed from
the database at scrape time.

Why from the database: the numbers we export (calls, failed deliveries, escalations, purges,
overdue requests, expiring DPAs) are already rows, written by web processes and Celery workers
alike. Counting them when Prometheus scrapes gives every web process the same, correct answer,
survives restarts, and needs no shared state between processes (prometheus_client's in-memory
counters would only know what their own process did). A decrease, say when a company is
offboarded, is read by Prometheus as a counter reset, which `rate()` handles.
"""

from __future__ import annotations

import hmac
import logging
import re
from collections.abc import Iterator

import prometheus_client
from django.conf import settings
from django.db import DatabaseError, connection
from django.http import HttpResponse
from django.utils import timezone
from django_tenants.utils import schema_context
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from prometheus_client.multiprocess import MultiProcessCollector

from gates.context import system_context
from operations.monitoring.registry import METRICS, Metric
from tenants.models import ClientCompany

logger = logging.getLogger(__name__)

# Belt and braces behind LABEL_NAMES: a label value shaped like a phone number or an e-mail
# address is dropped at scrape time, whatever code produced it.
PHONE_SHAPED = re.compile(r"\+?\d[\d ()./-]{5,}\d")
EMAIL_SHAPED = re.compile(r"[^@\s]+@[^@\s]+")
SAFE_LABEL_VALUE = re.compile(r"^[A-Za-z0-9_.:/ -]{0,80}$")


def label_value_is_safe(value: str) -> bool:
    return bool(SAFE_LABEL_VALUE.match(value)) and not PHONE_SHAPED.search(value) and not EMAIL_SHAPED.search(value)


def monitored_companies() -> list[ClientCompany]:
    """Client companies whose schema exists: active and suspended ones (offboarded ones have none)."""
    return list(
        ClientCompany.objects.filter(kind=ClientCompany.Kind.CLIENT)
        .exclude(status=ClientCompany.Status.OFFBOARDED)
        .order_by("schema_name")
    )


class DatabaseCollector:
    """Runs every registered metric: once in public, or once per client company's schema."""

    def describe(self):
        return []  # nothing to declare up front: registering must not run the queries

    def collect(self) -> Iterator:
        companies = None
        for metric in sorted(METRICS.values(), key=lambda m: m.name):
            labels = (("tenant",) if metric.per_tenant else ()) + metric.labels
            family_class = CounterMetricFamily if metric.kind == "counter" else GaugeMetricFamily
            family = family_class(metric.name, metric.documentation, labels=labels)
            if metric.per_tenant:
                companies = companies if companies is not None else monitored_companies()
                for company in companies:
                    with (
                        schema_context(company.schema_name),
                        system_context(reason="metrics and alerts: counts and ids"),
                    ):
                        self._add(family, metric, prefix=(company.schema_name,), width=len(labels))
            else:
                with schema_context("public"):
                    self._add(family, metric, prefix=(), width=len(labels))
            yield family

    @staticmethod
    def _add(family, metric: Metric, *, prefix: tuple[str, ...], width: int) -> None:
        try:
            samples = list(metric.collect())
        except DatabaseError as exc:
            # One company's failing query must not hide every other metric; the log says which.
            logger.error("metric %s failed in schema %s: %s", metric.name, connection.schema_name, type(exc).__name__)
            return
        for values, value in samples:
            values = prefix + tuple(str(v) for v in values)
            if len(values) != width or not all(label_value_is_safe(v) for v in values):
                logger.error("metric %s: a sample with unsafe or missing labels was dropped", metric.name)
                continue
            family.add_metric(values, float(value))


class _DefaultRegistry:
    """prometheus_client's process-wide registry (django-prometheus's request, model and process
    metrics), as one collector of the per-request registry."""

    def describe(self):
        return []

    def collect(self):
        return prometheus_client.REGISTRY.collect()


def metrics_refusal(request) -> HttpResponse | None:
    """Who may read /metrics: with METRICS_TOKEN set, whoever sends `Authorization: Bearer <it>`;
    without it, only this machine (loopback) in development, and nobody in production."""
    token = settings.METRICS_TOKEN
    if token:
        scheme, _, given = request.headers.get("Authorization", "").partition(" ")
        if scheme.lower() == "bearer" and hmac.compare_digest(given.strip().encode(), token.encode()):
            return None
        response = HttpResponse(
            "Send the metrics token: Authorization: Bearer <METRICS_TOKEN>.\n", status=401, content_type="text/plain"
        )
        response["WWW-Authenticate"] = 'Bearer realm="metrics"'
        return response
    if settings.PRODUCTION:
        return HttpResponse("Metrics are off until METRICS_TOKEN is set.\n", status=403, content_type="text/plain")
    if request.META.get("REMOTE_ADDR") not in ("127.0.0.1", "::1"):
        return HttpResponse(
            "Metrics are served to this machine only without METRICS_TOKEN.\n", status=403, content_type="text/plain"
        )
    return None


def metrics_view(request):
    refusal = metrics_refusal(request)
    if refusal is not None:
        return refusal
    registry = prometheus_client.CollectorRegistry(auto_describe=False)
    if settings.PROMETHEUS_MULTIPROC_DIR:
        # Several web processes (gunicorn): their django-prometheus metrics are merged from files.
        MultiProcessCollector(registry, path=settings.PROMETHEUS_MULTIPROC_DIR)
    else:
        registry.register(_DefaultRegistry())
    registry.register(DatabaseCollector())
    started = timezone.now()
    body = prometheus_client.generate_latest(registry)
    logger.debug("metrics computed in %.3f s", (timezone.now() - started).total_seconds())
    return HttpResponse(body, content_type=prometheus_client.CONTENT_TYPE_LATEST)
