from django.urls import path

from api.tokens.api.views import TokenListApi, TokenRevokeApi

urlpatterns = [
    path("tokens/", TokenListApi.as_view(), name="api-token-list"),
    path("tokens/<int:pk>/revoke/", TokenRevokeApi.as_view(), name="api-token-revoke"),
]
