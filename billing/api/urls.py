from django.urls import path

from billing.api.views import StatementDetailApi, StatementListApi, UsageApi

urlpatterns = [
    path("billing/usage/", UsageApi.as_view(), name="api-billing-usage"),
    path("billing/statements/", StatementListApi.as_view(), name="api-billing-statements"),
    path("billing/statements/<int:pk>/", StatementDetailApi.as_view(), name="api-billing-statement"),
]
