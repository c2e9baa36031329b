"""The caller CRM, in each client company's schema. The answering-desk issue adds consent records
and the timeline."""

from django.db import models
from django_cryptography.fields import encrypt
from guardian.models import GroupObjectPermissionBase, UserObjectPermissionBase

from tenants.categories import personal_data
from tenants.gates.engine import gate_objects


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
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"Contact #{self.pk}"


class ContactUserObjectPermission(UserObjectPermissionBase):
    content_object = models.ForeignKey(Contact, on_delete=models.CASCADE)


class ContactGroupObjectPermission(GroupObjectPermissionBase):
    content_object = models.ForeignKey(Contact, on_delete=models.CASCADE)


personal_data(
    Contact,
    name="user.contact.name",
    phone_number="user.contact.phone_number",
    email="user.contact.email",
    address="user.contact.address",
    notes="user.content.private",
    health_notes="user.health",
)

gate_objects(
    Contact,
    grants=ContactUserObjectPermission,
    group_grants=ContactGroupObjectPermission,
    permission="view_contact",
    open_unless="restricted",
)
