"""Portal pages of this app (see portal/navigation.py for the screen list)."""

from django.urls import path

from crm.portal.views import contact_detail, contact_edit, contact_new, contacts_list

urlpatterns = [
    path("contacts/", contacts_list, name="portal-contacts"),
    path("contacts/new/", contact_new, name="portal-contact-new"),
    path("contacts/<int:pk>/", contact_detail, name="portal-contact-detail"),
    path("contacts/<int:pk>/edit/", contact_edit, name="portal-contact-edit"),
]
