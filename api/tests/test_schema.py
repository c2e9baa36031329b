"""The OpenAPI schema: generated and validated with zero warnings (strict, so a view that joins
later without the annotations it needs fails here), with both security schemes and, on every gated
operation, its scope and every refusal the base view can give; and the docs page, served from
vendored files only."""

from __future__ import annotations

import re

import pytest
import yaml
from django.core.management import call_command
from django.urls import URLPattern, URLResolver

import api.urls
from api.base import TenantAPIView

pytestmark = pytest.mark.django_db


@pytest.fixture(scope="module")
def schema(tmp_path_factory):
    path = tmp_path_factory.mktemp("schema") / "schema.yaml"
    # Raises (SchemaGenerationError / SchemaValidationError) on any warning or invalid document.
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(path))
    return yaml.safe_load(path.read_text())


def test_the_schema_validates_with_no_warnings_and_names_both_security_schemes(schema):
    assert schema["openapi"].startswith("3.")
    schemes = schema["components"]["securitySchemes"]
    assert schemes["bearerAuth"] == {
        "type": "http",
        "scheme": "bearer",
        "description": schemes["bearerAuth"]["description"],
    }
    assert schemes["cookieAuth"]["in"] == "cookie"
    operations = [(path, method, op) for path, item in schema["paths"].items() for method, op in item.items()]
    assert len(operations) >= 8
    for path, method, operation in operations:
        assert {"bearerAuth": []} in operation["security"], (method, path)
        assert {"401", "403", "404", "429"} <= set(operation["responses"]), (method, path)
        assert re.search(r"Required scope: `[a-z_]+:(read|write)`", operation["description"]), (method, path)


def _operations(schema):
    return [(path, method, op) for path, item in schema["paths"].items() for method, op in item.items()]


def test_every_operation_documents_bad_input_and_a_rate_limit_with_retry_after(schema):
    for path, method, operation in _operations(schema):
        responses = operation["responses"]
        assert "400" in responses, (method, path)
        assert responses["429"]["headers"]["Retry-After"]["required"] is True, (method, path)
        assert responses["429"]["description"].startswith("Rate limit reached"), (method, path)


def test_only_operations_with_a_body_document_the_wrong_media_type(schema):
    for path, method, operation in _operations(schema):
        assert ("415" in operation["responses"]) is (method in ("post", "put", "patch")), (method, path)
    assert any(method == "post" for _path, method, _op in _operations(schema))


def test_a_read_needs_the_read_scope_and_a_write_the_write_scope(schema):
    lines = schema["paths"]["/api/v1/lines/"]
    assert "Required scope: `lines:read`" in lines["get"]["description"]
    assert "Required scope: `lines:write`" in lines["post"]["description"]


def _views(patterns, prefix=""):
    for entry in patterns:
        if isinstance(entry, URLResolver):
            yield from _views(entry.url_patterns, prefix + str(entry.pattern))
        elif isinstance(entry, URLPattern) and hasattr(entry.callback, "view_class"):
            yield prefix + str(entry.pattern), entry.callback.view_class


def test_every_api_view_is_gated_and_names_its_scope():
    views = list(_views(api.urls.urlpatterns))
    gated = [(route, view) for route, view in views if issubclass(view, TenantAPIView)]
    assert len(gated) >= 8
    assert [route for route, view in gated if view.api_scope is None] == []
    ungated = {route for route, view in views if not issubclass(view, TenantAPIView)}
    assert ungated == {"schema/", "docs/"}  # the schema and its reader: no data


def test_the_docs_page_loads_only_vendored_assets(client_for, acme_admin):
    page = client_for("acme.localhost", acme_admin).get("/api/v1/docs/")
    assert page.status_code == 200
    html = page.content.decode()
    assert "/api/v1/schema/" in html
    assets = re.findall(r'(?:src|href)="([^"]+)"', html)
    assert assets
    assert [url for url in assets if re.match(r"(https?:)?//", url)] == []  # nothing from a CDN
    scripts = [url for url in assets if url.endswith(".js")]
    assert scripts
    for url in scripts:
        assert url.startswith("/static/drf_spectacular_sidecar/")
        assert client_for("acme.localhost").get(url).status_code == 200
