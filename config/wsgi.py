import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
application = get_wsgi_application()

# Behind PgBouncer in transaction mode a request would run in another company's schema: refuse.
from tenants.pooling import refuse_transaction_pooling  # noqa: E402

refuse_transaction_pooling()
