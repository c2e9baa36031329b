"""REST API v1 routes of this app (included by api/urls.py)."""

from django.urls import path

from crm.api.views import ContactConsentListApi, ContactDetailApi, ContactListApi

urlpatterns = [
    path("contacts/", ContactListApi.as_view(), name="api-contact-list"),
    path("contacts/<int:pk>/", ContactDetailApi.as_view(), name="api-contact-detail"),
    path("contacts/<int:pk>/consents/", ContactConsentListApi.as_view(), name="api-contact-consents"),
]
