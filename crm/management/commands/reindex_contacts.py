from django.core.management.base import BaseCommand
from django_tenants.utils import tenant_context

from crm.blind_index import blind_index, name_normalise
from crm.models import Contact, ContactPhone
from gates.context import system_context
from tenants.selectors import client_list_active


class Command(BaseCommand):
    help = "Recompute the blind indexes of every contact number, address and name (after a key rotation)."

    @system_context(reason="reindex blind indexes")
    def handle(self, *args, **options):
        for company in client_list_active():
            with tenant_context(company):
                contacts = phones = 0
                for contact in Contact.objects.only("pk", "phone_number", "email", "name", "anonymised_at").iterator(
                    chunk_size=2000
                ):
                    # An .update() on a change-logged model, on purpose: a key rotation changes no
                    # value, only the derived digests, and one change-log entry per contact would
                    # copy every digest into the log. The run itself is the record (its output).
                    Contact.objects.filter(pk=contact.pk).update(
                        phone_bidx=blind_index(contact.phone_number),
                        email_bidx=blind_index(contact.email.lower() if contact.email else ""),
                        name_bidx="" if contact.anonymised_at else blind_index(name_normalise(contact.name)),
                    )
                    contacts += 1
                    if contacts % 10_000 == 0:
                        self.stdout.write(f"  {company.schema_name}: {contacts:,} contacts")
                for phone in ContactPhone.objects.only("pk", "number").iterator(chunk_size=2000):
                    ContactPhone.objects.filter(pk=phone.pk).update(number_bidx=blind_index(phone.number))
                    phones += 1
                self.stdout.write(
                    f"{company.schema_name}: {contacts:,} contacts and {phones:,} extra numbers reindexed"
                )
