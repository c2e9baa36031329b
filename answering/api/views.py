from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.response import Response

from answering.api.serializers import LineInputSerializer, LineOutputSerializer
from answering.selectors import line_list
from answering.services.lines import line_create
from api.base import TenantAPIView


class LineListApi(TenantAPIView):
    api_scope = "lines"
    serializer_class = LineOutputSerializer

    @extend_schema(responses=LineOutputSerializer(many=True))
    def get(self, request):
        page = self.paginate_queryset(self.safely_get_queryset())
        return self.get_paginated_response(LineOutputSerializer(page, many=True).data)

    @extend_schema(request=LineInputSerializer, responses={201: LineOutputSerializer})
    def post(self, request):
        self.require_client_admin(request)
        data = LineInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        line = line_create(**data.validated_data, actor=request.user)
        return Response(LineOutputSerializer(line).data, status=status.HTTP_201_CREATED)

    def safely_get_queryset(self):
        return line_list()
