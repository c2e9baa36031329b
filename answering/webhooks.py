"""Outbound webhook subscriptions: the client's own systems that receive its messages as signed
JSON (delivery: `answering.tasks.deliver_webhook`). Services for the API and the portal, and the
rule for which URLs may receive personal data.

In production a webhook URL must be https and must not lead into the provider's own network: a
host that is, or resolves to, a private, loopback, link-local or otherwise non-public address is
refused, both when the subscription is saved and again before every delivery (a name can be
re-pointed after it was checked). In development http and local receivers are allowed, so the demo
and the tests can run one on this machine.
"""

from __future__ import annotations

import ipaddress
import secrets
import socket
from urllib.parse import parse_qs, urlsplit

from django.conf import settings
from django.db import transaction

from answering.models import SECRET_QUERY_WORDS, WebhookEndpoint
from tenants.changelog import change_log_actor
from tenants.errors import ApplicationError
from tenants.models import User

OPTIONS = ("active", "include_caller_name", "include_caller_number", "include_body")


def _resolve(host: str) -> list[ipaddress.IPv4Address | ipaddress.IPv6Address]:
    try:
        return [ipaddress.ip_address(host)]
    except ValueError:
        pass
    try:
        infos = socket.getaddrinfo(host, None, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError):
        raise ApplicationError(f"the host {host!r} cannot be resolved", field="url") from None
    return [ipaddress.ip_address(info[4][0].split("%")[0]) for info in infos]


def webhook_url_check(url: str, *, production: bool | None = None) -> str:
    """The URL, if a webhook may be sent there; else an ApplicationError naming `url`."""
    production = settings.PRODUCTION if production is None else production
    url = (url or "").strip()
    if not url:
        raise ApplicationError("give the URL that receives the webhooks", field="url")
    if len(url) > 500:
        raise ApplicationError("the URL is longer than 500 characters", field="url")
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises ValueError on a bad port
    except ValueError:
        raise ApplicationError("this is not a valid URL", field="url") from None
    allowed = ("https",) if production else ("https", "http")
    if parts.scheme not in allowed or not parts.hostname:
        raise ApplicationError(
            "the URL must start with https://" if production else "the URL must be http(s)://", field="url"
        )
    if parts.username or parts.password:
        raise ApplicationError("the URL must not carry credentials (user:password@)", field="url")
    for name in parse_qs(parts.query):
        if any(word in name.lower() for word in SECRET_QUERY_WORDS):
            raise ApplicationError(f"the URL must not carry a credential ('{name}' in its query)", field="url")
    if production:
        for address in _resolve(parts.hostname):
            if not address.is_global:
                raise ApplicationError(f"the URL leads to a non-public address ({address}): refused", field="url")
    return url


def _new_secret() -> str:
    return "whsec_" + secrets.token_urlsafe(32)


def webhook_create(
    *,
    url: str,
    actor: User,
    active: bool = True,
    include_caller_name: bool = True,
    include_caller_number: bool = True,
    include_body: bool = True,
) -> tuple[WebhookEndpoint, str]:
    """Subscribe a URL in the current company; returns the endpoint and its signing secret, which
    is shown once (it is stored encrypted, to sign each delivery)."""
    url = webhook_url_check(url)
    secret = _new_secret()
    with transaction.atomic(), change_log_actor(actor):
        endpoint = WebhookEndpoint(
            url=url,
            secret=secret,
            active=active,
            include_caller_name=include_caller_name,
            include_caller_number=include_caller_number,
            include_body=include_body,
        )
        # The URL was checked above by the environment's rule (the model's own validator wants https always).
        endpoint.full_clean(exclude=["url"])
        endpoint.save()
    return endpoint, secret


def webhook_update(*, endpoint: WebhookEndpoint, actor: User, **changes) -> WebhookEndpoint:
    """Change a subscription's URL, whether it is active, or which fields it carries."""
    unknown = set(changes) - {"url", *OPTIONS}
    if unknown:
        raise ApplicationError(f"cannot change {', '.join(sorted(unknown))}", field=sorted(unknown)[0])
    if "url" in changes:
        changes["url"] = webhook_url_check(changes["url"])
    if not changes:
        return endpoint
    with transaction.atomic(), change_log_actor(actor):
        for name, value in changes.items():
            setattr(endpoint, name, value)
        endpoint.full_clean(exclude=["url"])
        endpoint.save(update_fields=list(changes))
    return endpoint


def webhook_secret_rotate(*, endpoint: WebhookEndpoint, actor: User) -> tuple[WebhookEndpoint, str]:
    """A new signing secret (shown once); the old one stops signing at once."""
    secret = _new_secret()
    with transaction.atomic(), change_log_actor(actor):
        endpoint.secret = secret
        endpoint.save(update_fields=["secret"])
    return endpoint, secret


def webhook_delete(*, endpoint: WebhookEndpoint, actor: User) -> None:
    """Unsubscribe. Past delivery attempts stay, pointing at no endpoint."""
    with transaction.atomic(), change_log_actor(actor):
        endpoint.delete()
