"""Throwaway channels for tests/test_gate_construction.py: one of each kind a future author might
write without the gate layer (an admin view, a Celery task, a management command, a template tag),
each reading a tenant model by itself, and one admin view on the custom-view base that reads
through it. Routed by `urlpatterns` (the provider's own URLs, plus the probes)."""

from __future__ import annotations

from celery import shared_task
from django import template
from django.apps import apps
from django.contrib import admin
from django.core.management.base import BaseCommand
from django.http import JsonResponse
from django.urls import path
from django_tenants.utils import schema_context

from config.urls_public import urlpatterns as public_urlpatterns
from gates.admin_views import GatedAdminView


def read_first(label: str, schema: str):
    """What each probe does: read a row of a tenant model by itself, in the company's schema."""
    with schema_context(schema):
        row = apps.get_model(label)._default_manager.order_by("pk").first()
    return None if row is None else row.pk


# ---- an admin view that reads by itself
def _plain_view(request, label: str, schema: str):
    return JsonResponse({"first": read_first(label, schema)})


# ---- an admin view on the custom-view base
class CallsProbe(GatedAdminView):
    def get(self, request):
        from answering.models import Call

        return JsonResponse({"ids": sorted(self.queryset(Call).values_list("pk", flat=True))})


def _calls_probe(request):
    from answering.models import Call

    return CallsProbe.as_view(admin.site._registry[Call])(request)


urlpatterns = [
    path("admin/gate-probe/<str:label>/<str:schema>/", admin.site.admin_view(_plain_view), name="gate-probe"),
    path("admin/gate-probe-calls/", admin.site.admin_view(_calls_probe), name="gate-probe-calls"),
    *public_urlpatterns,
]


# ---- a Celery task
@shared_task(name="tests.gate_probe.read_first")
def read_first_task(label: str, schema: str):
    return read_first(label, schema)


# ---- a management command
class ReadFirstCommand(BaseCommand):
    def add_arguments(self, parser):
        parser.add_argument("label")
        parser.add_argument("schema")

    def handle(self, *args, label: str, schema: str, **options):
        self.stdout.write(str(read_first(label, schema)))


# ---- a template tag
register = template.Library()


@register.simple_tag
def first_row(label: str, schema: str):
    return read_first(label, schema)
