"""Portal pages of billing: Usage & billing, and each issued statement with its CSV and PDF."""

from django.urls import path

from billing.portal import views

urlpatterns = [
    path("billing/", views.usage_billing, name="portal-billing"),
    path("billing/statements/<int:pk>/", views.statement_detail, name="portal-statement"),
    path("billing/statements/<int:pk>/statement.csv", views.statement_download_csv, name="portal-statement-csv"),
    path("billing/statements/<int:pk>/statement.pdf", views.statement_download_pdf, name="portal-statement-pdf"),
]
