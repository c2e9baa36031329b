from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.response import Response

from api.base import TenantAPIView
from api.tokens.api.serializers import TokenCreatedSerializer, TokenInputSerializer, TokenOutputSerializer
from api.tokens.models import ApiToken
from api.tokens.selectors import token_list
from api.tokens.services import token_create, token_revoke


class TokenListApi(TenantAPIView):
    """Your API tokens (a client admin sees everyone's in this company). Issue one: the secret is in
    this response only."""

    api_scope = "tokens"
    serializer_class = TokenOutputSerializer

    @extend_schema(operation_id="tokens_list", responses=TokenOutputSerializer(many=True))
    def get(self, request):
        page = self.paginate_queryset(self.safely_get_queryset())
        return self.get_paginated_response(TokenOutputSerializer(page, many=True).data)

    @extend_schema(operation_id="tokens_create", request=TokenInputSerializer, responses={201: TokenCreatedSerializer})
    def post(self, request):
        data = TokenInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        # A token may issue tokens only with scopes it holds itself.
        within = frozenset(request.auth.scopes) if isinstance(request.auth, ApiToken) else None
        token, secret = token_create(
            company=request.tenant, user=request.user, actor=request.user, within=within, **data.validated_data
        )
        token.token = secret
        return Response(TokenCreatedSerializer(token).data, status=status.HTTP_201_CREATED)

    def safely_get_queryset(self):
        return token_list(company=self.request.tenant, viewer=self.request.user)


class TokenRevokeApi(TenantAPIView):
    """Revoke a token: the next request that carries it is refused."""

    api_scope = "tokens"
    serializer_class = TokenOutputSerializer

    @extend_schema(operation_id="tokens_revoke", request=None, responses=TokenOutputSerializer)
    def post(self, request, pk: int):
        token = token_revoke(token=self.get_object(), actor=request.user)
        return Response(TokenOutputSerializer(token).data)

    def safely_get_queryset(self):
        return token_list(company=self.request.tenant, viewer=self.request.user)
