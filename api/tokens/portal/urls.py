from django.urls import path

from api.tokens.portal.views import api_token_revoke, api_tokens

urlpatterns = [
    path("api-tokens/", api_tokens, name="portal-api-tokens"),
    path("api-tokens/<int:pk>/revoke/", api_token_revoke, name="portal-api-token-revoke"),
]
