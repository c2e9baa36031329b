"""The ASGI application: Django's pages (as under WSGI) and the live desk's sockets (Channels)."""

import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
django_application = get_asgi_application()  # sets Django up before the consumers are imported

from channels.auth import AuthMiddlewareStack  # noqa: E402
from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402
from channels.security.websocket import AllowedHostsOriginValidator  # noqa: E402

from desk.ticker import ticker_start  # noqa: E402
from desk.ws_urls import websocket_urlpatterns  # noqa: E402
from tenants.pooling import refuse_transaction_pooling  # noqa: E402

# Behind PgBouncer in transaction mode a request would run in another company's schema: refuse.
refuse_transaction_pooling()

application = ProtocolTypeRouter(
    {
        "http": django_application,
        "websocket": AllowedHostsOriginValidator(AuthMiddlewareStack(URLRouter(websocket_urlpatterns))),
    }
)
ticker_start()  # only with the in-memory layer: the process that holds the consoles runs the pass
