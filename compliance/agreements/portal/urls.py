"""Portal pages of this app (see portal/navigation.py for the screen list)."""

from django.urls import path

from compliance.agreements.portal.views import agreement_page, sub_processor_objection, version_reject, version_sign

urlpatterns = [
    path("agreement/", agreement_page, name="portal-agreement"),
    path("agreement/versions/<int:pk>/sign/", version_sign, name="portal-agreement-sign"),
    path("agreement/versions/<int:pk>/reject/", version_reject, name="portal-agreement-reject"),
    path("agreement/sub-processors/<int:pk>/object/", sub_processor_objection, name="portal-agreement-object"),
]
