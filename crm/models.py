"""The caller CRM, in each client company's schema. The answering-desk issue adds consent records
and the timeline."""

from django.conf import settings
from django.contrib.auth.models import Group
from django.db import models
from guardian.models import GroupObjectPermissionBase, UserObjectPermissionBase

from crm.blind_index import blind_index, name_normalise
from gates.engine import gate_objects
from gates.managers import GatedGroupObjectPermissionManager, GatedManager, GatedUserObjectPermissionManager
from tenants.categories import derived, personal_data
from tenants.crypto import encrypt
from tenants.rekey import blind_indexed


class LawfulBasis(models.TextChoices):
    CONSENT = "consent", "Consent (Art. 6(1)(a))"
    CONTRACT = "contract", "Contract (Art. 6(1)(b))"
    LEGAL_OBLIGATION = "legal_obligation", "Legal obligation (Art. 6(1)(c))"
    VITAL_INTERESTS = "vital_interests", "Vital interests (Art. 6(1)(d))"
    PUBLIC_TASK = "public_task", "Public task (Art. 6(1)(e))"
    LEGITIMATE_INTERESTS = "legitimate_interests", "Legitimate interests (Art. 6(1)(f))"


class Contact(models.Model):
    """A caller known to the client company. Personal fields are encrypted at rest.

    A `restricted` contact (a VIP, say) is visible to an agent only with an individual grant
    (`crm.view_contact` on that contact); the others are visible to every agent of the company.
    """

    name = encrypt(models.CharField(max_length=200))
    phone_number = encrypt(models.CharField(max_length=20, blank=True))
    email = encrypt(models.CharField(max_length=254, blank=True))
    address = encrypt(models.TextField(blank=True))
    notes = encrypt(models.TextField(blank=True))
    health_notes = encrypt(models.TextField(blank=True))
    restricted = models.BooleanField(default=False, help_text="Visible to agents only with an individual grant")
    lawful_basis = models.CharField(
        max_length=24, choices=LawfulBasis.choices, default=LawfulBasis.LEGITIMATE_INTERESTS
    )
    # Keyed HMACs of the normalised number and address: exact lookups without decrypting. Indexed in
    # Meta, since `db_index=True` on a CharField adds a LIKE index, and they are never prefix-searched.
    phone_bidx = models.CharField(max_length=64, blank=True, editable=False)
    email_bidx = models.CharField(max_length=64, blank=True, editable=False)
    name_bidx = models.CharField(max_length=64, blank=True, editable=False)
    anonymised_at = models.DateTimeField(null=True, blank=True, editable=False)
    merged_into = models.ForeignKey(
        "self", on_delete=models.PROTECT, null=True, blank=True, related_name="merged", editable=False
    )
    created_at = models.DateTimeField(auto_now_add=True)

    objects = GatedManager()

    class Meta:
        ordering = ["-created_at"]
        # The contact list's order: read through the index, not by sorting wide encrypted rows.
        indexes = [
            models.Index(fields=["-created_at"], name="contact_created_desc"),
            # The caller lookup (crm/selectors.py) and the exact searches by address and name.
            models.Index(fields=["phone_bidx"], name="contact_phone_bidx"),
            models.Index(fields=["email_bidx"], name="contact_email_bidx"),
            models.Index(fields=["name_bidx"], name="contact_name_bidx"),
        ]

    def __str__(self) -> str:
        return f"Contact #{self.pk}"

    def save(self, *args, **kwargs):
        # Derived columns, kept in step with the encrypted values on every write path. A value not
        # loaded (a field the DPA withholds from the person saving) is not written either, so its
        # index stays as it is.
        deferred = self.get_deferred_fields()
        indexed = {
            "phone_bidx": ("phone_number", lambda: blind_index(self.phone_number)),
            "email_bidx": ("email", lambda: blind_index(self.email.lower() if self.email else "")),
            "name_bidx": ("name", lambda: blind_index(name_normalise(self.name))),
        }
        kept = set()
        for index, (source, compute) in indexed.items():
            if source not in deferred:
                setattr(self, index, compute())
                kept.add(index)
        if kwargs.get("update_fields") is not None:
            kwargs["update_fields"] = {*kwargs["update_fields"], *kept}
        super().save(*args, **kwargs)


class ContactPhone(models.Model):
    """Further numbers of a contact (the first is `Contact.phone_number`)."""

    contact = models.ForeignKey(Contact, on_delete=models.CASCADE, related_name="phones")
    number = encrypt(models.CharField(max_length=20))
    number_bidx = models.CharField(max_length=64, editable=False)
    label = models.CharField(max_length=40, blank=True)

    objects = GatedManager()

    class Meta:
        # The caller lookup's second probe, a contact's further numbers.
        indexes = [models.Index(fields=["number_bidx"], name="contactphone_number_bidx")]

    def __str__(self) -> str:
        return f"Phone #{self.pk} of contact #{self.contact_id}"

    def save(self, *args, **kwargs):
        if "number" not in self.get_deferred_fields():  # not loaded (withheld): not written either
            self.number_bidx = blind_index(self.number)
        super().save(*args, **kwargs)


class ConsentRecord(models.Model):
    """One consent given or withdrawn. A history: a withdrawal is a new record, never an edit."""

    class Method(models.TextChoices):
        CALL = "call", "On a call"
        PORTAL = "portal", "In the client's portal"
        FORM = "form", "On a form"

    contact = models.ForeignKey(Contact, on_delete=models.CASCADE, related_name="consents")
    purpose = models.CharField(max_length=60, help_text="e.g. call_recording, sms_reminders, marketing")
    granted = models.BooleanField(help_text="False records a withdrawal")
    method = models.CharField(max_length=10, choices=Method.choices)
    evidence = encrypt(models.TextField(blank=True))
    recorded_by = models.ForeignKey("tenants.User", on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    recorded_at = models.DateTimeField(auto_now_add=True)

    objects = GatedManager()

    class Meta:
        ordering = ["contact", "purpose", "-recorded_at", "-pk"]

    def __str__(self) -> str:
        return f"Consent #{self.pk}"


class ContactMerge(models.Model):
    """A record that one contact was merged into another: the trail survives the merge."""

    kept = models.ForeignKey(Contact, on_delete=models.PROTECT, related_name="merges_kept")
    merged = models.ForeignKey(Contact, on_delete=models.PROTECT, related_name="merges_absorbed")
    moved = models.JSONField(default=dict, help_text="How many related records moved, by kind")
    merged_by = models.ForeignKey("tenants.User", on_delete=models.PROTECT, null=True, related_name="+")
    merged_at = models.DateTimeField(auto_now_add=True)

    objects = GatedManager()

    def __str__(self) -> str:
        return f"Merge #{self.pk}"


class ContactUserObjectPermission(UserObjectPermissionBase):
    # Its index is the unique (user, permission, content_object), which leads with the user.
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, db_index=False)
    content_object = models.ForeignKey(Contact, on_delete=models.CASCADE)

    objects = GatedUserObjectPermissionManager()


class ContactGroupObjectPermission(GroupObjectPermissionBase):
    # Its index is the unique (group, permission, content_object), which leads with the group.
    group = models.ForeignKey(Group, on_delete=models.CASCADE, db_index=False)
    content_object = models.ForeignKey(Contact, on_delete=models.CASCADE)

    objects = GatedGroupObjectPermissionManager()


personal_data(
    Contact,
    name="user.contact.name",
    phone_number="user.contact.phone_number",
    email="user.contact.email",
    address="user.contact.address",
    notes="user.content.private",
    health_notes="user.health",
)

personal_data(ContactPhone, number="user.contact.phone_number")
personal_data(ConsentRecord, evidence="user.consent")
# An index is the value in other clothes: whoever holds one beside its value can find the value
# wherever else the index appears (another company's export, say). For lookups inside the database only.
derived(
    Contact, "phone_bidx", "email_bidx", "name_bidx", reason="keyed HMAC blind indexes of the number, e-mail and name"
)
derived(ContactPhone, "number_bidx", reason="a keyed HMAC blind index of the number")
gate_objects(ContactPhone, through="contact")
gate_objects(ConsentRecord, through="contact")
gate_objects(ContactMerge, through="kept")

gate_objects(
    Contact,
    grants=ContactUserObjectPermission,
    group_grants=ContactGroupObjectPermission,
    permission="view_contact",
    open_unless="restricted",
)

# What `rotate_keys` recomputes with each row it re-encrypts (the same digests as save() above).
blind_indexed("crm.Contact", "phone_bidx", lambda v: blind_index(v["phone_number"] or ""))
blind_indexed("crm.Contact", "email_bidx", lambda v: blind_index((v["email"] or "").lower()))
blind_indexed(
    "crm.Contact",
    "name_bidx",
    lambda v: "" if v["anonymised_at"] else blind_index(name_normalise(v["name"] or "")),
    extra=("anonymised_at",),
)
blind_indexed("crm.ContactPhone", "number_bidx", lambda v: blind_index(v["number"] or ""))
