"""Vastaja settings, read from the environment (django-environ).

Two profiles, chosen by DJANGO_ENV:
- development (the default): runs with no variables at all, on the embedded PostgreSQL;
- production: refuses to start until its secrets are set, and passes `check --deploy`.
Every variable is documented in the README's "Configuration" section.
"""

from __future__ import annotations

import hashlib
import re
from pathlib import Path
from urllib.parse import unquote

import environ

from config.database import embedded_database
from config.storage import local_storages, s3_storages

BASE_DIR = Path(__file__).resolve().parent.parent
DATA_DIR = BASE_DIR / ".vastaja"

env = environ.Env()

DJANGO_ENV = env.str("DJANGO_ENV", default="development")
if DJANGO_ENV not in ("development", "production"):
    raise SystemExit(f"error: DJANGO_ENV must be 'development' or 'production', not {DJANGO_ENV!r}")
PRODUCTION = DJANGO_ENV == "production"

if PRODUCTION:
    for name in (
        "SECRET_KEY",
        "KEY_ENCRYPTION_KEY",
        "FIELD_ENCRYPTION_KEY",
        "BACKUP_ENCRYPTION_KEY",
        "AUDIT_SIGNING_KEY",
        "ALLOWED_HOSTS",
        "DATABASE_URL",
    ):
        if not env.str(name, default=""):
            # One line, no traceback: the operator must see at once what is missing.
            raise SystemExit(f"error: DJANGO_ENV=production requires the environment variable {name}")

SECRET_KEY = env.str("SECRET_KEY", default="dev-only-insecure-secret-key-never-use-in-production-0123456789")
# Envelope keys (tenants/keys.py): comma-separated KEKs; the first wraps the companies' data keys,
# all of them unwrap. Keep them in a secrets store, apart from the database and its backups.
KEY_ENCRYPTION_KEY = env.str("KEY_ENCRYPTION_KEY", default="dev-only-insecure-key-encryption-key")
# How long a process trusts its cached "active key version" before asking the database again.
KEY_CACHE_SECONDS = env.float("KEY_CACHE_SECONDS", default=10.0)
# The one key from before per-company keys: it still reads values not yet moved to a company key,
# and it keys the analytics pseudonyms (crm.blind_index.pseudonym).
CRYPTOGRAPHY_KEY = env.str("FIELD_ENCRYPTION_KEY", default="dev-only-insecure-field-encryption-key")
# Tenant backups (operations/backups): comma-separated; the first encrypts, the others still decrypt.
BACKUP_ENCRYPTION_KEY = env.str("BACKUP_ENCRYPTION_KEY", default="dev-only-insecure-backup-encryption-key")
# The Ed25519 key that signs the audit checkpoints (audit/checkpoints.py): its 32-byte seed as 64 hex
# characters. Development derives one from SECRET_KEY, so the demo's checkpoints verify across runs.
AUDIT_SIGNING_KEY = (
    env.str("AUDIT_SIGNING_KEY", default="")
    or hashlib.sha256(b"vastaja audit signing key in development:" + SECRET_KEY.encode()).hexdigest()
)
if not re.fullmatch(r"[0-9a-fA-F]{64}", AUDIT_SIGNING_KEY):
    raise SystemExit("error: AUDIT_SIGNING_KEY must be 64 hex characters (an Ed25519 private key's 32-byte seed)")
DEBUG = env.bool("DEBUG", default=not PRODUCTION)
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["localhost", ".localhost", "127.0.0.1", "testserver"])

# The public host serves the provider's admin; every other host is a client company's.
PUBLIC_HOST = env.str("PUBLIC_HOST", default="localhost")
# A client company with the slug "acme" is served on "acme.<TENANT_DOMAIN_SUFFIX>".
TENANT_DOMAIN_SUFFIX = env.str("TENANT_DOMAIN_SUFFIX", default="localhost")

SHARED_APPS = [
    "django_tenants",
    "tenants.apps.TenantsConfig",
    "compliance.agreements.apps.AgreementsConfig",
    "compliance.incidents.apps.IncidentsConfig",
    "compliance.training.apps.TrainingConfig",
    "compliance.risks.apps.RisksConfig",
    "operations.monitoring.apps.MonitoringConfig",
    "operations.backups.apps.BackupsConfig",
    "django.contrib.contenttypes",
    "django.contrib.auth",
    "django.contrib.sessions",
    "django.contrib.messages",
    "staff.apps.StaffConfig",
    "staff.apps.VastajaAdminConfig",
    "django.contrib.staticfiles",
    "portal.apps.PortalConfig",
    "django.contrib.postgres",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",  # Swagger UI and Redoc, vendored: the API docs fetch nothing from a CDN
    "api.tokens.apps.TokensConfig",
    "guardian",
    "auditlog",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "axes",
    "django_prometheus",
    "demo.apps.DemoConfig",
    "channels",
    "desk.apps.DeskConfig",  # presence and the ACD queue: ids, states and times only
    "gates.apps.GatesConfig",  # no tables: the gate context's resets and the gated-manager check
]
TENANT_APPS = [
    "operations.timers.apps.TimersConfig",
    "operations.outbox.apps.OutboxConfig",
    "answering.apps.AnsweringConfig",
    "crm.apps.CrmConfig",
    "scheduling.apps.SchedulingConfig",
    "audit.apps.AuditConfig",
    "billing.apps.BillingConfig",  # the client's plan, usage and monthly statements
    "levels.apps.LevelsConfig",  # service levels per line and hour: counts and durations only
    "guardian",
    "auditlog",
    # The admin's own log (history pages, recent actions) in each company's schema too: keyed by
    # content type and object id, one shared table told acme's Call #1 from initech's by nothing.
    "staff.apps.VastajaAdminConfig",
]
INSTALLED_APPS = list(SHARED_APPS) + [app for app in TENANT_APPS if app not in SHARED_APPS]

TENANT_MODEL = "tenants.ClientCompany"
TENANT_DOMAIN_MODEL = "tenants.Domain"
# New client companies are cloned from this template schema rather than migrated one by one.
TENANT_BASE_SCHEMA = "tenant_template"
TENANT_CREATION_FAKES_MIGRATIONS = True
# Every set_tenant() is a round trip to set search_path; only issue it when the schema changes.
TENANT_LIMIT_SET_CALLS = True
TENANT_MULTIPROCESSING_MAX_PROCESSES = env.int("TENANT_MIGRATE_PROCESSES", default=2)
# migrate_schemas skips, after one query over all of them, the schemas that are up to date.
GET_EXECUTOR_FUNCTION = "tenants.migrating.executor_get"
DEFAULT_NOT_FOUND_TENANT_VIEW = "tenants.views.unknown_host"
PUBLIC_SCHEMA_URLCONF = "config.urls_public"
ROOT_URLCONF = "config.urls_tenant"
DATABASE_ROUTERS = ("django_tenants.routers.TenantSyncRouter",)

AUTH_USER_MODEL = "tenants.User"
AUTHENTICATION_BACKENDS = [
    # First, so that a locked-out person is refused before their password is even checked.
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
    "guardian.backends.ObjectPermissionBackend",
]
GUARDIAN_ANONYMOUS_USER_NAME = None  # no anonymous grants, ever
LOGIN_URL = "/accounts/login/"

# Failed sign-ins are throttled per username and address (django-axes).
AXES_FAILURE_LIMIT = env.int("AXES_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = env.float("AXES_COOLOFF_MINUTES", default=15.0) / 60  # hours
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_LOCKOUT_TEMPLATE = "axes_locked_out.html"
AXES_RESET_ON_SUCCESS = True
AXES_VERBOSE = False
OTP_TOTP_ISSUER = "Vastaja"

MIDDLEWARE = [
    # Every request starts with no gate context: a read of tenant data outside a channel base raises.
    "gates.middleware.GateContextMiddleware",
    # /health/ answers before the host lookup, which needs the database it reports on.
    "operations.monitoring.middleware.HealthMiddleware",
    "django_prometheus.middleware.PrometheusBeforeMiddleware",
    # While the database is down every other page answers 503 (HTML, or JSON under /api/), never
    # a 500: before the host lookup, which is the first thing to need the database.
    "operations.monitoring.outage.DatabaseOutageMiddleware",
    # A request's access-log entries, written in one INSERT as it ends (and when it fails: the
    # read happened). Inside the outage middleware, so a database gone by then answers 503.
    "audit.middleware.AccessLogBufferMiddleware",
    "django_tenants.middleware.main.TenantMainMiddleware",
    "django.middleware.security.SecurityMiddleware",
    # Static files (the portal's vendored htmx and CSS) straight from the app folders: no CDN and
    # no collectstatic step for the demo or the browser tests.
    "whitenoise.middleware.WhiteNoiseMiddleware",
    # From here to the end, `gates.middleware.X` is Django's (or django-otp's, auditlog's)
    # middleware X, skipped on a signed telephony webhook (`/telephony/` on a company's host), whose
    # only credential is its Twilio signature: no session is read or made there, and the view sees
    # an anonymous user. The host lookup, the outage 503, the gate context, the company's zone, the
    # tenant gate and the security headers run for it as for every request.
    "gates.middleware.SessionMiddleware",
    "gates.middleware.LocaleMiddleware",
    "tenants.timezones.CompanyZoneMiddleware",  # a company's host shows its times in its zone
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",  # by name for check --deploy; the webhooks are csrf_exempt
    "gates.middleware.AuthenticationMiddleware",
    "gates.middleware.OTPMiddleware",
    "portal.middleware.TenantSessionMiddleware",  # a session is valid only on the host it signed in on
    "gates.middleware.TenantGateMiddleware",
    "portal.middleware.SecondFactorMiddleware",  # the one-time code, where required
    "staff.middleware.AdminCompanyZoneMiddleware",  # the admin shows the chosen company's zone
    "gates.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "gates.middleware.AuditlogMiddleware",
    "axes.middleware.AxesMiddleware",  # only reacts to a refused sign-in, so it stays for webhooks too
    "django_prometheus.middleware.PrometheusAfterMiddleware",
]

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "portal.navigation.portal_navigation",
            ],
        },
    },
]

WSGI_APPLICATION = "config.wsgi.application"
ASGI_APPLICATION = "config.asgi.application"

# The live desk's push (desk/push.py): a Redis channel layer, which every web process shares. By
# default the Redis of CELERY_BROKER_URL when it is one; with none, the in-memory layer, which
# reaches only the consoles of the one process that serves them (the demo says so).
CHANNEL_LAYER_URL = env.str(
    "CHANNEL_LAYER_URL",
    default=_broker if (_broker := env.str("CELERY_BROKER_URL", default="")).startswith("redis") else "",
)
if CHANNEL_LAYER_URL:
    CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "channels_redis.core.RedisChannelLayer",
            "CONFIG": {"hosts": [CHANNEL_LAYER_URL], "prefix": "vastaja-desk", "expiry": 30},
        }
    }
else:
    CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}
# The ACD queue (desk/services.py): an offer not accepted in DESK_OFFER_SECONDS goes to the next
# agent; a console unseen for DESK_GRACE_SECONDS makes its agent offline (and their offer goes
# back); the periodic pass runs every DESK_TICK_SECONDS.
DESK_OFFER_SECONDS = env.int("DESK_OFFER_SECONDS", default=15)
DESK_GRACE_SECONDS = env.int("DESK_GRACE_SECONDS", default=20)
DESK_TICK_SECONDS = env.float("DESK_TICK_SECONDS", default=2.0)
# With the in-memory layer a worker's pushes would reach no console, so the one web process runs the
# pass itself (desk/ticker.py); run_demo sets this for its ASGI server when there is no Redis.
DESK_TICK_IN_WEB = env.bool("DESK_TICK_IN_WEB", default=False)

if env.str("DATABASE_URL", default=""):
    DATABASES = {"default": env.db_url("DATABASE_URL", engine="django_tenants.postgresql_backend")}
    # A Unix-socket directory may be given percent-encoded as the host (postgres://user@%2Frun%2Fpg/db).
    DATABASES["default"]["HOST"] = unquote(DATABASES["default"]["HOST"] or "")
else:
    DATABASES = {"default": embedded_database(DATA_DIR)}
DATABASES["default"]["CONN_MAX_AGE"] = env.int("DB_CONN_MAX_AGE", default=0)
# A kept connection is checked before its next request uses it, so after a database restart no
# request fails on a dead connection (with the default of 0 every request opens a new one anyway).
DATABASES["default"]["CONN_HEALTH_CHECKS"] = DATABASES["default"]["CONN_MAX_AGE"] != 0
DATABASES["default"].setdefault("OPTIONS", {})["connect_timeout"] = env.int("DB_CONNECT_TIMEOUT", default=5)
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

CACHES = {"default": env.cache_url("CACHE_URL", default="locmemcache://vastaja")}
# Keys carry the schema, so one tenant's cached value is never served to another.
CACHES["default"]["KEY_FUNCTION"] = "django_tenants.cache.make_key"
CACHES["default"]["REVERSE_KEY_FUNCTION"] = "django_tenants.cache.reverse_key"
# The API's rate limits count in a cache every web process shares: CACHE_URL when it names a shared
# cache (Redis, Memcached, the database), else a database table (created by the tokens app's
# migration, so `migrate_schemas` makes it and no separate `createcachetable` step is needed).
if CACHES["default"]["BACKEND"].endswith(("locmem.LocMemCache", "dummy.DummyCache")):
    CACHES["throttle"] = {
        "BACKEND": "django.core.cache.backends.db.DatabaseCache",
        "LOCATION": "api_throttle_cache",
        "OPTIONS": {"MAX_ENTRIES": 100_000},
    }
else:
    CACHES["throttle"] = dict(CACHES["default"])
# Requests per token (and per signed-in person using the API from the portal): "<n>/<s|min|h|day>".
API_RATE_LIMIT = env.str("API_RATE_LIMIT", default="600/min")

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

# Outgoing e-mail (django-environ's EMAIL_URL, e.g. smtp+tls://user:pass@smtp.example:587);
# the development default prints messages to the console.
globals().update(env.email_url("EMAIL_URL", default="consolemail://"))
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="Vastaja <no-reply@localhost>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL
# Who is alerted when something needs a person (a dead-lettered webhook, say).
ADMINS = [("Vastaja operations", address) for address in env.list("ALERT_EMAILS", default=[])]

# SMS through Twilio's REST API; TWILIO_API_BASE points elsewhere only for a local stand-in.
TWILIO_ACCOUNT_SID = env.str("TWILIO_ACCOUNT_SID", default="" if PRODUCTION else "AC" + "0" * 32)
# The development default lets `simulate_call` sign webhooks for the demo; production has none.
TWILIO_AUTH_TOKEN = env.str("TWILIO_AUTH_TOKEN", default="" if PRODUCTION else "dev-only-twilio-auth-token")
TWILIO_FROM_NUMBER = env.str("TWILIO_FROM_NUMBER", default="")
TWILIO_API_BASE = env.str("TWILIO_API_BASE", default="https://api.twilio.com")

# Who receives a company's data through each outbound integration: the sub-processor's name, as the
# DPAs record it, and the country (ISO 3166 code) it processes in. Only a DPA in force that names
# it, for that service and region, lets a send go (tenants/integrations.py, gates/outbound.py). The
# provider behind EMAIL_URL depends on the deployment: production names none until it is set, and
# then refuses every e-mail that carries a company's data.
TWILIO_SUBPROCESSOR = env.str("TWILIO_SUBPROCESSOR", default="Twilio Ireland Ltd")
TWILIO_REGION = env.str("TWILIO_REGION", default="IE")
EMAIL_SUBPROCESSOR = env.str("EMAIL_SUBPROCESSOR", default="" if PRODUCTION else "Demo Mail OÜ")
EMAIL_REGION = env.str("EMAIL_REGION", default="" if PRODUCTION else "EE")

LANGUAGE_CODE = "en"
# The portal speaks English and Estonian. Each app keeps its translations in `<app>/locale/`,
# compiled `.mo` files included, so a machine without gettext still shows Estonian.
LANGUAGES = [("en", "English"), ("et", "Eesti")]
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True
# Dates and times, one way on every page, by language: 2026-12-01 09:00 in English, 1.12.2026 09:00
# in Estonian (tenants/formats/), in the company's zone (tenants/timezones.py).
FORMAT_MODULE_PATH = ["tenants.formats"]

STATIC_URL = "/static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
# WhiteNoise serves the apps' static folders directly (finders); `collectstatic` is optional.
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = DEBUG
# Files every host serves at its root, before any sign-in: the favicon browsers ask for.
WHITENOISE_ROOT = BASE_DIR / "portal" / "root"
# Voicemail and recordings, stored encrypted (tenants/files.py); never served as static files.
MEDIA_ROOT = env.path("MEDIA_ROOT", default=str(DATA_DIR / "media"))
# Object storage (config/storage.py): with a bucket named, every stored file goes to S3 (or any
# S3-speaking server at AWS_S3_ENDPOINT_URL), so every web node and worker reads what another
# wrote; without one, the local disk under MEDIA_ROOT. Either way only ciphertext is written.
AWS_STORAGE_BUCKET_NAME = env.str("AWS_STORAGE_BUCKET_NAME", default="")
if AWS_STORAGE_BUCKET_NAME:
    STORAGES = s3_storages(
        bucket=AWS_STORAGE_BUCKET_NAME,
        endpoint_url=env.str("AWS_S3_ENDPOINT_URL", default=""),
        region=env.str("AWS_S3_REGION_NAME", default=""),
        access_key=env.str("AWS_S3_ACCESS_KEY_ID", default=""),
        secret_key=env.str("AWS_S3_SECRET_ACCESS_KEY", default=""),
        location=env.str("AWS_LOCATION", default=""),
        addressing_style=env.str("AWS_S3_ADDRESSING_STYLE", default=""),
        server_side_encryption=env.str("AWS_S3_SERVER_SIDE_ENCRYPTION", default=""),
        timeout_seconds=env.float("AWS_S3_TIMEOUT_SECONDS", default=10.0),
    )
else:
    STORAGES = local_storages()
AUDIO_MAX_BYTES = env.int("AUDIO_MAX_BYTES", default=10 * 1024 * 1024)

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": ["rest_framework.authentication.SessionAuthentication"],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_SCHEMA_CLASS": "api.schema.TenantAutoSchema",
    "EXCEPTION_HANDLER": "tenants.errors.api_exception_handler",
    "DEFAULT_PAGINATION_CLASS": "api.pagination.StrictLimitOffsetPagination",
    "PAGE_SIZE": 50,
    # No `?format=` override: a response's type follows the Accept header and the view only (an error
    # from the audio endpoint is JSON, never "audio/wav").
    "URL_FORMAT_OVERRIDE": None,
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Vastaja client API",
    "VERSION": "1.0.0",
    "DESCRIPTION": "The REST API of a client company's host. Authenticate with a session (the portal) or "
    "`Authorization: Bearer <token>`; each operation needs the scope `<resource>:read` or `<resource>:write`.",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
}
# Requests' and messages' "status" are different choice sets: name them apart in the schema.
SPECTACULAR_SETTINGS["ENUM_NAME_OVERRIDES"] = {
    "DataSubjectRequestStatusEnum": "audit.models.DataSubjectRequest.Status",
    "DataSubjectRequestKindEnum": "audit.models.DataSubjectRequest.Kind",
    "MembershipRoleEnum": "tenants.models.Membership.Role",
    "CategoryGrantRoleEnum": "compliance.agreements.models.CategoryGrant.Role",
    # A grant's category and a sub-processor's categories are the one taxonomy.
    "DataCategoryEnum": "compliance.agreements.models.CATEGORY_CHOICES",
    "StatementStatusEnum": "billing.models.Statement.Status",
}

# Celery. With no broker configured the demo uses kombu's filesystem transport in .vastaja/broker,
# so a real worker and beat run with nothing else installed. Eager execution is for unit tests only.
CELERY_BROKER_URL = env.str("CELERY_BROKER_URL", default="")
if not CELERY_BROKER_URL:
    _broker_dir = DATA_DIR / "broker"
    for _sub in ("queue", "processed", "control"):
        (_broker_dir / _sub).mkdir(parents=True, exist_ok=True)
    CELERY_BROKER_URL = "filesystem://"
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(_broker_dir / "queue"),
        "data_folder_out": str(_broker_dir / "queue"),
        "processed_folder": str(_broker_dir / "processed"),
        # kombu's exchange tables; its default is a "control" folder in the working directory.
        "control_folder": str(_broker_dir / "control"),
        "store_processed": False,
    }
# Results are kept only where the broker can keep them (Redis); tasks report through the database.
CELERY_RESULT_BACKEND = (
    env.str("CELERY_RESULT_BACKEND", default=CELERY_BROKER_URL if CELERY_BROKER_URL.startswith("redis") else "") or None
)
CELERY_TASK_ALWAYS_EAGER = env.bool("CELERY_TASK_ALWAYS_EAGER", default=False)
# Redelivery (docs/operations.md, "Delivery guarantees"). A task is acknowledged only when it ends,
# and a worker killed mid-task gives its task back. The limits nest, each inside the next:
#   soft time limit < hard time limit < DELIVERY_SENDING_TIMEOUT < visibility_timeout
#   < the shortest urgent-message deadline (answering.models.URGENT_ACK_MIN_MINUTES) < OUTBOX_LEASE_SECONDS
# so a task is cut off before its attempt counts as abandoned, an abandoned attempt is resumed before
# Redis hands the task out again, a killed worker's task is back before an escalation is due, and the
# outbox hands a row again only once the broker has had its chance. tests/test_broker_settings.py
# holds them to it.
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_TIME_LIMIT = env.int("CELERY_TASK_TIME_LIMIT", default=90)
CELERY_TASK_SOFT_TIME_LIMIT = env.int("CELERY_TASK_SOFT_TIME_LIMIT", default=CELERY_TASK_TIME_LIMIT * 5 // 6)
# A delivery attempt still `sending` after this was cut off (the worker killed): it is tried again.
DELIVERY_SENDING_TIMEOUT = env.int("DELIVERY_SENDING_TIMEOUT", default=CELERY_TASK_TIME_LIMIT + 30)
CELERY_VISIBILITY_TIMEOUT = env.int("CELERY_VISIBILITY_TIMEOUT", default=240)
# A row handed to the broker and not done after this is handed again (the broker lost it).
OUTBOX_LEASE_SECONDS = env.int("OUTBOX_LEASE_SECONDS", default=2 * CELERY_VISIBILITY_TIMEOUT)
# The relay also runs on commit, in a background thread of the process that committed.
OUTBOX_WAKE_ON_COMMIT = env.bool("OUTBOX_WAKE_ON_COMMIT", default=True)
# A message not delivered this long after it was taken counts as undelivered, whatever its state.
DELIVERY_DEADLINE_MINUTES = env.int("DELIVERY_DEADLINE_MINUTES", default=15)
if CELERY_BROKER_URL.startswith(("redis", "rediss")):
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "visibility_timeout": CELERY_VISIBILITY_TIMEOUT,
        # A broker that is down is noticed in seconds: the relay then leaves its rows for the next run.
        "socket_connect_timeout": 2,
        "socket_timeout": 5,
        "retry_on_timeout": False,
    }
    CELERY_REDIS_SOCKET_CONNECT_TIMEOUT = 2
    CELERY_REDIS_SOCKET_TIMEOUT = 5
CELERY_BROKER_CONNECTION_TIMEOUT = 2
CELERY_TASK_DEFAULT_QUEUE = env.str("CELERY_QUEUE", default="vastaja")
CELERY_BEAT_SCHEDULER = "tenants.beat:ActiveTenantsScheduler"
# /health/ fails the worker check when no worker has run the heartbeat for four of these.
WORKER_HEARTBEAT_SECONDS = env.float("WORKER_HEARTBEAT_SECONDS", default=30.0)
CELERY_BEAT_SCHEDULE_FILENAME = str(DATA_DIR / "celerybeat-schedule")
# The audit chain (docs/audit.md): how often beat seals each company's new audit rows, and the
# longest an entry may wait for its link before verify_audit fails and /metrics counts it overdue.
AUDIT_SEAL_SECONDS = env.float("AUDIT_SEAL_SECONDS", default=5.0)
AUDIT_SEAL_MAX_DELAY_SECONDS = env.int("AUDIT_SEAL_MAX_DELAY_SECONDS", default=60)
if AUDIT_SEAL_MAX_DELAY_SECONDS <= 2 * AUDIT_SEAL_SECONDS:
    # Every entry would be overdue before the sealer's second chance to link it.
    raise SystemExit(
        f"error: AUDIT_SEAL_MAX_DELAY_SECONDS ({AUDIT_SEAL_MAX_DELAY_SECONDS}) must be more than twice "
        f"AUDIT_SEAL_SECONDS ({AUDIT_SEAL_SECONDS:g})"
    )
# A caller who hangs up within this many seconds of arriving is a short abandon: counted, but left
# out of the service level and the abandon rate (docs/service-levels.md).
LEVELS_SHORT_ABANDON_SECONDS = env.int("LEVELS_SHORT_ABANDON_SECONDS", default=5)
# The rollup's sorts (levels/rollup.py) run in this much memory, set for its own transaction only.
LEVELS_ROLLUP_WORK_MEM = env.str("LEVELS_ROLLUP_WORK_MEM", default="64MB")
CELERY_BEAT_SCHEDULE = {
    # No "tenant_schemas" key: tenant-schemas-celery sends it once to every active client company.
    "timers-sweep": {"task": "timers.sweep", "schedule": env.float("TIMER_SWEEP_SECONDS", default=30.0)},
    # The outbox's relay: rows whose wake-up on commit did not reach the broker (it was down).
    "outbox-relay": {"task": "outbox.relay", "schedule": env.float("OUTBOX_RELAY_SECONDS", default=5.0)},
    # The sealer: each company's queued audit rows linked into its chain (audit/sealing.py).
    "audit-seal": {"task": "audit.seal", "schedule": AUDIT_SEAL_SECONDS},
    "retention-purge": {"task": "audit.retention_purge", "schedule": 24 * 3600.0},
    "analytics-rollup": {"task": "audit.analytics_rollup", "schedule": 24 * 3600.0},
    # Service levels (levels/rollup.py): yesterday and today so far, recomputed every hour.
    "levels-rollup": {"task": "levels.rollup", "schedule": env.float("LEVELS_ROLLUP_SECONDS", default=3600.0)},
    # A signed checkpoint of each company's chain head, once a day (audit/checkpoints.py).
    "audit-checkpoint": {"task": "audit.checkpoint", "schedule": 24 * 3600.0},
    # DPAs live in the public schema: this one runs there, once an hour.
    "dpa-expire": {"task": "agreements.expire_due", "schedule": 3600.0, "tenant_schemas": ["public"]},
    # Monitoring (operations/monitoring/): the workers' heartbeat, and the e-mail alerts.
    "worker-heartbeat": {
        "task": "monitoring.heartbeat",
        "schedule": WORKER_HEARTBEAT_SECONDS,
        "tenant_schemas": ["public"],
    },
    # The live desk's pass over every company's queued calls (public schema): desk.services.desk_tick.
    "desk-tick": {"task": "desk.tick", "schedule": DESK_TICK_SECONDS, "tenant_schemas": ["public"]},
    "alerts-sweep": {
        "task": "monitoring.alerts_sweep",
        "schedule": env.float("ALERT_SWEEP_SECONDS", default=300.0),
        "tenant_schemas": ["public"],
    },
}

# Who may read /metrics (operations/monitoring/metrics.py): with a token, scrapers sending
# "Authorization: Bearer <token>"; without one, loopback clients in development and nobody in production.
METRICS_TOKEN = env.str("METRICS_TOKEN", default="")
# Set (to an empty directory, for every web process) when several processes serve /metrics:
# prometheus_client then merges their django-prometheus metrics from files.
PROMETHEUS_MULTIPROC_DIR = env.str("PROMETHEUS_MULTIPROC_DIR", default="")

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    "loggers": {
        "django.db.backends": {"level": "WARNING"},
        "pgserver": {"level": "WARNING"},
        "axes": {"level": "WARNING"},
    },
}

if PRODUCTION:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=True)
    SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=31536000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SESSION_COOKIE_HTTPONLY = True
    SECURE_CONTENT_TYPE_NOSNIFF = True
    X_FRAME_OPTIONS = "DENY"
    CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])
