"""Public-schema records: client companies (the tenants), their domains, and people.

A public table never references a tenant table; tenant tables may reference `User`.
"""

from __future__ import annotations

from django.contrib.auth.models import AbstractUser
from django.db import connection, models
from django.utils.translation import gettext_lazy as _
from django_tenants.models import DomainMixin, TenantMixin
from django_tenants.utils import get_creation_fakes_migrations, schema_exists


class ClientCompany(TenantMixin):
    """A client company of the answering service, with its own PostgreSQL schema.

    Two rows are not client companies: the `public` row (the provider's own host) and the
    `tenant_template` row, the schema that new companies are cloned from.
    """

    class Kind(models.TextChoices):
        PROVIDER = "provider", "Provider (public schema)"
        TEMPLATE = "template", "Template schema"
        CLIENT = "client", "Client company"

    class Status(models.TextChoices):
        ACTIVE = "active", "Active"
        SUSPENDED = "suspended", "Suspended"
        OFFBOARDED = "offboarded", "Offboarded"

    name = models.CharField(max_length=200)
    kind = models.CharField(max_length=16, choices=Kind.choices, default=Kind.CLIENT)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.ACTIVE)
    time_zone = models.CharField(max_length=64, default="Europe/Tallinn")
    created_at = models.DateTimeField(auto_now_add=True)
    status_changed_at = models.DateTimeField(null=True, blank=True)
    status_reason = models.CharField(max_length=300, blank=True)

    # Schemas are created by tenants.services.client_onboard, never as a side effect of save().
    auto_create_schema = False
    auto_drop_schema = False
    clone_mode = "DATA"

    class Meta:
        verbose_name = "client company"
        verbose_name_plural = "client companies"
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    def create_schema(self, check_if_exists=False, sync_schema=True, verbosity=1):
        """Clone the template when there is one (see tenants.cloning); otherwise migrate."""
        from tenants.cloning import schema_clone

        base = self.get_base_schema() if get_creation_fakes_migrations() else False
        if not (sync_schema and base and schema_exists(base)):
            return super().create_schema(check_if_exists=check_if_exists, sync_schema=sync_schema, verbosity=verbosity)
        if check_if_exists and schema_exists(self.schema_name):
            return False
        schema_clone(source=base, target=self.schema_name)
        connection.set_schema_to_public()
        return True

    @property
    def slug(self) -> str:
        return self.schema_name

    @property
    def is_client(self) -> bool:
        return self.kind == self.Kind.CLIENT

    @property
    def is_active(self) -> bool:
        return self.status == self.Status.ACTIVE


class Domain(DomainMixin):
    """A host name that routes to a client company's schema."""


class User(AbstractUser):
    """A person: provider staff (with a provider role) or a client company's user (without one)."""

    class ProviderRole(models.TextChoices):
        AGENT = "agent", _("Agent")
        SUPERVISOR = "supervisor", _("Supervisor")
        DPO = "dpo", _("Data-protection officer")
        PROVIDER_ADMIN = "provider_admin", _("Provider admin")

    provider_role = models.CharField(max_length=20, choices=ProviderRole.choices, blank=True)

    @property
    def is_provider_staff(self) -> bool:
        return bool(self.provider_role)


class Membership(models.Model):
    """A client user's place in one client company."""

    class Role(models.TextChoices):
        CLIENT_ADMIN = "client_admin", _("Client admin")
        CLIENT_MEMBER = "client_member", _("Client member")

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="memberships")
    company = models.ForeignKey(ClientCompany, on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(max_length=20, choices=Role.choices, default=Role.CLIENT_MEMBER)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "company"], name="membership_unique_user_company")]

    def __str__(self) -> str:
        return f"{self.user} in {self.company} ({self.role})"


class Assignment(models.Model):
    """Provider staff assigned to work for a client company."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="assignments")
    company = models.ForeignKey(ClientCompany, on_delete=models.CASCADE, related_name="assignments")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "company"], name="assignment_unique_user_company")]

    def __str__(self) -> str:
        return f"{self.user} assigned to {self.company}"


class CompanyKey(models.Model):
    """One data key of one client company, wrapped (AES-GCM) by the key-encryption key from the
    environment; nothing in the database can unwrap it. See tenants/keys.py.

    A purpose has one `active` version, which encrypts; `retired` versions still decrypt until
    `rotate_keys` has moved every row off them; `destroyed` ones (crypto-shredded at offboarding)
    keep only their metadata, so what they encrypted, backups included, is unreadable anywhere.
    """

    class Purpose(models.TextChoices):
        FIELD = "field", "Personal fields"
        FILE = "file", "Audio and other files"
        INDEX = "index", "Blind indexes"

    class State(models.TextChoices):
        ACTIVE = "active", "Active: encrypts and decrypts"
        RETIRED = "retired", "Retired: decrypts only"
        DESTROYED = "destroyed", "Destroyed (crypto-shredded)"

    company = models.ForeignKey(ClientCompany, on_delete=models.PROTECT, related_name="keys")
    purpose = models.CharField(max_length=8, choices=Purpose.choices)
    version = models.PositiveIntegerField()
    wrapped = models.BinaryField(null=True, editable=False)
    kek_id = models.CharField(max_length=16, blank=True, help_text="Which KEK wrapped it (a fingerprint)")
    state = models.CharField(max_length=10, choices=State.choices, default=State.ACTIVE)
    created_at = models.DateTimeField(auto_now_add=True)
    retired_at = models.DateTimeField(null=True, blank=True)
    destroyed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["company_id", "purpose", "version"]
        constraints = [
            models.UniqueConstraint(fields=["company", "purpose", "version"], name="company_key_version_unique"),
            models.UniqueConstraint(
                fields=["company", "purpose"], condition=models.Q(state="active"), name="company_key_one_active"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.company_id}/{self.purpose}/v{self.version} ({self.state})"


class AuditCheckpoint(models.Model):
    """A signed statement of one client company's audit chain head: its link `seq` had `head_hash`
    at `signed_at` (tenants/signing.py has the exact bytes signed). Kept here, in the public schema,
    apart from the chain it vouches for, and copied out (`audit_checkpoint --out`, the portal, the
    evidence pack) to whoever should be able to catch a rewritten chain. Append-only: a trigger
    refuses UPDATE, DELETE and TRUNCATE (migration 0003)."""

    company = models.ForeignKey(ClientCompany, on_delete=models.PROTECT, related_name="audit_checkpoints")
    seq = models.PositiveBigIntegerField(help_text="The chain link signed: its sequence number")
    head_hash = models.CharField(max_length=64)
    signed_at = models.DateTimeField()
    signature = models.CharField(max_length=128, help_text="Ed25519, in hex")
    key_fingerprint = models.CharField(max_length=64, help_text="SHA-256 of the raw public key, in hex")
    # The raw Ed25519 public key that verifies it, in hex: its copies stay right after the key is rotated.
    public_key = models.CharField(max_length=64)

    class Meta:
        ordering = ["company_id", "signed_at", "pk"]
        indexes = [models.Index(fields=["company", "-signed_at"], name="checkpoint_company_latest")]

    def __str__(self) -> str:
        return f"{self.company_id}: checkpoint at link {self.seq}"
