"""The team API (client admins): list, invite, change a role, remove. A module of its own rather than
tenants/api/views.py, which the API tokens share."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.response import Response

from api.base import TenantAPIView
from tenants.models import Membership
from tenants.team import member_invite, member_remove, member_role_set, team_list


class TeamMemberOutputSerializer(serializers.ModelSerializer):
    user_id = serializers.IntegerField()
    username = serializers.CharField(source="user.username")
    email = serializers.CharField(source="user.email")
    first_name = serializers.CharField(source="user.first_name")
    last_name = serializers.CharField(source="user.last_name")
    password_set = serializers.SerializerMethodField()

    class Meta:
        model = Membership
        fields = ["id", "user_id", "username", "email", "first_name", "last_name", "role", "created_at", "password_set"]

    def get_password_set(self, membership) -> bool:
        return membership.user.has_usable_password()


class TeamInviteInputSerializer(serializers.Serializer):
    email = serializers.EmailField(max_length=150)
    first_name = serializers.CharField(max_length=150, required=False, allow_blank=True, default="")
    last_name = serializers.CharField(max_length=150, required=False, allow_blank=True, default="")
    role = serializers.ChoiceField(choices=Membership.Role.choices, default=Membership.Role.CLIENT_MEMBER)


class TeamRoleInputSerializer(serializers.Serializer):
    role = serializers.ChoiceField(choices=Membership.Role.choices)


class TeamListApi(TenantAPIView):
    """The company's client users; invite one by e-mail (a link to set a password is sent)."""

    api_scope = "team"
    serializer_class = TeamMemberOutputSerializer

    @extend_schema(operation_id="team_list", responses=TeamMemberOutputSerializer(many=True))
    def get(self, request):
        self.require_client_admin(request)
        page = self.paginate_queryset(self.safely_get_queryset())
        return self.get_paginated_response(TeamMemberOutputSerializer(page, many=True).data)

    @extend_schema(
        operation_id="team_invite", request=TeamInviteInputSerializer, responses={201: TeamMemberOutputSerializer}
    )
    def post(self, request):
        self.require_client_admin(request)
        data = TeamInviteInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        membership = member_invite(
            company=request.tenant, actor=request.user, site_url=request.build_absolute_uri("/"), **data.validated_data
        )
        return Response(TeamMemberOutputSerializer(membership).data, status=201)

    def safely_get_queryset(self):
        return team_list(company=self.request.tenant)


class TeamMemberApi(TenantAPIView):
    """One member of the team: read, change the role, or remove (never yourself, never the last admin)."""

    api_scope = "team"
    serializer_class = TeamMemberOutputSerializer

    @extend_schema(operation_id="team_member", responses=TeamMemberOutputSerializer)
    def get(self, request, pk: int):
        self.require_client_admin(request)
        return Response(TeamMemberOutputSerializer(self.get_object()).data)

    @extend_schema(
        operation_id="team_member_update", request=TeamRoleInputSerializer, responses=TeamMemberOutputSerializer
    )
    def patch(self, request, pk: int):
        self.require_client_admin(request)
        membership = self.get_object()
        data = TeamRoleInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        membership = member_role_set(membership=membership, role=data.validated_data["role"], actor=request.user)
        return Response(TeamMemberOutputSerializer(membership).data)

    @extend_schema(operation_id="team_member_remove", responses={204: None})
    def delete(self, request, pk: int):
        self.require_client_admin(request)
        member_remove(membership=self.get_object(), actor=request.user)
        return Response(status=204)

    def safely_get_queryset(self):
        return team_list(company=self.request.tenant)
